#define BOOST_TEST_MODULE binaries
#include <boost/test/unit_test.hpp>

#include "http_recorder.h"
#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

#include "keel/kernel/hash.h"

#include "keel/db/connection.h"

#include <Poco/File.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>

#include <fstream>
#include <iterator>

using namespace keel;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// An edi-x12 instance (plugins.d) and partner acme with its file-drop folders, under `dir`.
void partnerFileDrop(const std::string& dir) {
    for (const char* d : {"plugins.d", "partners", "in", "out", "archive", "error"}) {
        Poco::File(dir + "/" + d).createDirectories();
    }
    std::ofstream(dir + "/plugins.d/edi.properties") << "plugin = edi-x12\npartners = " << dir << "/partners\n";
    std::ofstream(dir + "/partners/acme.properties")
        << "isa.qualifier = ZZ\nisa.id = ACMEBUYER\nour.isa.qualifier = ZZ\nour.isa.id = KEELSELLER\ncustomer = ACME\n"
        << "items = VN\ntransport.inbound = " << dir << "/in\ntransport.outbound = " << dir
        << "/out\ntransport.archive = " << dir << "/archive\ntransport.error = " << dir << "/error\n";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keel_cli)

BOOST_AUTO_TEST_CASE(version_and_exit_codes) {
    auto r = test::runCommand(test::binary("cli/keel"), {"version"});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(contains(r.out, "keel "));
    r = test::runCommand(test::binary("cli/keel"), {"no-such-command"});
    BOOST_TEST(r.exit_code == 1);
    BOOST_TEST(contains(r.err, "unknown command"));
    r = test::runCommand(test::binary("cli/keel"), {"--db", "sqlite:/nonexistent/dir/k.db", "db", "status"});
    BOOST_TEST(r.exit_code == 5);
}

BOOST_AUTO_TEST_CASE(migrate_and_status_on_every_backend) {
    for (db::Backend backend : {db::Backend::kSQLite, db::Backend::kPostgreSQL, db::Backend::kMariaDB}) {
        test::TestDatabase database(backend);
        auto r = test::runCommand(test::binary("cli/keel"), {"--db", database.connectionString(), "db", "migrate"});
        BOOST_TEST(r.exit_code == 0, r.err);
        r = test::runCommand(test::binary("cli/keel"), {"--json", "db", "status"},
                             {{"KEEL_DB_CONNECTION", database.connectionString()}});
        BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
        Poco::JSON::Parser parser;
        const auto status = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
        BOOST_TEST(status->getValue<std::string>("backend") == std::string(db::backendName(backend)));
        BOOST_TEST(status->getObject("schema")->getArray("pending")->size() == 0u);
    }
}

BOOST_AUTO_TEST_CASE(passwords_come_from_the_environment_or_a_file_never_the_command_line) {
    // MariaDB (the throw-away server authenticates passwords; PostgreSQL's trusts loopback).
    test::TestDatabase database(db::Backend::kMariaDB);
    const std::string password = "s3cret;{pw}";
    const std::string user = "keel_pw_" + std::to_string(test::freePort());
    {
        db::Connection admin(db::parseConnectionString(test::serverUrl(db::Backend::kMariaDB)));
        // Identifiers and the password literal come from this test, not from users.
        admin.executeOutsideTransaction("CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY '" + password + "'");
        const std::string name = database.connectionString().substr(database.connectionString().rfind('/') + 1);
        admin.executeOutsideTransaction("GRANT ALL ON " + name + ".* TO '" + user + "'@'127.0.0.1'");
    }
    std::string url = database.connectionString();
    url.replace(url.find("root@"), 5, user + "@");

    auto r = test::runCommand(test::binary("cli/keel"), {"--db", url, "db", "migrate"}, {{"KEEL_DB_PASSWORD", password}});
    BOOST_TEST(r.exit_code == 0, r.err);

    r = test::runCommand(test::binary("cli/keel"), {"--db", url, "db", "status"}, {{"KEEL_DB_PASSWORD", "wrong"}});
    BOOST_TEST(r.exit_code == 5);
    BOOST_TEST(contains(r.err, "Access denied"), r.err);
    BOOST_TEST(!contains(r.err + r.out, "wrong"));

    test::TempDir dir;
    const std::string file = dir.path + "/db-password";
    {
        std::ofstream out(file);
        out << password << "\n";
    }
    r = test::runCommand(test::binary("cli/keel"), {"--db", url, "-D", "db.password_file=" + file, "db", "status"});
    BOOST_TEST(r.exit_code == 0, r.err);
    BOOST_TEST(!contains(r.out + r.err, password));
}

BOOST_AUTO_TEST_CASE(make_demo_prices_orders_through_the_tax_table_plugin) {
    // What `make demo` does: the in-tree tax-table plugin, loaded from the build tree through the plugin SDK (the
    // whole walkthrough is e2e.demo's).
    test::TempDir dir;
    Poco::File(dir.path + "/plugins.d").createDirectories();
    std::ofstream(dir.path + "/plugins.d/tax.properties")
        << "plugin = tax-table\ntables = " << KEEL_SOURCE_DIR << "/config/tax\njournal = " << dir.path << "\n";
    std::ofstream(dir.path + "/plugins.d/edi.properties")
        << "plugin = edi-x12\npartners = " << KEEL_SOURCE_DIR << "/config/demo/partners\n";
    const std::string plugins = std::string(std::getenv("KEEL_BIN_DIR")) + "/../plugins/lib";
    const std::vector<std::string> settings = {
        "--db", "sqlite:" + dir.path + "/keel.db",
        "-D",   "plugins.directory=" + plugins,
        "-D",   "plugins.instances=" + dir.path + "/plugins.d",
        "-D",   "plugins.allow_unsigned=true",
        "-D",   "demo.directory=" + std::string(KEEL_SOURCE_DIR) + "/config/demo",
        "-D",   "tax.plugin=tax",
        "-D",   "events.subscriber.tax-commit.type=tax_commit",
        "-D",   "events.subscriber.tax-commit.instance=tax",
        "-D",   "events.subscriber.tax-commit.start=earliest"};
    auto with = [&](std::vector<std::string> command) {
        std::vector<std::string> args = settings;
        args.insert(args.end(), command.begin(), command.end());
        return args;
    };
    const auto r = test::runCommand(test::binary("cli/keel"), with({"demo", "--once"}));
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.out << r.err);
    BOOST_TEST(contains(r.out, "tax: quoted by plugin instance tax (tax-table 1.0.0, through the plugin SDK): active"),
               r.out);
    BOOST_TEST(contains(r.out, "audit chain ok"), r.out);
    // Tax payable per jurisdiction, as the plugin broke it down: New York State, the city and the transit district.
    BOOST_TEST(contains(r.out, "2200-US-NY-NYC     Sales tax payable US-NY-NYC"), r.out);
    BOOST_TEST(contains(r.out, "2200-US-NY-MCTD    Sales tax payable US-NY-MCTD"), r.out);

    // The invoices' tax is committed to the engine after the invoices committed, through the event outbox.
    const auto dispatched =
        test::runCommand(test::binary("cli/keel"), with({"--json", "events", "dispatch", "--once"}));
    BOOST_TEST_REQUIRE(dispatched.exit_code == 0, dispatched.err);
    BOOST_TEST(!contains(dispatched.out, "\"delivered\":0"), dispatched.out);
    std::ifstream journal(dir.path + "/tax-journal.csv");
    const std::string recorded((std::istreambuf_iterator<char>(journal)), std::istreambuf_iterator<char>());
    BOOST_TEST(contains(recorded, ",commit,"), recorded);
}

BOOST_AUTO_TEST_CASE(demo_without_plugins_prints_the_status_of_a_fresh_sqlite_database) {
    test::TempDir dir;
    const std::vector<std::string> args = {"--db", "sqlite:" + dir.path + "/keel.db",
                                           "-D",   "demo.directory=" + std::string(KEEL_SOURCE_DIR) + "/config/demo",
                                           "demo", "--once"};
    const auto r = test::runCommand(test::binary("cli/keel"), args);
    BOOST_TEST(r.exit_code == 0, r.out << r.err);
    BOOST_TEST(contains(r.out, "applying migration 1"));
    BOOST_TEST(contains(r.out, "backend     sqlite"));
    BOOST_TEST(contains(r.out, "Versions: keel"));
    BOOST_TEST(contains(r.out, "ODBC driver sqlite3odbc"));
    // Without the plugins of `make demo`: the rate table taxes, the 850 waits for a translator, the rest runs.
    BOOST_TEST(contains(r.out, "tax: the rate table"), r.out);
    BOOST_TEST(contains(r.out, "skipped:"), r.out);
    BOOST_TEST(contains(r.out, "no drift"), r.out);
    BOOST_TEST(contains(r.out, "audit chain ok"), r.out);

    // Run again on the same database: nothing is loaded twice.
    const auto again = test::runCommand(test::binary("cli/keel"), args);
    BOOST_TEST(again.exit_code == 0, again.err);
    BOOST_TEST(contains(again.out, "already imported, nothing changed"), again.out);
    BOOST_TEST(contains(again.out, "the walkthrough ran on this database before"), again.out);
    BOOST_TEST(contains(again.out, "no drift"), again.out);

    // Outside the repository and without demo.directory: what to do, not a crash.
    const auto elsewhere = test::runCommand(test::binary("cli/keel"), {"--db", "sqlite:" + dir.path + "/other.db", "-D",
                                                                       "demo.directory=" + dir.path, "demo", "--once"});
    BOOST_TEST(elsewhere.exit_code == 5);
    BOOST_TEST(contains(elsewhere.err, "set demo.directory"), elsewhere.err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(keeld)

BOOST_AUTO_TEST_CASE(serves_health_and_readiness_and_stops_on_sigterm) {
    test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    BOOST_TEST_REQUIRE(test::runCommand(test::binary("cli/keel"), {"--db", db, "db", "migrate"}).exit_code == 0);

    const int port = test::freePort();
    test::BackgroundProcess daemon(test::binary("server/keeld"),
                                   {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port)});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 20s),
                       daemon.output());
    const auto ready = test::httpGet("127.0.0.1", port, "/readyz");
    BOOST_TEST(ready.status == 200, ready.body);
    BOOST_TEST(contains(ready.body, "\"ready\""));
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/nope").status == 404);

    BOOST_TEST(daemon.terminate() == 0, daemon.output());
    BOOST_TEST(contains(daemon.output(), "listening on"));
    BOOST_TEST(contains(daemon.output(), "stopped"));
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/healthz").status == 0);
}

BOOST_AUTO_TEST_CASE(serves_the_rest_api_with_a_key_from_keel_apikey_create_and_metrics) {
    test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    BOOST_TEST_REQUIRE(test::runCommand(test::binary("cli/keel"), {"--db", db, "db", "migrate"}).exit_code == 0);
    const auto created = test::runCommand(test::binary("cli/keel"), {"--db", db, "--json", "apikey", "create", "--role",
                                                                     "operations", "--name", "e2e-ops"});
    BOOST_TEST_REQUIRE(created.exit_code == 0, created.err);
    Poco::JSON::Parser parser;
    const std::string key = parser.parse(created.out).extract<Poco::JSON::Object::Ptr>()->getValue<std::string>("key");

    const int port = test::freePort();
    test::BackgroundProcess daemon(test::binary("server/keeld"),
                                   {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port)});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 20s),
                       daemon.output());
    auto call = [&](const std::string& method, const std::string& path, const std::string& body) {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        request.set("Authorization", "Bearer " + key);
        if (!body.empty()) {
            request.setContentType("application/json");
            request.setContentLength(static_cast<std::streamsize>(body.size()));
        }
        session.sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::string text;
        Poco::StreamCopier::copyToString(session.receiveResponse(response), text);
        return std::pair{static_cast<int>(response.getStatus()), text};
    };
    // The document compiled into keeld, without a key; the API with one; the key's name in the log of a write.
    const auto document = test::httpGet("127.0.0.1", port, "/api/v1/openapi.json");
    BOOST_TEST(document.status == 200);
    BOOST_TEST(contains(document.body, "\"x-keel-roles\""));
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/api/v1/items").status == 401);
    BOOST_TEST(call("GET", "/api/v1/items", "").first == 200);
    const auto location = call("POST", "/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US"})");
    BOOST_TEST(location.first == 201, location.second);
    BOOST_TEST(call("GET", "/api/v1/ledger/trial-balance", "").first == 403);
    const auto metrics = test::httpGet("127.0.0.1", port, "/metrics");
    BOOST_TEST(metrics.status == 200);
    BOOST_TEST(contains(metrics.body, "keel_metrics_database_up 1"), metrics.body);
    BOOST_TEST(contains(metrics.body, "keel_http_requests_total{route=\"POST /api/v1/locations\",status=\"201\"} 1"));

    BOOST_TEST(daemon.terminate() == 0, daemon.output());
    BOOST_TEST(contains(daemon.output(), "POST /api/v1/locations by key e2e-ops"), daemon.output());
}

BOOST_AUTO_TEST_CASE(allocates_new_orders_and_fills_backorders_in_the_background) {
    test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db});
        return test::runCommand(test::binary("cli/keel"), args);
    };
    // The demo's data with its plugins: edi.harbor/HB-5002 holds all 8 KL-MUG-004 (allocated, not shipped), and
    // marketplace/M-1005 waits on hold for its payment. Two new orders arrive.
    const std::string plugins = std::string(std::getenv("KEEL_BIN_DIR")) + "/../plugins/lib";
    Poco::File(dir.path + "/plugins.d").createDirectories();
    std::ofstream(dir.path + "/plugins.d/edi.properties")
        << "plugin = edi-x12\npartners = " << KEEL_SOURCE_DIR << "/config/demo/partners\n";
    const auto demo = keel({"-D", "plugins.directory=" + plugins, "-D", "plugins.instances=" + dir.path + "/plugins.d",
                            "-D", "plugins.allow_unsigned=true", "-D",
                            "demo.directory=" + std::string(KEEL_SOURCE_DIR) + "/config/demo", "demo", "--once"});
    BOOST_TEST_REQUIRE(demo.exit_code == 0, demo.out << demo.err);
    {
        std::ofstream file(dir.path + "/orders.json");
        for (const auto& [id, line] :
             {std::pair{"N-1", R"({"sku": "KL-TEA-002", "quantity": 2, "unit_price": "6.00"})"},
              std::pair{"N-2", R"({"sku": "KL-MUG-004", "quantity": 3, "unit_price": "12.50"})"}}) {
            file << (std::string(id) == "N-1" ? "[" : ",")
                 << R"({"type": "order", "version": 1, "channel": "web", "external_id": ")" << id
                 << R"(", "currency": "USD", "customer": {"email": "bo@example.com"}, "ship_to": {"name": "Bo", )"
                 << R"("line1": "2 Elm St", "city": "Albany", "region": "NY", "postal_code": "12207", "country": "US"}, )"
                 << R"("payment": {"status": "captured"}, "lines": [)" << line << "]}";
        }
        file << "]";
    }
    const auto imported = keel({"order", "import", dir.path + "/orders.json"});
    BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
    auto state = [&](const std::string& order) {
        const auto r = keel({"--json", "order", "show", order});
        const auto object = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
        return object->getValue<std::string>("state");
    };
    BOOST_TEST(state("web/N-1") == "validated");

    const int port = test::freePort();
    test::HttpRecorder webhook;  // a subscriber's receiver: keeld delivers the events as it works
    test::BackgroundProcess daemon(
        test::binary("server/keeld"),
        {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port), "-D", "orders.allocate.interval=1",
         "-D", "events.dispatch.interval_ms=100", "-D", "events.subscriber.ops.url=" + webhook.url("/keel"), "-D",
         "events.subscriber.ops.secret=env:OPS_WEBHOOK_SECRET", "-D", "events.subscriber.ops.types=order.*", "-D",
         "events.subscriber.ops.start=earliest"},
        {{"OPS_WEBHOOK_SECRET", "ops-secret"}});
    BOOST_TEST(test::pollUntil([&] { return state("web/N-1") == "allocated"; }, 20s), daemon.output());
    const auto allocation_delivered = [&] {
        for (const auto& r : webhook.requests()) {
            if (r.headers.count("Keel-Event-Type") && r.headers.at("Keel-Event-Type") == "order.allocated") return true;
        }
        return false;
    };
    BOOST_TEST_REQUIRE(test::pollUntil(allocation_delivered, 20s), daemon.output());
    for (const auto& r : webhook.requests()) {
        BOOST_TEST(r.headers.at("Keel-Event-Type").rfind("order.", 0) == 0u);  // the subscriber's filter
        const std::string t = r.headers.at("Keel-Timestamp");
        BOOST_TEST(r.headers.at("Keel-Signature") == "t=" + t + ",v1=" + hmacSha256Hex("ops-secret", t + "." + r.body));
    }
    BOOST_TEST(test::pollUntil([&] { return state("web/N-2") == "backordered"; }, 20s), daemon.output());

    // Stock comes free by a cancellation (no receipt, nothing the CLI would react to): keeld fills the backorder.
    const auto cancelled = keel({"order", "cancel", "edi.harbor/HB-5002", "--reason", "customer changed their mind"});
    BOOST_TEST_REQUIRE(cancelled.exit_code == 0, cancelled.err);
    BOOST_TEST(test::pollUntil([&] { return state("web/N-2") == "allocated"; }, 20s), daemon.output());
    BOOST_TEST(state("marketplace/M-1005") == "on_hold");  // a held order is not allocated behind the operator's back

    BOOST_TEST(daemon.terminate() == 0, daemon.output());
    BOOST_TEST(contains(daemon.output(), "received stock"), daemon.output());
    const auto verified = keel({"stock", "verify"});
    BOOST_TEST(verified.exit_code == 0, verified.out);
}

BOOST_AUTO_TEST_CASE(not_ready_while_the_database_is_unreachable_or_behind) {
    // A PostgreSQL port where nothing listens: the process is healthy but not ready.
    const int dead_port = test::freePort();
    const int port = test::freePort();
    test::BackgroundProcess daemon(test::binary("server/keeld"),
                                   {"-D", "db.connection=postgresql://keel@127.0.0.1:" + std::to_string(dead_port) + "/keel",
                                    "-D", "db.timeout=1000", "-D", "server.port=" + std::to_string(port)});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 30s),
                       daemon.output());
    const auto ready = test::httpGet("127.0.0.1", port, "/readyz");
    BOOST_TEST(ready.status == 503);
    BOOST_TEST(contains(ready.body, "database unreachable"), ready.body);
    BOOST_TEST(daemon.terminate() == 0);

    // An empty database: reachable, but its schema is behind, so still not ready until migrated.
    test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    test::BackgroundProcess second(test::binary("server/keeld"),
                                   {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port)});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 20s));
    auto behind = test::httpGet("127.0.0.1", port, "/readyz");
    BOOST_TEST(behind.status == 503);
    BOOST_TEST(contains(behind.body, "keel db migrate"), behind.body);
    BOOST_TEST_REQUIRE(test::runCommand(test::binary("cli/keel"), {"--db", db, "db", "migrate"}).exit_code == 0);
    BOOST_TEST(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/readyz").status == 200; }, 10s));
    BOOST_TEST(second.terminate() == 0);
}

BOOST_AUTO_TEST_CASE(expires_inventory_holds_in_the_background) {
    test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    const std::string keel = test::binary("cli/keel");
    {
        std::ofstream items(dir.path + "/items.csv");
        items << "sku,name\nMUG,Mug\n";
        std::ofstream locations(dir.path + "/locations.csv");
        locations << "code,name,country\nWH1,Main,US\n";
    }
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"db", "migrate"}, {"item", "import", dir.path + "/items.csv"},
          {"location", "import", dir.path + "/locations.csv"}, {"stock", "receive", "MUG", "WH1", "10"},
          {"stock", "reserve", "MUG", "WH1", "4", "--hold", "--ttl", "1"}}) {
        std::vector<std::string> full = {"--db", db};
        full.insert(full.end(), args.begin(), args.end());
        const auto r = test::runCommand(keel, full);
        BOOST_TEST_REQUIRE(r.exit_code == 0, args.front() << ": " << r.err);
    }
    auto atp = [&] {
        const auto r = test::runCommand(keel, {"--db", db, "--json", "stock", "atp", "MUG"});
        Poco::JSON::Parser parser;
        return parser.parse(r.out).extract<Poco::JSON::Object::Ptr>()->getValue<int>("available");
    };
    BOOST_TEST(atp() == 6);
    const int port = test::freePort();
    test::BackgroundProcess daemon(test::binary("server/keeld"),
                                   {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port), "-D",
                                    "inventory.sweep.interval=1"});
    BOOST_TEST(test::pollUntil([&] { return atp() == 10; }, 20s), daemon.output());
    BOOST_TEST(daemon.terminate() == 0);
    BOOST_TEST(contains(daemon.output(), "released 1 expired inventory holds"), daemon.output());
}

BOOST_AUTO_TEST_CASE(bad_configuration_fails_fast_with_the_key) {
    const auto r = test::runCommand(test::binary("server/keeld"), {"-D", "db.connection=postgresql://u:pw@h/d"});
    BOOST_TEST(r.exit_code != 0);
    BOOST_TEST(contains(r.err, "KEEL_DB_PASSWORD"), r.err);
    const auto help = test::runCommand(test::binary("server/keeld"), {"--help"});
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(contains(help.out, "--config"));
}

BOOST_AUTO_TEST_CASE(keeld_runs_the_trading_partners_file_drop) {
    // A partner's 850 dropped in its inbound folder is taken in by keeld on its own (edi.exchange.partners), the 997
    // goes to the outbound folder and the file to the archive.
    test::TempDir dir;
    partnerFileDrop(dir.path);
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    BOOST_TEST_REQUIRE(test::runCommand(test::binary("cli/keel"), {"--db", db, "db", "migrate"}).exit_code == 0);
    const int port = test::freePort();
    test::BackgroundProcess daemon(test::binary("server/keeld"),
                                   {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port), "-D",
                                    "plugins.directory=" + std::string(std::getenv("KEEL_BIN_DIR")) + "/../plugins/lib",
                                    "-D", "plugins.instances=" + dir.path + "/plugins.d", "-D",
                                    "plugins.allow_unsigned=true", "-D", "edi.partners=" + dir.path + "/partners", "-D",
                                    "edi.exchange.partners=acme", "-D", "edi.exchange.interval=1"});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 20s),
                       daemon.output());
    {
        std::ofstream po(dir.path + "/in/po.edi.tmp");
        po << "ISA*00*          *00*          *ZZ*ACMEBUYER      *ZZ*KEELSELLER     "
              "*261126*1200*U*00401*000000007*0*P*>~"
              "GS*PO*ACMEBUYER*KEELSELLER*20261126*1200*7*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261126~"
              "PO1*1*2*EA*5**VN*A-1~CTT*1~SE*5*0001~GE*1*7~IEA*1*000000007~";
    }
    Poco::File(dir.path + "/in/po.edi.tmp").renameTo(dir.path + "/in/po.edi");
    BOOST_TEST(test::pollUntil([&] { return Poco::File(dir.path + "/archive/po.edi").exists(); }, 20s),
               daemon.output());
    std::vector<std::string> acks;
    Poco::File(dir.path + "/out").list(acks);
    BOOST_TEST_REQUIRE(acks.size() == 1u, daemon.output());
    std::ifstream ack(dir.path + "/out/" + acks.front());
    const std::string text((std::istreambuf_iterator<char>(ack)), std::istreambuf_iterator<char>());
    BOOST_TEST(contains(text, "AK9*A*1*1*1"), text);
    BOOST_TEST(daemon.terminate() == 0);
    BOOST_TEST(contains(daemon.output(), "EDI from acme: message"), daemon.output());
}

BOOST_AUTO_TEST_CASE(keeld_sends_the_846_on_its_timer_when_the_inventory_moved) {
    // edi.exchange.inventory_interval: the exchange job sends each partner an 846 of the items it knows by an alias,
    // under the same lease, and not again while the inventory is what the last 846 said.
    test::TempDir dir;
    partnerFileDrop(dir.path);
    {
        std::ofstream(dir.path + "/items.csv") << "sku,name\nWIDGET,Widget\n";
        std::ofstream(dir.path + "/locations.csv") << "code,name,country\nWH1,Main,US\n";
        std::ofstream(dir.path + "/aliases.csv") << "channel,channel_sku,sku\nedi.acme,A-1,WIDGET\n";
    }
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", db});
        return test::runCommand(test::binary("cli/keel"), args);
    };
    for (const std::vector<std::string>& args : {std::vector<std::string>{"db", "migrate"},
                                                 {"item", "import", dir.path + "/items.csv"},
                                                 {"location", "import", dir.path + "/locations.csv"},
                                                 {"alias", "import", dir.path + "/aliases.csv"},
                                                 {"stock", "receive", "WIDGET", "WH1", "5"}}) {
        const auto r = keel(args);
        BOOST_TEST_REQUIRE(r.exit_code == 0, args.front() << ": " << r.out << r.err);
    }
    const auto advices = [&] {
        std::vector<std::string> files;
        Poco::File(dir.path + "/out").list(files);
        std::vector<std::string> found;
        for (const auto& f : files) {
            if (f.rfind("846-", 0) == 0 && f.size() > 4 && f.substr(f.size() - 4) == ".edi") found.push_back(f);
        }
        return found;
    };
    const auto text = [&](const std::string& name) {
        std::ifstream in(dir.path + "/out/" + name);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    };
    const int port = test::freePort();
    test::BackgroundProcess daemon(
        test::binary("server/keeld"),
        {"-D", "db.connection=" + db, "-D", "server.port=" + std::to_string(port), "-D",
         "plugins.directory=" + std::string(std::getenv("KEEL_BIN_DIR")) + "/../plugins/lib", "-D",
         "plugins.instances=" + dir.path + "/plugins.d", "-D", "plugins.allow_unsigned=true", "-D",
         "edi.partners=" + dir.path + "/partners", "-D", "edi.exchange.partners=acme", "-D", "edi.exchange.interval=1",
         "-D", "edi.exchange.inventory_interval=1"});
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return advices().size() == 1; }, 30s), daemon.output());
    BOOST_TEST(contains(text(advices().front()), "QTY*33*5*EA~"), text(advices().front()));
    // The next runs find nothing new to say: no second 846.
    BOOST_TEST_REQUIRE(
        test::pollUntil([&] { return contains(daemon.output(), "846: the inventory of channel edi.acme is what"); },
                        30s),
        daemon.output());
    BOOST_TEST(advices().size() == 1u);
    // The stock moves: the next run advises it.
    BOOST_TEST_REQUIRE(keel({"stock", "receive", "WIDGET", "WH1", "2"}).exit_code == 0);
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return advices().size() == 2; }, 30s), daemon.output());
    bool seven = false;
    for (const auto& name : advices()) seven = seven || contains(text(name), "QTY*33*7*EA~");
    BOOST_TEST(seven);
    BOOST_TEST(daemon.terminate() == 0);
    BOOST_TEST(contains(daemon.output(), "EDI to acme: 846 (message"), daemon.output());
}

BOOST_AUTO_TEST_SUITE_END()
