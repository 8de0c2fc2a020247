#include "keel/app/edi_partners.h"

#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/logging.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace keel::app {

namespace {

namespace fs = std::filesystem;

/// The columns of edi_partner after its key, partner, in the order fromRow() reads them and load() binds them.
const std::vector<std::string>& valueColumns() {
    static const std::vector<std::string> columns = {"isa_qualifier",
                                                     "isa_id",
                                                     "gs_id",
                                                     "our_isa_qualifier",
                                                     "our_isa_id",
                                                     "our_gs_id",
                                                     "version",
                                                     "role",
                                                     "ack",
                                                     "ack_deadline_hours",
                                                     "channel",
                                                     "customer",
                                                     "transport_inbound",
                                                     "transport_outbound",
                                                     "transport_archive",
                                                     "transport_error",
                                                     "source",
                                                     "profile",
                                                     "sha256",
                                                     "loaded_at"};
    return columns;
}

/// "partner, isa_qualifier, ...": every column, for SELECTs.
std::string selectColumns() {
    std::string list = "partner";
    for (const auto& column : valueColumns()) list += ", " + column;
    return list;
}

StoredPartner fromRow(db::Statement& s) {
    StoredPartner p;
    p.partner = s.getString(0);
    p.isa_qualifier = s.getString(1);
    p.isa_id = s.getString(2);
    p.gs_id = s.getString(3);
    p.our_isa_qualifier = s.getString(4);
    p.our_isa_id = s.getString(5);
    p.our_gs_id = s.getString(6);
    p.version = s.getString(7);
    p.role = s.getString(8);
    p.ack = s.getString(9);
    p.ack_deadline_hours = s.getInt64(10);
    p.channel = s.getString(11);
    p.customer = s.getString(12);
    p.transport_inbound = s.getString(13);
    p.transport_outbound = s.getString(14);
    p.transport_archive = s.getString(15);
    p.transport_error = s.getString(16);
    p.source = s.getString(17);
    p.text = s.getString(18);
    p.sha256 = s.getString(19);
    p.loaded_at = s.getInt64(20);
    return p;
}

StoredPartner fromProfile(const edi::PartnerProfile& profile, const std::string& text) {
    StoredPartner p;
    p.partner = profile.name;
    p.isa_qualifier = profile.isa_qualifier;
    p.isa_id = profile.isa_id;
    p.gs_id = profile.gs_id;
    p.our_isa_qualifier = profile.our_isa_qualifier;
    p.our_isa_id = profile.our_isa_id;
    p.our_gs_id = profile.our_gs_id;
    p.version = profile.version;
    p.role = profile.role == edi::PartnerRole::kThreePl ? "3pl" : "customer";
    p.ack = profile.ack;
    p.ack_deadline_hours = profile.ack_deadline_hours;
    p.channel = profile.channel;
    p.customer = profile.customer;
    p.transport_inbound = profile.transport_inbound;
    p.transport_outbound = profile.transport_outbound;
    p.transport_archive = profile.transport_archive;
    p.transport_error = profile.transport_error;
    p.source = profile.file;
    p.text = text;
    p.sha256 = sha256Hex(text);
    return p;
}

/// The first value of `row` too long for its column in edi_partner (and where Keel keeps it elsewhere: a channel and
/// a customer code have 64 characters in orders too), as "KEY = 'VALUE' ...", or empty when all fit.
std::string tooLong(const StoredPartner& row) {
    struct Field {
        const char* key;
        const std::string& value;
        std::size_t limit;
    };
    const Field fields[] = {{"gs.id", row.gs_id, 15},
                            {"our.gs.id", row.our_gs_id, 15},
                            {"version", row.version, 12},
                            {"channel", row.channel, 64},
                            {"customer", row.customer, 64},
                            {"transport.inbound", row.transport_inbound, 1000},
                            {"transport.outbound", row.transport_outbound, 1000},
                            {"transport.archive", row.transport_archive, 1000},
                            {"transport.error", row.transport_error, 1000}};
    for (const auto& f : fields) {
        if (f.value.size() > f.limit) {
            return std::string(f.key) + " = '" + f.value.substr(0, 80) + "' is longer than " + std::to_string(f.limit) +
                   " characters";
        }
    }
    return {};
}

std::string trimmed(std::string text) {
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text;
}

}  // namespace

edi::PartnerProfile StoredPartner::profile() const {
    try {
        return edi::parseProfile(partner, source + " (as loaded into the database)", text);
    } catch (const edi::ProfileError& e) {
        // Stored only after it was read without error: a newer Keel with stricter rules reads it differently.
        throw InfrastructureError(std::string(e.what()) + "; load a corrected file with keel edi partners load");
    }
}

EdiPartners::EdiPartners(db::Database& database, std::string directory)
    : database_(database), directory_(std::move(directory)) {}

std::optional<StoredPartner> EdiPartners::find(const std::string& partner) {
    std::optional<StoredPartner> found;
    database_.run([&](db::UnitOfWork& uow) {
        found.reset();
        db::Statement& s = uow.statement("SELECT " + selectColumns() + " FROM edi_partner WHERE partner = ?");
        s.bindAll(partner).execute();
        while (s.next()) found = fromRow(s);
    });
    return found;
}

PartnerLoad EdiPartners::load(const std::string& partner, const std::string& file) {
    PartnerLoad result;
    result.partner = partner;
    result.file = file;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw InfrastructureError("edi: cannot read the partner profile " + file);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw InfrastructureError("edi: cannot read the partner profile " + file);
    result.sha256 = sha256Hex(text);
    const auto stored = find(partner);
    if (stored) result.previous_sha256 = stored->sha256;
    if (stored && stored->sha256 == result.sha256) {
        result.outcome = "unchanged";
        cache_[partner] = *stored;
        return result;
    }
    edi::PartnerProfile profile;
    try {
        profile = edi::parseProfile(partner, file, text);
    } catch (const edi::ProfileError& e) {
        result.outcome = "refused";
        result.error = e.what();
        return result;
    }
    StoredPartner row = fromProfile(profile, text);
    if (const std::string problem = tooLong(row); !problem.empty()) {
        result.outcome = "refused";
        result.error = file + ": " + problem;
        return result;
    }
    row.loaded_at = Clock::system().nowMicros();
    database_.run([&](db::UnitOfWork& uow) {
        std::vector<std::string> columns = {"partner"};
        columns.insert(columns.end(), valueColumns().begin(), valueColumns().end());
        const std::string upsert = uow.dialect().upsert("edi_partner", columns, {"partner"}, valueColumns());
        uow.statement(upsert)
            .bindAll(row.partner, row.isa_qualifier, row.isa_id, row.gs_id, row.our_isa_qualifier, row.our_isa_id,
                     row.our_gs_id, row.version, row.role, row.ack, row.ack_deadline_hours, row.channel, row.customer,
                     row.transport_inbound, row.transport_outbound, row.transport_archive, row.transport_error,
                     row.source.substr(0, 1000), row.text, row.sha256, row.loaded_at)
            .execute();
    });
    result.outcome = stored ? "updated" : "added";
    logging::get("edi").information("partner profile %s %s from %s (sha256 %s)", partner, result.outcome, file,
                                    result.sha256.substr(0, 12));
    cache_[partner] = std::move(row);
    return result;
}

std::vector<PartnerLoad> EdiPartners::loadAll() {
    std::error_code ec;
    if (!fs::is_directory(directory_, ec)) {
        throw InfrastructureError("edi: the partner profiles' directory " + directory_ +
                                  " (edi.partners) is not a directory");
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(directory_, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".properties") files.push_back(entry.path());
    }
    if (ec) throw InfrastructureError("edi: cannot list " + directory_ + " (edi.partners): " + ec.message());
    std::sort(files.begin(), files.end());
    std::vector<PartnerLoad> loads;
    for (const auto& file : files) loads.push_back(load(file.stem().string(), file.string()));
    return loads;
}

StoredPartner EdiPartners::get(const std::string& partner) {
    if (const auto cached = cache_.find(partner); cached != cache_.end()) return cached->second;
    if (!edi::validPartnerName(partner)) {
        throw NotFoundError("edi: '" + partner +
                            "' cannot name a partner (1 to 64 letters, digits, '-', '_' or '.': its profile's name)");
    }
    const fs::path file = fs::path(directory_) / (partner + ".properties");
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
        const PartnerLoad loaded = load(partner, file.string());
        if (loaded.outcome == "refused") {
            throw InfrastructureError(loaded.error +
                                      (loaded.previous_sha256.empty()
                                           ? std::string()
                                           : " (the database keeps the profile loaded before; fix the file)"));
        }
        return cache_.at(partner);
    }
    const auto stored = find(partner);
    if (!stored) {
        throw NotFoundError("edi: partner '" + partner + "' has no profile: no " + file.string() +
                            " (edi.partners) and none loaded into the database (keel edi partners load)");
    }
    cache_[partner] = *stored;
    return *stored;
}

std::vector<StoredPartner> EdiPartners::list() {
    std::vector<StoredPartner> rows;
    database_.run([&](db::UnitOfWork& uow) {
        rows.clear();
        db::Statement& s = uow.statement("SELECT " + selectColumns() + " FROM edi_partner ORDER BY partner");
        s.execute();
        while (s.next()) rows.push_back(fromRow(s));
    });
    return rows;
}

std::vector<std::string> EdiPartners::bySender(const std::string& qualifier, const std::string& id,
                                               const std::string& receiver_qualifier, const std::string& receiver_id) {
    std::vector<std::string> found;
    database_.run([&](db::UnitOfWork& uow) {
        found.clear();
        db::Statement& s = uow.statement(
            "SELECT partner FROM edi_partner WHERE isa_qualifier = ? AND isa_id = ? AND our_isa_qualifier = ? AND "
            "our_isa_id = ? ORDER BY partner");
        s.bindAll(trimmed(qualifier), trimmed(id), trimmed(receiver_qualifier), trimmed(receiver_id)).execute();
        while (s.next()) found.push_back(s.getString(0));
    });
    return found;
}

}  // namespace keel::app
