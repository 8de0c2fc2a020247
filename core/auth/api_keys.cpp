#include "keel/auth/api_keys.h"

#include "keel/events/outbox.h"
#include "keel/kernel/hash.h"

namespace keel::auth {

namespace {

constexpr std::size_t kPrefixBytes = 6;   // 12 hex digits: finds the key
constexpr std::size_t kSecretBytes = 32;  // 64 hex digits: 256 bits that prove it
constexpr std::int64_t kUseRecordMicros = 60'000'000;

const char* kColumns = "id, name, role, prefix, created_at, created_by, revoked_at, last_used_at";

ApiKey readKey(db::Statement& s) {
    ApiKey k;
    k.id = s.getString(0);
    k.name = s.getString(1);
    k.role = roleFromName(s.getString(2)).value_or(Role::kReadOnly);
    k.prefix = s.getString(3);
    k.created_at = s.getInt64(4);
    k.created_by = s.getString(5);
    k.revoked_at = s.getOptionalInt64(6);
    k.last_used_at = s.getOptionalInt64(7);
    return k;
}

bool isHex(std::string_view text) {
    return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

std::string_view toString(Role role) {
    switch (role) {
        case Role::kAdmin:
            return "admin";
        case Role::kOperations:
            return "operations";
        case Role::kFinance:
            return "finance";
        case Role::kIntegration:
            return "integration";
        case Role::kReadOnly:
            return "read-only";
    }
    return "read-only";
}

const std::vector<Role>& allRoles() {
    static const std::vector<Role> roles = {Role::kAdmin, Role::kOperations, Role::kFinance, Role::kIntegration,
                                            Role::kReadOnly};
    return roles;
}

std::optional<Role> roleFromName(std::string_view name) {
    for (const Role role : allRoles()) {
        if (toString(role) == name) return role;
    }
    return std::nullopt;
}

Result<CreatedKey> ApiKeys::create(db::UnitOfWork& uow, const std::string& name, Role role, const std::string& actor) {
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") != std::string::npos) {
        return uow.fail(ExitCode::kRejected,
                        "API key name '" + name + "' must be 1 to 64 of a-z, 0-9, '.', '_' and '-'", "name");
    }
    db::Statement& existing = uow.statement("SELECT id FROM api_key WHERE name = ?");
    existing.bindAll(name).execute();
    bool taken = false;
    while (existing.next()) taken = true;
    if (taken) {
        return uow.fail(ExitCode::kConflict,
                        "an API key named '" + name + "' exists (revoked keys keep their names): choose another name",
                        "name");
    }
    CreatedKey created;
    created.key.id = ids_.next();
    created.key.name = name;
    created.key.role = role;
    created.key.prefix = randomHex(kPrefixBytes);
    created.key.created_at = clock_.nowMicros();
    created.key.created_by = actor.substr(0, 64);
    created.token = "keel_" + created.key.prefix + "_" + randomHex(kSecretBytes);
    uow.statement(
           "INSERT INTO api_key (id, name, role, prefix, secret_hash, created_at, created_by) "
           "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bindAll(created.key.id, name, std::string(toString(role)), created.key.prefix, sha256Hex(created.token),
                 created.key.created_at, created.key.created_by)
        .execute();
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{"apikey.created", "api_key", created.key.id,
                                   events::Payload()
                                       .add("name", name)
                                       .add("role", std::string(toString(role)))
                                       .add("prefix", created.key.prefix)
                                       .str(),
                                   actor});
    return created;
}

std::vector<ApiKey> ApiKeys::list(db::UnitOfWork& uow) {
    db::Statement& s = uow.statement(std::string("SELECT ") + kColumns + " FROM api_key ORDER BY name");
    s.execute();
    std::vector<ApiKey> out;
    while (s.next()) out.push_back(readKey(s));
    return out;
}

Result<ApiKey> ApiKeys::revoke(db::UnitOfWork& uow, const std::string& name, const std::string& actor) {
    db::Statement& s = uow.statement(std::string("SELECT ") + kColumns + " FROM api_key WHERE name = ?");
    s.bindAll(name).execute();
    std::optional<ApiKey> key;
    while (s.next()) key = readKey(s);
    if (!key) return uow.fail(ExitCode::kNotFound, "no API key named '" + name + "'", "name");
    if (key->revoked_at) return uow.fail(ExitCode::kConflict, "API key '" + name + "' is already revoked", "name");
    const std::int64_t now = clock_.nowMicros();
    uow.statement("UPDATE api_key SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL")
        .bindAll(now, actor.substr(0, 64), key->id)
        .execute();
    key->revoked_at = now;
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{"apikey.revoked", "api_key", key->id,
                                   events::Payload().add("name", name).add("prefix", key->prefix).str(), actor});
    return *key;
}

std::optional<ApiKey> ApiKeys::verify(db::UnitOfWork& uow, std::string_view token) {
    // keel_ + 12 + _ + 64: anything else is not a key, and is refused before the database is asked.
    if (token.size() != 5 + 2 * kPrefixBytes + 1 + 2 * kSecretBytes || token.substr(0, 5) != "keel_" ||
        token[5 + 2 * kPrefixBytes] != '_') {
        return std::nullopt;
    }
    const std::string_view prefix = token.substr(5, 2 * kPrefixBytes);
    if (!isHex(prefix) || !isHex(token.substr(5 + 2 * kPrefixBytes + 1))) return std::nullopt;
    db::Statement& s = uow.statement(std::string("SELECT ") + kColumns + ", secret_hash FROM api_key WHERE prefix = ?");
    s.bindAll(std::string(prefix)).execute();
    std::optional<ApiKey> key;
    std::string stored_hash;
    while (s.next()) {
        key = readKey(s);
        stored_hash = s.getString(8);
    }
    if (!key || !constantTimeEquals(sha256Hex(token), stored_hash) || key->revoked_at) return std::nullopt;
    return key;
}

bool ApiKeys::useIsDue(const ApiKey& key) const {
    return !key.last_used_at || clock_.nowMicros() - *key.last_used_at >= kUseRecordMicros;
}

void ApiKeys::recordUse(db::UnitOfWork& uow, ApiKey& key) {
    const std::int64_t now = clock_.nowMicros();
    uow.statement("UPDATE api_key SET last_used_at = ? WHERE id = ?").bindAll(now, key.id).execute();
    key.last_used_at = now;
}

std::optional<ApiKey> ApiKeys::authenticate(db::UnitOfWork& uow, std::string_view token) {
    auto key = verify(uow, token);
    if (key && useIsDue(*key)) recordUse(uow, *key);
    return key;
}

}  // namespace keel::auth
