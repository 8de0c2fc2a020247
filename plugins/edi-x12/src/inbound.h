// Inbound interchanges → Keel documents, for one partner: the envelopes must come from the partner, its 997/999 of
// what Keel sent are collected, and each transaction set its role sends is read by a SetReader (850 from a customer;
// 945 and 944 from a 3PL). A set that cannot become a document is named with its segment, element and reason.
#pragma once

#include "partner.h"

#include "keel/edi/x12_reader.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

namespace keel::edix12 {

/// Something in the interchange that stops one transaction set (or the whole file) from becoming a document.
struct MappingError {
    std::string group_control;  ///< GS06, empty for an envelope problem
    std::string set_control;    ///< ST02, empty for an envelope or group problem
    std::uint64_t segment = 0;  ///< segment number in the file (1-based)
    std::string element;        ///< "PO102", empty when about a segment
    std::string message;
};

/// A 997 or 999 from the partner: what it says about one functional group Keel sent.
struct ReceivedAck {
    std::string functional_id;  ///< AK101: SH (856), IN (810), ...
    std::string group_control;  ///< AK102: GS06 of Keel's group
    std::string status;         ///< AK901: A, E, P or R
};

struct Translation {
    std::vector<Poco::JSON::Object::Ptr> documents;  ///< one per accepted set (order, shipment_confirmation, ...)
    std::vector<ReceivedAck> acks;                   ///< the partner's 997/999 of what Keel sent
    std::vector<MappingError> errors;
    std::uint64_t sets = 0;  ///< transaction sets seen (any type)
};

/// Reads one transaction set into a Keel document: fed the segments between ST and SE, asked for the document at SE.
class SetReader {
public:
    SetReader(const PartnerProfile& partner, std::string group_control, std::string set_control);
    virtual ~SetReader() = default;
    SetReader(const SetReader&) = delete;
    SetReader& operator=(const SetReader&) = delete;

    virtual void onSegment(const edi::Segment& segment) = 0;
    /// At SE: the document, or nullptr when errors() says why the set cannot become one.
    virtual Poco::JSON::Object::Ptr finish(const edi::Segment& se) = 0;
    const std::vector<MappingError>& errors() const { return errors_; }

protected:
    void error(const edi::Segment& segment, const std::string& element, const std::string& message);
    /// An error about an earlier segment of the set, by its number in the file.
    void error(std::uint64_t segment_number, const std::string& element, const std::string& message);
    /// x_edi of the document: the partner, GS06 and ST02 (by which the host names the set it refuses).
    Poco::JSON::Object::Ptr source() const;
    /// Maps unit code `code` of element `element` to the line's "uom" (nothing for the base unit), or an error.
    void readUnit(const edi::Segment& segment, const std::string& element, const std::string& code,
                  Poco::JSON::Object& line);

    const PartnerProfile& partner_;
    const std::string group_control_;
    const std::string set_control_;

private:
    std::vector<MappingError> errors_;
};

/// Reads `bytes` (one file: any number of interchanges) from `partner`: every set its role sends becomes a document or
/// errors; other sets are errors; an envelope from another sender is an error for the file. An unreadable file gives
/// no document, only the reader's error.
Translation translate(const std::string& bytes, const PartnerProfile& partner);

}  // namespace keel::edix12
