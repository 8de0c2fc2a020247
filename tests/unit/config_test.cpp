#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>

#include "keel/kernel/config.h"
#include "keel/kernel/error.h"
#include "keel/kernel/logging.h"

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Util/MapConfiguration.h>

using namespace keel;

namespace {

// A throw-away /etc/keel look-alike.
struct ConfigDir {
    ConfigDir() : path(Poco::TemporaryFile::tempName()) { Poco::File(path + "/conf.d").createDirectories(); }
    ~ConfigDir() { Poco::File(path).remove(true); }
    void write(const std::string& relative, const std::string& text) const {
        Poco::FileOutputStream out(path + "/" + relative);
        out << text;
    }
    std::string path;
};

}  // namespace

BOOST_AUTO_TEST_CASE(each_layer_overrides_the_one_below) {
    ConfigDir dir;
    dir.write("keel.properties", "a = system\nb = system\nc = system\nd = system\ne = system\nf = system\n");
    dir.write("conf.d/10-site.properties", "b = confd10\nc = confd10\nd = confd10\ne = confd10\nf = confd10\n");
    dir.write("conf.d/20-node.properties", "c = confd20\nd = confd20\ne = confd20\nf = confd20\n");
    dir.write("conf.d/ignored.txt", "d = not-a-properties-file\n");
    dir.write("extra.properties", "d = file\ne = file\nf = file\n");

    config::Sources sources;
    sources.system_dir = dir.path;
    sources.file = dir.path + "/extra.properties";
    sources.environment = {{"KEEL_E", "env"}, {"KEEL_F", "env"}, {"HOME", "/root"}};
    sources.overrides = {{"f", "override"}};
    const auto config = config::load(sources);

    BOOST_TEST(config->getString("a") == "system");
    BOOST_TEST(config->getString("b") == "confd10");
    BOOST_TEST(config->getString("c") == "confd20");
    BOOST_TEST(config->getString("d") == "file");
    BOOST_TEST(config->getString("e") == "env");
    BOOST_TEST(config->getString("f") == "override");
    BOOST_TEST(!config->has("home"));
}

BOOST_AUTO_TEST_CASE(built_in_defaults_are_the_lowest_layer) {
    ConfigDir dir;
    config::Sources sources;
    sources.system_dir = dir.path;
    auto config = config::load(sources);
    BOOST_TEST(config->getString("server.address") == "127.0.0.1");
    BOOST_TEST(config->getInt("server.port") == 8080);
    BOOST_TEST(config->getString("log.level") == "information");

    dir.write("keel.properties", "server.port = 9090\n");
    config = config::load(sources);
    BOOST_TEST(config->getInt("server.port") == 9090);
}

BOOST_AUTO_TEST_CASE(missing_system_files_are_fine_but_a_named_file_must_exist) {
    config::Sources sources;
    sources.system_dir = "/nonexistent/keel";
    BOOST_CHECK_NO_THROW(config::load(sources));
    sources.file = "/nonexistent/keel/extra.properties";
    try {
        config::load(sources);
        BOOST_FAIL("a missing --config file must be refused");
    } catch (const UsageError& e) {
        BOOST_TEST(std::string(e.what()).find("/nonexistent/keel/extra.properties") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(environment_names_map_to_keys) {
    BOOST_TEST(config::keyForEnvironmentVariable("KEEL_DB_CONNECTION").value() == "db.connection");
    BOOST_TEST(config::keyForEnvironmentVariable("KEEL_LOG_LEVEL_DB").value() == "log.level.db");
    BOOST_TEST(config::keyForEnvironmentVariable("KEEL_DB_PASSWORD__FILE").value() == "db.password_file");
    BOOST_TEST(!config::keyForEnvironmentVariable("KEEL_").has_value());
    BOOST_TEST(!config::keyForEnvironmentVariable("PATH").has_value());
    BOOST_TEST(!config::keyForEnvironmentVariable("XKEEL_DB").has_value());
}

BOOST_AUTO_TEST_CASE(overrides_parse_or_fail_clearly) {
    const auto [key, value] = config::parseOverride("server.port=8081");
    BOOST_TEST(key == "server.port");
    BOOST_TEST(value == "8081");
    BOOST_TEST(config::parseOverride("db.connection=DSN=keel").second == "DSN=keel");
    BOOST_TEST(config::parseOverride("log.file=").second.empty());
    BOOST_CHECK_THROW(config::parseOverride("server.port"), UsageError);
    BOOST_CHECK_THROW(config::parseOverride("=8081"), UsageError);
}

BOOST_AUTO_TEST_CASE(secret_keys_are_recognised) {
    BOOST_TEST(config::isSecretKey("db.password"));
    BOOST_TEST(config::isSecretKey("plugins.shopify.api_token"));
    BOOST_TEST(!config::isSecretKey("db.connection"));
}

BOOST_AUTO_TEST_CASE(logging_levels_per_component) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    config->setString("log.level", "warning");
    config->setString("log.level.db", "debug");
    logging::configure(*config, "keel-test");
    BOOST_TEST(logging::get("db").getLevel() == Poco::Message::PRIO_DEBUG);
    BOOST_TEST(logging::get("server").getLevel() == Poco::Message::PRIO_WARNING);

    config->setString("log.level", "loud");
    BOOST_CHECK_THROW(logging::configure(*config, "keel-test"), InfrastructureError);
    config->setString("log.level", "warning");
    config->setString("log.channel", "carrier-pigeon");
    BOOST_CHECK_THROW(logging::configure(*config, "keel-test"), InfrastructureError);
}
