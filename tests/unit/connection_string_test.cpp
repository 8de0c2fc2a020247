#define BOOST_TEST_MODULE connection_string
#include <boost/test/unit_test.hpp>

#include "keel/db/connection_string.h"
#include "keel/db/dialect.h"
#include "keel/db/error.h"
#include "keel/kernel/error.h"

using namespace keel;
using namespace keel::db;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(parsing)

BOOST_AUTO_TEST_CASE(sqlite_shorthand_sets_the_correctness_options) {
    const auto spec = parseConnectionString("sqlite:var/keel.db");
    BOOST_TEST(spec.backend == Backend::kSQLite);
    BOOST_TEST(spec.database == "var/keel.db");
    BOOST_TEST(spec.display == "sqlite:var/keel.db");
    BOOST_TEST(contains(spec.odbc, "Driver=SQLite3;"));
    BOOST_TEST(contains(spec.odbc, "Database=var/keel.db;"));
    BOOST_TEST(contains(spec.odbc, "BigInt=1;"));
    BOOST_TEST(contains(spec.odbc, "FKSupport=1;"));
    BOOST_TEST(contains(spec.odbc, "JournalMode=WAL;"));
    BOOST_TEST(contains(spec.odbc, "Timeout=5000;"));
    BOOST_TEST(contains(spec.odbc, "SyncPragma=FULL;"));  // durable across power loss unless the operator says otherwise
    ConnectionOptions options;
    options.timeout_ms = 250;
    options.sqlite_synchronous = "normal";
    const auto tuned = parseConnectionString("sqlite:/abs/k.db", options);
    BOOST_TEST(contains(tuned.odbc, "Timeout=250;"));
    BOOST_TEST(contains(tuned.odbc, "SyncPragma=NORMAL;"));
    options.sqlite_synchronous = "off";
    BOOST_CHECK_THROW(parseConnectionString("sqlite:/abs/k.db", options), UsageError);
}

BOOST_AUTO_TEST_CASE(sqlite_checkpoints_in_the_background_unless_told_otherwise) {
    BOOST_TEST(parseConnectionString("sqlite:k.db").sqlite_background_checkpoint);
    ConnectionOptions options;
    options.sqlite_checkpoint = "commit";
    BOOST_TEST(!parseConnectionString("sqlite:k.db", options).sqlite_background_checkpoint);
    options.sqlite_checkpoint = "sometimes";
    try {
        parseConnectionString("sqlite:k.db", options);
        BOOST_FAIL("an unknown checkpoint mode was accepted");
    } catch (const UsageError& e) {
        BOOST_TEST(contains(e.what(), "db.sqlite.checkpoint = 'sometimes'"));
    }
    BOOST_TEST(!parseConnectionString("postgresql://keel@localhost:5432/keel").sqlite_background_checkpoint);
}

BOOST_AUTO_TEST_CASE(postgresql_shorthand) {
    ConnectionOptions options;
    options.password = "s3cret;{x}";
    const auto spec = parseConnectionString("postgresql://keel@db.example.com:5433/erp", options);
    BOOST_TEST(spec.backend == Backend::kPostgreSQL);
    BOOST_TEST(spec.database == "erp");
    BOOST_TEST(spec.display == "postgresql://keel@db.example.com:5433/erp");
    BOOST_TEST(contains(spec.odbc, "Driver=PostgreSQL Unicode;"));
    BOOST_TEST(contains(spec.odbc, "Server=db.example.com;Port=5433;Database=erp;Uid=keel;"));
    for (const char* option : {"CommLog=0;", "Debug=0;", "MaxVarcharSize=", "UseServerSidePrepare=1;", "Protocol=7.4-1;",
                               "ByteaAsLongVarBinary=1;"}) {
        BOOST_TEST(contains(spec.odbc, option), option);
    }
    // A password with ODBC delimiters is brace-quoted, with '}' doubled.
    BOOST_TEST(contains(spec.odbc, "Pwd={s3cret;{x}}};"));
    BOOST_TEST(!contains(spec.display, "s3cret"));
    BOOST_TEST(contains(parseConnectionString("postgres://u@h/d").odbc, "Port=5432;"));
}

BOOST_AUTO_TEST_CASE(mariadb_shorthand) {
    const auto spec = parseConnectionString("mariadb://root@127.0.0.1:3307/keel");
    BOOST_TEST(spec.backend == Backend::kMariaDB);
    BOOST_TEST(contains(spec.odbc, "Driver=MariaDB Unicode;Server=127.0.0.1;Port=3307;Database=keel;Uid=root;"));
    BOOST_TEST(contains(spec.odbc, "Option=2;"));  // FOUND_ROWS: matched rows, like the other backends
    BOOST_TEST(contains(spec.odbc, "CharSet=utf8mb4;"));
    BOOST_TEST(contains(parseConnectionString("mysql://u@h/d").odbc, "Port=3306;"));
}

BOOST_AUTO_TEST_CASE(query_parameters_pass_through) {
    const auto spec = parseConnectionString("postgresql://keel@db:5432/erp?SSLmode=require&ReadOnly=0");
    BOOST_TEST(contains(spec.odbc, "SSLmode=require;ReadOnly=0;"));
}

BOOST_AUTO_TEST_CASE(ipv6_hosts) {
    const auto spec = parseConnectionString("postgresql://keel@[::1]:5432/erp");
    BOOST_TEST(contains(spec.odbc, "Server=::1;Port=5432;"));
}

BOOST_AUTO_TEST_CASE(dsn_and_raw_odbc_strings) {
    ConnectionOptions options;
    options.password = "pw";
    auto spec = parseConnectionString("DSN=keel-prod", options);
    BOOST_TEST(spec.backend == Backend::kUnknown);
    BOOST_TEST(spec.odbc == "DSN=keel-prod;PWD=pw;");
    BOOST_TEST(spec.display == "DSN=keel-prod");

    spec = parseConnectionString("Driver={PostgreSQL Unicode};Server=h;Database=d;UID=u;PWD={p;w}", options);
    BOOST_TEST(spec.backend == Backend::kPostgreSQL);
    BOOST_TEST(!contains(spec.odbc, "PWD=pw"));  // the string's own password wins
    BOOST_TEST(spec.display == "Driver={PostgreSQL Unicode};Server=h;Database=d;UID=u;PWD=***");
}

BOOST_AUTO_TEST_CASE(passwords_in_urls_are_refused) {
    try {
        parseConnectionString("postgresql://keel:hunter2@db/erp");
        BOOST_FAIL("a password in the URL must be refused");
    } catch (const UsageError& e) {
        BOOST_TEST(contains(e.what(), "KEEL_DB_PASSWORD"));
        BOOST_TEST(contains(e.what(), "db.password"));
    }
    BOOST_CHECK_THROW(parseConnectionString("mariadb://keel@db/erp?pwd=x"), UsageError);
}

BOOST_AUTO_TEST_CASE(malformed_strings_name_the_problem) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "empty"},
        {"sqlite:", "no database file"},
        {"postgresql://keel@db:99999/erp", "port '99999'"},
        {"postgresql://keel@db:54x/erp", "port '54x'"},
        {"postgresql://keel@db", "no database name"},
        {"postgresql://keel@/erp", "no host"},
        {"oracle://scott@db/orcl", "unknown scheme 'oracle'"},
        {"postgresql://keel@db/er p", "database name"},
        {"keel.db", "not a connection string"},
    };
    for (const auto& [text, expected] : cases) {
        try {
            parseConnectionString(text);
            BOOST_ERROR("accepted: " + text);
        } catch (const UsageError& e) {
            BOOST_TEST(contains(e.what(), expected), text << " -> " << e.what());
        }
    }
}

BOOST_AUTO_TEST_CASE(odbc_quoting_and_redaction) {
    BOOST_TEST(odbcQuote("plain") == "plain");
    BOOST_TEST(odbcQuote("a;b") == "{a;b}");
    BOOST_TEST(odbcQuote("a}b") == "{a}}b}");
    BOOST_TEST(odbcQuote(" lead") == "{ lead}");
    BOOST_TEST(redactOdbc("DSN=x;Password=abc;Uid=u") == "DSN=x;Password=***;Uid=u");
    BOOST_TEST(redactOdbc("DSN=x;PWD={a;b}};c};Uid=u") == "DSN=x;PWD=***;Uid=u");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(classification_by_sqlstate_and_native_code) {
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "40001", 1, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "40P01", 1, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "23505", 1, "") == ErrorKind::kUniqueViolation);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "23503", 1, "") == ErrorKind::kConstraint);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "08006", 1, "") == ErrorKind::kConnection);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "57P01", 1, "") == ErrorKind::kConnection);
    BOOST_TEST(classifyError(Backend::kPostgreSQL, "42P01", 1, "") == ErrorKind::kOther);
    BOOST_TEST(classifyError(Backend::kMariaDB, "40001", 1213, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kMariaDB, "HY000", 1205, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kMariaDB, "HY000", 1020, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kMariaDB, "23000", 1062, "") == ErrorKind::kUniqueViolation);
    BOOST_TEST(classifyError(Backend::kMariaDB, "23000", 1452, "") == ErrorKind::kConstraint);
    BOOST_TEST(classifyError(Backend::kMariaDB, "HY000", 2013, "") == ErrorKind::kConnection);
    BOOST_TEST(classifyError(Backend::kSQLite, "HY000", 5, "database is locked") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kSQLite, "HY000", 517, "") == ErrorKind::kRetryable);
    BOOST_TEST(classifyError(Backend::kSQLite, "HY000", 19, "UNIQUE constraint failed: t.id") == ErrorKind::kUniqueViolation);
    BOOST_TEST(classifyError(Backend::kSQLite, "HY000", 19, "FOREIGN KEY constraint failed") == ErrorKind::kConstraint);
    BOOST_TEST(classifyError(Backend::kSQLite, "HY000", 1, "no such table: x") == ErrorKind::kOther);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dialects)

BOOST_AUTO_TEST_CASE(upsert_text_per_backend) {
    const std::vector<std::string> columns{"sku", "name", "updated_at"};
    BOOST_TEST(Dialect::forBackend(Backend::kPostgreSQL).upsert("item", columns, {"sku"}, {"name", "updated_at"}) ==
               "INSERT INTO item (sku, name, updated_at) VALUES (?, ?, ?) ON CONFLICT (sku) DO UPDATE SET "
               "name = excluded.name, updated_at = excluded.updated_at");
    BOOST_TEST(Dialect::forBackend(Backend::kSQLite).upsert("item", columns, {"sku"}, {}) ==
               "INSERT INTO item (sku, name, updated_at) VALUES (?, ?, ?) ON CONFLICT (sku) DO NOTHING");
    BOOST_TEST(Dialect::forBackend(Backend::kMariaDB).upsert("item", columns, {"sku"}, {"name"}) ==
               "INSERT INTO item (sku, name, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)");
    BOOST_TEST(Dialect::forBackend(Backend::kMariaDB).upsert("item", columns, {"sku"}, {}) ==
               "INSERT INTO item (sku, name, updated_at) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE sku = sku");
    BOOST_CHECK_THROW(Dialect::forBackend(Backend::kSQLite).upsert("item; DROP TABLE x", columns, {"sku"}, {}),
                      std::invalid_argument);
    BOOST_CHECK_THROW(Dialect::forBackend(Backend::kSQLite).upsert("item", {"Name"}, {"sku"}, {}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(placeholders_and_row_locks) {
    const std::string sql = "CREATE TABLE t (doc {{text}}, raw {{blob}}){{table_options}}";
    BOOST_TEST(Dialect::forBackend(Backend::kSQLite).resolve(sql) == "CREATE TABLE t (doc TEXT, raw BLOB)");
    BOOST_TEST(Dialect::forBackend(Backend::kPostgreSQL).resolve(sql) == "CREATE TABLE t (doc TEXT, raw BYTEA)");
    BOOST_TEST(Dialect::forBackend(Backend::kMariaDB).resolve(sql) ==
               "CREATE TABLE t (doc LONGTEXT, raw LONGBLOB) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
    BOOST_TEST(Dialect::forBackend(Backend::kSQLite).forUpdate() == "");
    BOOST_TEST(Dialect::forBackend(Backend::kPostgreSQL).forUpdate() == " FOR UPDATE");
    BOOST_TEST(Dialect::forBackend(Backend::kMariaDB).supportsSelectForUpdate());
}

BOOST_AUTO_TEST_SUITE_END()
