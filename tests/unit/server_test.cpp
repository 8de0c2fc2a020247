#define BOOST_TEST_MODULE server
#include <boost/test/unit_test.hpp>

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/server/api.h"
#include "keel/server/health.h"
#include "keel/server/router.h"
#include "keel/server/ui.h"

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/String.h>
#include <Poco/Util/MapConfiguration.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

using namespace keel;

namespace {

Poco::JSON::Object::Ptr sourceDocument() {
    std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/docs/openapi.json");
    BOOST_TEST_REQUIRE(in.good());
    const std::string text(std::istreambuf_iterator<char>(in), {});
    Poco::JSON::Parser parser;
    return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

/// The API as keeld builds it; nothing here opens the database.
struct ApiTable {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    db::Database database{db::DatabaseOptions{db::parseConnectionString("sqlite:/nonexistent/keel.db"), 1,
                                              std::chrono::milliseconds(10), 1, std::chrono::milliseconds(1)}};
    app::Services services{*config};
    server::Metrics metrics;
    server::Api api{database, services, server::ApiSettings{}, metrics};
};

}  // namespace

BOOST_AUTO_TEST_CASE(openapi_documents_exactly_the_served_routes) {
    const auto document = sourceDocument();
    BOOST_TEST(document->getValue<std::string>("openapi").starts_with("3."));
    // Every documented path and method, and every route keeld serves: the two sets must be equal.
    std::set<std::string> documented;
    std::map<std::string, std::string> documented_roles;
    for (const auto& [path, methods] : *document->getObject("paths")) {
        for (const auto& [method, operation] : *methods.extract<Poco::JSON::Object::Ptr>()) {
            const std::string key = Poco::toUpper(method) + " " + path;
            documented.insert(key);
            const auto op = operation.extract<Poco::JSON::Object::Ptr>();
            if (op->has("x-keel-roles")) {
                std::string roles;
                const auto array = op->getArray("x-keel-roles");
                for (std::size_t i = 0; i < array->size(); ++i) {
                    roles += (roles.empty() ? "" : ", ") + array->getElement<std::string>(static_cast<unsigned>(i));
                }
                documented_roles[key] = roles;
            }
        }
    }
    ApiTable table;
    std::set<std::string> served;
    for (const auto& path : server::routes()) served.insert("GET " + path);
    for (const auto& path : server::uiRoutes()) served.insert("GET " + path);
    for (const auto& route : table.api.router().routes()) {
        const std::string key = route.method + " " + route.pattern;
        served.insert(key);
        // The roles documented are the roles enforced, and authenticated routes say they are.
        if (route.authenticated) {
            BOOST_TEST(documented_roles[key] == server::roleList(route.roles), key);
        } else {
            BOOST_TEST(documented_roles.count(key) == 0u, key);
        }
    }
    for (const auto& key : documented) BOOST_TEST(served.count(key) == 1u, key + " is documented but not served");
    for (const auto& key : served) BOOST_TEST(documented.count(key) == 1u, key + " is served but not documented");
}

namespace {

struct Fetched {
    int status = 0;
    std::string body;
    std::string content_type;
    std::string cache_control;
    std::string etag;
    std::string location;
};

Fetched fetch(int port, const std::string& method, const std::string& uri,
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    Poco::Net::HTTPRequest request(method, uri, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [name, value] : headers) request.set(name, value);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    Fetched out;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), out.body);
    out.status = static_cast<int>(response.getStatus());
    out.content_type = response.getContentType();
    out.cache_control = response.get("Cache-Control", "");
    out.etag = response.get("ETag", "");
    out.location = response.get("Location", "");
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_dashboard_files_are_built_in_and_served_with_their_types_and_nothing_else) {
    // The files keeld carries are the source tree's, byte for byte, and every one of them is there.
    std::size_t on_disk = 0;
    for (const auto& name : {"index.html", "app.js", "app.css", "charts.js"}) {
        std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/modules/server/ui/" + name, std::ios::binary);
        BOOST_TEST_REQUIRE(in.good(), name);
        const std::string text(std::istreambuf_iterator<char>(in), {});
        BOOST_TEST_REQUIRE(server::uiFiles().count(name) == 1u, name);
        BOOST_TEST(server::uiFiles().at(name) == text, name);
        ++on_disk;
    }
    BOOST_TEST(server::uiFiles().size() == on_disk);

    ApiTable table;
    server::Readiness readiness(table.database);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    const int port = socket.address().port();
    Poco::Net::HTTPServer http(new server::RequestHandlerFactory(readiness, &table.api), socket,
                               new Poco::Net::HTTPServerParams);
    http.start();

    const auto root = fetch(port, "GET", "/ui");
    BOOST_TEST(root.status == 301);
    BOOST_TEST(root.location == "/ui/");
    const auto index = fetch(port, "GET", "/ui/");
    BOOST_TEST(index.status == 200);
    BOOST_TEST(index.content_type == "text/html; charset=utf-8");
    BOOST_TEST(index.cache_control == "no-cache");
    BOOST_TEST(index.body == server::uiFiles().at("index.html"));
    BOOST_TEST(!index.etag.empty());
    // Revalidation is a 304 without a body.
    const auto again = fetch(port, "GET", "/ui/", {{"If-None-Match", index.etag}});
    BOOST_TEST(again.status == 304);
    BOOST_TEST(again.body.empty());
    BOOST_TEST(fetch(port, "GET", "/ui/app.js?v=1").content_type == "text/javascript; charset=utf-8");
    BOOST_TEST(fetch(port, "GET", "/ui/app.css").content_type == "text/css; charset=utf-8");
    const auto head = fetch(port, "HEAD", "/ui/index.html");
    BOOST_TEST(head.status == 200);
    BOOST_TEST(head.body.empty());
    // Only the built-in names exist: no way out to the file system or to the API without a key.
    for (const std::string uri :
         {"/ui/../etc/passwd", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/..%2fapi/v1/items", "/ui//etc/passwd",
          "/ui/app.js/../index.html", "/ui/nothing.html", "/ui/./app.js", "/ui/%61pp.js", "/ui/APP.JS"}) {
        const auto r = fetch(port, "GET", uri);
        BOOST_TEST(r.status == 404, uri);
        BOOST_TEST(r.content_type == "application/json", uri);
    }
    BOOST_TEST(fetch(port, "POST", "/ui/index.html").status == 405);
    BOOST_TEST(fetch(port, "GET", "/uix").status == 404);
    http.stopAll(true);
}

BOOST_AUTO_TEST_CASE(keeld_serves_the_document_of_its_source_tree) {
    Poco::JSON::Parser parser;
    const auto embedded = parser.parse(server::openApiDocument()).extract<Poco::JSON::Object::Ptr>();
    std::ostringstream a, b;
    embedded->stringify(a);
    sourceDocument()->stringify(b);
    BOOST_TEST(a.str() == b.str());
}

BOOST_AUTO_TEST_CASE(the_router_matches_literals_parameters_and_says_which_methods_a_path_has) {
    ApiTable table;
    const auto& router = table.api.router();
    auto match = router.match("GET", "/api/v1/items/SKU%2F1");
    BOOST_TEST_REQUIRE(match.route != nullptr);
    BOOST_TEST(match.route->pattern == "/api/v1/items/{sku}");
    BOOST_TEST(match.params["sku"] == "SKU/1");
    match = router.match("DELETE", "/api/v1/items");
    BOOST_TEST(match.route == nullptr);
    BOOST_TEST((match.allowed == std::vector<std::string>{"GET", "POST"}));
    match = router.match("GET", "/api/v1/nothing");
    BOOST_TEST(match.route == nullptr);
    BOOST_TEST(match.allowed.empty());
    BOOST_TEST(router.match("GET", "/api/v1/locations/WH1/stock").route->pattern == "/api/v1/locations/{code}/stock");
}

BOOST_AUTO_TEST_CASE(keel_errors_map_to_http_statuses_in_one_place) {
    BOOST_TEST(server::statusOf(ExitCode::kUsage) == 400);
    BOOST_TEST(server::statusOf(ExitCode::kRejected) == 422);
    BOOST_TEST(server::statusOf(ExitCode::kNotFound) == 404);
    BOOST_TEST(server::statusOf(ExitCode::kConflict) == 409);
    BOOST_TEST(server::statusOf(ExitCode::kInfrastructure) == 503);
    const auto error = server::apiError(Problem{ExitCode::kConflict, "taken", "code"});
    BOOST_TEST(error.status() == 409);
    BOOST_TEST(error.code() == "conflict");
    BOOST_TEST(error.field() == "code");
}

BOOST_AUTO_TEST_CASE(max_body_bytes_must_be_a_positive_number) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    BOOST_TEST(server::ApiSettings::fromConfig(*config).max_body_bytes == 1024u * 1024u);
    config->setString("server.max_body_bytes", "2048");
    BOOST_TEST(server::ApiSettings::fromConfig(*config).max_body_bytes == 2048u);
    config->setString("server.max_body_bytes", "0");
    BOOST_CHECK_THROW(server::ApiSettings::fromConfig(*config), InfrastructureError);
    config->setString("server.max_body_bytes", "1MB");
    BOOST_CHECK_THROW(server::ApiSettings::fromConfig(*config), InfrastructureError);
}

BOOST_AUTO_TEST_CASE(auth_cache_seconds_is_0_to_3600) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    BOOST_TEST(server::ApiSettings::fromConfig(*config).auth_cache_seconds == 10);
    config->setString("server.auth_cache_seconds", "0");
    BOOST_TEST(server::ApiSettings::fromConfig(*config).auth_cache_seconds == 0);
    for (const char* bad : {"-1", "3601", "ten", ""}) {
        config->setString("server.auth_cache_seconds", bad);
        BOOST_CHECK_THROW(server::ApiSettings::fromConfig(*config), InfrastructureError);
    }
}

BOOST_AUTO_TEST_CASE(group_commit_is_1_to_1000_orders) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    BOOST_TEST(server::ApiSettings::fromConfig(*config).group_commit == 32u);
    config->setString("server.group_commit", "1");
    BOOST_TEST(server::ApiSettings::fromConfig(*config).group_commit == 1u);
    for (const char* bad : {"0", "-1", "1001", "many", ""}) {
        config->setString("server.group_commit", bad);
        BOOST_CHECK_THROW(server::ApiSettings::fromConfig(*config), InfrastructureError);
    }
}

BOOST_AUTO_TEST_CASE(the_auth_cache_trusts_a_key_until_its_expiry_and_stays_bounded) {
    using namespace std::chrono_literals;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    auth::ApiKey key;
    key.id = "K1";
    key.name = "shop";
    key.role = auth::Role::kIntegration;

    server::AuthCache cache(10s, 3);
    BOOST_TEST(cache.enabled());
    BOOST_TEST(!cache.find("h1", t0).has_value());  // nothing is known before an authentication succeeded
    cache.remember("h1", key, t0);
    BOOST_TEST(cache.find("h1", t0 + 9s).value().name == "shop");
    BOOST_TEST(!cache.find("h1", t0 + 10s).has_value());  // expired: the database is asked again
    BOOST_TEST(cache.size() == 0u);                       // and the entry is gone

    // Full: expired entries go first; when none has expired, everything goes (never more than the capacity).
    cache.remember("a", key, t0);
    cache.remember("b", key, t0 + 5s);
    cache.remember("c", key, t0 + 5s);
    cache.remember("d", key, t0 + 12s);  // "a" expired at t0 + 10s
    BOOST_TEST(cache.size() == 3u);
    BOOST_TEST(!cache.find("a", t0 + 12s).has_value());
    BOOST_TEST(cache.find("b", t0 + 12s).has_value());
    cache.remember("e", key, t0 + 13s);  // none expired: cleared, then "e"
    BOOST_TEST(cache.size() == 1u);
    BOOST_TEST(cache.find("e", t0 + 13s).has_value());

    server::AuthCache off(0s);
    BOOST_TEST(!off.enabled());
    off.remember("h1", key, t0);
    BOOST_TEST(!off.find("h1", t0).has_value());
}
