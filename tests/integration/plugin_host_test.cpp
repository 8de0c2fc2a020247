#define BOOST_TEST_MODULE plugin_host_integration
#include <boost/test/unit_test.hpp>

#include "http_recorder.h"
#include "order_fixture.h"
#include "process.h"
#include "temp_dir.h"

#include "keel/cli/cli.h"
#include "keel/events/dispatcher.h"
#include "keel/plugin_host/plugin_host.h"
#include "keel/plugin_host/plugin_tax.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace keel;
using namespace keel::plugin_host;
namespace fs = std::filesystem;

namespace {

const std::string kPlugins = KEEL_TEST_PLUGINS_DIR;

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text;
}

std::string orderJson(const std::string& external_id) {
    return R"({"type":"order","version":1,"channel":"web","external_id":")" + external_id +
           R"(","currency":"USD","customer":{"id":"C-1","email":"ann@example.com"},)"
           R"("ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Chicago","region":"IL","postal_code":"60601","country":"US"},)"
           R"("lines":[{"line_id":"1","sku":"SKU-1","quantity":2,"unit_price":"19.99"}],)"
           R"("shipping":{"amount":"5.00","service":"ground"},"payment":{"status":"authorized"}})";
}

// The order services with tax through the test plugin's instance "plugin-tax" (rate 6.25 %), whose failures the
// test switches with a file.
struct PluginFixture {
    test::TempDir temp;
    test::TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{test::kNow};
    catalog::Catalog catalog{clock};
    inventory::Inventory inventory{clock};
    test::NoPrices prices;
    std::string fail_file = temp.path + "/fail";
    std::unique_ptr<PluginHost> host;
    std::unique_ptr<PluginTax> tax;
    orders::DefaultRouting routing;
    std::unique_ptr<orders::Orders> orders;
    orders::Actor actor{"test"};

    PluginFixture() {
        db::Migrator(db).migrate();
        fs::create_directories(temp.path + "/plugins.d");
        write(temp.path + "/plugins.d/plugin-tax.properties",
              "plugin = test-good\nrate = 0.0625\nfail_file = " + fail_file + "\n");
        HostSettings settings;
        settings.directories = {kPlugins + "/good"};
        settings.instances_directory = temp.path + "/plugins.d";
        settings.allow_unsigned = true;
        settings.breaker_failures = 2;
        settings.breaker_cooldown_seconds = 60;
        host = std::make_unique<PluginHost>(settings, HostServices{}, clock);
        host->load();
        tax = std::make_unique<PluginTax>(*host, "plugin-tax");
        orders = std::make_unique<orders::Orders>(catalog, inventory, prices, *tax, routing, clock);
        host->setServices(HostServices{&db, orders.get(), &inventory, &catalog});
        catalog::Item item;
        item.sku = "SKU-1";
        item.name = "Item SKU-1";
        db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, item); });
    }

    orders::ImportOutcome import(const std::string& external_id) {
        const auto parsed = orders::parseOrderDocument(orderJson(external_id));
        BOOST_TEST_REQUIRE(parsed.ok());
        auto outcome = orders->importDocument(db, *parsed.document, actor);
        BOOST_TEST_REQUIRE(outcome.ok(), test::problemOf(outcome));
        return outcome.value();
    }

    orders::Order find(const std::string& id) {
        return *db.run([&](db::UnitOfWork& uow) { return orders->find(uow, id); });
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(plugin_host, PluginFixture)

BOOST_AUTO_TEST_CASE(an_imported_order_gets_the_plugins_tax) {
    const auto outcome = import("W-1");
    BOOST_TEST(std::string(orders::toString(outcome.state)) == "validated");
    const auto order = find(outcome.order_id);
    BOOST_TEST(order.lines.at(0).tax == 250);  // 39.98 x 6.25 % = 2.49875 -> 2.50
    BOOST_TEST(order.tax_total == 281);        // + 0.3125 -> 0.31 on shipping
    BOOST_TEST(order.total == 3998 + 281 + 500);
}

BOOST_AUTO_TEST_CASE(a_failing_tax_plugin_holds_orders_and_opens_its_breaker) {
    write(fail_file, "unavailable");
    const auto first = import("W-2");
    BOOST_TEST(std::string(orders::toString(first.state)) == "on_hold");
    BOOST_TEST_REQUIRE(first.holds.size() == 1u);
    BOOST_TEST(contains(first.holds[0], "tax not quoted: tax plugin plugin-tax:"), first.holds[0]);
    BOOST_TEST(contains(first.holds[0], "KEEL_E_UNAVAILABLE"), first.holds[0]);
    const auto second = import("W-3");
    BOOST_TEST(std::string(orders::toString(second.state)) == "on_hold");
    BOOST_TEST((host->instance("plugin-tax")->state == InstanceState::kSuspended));
    const auto third = import("W-4");
    BOOST_TEST_REQUIRE(third.holds.size() == 1u);
    BOOST_TEST(contains(third.holds[0], "suspended by its circuit breaker"), third.holds[0]);

    // Intake could not write the exception row inside its unit of work; the flush does.
    BOOST_TEST(host->flushExceptions() == 0u);
    const auto exceptions = openExceptions(db);
    BOOST_TEST_REQUIRE(exceptions.size() == 1u);
    BOOST_TEST(exceptions[0].source == "plugin:plugin-tax");
    BOOST_TEST(exceptions[0].code == "breaker_open");
    BOOST_TEST(contains(exceptions[0].message, "2 consecutive failures"));

    // While open, release is refused and the order stays held; after the cool-down a good trial lets it through.
    const auto refused = db.run([&](db::UnitOfWork& uow) { return orders->release(uow, first.order_id, actor); });
    BOOST_TEST(!refused.ok());
    BOOST_TEST(std::string(orders::toString(find(first.order_id).state)) == "on_hold");
    fs::remove(fail_file);
    clock.advance(61'000'000);
    const auto released = db.run([&](db::UnitOfWork& uow) { return orders->release(uow, first.order_id, actor); });
    BOOST_TEST_REQUIRE(released.ok(), test::problemOf(released));
    BOOST_TEST(find(first.order_id).tax_total == 281);
    BOOST_TEST((host->instance("plugin-tax")->state == InstanceState::kActive));
}

BOOST_AUTO_TEST_CASE(host_functions_reach_the_core) {
    const auto call = [&](const std::string& type, const std::string& payload) {
        Poco::JSON::Object event;
        event.set("id", "e-" + type);
        event.set("type", type);
        event.set("payload", payload);
        std::ostringstream text;
        event.stringify(text);
        return host->invoke("plugin-tax", Operation::kSubscriberOnEvent, text.str());
    };
    auto intake = call("test.order_intake", orderJson("P-1"));
    BOOST_TEST_REQUIRE(intake.ok(), test::problemOf(intake));
    const auto result = Poco::JSON::Parser().parse(intake.value()).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(result->getValue<std::string>("outcome") == "imported");
    BOOST_TEST(result->getValue<std::string>("state") == "validated");
    const std::string order_id = result->getValue<std::string>("order_id");
    auto again = call("test.order_intake", orderJson("P-1"));
    BOOST_TEST_REQUIRE(again.ok());
    BOOST_TEST(contains(again.value(), "already_imported"));
    std::string changed = orderJson("P-1");
    changed.replace(changed.find("\"quantity\":2"), 12, "\"quantity\":3");
    auto conflict = call("test.order_intake", changed);
    BOOST_TEST_REQUIRE(!conflict.ok());
    BOOST_TEST((conflict.problem().code == ExitCode::kConflict));
    auto invalid = call("test.order_intake", R"({"type":"order"})");
    BOOST_TEST_REQUIRE(!invalid.ok());
    BOOST_TEST((invalid.problem().code == ExitCode::kRejected));

    auto document = call("test.document_get", order_id);
    BOOST_TEST_REQUIRE(document.ok(), test::problemOf(document));
    BOOST_TEST(contains(document.value(), "\"external_id\":\"P-1\""), document.value());
    BOOST_TEST((call("test.document_get", "no-such-order").problem().code == ExitCode::kNotFound));

    auto stock = call("test.stock_query", R"({"sku":"SKU-1"})");
    BOOST_TEST_REQUIRE(stock.ok(), test::problemOf(stock));
    BOOST_TEST(contains(stock.value(), "\"atp\":0"), stock.value());
    BOOST_TEST((call("test.stock_query", R"({"sku":"NOPE"})").problem().code == ExitCode::kNotFound));

    auto unreachable = call("test.http_request", R"({"method":"GET","url":"http://127.0.0.1:9/","timeout_ms":2000})");
    BOOST_TEST_REQUIRE(!unreachable.ok());
    BOOST_TEST(contains(unreachable.problem().message, "KEEL_E_UNAVAILABLE"), unreachable.problem().message);

    // A marketplace-shaped call to a local stand-in for the remote API: method, path, headers and body arrive as
    // sent, and the answer comes back whole.
    test::HttpRecorder api;
    api.setResponder([](const test::RecordedRequest& r) {
        return test::CannedResponse{r.headers.count("Authorization") ? 201 : 401, R"({"acknowledged":true})"};
    });
    auto reached =
        call("test.http_request", R"({"method":"POST","url":")" + api.url("/v1/orders/ack?shop=1") +
                                      R"(","headers":{"Authorization":"Bearer t0k","Content-Type":"application/json"},)"
                                      R"("body":"{\"id\":\"W-1\"}","timeout_ms":5000})");
    BOOST_TEST_REQUIRE(reached.ok(), test::problemOf(reached));
    BOOST_TEST(contains(reached.value(), "\"status\":201"), reached.value());
    BOOST_TEST(contains(reached.value(), "acknowledged"), reached.value());
    BOOST_TEST_REQUIRE(api.count() == 1u);
    BOOST_TEST(api.requests()[0].method == "POST");
    BOOST_TEST(api.requests()[0].path == "/v1/orders/ack?shop=1");
    BOOST_TEST(api.requests()[0].body == R"({"id":"W-1"})");

    // HTTPS to a server whose certificate no trusted CA signed: refused (never a console prompt), retryable.
    const std::string cert = temp.path + "/cert.pem";
    const std::string key = temp.path + "/key.pem";
    const auto made = test::runCommand(
        "/usr/bin/openssl", {"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days",
                             "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
    BOOST_TEST_REQUIRE(made.exit_code == 0, made.err);
    test::HttpRecorder tls(cert, key);
    auto untrusted = call("test.http_request", R"({"method":"GET","url":")" + tls.url("/") + R"(","timeout_ms":5000})");
    BOOST_TEST_REQUIRE(!untrusted.ok());
    BOOST_TEST(contains(untrusted.problem().message, "KEEL_E_UNAVAILABLE"), untrusted.problem().message);
    BOOST_TEST(contains(untrusted.problem().message, "certificate"), untrusted.problem().message);
    BOOST_TEST(tls.count() == 0u);

    BOOST_TEST(call("test.report_error", "the remote store rejected our token").ok());
    const auto exceptions = openExceptions(db);
    BOOST_TEST_REQUIRE(exceptions.size() == 1u);
    BOOST_TEST(exceptions[0].code == "test_code");
    BOOST_TEST(exceptions[0].message == "the remote store rejected our token");
}

BOOST_AUTO_TEST_CASE(a_subscriber_plugin_receives_the_events_in_order_through_the_dispatcher) {
    fs::create_directories(temp.path + "/subscribers.d");
    const std::string events_file = temp.path + "/received";
    const std::string sub_fail = temp.path + "/sub-fail";
    write(temp.path + "/subscribers.d/audit-sink.properties",
          "plugin = test-good\nevents_file = " + events_file + "\nfail_file = " + sub_fail + "\n");
    HostSettings settings;
    settings.directories = {kPlugins + "/good"};
    settings.instances_directory = temp.path + "/subscribers.d";
    settings.allow_unsigned = true;
    settings.breaker_failures = 3;
    PluginHost subscribers(settings, HostServices{&db, orders.get(), &inventory, &catalog}, clock);
    subscribers.load();
    BOOST_TEST(subscribers.instancesWith(Capability::kSubscriber) == std::vector<std::string>{"audit-sink"});

    events::SubscriberSettings sink;
    sink.name = "audit";
    sink.kind = events::SubscriberKind::kPlugin;
    sink.instance = "audit-sink";
    sink.from_earliest = true;
    sink.max_attempts = 5;
    events::Dispatcher dispatcher(db, {sink}, "node", clock);
    dispatcher.setPluginDelivery([&](const std::string& instance, const std::string& json) {
        auto r = subscribers.invoke(instance, Operation::kSubscriberOnEvent, json);
        return events::Delivery{r.ok(), r.ok() ? std::string() : r.problem().message};
    });

    import("SUB-1");
    import("SUB-2");
    auto stats = dispatcher.runOnce();
    BOOST_TEST_REQUIRE(stats.delivered > 0);
    std::vector<std::string> expected;
    db.run([&](db::UnitOfWork& uow) {
        for (const auto& e : events::EventLog().read(uow, events::EventFilter{0, 1000, {}, {}, {}}))
            expected.push_back(e.id);
    });
    const auto received = [&] {
        std::vector<std::string> ids;
        std::ifstream in(events_file);
        for (std::string line; std::getline(in, line);) ids.push_back(line);
        return ids;
    };
    BOOST_TEST(received() == expected, "every event, once, in sequence order");

    // The plugin fails: a failed attempt with the plugin's message, retried after the backoff, nothing lost.
    write(sub_fail, "unavailable");
    import("SUB-3");
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.failed == 1);
    BOOST_TEST(contains(dispatcher.status().at(0).last_error, "KEEL_E_UNAVAILABLE"),
               dispatcher.status().at(0).last_error);
    fs::remove(sub_fail);
    clock.advance(2'000'000);
    stats = dispatcher.runOnce();
    BOOST_TEST(stats.failed == 0);
    expected.clear();
    db.run([&](db::UnitOfWork& uow) {
        for (const auto& e : events::EventLog().read(uow, events::EventFilter{0, 1000, {}, {}, {}}))
            expected.push_back(e.id);
    });
    BOOST_TEST(received() == expected);
}

BOOST_AUTO_TEST_CASE(keel_plugin_list_shows_instances_refusals_and_exceptions) {
    write(temp.path + "/plugins.d/orphan.properties", "plugin = missing\n");
    const auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(),
                    {"--db", test.connectionString(), "-D",
                     "plugins.directory=" + kPlugins + "/good:" + kPlugins + "/newer-minor", "-D",
                     "plugins.instances=" + temp.path + "/plugins.d", "-D", "plugins.allow_unsigned=true"});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return std::tuple{code, out.str(), err.str()};
    };
    auto [code, out, err] = keel({"plugin", "list"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(contains(out, "plugin-tax  test-good 1.0.0  [tax,subscriber]  active"), out);
    BOOST_TEST(contains(out, "orphan  missing"), out);
    BOOST_TEST(contains(out, "refused: " + kPlugins + "/newer-minor/test-newer-minor.keel-plugin.json"), out);

    write(fail_file, "internal");
    BOOST_TEST(!host->invoke("plugin-tax", Operation::kTaxCommit, "{}").ok());
    BOOST_TEST(!host->invoke("plugin-tax", Operation::kTaxCommit, "{}").ok());
    std::tie(code, out, err) = keel({"--json", "plugin", "list"});
    BOOST_TEST(code == 0, err);
    const auto body = Poco::JSON::Parser().parse(out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getArray("instances")->size() == 2u);
    BOOST_TEST(body->getArray("refused")->size() == 1u);
    BOOST_TEST_REQUIRE(body->getArray("exceptions")->size() == 1u);
    BOOST_TEST(body->getArray("exceptions")->getObject(0)->getValue<std::string>("source") == "plugin:plugin-tax");

    // A directory that cannot be read is an infrastructure failure.
    write(temp.path + "/not-a-directory", "");
    std::vector<std::string> args = {
        "--db", test.connectionString(), "-D", "plugins.instances=" + temp.path + "/not-a-directory", "plugin", "list"};
    std::ostringstream o;
    std::ostringstream e;
    BOOST_TEST(cli::run(args, o, e, {}, "/nonexistent/etc/keel") == 5, e.str());
}

BOOST_AUTO_TEST_SUITE_END()
