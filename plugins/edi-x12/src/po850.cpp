#include "po850.h"

#include "x12_values.h"

#include <Poco/JSON/Array.h>

namespace keel::edix12 {

namespace {

class PurchaseOrderReader final : public SetReader {
public:
    using SetReader::SetReader;

    void onSegment(const edi::Segment& segment) override {
        const std::string_view id = segment.id();
        if (id == "BEG") {
            has_beg_ = true;
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
            header_->set("external_id", po);
            if (!segment.element(5).empty()) {
                const auto date = isoDate(segment.element(5));
                if (!date) {
                    error(segment, "BEG05", "'" + std::string(segment.element(5)) + "' is not a date (CCYYMMDD)");
                } else {
                    header_->set("x_po_date", *date);
                }
            }
            if (!segment.element(2).empty()) header_->set("x_po_type", std::string(segment.element(2)));
        } else if (id == "CUR") {
            if (segment.element(1) == "BY" || segment.element(1) == "SE") currency_ = std::string(segment.element(2));
        } else if (id == "DTM") {
            const std::string qualifier(segment.element(1));
            if (qualifier == "002" || (qualifier == "010" && promise_date_.empty())) {
                const auto date = isoDate(segment.element(2));
                if (!date) {
                    error(segment, "DTM02", "'" + std::string(segment.element(2)) + "' is not a date (CCYYMMDD)");
                } else {
                    promise_date_ = *date;
                }
            }
        } else if (id == "N1") {
            const std::string code(segment.element(1));
            const std::string name = trim(segment.element(2));
            party_ = nullptr;
            if (code == "ST") {
                party_ = ship_to_;
            } else if (code == "BT") {
                bill_to_ = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
                party_ = bill_to_;
            } else if (code == "BY" && !name.empty()) {
                customer_->set("name", name.substr(0, 200));
            }
            if (party_ && !name.empty()) party_->set("name", name.substr(0, 200));
            if (code == "ST" && !segment.element(4).empty()) {
                header_->set("x_ship_to_location", trim(segment.element(4)));
            }
        } else if (id == "N3" && party_) {
            party_->set("line1", trim(segment.element(1)));
            if (!segment.element(2).empty()) party_->set("line2", trim(segment.element(2)));
        } else if (id == "N4" && party_) {
            if (!segment.element(1).empty()) party_->set("city", trim(segment.element(1)));
            if (!segment.element(2).empty()) party_->set("region", trim(segment.element(2)));
            if (!segment.element(3).empty()) party_->set("postal_code", trim(segment.element(3)));
            const std::string country = trim(segment.element(4));
            if (country.empty()) {
                party_->set("country", "US");
            } else if (country.size() == 2) {
                party_->set("country", country);
            } else if (country == "USA") {
                party_->set("country", "US");
            } else if (country == "CAN") {
                party_->set("country", "CA");
            } else {
                error(segment, "N404", "country '" + country + "' is not an ISO 3166 two-letter code");
            }
        } else if (id == "PER") {
            for (std::size_t position = 3; position + 1 <= segment.elementCount(); position += 2) {
                if (segment.element(position) == "EM" && !customer_->has("email")) {
                    customer_->set("email", trim(segment.element(position + 1)));
                }
            }
        } else if (id == "PO1") {
            onPo1(segment);
        } else if (id == "PID" && current_line_) {
            if (segment.element(1) == "F" && !segment.element(5).empty()) {
                current_line_->set("x_description", trim(segment.element(5)));
            }
        } else if (id == "CTT") {
            const std::string count(segment.element(1));
            if (!allDigits(count)) {
                error(segment, "CTT01", "'" + count + "' is not a number of line items");
            } else if (std::stoull(count) != po1_count_) {
                error(segment, "CTT01",
                      "says " + count + " line items, the order has " + std::to_string(po1_count_) + " PO1 segments");
            }
        }
    }

    Poco::JSON::Object::Ptr finish(const edi::Segment& se) override {
        if (!has_beg_) error(se, "", "the 850 has no BEG segment");
        if (po1_count_ == 0) error(se, "", "the 850 has no PO1 line item");
        if (lines_->size() > 1000) error(se, "", "the 850 has more than 1000 line items");
        if (!errors().empty()) return nullptr;
        Poco::JSON::Object::Ptr document = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        document->set("type", "order");
        document->set("version", 1);
        document->set("channel", partner_.channel);
        document->set("external_id", header_->getValue<std::string>("external_id"));
        document->set("currency", currency_.empty() ? partner_.currency : currency_);
        customer_->set("id", partner_.customer);
        customer_->set("type", "b2b");
        document->set("customer", customer_);
        document->set("ship_to", ship_to_);
        if (bill_to_) document->set("bill_to", bill_to_);
        document->set("lines", lines_);
        if (!promise_date_.empty()) document->set("promise_date", promise_date_);
        Poco::JSON::Object::Ptr payment = new Poco::JSON::Object;
        payment->set("status", partner_.payment);
        document->set("payment", payment);
        for (const auto& key : {"x_po_date", "x_po_type", "x_ship_to_location"}) {
            if (header_->has(key)) document->set(key, header_->get(key));
        }
        document->set("x_edi", source());
        return document;
    }

private:
    void onPo1(const edi::Segment& segment) {
        ++po1_count_;
        party_ = nullptr;
        Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        current_line_ = line;
        const std::string line_id = trim(segment.element(1));
        line->set("line_id", line_id.empty() ? std::to_string(po1_count_) : line_id);

        const std::string quantity(segment.element(2));
        if (quantity.empty()) {
            error(segment, "PO102", "the quantity is missing");
        } else if (const auto whole = wholeQuantity(quantity)) {
            line->set("quantity", static_cast<Poco::Int64>(*whole));
        } else {
            error(segment, "PO102", "quantity '" + quantity + "' is not a whole number from 1 to 1000000000");
        }
        readUnit(segment, "PO103", std::string(segment.element(3)), *line);

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
        ProductIds ids;
        for (std::size_t position = 6; position + 1 <= segment.elementCount(); position += 2) {
            ids.add(segment.element(position), segment.element(position + 1));
        }
        const std::string sku = ids.preferred(partner_);
        if (sku.empty()) {
            error(segment, "PO107",
                  "no product id the partner's items setting names (" + joined(partner_.item_qualifiers) +
                      "); the line has " + ids.qualifiers());
        } else if (sku.size() > 128) {
            error(segment, "PO107", "product id '" + sku + "' is longer than 128 characters");
        } else {
            line->set("sku", sku);
        }
        if (const auto all = ids.toJson()) line->set("x_product_ids", all);
        lines_->add(line);
    }

    Poco::JSON::Object::Ptr header_ = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr customer_ = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr ship_to_ = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Object::Ptr bill_to_;
    Poco::JSON::Array::Ptr lines_ = new Poco::JSON::Array;
    Poco::JSON::Object::Ptr current_line_;
    Poco::JSON::Object::Ptr party_;  ///< the address an N1 loop is filling (ship_to, bill_to), or null
    std::string currency_;
    std::string promise_date_;
    std::uint64_t po1_count_ = 0;
    bool has_beg_ = false;
};

}  // namespace

std::unique_ptr<SetReader> makePurchaseOrderReader(const PartnerProfile& partner, const std::string& group_control,
                                                   const std::string& set_control) {
    return std::make_unique<PurchaseOrderReader>(partner, group_control, set_control);
}

}  // namespace keel::edix12
