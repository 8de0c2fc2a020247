#include "inbound.h"

#include "po850.h"
#include "warehouse.h"
#include "x12_values.h"

#include <memory>
#include <sstream>

namespace keel::edix12 {

SetReader::SetReader(const PartnerProfile& partner, std::string group_control, std::string set_control)
    : partner_(partner), group_control_(std::move(group_control)), set_control_(std::move(set_control)) {}

void SetReader::error(const edi::Segment& segment, const std::string& element, const std::string& message) {
    error(segment.number(), element, message);
}

void SetReader::error(std::uint64_t segment_number, const std::string& element, const std::string& message) {
    errors_.push_back({group_control_, set_control_, segment_number, element, message});
}

Poco::JSON::Object::Ptr SetReader::source() const {
    Poco::JSON::Object::Ptr source = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    source->set("partner", partner_.name);
    source->set("group_control", group_control_);
    source->set("set_control", set_control_);
    return source;
}

void SetReader::readUnit(const edi::Segment& segment, const std::string& element, const std::string& code,
                         Poco::JSON::Object& line) {
    const auto unit = keelUnit(partner_, code);
    if (!unit) {
        error(segment, element, unitRefused(partner_, code));
    } else if (!unit->empty()) {
        line.set("uom", *unit);
    }
}

namespace {

/// The sets a partner sends in its role, and a reader for each; nullptr with `refusal` set for any other.
std::unique_ptr<SetReader> readerFor(const PartnerProfile& partner, std::string_view set, const std::string& group,
                                     const std::string& control, std::string& refusal) {
    if (partner.role == PartnerRole::kCustomer) {
        if (set == "850") return makePurchaseOrderReader(partner, group, control);
        refusal = "transaction set " + std::string(set) + " is not taken from partner " + partner.name +
                  " (role customer: it sends 850 purchase orders)";
        return nullptr;
    }
    if (set == "945") return makeShippingAdviceReader(partner, group, control);
    if (set == "944") return makeReceiptAdviceReader(partner, group, control);
    refusal = "transaction set " + std::string(set) + " is not taken from partner " + partner.name +
              " (role 3pl: it sends 945 shipping advices and 944 receipt advices)";
    return nullptr;
}

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
            const std::string control(segment.element(2));
            in_ack_ = segment.element(1) == "997" || segment.element(1) == "999";
            reader_.reset();
            if (in_ack_) {
                ack_ = ReceivedAck{};
                return;
            }
            std::string refusal;
            reader_ = readerFor(partner_, segment.element(1), group_control_, control, refusal);
            if (!reader_) out_.errors.push_back({group_control_, control, segment.number(), "ST01", refusal});
        } else if (id == "SE") {
            if (reader_ && interchange_ok_) {
                const auto document = reader_->finish(segment);
                const auto& errors = reader_->errors();
                if (!errors.empty()) {
                    out_.errors.insert(out_.errors.end(), errors.begin(), errors.end());
                } else if (document) {
                    out_.documents.push_back(document);
                }
            }
            if (in_ack_ && interchange_ok_ && !ack_.group_control.empty()) out_.acks.push_back(ack_);
            reader_.reset();
            in_ack_ = false;
        } else if (in_ack_) {
            // An acknowledgment of a group Keel sent: AK1 names it, AK9 says what became of it.
            if (id == "AK1") {
                ack_.functional_id = std::string(segment.element(1));
                ack_.group_control = trim(segment.element(2));
            } else if (id == "AK9") {
                ack_.status = std::string(segment.element(1));
            }
        } else if (reader_) {
            reader_->onSegment(segment);
        }
    }

private:
    void fileError(const edi::Segment& segment, std::string element, std::string message) {
        out_.errors.push_back({group_control_, "", segment.number(), std::move(element), std::move(message)});
    }

    const PartnerProfile& partner_;
    Translation& out_;
    std::unique_ptr<SetReader> reader_;
    bool in_ack_ = false;
    ReceivedAck ack_;
    std::string group_control_;
    bool interchange_ok_ = true;
};

}  // namespace

Translation translate(const std::string& bytes, const PartnerProfile& partner) {
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
