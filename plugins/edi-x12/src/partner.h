// A trading partner's profile (config/partners/NAME.properties, docs/edi.md): who the partner is in the envelopes,
// which channel and customer its orders belong to, how its item identifiers and units map to Keel's.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::edix12 {

/// A profile that cannot be used; the message names the file and the key.
class ProfileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct PartnerProfile {
    std::string name;           ///< the file's stem; `--partner NAME`
    std::string file;           ///< where it was read from
    std::string isa_qualifier;  ///< ISA05 of what the partner sends (ISA07 of what Keel sends)
    std::string isa_id;         ///< ISA06, trimmed
    std::string gs_id;          ///< GS02 of what the partner sends
    std::string our_isa_qualifier;
    std::string our_isa_id;
    std::string our_gs_id;
    std::string version = "004010";  ///< GS08 Keel sends
    std::string channel;             ///< the orders' channel; default edi.NAME
    std::string customer;            ///< the partner's account code (customer.id of its orders)
    std::string currency = "USD";    ///< when an 850 has no CUR segment
    /// PO1 product id qualifiers (PO106, PO108, ...) in order of preference; the first one present names the item.
    std::vector<std::string> item_qualifiers{"BP", "VP", "VN", "UP", "UK", "EN", "SK"};
    /// PO103 unit codes → Keel units ("" = the item's base unit). Absent codes are refused.
    std::map<std::string, std::string> units{{"EA", ""}};
    /// The payment status of its orders: trading partners buy on terms, so "authorized" (the default) lets them
    /// allocate; "pending" holds every PO for a person to release.
    std::string payment = "authorized";
    std::string ack = "997";      ///< 997 | 999 | none
    int ack_deadline_hours = 24;  ///< an outbound group without its 997/999 after this long raises an exception
};

/// Reads one profile file.
PartnerProfile loadProfile(const std::string& file);

/// Every *.properties file of `directory`, by name; a bad file is an error (a partner half-configured would take
/// orders for the wrong customer).
std::map<std::string, PartnerProfile> loadProfiles(const std::string& directory);

}  // namespace keel::edix12
