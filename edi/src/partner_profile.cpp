#include "keel/edi/partner_profile.h"

#include <Poco/AutoPtr.h>
#include <Poco/Exception.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::edi {

namespace {

namespace fs = std::filesystem;

std::string trim(std::string text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    std::string part;
    while (std::getline(in, part, ',')) {
        part = trim(part);
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

bool isCode(const std::string& text, std::size_t min, std::size_t max) {
    return text.size() >= min && text.size() <= max &&
           std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isalnum(c) || c == ' '; });
}

}  // namespace

bool validPartnerName(const std::string& name) {
    return !name.empty() && name.size() <= 64 && name.front() != '.' &&
           std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

PartnerProfile loadProfile(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw ProfileError(file + ": cannot read the partner profile");
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw ProfileError(file + ": cannot read the partner profile");
    return parseProfile(fs::path(file).stem().string(), file, text);
}

PartnerProfile parseProfile(const std::string& name, const std::string& file, const std::string& text) {
    if (!validPartnerName(name)) {
        throw ProfileError(file + ": '" + name +
                           "' cannot name a partner: 1 to 64 letters, digits, '-', '_' or '.' (the file's name)");
    }
    Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config;
    try {
        std::istringstream in(text);
        config = new Poco::Util::PropertyFileConfiguration(in);
    } catch (const Poco::Exception& e) {
        throw ProfileError(file + ": cannot read the partner profile: " + e.displayText());
    }
    PartnerProfile profile;
    profile.file = file;
    profile.name = name;
    const auto required = [&](const std::string& key, std::size_t min, std::size_t max) {
        const std::string value = trim(config->getString(key, ""));
        if (value.empty()) throw ProfileError(file + ": " + key + " is required");
        if (!isCode(value, min, max)) {
            throw ProfileError(file + ": " + key + " = '" + value + "' must be " + std::to_string(min) + " to " +
                               std::to_string(max) + " letters, digits or spaces");
        }
        return value;
    };
    profile.isa_qualifier = required("isa.qualifier", 2, 2);
    profile.isa_id = required("isa.id", 1, 15);
    profile.gs_id = trim(config->getString("gs.id", profile.isa_id));
    profile.our_isa_qualifier = required("our.isa.qualifier", 2, 2);
    profile.our_isa_id = required("our.isa.id", 1, 15);
    profile.our_gs_id = trim(config->getString("our.gs.id", profile.our_isa_id));
    profile.version = trim(config->getString("version", profile.version));
    if (profile.version != "004010" && profile.version != "005010" && profile.version.rfind("004010", 0) != 0 &&
        profile.version.rfind("005010", 0) != 0) {
        throw ProfileError(file + ": version = '" + profile.version + "': Keel speaks 004010 and 005010");
    }
    profile.channel = trim(config->getString("channel", "edi." + profile.name));
    const std::string role = trim(config->getString("role", "customer"));
    if (role == "3pl") {
        profile.role = PartnerRole::kThreePl;
    } else if (role != "customer") {
        throw ProfileError(file + ": role = '" + role + "': use customer (sends orders) or 3pl (runs Keel locations)");
    }
    profile.customer = trim(config->getString("customer", ""));
    profile.locations = splitList(config->getString("locations", ""));
    Poco::Util::AbstractConfiguration::Keys warehouses;
    config->keys("warehouse", warehouses);
    for (const auto& id : warehouses) profile.warehouses[id] = trim(config->getString("warehouse." + id));
    if (profile.role == PartnerRole::kCustomer) {
        if (profile.customer.empty()) {
            throw ProfileError(file + ": customer is required (the partner's account code in Keel)");
        }
        if (!profile.locations.empty() || !profile.warehouses.empty()) {
            throw ProfileError(file + ": locations and warehouse.* are for a 3PL's profile (role = 3pl)");
        }
    } else {
        // A 3PL's 945s ship and its 944s receive stock at these locations: without them nothing can be matched.
        if (profile.locations.empty()) {
            throw ProfileError(file +
                               ": locations is required for role = 3pl (the codes of the Keel locations it runs)");
        }
        for (const auto& [id, code] : profile.warehouses) {
            if (std::find(profile.locations.begin(), profile.locations.end(), code) == profile.locations.end()) {
                throw ProfileError(file + ": warehouse." + id + " = '" + code + "' is not one of locations");
            }
        }
    }
    profile.currency = trim(config->getString("currency", profile.currency));
    if (profile.currency.size() != 3)
        throw ProfileError(file + ": currency = '" + profile.currency + "': an ISO 4217 code");
    if (config->hasProperty("items")) {
        profile.item_qualifiers = splitList(config->getString("items"));
        if (profile.item_qualifiers.empty())
            throw ProfileError(file + ": items: name at least one qualifier (BP, UP, VP)");
    }
    Poco::Util::AbstractConfiguration::Keys units;
    config->keys("uom", units);
    for (const auto& code : units) {
        profile.units[code] = trim(config->getString("uom." + code));
    }
    profile.payment = trim(config->getString("payment", profile.payment));
    if (profile.payment != "authorized" && profile.payment != "pending") {
        throw ProfileError(file + ": payment = '" + profile.payment + "': use authorized (terms) or pending");
    }
    profile.ack = trim(config->getString("ack", profile.ack));
    if (profile.ack != "997" && profile.ack != "999" && profile.ack != "none") {
        throw ProfileError(file + ": ack = '" + profile.ack + "': use 997, 999 or none");
    }
    try {
        profile.ack_deadline_hours = config->getInt("ack.deadline_hours", profile.ack_deadline_hours);
    } catch (const Poco::Exception&) {
        throw ProfileError(file + ": ack.deadline_hours: a whole number of hours");
    }
    if (profile.ack_deadline_hours < 1) throw ProfileError(file + ": ack.deadline_hours must be at least 1");
    profile.po_ack_change_purpose = trim(config->getString("po_ack.change_purpose", profile.po_ack_change_purpose));
    if (profile.po_ack_change_purpose != "19" && profile.po_ack_change_purpose != "04" &&
        profile.po_ack_change_purpose != "05" && profile.po_ack_change_purpose != "06") {
        throw ProfileError(file + ": po_ack.change_purpose = '" + profile.po_ack_change_purpose +
                           "': use 19 (seller initiated change), 04 (change), 05 (replace) or 06 (confirmation)");
    }
    profile.transport_inbound = trim(config->getString("transport.inbound", ""));
    profile.transport_outbound = trim(config->getString("transport.outbound", ""));
    profile.transport_archive = trim(config->getString("transport.archive", ""));
    profile.transport_error = trim(config->getString("transport.error", ""));
    try {
        profile.transport_settle_ms = config->getInt64("transport.settle_ms", 0);
    } catch (const Poco::Exception&) {
        throw ProfileError(file + ": transport.settle_ms: milliseconds");
    }
    if (profile.transport_settle_ms < 0) throw ProfileError(file + ": transport.settle_ms: milliseconds");
    return profile;
}

std::string locationOf(const PartnerProfile& partner, const std::string& warehouse_id) {
    if (warehouse_id.empty()) return partner.locations.size() == 1 ? partner.locations.front() : std::string();
    const auto mapped = partner.warehouses.find(warehouse_id);
    if (mapped != partner.warehouses.end()) return mapped->second;
    const bool own =
        std::find(partner.locations.begin(), partner.locations.end(), warehouse_id) != partner.locations.end();
    return own ? warehouse_id : std::string();
}

std::string warehouseIdOf(const PartnerProfile& partner, const std::string& location_code) {
    for (const auto& [id, code] : partner.warehouses) {
        if (code == location_code) return id;
    }
    return location_code;
}

std::map<std::string, PartnerProfile> loadProfiles(const std::string& directory) {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) throw ProfileError("partners: " + directory + " is not a directory");
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(directory, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".properties") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::map<std::string, PartnerProfile> profiles;
    for (const auto& file : files) {
        PartnerProfile profile = loadProfile(file.string());
        profiles.emplace(profile.name, std::move(profile));
    }
    return profiles;
}

}  // namespace keel::edi
