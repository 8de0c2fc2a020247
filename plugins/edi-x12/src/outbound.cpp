#include "outbound.h"

#include "keel/edi/gs1.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace keel::edix12 {

namespace {

constexpr char kElement = '*';
constexpr char kComponent = '>';
constexpr char kSegment = '~';

/// An element value safe for the interchange: the delimiters and control characters become spaces, upper case
/// letters are kept as given, and the value is cut to `max` characters.
std::string clean(std::string value, std::size_t max) {
    for (char& c : value) {
        if (c == kElement || c == kComponent || c == kSegment || c == '^' || static_cast<unsigned char>(c) < 0x20) {
            c = ' ';
        }
    }
    while (!value.empty() && value.back() == ' ') value.pop_back();
    return value.substr(0, max);
}

class Segments {
public:
    void add(std::initializer_list<std::string> elements) {
        std::string text;
        bool first = true;
        for (const auto& e : elements) {
            if (!first) text += kElement;
            text += e;
            first = false;
        }
        while (!text.empty() && text.back() == kElement) text.pop_back();  // no trailing empty elements
        text_ += text;
        text_ += kSegment;
        text_ += '\n';
        if (elements.size() > 0 && *elements.begin() != "ISA" && *elements.begin() != "GS" &&
            *elements.begin() != "GE" && *elements.begin() != "IEA") {
            ++in_set_;
        }
    }
    std::size_t inSet() const { return in_set_; }
    const std::string& text() const { return text_; }

private:
    std::string text_;
    std::size_t in_set_ = 0;
};

std::string pad(const std::string& value, std::size_t width) {
    std::string out = value.substr(0, width);
    out.resize(width, ' ');
    return out;
}

std::string zeros(std::uint64_t value, std::size_t width) {
    std::string digits = std::to_string(value);
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    return digits;
}

std::string required(const Poco::JSON::Object& object, const std::string& key, const std::string& where) {
    if (!object.has(key) || object.get(key).isEmpty()) throw DocumentError(where + key + " is required");
    return object.get(key).convert<std::string>();
}

std::string optional(const Poco::JSON::Object& object, const std::string& key) {
    if (!object.has(key) || object.get(key).isEmpty()) return "";
    return object.get(key).convert<std::string>();
}

/// "2026-11-27" or "2026-11-27T15:30:00Z" → "20261127".
std::string ccyymmdd(const std::string& iso, const std::string& field) {
    if (iso.size() < 10 || iso[4] != '-' || iso[7] != '-') throw DocumentError(field + ": '" + iso + "' is not a date");
    return iso.substr(0, 4) + iso.substr(5, 2) + iso.substr(8, 2);
}

std::string hhmm(const std::string& iso) {
    if (iso.size() >= 16 && iso[10] == 'T') return iso.substr(11, 2) + iso.substr(14, 2);
    return "0000";
}

/// A decimal amount ("47.48", "5", "0.5") in hundredths, for N2 elements (TDS01, SAC05).
std::string hundredths(const std::string& amount, const std::string& field) {
    const auto dot = amount.find('.');
    std::string whole = amount.substr(0, dot);
    std::string fraction = dot == std::string::npos ? "" : amount.substr(dot + 1);
    const auto digits = [](const std::string& s) {
        return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
    };
    if (whole.empty() || !digits(whole) || !digits(fraction))
        throw DocumentError(field + ": '" + amount + "' is not an amount");
    while (fraction.size() > 2 && fraction.back() == '0') fraction.pop_back();
    if (fraction.size() > 2) {
        throw DocumentError(field + ": '" + amount +
                            "' has more than two decimals, which an X12 N2 element cannot carry");
    }
    fraction.resize(2, '0');
    std::string out = whole + fraction;
    while (out.size() > 1 && out.front() == '0') out.erase(out.begin());
    return out;
}

/// The qualifier of the product ids Keel sends back: the partner's first preferred one (the id it sent).
std::string productQualifier(const PartnerProfile& partner) {
    return partner.item_qualifiers.empty() ? std::string("VN") : partner.item_qualifiers.front();
}

void envelopeStart(Segments& s, const PartnerProfile& partner, const Envelope& envelope,
                   const std::string& functional_id) {
    const bool v5 = partner.version.rfind("005", 0) == 0;
    s.add({"ISA", "00", pad("", 10), "00", pad("", 10), partner.our_isa_qualifier, pad(partner.our_isa_id, 15),
           partner.isa_qualifier, pad(partner.isa_id, 15), envelope.date.substr(2), envelope.time, v5 ? "^" : "U",
           v5 ? "00501" : "00401", zeros(envelope.control_number, 9), "0", "P", std::string(1, kComponent)});
    s.add({"GS", functional_id, clean(partner.our_gs_id, 15), clean(partner.gs_id, 15), envelope.date, envelope.time,
           std::to_string(envelope.control_number), "X", partner.version});
}

std::string envelopeEnd(Segments& s, const Envelope& envelope, std::size_t set_segments) {
    s.add({"SE", std::to_string(set_segments + 1), "0001"});
    s.add({"GE", "1", std::to_string(envelope.control_number)});
    s.add({"IEA", "1", zeros(envelope.control_number, 9)});
    return s.text();
}

void party(Segments& s, const std::string& code, const Poco::JSON::Object::Ptr& address) {
    if (!address) return;
    s.add({"N1", code,
           clean(optional(*address, "name").empty() ? optional(*address, "company") : optional(*address, "name"), 60)});
    const std::string line1 = clean(optional(*address, "line1"), 55);
    if (!line1.empty()) s.add({"N3", line1, clean(optional(*address, "line2"), 55)});
    const std::string city = clean(optional(*address, "city"), 30);
    if (!city.empty()) {
        s.add({"N4", city, clean(optional(*address, "region"), 2), clean(optional(*address, "postal_code"), 15),
               clean(optional(*address, "country"), 3)});
    }
}

}  // namespace

std::string write856(const PartnerProfile& partner, const Poco::JSON::Object& asn, const Envelope& envelope) {
    const std::string asn_id = clean(required(asn, "asn_id", ""), 30);
    const std::string shipped_at = required(asn, "shipped_at", "");
    const std::string po = clean(optional(asn, "external_id"), 22);
    if (po.empty()) throw DocumentError("external_id (the partner's PO number) is required for an 856");
    const auto packages = asn.getArray("packages");
    if (!packages || packages->size() == 0) throw DocumentError("packages: at least one is required");

    Segments s;
    envelopeStart(s, partner, envelope, "SH");
    const std::size_t before = s.inSet();
    s.add({"ST", "856", "0001"});
    s.add({"BSN", "00", asn_id, ccyymmdd(shipped_at, "shipped_at"), hhmm(shipped_at), "0001"});
    std::size_t hl = 1;
    s.add({"HL", "1", "", "S", "1"});
    s.add({"TD1", "CTN25", std::to_string(packages->size())});
    const auto first_carrier = packages->getObject(0)->getObject("carrier");
    if (first_carrier) {
        s.add({"TD5", "", "2", clean(required(*first_carrier, "carrier", "packages[0].carrier."), 80)});
        const std::string tracking = clean(optional(*first_carrier, "tracking_number"), 30);
        if (!tracking.empty()) s.add({"REF", "CN", tracking});
    }
    s.add({"DTM", "011", ccyymmdd(shipped_at, "shipped_at")});
    if (!optional(asn, "expected_delivery").empty()) {
        s.add({"DTM", "017", ccyymmdd(optional(asn, "expected_delivery"), "expected_delivery")});
    }
    party(s, "ST", asn.getObject("ship_to"));
    party(s, "SF", asn.getObject("ship_from"));
    const std::size_t order_hl = ++hl;
    s.add({"HL", std::to_string(order_hl), "1", "O", "1"});
    s.add({"PRF", po});
    const std::string qualifier = productQualifier(partner);
    for (std::size_t p = 0; p < packages->size(); ++p) {
        const auto package = packages->getObject(static_cast<unsigned>(p));
        const std::string where = "packages[" + std::to_string(p) + "].";
        const std::size_t pack_hl = ++hl;
        s.add({"HL", std::to_string(pack_hl), std::to_string(order_hl), "P", "1"});
        const std::string sscc = optional(*package, "sscc");
        if (!sscc.empty()) {
            if (!edi::isSscc18(sscc)) {
                throw DocumentError(where + "sscc: '" + sscc + "' is not an SSCC-18 with a valid check digit");
            }
            s.add({"MAN", "GM", sscc});
        }
        const auto lines = package->getArray("lines");
        if (!lines || lines->size() == 0) throw DocumentError(where + "lines: at least one is required");
        for (std::size_t l = 0; l < lines->size(); ++l) {
            const auto line = lines->getObject(static_cast<unsigned>(l));
            const std::string at = where + "lines[" + std::to_string(l) + "].";
            s.add({"HL", std::to_string(++hl), std::to_string(pack_hl), "I", "0"});
            s.add({"LIN", clean(required(*line, "line_id", at), 20), qualifier, clean(required(*line, "sku", at), 48)});
            s.add({"SN1", "", required(*line, "quantity", at), "EA"});
        }
    }
    s.add({"CTT", std::to_string(hl)});
    return envelopeEnd(s, envelope, s.inSet() - before);
}

std::string write855(const PartnerProfile& partner, const Poco::JSON::Object& acknowledgment,
                     const Envelope& envelope) {
    const std::string po = clean(required(acknowledgment, "external_id", ""), 22);
    const std::string status = required(acknowledgment, "status", "");
    const std::string when = ccyymmdd(required(acknowledgment, "acknowledged_at", ""), "acknowledged_at");
    const std::string type = status == "rejected" ? "RD" : status == "accepted" ? "AD" : "AC";
    // A later 855 for the same PO reports a change of what the first one said (a backorder filled, a line cancelled).
    const std::string purpose_code =
        optional(acknowledgment, "purpose") == "change" ? partner.po_ack_change_purpose : std::string("00");
    const auto lines = acknowledgment.getArray("lines");

    Segments s;
    envelopeStart(s, partner, envelope, "PR");
    const std::size_t before = s.inSet();
    s.add({"ST", "855", "0001"});
    s.add({"BAK", purpose_code, type, po, when});
    const std::string qualifier = productQualifier(partner);
    std::size_t count = 0;
    if (lines) {
        for (std::size_t l = 0; l < lines->size(); ++l) {
            const auto line = lines->getObject(static_cast<unsigned>(l));
            const std::string at = "lines[" + std::to_string(l) + "].";
            const std::string ordered =
                optional(*line, "x_ordered").empty() ? required(*line, "quantity", at) : optional(*line, "x_ordered");
            s.add({"PO1", clean(required(*line, "line_id", at), 20), ordered, "EA", "", "", qualifier,
                   clean(required(*line, "sku", at), 48)});
            ++count;
            const std::string line_status = required(*line, "status", at);
            const std::string accepted = optional(*line, "quantity");
            const std::string backordered = optional(*line, "x_backordered");
            const std::string rejected = optional(*line, "x_rejected");
            bool any = false;
            if (line_status != "rejected" && !accepted.empty() && accepted != "0") {
                s.add({"ACK", "IA", accepted, "EA"});
                any = true;
            }
            if (!backordered.empty() && backordered != "0") {
                const std::string promise = optional(*line, "promise_date");
                if (promise.empty()) {
                    s.add({"ACK", "IB", backordered, "EA"});
                } else {
                    s.add({"ACK", "IB", backordered, "EA", "068", ccyymmdd(promise, at + "promise_date")});
                }
                any = true;
            }
            if (line_status == "rejected" || (!rejected.empty() && rejected != "0")) {
                s.add({"ACK", "IR", line_status == "rejected" ? ordered : rejected, "EA"});
                any = true;
            }
            if (!any) s.add({"ACK", "IA", ordered, "EA"});
        }
    }
    s.add({"CTT", std::to_string(count)});
    return envelopeEnd(s, envelope, s.inSet() - before);
}

std::string write846(const PartnerProfile& partner, const Poco::JSON::Object& advice, const Envelope& envelope) {
    const std::string as_of = required(advice, "as_of", "");
    const auto items = advice.getArray("items");
    if (!items || items->size() == 0) throw DocumentError("items: at least one is required");
    Segments s;
    envelopeStart(s, partner, envelope, "IB");
    const std::size_t before = s.inSet();
    s.add({"ST", "846", "0001"});
    s.add({"BIA", "00", "DD",
           clean(optional(advice, "x_report_id").empty() ? std::to_string(envelope.control_number)
                                                         : optional(advice, "x_report_id"),
                 30),
           ccyymmdd(as_of, "as_of"), hhmm(as_of)});
    const std::string qualifier = productQualifier(partner);
    for (std::size_t i = 0; i < items->size(); ++i) {
        const auto item = items->getObject(static_cast<unsigned>(i));
        const std::string at = "items[" + std::to_string(i) + "].";
        s.add({"LIN", std::to_string(i + 1), qualifier, clean(required(*item, "sku", at), 48)});
        s.add({"QTY", "33", required(*item, "atp", at), "EA"});
        if (!optional(*item, "on_hand").empty()) s.add({"QTY", "17", optional(*item, "on_hand"), "EA"});
    }
    s.add({"CTT", std::to_string(items->size())});
    return envelopeEnd(s, envelope, s.inSet() - before);
}

std::string write810(const PartnerProfile& partner, const Poco::JSON::Object& invoice, const Envelope& envelope) {
    const std::string number = clean(required(invoice, "invoice_id", ""), 22);
    const std::string issue_date = ccyymmdd(required(invoice, "issue_date", ""), "issue_date");
    const std::string po = clean(optional(invoice, "external_id"), 22);
    if (po.empty()) throw DocumentError("external_id (the partner's PO number) is required for an 810");
    const auto lines = invoice.getArray("lines");
    if (!lines || lines->size() == 0) throw DocumentError("lines: at least one is required");

    Segments s;
    envelopeStart(s, partner, envelope, "IN");
    const std::size_t before = s.inSet();
    s.add({"ST", "810", "0001"});
    s.add({"BIG", issue_date, number, "", po});
    s.add({"CUR", "SE", clean(required(invoice, "currency", ""), 3)});
    party(s, "BT", invoice.getObject("bill_to"));
    party(s, "ST", invoice.getObject("ship_to"));
    const std::string qualifier = productQualifier(partner);
    for (std::size_t l = 0; l < lines->size(); ++l) {
        const auto line = lines->getObject(static_cast<unsigned>(l));
        const std::string at = "lines[" + std::to_string(l) + "].";
        hundredths(required(*line, "unit_price", at), at + "unit_price");  // checked; IT104 carries it as written
        s.add({"IT1", clean(required(*line, "line_id", at), 20), required(*line, "quantity", at), "EA",
               required(*line, "unit_price", at), "", qualifier, clean(required(*line, "sku", at), 48)});
    }
    s.add({"TDS", hundredths(required(invoice, "total", ""), "total")});
    const std::string tax = optional(invoice, "total_tax");
    if (!tax.empty()) s.add({"TXI", "TX", tax});
    if (const auto shipping = invoice.getObject("shipping")) {
        const std::string amount = optional(*shipping, "amount");
        if (!amount.empty() && hundredths(amount, "shipping.amount") != "0") {
            s.add({"SAC", "C", "G830", "", "", hundredths(amount, "shipping.amount")});
        }
    }
    s.add({"CTT", std::to_string(lines->size())});
    return envelopeEnd(s, envelope, s.inSet() - before);
}

std::string write940(const PartnerProfile& partner, const Poco::JSON::Object& request, const Envelope& envelope) {
    const std::string depositor_order = required(request, "depositor_order", "");
    if (depositor_order.size() > 22 || clean(depositor_order, 22) != depositor_order) {
        throw DocumentError("depositor_order: '" + depositor_order +
                            "' does not fit W0502 (1 to 22 characters without delimiters)");
    }
    const std::string location = required(request, "location", "");
    const auto ship_to = request.getObject("ship_to");
    if (!ship_to) throw DocumentError("ship_to is required for a 940");
    const auto lines = request.getArray("lines");
    if (!lines || lines->size() == 0) throw DocumentError("lines: at least one is required");

    Segments s;
    envelopeStart(s, partner, envelope, "OW");
    const std::size_t before = s.inSet();
    s.add({"ST", "940", "0001"});
    s.add({"W05", "N", depositor_order, clean(optional(request, "external_id"), 22)});
    party(s, "ST", ship_to);
    const std::string name = optional(request, "x_location_name");
    s.add({"N1", "WH", clean(name.empty() ? location : name, 60), "91", clean(warehouseIdOf(partner, location), 80)});
    // W66: how it travels. Payment PP (prepaid by the shipper) and method M (motor) are what Keel asks for; the
    // service (W6605 routing) and the carrier when it is a SCAC (W6608) say the rest.
    const std::string service = clean(optional(request, "service"), 35);
    std::string carrier = clean(optional(request, "carrier"), 4);
    if (carrier.size() < 2 || !std::all_of(carrier.begin(), carrier.end(),
                                           [](unsigned char c) { return std::isupper(c) || std::isdigit(c); })) {
        carrier.clear();
    }
    if (!service.empty() || !carrier.empty()) s.add({"W66", "PP", "M", "", "", service, "", "", carrier});
    const std::string qualifier = productQualifier(partner);
    std::uint64_t total = 0;
    for (std::size_t l = 0; l < lines->size(); ++l) {
        const auto line = lines->getObject(static_cast<unsigned>(l));
        const std::string at = "lines[" + std::to_string(l) + "].";
        const std::string quantity = required(*line, "quantity", at);
        if (!std::all_of(quantity.begin(), quantity.end(), [](unsigned char c) { return std::isdigit(c); }) ||
            quantity.size() > 10 || quantity == "0") {
            throw DocumentError(at + "quantity: '" + quantity + "' is not a whole number of units");
        }
        total += std::stoull(quantity);
        s.add({"LX", std::to_string(l + 1)});
        s.add({"W01", quantity, "EA", "", qualifier, clean(required(*line, "sku", at), 48)});
        const std::string description = clean(optional(*line, "x_description"), 45);
        if (!description.empty()) s.add({"G69", description});
        const std::string lot = optional(*line, "lot");
        if (!lot.empty()) {
            if (clean(lot, 30) != lot) throw DocumentError(at + "lot: '" + lot + "' does not fit N902 (30 characters)");
            s.add({"N9", "LT", lot});
        }
    }
    s.add({"W76", std::to_string(total)});
    return envelopeEnd(s, envelope, s.inSet() - before);
}

}  // namespace keel::edix12
