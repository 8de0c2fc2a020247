#include "po850.h"

#include "keel/edi/x12_reader.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>

namespace keel::edix12 {

namespace {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) return "";
    const auto last = text.find_last_not_of(' ');
    return std::string(text.substr(first, last - first + 1));
}

bool allDigits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// An X12 R (decimal) value as the exact decimal string the order document wants: "3", "3.5", "-2" refused.
std::optional<std::string> decimalAmount(std::string_view text) {
    std::string value(text);
    if (!value.empty() && value.front() == '.') value.insert(value.begin(), '0');
    const auto dot = value.find('.');
    const std::string whole = value.substr(0, dot);
    const std::string fraction = dot == std::string::npos ? "" : value.substr(dot + 1);
    if (!allDigits(whole) || (dot != std::string::npos && !allDigits(fraction))) return std::nullopt;
    std::string trimmed_fraction = fraction;
    while (!trimmed_fraction.empty() && trimmed_fraction.back() == '0') trimmed_fraction.pop_back();
    std::string trimmed_whole = whole;
    while (trimmed_whole.size() > 1 && trimmed_whole.front() == '0') trimmed_whole.erase(trimmed_whole.begin());
    return trimmed_fraction.empty() ? trimmed_whole : trimmed_whole + "." + trimmed_fraction;
}

/// CCYYMMDD (or YYMMDD, years 00-49 → 20xx) → YYYY-MM-DD.
std::optional<std::string> isoDate(std::string_view text) {
    std::string value(text);
    if (value.size() == 6 && allDigits(value)) value = (std::stoi(value.substr(0, 2)) < 50 ? "20" : "19") + value;
    if (value.size() != 8 || !allDigits(value)) return std::nullopt;
    const int month = std::stoi(value.substr(4, 2));
    const int day = std::stoi(value.substr(6, 2));
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    return value.substr(0, 4) + "-" + value.substr(4, 2) + "-" + value.substr(6, 2);
}

// One 850 being read: the document under construction and what went wrong in it.
struct Order {
    Poco::JSON::Object::Ptr document = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr customer = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr ship_to = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr bill_to;
    Poco::JSON::Array::Ptr lines = new Poco::JSON::Array;
    Poco::JSON::Object::Ptr current_line;
    Poco::JSON::Object::Ptr party;  ///< the address an N1 loop is filling (ship_to, bill_to), or null
    std::string currency;
    std::string promise_date;
    std::uint64_t po1_count = 0;
    bool has_beg = false;
    std::vector<MappingError> errors;
};

class Translator {
public:
    Translator(const PartnerProfile& partner, Translation& out) : partner_(partner), out_(out) {}

    void onSegment(const edi::Segment& segment) {
        const std::string_view id = segment.id();
        if (id == "ISA") {
            interchange_ok_ = true;
            const std::string qualifier = trim(segment.element(5));
            const std::string sender = trim(segment.element(6));
            if (qualifier != partner_.isa_qualifier || sender != partner_.isa_id) {
                interchange_ok_ = false;
                fileError(segment, "ISA06",
                          "the interchange is from " + qualifier + ":" + sender + ", not from partner " +
                              partner_.name + " (" + partner_.isa_qualifier + ":" + partner_.isa_id + ", " +
                              partner_.file + ")");
            }
        } else if (id == "GS") {
            group_control_ = std::string(segment.element(6));
            if (interchange_ok_ && trim(segment.element(2)) != partner_.gs_id) {
                fileError(segment, "GS02",
                          "the group is from '" + trim(segment.element(2)) + "', partner " + partner_.name +
                              " sends as '" + partner_.gs_id + "' (gs.id)");
            }
        } else if (id == "ST") {
            ++out_.sets;
            set_control_ = std::string(segment.element(2));
            in_ack_ = segment.element(1) == "997" || segment.element(1) == "999";
            if (segment.element(1) == "850") {
                order_.emplace();
            } else if (in_ack_) {
                order_.reset();
                ack_ = ReceivedAck{};
            } else {
                order_.reset();
                MappingError error{group_control_, set_control_, segment.number(), "ST01",
                                   "transaction set " + std::string(segment.element(1)) +
                                       " is not translated into an order (this translator reads 850s)"};
                out_.errors.push_back(std::move(error));
            }
        } else if (id == "SE") {
            if (order_ && interchange_ok_) finishOrder(segment);
            if (in_ack_ && interchange_ok_ && !ack_.group_control.empty()) out_.acks.push_back(ack_);
            order_.reset();
            in_ack_ = false;
        } else if (in_ack_) {
            // An acknowledgment of a group Keel sent: AK1 names it, AK9 says what became of it.
            if (id == "AK1") {
                ack_.functional_id = std::string(segment.element(1));
                ack_.group_control = trim(segment.element(2));
            } else if (id == "AK9") {
                ack_.status = std::string(segment.element(1));
            }
        } else if (order_) {
            onOrderSegment(segment);
        }
    }

private:
    void fileError(const edi::Segment& segment, std::string element, std::string message) {
        out_.errors.push_back({group_control_, "", segment.number(), std::move(element), std::move(message)});
    }

    void error(const edi::Segment& segment, const std::string& element, const std::string& message) {
        order_->errors.push_back({group_control_, set_control_, segment.number(), element, message});
    }

    void onOrderSegment(const edi::Segment& segment) {
        Order& order = *order_;
        const std::string_view id = segment.id();
        if (id == "BEG") {
            order.has_beg = true;
            const std::string purpose(segment.element(1));
            if (purpose != "00") {
                error(segment, "BEG01", "purpose '" + purpose + "' is not taken in: only 00 (original) orders are");
            }
            const std::string po = trim(segment.element(3));
            if (po.empty()) {
                error(segment, "BEG03", "the purchase order number is missing");
            } else if (po.size() > 64) {
                error(segment, "BEG03", "the purchase order number is longer than 64 characters");
            }
            order.document->set("external_id", po);
            if (!segment.element(5).empty()) {
                const auto date = isoDate(segment.element(5));
                if (!date) {
                    error(segment, "BEG05", "'" + std::string(segment.element(5)) + "' is not a date (CCYYMMDD)");
                } else {
                    order.document->set("x_po_date", *date);
                }
            }
            if (!segment.element(2).empty()) order.document->set("x_po_type", std::string(segment.element(2)));
        } else if (id == "CUR") {
            if (segment.element(1) == "BY" || segment.element(1) == "SE")
                order.currency = std::string(segment.element(2));
        } else if (id == "DTM") {
            const std::string qualifier(segment.element(1));
            if (qualifier == "002" || (qualifier == "010" && order.promise_date.empty())) {
                const auto date = isoDate(segment.element(2));
                if (!date) {
                    error(segment, "DTM02", "'" + std::string(segment.element(2)) + "' is not a date (CCYYMMDD)");
                } else {
                    order.promise_date = *date;
                }
            }
        } else if (id == "N1") {
            const std::string code(segment.element(1));
            const std::string name = trim(segment.element(2));
            order.party = nullptr;
            if (code == "ST") {
                order.party = order.ship_to;
            } else if (code == "BT") {
                order.bill_to = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
                order.party = order.bill_to;
            } else if (code == "BY" && !name.empty()) {
                order.customer->set("name", name.substr(0, 200));
            }
            if (order.party && !name.empty()) order.party->set("name", name.substr(0, 200));
            if (code == "ST" && !segment.element(4).empty()) {
                order.document->set("x_ship_to_location", trim(segment.element(4)));
            }
        } else if (id == "N3" && order.party) {
            order.party->set("line1", trim(segment.element(1)));
            if (!segment.element(2).empty()) order.party->set("line2", trim(segment.element(2)));
        } else if (id == "N4" && order.party) {
            if (!segment.element(1).empty()) order.party->set("city", trim(segment.element(1)));
            if (!segment.element(2).empty()) order.party->set("region", trim(segment.element(2)));
            if (!segment.element(3).empty()) order.party->set("postal_code", trim(segment.element(3)));
            const std::string country = trim(segment.element(4));
            if (country.empty()) {
                order.party->set("country", "US");
            } else if (country.size() == 2) {
                order.party->set("country", country);
            } else if (country == "USA") {
                order.party->set("country", "US");
            } else if (country == "CAN") {
                order.party->set("country", "CA");
            } else {
                error(segment, "N404", "country '" + country + "' is not an ISO 3166 two-letter code");
            }
        } else if (id == "PER") {
            for (std::size_t position = 3; position + 1 <= segment.elementCount(); position += 2) {
                if (segment.element(position) == "EM" && !order.customer->has("email")) {
                    order.customer->set("email", trim(segment.element(position + 1)));
                }
            }
        } else if (id == "PO1") {
            onPo1(segment);
        } else if (id == "PID" && order.current_line) {
            if (segment.element(1) == "F" && !segment.element(5).empty()) {
                order.current_line->set("x_description", trim(segment.element(5)));
            }
        } else if (id == "CTT") {
            const std::string count(segment.element(1));
            if (!allDigits(count)) {
                error(segment, "CTT01", "'" + count + "' is not a number of line items");
            } else if (std::stoull(count) != order.po1_count) {
                error(segment, "CTT01",
                      "says " + count + " line items, the order has " + std::to_string(order.po1_count) +
                          " PO1 segments");
            }
        }
    }

    void onPo1(const edi::Segment& segment) {
        Order& order = *order_;
        ++order.po1_count;
        order.party = nullptr;
        Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        order.current_line = line;
        const std::string line_id = trim(segment.element(1));
        line->set("line_id", line_id.empty() ? std::to_string(order.po1_count) : line_id);

        const std::string quantity(segment.element(2));
        const auto exact = decimalAmount(quantity);
        if (quantity.empty()) {
            error(segment, "PO102", "the quantity is missing");
        } else if (!exact || exact->find('.') != std::string::npos || *exact == "0" || exact->size() > 10) {
            error(segment, "PO102", "quantity '" + quantity + "' is not a whole number from 1 to 1000000000");
        } else {
            line->set("quantity", static_cast<Poco::Int64>(std::stoll(*exact)));
        }

        const std::string unit(segment.element(3));
        const auto mapped = partner_.units.find(unit.empty() ? "EA" : unit);
        if (mapped == partner_.units.end()) {
            error(segment, "PO103",
                  "unit '" + unit + "' has no Keel unit in partner " + partner_.name + " (uom." + unit + " = UNIT in " +
                      partner_.file + ")");
        } else if (!mapped->second.empty()) {
            line->set("uom", mapped->second);
        }

        if (!segment.element(4).empty()) {
            const auto price = decimalAmount(segment.element(4));
            if (!price) {
                error(segment, "PO104", "unit price '" + std::string(segment.element(4)) + "' is not a decimal amount");
            } else {
                line->set("unit_price", *price);
            }
        }

        // PO106/PO107, PO108/PO109, ...: (qualifier, id) pairs; the partner's preference picks the one that names
        // the item, the others travel along as extensions.
        std::map<std::string, std::string> ids;
        for (std::size_t position = 6; position + 1 <= segment.elementCount(); position += 2) {
            const std::string qualifier(segment.element(position));
            const std::string value = trim(segment.element(position + 1));
            if (!qualifier.empty() && !value.empty() && !ids.count(qualifier)) ids[qualifier] = value;
        }
        std::string sku;
        for (const auto& qualifier : partner_.item_qualifiers) {
            const auto found = ids.find(qualifier);
            if (found != ids.end()) {
                sku = found->second;
                break;
            }
        }
        if (sku.empty()) {
            std::string present;
            for (const auto& [qualifier, value] : ids) present += (present.empty() ? "" : ", ") + qualifier;
            error(segment, "PO107",
                  "no product id the partner's items setting names (" + joined(partner_.item_qualifiers) +
                      "); the line has " + (present.empty() ? std::string("none") : present));
        } else if (sku.size() > 128) {
            error(segment, "PO107", "product id '" + sku + "' is longer than 128 characters");
        } else {
            line->set("sku", sku);
        }
        Poco::JSON::Object::Ptr extension = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        for (const auto& [qualifier, value] : ids) extension->set(qualifier, value);
        if (extension->size() > 0) line->set("x_product_ids", extension);
        order.lines->add(line);
    }

    static std::string joined(const std::vector<std::string>& parts) {
        std::string text;
        for (const auto& part : parts) text += (text.empty() ? "" : ", ") + part;
        return text;
    }

    void finishOrder(const edi::Segment& se) {
        Order& order = *order_;
        if (!order.has_beg) error(se, "", "the 850 has no BEG segment");
        if (order.po1_count == 0) error(se, "", "the 850 has no PO1 line item");
        if (order.lines->size() > 1000) error(se, "", "the 850 has more than 1000 line items");
        if (!order.errors.empty()) {
            out_.errors.insert(out_.errors.end(), order.errors.begin(), order.errors.end());
            return;
        }
        Poco::JSON::Object::Ptr document = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        document->set("type", "order");
        document->set("version", 1);
        document->set("channel", partner_.channel);
        document->set("external_id", order.document->getValue<std::string>("external_id"));
        document->set("currency", order.currency.empty() ? partner_.currency : order.currency);
        order.customer->set("id", partner_.customer);
        order.customer->set("type", "b2b");
        document->set("customer", order.customer);
        document->set("ship_to", order.ship_to);
        if (order.bill_to) document->set("bill_to", order.bill_to);
        document->set("lines", order.lines);
        if (!order.promise_date.empty()) document->set("promise_date", order.promise_date);
        Poco::JSON::Object::Ptr payment = new Poco::JSON::Object;
        payment->set("status", partner_.payment);
        document->set("payment", payment);
        for (const auto& key : {"x_po_date", "x_po_type", "x_ship_to_location"}) {
            if (order.document->has(key)) document->set(key, order.document->get(key));
        }
        Poco::JSON::Object::Ptr source = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        source->set("partner", partner_.name);
        source->set("group_control", group_control_);
        source->set("set_control", set_control_);
        document->set("x_edi", source);
        out_.documents.push_back(document);
    }

    const PartnerProfile& partner_;
    Translation& out_;
    std::optional<Order> order_;
    bool in_ack_ = false;
    ReceivedAck ack_;
    std::string group_control_;
    std::string set_control_;
    bool interchange_ok_ = true;
};

}  // namespace

Translation translate850(const std::string& bytes, const PartnerProfile& partner) {
    Translation out;
    std::istringstream in(bytes);
    edi::X12Reader reader(in);
    Translator translator(partner, out);
    while (true) {
        const auto status = reader.next();
        if (status == edi::X12Reader::Status::End) break;
        if (status == edi::X12Reader::Status::Error) {
            const auto& e = *reader.error();
            out.documents.clear();  // nothing of an unreadable file is taken in
            out.errors.push_back({"", "", e.segment_number, e.element, e.message});
            break;
        }
        translator.onSegment(reader.segment());
    }
    return out;
}

}  // namespace keel::edix12
