// A trading partner's profile (config/partners/NAME.properties, docs/edi.md): who the partner is in the envelopes,
// what it is to Keel (a customer that sends orders, or a 3PL that runs Keel locations), which channel and customer its
// orders belong to, how its item identifiers, units and warehouses map to Keel's, and its file-drop folders. One reader
// for the EDI plugins and for Keel's host, which keeps the profiles in its database (edi_partner).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::edi {

/// A profile that cannot be used; the message names the file and the key.
class ProfileError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// What a partner is to Keel, which decides the transaction sets it exchanges.
enum class PartnerRole {
    kCustomer,  ///< sends 850s, receives 855/856/810/846 (the default)
    kThreePl,   ///< runs Keel locations: receives 940s, sends 945s and 944s (role = 3pl)
};

struct PartnerProfile {
    std::string name;           ///< the file's stem; `--partner NAME`
    std::string file;           ///< where it was read from (a file, or the database row it was stored in)
    std::string isa_qualifier;  ///< ISA05 of what the partner sends (ISA07 of what Keel sends)
    std::string isa_id;         ///< ISA06, trimmed
    std::string gs_id;          ///< GS02 of what the partner sends
    std::string our_isa_qualifier;
    std::string our_isa_id;
    std::string our_gs_id;
    std::string version = "004010";  ///< GS08 Keel sends
    PartnerRole role = PartnerRole::kCustomer;
    /// The channel of the partner's orders, and of the aliases that map its item ids to SKUs; default edi.NAME.
    std::string channel;
    std::string customer;  ///< the partner's account code (customer.id of its orders); role customer only
    /// Codes of the Keel locations (of type 3pl) the partner runs; role 3pl only, at least one.
    std::vector<std::string> locations;
    /// The partner's ids of its warehouses (N1*WH N104) → Keel location codes (warehouse.ID = CODE); an N104 that is
    /// itself one of `locations` needs no entry.
    std::map<std::string, std::string> warehouses;
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
    /// BAK01 of an 855 that reports a change after the first one (353: 19 seller initiated change; 04 change, 05
    /// replace or 06 confirmation where the partner's guide asks for it).
    std::string po_ack_change_purpose = "19";
    /// The file drop (transport.*): empty when the partner does not use one.
    std::string transport_inbound;
    std::string transport_outbound;
    std::string transport_archive;
    std::string transport_error;
    std::int64_t transport_settle_ms = 0;  ///< also wait until a file is unchanged this long
};

/// The Keel location a warehouse id of the partner (N104 of its N1*WH) names: through `warehouses`, or the id itself
/// when it is one of `locations`; empty when it names none. An empty id names the partner's only location, if it has
/// exactly one.
std::string locationOf(const PartnerProfile& partner, const std::string& warehouse_id);
/// The partner's id of a Keel location (the reverse of `warehouses`; the code itself without an entry).
std::string warehouseIdOf(const PartnerProfile& partner, const std::string& location_code);

/// Reads one profile file.
PartnerProfile loadProfile(const std::string& file);

/// Reads a profile from its text: `name` is the partner, `file` names where the text came from in errors (the file,
/// or the database row a host stored it in). Throws ProfileError naming it and the key.
PartnerProfile parseProfile(const std::string& name, const std::string& file, const std::string& text);

/// Whether `name` can name a partner (a file stem): 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'.
bool validPartnerName(const std::string& name);

/// Every *.properties file of `directory`, by name; a bad file is an error (a partner half-configured would take
/// orders for the wrong customer).
std::map<std::string, PartnerProfile> loadProfiles(const std::string& directory);

}  // namespace keel::edi
