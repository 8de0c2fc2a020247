// Inbound 850 purchase orders → Keel's canonical order documents (docs/order.schema.json), for one partner.
#pragma once

#include "keel/edi/partner_profile.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>
#include <vector>

namespace keel::edix12 {

using edi::PartnerProfile;

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
    std::vector<Poco::JSON::Object::Ptr> documents;  ///< one order per accepted 850
    std::vector<ReceivedAck> acks;                   ///< the partner's 997/999 of what Keel sent
    std::vector<MappingError> errors;
    std::uint64_t sets = 0;  ///< transaction sets seen (any type)
};

/// Reads `bytes` (one file: any number of interchanges) and maps every 850 from `partner`. Sets of other types are
/// reported as errors (this translator reads 850s); an envelope from another sender is an error for the file.
Translation translate850(const std::string& bytes, const PartnerProfile& partner);

}  // namespace keel::edix12
