#include "keel/plugin_host/plugin_tax.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace keel::plugin_host {

namespace {

std::string lineId(const orders::TaxRequest& request, std::size_t i) {
    return request.lines[i].line_id.empty() ? std::to_string(i + 1) : request.lines[i].line_id;
}

// An amount of the result: a decimal string, exact in the currency, not negative.
Result<Money> amount(const Poco::JSON::Object::Ptr& object, const std::string& field, const std::string& where,
                     const Currency& currency) {
    if (object.isNull() || !object->has(field) || !object->get(field).isString()) {
        return reject("tax_result: " + where + " is missing or not a decimal string", where);
    }
    const std::string text = object->getValue<std::string>(field);
    try {
        Money money = Money::parse(text, currency);
        if (money.isNegative()) return reject("tax_result: " + where + ": \"" + text + "\" is negative", where);
        return money;
    } catch (const Error& e) {
        return reject("tax_result: " + where + ": \"" + text + "\" is not an amount in " +
                          std::string(currency.code()) + " (" + e.what() + ")",
                      where);
    }
}

// Sums the jurisdictions of a line or of shipping and checks they add up to its tax.
std::optional<Problem> checkJurisdictions(const Poco::JSON::Object::Ptr& part, const std::string& where,
                                          const Money& tax, const Currency& currency,
                                          std::vector<orders::JurisdictionTax>& parts) {
    const auto list = part->getArray("jurisdictions");
    if (list.isNull())
        return reject("tax_result: " + where + ".jurisdictions is missing or not an array", where + ".jurisdictions");
    Money sum = Money::zero(currency);
    for (std::size_t j = 0; j < list->size(); ++j) {
        const std::string at = where + ".jurisdictions[" + std::to_string(j) + "]";
        const auto jurisdiction = list->getObject(static_cast<unsigned>(j));
        if (jurisdiction.isNull()) return reject("tax_result: " + at + " is not an object", at);
        auto t = amount(jurisdiction, "tax", at + ".tax", currency);
        if (!t) return t.problem();
        const std::string code = jurisdiction->optValue<std::string>("code", "");
        if (code.empty() || code.size() > 24) {
            return reject("tax_result: " + at + ".code must name the jurisdiction (1 to 24 characters)", at + ".code");
        }
        sum += t.value();
        parts.push_back(orders::JurisdictionTax{code, t.value()});
    }
    if (sum != tax) {
        return reject("tax_result: " + where + ".tax " + tax.toString() + " is not the sum of its jurisdictions (" +
                          sum.toString() + ")",
                      where + ".tax");
    }
    return std::nullopt;
}

}  // namespace

std::string taxRequestJson(const orders::TaxRequest& request) {
    const Currency& currency = *request.currency;
    Poco::JSON::Object doc(Poco::JSON_PRESERVE_KEY_ORDER);
    doc.set("type", "tax_request");
    doc.set("version", 1);
    doc.set("document_id", request.order_id);
    doc.set("date", request.date.toString());
    doc.set("currency", std::string(currency.code()));
    doc.set("currency_exponent", currency.exponent());
    Poco::JSON::Object customer(Poco::JSON_PRESERVE_KEY_ORDER);
    customer.set("id", request.customer_id);
    doc.set("customer", customer);
    Poco::JSON::Object ship_to(Poco::JSON_PRESERVE_KEY_ORDER);
    ship_to.set("country", request.ship_to.country);
    ship_to.set("region", request.ship_to.region);
    ship_to.set("city", request.ship_to.city);
    ship_to.set("postal_code", request.ship_to.postal_code);
    doc.set("ship_to", ship_to);
    Poco::JSON::Array lines;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
        const auto& l = request.lines[i];
        Poco::JSON::Object line(Poco::JSON_PRESERVE_KEY_ORDER);
        line.set("line_id", lineId(request, i));
        line.set("sku", l.sku.empty() ? l.item_id : l.sku);
        line.set("tax_class", l.tax_class.empty() ? std::string("standard") : l.tax_class);
        line.set("quantity", l.quantity);
        line.set("amount", Money(l.net_amount.minor(), currency).toString());
        lines.add(line);
    }
    doc.set("lines", lines);
    Poco::JSON::Object shipping(Poco::JSON_PRESERVE_KEY_ORDER);
    shipping.set("amount", Money(request.shipping.minor(), currency).toString());
    doc.set("shipping", shipping);
    std::ostringstream out;
    doc.stringify(out);
    return out.str();
}

Result<orders::TaxResult> parseTaxResult(std::string_view json, const orders::TaxRequest& request) {
    const Currency& currency = *request.currency;
    Poco::JSON::Object::Ptr doc;
    try {
        doc = Poco::JSON::Parser().parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
    } catch (const std::exception& e) {
        return reject(std::string("tax_result: not a JSON object: ") + e.what());
    }
    if (doc.isNull()) return reject("tax_result: not a JSON object");
    if (doc->optValue<std::string>("type", "") != "tax_result")
        return reject("tax_result: type must be \"tax_result\"", "type");
    if (!doc->has("version") || !doc->get("version").isInteger() || doc->getValue<int>("version") != 1) {
        return reject("tax_result: version must be 1", "version");
    }
    const std::string code = doc->optValue<std::string>("currency", "");
    if (code != currency.code()) {
        return reject("tax_result: currency \"" + code + "\" is not the request's " + std::string(currency.code()),
                      "currency");
    }
    const auto lines = doc->getArray("lines");
    if (lines.isNull() || lines->size() != request.lines.size()) {
        return reject("tax_result: lines must hold one entry per request line (" +
                          std::to_string(request.lines.size()) + ", got " +
                          (lines.isNull() ? std::string("none") : std::to_string(lines->size())) + ")",
                      "lines");
    }
    orders::TaxResult result;
    result.shipping_tax = Money::zero(currency);
    Money total = Money::zero(currency);
    for (std::size_t i = 0; i < lines->size(); ++i) {
        const std::string where = "lines[" + std::to_string(i) + "]";
        const auto line = lines->getObject(static_cast<unsigned>(i));
        if (line.isNull()) return reject("tax_result: " + where + " is not an object", where);
        if (line->optValue<std::string>("line_id", "") != lineId(request, i)) {
            return reject("tax_result: " + where + ".line_id \"" + line->optValue<std::string>("line_id", "") +
                              "\" is not the request's \"" + lineId(request, i) + "\" (lines are in request order)",
                          where + ".line_id");
        }
        auto tax = amount(line, "tax", where + ".tax", currency);
        if (!tax) return tax.problem();
        std::vector<orders::JurisdictionTax> parts;
        if (auto p = checkJurisdictions(line, where, tax.value(), currency, parts)) return *p;
        result.line_tax.push_back(tax.value());
        result.line_jurisdictions.push_back(std::move(parts));
        total += tax.value();
    }
    const auto shipping = doc->getObject("shipping");
    if (!shipping.isNull()) {
        auto tax = amount(shipping, "tax", "shipping.tax", currency);
        if (!tax) return tax.problem();
        if (auto p = checkJurisdictions(shipping, "shipping", tax.value(), currency, result.shipping_jurisdictions))
            return *p;
        result.shipping_tax = tax.value();
        total += tax.value();
    } else if (!request.shipping.isZero()) {
        return reject("tax_result: shipping is missing though the request has shipping", "shipping");
    }
    auto stated = amount(doc, "total_tax", "total_tax", currency);
    if (!stated) return stated.problem();
    if (stated.value() != total) {
        return reject("tax_result: total_tax " + stated.value().toString() + " is not the sum of lines and shipping (" +
                          total.toString() + ")",
                      "total_tax");
    }
    return result;
}

Result<std::string> taxCommitRequest(std::string_view invoice_event_json) {
    try {
        const auto event =
            Poco::JSON::Parser().parse(std::string(invoice_event_json)).extract<Poco::JSON::Object::Ptr>();
        if (event->optValue<std::string>("type", "") != "invoice.issued") {
            return Problem{
                ExitCode::kRejected,
                "a tax commit needs an invoice.issued event, not " + event->optValue<std::string>("type", "?"), "type"};
        }
        const auto invoice = event->getObject("payload");
        if (invoice.isNull()) return Problem{ExitCode::kRejected, "invoice.issued event without a payload", "payload"};
        const std::string currency = invoice->getValue<std::string>("currency");
        Poco::JSON::Object result(Poco::JSON_PRESERVE_KEY_ORDER);
        result.set("type", "tax_result");
        result.set("version", 1);
        result.set("currency", currency);
        Poco::JSON::Array lines;
        if (const auto invoiced = invoice->getArray("lines"); !invoiced.isNull()) {
            for (std::size_t i = 0; i < invoiced->size(); ++i) {
                const auto line = invoiced->getObject(static_cast<unsigned>(i));
                Poco::JSON::Object l(Poco::JSON_PRESERVE_KEY_ORDER);
                l.set("line_id", line->getValue<std::string>("line_id"));
                l.set("tax", line->getValue<std::string>("tax"));
                lines.add(l);
            }
        }
        result.set("lines", lines);
        Poco::JSON::Object shipping;
        shipping.set("tax", invoice->getValue<std::string>("shipping_tax"));
        result.set("shipping", shipping);
        result.set("total_tax", invoice->getValue<std::string>("tax"));
        Poco::JSON::Object request(Poco::JSON_PRESERVE_KEY_ORDER);
        request.set("type", "tax_commit");
        request.set("version", 1);
        request.set("document_id", event->getValue<std::string>("aggregate_id"));
        request.set("order_id", invoice->getValue<std::string>("order_id"));
        request.set("order", invoice->optValue<std::string>("order", ""));
        request.set("date", invoice->getValue<std::string>("date"));
        request.set("currency", currency);
        request.set("tax_result", result);
        std::ostringstream out;
        request.stringify(out);
        return out.str();
    } catch (const Poco::Exception& e) {
        return Problem{ExitCode::kRejected, "invoice.issued event: " + e.displayText(), "payload"};
    }
}

Result<orders::TaxResult> PluginTax::quote(const orders::TaxRequest& request) {
    if (request.currency == nullptr) return reject("tax request without a currency");
    // Intake quotes inside its unit of work: exception rows wait for a later flush (see PluginHost::invoke).
    auto response = host_.invoke(instance_, Operation::kTaxQuote, taxRequestJson(request), false);
    if (!response) {
        return Problem{response.problem().code, "tax plugin " + instance_ + ": " + response.problem().message, "tax"};
    }
    auto result = parseTaxResult(response.value(), request);
    if (!result) {
        return Problem{ExitCode::kInfrastructure, "tax plugin " + instance_ + ": " + result.problem().message,
                       result.problem().field};
    }
    return result;
}

}  // namespace keel::plugin_host
