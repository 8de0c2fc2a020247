#include "test_database.h"

#include "keel/db/connection.h"
#include "keel/kernel/id.h"

#include <Poco/File.h>
#include <Poco/FileStream.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>

#include <cstdlib>
#include <stdexcept>

namespace keel::test {

namespace {

std::string environmentValue(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? value : "";
}

// The admin URL with its database replaced.
std::string withDatabase(const std::string& url, const std::string& database) {
    const auto slash = url.rfind('/');
    return url.substr(0, slash + 1) + database;
}

}  // namespace

db::Backend currentBackend() {
    const std::string name = environmentValue("KEEL_TEST_BACKEND");
    if (name.empty() || name == "sqlite") return db::Backend::kSQLite;
    if (name == "postgresql") return db::Backend::kPostgreSQL;
    if (name == "mariadb") return db::Backend::kMariaDB;
    throw std::runtime_error("KEEL_TEST_BACKEND='" + name + "': expected sqlite, postgresql or mariadb");
}

std::string serverUrl(db::Backend backend) {
    const std::string variable = backend == db::Backend::kPostgreSQL ? "KEEL_TEST_POSTGRESQL" : "KEEL_TEST_MARIADB";
    std::string url = environmentValue(variable);
    if (!url.empty()) return url;
    const std::string env_file = environmentValue("KEEL_TEST_DATABASES_ENV");
    if (!env_file.empty() && Poco::File(env_file).exists()) {
        Poco::FileInputStream in(env_file);
        std::string line;
        while (std::getline(in, line)) {
            if (line.starts_with(variable + "=")) return line.substr(variable.size() + 1);
        }
    }
    throw std::runtime_error(variable + " is not set and " + (env_file.empty() ? "KEEL_TEST_DATABASES_ENV is unset" : env_file + " does not name it") +
                             ": the throw-away " + std::string(db::backendName(backend)) +
                             " server is not running (run the tests through ctest, whose fixture starts it with "
                             "tests/scripts/databases.sh)");
}

TestDatabase::TestDatabase(db::Backend backend) : backend_(backend) {
    std::string id = IdGenerator::global().next();
    std::string compact;
    for (char c : id) if (c != '-') compact.push_back(c);
    name_ = "keel_t_" + compact.substr(compact.size() - 16);
    if (backend_ == db::Backend::kSQLite) {
        directory_ = Poco::Path::temp() + name_;
        Poco::File(directory_).createDirectories();
        connection_string_ = "sqlite:" + directory_ + "/keel.db";
        return;
    }
    const std::string admin_url = serverUrl(backend_);
    db::Connection admin(db::parseConnectionString(admin_url));
    if (backend_ == db::Backend::kPostgreSQL) {
        admin.executeOutsideTransaction("CREATE DATABASE " + name_ + " ENCODING 'UTF8' TEMPLATE template0");
    } else {
        admin.executeOutsideTransaction("CREATE DATABASE " + name_ + " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
    }
    connection_string_ = withDatabase(admin_url, name_);
}

TestDatabase::~TestDatabase() {
    database_.reset();
    try {
        if (backend_ == db::Backend::kSQLite) {
            Poco::File(directory_).remove(true);
            return;
        }
        db::Connection admin(db::parseConnectionString(serverUrl(backend_)));
        admin.executeOutsideTransaction(backend_ == db::Backend::kPostgreSQL
                                            ? "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)"
                                            : "DROP DATABASE IF EXISTS " + name_);
    } catch (const std::exception& e) {
        // A leftover database in a throw-away server is harmless; say so and go on.
        std::fprintf(stderr, "warning: could not drop test database %s: %s\n", name_.c_str(), e.what());
    }
}

db::DatabaseOptions TestDatabase::options() const {
    db::DatabaseOptions options;
    db::ConnectionOptions connection;
    connection.timeout_ms = 1000;  // short lock waits keep conflict tests fast
    options.spec = db::parseConnectionString(connection_string_, connection);
    options.pool_size = 4;
    options.pool_wait = std::chrono::milliseconds(2000);
    return options;
}

db::Database& TestDatabase::database() {
    if (!database_) database_ = open();
    return *database_;
}

std::unique_ptr<db::Database> TestDatabase::open() const { return std::make_unique<db::Database>(options()); }

}  // namespace keel::test
