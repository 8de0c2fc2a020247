// keeld's REST API on every backend, served in-process on a free port against the test's database: every route ×
// every role (allowed, or 403 naming the roles), 401s, malformed JSON, oversized bodies, wrong content types, 404 and
// 405, idempotent order intake, and a walk from a new item to a confirmed shipment seen in the event feed and in
// /metrics.
#define BOOST_TEST_MODULE integration_api
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include "test_database.h"

#include "keel/app/services.h"
#include "keel/auth/api_keys.h"
#include "keel/db/migrations.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/date.h"
#include "keel/server/api.h"
#include "keel/server/health.h"
#include "keel/server/metrics.h"

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/Util/MapConfiguration.h>

#include <filesystem>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

using namespace keel;

namespace {

constexpr std::size_t kMaxBody = 4096;

struct Response {
    int status = 0;
    std::string body;
    std::map<std::string, std::string> headers;

    Poco::JSON::Object::Ptr json() const {
        Poco::JSON::Parser parser;
        return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
    }
    std::string header(const std::string& name) const {
        const auto found = headers.find(name);
        return found == headers.end() ? std::string() : found->second;
    }
    std::string field(const std::string& name) const {
        const auto object = json();
        return object->has(name) ? object->getValue<std::string>(name) : std::string();
    }
};

struct Request {
    std::string method = "GET";
    std::string path;
    std::string token;  ///< sent as Authorization: Bearer
    std::string body;
    std::string content_type = "application/json";
    std::map<std::string, std::string> headers;
};

/// A migrated database (ledger initialized), the services keeld wires, and the HTTP server with the API on a
/// free port of 127.0.0.1; a key for every role.
struct ApiFixture {
    test::TestDatabase test;
    db::Database& db = test.database();
    test::TempDir plugins_dir;
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    std::unique_ptr<app::Services> services;
    server::Metrics metrics;
    std::unique_ptr<server::Api> api;
    std::unique_ptr<server::Readiness> readiness;
    std::unique_ptr<Poco::Net::HTTPServer> http;
    int port = 0;
    std::map<auth::Role, std::string> tokens;
    auth::ApiKeys keys;

    /// `configure` adds settings (plugins) before the services are built.
    explicit ApiFixture(
        const std::function<void(Poco::Util::MapConfiguration&, const std::string& dir)>& configure = {}) {
        db::Migrator(db).migrate();
        config->setString("ledger.currency", "USD");
        config->setString("plugins.directory", plugins_dir.path);
        config->setString("plugins.instances", plugins_dir.path);
        config->setString("server.max_body_bytes", std::to_string(kMaxBody));
        config->setString("server.auth_cache_seconds", "1");
        if (configure) configure(*config, plugins_dir.path);
        services = std::make_unique<app::Services>(*config);
        services->attachDatabase(db);
        db.run([&](db::UnitOfWork& uow) {
            if (!services->ledger.functionalCurrency(uow))
                services->ledger.initialize(uow, services->functional_currency);
        });
        api = std::make_unique<server::Api>(db, *services, server::ApiSettings::fromConfig(*config), metrics);
        readiness = std::make_unique<server::Readiness>(db);
        Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
        port = socket.address().port();
        Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
        params->setMaxThreads(4);
        params->setTimeout(Poco::Timespan(10, 0));
        http = std::make_unique<Poco::Net::HTTPServer>(
            new server::RequestHandlerFactory(
                *readiness, api.get(),
                [this]() { return metrics.render(db, services->orders, services->plugins.get()); }),
            socket, params);
        http->start();
        for (const auto role : auth::allRoles()) {
            const std::string name = "test-" + std::string(auth::toString(role));
            auto created = db.run([&](db::UnitOfWork& uow) { return keys.create(uow, name, role, "test"); });
            BOOST_TEST_REQUIRE(created.ok());
            tokens[role] = created.value().token;
        }
    }
    ~ApiFixture() { http->stopAll(true); }

    Response send(const Request& r) {
        Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
        session.setTimeout(Poco::Timespan(20, 0));
        Poco::Net::HTTPRequest request(r.method, r.path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (!r.token.empty()) request.set("Authorization", "Bearer " + r.token);
        for (const auto& [name, value] : r.headers) request.set(name, value);
        if (r.method == "POST" || r.method == "PUT") {
            request.setContentType(r.content_type);
            request.setContentLength(static_cast<std::streamsize>(r.body.size()));
        }
        std::ostream& out = session.sendRequest(request);
        if (!r.body.empty()) out << r.body;
        Poco::Net::HTTPResponse response;
        Response result;
        std::istream& in = session.receiveResponse(response);
        Poco::StreamCopier::copyToString(in, result.body);
        result.status = static_cast<int>(response.getStatus());
        for (const auto& [name, value] : response) result.headers[name] = value;
        return result;
    }
    Response get(const std::string& path, auth::Role role = auth::Role::kAdmin) {
        Request r;
        r.path = path;
        r.token = tokens[role];
        return send(r);
    }
    Response post(const std::string& path, const std::string& body, auth::Role role = auth::Role::kAdmin,
                  std::map<std::string, std::string> headers = {}) {
        Request r;
        r.method = "POST";
        r.path = path;
        r.token = tokens[role];
        r.body = body;
        r.headers = std::move(headers);
        return send(r);
    }
};

std::string orderDocument(const std::string& external_id, int quantity) {
    return R"({"type":"order","version":1,"channel":"web","external_id":")" + external_id +
           R"(","currency":"USD","customer":{"id":"C-1","email":"ann@example.com"},)"
           R"("ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Springfield","region":"IL",)"
           R"("postal_code":"62701","country":"US"},)"
           R"("lines":[{"sku":"SKU-1","quantity":)" +
           std::to_string(quantity) +
           R"(,"unit_price":"19.99"}],"shipping":{"amount":"5.00","service":"ground"},"payment":{"status":"authorized"}})";
}

/// A concrete path for a route pattern: every {param} becomes `value`.
std::string concrete(const std::string& pattern, const std::string& value) {
    std::string out;
    for (const auto& segment : server::splitPath(pattern)) {
        out += "/" + (segment.front() == '{' ? value : segment);
    }
    return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api, ApiFixture)

BOOST_AUTO_TEST_CASE(every_route_answers_every_role_as_its_table_says) {
    int checked = 0;
    for (const auto& route : api->router().routes()) {
        if (!route.authenticated) continue;
        for (const auto role : auth::allRoles()) {
            Request r;
            r.method = route.method;
            r.path = concrete(route.pattern, "NO-SUCH-THING");
            r.token = tokens[role];
            if (route.body == server::BodyKind::kJson) r.body = "{}";
            if (route.body == server::BodyKind::kX12) {
                r.content_type = "application/edi-x12";
                r.body = "ISA";
            }
            const Response response = send(r);
            const bool allowed = std::find(route.roles.begin(), route.roles.end(), role) != route.roles.end();
            const std::string what = route.method + " " + route.pattern + " as " + std::string(auth::toString(role)) +
                                     ": " + std::to_string(response.status) + " " + response.body;
            if (allowed) {
                BOOST_TEST((response.status != 401 && response.status != 403 && response.status < 500), what);
            } else {
                BOOST_TEST(response.status == 403, what);
                BOOST_TEST(response.field("code") == "forbidden", what);
                // The message names the roles that may.
                BOOST_TEST(response.field("message").find(server::roleList(route.roles)) != std::string::npos, what);
            }
            ++checked;
        }
        BOOST_TEST((std::find(route.roles.begin(), route.roles.end(), auth::Role::kAdmin) != route.roles.end()),
                   route.pattern + ": admin may do everything");
    }
    BOOST_TEST(checked >= 30 * 5);
}

BOOST_AUTO_TEST_CASE(missing_unknown_and_revoked_keys_get_401_with_a_challenge) {
    Request none;
    none.path = "/api/v1/items";
    auto r = send(none);
    BOOST_TEST(r.status == 401);
    BOOST_TEST(r.field("code") == "unauthenticated");
    BOOST_TEST(r.header("WWW-Authenticate").find("Bearer") == 0u);

    Request unknown = none;
    unknown.token = "keel_000000000000_" + std::string(64, '0');
    BOOST_TEST(send(unknown).status == 401);
    Request garbage = none;
    garbage.headers["Authorization"] = "Basic dXNlcjpwdw==";
    BOOST_TEST(send(garbage).status == 401);

    // X-Api-Key works as well as Authorization: Bearer.
    Request header = none;
    header.headers["X-Api-Key"] = tokens[auth::Role::kReadOnly];
    BOOST_TEST(send(header).status == 200);

    auto revoked = db.run([&](db::UnitOfWork& uow) { return keys.revoke(uow, "test-read-only", "test"); });
    BOOST_TEST_REQUIRE(revoked.ok());
    // keeld trusts a key it authenticated for server.auth_cache_seconds (1 here), then asks the database again.
    BOOST_TEST(send(header).status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    BOOST_TEST(send(header).status == 401);
    BOOST_TEST(send(header).status == 401);  // a refusal is not cached as a success

    // The unauthenticated endpoints stay open.
    BOOST_TEST(send(Request{"GET", "/healthz", "", "", "", {}}).status == 200);
    BOOST_TEST(send(Request{"GET", "/readyz", "", "", "", {}}).status == 200);
    BOOST_TEST(send(Request{"GET", "/metrics", "", "", "", {}}).status == 200);
    const auto document = send(Request{"GET", "/api/v1/openapi.json", "", "", "", {}});
    BOOST_TEST(document.status == 200);
    BOOST_TEST(document.field("openapi").rfind("3.", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(bad_requests_get_consistent_error_bodies) {
    auto malformed = post("/api/v1/items", "{\"sku\": \"A\",\n \"name\": }");
    BOOST_TEST(malformed.status == 400);
    BOOST_TEST(malformed.field("code") == "malformed_json");
    // POCO names no position; keeld finds it: the '}' where a value should be.
    BOOST_TEST(malformed.field("message").find("at line 2, column 10") != std::string::npos, malformed.body);
    const auto unterminated = post("/api/v1/items", "[1, 2");
    BOOST_TEST(unterminated.status == 400);
    BOOST_TEST(unterminated.field("message").find("at line 1, column 6") != std::string::npos, unterminated.body);
    const auto not_object = post("/api/v1/items", "[1, 2]");
    BOOST_TEST(not_object.status == 400);
    BOOST_TEST(not_object.field("code") == "malformed_json");
    BOOST_TEST_MESSAGE("malformed JSON: " << malformed.body);

    Request text;
    text.method = "POST";
    text.path = "/api/v1/items";
    text.token = tokens[auth::Role::kAdmin];
    text.body = "sku=A";
    text.content_type = "text/plain";
    const auto wrong_type = send(text);
    BOOST_TEST(wrong_type.status == 415);
    BOOST_TEST(wrong_type.field("code") == "unsupported_media_type");

    const auto big = post("/api/v1/items", "{\"sku\":\"" + std::string(kMaxBody, 'x') + "\"}");
    BOOST_TEST(big.status == 413);
    BOOST_TEST(big.field("code") == "payload_too_large");

    const auto missing = post("/api/v1/items", R"({"name":"no sku"})");
    BOOST_TEST(missing.status == 422);
    BOOST_TEST(missing.field("field") == "sku");
    const auto wrong_field = post("/api/v1/items", R"({"sku":"A","name":"A","safety_stock":"many"})");
    BOOST_TEST(wrong_field.status == 422);
    BOOST_TEST(wrong_field.field("field") == "safety_stock");

    BOOST_TEST(get("/api/v1/nothing-here").status == 404);
    BOOST_TEST(get("/api/v1/items/NO-SUCH-SKU").status == 404);
    BOOST_TEST(get("/api/v1/items/NO-SUCH-SKU").field("code") == "not_found");
    Request remove;
    remove.method = "DELETE";
    remove.path = "/api/v1/items";
    remove.token = tokens[auth::Role::kAdmin];
    const auto not_allowed = send(remove);
    BOOST_TEST(not_allowed.status == 405);
    BOOST_TEST(not_allowed.header("Allow") == "GET, POST");
    BOOST_TEST(get("/api/v1/orders?limit=0").status == 400);
    BOOST_TEST(get("/api/v1/orders?state=nonsense").field("field") == "state");

    BOOST_TEST(post("/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US","region":"IL"})").status == 201);
    const auto twice = post("/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US","region":"IL"})");
    BOOST_TEST(twice.status == 409);
    BOOST_TEST(twice.field("field") == "code");
}

BOOST_AUTO_TEST_CASE(an_order_created_twice_with_one_idempotency_key_is_one_order) {
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    const std::string document = orderDocument("W-1", 2);
    const auto without = post("/api/v1/orders", document, auth::Role::kIntegration);
    BOOST_TEST(without.status == 400);
    BOOST_TEST(without.field("field") == "Idempotency-Key");

    const auto first = post("/api/v1/orders", document, auth::Role::kIntegration, {{"Idempotency-Key", "k-1"}});
    BOOST_TEST_REQUIRE(first.status == 201, first.body);
    const auto again = post("/api/v1/orders", document, auth::Role::kIntegration, {{"Idempotency-Key", "k-1"}});
    BOOST_TEST(again.status == 200, again.body);
    BOOST_TEST(again.field("id") == first.field("id"));
    BOOST_TEST(again.header("Idempotent-Replayed") == "true");
    const auto other =
        post("/api/v1/orders", orderDocument("W-2", 1), auth::Role::kIntegration, {{"Idempotency-Key", "k-1"}});
    BOOST_TEST(other.status == 422);
    BOOST_TEST(other.field("field") == "Idempotency-Key");

    const auto list = get("/api/v1/orders?channel=web").json();
    BOOST_TEST(list->getArray("orders")->size() == 1u);
    const auto mine = get("/api/v1/orders?channel=web&external_id=W-1", auth::Role::kIntegration).json();
    BOOST_TEST_REQUIRE(mine->getArray("orders")->size() == 1u);
    BOOST_TEST(mine->getArray("orders")->getObject(0)->getValue<std::string>("id") == first.field("id"));
    BOOST_TEST(get("/api/v1/orders?channel=web&external_id=W-404").json()->getArray("orders")->size() == 0u);
    BOOST_TEST(get("/api/v1/orders?external_id=W-1").field("field") == "channel");

    const auto bad =
        post("/api/v1/orders", R"({"channel":"web"})", auth::Role::kIntegration, {{"Idempotency-Key", "k-2"}});
    BOOST_TEST(bad.status == 422);
    BOOST_TEST(!bad.field("field").empty());
}

BOOST_AUTO_TEST_CASE(concurrent_retries_with_one_idempotency_key_create_one_order) {
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    const std::string document = orderDocument("W-RACE", 1);
    std::vector<int> statuses(4);
    std::vector<std::string> ids(4);
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        clients.emplace_back([&, i] {
            const auto r = post("/api/v1/orders", document, auth::Role::kIntegration, {{"Idempotency-Key", "race"}});
            statuses[i] = r.status;
            if (r.status < 300) ids[i] = r.field("id");
        });
    }
    for (auto& c : clients) c.join();
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 201) == 1);
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 200) == 3);
    for (const auto& id : ids) BOOST_TEST(id == ids.front());
    BOOST_TEST(get("/api/v1/orders").json()->getArray("orders")->size() == 1u);
}

BOOST_AUTO_TEST_CASE(concurrent_creations_with_refusals_among_them_each_get_their_own_answer) {
    // On SQLite, orders that arrive while another commits share a commit (server.group_commit); a refused one among
    // them must neither take the others down nor be committed with them.
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    constexpr int kClients = 4;
    constexpr int kEach = 15;
    std::vector<std::vector<int>> statuses(kClients, std::vector<int>(kEach));
    std::vector<std::vector<std::string>> ids(kClients, std::vector<std::string>(kEach));
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; i < kEach; ++i) {
                const std::string mine = std::to_string(c) + "-" + std::to_string(i);
                const std::string previous = std::to_string(c) + "-" + std::to_string(i - 1);
                // Every fifth request reuses the previous key for another document: 422, nothing stored.
                const bool reuse = i % 5 == 4;
                const auto r = reuse ? post("/api/v1/orders", orderDocument("G-" + mine, 2), auth::Role::kIntegration,
                                            {{"Idempotency-Key", "g-" + previous}})
                                     : post("/api/v1/orders", orderDocument("G-" + mine, 1), auth::Role::kIntegration,
                                            {{"Idempotency-Key", "g-" + mine}});
                statuses[c][i] = r.status;
                if (r.status == 201) ids[c][i] = r.field("id");
            }
        });
    }
    for (auto& t : clients) t.join();
    std::size_t created = 0;
    for (int c = 0; c < kClients; ++c) {
        for (int i = 0; i < kEach; ++i) {
            BOOST_TEST(statuses[c][i] == (i % 5 == 4 ? 422 : 201), "client " << c << " request " << i);
            if (statuses[c][i] != 201) continue;
            ++created;
            // Committed for good: a replay answers the same order.
            const auto again = post(
                "/api/v1/orders", orderDocument("G-" + std::to_string(c) + "-" + std::to_string(i), 1),
                auth::Role::kIntegration, {{"Idempotency-Key", "g-" + std::to_string(c) + "-" + std::to_string(i)}});
            BOOST_TEST(again.status == 200);
            BOOST_TEST(again.field("id") == ids[c][i]);
        }
    }
    BOOST_TEST(created == static_cast<std::size_t>(kClients * (kEach - kEach / 5)));
    BOOST_TEST(get("/api/v1/orders?limit=1000").json()->getArray("orders")->size() == created);
    // /metrics counts the intake's units: every creation and replay above on SQLite, none elsewhere (no grouping).
    const auto metrics_text = send(Request{"GET", "/metrics", "", "", "", {}}).body;
    const std::string units = std::to_string(test.backend() == db::Backend::kSQLite ? kClients * kEach + created : 0);
    BOOST_TEST(
        metrics_text.find("keel_group_commit_units_total{group=\"order_intake\"} " + units + "\n") != std::string::npos,
        metrics_text);
    BOOST_TEST(metrics_text.find("keel_group_commit_fallbacks_total{group=\"order_intake\"} ") != std::string::npos);
    // SQLite's write-ahead log is copied back by the database's own thread, which these commits woke.
    const bool sqlite = test.backend() == db::Backend::kSQLite;
    BOOST_TEST((metrics_text.find("keel_sqlite_checkpoints_total ") != std::string::npos) == sqlite);
    BOOST_TEST((metrics_text.find("keel_sqlite_checkpoints_total 0\n") == std::string::npos));
    BOOST_TEST((metrics_text.find("keel_sqlite_checkpoint_failures_total 0\n") != std::string::npos) == sqlite);
}

BOOST_AUTO_TEST_CASE(concurrent_order_changes_with_refusals_among_them_each_get_their_own_answer) {
    // On SQLite, changes of orders and shipments that arrive while another commits share a commit as creations do
    // (server.group_commit, group "order_changes"); a refused change among them neither takes the others down nor is
    // committed with them.
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    BOOST_TEST_REQUIRE(
        post("/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US","region":"IL"})").status == 201);
    BOOST_TEST_REQUIRE(
        post("/api/v1/stock/receipts", R"({"sku":"SKU-1","location":"WH1","quantity":100})", auth::Role::kOperations)
            .status == 201);
    constexpr int kClients = 4;
    constexpr int kEach = 5;
    // Per order: allocate, release, confirm, confirm again (409: already shipped), deliver.
    const std::vector<int> expected{200, 201, 200, 409, 200};
    std::vector<std::vector<std::vector<int>>> statuses(
        kClients, std::vector<std::vector<int>>(kEach, std::vector<int>(expected.size())));
    std::vector<std::vector<std::string>> orders(kClients, std::vector<std::string>(kEach));
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            for (int i = 0; i < kEach; ++i) {
                const std::string mine = std::to_string(c) + "-" + std::to_string(i);
                const auto created = post("/api/v1/orders", orderDocument("CH-" + mine, 1), auth::Role::kIntegration,
                                          {{"Idempotency-Key", "ch-" + mine}});
                if (created.status != 201) continue;
                const std::string order = orders[c][i] = created.field("id");
                auto& answered = statuses[c][i];
                answered[0] = post("/api/v1/orders/" + order + "/allocate", "", auth::Role::kOperations).status;
                const auto released = post("/api/v1/orders/" + order + "/shipments", "", auth::Role::kOperations);
                answered[1] = released.status;
                if (released.status != 201) continue;
                const std::string shipment = released.json()->getArray("shipments")->getElement<std::string>(0);
                answered[2] =
                    post("/api/v1/shipments/" + shipment + "/confirm", R"({"carrier":"UPS"})", auth::Role::kIntegration)
                        .status;
                answered[3] = post("/api/v1/shipments/" + shipment + "/confirm", "{}", auth::Role::kIntegration).status;
                answered[4] = post("/api/v1/shipments/" + shipment + "/delivery", R"({"proof":"signed"})",
                                   auth::Role::kIntegration)
                                  .status;
            }
        });
    }
    for (auto& t : clients) t.join();
    for (int c = 0; c < kClients; ++c) {
        for (int i = 0; i < kEach; ++i) {
            BOOST_TEST_REQUIRE(!orders[c][i].empty(), "client " << c << " order " << i << " was not created");
            for (std::size_t step = 0; step < expected.size(); ++step) {
                BOOST_TEST(statuses[c][i][step] == expected[step],
                           "client " << c << " order " << i << " step " << step);
            }
            BOOST_TEST(get("/api/v1/orders/" + orders[c][i], auth::Role::kReadOnly).field("state") == "invoiced");
        }
    }
    // Delivered and invoiced in full (keeld invoices each shipment as it ships); every unit shipped left the location
    // once: 100 received, 20 shipped, nothing still allocated.
    BOOST_TEST(get("/api/v1/atp/SKU-1", auth::Role::kReadOnly).json()->getValue<Poco::Int64>("available") == 80);
    const auto metrics_text = send(Request{"GET", "/metrics", "", "", "", {}}).body;
    const std::string units = std::to_string(
        test.backend() == db::Backend::kSQLite ? kClients * kEach * static_cast<int>(expected.size()) : 0);
    BOOST_TEST(metrics_text.find("keel_group_commit_units_total{group=\"order_changes\"} " + units + "\n") !=
                   std::string::npos,
               metrics_text);
}

BOOST_AUTO_TEST_CASE(the_same_item_created_at_once_is_one_201_and_conflicts) {
    std::vector<int> statuses(4);
    std::vector<std::thread> clients;
    for (std::size_t i = 0; i < statuses.size(); ++i) {
        clients.emplace_back([&, i] {
            const auto r = post("/api/v1/items", R"({"sku":"SKU-SAME","name":"Same"})", auth::Role::kOperations);
            statuses[i] = r.status;
        });
    }
    for (auto& c : clients) c.join();
    // A database unique violation from the race is a 409 like the check's, never a 5xx.
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 201) == 1);
    BOOST_TEST(std::count(statuses.begin(), statuses.end(), 409) == 3);
}

BOOST_AUTO_TEST_CASE(a_walk_from_item_to_shipped_order_shows_in_events_and_metrics) {
    BOOST_TEST_REQUIRE(
        post("/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US","region":"IL"})").status == 201);
    const auto item = post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget","units":[{"uom":"case","factor":12}]})");
    BOOST_TEST_REQUIRE(item.status == 201, item.body);
    BOOST_TEST(item.header("Location") == "/api/v1/items/SKU-1");
    BOOST_TEST(post("/api/v1/items/SKU-1/aliases", R"({"channel":"amazon","channel_sku":"AMZ-1"})").status == 201);
    BOOST_TEST(get("/api/v1/items/SKU-1").json()->getArray("aliases")->size() == 1u);
    const auto changed = send(Request{"PUT",
                                      "/api/v1/items/SKU-1",
                                      tokens[auth::Role::kOperations],
                                      R"({"name":"Blue widget"})",
                                      "application/json",
                                      {}});
    BOOST_TEST(changed.status == 200, changed.body);
    BOOST_TEST(changed.field("name") == "Blue widget");
    BOOST_TEST(get("/api/v1/items?sku_prefix=SKU").json()->getArray("items")->size() == 1u);

    const auto received =
        post("/api/v1/stock/receipts", R"({"sku":"SKU-1","location":"WH1","quantity":10,"unit_cost":"7.50"})",
             auth::Role::kOperations);
    BOOST_TEST_REQUIRE(received.status == 201, received.body);

    const auto created =
        post("/api/v1/orders", orderDocument("W-1001", 3), auth::Role::kIntegration, {{"Idempotency-Key", "walk-1"}});
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    const std::string order = created.field("id");
    BOOST_TEST(created.field("total") == "64.97");  // 3 x 19.99 + 5.00 shipping, no tax configured

    const auto allocated = post("/api/v1/orders/" + order + "/allocate", "", auth::Role::kOperations);
    BOOST_TEST_REQUIRE(allocated.status == 200, allocated.body);
    BOOST_TEST(allocated.field("state") == "allocated");
    BOOST_TEST(get("/api/v1/atp/SKU-1", auth::Role::kReadOnly).json()->getValue<Poco::Int64>("available") == 7);
    BOOST_TEST(get("/api/v1/atp/AMZ-1?channel=amazon").json()->getValue<Poco::Int64>("available") == 7);
    BOOST_TEST(get("/api/v1/stock/SKU-1?location=WH1").json()->getArray("balances")->size() == 1u);
    BOOST_TEST(get("/api/v1/locations/WH1/stock").json()->getArray("balances")->size() == 1u);

    const auto released = post("/api/v1/orders/" + order + "/shipments", "", auth::Role::kOperations);
    BOOST_TEST_REQUIRE(released.status == 201, released.body);
    const std::string shipment = released.json()->getArray("shipments")->getElement<std::string>(0);
    const auto confirmed = post("/api/v1/shipments/" + shipment + "/confirm", R"({"carrier":"UPS","tracking":"1Z999"})",
                                auth::Role::kIntegration);
    BOOST_TEST_REQUIRE(confirmed.status == 200, confirmed.body);
    BOOST_TEST(confirmed.field("state") == "shipped");
    const auto shown = get("/api/v1/orders/" + order, auth::Role::kReadOnly);
    BOOST_TEST(shown.field("state") == "shipped");
    BOOST_TEST(get("/api/v1/orders/" + order + "/shipments").json()->getArray("shipments")->size() == 1u);
    // Confirming again is a conflict with the shipment's state.
    BOOST_TEST(post("/api/v1/shipments/" + shipment + "/confirm", "{}").status == 409);

    const auto rma = post("/api/v1/orders/" + order + "/returns",
                          R"({"reason":"damaged","lines":[{"line":1,"quantity":1}]})", auth::Role::kOperations);
    BOOST_TEST(rma.status == 201, rma.body);
    BOOST_TEST(get("/api/v1/orders/" + order + "/returns", auth::Role::kFinance).json()->getArray("returns")->size() ==
               1u);

    // The feed: every event of the walk, numbered, after=0 onwards, paged by next_after.
    const auto feed = get("/api/v1/events?after=0&limit=1000", auth::Role::kIntegration).json();
    std::set<std::string> types;
    const auto list = feed->getArray("events");
    for (std::size_t i = 0; i < list->size(); ++i)
        types.insert(list->getObject(static_cast<unsigned>(i))->getValue<std::string>("type"));
    for (const char* type : {"order.allocated", "shipment.shipped", "stock.moved"}) {
        BOOST_TEST(types.count(type) == 1u, type);
    }
    const auto next = feed->getValue<Poco::Int64>("next_after");
    BOOST_TEST(next > 0);
    BOOST_TEST(get("/api/v1/events?after=" + std::to_string(next), auth::Role::kIntegration)
                   .json()
                   ->getArray("events")
                   ->size() == 0u);

    const auto tb = get("/api/v1/ledger/trial-balance", auth::Role::kFinance);
    BOOST_TEST_REQUIRE(tb.status == 200, tb.body);
    BOOST_TEST(tb.field("total_debit") == tb.field("total_credit"));
    BOOST_TEST(get("/api/v1/ledger/pnl", auth::Role::kFinance).status == 200);
    BOOST_TEST(get("/api/v1/ledger/pnl?from=yesterday", auth::Role::kFinance).status == 400);
    BOOST_TEST(get("/api/v1/exceptions").status == 200);
    BOOST_TEST(get("/api/v1/plugins").status == 200);

    // A subscriber that has delivered nothing yet lags by every numbered event.
    db.run([&](db::UnitOfWork& uow) {
        uow.statement(
               "INSERT INTO event_subscription (subscriber, position, attempts, next_attempt_at, last_error, "
               "delivered, "
               "delivered_at, updated_at) VALUES ('audit-sink', 0, 0, 0, '', 0, 0, 0)")
            .execute();
    });
    const auto metrics_text = send(Request{"GET", "/metrics", "", "", "", {}}).body;
    BOOST_TEST(
        metrics_text.find("keel_outbox_lag{subscriber=\"audit-sink\"} " + std::to_string(next)) != std::string::npos,
        metrics_text);
    BOOST_TEST(metrics_text.find("keel_orders{state=\"shipped\"} 1") != std::string::npos, metrics_text);
    BOOST_TEST(metrics_text.find("keel_exception_queue_size 0") != std::string::npos);
    BOOST_TEST(metrics_text.find("keel_http_request_duration_seconds_count{route=\"POST /api/v1/orders\"} 1") !=
               std::string::npos);
    BOOST_TEST(
        metrics_text.find("keel_http_requests_total{route=\"POST /api/v1/shipments/{id}/confirm\",status=\"409\"} 1") !=
        std::string::npos);
    BOOST_TEST(metrics_text.find("keel_metrics_database_up 1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(held_orders_are_released_or_rejected_from_the_exception_queue) {
    // An unknown SKU holds the order at intake.
    const auto created =
        post("/api/v1/orders", orderDocument("W-7", 1), auth::Role::kIntegration, {{"Idempotency-Key", "held"}});
    BOOST_TEST_REQUIRE(created.status == 201, created.body);
    BOOST_TEST(created.field("state") == "on_hold");
    const auto queue = get("/api/v1/exceptions", auth::Role::kReadOnly).json()->getArray("exceptions");
    BOOST_TEST(queue->size() == 1u);
    BOOST_TEST(send(Request{"GET", "/metrics", "", "", "", {}}).body.find("keel_exception_queue_size 1") !=
               std::string::npos);
    const auto no_reason = post("/api/v1/exceptions/" + created.field("id") + "/reject", "{}", auth::Role::kOperations);
    BOOST_TEST(no_reason.status == 422);
    BOOST_TEST(no_reason.field("field") == "reason");
    const auto rejected = post("/api/v1/exceptions/" + created.field("id") + "/reject", R"({"reason":"unknown SKU"})",
                               auth::Role::kOperations);
    BOOST_TEST(rejected.status == 200, rejected.body);
    BOOST_TEST(rejected.field("state") == "rejected");
}

BOOST_AUTO_TEST_CASE(whoami_and_the_dashboard_reports_answer_from_the_database) {
    // whoami lists what the key's role may call, from the route table itself.
    const auto ops = get("/api/v1/whoami", auth::Role::kOperations);
    BOOST_TEST_REQUIRE(ops.status == 200, ops.body);
    BOOST_TEST(ops.field("role") == "operations");
    auto allows = [](const Response& r, const std::string& route) {
        const auto list = r.json()->getArray("allowed");
        for (std::size_t i = 0; i < list->size(); ++i) {
            if (list->getElement<std::string>(static_cast<unsigned>(i)) == route) return true;
        }
        return false;
    };
    BOOST_TEST(allows(ops, "POST /api/v1/exceptions/{id}/release"));
    BOOST_TEST(!allows(ops, "GET /api/v1/ledger/pnl"));
    const auto reader = get("/api/v1/whoami", auth::Role::kReadOnly);
    BOOST_TEST(!allows(reader, "POST /api/v1/exceptions/{id}/release"));
    BOOST_TEST(allows(reader, "GET /api/v1/ledger/pnl"));

    // Inventory: one item of each kind of trouble, and a lot close to its expiry.
    BOOST_TEST_REQUIRE(
        post("/api/v1/locations", R"({"code":"WH1","name":"Main","country":"US","region":"IL"})").status == 201);
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget","safety_stock":2})").status == 201);
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-LOW","name":"Low","safety_stock":5})").status == 201);
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-NONE","name":"None"})").status == 201);
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-MANY","name":"Many","safety_stock":1})").status == 201);
    BOOST_TEST_REQUIRE(
        post("/api/v1/items", R"({"sku":"SKU-LOT","name":"Lot","lot_tracked":true,"expiry_tracked":true})").status ==
        201);
    const std::string soon = Date::today(Clock::system()).plusDays(5).toString();
    for (const std::string& body : std::vector<std::string>{
             R"({"sku":"SKU-1","location":"WH1","quantity":10})", R"({"sku":"SKU-LOW","location":"WH1","quantity":3})",
             R"({"sku":"SKU-MANY","location":"WH1","quantity":40})",
             R"({"sku":"SKU-LOT","location":"WH1","quantity":4,"lot":"L-1","expiry":")" + soon + "\"}"}) {
        const auto r = post("/api/v1/stock/receipts", body, auth::Role::kOperations);
        BOOST_TEST_REQUIRE(r.status == 201, r.body);
    }
    const auto health = get("/api/v1/reports/inventory-health", auth::Role::kReadOnly);
    BOOST_TEST_REQUIRE(health.status == 200, health.body);
    const auto summary = health.json()->getObject("summary");
    BOOST_TEST(summary->getValue<Poco::Int64>("stockout") == 1);
    BOOST_TEST(summary->getValue<Poco::Int64>("below_safety") == 1);
    BOOST_TEST(summary->getValue<Poco::Int64>("overstock") == 1);
    BOOST_TEST(summary->getValue<Poco::Int64>("ok") == 2);
    BOOST_TEST(summary->getValue<Poco::Int64>("expiring_lots") == 1);
    const auto expiring = health.json()->getArray("expiring")->getObject(0);
    BOOST_TEST(expiring->getValue<std::string>("lot") == "L-1");
    BOOST_TEST(expiring->getValue<int>("days_left") == 5);
    BOOST_TEST(get("/api/v1/reports/inventory-health?expiring_days=2")
                   .json()
                   ->getObject("summary")
                   ->getValue<Poco::Int64>("expiring_lots") == 0);
    BOOST_TEST(get("/api/v1/reports/inventory-health?overstock_factor=1").status == 400);

    // Throughput: two orders in, one allocated and shipped, one held.
    const auto first =
        post("/api/v1/orders", orderDocument("W-1", 3), auth::Role::kIntegration, {{"Idempotency-Key", "t-1"}});
    BOOST_TEST_REQUIRE(first.status == 201, first.body);
    const std::string id = first.field("id");
    BOOST_TEST_REQUIRE(post("/api/v1/orders/" + id + "/allocate", "", auth::Role::kOperations).status == 200);
    const auto released = post("/api/v1/orders/" + id + "/shipments", "", auth::Role::kOperations);
    BOOST_TEST_REQUIRE(released.status == 201, released.body);
    const std::string shipment = released.json()->getArray("shipments")->getElement<std::string>(0);
    BOOST_TEST_REQUIRE(post("/api/v1/shipments/" + shipment + "/confirm", "{}", auth::Role::kOperations).status == 200);
    const auto second =
        post("/api/v1/orders", orderDocument("W-2", 1), auth::Role::kIntegration, {{"Idempotency-Key", "t-2"}});
    BOOST_TEST_REQUIRE(second.status == 201, second.body);
    BOOST_TEST_REQUIRE(
        post("/api/v1/orders/" + second.field("id") + "/hold", R"({"reason":"check"})", auth::Role::kOperations)
            .status == 200);

    const auto flow = get("/api/v1/reports/throughput?days=3", auth::Role::kOperations);
    BOOST_TEST_REQUIRE(flow.status == 200, flow.body);
    const auto series = flow.json()->getArray("series");
    BOOST_TEST_REQUIRE(series->size() == 3u);
    const auto today = series->getObject(2);
    BOOST_TEST(today->getValue<std::string>("date") == Date::today(Clock::system()).toString());
    BOOST_TEST(today->getValue<Poco::Int64>("received") == 2);
    BOOST_TEST(today->getValue<Poco::Int64>("allocated") == 1);
    BOOST_TEST(today->getValue<Poco::Int64>("released") == 1);
    BOOST_TEST(today->getValue<Poco::Int64>("shipped") == 1);
    BOOST_TEST(today->getValue<Poco::Int64>("held") == 1);
    BOOST_TEST(flow.json()->getObject("wip")->getObject("held")->getValue<Poco::Int64>("orders") == 1);
    BOOST_TEST(flow.field("bottleneck") == "held");
    const auto fill = flow.json()->getObject("fill_rate");
    BOOST_TEST(fill->getValue<Poco::Int64>("units_wanted") == 4);
    BOOST_TEST(fill->getValue<Poco::Int64>("units_filled") == 3);
    BOOST_TEST(fill->getValue<Poco::Int64>("orders_allocated") == 1);
    BOOST_TEST(fill->getValue<Poco::Int64>("orders_filled_first_time") == 1);
    BOOST_TEST(get("/api/v1/reports/throughput", auth::Role::kFinance).status == 403);
    BOOST_TEST(get("/api/v1/reports/throughput?days=0").status == 400);
}

BOOST_AUTO_TEST_CASE(a_write_is_recorded_with_the_key_that_made_it_even_a_long_named_one) {
    const std::string name(64, 'k');
    auto created = db.run([&](db::UnitOfWork& uow) { return keys.create(uow, name, auth::Role::kOperations, "test"); });
    BOOST_TEST_REQUIRE(created.ok());
    Request r;
    r.method = "POST";
    r.path = "/api/v1/locations";
    r.token = created.value().token;
    r.body = R"({"code":"WH9","name":"Nine","country":"US"})";
    BOOST_TEST_REQUIRE(send(r).status == 201);
    BOOST_TEST(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    r.path = "/api/v1/stock/receipts";
    r.body = R"({"sku":"SKU-1","location":"WH9","quantity":2})";
    const auto received = send(r);
    BOOST_TEST_REQUIRE(received.status == 201, received.body);
    // The stock move carries the key's name as its actor (cut to the column's 64 characters).
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT actor FROM stock_move WHERE id = ?");
        s.bind(received.field("move_id")).execute();
        BOOST_TEST_REQUIRE(s.next());
        BOOST_TEST(s.getString(0) == ("api:" + name).substr(0, 64));
    });
}

BOOST_AUTO_TEST_CASE(an_x12_upload_is_parsed_and_envelope_validated) {
    const std::string isa =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261126*1200*U*00401*000000001*0*P*>~";
    const std::string valid = isa +
                              "GS*PO*SENDER*RECEIVER*20261126*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO-1**20261126~"
                              "SE*3*0001~GE*1*1~IEA*1*000000001~";
    Request upload;
    upload.method = "POST";
    upload.path = "/api/v1/edi/inbound";
    upload.token = tokens[auth::Role::kIntegration];
    upload.content_type = "application/edi-x12";
    upload.body = valid;
    const auto ok = send(upload);
    BOOST_TEST(ok.status == 200, ok.body);
    BOOST_TEST(ok.json()->getValue<bool>("valid"));
    BOOST_TEST(ok.json()->getValue<Poco::UInt64>("transaction_sets") == 1u);
    upload.body = isa + "GS*PO*SENDER*RECEIVER*20261126*1200*1*X*004010~ST*850*0001~SE*9*0001~GE*1*1~IEA*1*000000001~";
    const auto bad = send(upload);
    BOOST_TEST(bad.status == 422, bad.body);
    BOOST_TEST(bad.field("code") == "rejected");
    BOOST_TEST(!bad.json()->getValue<bool>("valid"));
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// Tax through the test plugin's instance "plugin-tax", which fails while its fail file says so; its breaker opens
/// after 2 failures.
struct PluginApiFixture : ApiFixture {
    PluginApiFixture()
        : ApiFixture([](Poco::Util::MapConfiguration& c, const std::string& dir) {
              std::ofstream(dir + "/plugin-tax.properties")
                  << "plugin = test-good\nrate = 0.0625\nfail_file = " << dir << "/fail\n";
              c.setString("plugins.directory", std::string(KEEL_TEST_PLUGINS_DIR) + "/good");
              c.setString("plugins.allow_unsigned", "true");
              c.setString("plugins.breaker.failures", "2");
              c.setString("tax.plugin", "plugin-tax");
          }) {}
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_plugins, PluginApiFixture)

BOOST_AUTO_TEST_CASE(an_open_breaker_shows_in_plugins_exceptions_and_metrics) {
    BOOST_TEST_REQUIRE(post("/api/v1/items", R"({"sku":"SKU-1","name":"Widget"})").status == 201);
    const auto plugins = get("/api/v1/plugins", auth::Role::kReadOnly).json();
    BOOST_TEST(plugins->getValue<bool>("loaded"));
    BOOST_TEST_REQUIRE(plugins->getArray("instances")->size() == 1u);
    BOOST_TEST(!plugins->getArray("instances")->getObject(0)->getValue<bool>("breaker_open"));
    const auto taxed =
        post("/api/v1/orders", orderDocument("W-1", 2), auth::Role::kIntegration, {{"Idempotency-Key", "1"}});
    BOOST_TEST_REQUIRE(taxed.status == 201, taxed.body);
    BOOST_TEST(taxed.field("tax_total") == "2.81");  // 39.98 x 6.25 % = 2.50, + 0.31 on shipping

    std::ofstream(plugins_dir.path + "/fail") << "unavailable";
    for (const char* id : {"W-2", "W-3"}) {
        const auto held =
            post("/api/v1/orders", orderDocument(id, 1), auth::Role::kIntegration, {{"Idempotency-Key", id}});
        BOOST_TEST(held.status == 201, held.body);
        BOOST_TEST(held.field("state") == "on_hold");
    }
    const auto open = get("/api/v1/plugins").json()->getArray("instances")->getObject(0);
    BOOST_TEST(open->getValue<bool>("breaker_open"));
    BOOST_TEST(open->getValue<std::string>("state") == "suspended");
    // The intake's unit of work could not write the breaker's exception row; the API flushed it afterwards.
    const auto queue = get("/api/v1/exceptions", auth::Role::kOperations).json();
    BOOST_TEST(queue->getArray("exceptions")->size() == 2u);
    BOOST_TEST_REQUIRE(queue->getArray("integrations")->size() == 1u);
    BOOST_TEST(queue->getArray("integrations")->getObject(0)->getValue<std::string>("code") == "breaker_open");
    const auto metrics_text = send(Request{"GET", "/metrics", "", "", "", {}}).body;
    BOOST_TEST(metrics_text.find("keel_plugin_breaker_open{instance=\"plugin-tax\",plugin=\"test-good\"} 1") !=
                   std::string::npos,
               metrics_text);
    BOOST_TEST(metrics_text.find("keel_integration_exceptions 1") != std::string::npos);
    BOOST_TEST(metrics_text.find("keel_exception_queue_size 2") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The edi-x12 plugin of the build tree with one partner profile: uploads with ?partner= are stored, translated and
/// taken in, as keel edi receive does.
struct EdiApiFixture : ApiFixture {
    EdiApiFixture()
        : ApiFixture([](Poco::Util::MapConfiguration& c, const std::string& dir) {
              std::filesystem::create_directories(dir + "/partners");
              std::ofstream(dir + "/edi.properties") << "plugin = edi-x12\npartners = " << dir << "/partners\n";
              std::ofstream(dir + "/partners/sender.properties")
                  << "isa.qualifier = ZZ\nisa.id = SENDER\nour.isa.qualifier = ZZ\nour.isa.id = RECEIVER\n"
                     "customer = SENDER-CO\nitems = VN\n";
              c.setString("plugins.directory", KEEL_EDI_PLUGIN_DIR);
              c.setString("plugins.allow_unsigned", "true");
              c.setString("edi.partners", dir + "/partners");
          }) {}
};

const std::string kPartnerOrder =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261126*1200*U*00401*000000001*0*P*>~"
    "GS*PO*SENDER*RECEIVER*20261126*1200*1*X*004010~ST*850*0001~BEG*00*SA*PO-API-1**20261126~"
    "N1*ST*Dock 4~N4*Chicago*IL*60601~PO1*1*2*EA*3.50**VN*SKU-1~CTT*1~SE*7*0001~GE*1*1~IEA*1*000000001~";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(api_edi, EdiApiFixture)

BOOST_AUTO_TEST_CASE(an_upload_for_a_partner_is_stored_and_becomes_an_order_once) {
    Request upload;
    upload.method = "POST";
    upload.path = "/api/v1/edi/inbound?partner=sender&name=po.edi";
    upload.token = tokens[auth::Role::kIntegration];
    upload.content_type = "application/edi-x12";
    upload.body = kPartnerOrder;
    const auto first = send(upload);
    BOOST_TEST_REQUIRE(first.status == 200, first.body);
    BOOST_TEST(first.field("status") == "processed");
    const auto order = first.json()->getArray("orders")->getObject(0);
    BOOST_TEST(order->getValue<std::string>("external_id") == "PO-API-1");
    BOOST_TEST(order->getValue<std::string>("status") == "created");
    BOOST_TEST(first.field("ack").find("AK9*A*1*1*1") != std::string::npos, first.body);
    // The order is there for the API, in the partner's channel.
    const auto found = get("/api/v1/orders/" + order->getValue<std::string>("order_id"), auth::Role::kReadOnly);
    BOOST_TEST(found.status == 200, found.body);
    BOOST_TEST(found.field("channel") == "edi.sender");
    // Uploaded again: the same interchange (sender, receiver, ISA13) was received before. Stored, answered with a
    // TA1, not taken in again.
    const auto again = send(upload);
    BOOST_TEST(again.status == 422, again.body);
    BOOST_TEST(again.field("code") == "rejected");
    BOOST_TEST(again.field("status") == "rejected");
    BOOST_TEST(again.json()->getArray("orders")->size() == 0u);
    BOOST_TEST(again.json()->getArray("duplicates")->getObject(0)->getValue<std::string>("earlier_message_id") ==
               first.field("message_id"));
    BOOST_TEST(again.field("message").find("was already received in message " + first.field("message_id")) !=
                   std::string::npos,
               again.body);
    BOOST_TEST(again.field("ack").find("TA1*000000001*") != std::string::npos, again.body);
    // The same PO in a new interchange: the same order, not a second one.
    std::string resent = kPartnerOrder;
    for (const char* trailer : {"*000000001*0*P*>~", "IEA*1*000000001~"}) {
        const std::string from(trailer);
        std::string to = from;
        to.replace(to.find("000000001"), 9, "000000002");
        resent.replace(resent.find(from), from.size(), to);
    }
    upload.body = resent;
    const auto po_again = send(upload);
    BOOST_TEST(po_again.status == 200, po_again.body);
    BOOST_TEST(po_again.json()->getArray("orders")->getObject(0)->getValue<std::string>("status") ==
               "already_imported");
    // A partner without a profile: refused, naming the query parameter; nothing is stored under a name nobody has.
    upload.path = "/api/v1/edi/inbound?partner=nobody";
    const auto unknown = send(upload);
    BOOST_TEST(unknown.status == 422, unknown.body);
    BOOST_TEST(unknown.field("code") == "unknown_partner");
    BOOST_TEST(unknown.field("field") == "partner");
    BOOST_TEST(unknown.field("message").find("partner 'nobody' has no profile") != std::string::npos, unknown.body);
    int stored = 0;
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT COUNT(*) FROM edi_message WHERE direction = 'in'");
        s.execute();
        while (s.next()) stored = static_cast<int>(s.getInt64(0));
    });
    BOOST_TEST(stored == 3);
    // Read-only keys may not upload.
    upload.token = tokens[auth::Role::kReadOnly];
    BOOST_TEST(send(upload).status == 403);
}

BOOST_AUTO_TEST_SUITE_END()
