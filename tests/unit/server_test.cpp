#define BOOST_TEST_MODULE server
#include <boost/test/unit_test.hpp>

#include "keel/server/health.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iterator>
#include <set>

BOOST_AUTO_TEST_CASE(openapi_documents_exactly_the_served_routes) {
    std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/docs/openapi.json");
    BOOST_TEST_REQUIRE(in.good());
    const std::string text(std::istreambuf_iterator<char>(in), {});
    Poco::JSON::Parser parser;
    const auto document = parser.parse(text).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(document->getValue<std::string>("openapi").starts_with("3."));
    std::set<std::string> documented;
    for (const auto& [path, _] : *document->getObject("paths")) documented.insert(path);
    const std::set<std::string> served(keel::server::routes().begin(), keel::server::routes().end());
    BOOST_TEST(documented == served, "docs/openapi.json and keeld's routes differ");
}
