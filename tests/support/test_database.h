#pragma once
// A fresh, empty database for one integration test on the backend named by KEEL_TEST_BACKEND (sqlite,
// postgresql, mariadb). Server backends come from tests/scripts/databases.sh through the CTest fixture.

#include "keel/db/database.h"

#include <memory>
#include <string>

namespace keel::test {

/// The backend this test process runs on (KEEL_TEST_BACKEND, default sqlite).
db::Backend currentBackend();

/// The server URL for a backend from the environment or the fixture's databases.env; throws with a clear
/// message when the throw-away server is not running.
std::string serverUrl(db::Backend backend);

/// Creates a uniquely named database (or SQLite file) and drops it when destroyed.
class TestDatabase {
public:
    explicit TestDatabase(db::Backend backend = currentBackend());
    ~TestDatabase();
    TestDatabase(const TestDatabase&) = delete;
    TestDatabase& operator=(const TestDatabase&) = delete;

    db::Backend backend() const { return backend_; }
    /// The connection string a user would pass as --db.
    const std::string& connectionString() const { return connection_string_; }
    db::DatabaseOptions options() const;
    /// A pooled Database on it (created on first use, closed before the database is dropped).
    db::Database& database();
    /// A second, independent Database on the same data (another node, another client).
    std::unique_ptr<db::Database> open() const;

private:
    db::Backend backend_;
    std::string name_;
    std::string directory_;
    std::string connection_string_;
    std::unique_ptr<db::Database> database_;
};

}  // namespace keel::test
