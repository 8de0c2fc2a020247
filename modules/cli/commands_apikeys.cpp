// keel apikey ...: the keys keeld's REST API accepts, each with a role; the key is printed once, at creation.
#include "commands_apikeys.h"

#include "services.h"

#include "keel/auth/api_keys.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/hash.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <iomanip>
#include <ostream>

namespace keel::cli {

namespace {

std::string roleList() {
    std::string out;
    for (const auto role : auth::allRoles()) out += (out.empty() ? "" : ", ") + std::string(auth::toString(role));
    return out;
}

Poco::JSON::Object keyJson(const auth::ApiKey& k) {
    Poco::JSON::Object j;
    j.set("name", k.name);
    j.set("role", std::string(auth::toString(k.role)));
    j.set("prefix", k.prefix);
    j.set("created_at", formatIso8601(k.created_at));
    j.set("created_by", k.created_by);
    j.set("revoked_at", k.revoked_at ? formatIso8601(*k.revoked_at) : std::string());
    j.set("last_used_at", k.last_used_at ? formatIso8601(*k.last_used_at) : std::string());
    return j;
}

int createCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "apikey create", {"role", "name"});
    args.expectPositional(0, 0, "--role ROLE [--name NAME]");
    const std::string role_name = args.required("role");
    const auto role = auth::roleFromName(role_name);
    if (!role) throw UsageError("--role '" + role_name + "' is not a role: " + roleList());
    // Without a name: the role and a short random suffix, so keys of one role stay apart in listings and logs.
    const std::string name = args.value("name").value_or(role_name + "-" + randomHex(3));
    auth::ApiKeys keys;
    auto created =
        context.database().run([&](db::UnitOfWork& uow) { return keys.create(uow, name, *role, actor().name); });
    if (!created) created.problem().raise();
    const auto& c = created.value();
    if (context.json()) {
        Poco::JSON::Object j = keyJson(c.key);
        j.set("key", c.token);
        context.writeJson(j);
    } else {
        context.out() << "API key " << c.key.name << " (" << auth::toString(c.key.role) << "):\n\n  " << c.token
                      << "\n\nStore it now: Keel keeps only its hash and cannot show it again. Send it as\n"
                      << "  Authorization: Bearer " << c.token.substr(0, 18) << "...\n";
    }
    return 0;
}

int listCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "apikey list", {});
    args.expectPositional(0, 0, "");
    auth::ApiKeys keys;
    const auto all = context.database().run([&](db::UnitOfWork& uow) { return keys.list(uow); });
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& k : all) list.add(keyJson(k));
        Poco::JSON::Object o;
        o.set("keys", list);
        context.writeJson(o);
        return 0;
    }
    if (all.empty()) context.out() << "no API keys (keel apikey create --role ROLE)\n";
    for (const auto& k : all) {
        context.out() << std::left << std::setw(24) << k.name << std::setw(12) << auth::toString(k.role) << "keel_"
                      << k.prefix << "_...  created " << formatIso8601(k.created_at) << " by " << k.created_by
                      << (k.revoked_at ? "  REVOKED " + formatIso8601(*k.revoked_at) : "")
                      << (k.last_used_at ? "  last used " + formatIso8601(*k.last_used_at) : "") << "\n";
    }
    return 0;
}

int revokeCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "apikey revoke", {});
    args.expectPositional(1, 1, "NAME");
    auth::ApiKeys keys;
    auto revoked = context.database().run(
        [&](db::UnitOfWork& uow) { return keys.revoke(uow, args.positional()[0], actor().name); });
    if (!revoked) revoked.problem().raise();
    if (context.json()) {
        context.writeJson(keyJson(revoked.value()));
    } else {
        context.out() << "API key " << revoked.value().name << " revoked: requests with it are refused from now on\n";
    }
    return 0;
}

}  // namespace

void addApiKeyCommands(std::vector<Command>& table) {
    table.push_back({{"apikey", "create"},
                     "--role ROLE [--name NAME]",
                     "create a key for keeld's REST API; the key is printed once",
                     "Roles: admin, operations, finance, integration, read-only. Keel stores only the key's SHA-256:\n"
                     "a lost key is revoked and replaced. NAME defaults to the role and a random suffix.",
                     createCommand});
    table.push_back({{"apikey", "list"},
                     "",
                     "list the API keys (name, role, prefix, created, revoked, last used)",
                     "",
                     listCommand});
    table.push_back({{"apikey", "revoke"},
                     "NAME",
                     "revoke an API key: requests with it are refused from then on",
                     "A revoked key keeps its name and history.",
                     revokeCommand});
}

}  // namespace keel::cli
