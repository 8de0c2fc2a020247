#include "warehouse.h"

#include "x12_values.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <optional>

namespace keel::edix12 {

namespace {

/// Element names of one line segment (W12 or W07): quantity, unit, the U.P.C. case code, the product id pairs, the lot.
struct LineLayout {
    const char* segment;
    std::size_t quantity;
    std::size_t unit;
    std::size_t case_code;
    std::size_t first_pair;
    std::size_t pairs;
    std::size_t lot;
};

constexpr LineLayout kW12{"W12", 3, 5, 6, 7, 1, 9};  // W1203 shipped, W1205, W1206, W1207/08, W1209 warehouse lot
constexpr LineLayout kW07{"W07", 1, 2, 3, 4, 2, 8};  // W0701 received, W0702, W0703, W0704/05 W0706/07, W0708 lot

std::string elementName(const LineLayout& layout, std::size_t position) {
    return std::string(layout.segment) + (position < 10 ? "0" : "") + std::to_string(position);
}

/// What the 945 and the 944 share: the warehouse (N1*WH) that names the Keel location, the item lines with their
/// product ids, units and lots, and the control total of the units.
class WarehouseReader : public SetReader {
public:
    using SetReader::SetReader;

protected:
    /// N1 starts a party loop; only the warehouse (WH) matters to Keel.
    void onParty(const edi::Segment& segment) {
        if (segment.element(1) != "WH") return;
        warehouse_id_ = trim(segment.element(4));
        warehouse_segment_ = segment.number();
    }

    /// The Keel location code of the warehouse, or empty (with an error when `required` or when an id was given that
    /// names none of the partner's locations).
    std::string location(const edi::Segment& se, bool required) {
        const std::string code = locationOf(partner_, warehouse_id_);
        if (!code.empty()) return code;
        if (!warehouse_id_.empty()) {
            error(warehouse_segment_, "N104",
                  "warehouse '" + warehouse_id_ + "' is none of the locations partner " + partner_.name +
                      " runs (locations = " + joined(partner_.locations) + "; map it with warehouse." + warehouse_id_ +
                      " = CODE in " + partner_.file + ")");
        } else if (required) {
            error(se, "N1",
                  "the set names no warehouse (N1*WH with its id in N104) and partner " + partner_.name +
                      " runs several locations (" + joined(partner_.locations) + ")");
        }
        return "";
    }

    /// Reads a W12 or W07 into a document line: quantity (`min` 0 lets a 945 report a line it did not ship), unit,
    /// the partner's product id, the warehouse lot.
    Poco::JSON::Object::Ptr readLine(const edi::Segment& segment, const LineLayout& layout, std::int64_t min,
                                     const std::string& line_id) {
        Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        line->set("line_id", line_id);
        const std::string quantity = trim(segment.element(layout.quantity));
        const std::string quantity_element = elementName(layout, layout.quantity);
        if (quantity.empty()) {
            error(segment, quantity_element, "the number of units is missing");
        } else if (const auto whole = wholeQuantity(quantity, min)) {
            line->set("quantity", static_cast<Poco::Int64>(*whole));
            units_ += *whole;
        } else {
            error(segment, quantity_element,
                  "'" + quantity + "' is not a whole number of units from " + std::to_string(min) + " to 1000000000");
        }
        readUnit(segment, elementName(layout, layout.unit), std::string(segment.element(layout.unit)), *line);
        ProductIds ids;
        ids.add("UA", segment.element(layout.case_code));  // U.P.C./EAN case code (2-5-5)
        for (std::size_t pair = 0; pair < layout.pairs; ++pair) {
            const std::size_t at = layout.first_pair + 2 * pair;
            ids.add(segment.element(at), segment.element(at + 1));
        }
        const std::string sku = ids.preferred(partner_);
        if (sku.empty()) {
            error(segment, elementName(layout, layout.first_pair + 1),
                  "no product id the partner's items setting names (" + joined(partner_.item_qualifiers) +
                      "); the line has " + ids.qualifiers());
        } else if (sku.size() > 128) {
            error(segment, elementName(layout, layout.first_pair + 1),
                  "product id '" + sku + "' is longer than 128 characters");
        } else {
            line->set("sku", sku);
        }
        const std::string lot = trim(segment.element(layout.lot));
        if (!lot.empty()) line->set("lot", lot);
        if (const auto all = ids.toJson()) line->set("x_product_ids", all);
        lines_->add(line);
        current_line_ = line;
        return line;
    }

    /// N9 in a line's loop: LT is the lot (when the line segment had none), the others travel as x_references.
    void onLineReference(const edi::Segment& segment) {
        if (!current_line_) return;
        const std::string qualifier = trim(segment.element(1));
        const std::string value = trim(segment.element(2));
        if (value.empty()) return;
        if (qualifier == "LT") {
            if (!current_line_->has("lot")) current_line_->set("lot", value);
            return;
        }
        if (!current_line_->has("x_references")) {
            current_line_->set("x_references",
                               Poco::JSON::Object::Ptr(new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER)));
        }
        auto references = current_line_->getObject("x_references");
        if (!references->has(qualifier)) references->set(qualifier, value);
    }

    /// W03/W14: the total of units must be what the lines add up to (a set cut short or garbled says otherwise).
    void checkTotal(const edi::Segment& segment, const std::string& element) {
        has_total_ = true;
        const std::string text = trim(segment.element(1));
        const auto total = decimalAmount(text);
        if (!total || total->find('.') != std::string::npos) {
            error(segment, element, "'" + text + "' is not a whole number of units");
        } else if (*total != std::to_string(units_)) {
            error(segment, element,
                  "says " + *total + " units, the " + std::to_string(lines_->size()) + " line(s) add up to " +
                      std::to_string(units_));
        }
    }

    Poco::JSON::Array::Ptr lines_ = new Poco::JSON::Array;
    Poco::JSON::Object::Ptr current_line_;
    std::int64_t units_ = 0;
    bool has_total_ = false;

private:
    std::string warehouse_id_;
    std::uint64_t warehouse_segment_ = 0;
};

/// "20261127" → "2026-11-27T00:00:00Z": a 945 or 944 gives the day, not the instant.
std::optional<std::string> dayStart(std::string_view ccyymmdd) {
    if (ccyymmdd.size() != 8) return std::nullopt;
    const auto date = isoDate(ccyymmdd);
    if (!date) return std::nullopt;
    return *date + "T00:00:00Z";
}

class ShippingAdviceReader final : public WarehouseReader {
public:
    using WarehouseReader::WarehouseReader;

    void onSegment(const edi::Segment& segment) override {
        const std::string_view id = segment.id();
        if (id == "W06") {
            has_w06_ = true;
            depositor_order_ = trim(segment.element(2));
            if (depositor_order_.empty()) {
                error(segment, "W0602", "the depositor order number (W0502 of Keel's 940) is missing");
            }
            if (!segment.element(3).empty()) {
                shipped_at_ = dayStart(segment.element(3)).value_or("");
                if (shipped_at_.empty()) {
                    error(segment, "W0603", "'" + std::string(segment.element(3)) + "' is not a date (CCYYMMDD)");
                }
            }
            reference_ = trim(segment.element(4));
            purchase_order_ = trim(segment.element(6));
            reporting_code_ = trim(segment.element(1));
        } else if (id == "N1") {
            onParty(segment);
        } else if (id == "N9") {
            if (current_line_) {
                onLineReference(segment);
            } else {
                onTracking(segment);
            }
        } else if (id == "G62") {
            // 11: shipped on this date, when W06 has none.
            if (segment.element(1) == "11" && shipped_at_.empty())
                shipped_at_ = dayStart(segment.element(2)).value_or("");
        } else if (id == "W27") {
            const std::string scac = trim(segment.element(2));
            const std::string routing = trim(segment.element(3));
            carrier_ = scac.empty() ? routing : scac;
            if (!scac.empty()) service_ = routing;
        } else if (id == "LX") {
            line_id_ = trim(segment.element(1));
            current_line_ = nullptr;
        } else if (id == "W12") {
            ++lines_seen_;
            auto line = readLine(segment, kW12, 0, line_id_.empty() ? std::to_string(lines_seen_) : line_id_);
            if (!segment.element(1).empty()) line->set("x_status", std::string(segment.element(1)));
            if (const auto ordered = wholeQuantity(trim(segment.element(2)), 0)) {
                line->set("x_ordered", static_cast<Poco::Int64>(*ordered));
            }
        } else if (id == "W03") {
            checkTotal(segment, "W0301");
        }
    }

    Poco::JSON::Object::Ptr finish(const edi::Segment& se) override {
        if (!has_w06_) error(se, "W06", "the 945 has no W06 segment (the depositor order number of Keel's 940)");
        if (shipped_at_.empty() && has_w06_) error(se, "W0603", "the 945 gives no ship date (W0603 or G62*11)");
        if (lines_->size() == 0) error(se, "W12", "the 945 has no W12 line");
        if (lines_->size() > 1000) error(se, "W12", "the 945 has more than 1000 lines");
        const std::string code = location(se, false);
        if (!errors().empty()) return nullptr;
        Poco::JSON::Object::Ptr document = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        document->set("type", "shipment_confirmation");
        document->set("version", 1);
        document->set("depositor_order", depositor_order_);
        if (!reference_.empty()) document->set("reference", reference_);
        document->set("shipped_at", shipped_at_);
        if (!code.empty()) document->set("location", code);
        Poco::JSON::Object::Ptr carrier = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        carrier->set("carrier", carrier_.empty() ? std::string("unspecified") : carrier_.substr(0, 64));
        if (!service_.empty()) carrier->set("service", service_.substr(0, 64));
        if (!tracking_.empty()) carrier->set("tracking_number", tracking_.substr(0, 128));
        Poco::JSON::Object::Ptr package = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        package->set("carrier", carrier);
        package->set("lines", lines_);
        Poco::JSON::Array::Ptr packages = new Poco::JSON::Array;
        packages->add(package);
        document->set("packages", packages);
        if (!purchase_order_.empty()) document->set("x_purchase_order", purchase_order_);
        if (!reporting_code_.empty()) document->set("x_reporting_code", reporting_code_);
        document->set("x_edi", source());
        return document;
    }

private:
    /// The carrier's tracking number from an N9 before the lines: 2I (tracking number) before CN (the carrier's
    /// reference, a PRO number) before BM (bill of lading).
    void onTracking(const edi::Segment& segment) {
        static const std::vector<std::string> kPreference{"2I", "CN", "BM"};
        const std::string qualifier = trim(segment.element(1));
        const std::string value = trim(segment.element(2));
        const auto rank = std::find(kPreference.begin(), kPreference.end(), qualifier) - kPreference.begin();
        if (value.empty() || rank == static_cast<std::ptrdiff_t>(kPreference.size()) || rank >= tracking_rank_) return;
        tracking_ = value;
        tracking_rank_ = rank;
    }

    bool has_w06_ = false;
    std::string depositor_order_;
    std::string shipped_at_;
    std::string reference_;
    std::string purchase_order_;
    std::string reporting_code_;
    std::string carrier_;
    std::string service_;
    std::string tracking_;
    std::ptrdiff_t tracking_rank_ = 3;
    std::string line_id_;
    std::size_t lines_seen_ = 0;
};

class ReceiptAdviceReader final : public WarehouseReader {
public:
    using WarehouseReader::WarehouseReader;

    void onSegment(const edi::Segment& segment) override {
        const std::string_view id = segment.id();
        if (id == "W17") {
            has_w17_ = true;
            const auto date = isoDate(segment.element(2));
            if (segment.element(2).size() != 8 || !date) {
                error(segment, "W1702", "'" + std::string(segment.element(2)) + "' is not a date (CCYYMMDD)");
            } else {
                received_on_ = *date;
            }
            receipt_id_ = trim(segment.element(3));
            if (receipt_id_.empty()) error(segment, "W1703", "the warehouse receipt number is missing");
            if (receipt_id_.size() > 30) error(segment, "W1703", "the warehouse receipt number is longer than 30");
            depositor_order_ = trim(segment.element(4));
            shipment_ = trim(segment.element(5));
            reporting_code_ = trim(segment.element(1));
        } else if (id == "N1") {
            onParty(segment);
        } else if (id == "W07") {
            readLine(segment, kW07, 1, std::to_string(lines_->size() + 1));
        } else if (id == "N9") {
            onLineReference(segment);
        } else if (id == "G69" && current_line_) {
            current_line_->set("x_description", trim(segment.element(1)));
        } else if (id == "W14") {
            checkTotal(segment, "W1401");
        }
    }

    Poco::JSON::Object::Ptr finish(const edi::Segment& se) override {
        if (!has_w17_) error(se, "W17", "the 944 has no W17 segment (the receipt date and number)");
        if (lines_->size() == 0) error(se, "W07", "the 944 has no W07 line");
        if (lines_->size() > 1000) error(se, "W07", "the 944 has more than 1000 lines");
        if (!has_total_) error(se, "W14", "the 944 has no W14 total of the units received");
        const std::string code = location(se, true);
        if (!errors().empty()) return nullptr;
        Poco::JSON::Object::Ptr document = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        document->set("type", "stock_receipt");
        document->set("version", 1);
        document->set("receipt_id", receipt_id_);
        document->set("received_on", received_on_);
        document->set("location", code);
        document->set("lines", lines_);
        if (!depositor_order_.empty()) document->set("x_depositor_order", depositor_order_);
        if (!shipment_.empty()) document->set("x_shipment_id", shipment_);
        if (!reporting_code_.empty()) document->set("x_reporting_code", reporting_code_);
        document->set("x_edi", source());
        return document;
    }

private:
    bool has_w17_ = false;
    std::string received_on_;
    std::string receipt_id_;
    std::string depositor_order_;
    std::string shipment_;
    std::string reporting_code_;
};

}  // namespace

std::unique_ptr<SetReader> makeShippingAdviceReader(const PartnerProfile& partner, const std::string& group_control,
                                                    const std::string& set_control) {
    return std::make_unique<ShippingAdviceReader>(partner, group_control, set_control);
}

std::unique_ptr<SetReader> makeReceiptAdviceReader(const PartnerProfile& partner, const std::string& group_control,
                                                   const std::string& set_control) {
    return std::make_unique<ReceiptAdviceReader>(partner, group_control, set_control);
}

}  // namespace keel::edix12
