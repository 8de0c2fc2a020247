#define BOOST_TEST_MODULE migrations
#include <boost/test/unit_test.hpp>

#include "keel/db/migrations.h"

using namespace keel::db;

BOOST_AUTO_TEST_CASE(statements_split_outside_quotes_and_comments) {
    const auto statements = splitStatements(
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x VARCHAR(10) DEFAULT 'semi;colon', y VARCHAR(5) DEFAULT 'it''s;');\n"
        "/* block; comment */ INSERT INTO a VALUES ('1;2', \"q;\");\n"
        "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
        "  ;  -- empty statement\n"
        "UPDATE a SET x = 'z'");
    BOOST_TEST_REQUIRE(statements.size() == 4u);
    // Comments are dropped (sqlite3odbc scans statement text for ';' without knowing comments).
    BOOST_TEST(statements[0] == "CREATE TABLE a (x VARCHAR(10) DEFAULT 'semi;colon', y VARCHAR(5) DEFAULT 'it''s;')");
    BOOST_TEST(statements[1] == "INSERT INTO a VALUES ('1;2', \"q;\")");
    BOOST_TEST(statements[2] == "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql");
    BOOST_TEST(statements[3] == "UPDATE a SET x = 'z'");
}

BOOST_AUTO_TEST_CASE(files_become_ordered_migrations_with_variants) {
    const auto migrations = loadMigrations({
        {"0002_items.sql", "CREATE TABLE items (doc {{text}});"},
        {"0001_meta.sql", "CREATE TABLE meta (k INTEGER);"},
        {"0002_items.mariadb.sql", "CREATE TABLE items (doc LONGTEXT) ENGINE=InnoDB;"},
    });
    BOOST_TEST_REQUIRE(migrations.size() == 2u);
    BOOST_TEST(migrations[0].version == 1);
    BOOST_TEST(migrations[0].name == "meta");
    BOOST_TEST(migrations[1].version == 2);
    BOOST_TEST(migrations[1].sqlFor(Backend::kPostgreSQL) == "CREATE TABLE items (doc TEXT);");
    BOOST_TEST(migrations[1].sqlFor(Backend::kMariaDB) == "CREATE TABLE items (doc LONGTEXT) ENGINE=InnoDB;");
    BOOST_TEST(migrations[1].checksumFor(Backend::kPostgreSQL).size() == 64u);
    BOOST_TEST(migrations[1].checksumFor(Backend::kPostgreSQL) == migrations[1].checksumFor(Backend::kSQLite));
    BOOST_TEST(migrations[1].checksumFor(Backend::kPostgreSQL) != migrations[1].checksumFor(Backend::kMariaDB));
}

BOOST_AUTO_TEST_CASE(malformed_migration_sets_are_refused) {
    BOOST_CHECK_THROW(loadMigrations({{"1_meta.sql", ""}}), std::invalid_argument);
    BOOST_CHECK_THROW(loadMigrations({{"0001_meta.txt", ""}}), std::invalid_argument);
    BOOST_CHECK_THROW(loadMigrations({{"0001_a.sql", ""}, {"0001_b.sql", ""}}), std::invalid_argument);
    BOOST_CHECK_THROW(loadMigrations({{"0001_a.sql", ""}, {"0003_c.sql", ""}}), std::invalid_argument);  // gap
    BOOST_CHECK_THROW(loadMigrations({{"0001_a.oracle.sql", ""}, {"0001_a.sql", ""}}), std::invalid_argument);
    BOOST_CHECK_THROW(loadMigrations({{"0001_a.mariadb.sql", ""}}), std::invalid_argument);  // no portable file
}

BOOST_AUTO_TEST_CASE(the_embedded_migrations_load) {
    const auto& migrations = embeddedMigrations();
    BOOST_TEST_REQUIRE(!migrations.empty());
    BOOST_TEST(migrations.front().version == 1);
    for (const auto& m : migrations) {
        for (Backend b : {Backend::kSQLite, Backend::kPostgreSQL, Backend::kMariaDB}) {
            const std::string sql = m.sqlFor(b);
            BOOST_TEST(sql.find("{{") == std::string::npos, "unresolved placeholder in migration " << m.version);
            BOOST_TEST(!splitStatements(sql).empty());
        }
    }
}
