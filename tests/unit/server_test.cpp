#define BOOST_TEST_MODULE server
#include <boost/test/unit_test.hpp>

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/server/api.h"
#include "keel/server/health.h"
#include "keel/server/router.h"

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/String.h>
#include <Poco/Util/MapConfiguration.h>

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
