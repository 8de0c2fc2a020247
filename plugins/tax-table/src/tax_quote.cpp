#include "tax_quote.h"

#include <Poco/UTF8String.h>

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cstdio>
#include <keel/plugin.hpp>
#include <optional>
#include <set>
#include <vector>

#include "decimal.h"

namespace keel::taxtable {
namespace {

using keel::plugin::Error;
using Poco::JSON::Array;
using Poco::JSON::Object;

[[noreturn]] void invalid(const std::string& path, const std::string& message) {
    throw Error(KEEL_E_INVALID, path + ": " + message);
}

std::string join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
}

bool isNull(const Poco::Dynamic::Var& value) {
    return value.isEmpty();
}

/// A string member; absent or null gives nothing, another type is an error naming the path.
std::optional<std::string> optString(const Object::Ptr& object, const std::string& key, const std::string& path) {
    if (!object->has(key) || isNull(object->get(key))) return std::nullopt;
    const auto value = object->get(key);
    if (!value.isString()) invalid(join(path, key), "must be a string");
    return value.extract<std::string>();
}

std::string reqString(const Object::Ptr& object, const std::string& key, const std::string& path) {
    auto value = optString(object, key, path);
    if (!value) invalid(join(path, key), "is required");
    return *value;
}

Object::Ptr optObject(const Object::Ptr& object, const std::string& key, const std::string& path) {
    if (!object->has(key) || isNull(object->get(key))) return nullptr;
    const auto value = object->get(key);
    if (value.type() != typeid(Object::Ptr)) invalid(join(path, key), "must be an object");
    return value.extract<Object::Ptr>();
}

std::optional<int64_t> optInteger(const Object::Ptr& object, const std::string& key, const std::string& path) {
    if (!object->has(key) || isNull(object->get(key))) return std::nullopt;
    const auto value = object->get(key);
    if (!value.isInteger()) invalid(join(path, key), "must be an integer");
    return value.convert<Poco::Int64>();
}

int64_t amountAt(const Object::Ptr& object, const std::string& path, int exponent) {
    const std::string text = reqString(object, "amount", path);
    std::string why;
    const auto minor = parseDecimal(text, exponent, why);
    if (!minor) invalid(join(path, "amount"), jsonString(text) + " is not a decimal amount (" + why + ")");
    return *minor;
}

/// A taxable part of the document: a line, or the shipping charge (the last part, class "shipping").
struct Part {
    int64_t amount = 0;
    std::string tax_class{};
};

/// A jurisdiction of the destination with its rates.
struct Candidate {
    const Jurisdiction* jurisdiction = nullptr;
    int64_t standard = 0;
    std::optional<int64_t> reduced{};
};

struct Levy {
    const Jurisdiction* jurisdiction = nullptr;
    int64_t rate = 0;
    int64_t tax = 0;
};

/// The rate of `tax_class` in a jurisdiction, or nothing when the jurisdiction does not tax that class.
std::optional<int64_t> rateFor(const TaxTables& tables, const Candidate& candidate, const std::string& tax_class) {
    if (tax_class == "exempt") return std::nullopt;
    if (tax_class == "shipping") {
        if (!candidate.jurisdiction->shipping_taxable) return std::nullopt;
        return candidate.standard;
    }
    if (auto rate = tables.classRate(candidate.jurisdiction->code, tax_class)) return rate;
    // A jurisdiction without a reduced rate (US states and localities) taxes "reduced" goods at its standard
    // rate; class_rates.csv lists the exceptions.
    if (tax_class == "reduced") return candidate.reduced.value_or(candidate.standard);
    return candidate.standard;
}

const Jurisdiction& declared(const TaxTables& tables, const std::string& code) {
    const Jurisdiction* j = tables.jurisdiction(code);
    // TaxTables::load checks every code a table uses, so this is a bug if it happens.
    if (j == nullptr) throw Error(KEEL_E_INTERNAL, "jurisdiction " + code + " is not declared");
    return *j;
}

std::vector<Candidate> usJurisdictions(const TaxTables& tables, const Object::Ptr& ship_to) {
    const std::string region = optString(ship_to, "region", "ship_to").value_or("");
    const std::string postal = optString(ship_to, "postal_code", "ship_to").value_or("");
    if (!region.empty() && (region.size() != 2 ||
                            !std::all_of(region.begin(), region.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))) {
        invalid("ship_to.region", jsonString(region) + " is not a two-letter US state code");
    }
    std::vector<Candidate> candidates;
    if (!postal.empty()) {
        const bool zip5 = postal.size() >= 5 &&
                          std::all_of(postal.begin(), postal.begin() + 5, [](char c) { return c >= '0' && c <= '9'; });
        const bool plus4 = postal.size() == 10 && postal[5] == '-' &&
                           std::all_of(postal.begin() + 6, postal.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!zip5 || (postal.size() != 5 && !plus4)) {
            invalid("ship_to.postal_code", jsonString(postal) + " is not a US ZIP code (12345 or 12345-6789)");
        }
        if (const ZipRate* zip = tables.zip(postal.substr(0, 5))) {
            if (!region.empty() && region != zip->state) {
                invalid("ship_to.postal_code",
                        "ZIP " + postal.substr(0, 5) + " is in " + zip->state + " but ship_to.region is " + region);
            }
            candidates.push_back(Candidate{&declared(tables, "US-" + zip->state), zip->state_rate, std::nullopt});
            for (const auto& [code, rate] : zip->local) {
                candidates.push_back(Candidate{&declared(tables, code), rate, std::nullopt});
            }
            return candidates;
        }
    }
    // An unknown or absent ZIP falls back to the state rate.
    if (region.empty())
        invalid("ship_to.region", "is required when ship_to.postal_code is absent or not in the tables");
    const auto rate = tables.stateRate(region);
    if (!rate) throw Error(KEEL_E_NOT_FOUND, "ship_to.region: \"" + region + "\" has no rate in us_states.csv");
    candidates.push_back(Candidate{&declared(tables, "US-" + region), *rate, std::nullopt});
    return candidates;
}

/// Tax of every part in one jurisdiction, rounded half-up to the currency exponent per line, or once for the
/// document and spread over the parts by largest remainder so that the parts add up to the document's tax.
std::vector<std::optional<int64_t>> taxes(const std::vector<Part>& parts,
                                          const std::vector<std::optional<int64_t>>& rates, Rounding rounding) {
    std::vector<std::optional<int64_t>> result(parts.size());
    std::vector<Wide> exact(parts.size(), 0);
    Wide sum = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!rates[i]) continue;
        exact[i] = static_cast<Wide>(parts[i].amount) * *rates[i];
        sum += exact[i];
    }
    if (rounding == Rounding::kLine) {
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (rates[i]) result[i] = static_cast<int64_t>((exact[i] + kRateScale / 2) / kRateScale);
        }
        return result;
    }
    auto remaining = static_cast<int64_t>((sum + kRateScale / 2) / kRateScale);
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!rates[i]) continue;
        result[i] = static_cast<int64_t>(exact[i] / kRateScale);
        remaining -= *result[i];
        order.push_back(i);
    }
    // Ties go to the earlier part, so the result does not depend on the sort's whims.
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return exact[a] % kRateScale > exact[b] % kRateScale; });
    for (std::size_t k = 0; k < order.size() && remaining > 0; ++k, --remaining) *result[order[k]] += 1;
    return result;
}

}  // namespace

std::string jsonString(std::string_view text) {
    return "\"" + Poco::UTF8::escape(std::string(text), true) + "\"";
}

std::string quote(const TaxTables& tables, std::string_view request_json) {
    Object::Ptr request;
    try {
        Poco::JSON::Parser parser;
        const auto parsed = parser.parse(std::string(request_json));
        if (parsed.type() != typeid(Object::Ptr)) invalid("request", "must be a JSON object");
        request = parsed.extract<Object::Ptr>();
    } catch (const Poco::Exception& e) {
        invalid("request", "is not JSON: " + e.displayText());
    }

    if (reqString(request, "type", "") != "tax_request") invalid("type", "must be \"tax_request\"");
    if (optInteger(request, "version", "") != 1) invalid("version", "must be 1");
    reqString(request, "document_id", "");
    const std::string date = reqString(request, "date", "");
    if (!isIsoDate(date)) invalid("date", jsonString(date) + " is not a date (YYYY-MM-DD)");
    const std::string currency = reqString(request, "currency", "");
    if (currency.size() != 3 ||
        !std::all_of(currency.begin(), currency.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
        invalid("currency", jsonString(currency) + " is not an ISO 4217 code");
    }
    const auto exponent = optInteger(request, "currency_exponent", "");
    if (!exponent) invalid("currency_exponent", "is required");
    if (*exponent < 0 || *exponent > 4) invalid("currency_exponent", std::to_string(*exponent) + " is not 0 to 4");
    const int exp = static_cast<int>(*exponent);

    std::string customer_id;
    if (const auto customer = optObject(request, "customer", "")) {
        customer_id = optString(customer, "id", "customer").value_or("");
    }
    const auto ship_to = optObject(request, "ship_to", "");
    if (!ship_to) invalid("ship_to", "is required");
    const std::string country = reqString(ship_to, "country", "ship_to");

    if (!request->has("lines") || request->get("lines").type() != typeid(Array::Ptr)) {
        invalid("lines", "is required and must be an array");
    }
    const auto lines = request->getArray("lines");
    std::vector<Part> parts;
    std::vector<std::string> line_ids;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < lines->size(); ++i) {
        const std::string path = "lines[" + std::to_string(i) + "]";
        const auto element = lines->get(static_cast<unsigned>(i));
        if (element.type() != typeid(Object::Ptr)) invalid(path, "must be an object");
        const auto line = element.extract<Object::Ptr>();
        const std::string line_id = reqString(line, "line_id", path);
        if (!seen.insert(line_id).second) invalid(path + ".line_id", jsonString(line_id) + " is used twice");
        const auto quantity = optInteger(line, "quantity", path);
        if (quantity && *quantity < 0) invalid(path + ".quantity", "must not be negative");
        std::string tax_class = optString(line, "tax_class", path).value_or("");
        if (tax_class.empty()) tax_class = "standard";
        if (!tables.knowsClass(tax_class)) {
            invalid(path + ".tax_class", jsonString(tax_class) + " is not a tax class of the tables");
        }
        parts.push_back(Part{amountAt(line, path, exp), tax_class});
        line_ids.push_back(line_id);
    }
    if (const auto shipping = optObject(request, "shipping", "")) {
        parts.push_back(Part{amountAt(shipping, "shipping", exp), "shipping"});
    } else {
        parts.push_back(Part{0, "shipping"});
    }

    std::vector<Candidate> candidates;
    if (country == "US") {
        candidates = usJurisdictions(tables, ship_to);
    } else if (const VatRate* vat = tables.vat(country)) {
        candidates.push_back(Candidate{&declared(tables, country), vat->standard, vat->reduced});
    } else {
        throw Error(KEEL_E_NOT_FOUND, "ship_to.country: " + jsonString(country) +
                                          " has no tax table (US sales tax and the EU VAT countries of eu_vat.csv)");
    }

    const Exemption* applied = nullptr;
    std::vector<std::vector<Levy>> levies(parts.size());
    for (const auto& candidate : candidates) {
        if (const Exemption* e = tables.exemption(customer_id, candidate.jurisdiction->code, date)) {
            if (applied == nullptr) applied = e;
            continue;  // the exempt customer pays nothing here, so the jurisdiction is not listed
        }
        std::vector<std::optional<int64_t>> rates(parts.size());
        for (std::size_t i = 0; i < parts.size(); ++i) rates[i] = rateFor(tables, candidate, parts[i].tax_class);
        const auto amounts = taxes(parts, rates, candidate.jurisdiction->rounding);
        for (std::size_t i = 0; i < parts.size(); ++i) {
            if (amounts[i]) levies[i].push_back(Levy{candidate.jurisdiction, *rates[i], *amounts[i]});
        }
    }

    int64_t total = 0;
    auto partJson = [&](const std::vector<Levy>& list) {
        int64_t sum = 0;
        std::string jurisdictions = "[";
        for (const auto& levy : list) {
            if (jurisdictions.size() > 1) jurisdictions += ",";
            jurisdictions += "{\"code\":" + jsonString(levy.jurisdiction->code) +
                             ",\"name\":" + jsonString(levy.jurisdiction->name) + ",\"rate\":\"" +
                             formatRate(levy.rate) + "\",\"tax\":\"" + formatMinor(levy.tax, exp) + "\"}";
            sum += levy.tax;
        }
        total += sum;
        return "\"tax\":\"" + formatMinor(sum, exp) + "\",\"jurisdictions\":" + jurisdictions + "]";
    };
    std::string out = "{\"type\":\"tax_result\",\"version\":1,\"currency\":" + jsonString(currency) + ",\"lines\":[";
    for (std::size_t i = 0; i < line_ids.size(); ++i) {
        if (i > 0) out += ",";
        out += "{\"line_id\":" + jsonString(line_ids[i]) + "," + partJson(levies[i]) + "}";
    }
    out += "],\"shipping\":{" + partJson(levies.back()) + "}";
    out += ",\"total_tax\":\"" + formatMinor(total, exp) + "\",\"exemption\":";
    out += applied == nullptr ? std::string("null")
                              : "{\"certificate\":" + jsonString(applied->certificate) +
                                    ",\"jurisdiction\":" + jsonString(applied->jurisdiction) + "}";
    return out + "}";
}

}  // namespace keel::taxtable
