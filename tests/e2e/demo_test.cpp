// `make demo` end to end (issue #8): `keel demo --once` with the Makefile's DEMO_FLAGS, run in the repository (CTest
// runs this suite with the source directory as its working directory, as `make demo` does), twice on a fresh
// database; its outcomes read back through the CLI and the database. And `keel demo` without --once serves what
// keeld serves until SIGTERM.
#define BOOST_TEST_MODULE e2e_demo
#include <boost/test/unit_test.hpp>

#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <map>

using namespace keel;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// DEMO_FLAGS of the Makefile, with the plugins of this build tree.
std::vector<std::string> demoArgs(const std::string& connection, std::vector<std::string> command) {
    const std::string plugins = std::string(std::getenv("KEEL_BIN_DIR")) + "/../plugins/lib";
    std::vector<std::string> args = {"--db", connection,
                                     "-D",   "plugins.directory=" + plugins,
                                     "-D",   "plugins.instances=config/demo/plugins.d",
                                     "-D",   "plugins.allow_unsigned=true",
                                     "-D",   "tax.plugin=tax"};
    args.insert(args.end(), command.begin(), command.end());
    return args;
}

Poco::JSON::Object::Ptr json(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::int64_t count(db::Database& database, const std::string& sql, const std::string& parameter = "") {
    std::int64_t n = -1;
    database.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement(sql);
        if (parameter.empty()) {
            s.execute();
        } else {
            s.bindAll(parameter).execute();
        }
        while (s.next()) n = s.getInt64(0);
    });
    return n;
}

// What the database holds after the demo, to compare a second run with the first.
std::map<std::string, std::int64_t> totals(db::Database& database) {
    std::map<std::string, std::int64_t> t;
    for (const char* table : {"item", "location", "item_alias", "sales_order", "shipment", "stock_move",
                              "journal_entry", "return_authorization", "edi_message"}) {
        t[table] = count(database, std::string("SELECT COUNT(*) FROM ") + table);
    }
    t["active demo keys"] =
        count(database, "SELECT COUNT(*) FROM api_key WHERE revoked_at IS NULL AND name LIKE ?", "demo-%");
    return t;
}

void walkthroughTwice(test::TestDatabase& database) {
    const std::string connection = database.connectionString();
    auto keel = [&](std::vector<std::string> command) {
        return test::runCommand(test::binary("cli/keel"), demoArgs(connection, std::move(command)));
    };
    const auto first = keel({"demo", "--once"});
    BOOST_TEST_REQUIRE(first.exit_code == 0, first.out << first.err);
    const std::string& out = first.out;
    BOOST_TEST(contains(out, "catalog.csv: 300 SKUs (300 created"), out);
    BOOST_TEST(contains(out, "locations.csv: 3 warehouses (3 created"), out);
    BOOST_TEST(contains(out, "marketplace/M-1005  imported: on_hold (payment not authorized)"), out);
    BOOST_TEST(contains(out, "processed: 2 purchase orders, acknowledged with a 997"), out);
    // Trading partners buy on terms: their orders are not held for payment.
    BOOST_TEST(contains(out, "edi.harbor/HB-5001  imported: validated"), out);
    BOOST_TEST(contains(out, "marketplace/M-1005  on hold: payment not authorized"), out);
    BOOST_TEST(contains(out, "marketplace/M-1002  allocated: 6 units from 2 locations (a split shipment)"), out);
    BOOST_TEST(contains(out, "backordered: 2 units wait for stock"), out);
    BOOST_TEST(contains(out, "backorders filled: 1 order(s)"), out);
    BOOST_TEST(contains(out, "tax: quoted by plugin instance tax (tax-table"), out);
    BOOST_TEST(contains(out, "audit chain ok"), out);
    BOOST_TEST(contains(out, "no drift"), out);
    BOOST_TEST(contains(out, "balanced"), out);
    BOOST_TEST(!contains(out, "NOT BALANCED"), out);
    BOOST_TEST(contains(out, "/ui"), out);
    BOOST_TEST(contains(out, "API key    keel_"), out);

    db::Database& db = database.database();
    auto order = [&](const std::string& reference) {
        const auto r = keel({"--json", "order", "show", reference});
        BOOST_TEST_REQUIRE(r.exit_code == 0, reference << ": " << r.out << r.err);
        return json(r.out);
    };
    // Both intakes: the marketplace file (items by alias) and the 850 (partner part numbers by alias, and a SKU).
    BOOST_TEST(order("marketplace/M-1001")->getValue<std::string>("state") == "invoiced");
    const auto edi = order("edi.harbor/HB-5001");
    BOOST_TEST(edi->getValue<std::string>("state") == "invoiced");
    BOOST_TEST(edi->getArray("lines")->size() == 3u);
    // The partner's part number, as it sent it, resolved through its alias on channel edi.harbor and shipped.
    const auto line = edi->getArray("lines")->getObject(0);
    BOOST_TEST(line->getValue<std::string>("sku") == "HR-MUG-0002");
    BOOST_TEST(line->getValue<std::int64_t>("shipped") == 12);
    BOOST_TEST(order("edi.harbor/HB-5002")->getValue<std::string>("state") == "allocated");
    BOOST_TEST(order("marketplace/M-1005")->getValue<std::string>("state") == "on_hold");
    // The split shipment: M-1002's six lamps from two warehouses.
    const std::string m1002 = order("marketplace/M-1002")->getValue<std::string>("id");
    BOOST_TEST(count(db, "SELECT COUNT(DISTINCT location_id) FROM shipment WHERE order_id = ?", m1002) == 2);
    // The backorder, filled from the receipt and shipped.
    const auto m1003 = order("marketplace/M-1003");
    BOOST_TEST(m1003->getValue<std::string>("state") == "invoiced");
    BOOST_TEST(m1003->getArray("lines")->getObject(0)->getValue<std::int64_t>("shipped") == 2);
    BOOST_TEST(count(db, "SELECT COUNT(*) FROM order_transition WHERE order_id = ? AND to_state = 'backordered'",
                     m1003->getValue<std::string>("id")) == 1);
    // The return.
    const auto returns = keel({"--json", "return", "list", "marketplace/M-1001"});
    BOOST_TEST_REQUIRE(returns.exit_code == 0, returns.out << returns.err);
    BOOST_TEST(contains(returns.out, "\"state\":\"closed\""), returns.out);
    // The books and the stock ledger.
    const auto ledger = keel({"--json", "ledger", "verify"});
    BOOST_TEST(ledger.exit_code == 0, ledger.out << ledger.err);
    BOOST_TEST(contains(ledger.out, "\"ok\":true"), ledger.out);
    const auto stock = keel({"--json", "stock", "verify"});
    BOOST_TEST(stock.exit_code == 0, stock.out << stock.err);
    const auto tb = keel({"--json", "ledger", "trial-balance"});
    BOOST_TEST_REQUIRE(tb.exit_code == 0, tb.err);
    const auto tb_totals = json(tb.out)->getObject("totals");
    BOOST_TEST(tb_totals->getValue<std::string>("debit") == tb_totals->getValue<std::string>("credit"), tb.out);
    BOOST_TEST(tb_totals->getValue<std::string>("debit") != "0.00", tb.out);

    // Again on the same database: nothing loaded twice, no failure, a new key replacing the old one.
    const auto before = totals(db);
    const auto second = keel({"demo", "--once"});
    BOOST_TEST_REQUIRE(second.exit_code == 0, second.out << second.err);
    BOOST_TEST(contains(second.out, "catalog.csv: 300 SKUs (0 created, 0 updated, 300 unchanged)"), second.out);
    BOOST_TEST(contains(second.out, "stock.csv: already received"), second.out);
    BOOST_TEST(contains(second.out, "marketplace/M-1001  already imported, nothing changed"), second.out);
    BOOST_TEST(contains(second.out, "already received (nothing taken in twice)"), second.out);
    BOOST_TEST(contains(second.out, "audit chain ok"), second.out);
    const auto after = totals(db);
    for (const auto& [table, n] : before)
        BOOST_TEST(after.at(table) == n, table << ": " << n << " -> " << after.at(table));
    BOOST_TEST(after.at("active demo keys") == 1);
    BOOST_TEST(keel({"ledger", "verify"}).exit_code == 0);
    BOOST_TEST(keel({"stock", "verify"}).exit_code == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(keel_demo)

BOOST_AUTO_TEST_CASE(the_walkthrough_on_sqlite_twice) {
    test::TestDatabase database(db::Backend::kSQLite);
    walkthroughTwice(database);
}

BOOST_AUTO_TEST_CASE(the_walkthrough_on_postgresql_twice) {
    test::TestDatabase database(db::Backend::kPostgreSQL);
    walkthroughTwice(database);
}

BOOST_AUTO_TEST_CASE(without_once_it_serves_health_and_the_api_until_sigterm) {
    test::TempDir dir;
    const int port = test::freePort();
    test::BackgroundProcess demo(test::binary("cli/keel"), demoArgs("sqlite:" + dir.path + "/keel.db",
                                                                    {"-D", "server.port=" + std::to_string(port), "-D",
                                                                     "cli.log.level=information", "demo"}));
    BOOST_TEST_REQUIRE(
        test::pollUntil([&] { return test::httpGet("127.0.0.1", port, "/healthz").status == 200; }, 120s),
        demo.output());
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/readyz").status == 200);
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/api/v1/orders").status == 401);  // the API, behind its keys
    BOOST_TEST_REQUIRE(test::pollUntil([&] { return contains(demo.output(), "until Ctrl-C"); }, 20s), demo.output());
    BOOST_TEST(contains(demo.output(), "dashboard  http://127.0.0.1:" + std::to_string(port) + "/ui"), demo.output());
    BOOST_TEST(demo.terminate() == 0, demo.output());
    BOOST_TEST(test::httpGet("127.0.0.1", port, "/healthz").status == 0);
}

BOOST_AUTO_TEST_SUITE_END()
