#pragma once
// Trading-partner profiles in the database (edi_partner, docs/edi.md "Partners in the database"): the profile files
// of edi.partners (PARTNER.properties) are loaded into it, and the rows are what Keel works from: listings, finding
// the partner of an interchange by its sender ids, the file drop and acknowledgment deadlines, and the copy of the
// profile the EDI plugin gets with each request, so a keeld node without the files exchanges like one with them.

#include "keel/db/database.h"
#include "keel/edi/partner_profile.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keel::app {

/// A partner profile as the database holds it: the file's text and hash, and the values used in queries.
struct StoredPartner {
    std::string partner;
    std::string isa_qualifier;
    std::string isa_id;
    std::string gs_id;
    std::string our_isa_qualifier;
    std::string our_isa_id;
    std::string our_gs_id;
    std::string version;
    std::string role;  ///< customer | 3pl
    std::string ack;
    std::int64_t ack_deadline_hours = 24;
    std::string channel;
    std::string customer;
    std::string transport_inbound;
    std::string transport_outbound;
    std::string transport_archive;
    std::string transport_error;
    std::string source;  ///< the file it was loaded from
    std::string text;    ///< the file's full text
    std::string sha256;  ///< of text
    std::int64_t loaded_at = 0;

    /// The profile read again from the stored text (it was valid when stored).
    edi::PartnerProfile profile() const;
};

/// What loading one profile file did.
struct PartnerLoad {
    std::string partner;
    std::string file;
    std::string outcome;          ///< added | updated | unchanged | refused
    std::string error;            ///< why it was refused: the file and the key
    std::string sha256;           ///< of the file
    std::string previous_sha256;  ///< of the row it replaced (updated), or kept (refused)
};

class EdiPartners {
public:
    /// `directory`: edi.partners, where the PARTNER.properties files are (it may be absent on a node without them).
    EdiPartners(db::Database& database, std::string directory);

    /// Loads every *.properties file of the directory: a new file adds its row, a changed one (another SHA-256)
    /// replaces it, a malformed one is refused with the file and the key named and its row, if any, kept. Rows of
    /// files that are not in the directory stay (other nodes may have them). Throws InfrastructureError when the
    /// directory cannot be read.
    std::vector<PartnerLoad> loadAll();

    /// The partner's profile: its file is loaded first when the directory has one (a change replaces the row),
    /// then the row is read. Throws NotFoundError when there is neither a file nor a row, InfrastructureError naming
    /// the file and key when the file is malformed (the row stays as it was).
    StoredPartner get(const std::string& partner);

    /// The row as stored, without looking at the file.
    std::optional<StoredPartner> find(const std::string& partner);

    /// Every row, by name.
    std::vector<StoredPartner> list();

    /// The partners whose profiles say they send as `qualifier`/`id` (ISA05/ISA06, blanks trimmed) to
    /// `receiver_qualifier`/`receiver_id` (ISA07/ISA08; rows of another receiver are left out), by name.
    std::vector<std::string> bySender(const std::string& qualifier, const std::string& id,
                                      const std::string& receiver_qualifier, const std::string& receiver_id);

    const std::string& directory() const { return directory_; }

private:
    PartnerLoad load(const std::string& partner, const std::string& file);

    db::Database& database_;
    std::string directory_;
    std::map<std::string, StoredPartner> cache_;  ///< rows read or loaded by this object (it lives for one command)
};

}  // namespace keel::app
