#define BOOST_TEST_MODULE cli
#include <boost/test/unit_test.hpp>

#include "keel/cli/cli.h"
#include "temp_dir.h"

#include <Poco/File.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace {

struct Run {
    int code;
    std::string out;
    std::string err;
};

Run runKeel(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {}) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = keel::cli::run(args, out, err, env, "/nonexistent/etc/keel");
    return {code, out.str(), err.str()};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }


}  // namespace

BOOST_AUTO_TEST_CASE(no_command_prints_usage_and_exits_1) {
    const auto r = runKeel({});
    BOOST_TEST(r.code == 1);
    BOOST_TEST(contains(r.err, "usage: keel"));
}

BOOST_AUTO_TEST_CASE(help_lists_every_command) {
    const auto r = runKeel({"--help"});
    BOOST_TEST(r.code == 0);
    for (const auto& c : keel::cli::commands()) {
        std::string words;
        for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
        BOOST_TEST(contains(r.out, words), words);
    }
    BOOST_TEST(contains(r.out, "Exit codes"));
}

BOOST_AUTO_TEST_CASE(every_command_has_help) {
    for (const auto& c : keel::cli::commands()) {
        std::vector<std::string> args = c.words;
        args.push_back("--help");
        const auto r = runKeel(args);
        BOOST_TEST(r.code == 0);
        BOOST_TEST(contains(r.out, "usage: keel " + c.words.front()));
        BOOST_TEST(!c.summary.empty());
    }
    BOOST_TEST(runKeel({"help", "db", "migrate"}).code == 0);
}

BOOST_AUTO_TEST_CASE(the_man_page_and_readme_document_every_command) {
    auto read = [](const std::string& relative) {
        std::ifstream in(std::string(KEEL_SOURCE_DIR) + "/" + relative);
        BOOST_TEST_REQUIRE(in.good(), relative);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    const std::string man = read("packaging/man/keel.1");
    for (const auto& c : keel::cli::commands()) {
        std::string words;
        for (const auto& w : c.words) words += (words.empty() ? "" : " ") + w;
        BOOST_TEST(contains(man, ".B " + words + "\n"), "keel.1 lacks " << words);
    }
    const std::string readme = read("README.md");
    BOOST_TEST(contains(readme, "make demo"));
    BOOST_TEST(contains(readme, "make check"));
}

BOOST_AUTO_TEST_CASE(usage_errors_exit_1_with_a_message) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"frobnicate"}, "unknown command 'frobnicate'"},
        {{"db"}, "unknown command 'db'"},
        {{"db", "migrate", "now"}, "unexpected argument 'now'"},
        {{"db", "status", "--verbose"}, "unknown option '--verbose'"},
        {{"--db"}, "--db needs a value"},
        {{"-D", "novalue", "version"}, "expected key=value"},
        {{"--config", "/nonexistent/keel.properties", "version"}, "/nonexistent/keel.properties"},
        {{"--db", "postgresql://u:pw@h/d", "db", "status"}, "KEEL_DB_PASSWORD"},
    };
    for (const auto& [args, message] : cases) {
        const auto r = runKeel(args);
        BOOST_TEST(r.code == 1, args.front());
        BOOST_TEST(contains(r.err, message), r.err);
    }
}

BOOST_AUTO_TEST_CASE(json_errors_go_to_stdout) {
    const auto r = runKeel({"--json", "frobnicate"});
    BOOST_TEST(r.code == 1);
    Poco::JSON::Parser parser;
    const auto body = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getObject("error")->getValue<std::string>("code") == "usage");
}

BOOST_AUTO_TEST_CASE(version_works_without_a_database) {
    auto r = runKeel({"version"});
    BOOST_TEST(r.code == 0);
    BOOST_TEST(contains(r.out, "keel 0."));
    BOOST_TEST(contains(r.out, "schema version"));
    r = runKeel({"version", "--json"});
    Poco::JSON::Parser parser;
    const auto body = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getValue<int>("schema") >= 1);
}

BOOST_AUTO_TEST_CASE(an_unreachable_database_is_exit_5_with_the_reason) {
    const auto r = runKeel({"--db", "sqlite:/nonexistent/dir/keel.db", "db", "status"});
    BOOST_TEST(r.code == 5);
    BOOST_TEST(contains(r.err, "/nonexistent/dir"));
    BOOST_TEST(contains(r.err, "does not exist"));
}

BOOST_AUTO_TEST_CASE(migrate_then_status_on_sqlite) {
    keel::test::TempDir dir;
    const std::string db = "sqlite:" + dir.path + "/keel.db";
    auto r = runKeel({"--db", db, "db", "status"});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(contains(r.out, "empty database"));
    BOOST_TEST(contains(r.out, "run `keel db migrate`"));

    r = runKeel({"--db", db, "db", "migrate"});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(contains(r.out, "applying migration 1 schema_metadata"));

    r = runKeel({"db", "status", "--json"}, {{"KEEL_DB_CONNECTION", db}});  // the environment layer names the database
    BOOST_TEST(r.code == 0, r.err);
    Poco::JSON::Parser parser;
    const auto body = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getValue<std::string>("backend") == "sqlite");
    BOOST_TEST(body->getObject("schema")->getArray("pending")->size() == 0u);
    BOOST_TEST(body->getObject("schema")->getValue<int>("version") ==
               body->getObject("schema")->getValue<int>("latest_known"));
    BOOST_TEST(body->getObject("driver")->getValue<std::string>("name").find("sqlite3odbc") != std::string::npos);
    BOOST_TEST(body->getValue<std::string>("instance_id").size() == 36u);

    r = runKeel({"--db", db, "db", "migrate"});
    BOOST_TEST(r.code == 0);
    BOOST_TEST(contains(r.out, "schema already current"));
}
