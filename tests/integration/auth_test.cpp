// API keys on every backend: created with a role and shown once, stored only as a hash, found by prefix,
// refused when malformed, wrong or revoked, and their use recorded; and the keel apikey commands.
#define BOOST_TEST_MODULE integration_auth
#include <boost/test/unit_test.hpp>

#include "test_database.h"

#include "keel/auth/api_keys.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"
#include "keel/kernel/hash.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>
#include <tuple>

using namespace keel;

namespace {

struct Fixture {
    test::TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{1'800'000'000'000'000};
    auth::ApiKeys keys{clock};
    Fixture() { db::Migrator(db).migrate(); }

    auth::CreatedKey create(const std::string& name, auth::Role role) {
        auto created = db.run([&](db::UnitOfWork& uow) { return keys.create(uow, name, role, "ops-lead"); });
        BOOST_TEST_REQUIRE(created.ok(), (created.ok() ? "" : created.problem().message));
        return created.value();
    }
    std::optional<auth::ApiKey> authenticate(const std::string& token) {
        return db.run([&](db::UnitOfWork& uow) { return keys.authenticate(uow, token); });
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_keys, Fixture)

BOOST_AUTO_TEST_CASE(a_key_is_shown_once_stored_as_a_hash_and_authenticates_its_role) {
    const auto created = create("shop-sync", auth::Role::kIntegration);
    BOOST_TEST(created.token.size() == 5u + 12 + 1 + 64);
    BOOST_TEST(created.token.rfind("keel_" + created.key.prefix + "_", 0) == 0u);
    // Only the hash is in the database: the token appears in no column.
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT secret_hash, prefix, role FROM api_key WHERE name = 'shop-sync'");
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        BOOST_TEST(s.getString(0) == sha256Hex(created.token));
        BOOST_TEST(created.token.find(s.getString(0)) == std::string::npos);
        BOOST_TEST(s.getString(2) == "integration");
    });
    const auto found = authenticate(created.token);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->name == "shop-sync");
    BOOST_TEST((found->role == auth::Role::kIntegration));
    BOOST_TEST(found->last_used_at.value_or(0) == clock.nowMicros());
    // Each key its own secret: a second key of the same role differs in prefix and secret.
    const auto other = create("shop-sync-2", auth::Role::kIntegration);
    BOOST_TEST(other.token != created.token);
    BOOST_TEST(other.key.prefix != created.key.prefix);
}

BOOST_AUTO_TEST_CASE(wrong_malformed_and_revoked_keys_are_refused) {
    const auto created = create("finance-bot", auth::Role::kFinance);
    std::string wrong = created.token;
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    BOOST_TEST(!authenticate(wrong));
    BOOST_TEST(!authenticate(""));
    BOOST_TEST(!authenticate("Bearer " + created.token));
    BOOST_TEST(!authenticate(created.token.substr(0, created.token.size() - 1)));
    BOOST_TEST(!authenticate("keel_" + std::string(12, 'z') + "_" + std::string(64, '0')));
    BOOST_TEST(!authenticate("keel_000000000000_" + std::string(64, '0')));  // well formed, unknown
    BOOST_TEST(authenticate(created.token).has_value());

    auto revoked = db.run([&](db::UnitOfWork& uow) { return keys.revoke(uow, "finance-bot", "admin"); });
    BOOST_TEST_REQUIRE(revoked.ok());
    BOOST_TEST(!authenticate(created.token));
    auto again = db.run([&](db::UnitOfWork& uow) { return keys.revoke(uow, "finance-bot", "admin"); });
    BOOST_TEST_REQUIRE(!again.ok());
    BOOST_TEST((again.problem().code == ExitCode::kConflict));
    auto unknown = db.run([&](db::UnitOfWork& uow) { return keys.revoke(uow, "nobody", "admin"); });
    BOOST_TEST_REQUIRE(!unknown.ok());
    BOOST_TEST((unknown.problem().code == ExitCode::kNotFound));
}

BOOST_AUTO_TEST_CASE(names_are_checked_and_unique_even_after_revocation) {
    create("ops", auth::Role::kOperations);
    auto duplicate = db.run([&](db::UnitOfWork& uow) { return keys.create(uow, "ops", auth::Role::kAdmin, "x"); });
    BOOST_TEST_REQUIRE(!duplicate.ok());
    BOOST_TEST((duplicate.problem().code == ExitCode::kConflict));
    auto bad = db.run([&](db::UnitOfWork& uow) { return keys.create(uow, "Ops Lead", auth::Role::kAdmin, "x"); });
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST((bad.problem().code == ExitCode::kRejected));
    BOOST_TEST(bad.problem().message.find("'Ops Lead'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(use_is_recorded_at_most_once_a_minute) {
    const auto created = create("dash", auth::Role::kReadOnly);
    const std::int64_t first = clock.nowMicros();
    BOOST_TEST(authenticate(created.token)->last_used_at.value_or(0) == first);
    clock.advance(30'000'000);
    BOOST_TEST(authenticate(created.token)->last_used_at.value_or(0) == first);  // no write for every request
    clock.advance(31'000'000);
    BOOST_TEST(authenticate(created.token)->last_used_at.value_or(0) == clock.nowMicros());
}

BOOST_AUTO_TEST_CASE(the_apikey_commands) {
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", test.connectionString()});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return std::tuple{code, out.str(), err.str()};
    };
    auto [code, out, err] = keel({"--json", "apikey", "create", "--role", "operations", "--name", "wms"});
    BOOST_TEST_REQUIRE(code == 0, err);
    const auto created = Poco::JSON::Parser().parse(out).extract<Poco::JSON::Object::Ptr>();
    const std::string token = created->getValue<std::string>("key");
    BOOST_TEST(created->getValue<std::string>("role") == "operations");
    BOOST_TEST(authenticate(token).has_value());

    std::tie(code, out, err) = keel({"apikey", "list"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("wms") != std::string::npos, out);
    BOOST_TEST(out.find(token) == std::string::npos, "a listing never shows a key");

    std::tie(code, out, err) = keel({"apikey", "create", "--role", "superuser"});
    BOOST_TEST(code == 1);
    BOOST_TEST(err.find("admin, operations, finance, integration, read-only") != std::string::npos, err);
    std::tie(code, out, err) = keel({"apikey", "create", "--role", "operations", "--name", "wms"});
    BOOST_TEST(code == 4, err);

    std::tie(code, out, err) = keel({"apikey", "revoke", "wms"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(!authenticate(token));
    std::tie(code, out, err) = keel({"apikey", "revoke", "nobody"});
    BOOST_TEST(code == 3);
}

BOOST_AUTO_TEST_SUITE_END()
