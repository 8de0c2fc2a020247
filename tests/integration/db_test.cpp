#define BOOST_TEST_MODULE db
#include <boost/test/unit_test.hpp>

#include "test_database.h"

#include "keel/db/batch_insert.h"
#include "keel/db/commit_group.h"
#include "keel/db/lease.h"
#include "keel/db/migrations.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"

#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace keel;
using namespace keel::db;

// Every case runs on the backend named by KEEL_TEST_BACKEND; CTest registers this executable once per backend.
namespace {

struct Fresh {
    test::TestDatabase test;
    Database& db = test.database();

    void createTable(const std::string& sql) {
        db.run([&](UnitOfWork& uow) { uow.execute(db.dialect().resolve(sql)); });
    }

    std::int64_t count(const std::string& table, const std::string& where = "1 = 1", const RunOptions& options = {}) {
        return db.run(
            [&](UnitOfWork& uow) {
                Statement& s = uow.statement("SELECT COUNT(*) FROM " + table + " WHERE " + where);
                s.execute();
                BOOST_TEST_REQUIRE(s.next());
                return s.getInt64(0);
            },
            options);
    }
};

// The counter row's value (the read of a read-modify-write).
std::int64_t readCounter(UnitOfWork& uow) {
    Statement& read = uow.statement("SELECT v FROM counter WHERE id = 1");
    read.execute();
    BOOST_TEST_REQUIRE(read.next());
    return read.getInt64(0);
}

std::string utf8Repeat(const std::string& unit, int times) {
    std::string out;
    for (int i = 0; i < times; ++i) out += unit;
    return out;
}

// Starts a thread whose unit of work (run by `run_unit`, e.g. Database::run) inserts `id` into t, raises `inside`, then
// keeps its transaction open until `release` is raised (20 s at most).
template <typename RunUnit>
std::thread holdUnitOpen(RunUnit run_unit, int id, std::atomic<bool>& inside, std::atomic<bool>& release) {
    return std::thread([run_unit, id, &inside, &release] {
        run_unit([&](UnitOfWork& uow) {
            uow.statement("INSERT INTO t (id) VALUES (?)").bind(id).execute();
            inside = true;
            for (int i = 0; i < 20000 && !release; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        });
    });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(connections)

BOOST_FIXTURE_TEST_CASE(backend_and_server_identity, Fresh) {
    BOOST_TEST(db.backend() == test.backend());
    Lease lease = db.acquire();
    const ServerInfo info = lease->serverInfo();
    BOOST_TEST(!info.dbms_name.empty());
    BOOST_TEST(!info.driver_version.empty());
    BOOST_TEST(db.ping());
}

BOOST_AUTO_TEST_CASE(unreachable_server_is_a_connection_error_without_the_password) {
    const Backend backend = test::currentBackend();
    std::string text = "sqlite:/nonexistent/dir/keel.db";
    if (backend == Backend::kPostgreSQL) text = "postgresql://keel@127.0.0.1:1/keel";
    if (backend == Backend::kMariaDB) text = "mariadb://keel@127.0.0.1:1/keel";
    ConnectionOptions options;
    options.password = "hunter2";
    options.timeout_ms = 1000;
    try {
        Connection connection(parseConnectionString(text, options));
        BOOST_FAIL("connected to " + text);
    } catch (const DbError& e) {
        BOOST_TEST(e.kind() == ErrorKind::kConnection);
        BOOST_TEST(std::string(e.what()).find(text) != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("hunter2") == std::string::npos);
        BOOST_TEST(static_cast<int>(e.code()) == 5);
    }
}

BOOST_FIXTURE_TEST_CASE(pool_waits_a_bounded_time_then_fails_clearly, Fresh) {
    DatabaseOptions options = test.options();
    options.pool_size = 1;
    options.pool_wait = std::chrono::milliseconds(200);
    Database small(options);
    {
        Lease held = small.acquire();
        const auto start = std::chrono::steady_clock::now();
        try {
            Lease second = small.acquire();
            BOOST_FAIL("a full pool handed out a second connection");
        } catch (const InfrastructureError& e) {
            BOOST_TEST(std::string(e.what()).find("db.pool.size") != std::string::npos);
        }
        BOOST_TEST((std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(200)));

        // A waiter gets the connection as soon as it is returned.
        std::atomic<bool> got{false};
        options.pool_wait = std::chrono::seconds(30);
        Database patient(options);
        Lease blocker = patient.acquire();
        std::thread waiter([&] {
            Lease l = patient.acquire();
            got = true;
        });
        BOOST_TEST(!got.load());
        { Lease released = std::move(blocker); }
        waiter.join();
        BOOST_TEST(got.load());
    }
    BOOST_TEST(small.stats().open == 1u);
}

// The process's SQLite library (the one sqlite3odbc uses) was set up before the first connection, on every backend:
// connections opened without an explicit mutex flag get none (multi-thread mode), and no allocation is counted.
BOOST_FIXTURE_TEST_CASE(sqlite_runs_in_multi_thread_mode_without_memory_statistics, Fresh) {
    db.run([&](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT 1");
        s.execute();
        BOOST_TEST(s.next());
    });
    const SqliteLibrarySetup setup = sqliteLibrarySetup();
    BOOST_TEST(setup.multithread);
    BOOST_TEST(setup.memory_statistics_off);
    sqlite3* handle = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open_v2(":memory:", &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
                       SQLITE_OK);
    BOOST_TEST(sqlite3_exec(handle, "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('counted?')", nullptr, nullptr,
                            nullptr) == SQLITE_OK);
    BOOST_TEST((sqlite3_db_mutex(handle) == nullptr));  // serialized mode gives every connection a mutex
    BOOST_TEST(sqlite3_memory_used() == 0);             // with statistics, every open connection's memory counts
    sqlite3_close(handle);
}

// A statement's journal, what SQLite keeps to undo that statement alone when it fails halfway inside a transaction,
// stays in memory however large it grows (SQLite's default writes it to a temporary file past 64 KB), and it still
// undoes the statement.
BOOST_FIXTURE_TEST_CASE(statement_journals_stay_in_memory_and_still_undo_a_failed_statement, Fresh) {
    BOOST_TEST_REQUIRE(sqliteLibrarySetup().statement_journals_in_memory);
    const std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("keel-statement-journal-" + IdGenerator::global().next() + ".db");
    sqlite3* handle = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
                       SQLITE_OK);
    const auto exec = [&](const char* sql) { return sqlite3_exec(handle, sql, nullptr, nullptr, nullptr); };
    const auto count = [&](const char* sql) {
        sqlite3_stmt* statement = nullptr;
        BOOST_TEST_REQUIRE(sqlite3_prepare_v2(handle, sql, -1, &statement, nullptr) == SQLITE_OK);
        BOOST_TEST_REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
        const std::int64_t value = sqlite3_column_int64(statement, 0);
        sqlite3_finalize(statement);
        return value;
    };
    // 3,000 rows of 300 bytes: about 250 pages, so a statement that changes every row journals about 1 MB.
    BOOST_TEST_REQUIRE(exec("PRAGMA journal_mode = WAL; "
                            "CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER NOT NULL UNIQUE, v TEXT NOT NULL); "
                            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
                            "INSERT INTO t SELECT i, i, printf('%0300d', i) FROM n") == SQLITE_OK);
    const std::uint64_t files_before = sqliteStatementJournalFiles();
    BOOST_TEST_REQUIRE(exec("BEGIN IMMEDIATE") == SQLITE_OK);
    BOOST_TEST_REQUIRE(exec("UPDATE t SET v = v || 'x'") == SQLITE_OK);
    // Every row changes, then the last one takes a key the first one has: the statement fails at its end, and only it
    // is undone; the transaction and the statement before it stand.
    BOOST_TEST(exec("UPDATE t SET v = v || 'y', k = CASE WHEN id = 3000 THEN 1 ELSE k END") == SQLITE_CONSTRAINT);
    BOOST_TEST(sqlite3_get_autocommit(handle) == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM t WHERE v LIKE '%x'") == 3000);
    BOOST_TEST(count("SELECT COUNT(*) FROM t WHERE v LIKE '%y'") == 0);
    BOOST_TEST_REQUIRE(exec("COMMIT") == SQLITE_OK);
    BOOST_TEST(count("SELECT COUNT(*) FROM t WHERE v LIKE '%x' AND k = id") == 3000);
    BOOST_TEST(sqliteStatementJournalFiles() == files_before);  // with SQLite's default: one file, written page by page
    sqlite3_close(handle);
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

// On SQLite a commit's write-ahead log frames reach the file in one write call per 127 KB instead of two a page
// (db/src/sqlite_wal_writes.cpp), and all of them before another connection can see the commit.
BOOST_FIXTURE_TEST_CASE(a_commits_log_frames_reach_the_file_together_before_any_reader_sees_it, Fresh) {
    if (test.backend() != Backend::kSQLite) return;
    BOOST_TEST_REQUIRE(sqliteLibrarySetup().merged_log_writes);
    BOOST_TEST(std::string(sqlite3_vfs_find(nullptr)->zName) == kSqliteVfsName);
    createTable("CREATE TABLE big (id BIGINT NOT NULL PRIMARY KEY, body VARCHAR(4000) NOT NULL){{table_options}}");
    // Half the commits at synchronous=normal, where nothing syncs the log at commit, half at full, which syncs it.
    DatabaseOptions normal_options = test.options();
    ConnectionOptions normal;
    normal.sqlite_synchronous = "normal";
    normal_options.spec = parseConnectionString(test.connectionString(), normal);
    Database unsynced(normal_options);
    const std::unique_ptr<Database> reader = test.open();  // other connections, reading the files
    for (std::int64_t round = 0; round < 20; ++round) {
        const SqliteLogWrites before = sqliteLogWrites();
        (round % 2 == 0 ? unsynced : db).run([&](UnitOfWork& uow) {
            for (std::int64_t i = 0; i < 40; ++i) {  // 40 rows of 3 KB: a page each, about 165 KB of log
                uow.statement("INSERT INTO big (id, body) VALUES (?, ?)")
                    .bind(round * 40 + i)
                    .bind(std::string(3000, static_cast<char>('a' + i % 26)))
                    .execute();
            }
        });
        const SqliteLogWrites after = sqliteLogWrites();
        const std::uint64_t requested = after.requested - before.requested;
        const std::uint64_t issued = after.issued - before.issued;
        BOOST_TEST(requested >= 80u);          // a header and a page per frame
        BOOST_TEST(issued <= requested / 20);  // 127 KB at a time: 2 or 3
        reader->run([&](UnitOfWork& uow) {
            Statement& rows = uow.statement("SELECT COUNT(*), SUM(LENGTH(body)), MAX(body) FROM big");
            rows.execute();
            BOOST_TEST_REQUIRE(rows.next());
            BOOST_TEST(rows.getInt64(0) == (round + 1) * 40);
            BOOST_TEST(rows.getInt64(1) == (round + 1) * 40 * 3000);
            BOOST_TEST(rows.getString(2) == std::string(3000, 'z'));
        });
    }
    reader->run([&](UnitOfWork& uow) {
        Statement& check = uow.statement("PRAGMA integrity_check");
        check.execute();
        BOOST_TEST_REQUIRE(check.next());
        BOOST_TEST(check.getString(0) == "ok");
    });
}

// After the first connection, memory a thread frees at the top of its heap stays mapped: allocating it again does not
// fault every page in anew (glibc's default gives back all but 128 KB, and each page then faults on its next use).
BOOST_FIXTURE_TEST_CASE(freed_heap_memory_stays_mapped_for_the_next_unit_of_work, Fresh) {
    db.run([&](UnitOfWork& uow) { uow.statement("SELECT 1").execute(); });
    const HeapSetup setup = heapSetup();
    BOOST_TEST_REQUIRE(!setup.operator_chose);  // the environment names no threshold of its own
    BOOST_TEST(setup.trim_threshold);
    long faults = -1;
    std::thread([&] {
        // 16 MB in 4 KB blocks (like a page cache), freed, then allocated and written again.
        constexpr std::size_t kBlocks = 4096;
        constexpr std::size_t kBlock = 4000;
        auto fill = [&] {
            std::vector<char*> blocks;
            for (std::size_t i = 0; i < kBlocks; ++i) {
                blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
                std::memset(blocks.back(), 1, kBlock);
            }
            for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) std::free(*it);
        };
        fill();
        rusage before{};
        getrusage(RUSAGE_THREAD, &before);
        fill();
        rusage after{};
        getrusage(RUSAGE_THREAD, &after);
        faults = after.ru_minflt - before.ru_minflt;
    }).join();
    BOOST_TEST_MESSAGE("page faults refilling 16 MB: " << faults);
    BOOST_TEST(faults >= 0);
    BOOST_TEST(faults < 100);  // about 4,000 when the heap gives the memory back
}

BOOST_FIXTURE_TEST_CASE(a_statement_recorder_sees_each_counted_statement_with_its_parameters, Fresh) {
    createTable(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, name VARCHAR(20), note VARCHAR(20)){{table_options}}");
    struct Recorder final : StatementRecorder {
        std::mutex mutex;
        std::vector<std::pair<std::string, std::vector<ExecutedStatement::Parameter>>> seen;
        void executed(const ExecutedStatement& statement) override {
            std::lock_guard<std::mutex> lock(mutex);
            seen.emplace_back(statement.sql, statement.parameters);
        }
        std::vector<std::vector<ExecutedStatement::Parameter>> of(const std::string& sql) {
            std::lock_guard<std::mutex> lock(mutex);
            std::vector<std::vector<ExecutedStatement::Parameter>> out;
            for (const auto& [text, parameters] : seen) {
                if (text == sql) out.push_back(parameters);
            }
            return out;
        }
    } recorder;
    const std::string insert = "INSERT INTO t (id, name, note) VALUES (?, ?, ?)";
    const std::uint64_t before = statementsExecuted();
    recordStatements(&recorder);
    db.run([&](UnitOfWork& uow) {
        Statement& s = uow.statement(insert);
        s.bind(1).bind("ann").bindNull(SqlType::kText).execute();
        s.bind(2).bind(std::optional<std::string>()).bind("x").execute();
    });
    recordStatements(nullptr);
    db.run([&](UnitOfWork& uow) { uow.statement(insert).bindAll(3, "not", "seen").execute(); });
    const auto inserts = recorder.of(insert);
    BOOST_TEST_REQUIRE(inserts.size() == 2u);
    using P = ExecutedStatement::Parameter;
    BOOST_TEST((inserts[0] == std::vector<P>{P(std::int64_t{1}), P(std::string("ann")), P(std::monostate{})}));
    BOOST_TEST((inserts[1] == std::vector<P>{P(std::int64_t{2}), P(std::monostate{}), P(std::string("x"))}));
    // Whatever else was recorded (BEGIN and COMMIT where they are statements) was counted too, and nothing more.
    BOOST_TEST(recorder.seen.size() <= statementsExecuted() - before - 1);
    BOOST_TEST(count("t") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_connection_never_returns_to_the_pool_mid_transaction, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    {
        Lease lease = db.acquire();
        lease->begin(Isolation::kReadCommitted);
        lease->cached("INSERT INTO t (id) VALUES (?)").bind(1).execute();
        // The lease ends without commit: the insert must not survive, nor leak into the next borrower.
    }
    {
        Lease lease = db.acquire();
        BOOST_TEST(!lease->inTransaction());
        BOOST_TEST(!lease->hasOpenWork());
    }
    BOOST_TEST(count("t") == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(migrations)

BOOST_FIXTURE_TEST_CASE(from_empty_to_current_and_idempotent, Fresh) {
    Migrator migrator(db);
    const SchemaStatus empty = migrator.status();
    BOOST_TEST(empty.current == 0);
    BOOST_TEST(empty.pending.size() == embeddedMigrations().size());
    BOOST_TEST(empty.instance_id.empty());
    BOOST_CHECK_THROW(migrator.requireCurrent(), InfrastructureError);

    std::vector<int> announced;
    const auto applied = migrator.migrate([&](const Migration& m) { announced.push_back(m.version); });
    BOOST_TEST(applied == announced);
    BOOST_TEST(applied.size() == embeddedMigrations().size());

    const SchemaStatus current = migrator.status();
    BOOST_TEST(current.current == current.latest_known);
    BOOST_TEST(current.pending.empty());
    BOOST_TEST(current.problems.empty());
    BOOST_TEST(isUuid(current.instance_id));
    BOOST_TEST(current.applied.front().checksum == embeddedMigrations().front().checksumFor(db.backend()));
    BOOST_CHECK_NO_THROW(migrator.requireCurrent());

    BOOST_TEST(migrator.migrate().empty());
    BOOST_TEST(migrator.status().instance_id == current.instance_id);  // created once, never replaced
}

BOOST_FIXTURE_TEST_CASE(applies_only_what_is_pending_in_order, Fresh) {
    const std::vector<Migration> v1 = loadMigrations({{"0001_a.sql", "CREATE TABLE a (x INTEGER NOT NULL){{table_options}};"}});
    const std::vector<Migration> v2 = loadMigrations({
        {"0001_a.sql", "CREATE TABLE a (x INTEGER NOT NULL){{table_options}};"},
        {"0002_b.sql", "CREATE TABLE b (y INTEGER NOT NULL){{table_options}};\nINSERT INTO b (y) VALUES (7);"},
    });
    BOOST_TEST(Migrator(db, v1).migrate() == std::vector<int>{1});
    Migrator upgraded(db, v2);
    BOOST_TEST(upgraded.status().pending == std::vector<int>{2});
    BOOST_TEST(upgraded.migrate() == std::vector<int>{2});
    BOOST_TEST(count("b", "y = 7") == 1);
}

BOOST_FIXTURE_TEST_CASE(refuses_a_schema_newer_than_the_binary, Fresh) {
    Migrator migrator(db);
    migrator.migrate();
    db.run([&](UnitOfWork& uow) {
        uow.statement("INSERT INTO keel_schema_version (version, name, checksum, applied_at, keel_version) VALUES (?, ?, ?, ?, ?)")
            .bindAll(9999, "from_the_future", std::string(64, '0'), 0, "99.0.0")
            .execute();
    });
    const SchemaStatus status = migrator.status();
    BOOST_TEST(status.newerThanBinary());
    BOOST_TEST_REQUIRE(!status.problems.empty());
    BOOST_TEST(status.problems.back().find("newer than this keel") != std::string::npos);
    try {
        migrator.migrate();
        BOOST_FAIL("migrated a database newer than the binary");
    } catch (const InfrastructureError& e) {
        BOOST_TEST(std::string(e.what()).find("9999") != std::string::npos);
    }
    BOOST_CHECK_THROW(migrator.requireCurrent(), InfrastructureError);
}

BOOST_FIXTURE_TEST_CASE(refuses_an_edited_migration, Fresh) {
    const auto original = loadMigrations({{"0001_a.sql", "CREATE TABLE a (x INTEGER NOT NULL){{table_options}};"}});
    const auto edited = loadMigrations({{"0001_a.sql", "CREATE TABLE a (x BIGINT NOT NULL){{table_options}};"},
                                        {"0002_b.sql", "CREATE TABLE b (y INTEGER){{table_options}};"}});
    Migrator(db, original).migrate();
    Migrator migrator(db, edited);
    BOOST_TEST_REQUIRE(migrator.status().problems.size() == 1u);
    BOOST_TEST(migrator.status().problems.front().find("changed after it was applied") != std::string::npos);
    BOOST_CHECK_THROW(migrator.migrate(), InfrastructureError);
    BOOST_TEST(migrator.status().current == 1);  // nothing applied past the problem
}

BOOST_FIXTURE_TEST_CASE(a_failing_migration_names_itself_and_is_not_recorded, Fresh) {
    const auto broken = loadMigrations({{"0001_a.sql", "CREATE TABLE a (x INTEGER){{table_options}};"},
                                        {"0002_bad.sql", "CREATE TABLE b (y INTEGER){{table_options}};\nINSERT INTO nowhere VALUES (1);"}});
    Migrator migrator(db, broken);
    try {
        migrator.migrate();
        BOOST_FAIL("a broken migration was applied");
    } catch (const InfrastructureError& e) {
        BOOST_TEST(std::string(e.what()).find("migration 2 (bad) failed") != std::string::npos, e.what());
    }
    BOOST_TEST(migrator.status().current == 1);
    BOOST_TEST(migrator.status().pending == std::vector<int>{2});
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(transactions)

BOOST_FIXTURE_TEST_CASE(commit_makes_work_visible_to_others, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) {
        Statement& insert = uow.statement("INSERT INTO t (id, v) VALUES (?, ?)");
        for (int i = 1; i <= 3; ++i) BOOST_TEST(insert.bindAll(i, std::int64_t{i} * 100).execute() == 1u);
    });
    auto other = test.open();
    const auto total = other->run([](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT SUM(v) FROM t");
        s.execute();
        s.next();
        return s.getInt64(0);
    });
    BOOST_TEST(total == 600);
}

BOOST_FIXTURE_TEST_CASE(an_exception_rolls_back_everything, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    BOOST_CHECK_THROW(db.run([&](UnitOfWork& uow) {
                          uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute();
                          uow.statement("INSERT INTO t (id) VALUES (?)").bind(2).execute();
                          throw RejectedError("business rule refused the unit");
                      }),
                      RejectedError);
    BOOST_TEST(count("t") == 0);
}

BOOST_FIXTURE_TEST_CASE(a_unit_of_work_without_commit_rolls_back, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    {
        UnitOfWork uow(db.acquire(), Isolation::kReadCommitted);
        uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute();
    }
    BOOST_TEST(count("t") == 0);
    {
        UnitOfWork uow(db.acquire(), Isolation::kReadCommitted);
        uow.statement("INSERT INTO t (id) VALUES (?)").bind(2).execute();
        uow.commit();
    }
    BOOST_TEST(count("t") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_read_only_unit_refuses_to_write_and_leaves_the_connection_clean, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    RunOptions read;
    read.read_only = true;
    BOOST_TEST(count("t", "1 = 1", read) == 0);
    try {
        db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute(); }, read);
        BOOST_FAIL("a write in a read-only unit ran");
    } catch (const DbError& e) {
        BOOST_TEST(e.sqlstate() == "25006");
        BOOST_TEST(std::string(e.what()).find("INSERT INTO t") != std::string::npos);
    }
    BOOST_TEST(count("t") == 0);
    // The pooled connection writes again in an ordinary unit.
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(2).execute(); });
    BOOST_TEST(count("t") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_lookup_runs_outside_a_transaction_on_postgresql_and_leaves_the_connection_as_it_was, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    DatabaseOptions options = test.options();
    options.pool_size = 1;  // every unit below gets the same connection
    Database one(options);
    one.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute(); });
    RunOptions lookup;
    lookup.lookup = true;
    const bool postgresql = test.backend() == Backend::kPostgreSQL;
    // PostgreSQL: no transaction around the statements, so each is a transaction of its own (it starts with the
    // statement); in a unit of work the second statement runs in a transaction that started before it.
    // (A few microseconds may pass between the start of the statement's transaction and the query's; the sleep between
    // the two statements is 20 ms.)
    const std::string own_transaction =
        "SELECT CASE WHEN query_start - xact_start < INTERVAL '10 milliseconds' THEN 1 ELSE 0 END FROM "
        "pg_stat_activity "
        "WHERE pid = pg_backend_pid()";
    auto second_statement_alone = [&](const RunOptions& run_options) {
        return one.run(
            [&](UnitOfWork& uow) {
                BOOST_TEST(uow.connection().inLookup() == (test.backend() != Backend::kSQLite && run_options.lookup));
                Statement& first = uow.statement("SELECT COUNT(*) FROM t");
                first.execute();
                BOOST_TEST_REQUIRE(first.next());
                BOOST_TEST(first.getInt64(0) == 1);
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
                Statement& second = uow.statement(own_transaction);
                second.execute();
                BOOST_TEST_REQUIRE(second.next());
                return second.getInt64(0) == 1;
            },
            run_options);
    };
    if (postgresql) {
        BOOST_TEST(second_statement_alone(lookup));
        BOOST_TEST(!second_statement_alone(RunOptions{}));
    }
    // A lookup writes nothing, on every backend.
    try {
        one.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(2).execute(); }, lookup);
        BOOST_FAIL("a write in a lookup ran");
    } catch (const DbError& e) {
        BOOST_TEST(e.sqlstate() == "25006");
    }
    // The connection is back in manual commit: a unit that fails after writing leaves nothing.
    try {
        one.run([&](UnitOfWork& uow) {
            uow.statement("INSERT INTO t (id) VALUES (?)").bind(3).execute();
            throw std::runtime_error("refused after the insert");
        });
        BOOST_FAIL("the unit did not fail");
    } catch (const std::runtime_error&) {
    }
    const std::int64_t rows = one.run([&](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT COUNT(*) FROM t");
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        return s.getInt64(0);
    });
    BOOST_TEST(rows == 1);
    BOOST_TEST(!one.run([&](UnitOfWork& uow) { return uow.connection().inLookup(); }));
}

BOOST_FIXTURE_TEST_CASE(mariadb_lookups_keep_a_connection_in_autocommit_and_ordinary_units_one_that_is_not, Fresh) {
    // On MariaDB a lookup saves its COMMIT round trip, and switching autocommit costs one each way: a connection stays
    // in autocommit after a lookup, and the pool hands lookups such connections and ordinary units the others.
    if (test.backend() != Backend::kMariaDB) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    DatabaseOptions options = test.options();
    options.pool_size = 2;
    Database two(options);
    RunOptions lookup;
    lookup.lookup = true;
    auto session = [](UnitOfWork& uow, const std::string& sql) {
        Statement& s = uow.statement(sql);
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        return s.getString(s.columnCount() - 1);
    };
    std::set<const Connection*> lookups;
    std::set<const Connection*> ordinary;
    std::vector<std::string> commits;  // COMMIT statements the lookup connection's session had run, seen by each lookup
    for (int i = 0; i < 3; ++i) {
        two.run(
            [&](UnitOfWork& uow) {
                lookups.insert(&uow.connection());
                BOOST_TEST(session(uow, "SELECT @@autocommit") == "1");
                commits.push_back(session(uow, "SHOW SESSION STATUS LIKE 'Com_commit'"));
            },
            lookup);
        two.run([&](UnitOfWork& uow) {
            ordinary.insert(&uow.connection());
            BOOST_TEST(session(uow, "SELECT @@autocommit") == "0");
            uow.statement("INSERT INTO t (id) VALUES (?)").bind(i).execute();
        });
    }
    BOOST_TEST(lookups.size() == 1u);
    BOOST_TEST(ordinary.size() == 1u);
    BOOST_TEST(lookups != ordinary);
    BOOST_TEST(commits.front() == commits.back());  // no COMMIT between the lookups
    // The lookup connection still runs an ordinary unit as a transaction when it is the only one: a unit that fails
    // after writing leaves nothing.
    options.pool_size = 1;
    Database one(options);
    one.run([&](UnitOfWork& uow) { BOOST_TEST(session(uow, "SELECT @@autocommit") == "1"); }, lookup);
    BOOST_TEST(one.run([&](UnitOfWork& uow) { return uow.connection().inAutocommit(); }, lookup));
    try {
        one.run([&](UnitOfWork& uow) {
            BOOST_TEST(session(uow, "SELECT @@autocommit") == "0");
            uow.statement("INSERT INTO t (id) VALUES (?)").bind(99).execute();
            throw std::runtime_error("refused after the insert");
        });
        BOOST_FAIL("the unit did not fail");
    } catch (const std::runtime_error&) {
    }
    BOOST_TEST(count("t") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_read_only_unit_does_not_wait_for_a_writer, Fresh) {
    // A writer holds its transaction open; a read-only unit meanwhile reads the last committed state at once
    // (on SQLite a snapshot instead of queuing for the single writer lock, which would wait for the busy timeout).
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute(); });
    std::atomic<bool> written{false};
    std::atomic<bool> read_done{false};
    std::thread writer = holdUnitOpen([&](const auto& work) { db.run(work); }, 2, written, read_done);
    while (!written) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    RunOptions read;
    read.read_only = true;
    const auto started = std::chrono::steady_clock::now();
    const auto seen = count("t", "1 = 1", read);
    const auto waited = std::chrono::steady_clock::now() - started;
    read_done = true;
    writer.join();
    BOOST_TEST(seen == 1);  // the uncommitted row is not seen
    BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() < 1000);
    BOOST_TEST(count("t") == 2);
}

BOOST_FIXTURE_TEST_CASE(a_failed_statement_leaves_nothing_behind, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(20)){{table_options}}");
    // The unit inserts row 1, hits a duplicate key, carries on as if nothing happened and inserts row 3.
    // On PostgreSQL the server aborts such a transaction; on MariaDB and SQLite it would keep rows 1 and 3.
    // Keel refuses to commit a unit with a failed statement on every backend.
    bool saw_duplicate = false;
    try {
        db.run([&](UnitOfWork& uow) {
            Statement& insert = uow.statement("INSERT INTO t (id, note) VALUES (?, ?)");
            insert.bindAll(1, "first").execute();
            try {
                insert.bindAll(1, "duplicate").execute();
            } catch (const DbError& e) {
                saw_duplicate = e.kind() == ErrorKind::kUniqueViolation;
            }
            uow.statement("INSERT INTO t (id, note) VALUES (?, ?)").bindAll(3, "after").execute();
        });
        BOOST_FAIL("a unit of work with a failed statement committed");
    } catch (const DbError& e) {
        BOOST_TEST(std::string(e.what()).find("not committed") != std::string::npos, e.what());
    }
    BOOST_TEST(saw_duplicate);
    BOOST_TEST(count("t") == 0);

    // And the pool's connection is healthy afterwards.
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id, note) VALUES (?, ?)").bindAll(1, "ok").execute(); });
    BOOST_TEST(count("t") == 1);
}

BOOST_FIXTURE_TEST_CASE(a_repeatable_read_writer_on_sqlite_holds_the_writer_lock_from_its_first_read, Fresh) {
    // On SQLite a unit that may write begins IMMEDIATE whatever its isolation: another client's write waits for it
    // instead of slipping in between its read and its write, so the unit needs no retry and loses no update.
    if (test.backend() != Backend::kSQLite) return;  // the servers: see the forced serialization failure below
    createTable("CREATE TABLE counter (id INTEGER NOT NULL PRIMARY KEY, v BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO counter (id, v) VALUES (1, 0)").execute(); });
    auto other = test.open();
    int attempts = 0;
    std::atomic<bool> other_done{false};
    std::thread other_writer;
    RunOptions options;
    options.isolation = Isolation::kRepeatableRead;
    db.run(
        [&](UnitOfWork& uow) {
            ++attempts;
            const std::int64_t seen = readCounter(uow);
            if (attempts == 1) {
                other_writer = std::thread([&] {
                    other->run(
                        [](UnitOfWork& o) { o.statement("UPDATE counter SET v = v + 10 WHERE id = 1").execute(); });
                    other_done = true;
                });
                std::this_thread::sleep_for(std::chrono::milliseconds(200));
                BOOST_TEST(!other_done.load());  // it waits for this unit's lock
            }
            uow.statement("UPDATE counter SET v = ? WHERE id = 1").bind(seen + 1).execute();
        },
        options);
    other_writer.join();
    BOOST_TEST(attempts == 1);
    BOOST_TEST(count("counter", "v = 11") == 1);
}

BOOST_FIXTURE_TEST_CASE(retries_a_forced_serialization_failure, Fresh) {
    // SQLite cannot produce one through Database::run any more (see above): its writers take the lock up front.
    if (test.backend() == Backend::kSQLite) return;
    createTable("CREATE TABLE counter (id INTEGER NOT NULL PRIMARY KEY, v BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO counter (id, v) VALUES (1, 0)").execute(); });
    auto other = test.open();

    // Read-modify-write under snapshot isolation while another client commits a change to the same row in
    // between. PostgreSQL reports 40001, MariaDB (innodb_snapshot_isolation) 1020: the unit must be retried as a
    // whole and see the other client's value, so no update is lost.
    int attempts = 0;
    std::vector<std::string> retried_errors;
    RunOptions options;
    options.isolation = Isolation::kRepeatableRead;
    options.on_retry = [&](const DbError& e, int) { retried_errors.push_back(e.what()); };
    db.run(
        [&](UnitOfWork& uow) {
            ++attempts;
            const std::int64_t seen = readCounter(uow);
            if (attempts == 1) {
                other->run([](UnitOfWork& o) { o.statement("UPDATE counter SET v = v + 10 WHERE id = 1").execute(); });
            }
            uow.statement("UPDATE counter SET v = ? WHERE id = 1").bind(seen + 1).execute();
        },
        options);
    BOOST_TEST(attempts == 2);
    BOOST_TEST_REQUIRE(retried_errors.size() == 1u);
    BOOST_TEST_MESSAGE("retried after: " << retried_errors.front());
    BOOST_TEST(db.run([](UnitOfWork& uow) { return readCounter(uow); }) == 11);
}

BOOST_FIXTURE_TEST_CASE(gives_up_after_the_attempt_limit, Fresh) {
    if (test.backend() == Backend::kSQLite) return;  // no serialization failures there (see above)
    createTable("CREATE TABLE counter (id INTEGER NOT NULL PRIMARY KEY, v BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO counter (id, v) VALUES (1, 0)").execute(); });
    auto other = test.open();
    int attempts = 0;
    RunOptions options;
    options.isolation = Isolation::kRepeatableRead;
    options.max_attempts = 3;
    try {
        db.run(
            [&](UnitOfWork& uow) {
                ++attempts;
                readCounter(uow);
                other->run([](UnitOfWork& o) { o.statement("UPDATE counter SET v = v + 1 WHERE id = 1").execute(); });
                uow.statement("UPDATE counter SET v = v + 100 WHERE id = 1").execute();
            },
            options);
        BOOST_FAIL("an always-conflicting unit committed");
    } catch (const DbError& e) {
        BOOST_TEST(e.retryable());
        BOOST_TEST(std::string(e.what()).find("gave up after 3 attempts") != std::string::npos);
    }
    BOOST_TEST(attempts == 3);
}

BOOST_FIXTURE_TEST_CASE(concurrent_units_lose_nothing, Fresh) {
    // Four clients move stock concurrently: each unit appends a move and updates the balance relative to its
    // current value. Afterwards the balance equals the sum of the moves and nothing was lost or doubled.
    createTable("CREATE TABLE balance (sku VARCHAR(64) NOT NULL PRIMARY KEY, qty BIGINT NOT NULL){{table_options}}");
    createTable("CREATE TABLE moves (id VARCHAR(36) NOT NULL PRIMARY KEY, sku VARCHAR(64) NOT NULL, qty BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO balance (sku, qty) VALUES ('SKU-1', 0)").execute(); });
    constexpr int kThreads = 4;
    constexpr int kUnits = 25;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                for (int i = 0; i < kUnits; ++i) {
                    const std::string id = IdGenerator::global().next();
                    const std::int64_t qty = t + 1;
                    db.run([&](UnitOfWork& uow) {
                        uow.statement("INSERT INTO moves (id, sku, qty) VALUES (?, ?, ?)").bindAll(id, "SKU-1", qty).execute();
                        uow.statement("UPDATE balance SET qty = qty + ? WHERE sku = ?").bindAll(qty, "SKU-1").execute();
                    });
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("client failed: " << e.what());
                ++failures;
            }
        });
    }
    for (auto& thread : threads) thread.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(count("moves") == kThreads * kUnits);
    const auto [balance, sum] = db.run([](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT b.qty, (SELECT SUM(m.qty) FROM moves m WHERE m.sku = b.sku) FROM balance b WHERE b.sku = 'SKU-1'");
        s.execute();
        s.next();
        return std::pair{s.getInt64(0), s.getInt64(1)};
    });
    BOOST_TEST(balance == sum);
    BOOST_TEST(balance == kUnits * (1 + 2 + 3 + 4));
}

BOOST_FIXTURE_TEST_CASE(guarded_update_reports_matched_rows, Fresh) {
    // The portable reservation primitive: a conditional UPDATE whose affected-row count says whether the
    // guard held. MariaDB counts matched rows only with FOUND_ROWS, which the connection string sets.
    createTable("CREATE TABLE stock (sku VARCHAR(64) NOT NULL PRIMARY KEY, on_hand BIGINT NOT NULL, allocated BIGINT NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO stock (sku, on_hand, allocated) VALUES ('SKU-1', 5, 0)").execute(); });
    const std::string reserve = "UPDATE stock SET allocated = allocated + ? WHERE sku = ? AND on_hand - allocated >= ?";
    auto tryReserve = [&](std::int64_t qty) {
        return db.run([&](UnitOfWork& uow) { return uow.statement(reserve).bindAll(qty, "SKU-1", qty).execute(); });
    };
    BOOST_TEST(tryReserve(3) == 1u);
    BOOST_TEST(tryReserve(3) == 0u);  // only 2 left
    BOOST_TEST(tryReserve(2) == 1u);
    BOOST_TEST(db.run([&](UnitOfWork& uow) {
                   return uow.statement("UPDATE stock SET allocated = allocated WHERE sku = ?").bind("SKU-1").execute();
               }) == 1u);  // matched but unchanged still counts
}

BOOST_FIXTURE_TEST_CASE(a_cached_write_reports_its_rows_on_every_execution_and_sqlite_compiles_it_once, Fresh) {
    // On SQLite an INSERT, UPDATE or DELETE goes to the driver as WITH ... RETURNING 1, so that sqlite3odbc keeps its
    // compiled program instead of compiling it again on every execution; the affected rows are the rows returned.
    createTable(
        "CREATE TABLE w (id BIGINT NOT NULL PRIMARY KEY, grp BIGINT NOT NULL, n BIGINT NOT NULL){{table_options}}");
    const std::string insert = "INSERT INTO w (id, grp, n) VALUES (?, ?, 0)";
    const std::string bump = "UPDATE w SET n = n + 1 WHERE grp = ?";
    const std::string insert_new = db.dialect().upsert("w", {"id", "grp", "n"}, {"id"}, {});
    const std::string remove = "DELETE FROM w WHERE grp = ?;";
    db.run([&](UnitOfWork& uow) {
        for (int i = 1; i <= 5; ++i) BOOST_TEST(uow.statement(insert).bindAll(i, i <= 3 ? 1 : 2).execute() == 1u);
        BOOST_TEST(uow.statement(bump).bind(1).execute() == 3u);
        BOOST_TEST(uow.statement(bump).bind(2).execute() == 2u);
        BOOST_TEST(uow.statement(bump).bind(9).execute() == 0u);
        // There already: nothing inserted (MariaDB's form of it, a no-op ON DUPLICATE KEY UPDATE, counts the match).
        BOOST_TEST(uow.statement(insert_new).bindAll(1, 7, 0).execute() ==
                   (test.backend() == Backend::kMariaDB ? 1u : 0u));
        BOOST_TEST(uow.statement(insert_new).bindAll(6, 7, 0).execute() == 1u);
    });
    // A failed execution (duplicate key) leaves the cached statement usable, with the right counts.
    try {
        db.run([&](UnitOfWork& uow) { uow.statement(insert).bindAll(1, 1).execute(); });
        BOOST_FAIL("duplicate key accepted");
    } catch (const DbError& e) {
        BOOST_TEST(e.kind() == ErrorKind::kUniqueViolation, e.what());
        BOOST_TEST(std::string(e.what()).find(insert) != std::string::npos, e.what());  // named as written
    }
    db.run([&](UnitOfWork& uow) {
        BOOST_TEST(uow.statement(insert).bindAll(7, 2).execute() == 1u);
        BOOST_TEST(uow.statement(remove).bind(2).execute() == 3u);
        BOOST_TEST(uow.statement(remove).bind(2).execute() == 0u);
    });
    BOOST_TEST(count("w") == 4);
    BOOST_TEST(count("w", "grp = 1 AND n = 1") == 3);
    if (test.backend() != Backend::kSQLite) return;
    // SQLite lists the compiled statements of a connection, with how often each ran (sqlite_stmt): the UPDATE
    // above is one program that ran three times, not three programs compiled and thrown away.
    db.run([&](UnitOfWork& uow) {
        for (int i = 0; i < 3; ++i) uow.statement(bump).bind(3).execute();
        Statement& programs = uow.statement("SELECT run FROM sqlite_stmt WHERE sql LIKE ?");
        programs.bind("%UPDATE w SET n = n + 1 WHERE grp = ?%").execute();
        std::vector<std::int64_t> runs;
        while (programs.next()) runs.push_back(programs.getInt64(0));
        BOOST_TEST_REQUIRE(runs.size() == 1u);
        BOOST_TEST(runs.front() >= 3);
    });
}

BOOST_FIXTURE_TEST_CASE(a_connection_keeps_its_recent_statements_and_frees_the_rest, Fresh) {
    // Statements of many sizes, as multi-row INSERTs come: 120 of 1,000 parameters each weigh more than the budget.
    // Going back to the pool over the budget, the connection frees the least recently used until half of it is left,
    // so it never keeps more than the budget between units; an evicted statement is prepared again when next used.
    auto sqlFor = [](int v) {
        std::string sql = "SELECT COUNT(*) + " + std::to_string(v) + " FROM (SELECT 1 AS one) t WHERE t.one IN (?";
        for (int i = 1; i < 1000; ++i) sql += ", ?";
        return sql + ")";
    };
    auto runOne = [&](UnitOfWork& uow, int v) {
        Statement& s = uow.statement(sqlFor(v));
        for (int i = 0; i < 1000; ++i) s.bind(std::int64_t{1});
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        BOOST_TEST(s.getInt64(0) == v + 1);
    };
    std::size_t heaviest = 0;
    for (int v = 0; v < 120; ++v) {
        db.run([&](UnitOfWork& uow) {
            runOne(uow, v);
            heaviest = std::max(heaviest, uow.connection().statementCacheWeight());
        });
    }
    BOOST_TEST(heaviest <= Connection::kStatementCacheBudget + 1001);
    db.run([&](UnitOfWork& uow) {
        BOOST_TEST(uow.connection().statementCacheWeight() <= Connection::kStatementCacheBudget);
        BOOST_TEST(uow.connection().cachedStatements() < 60u);
        runOne(uow, 0);    // long evicted: prepared again
        runOne(uow, 119);  // the most recent: still there
    });
}

namespace {
const char kBuffer = 0;
// The unit's buffer of rows for t.
DeferredInsert& buffered(UnitOfWork& uow) {
    return DeferredInsert::in(uow, &kBuffer, "t", {"id"});
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(deferred_rows_are_written_at_commit_and_dropped_on_rollback, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    createTable("CREATE TABLE other (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    db.run([&](UnitOfWork& uow) {
        for (std::int64_t id = 1; id <= 3; ++id) buffered(uow).add(id);
        // Not written yet: the unit does not see its own buffered rows.
        Statement& seen = uow.statement("SELECT COUNT(*) FROM t");
        seen.execute();
        BOOST_TEST_REQUIRE(seen.next());
        BOOST_TEST(seen.getInt64(0) == 0);
        BOOST_TEST(&buffered(uow) == &buffered(uow));
    });
    BOOST_TEST(count("t") == 3);
    BOOST_CHECK_THROW(db.run([&](UnitOfWork& uow) {
        buffered(uow).add(std::int64_t{4});
        throw RejectedError("refused");
    }),
                      RejectedError);
    BOOST_TEST(count("t") == 3);
    // A row that cannot be written fails the commit, and the unit's other statements roll back with it.
    BOOST_CHECK_THROW(db.run([&](UnitOfWork& uow) {
        uow.statement("INSERT INTO other (id) VALUES (?)").bind(1).execute();
        buffered(uow).add(std::int64_t{1});  // already there
    }),
                      DbError);
    BOOST_TEST(count("other") == 0);
    BOOST_TEST(count("t") == 3);
    // A row with the wrong number of values is refused where it is added, and nothing of the unit is written.
    BOOST_CHECK_THROW(db.run([&](UnitOfWork& uow) {
        buffered(uow).add(std::int64_t{5});
        buffered(uow).add(std::int64_t{6}, std::int64_t{7});
    }),
                      std::logic_error);
    BOOST_TEST(count("t") == 3);
}

namespace {
const char kNotes = 0;
const char kTags = 0;
// Two more tables' buffers, with a nullable column of each type.
DeferredInsert& notes(UnitOfWork& uow) {
    return DeferredInsert::in(uow, &kNotes, "note", {"id", "text", "amount"});
}
DeferredInsert& tags(UnitOfWork& uow) {
    return DeferredInsert::in(uow, &kTags, "tag", {"id", "label"});
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(deferred_rows_of_several_tables_are_one_statement_on_postgresql, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    createTable(
        "CREATE TABLE note (id INTEGER NOT NULL PRIMARY KEY, text VARCHAR(20), amount BIGINT){{table_options}}");
    createTable("CREATE TABLE tag (id INTEGER NOT NULL PRIMARY KEY, label VARCHAR(20) NOT NULL){{table_options}}");
    const bool together = db.backend() == Backend::kPostgreSQL;
    // The statements a unit's commit executes for its buffered rows.
    auto flushed = [&](const std::function<void(UnitOfWork&)>& fill) {
        return db.run([&](UnitOfWork& uow) {
            fill(uow);
            const std::uint64_t before = statementsExecuted();
            uow.flushDeferred();
            return statementsExecuted() - before;
        });
    };
    const std::uint64_t three_tables = flushed([&](UnitOfWork& uow) {
        buffered(uow).add(std::int64_t{1});
        notes(uow).add(std::int64_t{1}, std::optional<std::string>("first"), std::optional<std::int64_t>(-5));
        notes(uow).add(std::int64_t{2}, std::optional<std::string>(), std::optional<std::int64_t>());
        tags(uow).add(std::int64_t{1}, std::string("a"));
        buffered(uow).add(std::int64_t{2});
    });
    BOOST_TEST(three_tables == (together ? 1u : 3u));
    BOOST_TEST(count("t") == 2);
    BOOST_TEST(count("tag") == 1);
    BOOST_TEST(count("note", "id = 1 AND text = 'first' AND amount = -5") == 1);
    BOOST_TEST(count("note", "id = 2 AND text IS NULL AND amount IS NULL") == 1);

    // More rows than one statement takes together: that table's rows go on their own (on the servers 16 + 1 rows,
    // on SQLite all 17 in one statement), the other two tables' together.
    const std::uint64_t many = flushed([&](UnitOfWork& uow) {
        for (std::int64_t id = 10; id < 10 + 17; ++id) buffered(uow).add(id);
        tags(uow).add(std::int64_t{2}, std::string("b"));
        notes(uow).add(std::int64_t{3}, std::optional<std::string>("third"), std::optional<std::int64_t>(7));
    });
    const std::uint64_t alone = db.backend() == Backend::kSQLite ? 1u : 2u;
    BOOST_TEST(many == alone + (together ? 1u : 2u));
    BOOST_TEST(count("t") == 19);
    BOOST_TEST(count("tag") == 2);
    BOOST_TEST(count("note") == 3);

    // A row one table refuses fails the whole commit: the other tables' rows are not written either.
    BOOST_CHECK_THROW(db.run([&](UnitOfWork& uow) {
        tags(uow).add(std::int64_t{3}, std::string("c"));
        buffered(uow).add(std::int64_t{1});  // already there
    }),
                      DbError);
    BOOST_TEST(count("tag") == 2);
    BOOST_TEST(count("t") == 19);

    // The statement that writes them together is a write: a read-only unit refuses it before it runs.
    RunOptions read_only;
    read_only.read_only = true;
    try {
        db.run(
            [&](UnitOfWork& uow) {
                tags(uow).add(std::int64_t{4}, std::string("d"));
                buffered(uow).add(std::int64_t{100});
            },
            read_only);
        BOOST_FAIL("a read-only unit wrote its buffered rows");
    } catch (const DbError& e) {
        BOOST_TEST(std::string(e.what()).find("a read-only unit of work cannot write") != std::string::npos, e.what());
    }
    BOOST_TEST(count("tag") == 2);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(commit_group)

namespace {

// Lines up a group: a first unit holds the group's transaction open until `followers` units wait in the queue, then
// lets go; the units queued meanwhile are the next group(s). Returns when all have run.
struct LinedUp {
    CommitGroup& group;
    std::vector<std::function<void()>> followers;

    void run() {
        std::atomic<bool> inside{false};
        std::atomic<bool> go{false};
        std::thread first = holdUnitOpen([this](const auto& work) { group.run(work); }, 0, inside, go);
        while (!inside) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        std::vector<std::thread> threads;
        for (std::size_t i = 0; i < followers.size(); ++i) {
            threads.emplace_back(followers[i]);
            // One at a time, so the queue (and the group) keeps the order of `followers`.
            for (int wait = 0; wait < 20000 && group.queued() < i + 1; ++wait) {
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            BOOST_TEST_REQUIRE(group.queued() == i + 1);
        }
        go = true;
        first.join();
        for (auto& t : threads) t.join();
    }
};

void expectStats(const CommitGroup& group, const CommitGroupStats& expected) {
    const CommitGroupStats stats = group.stats();
    BOOST_TEST(stats.units == expected.units);
    BOOST_TEST(stats.groups == expected.groups);
    BOOST_TEST(stats.grouped == expected.grouped);
    BOOST_TEST(stats.fallbacks == expected.fallbacks);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(units_that_arrive_during_a_commit_share_the_next_one, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    CommitGroup group(db, 4);
    if (test.backend() != Backend::kSQLite) {
        // Only SQLite groups (one writer, an fsync per commit): elsewhere run() is Database::run.
        group.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO t (id) VALUES (?)").bind(1).execute(); });
        BOOST_TEST(count("t") == 1);
        BOOST_TEST(group.stats().units == 0u);
        return;
    }
    LinedUp lined{group, {}};
    for (int id = 1; id <= 6; ++id) {
        lined.followers.emplace_back([&, id] {
            const int echoed = group.run([&](UnitOfWork& uow) {
                uow.statement("INSERT INTO t (id) VALUES (?)").bind(id).execute();
                return id;
            });
            BOOST_TEST(echoed == id);
        });
    }
    lined.run();
    BOOST_TEST(count("t") == 7);
    // The first unit alone, then the six queued behind it in groups of at most four: 4 and 2.
    expectStats(group, {.units = 7, .groups = 2, .grouped = 6, .fallbacks = 0});
}

BOOST_FIXTURE_TEST_CASE(a_member_that_fails_leaves_the_others_their_own_outcome, Fresh) {
    if (test.backend() != Backend::kSQLite) return;  // no grouping elsewhere (see above)
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    CommitGroup group(db, 16);
    LinedUp lined{group, {}};
    const auto insert = [](UnitOfWork& uow, int id) {
        uow.statement("INSERT INTO t (id) VALUES (?)").bind(id).execute();
    };
    lined.followers.emplace_back([&] { group.run([&](UnitOfWork& uow) { insert(uow, 1); }); });
    lined.followers.emplace_back([&] { group.run([&](UnitOfWork& uow) { insert(uow, 6); }); });
    lined.followers.emplace_back([&] {  // refused by a business rule: a failed Result
        const Result<int> refused = group.run([&](UnitOfWork& uow) -> Result<int> {
            insert(uow, 2);
            return uow.fail(ExitCode::kRejected, "refused on purpose", "id");
        });
        BOOST_TEST(!refused.ok());
        BOOST_TEST(refused.problem().message == "refused on purpose");
    });
    lined.followers.emplace_back([&] {  // throws
        BOOST_CHECK_THROW(group.run([&](UnitOfWork& uow) {
            insert(uow, 3);
            throw std::runtime_error("boom");
        }),
                          std::runtime_error);
    });
    lined.followers.emplace_back([&] {  // a statement fails and the work swallows it: never committed
        BOOST_CHECK_THROW(group.run([&](UnitOfWork& uow) {
            insert(uow, 4);
            try {
                insert(uow, 0);  // the first unit's row
            } catch (const DbError&) {
            }
        }),
                          DbError);
    });
    lined.followers.emplace_back([&] { group.run([&](UnitOfWork& uow) { insert(uow, 5); }); });
    lined.followers.emplace_back([&] { group.run([&](UnitOfWork& uow) { insert(uow, 7); }); });
    lined.run();
    BOOST_TEST(count("t") == 5);
    BOOST_TEST(count("t", "id IN (0, 1, 5, 6, 7)") == 5);
    // The seven rolled back at the refusal: 1 and 6, queued before it, committed together, then it ran alone. The
    // rest rolled back at the exception, which ran alone, then at the statement failure, which ran alone, and 5 and 7
    // committed together.
    expectStats(group, {.units = 8, .groups = 2, .grouped = 4, .fallbacks = 3});
}

BOOST_FIXTURE_TEST_CASE(a_batch_runs_each_unit_on_its_own_in_shared_transactions, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    CommitGroup group(db, 4);
    // Ten units: 3 is refused by a business rule after it wrote, 7 throws after it wrote, 9 inserts an id that 2 took.
    std::vector<int> ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    std::vector<int> ran;
    const auto unit = [&](UnitOfWork& uow, const int& id) -> Result<int> {
        ran.push_back(id);
        uow.statement("INSERT INTO t (id) VALUES (?)").bind(id == 9 ? 2 : id).execute();
        if (id == 3) return uow.fail(ExitCode::kRejected, "refused on purpose", "id");
        if (id == 7) throw std::runtime_error("boom");
        return id * 10;
    };
    try {
        (void)group.runEach(ids, unit);
        BOOST_FAIL("the exception of unit 7 was not rethrown");
    } catch (const std::runtime_error& e) {
        BOOST_TEST(std::string(e.what()) == "boom");
    }
    // Every unit but the three ran to its end and committed; nothing of those three did.
    BOOST_TEST(count("t") == 7);
    BOOST_TEST(count("t", "id IN (1, 2, 4, 5, 6, 8, 10)") == 7);
    for (const int id : ids) BOOST_TEST(std::count(ran.begin(), ran.end(), id) >= 1);

    // Without a failure, each unit's result in item order.
    std::vector<int> more{11, 12, 13, 14, 15, 16};
    const std::vector<Result<int>> results = group.runEach(more, unit);
    BOOST_TEST_REQUIRE(results.size() == more.size());
    for (std::size_t i = 0; i < more.size(); ++i) {
        BOOST_TEST_REQUIRE(results[i].ok());
        BOOST_TEST(results[i].value() == more[i] * 10);
    }
    // A refusal comes back as its own failed Result, the others' results beside it.
    std::vector<int> refused{17, 3, 18};
    const std::vector<Result<int>> mixed = group.runEach(refused, unit);
    BOOST_TEST(mixed[0].ok());
    BOOST_TEST(!mixed[1].ok());
    BOOST_TEST(mixed[1].problem().message == "refused on purpose");
    BOOST_TEST(mixed[2].ok());
    BOOST_TEST(count("t") == 15);
    if (test.backend() != Backend::kSQLite) {
        BOOST_TEST(group.stats().units == 0u);  // one Database::run each
        return;
    }
    // Groups of at most four, each failure splitting its group in queue order: 1-4, where 3 failed, so 1 and 2
    // committed together, then 3 alone, then 4 alone; 5-8 likewise around 7; 9 and 10, where 9 failed (each ran
    // alone); then 11-14 and 15-16; then 17, 3, 18, each alone around 3's failure.
    expectStats(group, {.units = 19, .groups = 4, .grouped = 10, .fallbacks = 4});
}

BOOST_FIXTURE_TEST_CASE(many_threads_lose_nothing_and_duplicate_nothing, Fresh) {
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    CommitGroup group(db, 32);
    std::vector<std::thread> threads;
    for (int w = 0; w < 8; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < 50; ++i) {
                group.run([&](UnitOfWork& uow) {
                    uow.statement("INSERT INTO t (id) VALUES (?)").bind(w * 1000 + i).execute();
                });
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(count("t") == 400);
    if (test.backend() == Backend::kSQLite) {
        const CommitGroupStats stats = group.stats();
        BOOST_TEST(stats.units == 400u);
        BOOST_TEST(stats.fallbacks == 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoints)

namespace {
std::int64_t pragmaValue(Database& database, const std::string& pragma) {
    return database.run([&](UnitOfWork& uow) {
        Statement& s = uow.statement("PRAGMA " + pragma);
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        return s.getInt64(0);
    });
}

void writeRows(Database& database, int first, int rows) {
    for (int i = first; i < first + rows; ++i) {
        database.run([&](UnitOfWork& uow) {
            uow.statement("INSERT INTO t (id, payload) VALUES (?, ?)").bindAll(i, std::string(2000, 'x')).execute();
        });
    }
}
}  // namespace

BOOST_FIXTURE_TEST_CASE(sqlite_writers_of_every_thread_share_one_connection_and_readers_use_the_pool, Fresh) {
    // SQLite empties a connection's page cache whenever another connection wrote since it last read, so writers that
    // took turns on pooled connections started every unit cold. They queue for the writer lock anyway; the holder now
    // writes through one connection kept for writers, and read-only units use the pool.
    if (test.backend() != Backend::kSQLite) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    std::mutex seen_mutex;
    std::map<const Connection*, int> writers;  // units written on each connection
    std::set<const Connection*> readers;
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
        threads.emplace_back([&, w] {
            RunOptions reading;
            reading.read_only = true;
            for (int i = 0; i < 25; ++i) {
                db.run([&](UnitOfWork& uow) {
                    uow.statement("INSERT INTO t (id) VALUES (?)").bind(w * 100 + i).execute();
                    std::lock_guard<std::mutex> lock(seen_mutex);
                    ++writers[&uow.connection()];
                });
                db.run(
                    [&](UnitOfWork& uow) {
                        uow.statement("SELECT COUNT(*) FROM t").execute();
                        std::lock_guard<std::mutex> lock(seen_mutex);
                        readers.insert(&uow.connection());
                    },
                    reading);
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(count("t") == 100);
    std::string spread;
    for (const auto& [connection, units] : writers) spread += " " + std::to_string(units);
    BOOST_TEST_REQUIRE(writers.size() == 1u, "units per writing connection:" << spread);
    BOOST_TEST(readers.count(writers.begin()->first) == 0u);
    BOOST_TEST(!readers.empty());
}

BOOST_FIXTURE_TEST_CASE(a_thread_copies_the_log_back_so_that_commits_do_not, Fresh) {
    // db.sqlite.checkpoint = background (the default): the commits only append to the write-ahead log; the Database's
    // own thread copies it back into the database file shortly after, and a commit would do it only past 10,000 pages.
    if (test.backend() != Backend::kSQLite) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, payload VARCHAR(4000) NOT NULL){{table_options}}");
    BOOST_TEST(pragmaValue(db, "wal_autocheckpoint") == 10000);
    writeRows(db, 0, 200);
    CheckpointStats stats;
    for (int i = 0; i < 500; ++i) {  // 5 s at most; it runs 50 ms after the first commit it sees
        stats = db.checkpointStats();
        if (stats.checkpoints > 0 && stats.log_frames > 0 && stats.checkpointed_frames == stats.log_frames) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(stats.checkpoints > 0);
    BOOST_TEST(stats.failures == 0u);
    BOOST_TEST(stats.log_frames > 0u);  // since the log last started over (after a complete checkpoint)
    BOOST_TEST(stats.checkpointed_frames == stats.log_frames);
    RunOptions reading;
    reading.read_only = true;  // a read-only unit does not wake it
    BOOST_TEST(count("t", "1 = 1", reading) == 200);
    // Asleep until the next commit (once a round due from the last commits has run): no checkpoint without one.
    // A loaded machine may run that last round late, so the count must hold still for 300 ms within 5 s; a thread
    // that checkpointed without commits would move it every 50 ms.
    auto rounds = db.checkpointStats().checkpoints;
    bool still = false;
    for (int i = 0; i < 16 && !still; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        const auto now = db.checkpointStats().checkpoints;
        still = now == rounds;
        rounds = now;
    }
    BOOST_TEST(still);
    const std::uint64_t counted = statementsExecuted();
    writeRows(db, 200, 1);
    const std::uint64_t unit = statementsExecuted() - counted;  // the round runs 50 ms later at the earliest
    for (int i = 0; i < 500 && db.checkpointStats().checkpoints == rounds; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(db.checkpointStats().checkpoints > rounds);
    // The thread's statements (its checkpoints, its connection's setup) are no unit's: a count taken around units
    // does not move when a round runs meanwhile.
    BOOST_TEST(statementsExecuted() - counted == unit);
}

BOOST_FIXTURE_TEST_CASE(the_log_file_shrinks_back_to_64_mb_after_a_large_write, Fresh) {
    // SQLite keeps the write-ahead log file at the size it grew to; journal_size_limit cuts it back to 64 MB when the
    // log starts over after a complete checkpoint (the first commit after it truncates).
    if (test.backend() != Backend::kSQLite) return;
    constexpr std::uintmax_t kLimit = 64u << 20;
    BOOST_TEST(pragmaValue(db, "journal_size_limit") == static_cast<std::int64_t>(kLimit));
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, payload VARCHAR(4000) NOT NULL){{table_options}}");
    db.run([&](UnitOfWork& uow) {  // about 75 MB in one transaction: the log grows past the limit
        BatchInsert insert(uow, "t", {"id", "payload"}, 100);
        for (std::int64_t i = 0; i < 18'000; ++i) insert.add(i, std::string(4000, 'x'));
        insert.flush();
    });
    const std::string wal = test.connectionString().substr(std::string("sqlite:").size()) + "-wal";
    BOOST_TEST_REQUIRE(std::filesystem::file_size(wal) > kLimit);
    CheckpointStats stats;
    for (int i = 0; i < 1000; ++i) {  // 10 s at most
        stats = db.checkpointStats();
        if (stats.checkpoints > 0 && stats.log_frames > 0 && stats.checkpointed_frames == stats.log_frames) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST_REQUIRE(stats.checkpointed_frames == stats.log_frames);
    writeRows(db, 100'000, 1);  // starts the log over
    BOOST_TEST(std::filesystem::file_size(wal) <= kLimit);
    BOOST_TEST(count("t") == 18'001);
}

BOOST_FIXTURE_TEST_CASE(a_database_closes_at_once_with_a_checkpoint_due, Fresh) {
    if (test.backend() != Backend::kSQLite) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, payload VARCHAR(4000) NOT NULL){{table_options}}");
    const auto started = std::chrono::steady_clock::now();
    {
        auto other = test.open();
        writeRows(*other, 0, 3);  // wakes its thread, which then waits 50 ms for more commits
    }
    BOOST_TEST(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count() <
        2000);
    BOOST_TEST(count("t") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_large_commit_is_checkpointed_without_the_delay, Fresh) {
    // After a small commit the thread waits its delay for more commits to join the checkpoint; after a commit of
    // WalCheckpointer::kPromptFrames pages or more it checkpoints at once. Keel's VFS counts a commit's frames.
    if (test.backend() != Backend::kSQLite) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, payload VARCHAR(4000) NOT NULL){{table_options}}");
    DatabaseOptions options = test.options();
    options.spec.sqlite_background_checkpoint = false;  // no thread of its own: the one below is woken by hand
    Database writer(options);
    WalCheckpointer checkpointer(options.spec, std::chrono::minutes(10));
    writeRows(writer, 0, 1);  // a row of 2 KB: a few pages
    const std::uint64_t small = takeCommittedLogFrames();
    BOOST_TEST(small >= 1u);
    BOOST_TEST(small < WalCheckpointer::kPromptFrames);
    BOOST_TEST(takeCommittedLogFrames() == 0u);  // taken
    writeRows(writer, 1, 1);
    checkpointer.wake();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    BOOST_TEST(checkpointer.stats().checkpoints == 0u);  // waiting for more commits
    writer.run([&](UnitOfWork& uow) {
        for (int i = 2; i < 302; ++i) {  // rows of 3 KB: a page each
            uow.statement("INSERT INTO t (id, payload) VALUES (?, ?)").bindAll(i, std::string(3000, 'y')).execute();
        }
    });
    checkpointer.wake();  // reads this commit's frames: 300 pages and more
    CheckpointStats stats;
    for (int i = 0; i < 1000 && stats.checkpoints == 0; ++i) {  // 10 s at most
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        stats = checkpointer.stats();
    }
    BOOST_TEST(stats.checkpoints == 1u);
    BOOST_TEST(stats.log_frames >= 300u);
    BOOST_TEST(stats.checkpointed_frames == stats.log_frames);
    BOOST_TEST(count("t") == 302);
}

BOOST_FIXTURE_TEST_CASE(a_failing_checkpoint_is_counted_and_tried_again, Fresh) {
    // The thread survives a database it cannot open (here a directory that does not exist), counts each failed round
    // and tries again after the next commit; stopping it does not wait.
    if (test.backend() != Backend::kSQLite) return;
    const ConnectionSpec spec = parseConnectionString("sqlite:/nonexistent-keel-dir/keel.db");
    auto checkpointer = std::make_unique<WalCheckpointer>(spec, std::chrono::milliseconds(5));
    checkpointer->wake();
    for (int i = 0; i < 500 && checkpointer->stats().failures == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(checkpointer->stats().failures == 1u);
    checkpointer->wake();
    for (int i = 0; i < 500 && checkpointer->stats().failures < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(checkpointer->stats().failures == 2u);
    BOOST_TEST(checkpointer->stats().checkpoints == 0u);
    const auto started = std::chrono::steady_clock::now();
    checkpointer.reset();
    BOOST_TEST(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count() <
        1000);
}

BOOST_FIXTURE_TEST_CASE(commit_mode_leaves_checkpoints_to_sqlite, Fresh) {
    // db.sqlite.checkpoint = commit: SQLite's default, the commit that takes the log past 1,000 pages copies it back.
    if (test.backend() != Backend::kSQLite) return;
    createTable("CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, payload VARCHAR(4000) NOT NULL){{table_options}}");
    DatabaseOptions options = test.options();
    options.spec.sqlite_background_checkpoint = false;
    Database inline_checkpoints(options);
    BOOST_TEST(pragmaValue(inline_checkpoints, "wal_autocheckpoint") == 1000);
    writeRows(inline_checkpoints, 0, 20);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const CheckpointStats stats = inline_checkpoints.checkpointStats();
    BOOST_TEST(stats.checkpoints == 0u);
    BOOST_TEST(stats.log_frames == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(leases)

BOOST_FIXTURE_TEST_CASE(one_holder_at_a_time_until_it_expires_or_is_released, Fresh) {
    Migrator(db).migrate();
    const std::int64_t t0 = 1'000'000'000;
    const std::int64_t ttl = 30'000'000;
    BOOST_TEST(claimLease(db, "orders.allocate", "node-a", t0, ttl));
    BOOST_TEST(!claimLease(db, "orders.allocate", "node-b", t0 + 1, ttl));  // held
    BOOST_TEST(claimLease(db, "orders.allocate", "node-a", t0 + 10, ttl));  // renewed by its holder
    BOOST_TEST(!claimLease(db, "orders.allocate", "node-b", t0 + ttl + 1, ttl));  // the renewal counts from t0 + 10
    BOOST_TEST(claimLease(db, "other.job", "node-b", t0, ttl));  // leases are independent
    BOOST_TEST(claimLease(db, "orders.allocate", "node-b", t0 + ttl + 11, ttl));  // expired: taken over
    BOOST_TEST(!claimLease(db, "orders.allocate", "node-a", t0 + ttl + 12, ttl));

    releaseLease(db, "orders.allocate", "node-a");  // not the holder: changes nothing
    BOOST_TEST(!claimLease(db, "orders.allocate", "node-a", t0 + ttl + 13, ttl));
    releaseLease(db, "orders.allocate", "node-b");
    BOOST_TEST(claimLease(db, "orders.allocate", "node-a", t0 + ttl + 14, ttl));
    BOOST_CHECK_THROW(claimLease(db, "", "node-a", t0, ttl), RejectedError);
    BOOST_CHECK_THROW(claimLease(db, "x", "node-a", t0, 0), RejectedError);
}

BOOST_FIXTURE_TEST_CASE(concurrent_claimers_get_one_lease, Fresh) {
    Migrator(db).migrate();
    std::atomic<int> winners{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) {
        threads.emplace_back([&, i] {
            if (claimLease(db, "contended", "node-" + std::to_string(i), 5'000'000, 60'000'000)) ++winners;
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(winners.load() == 1);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(values)

BOOST_FIXTURE_TEST_CASE(int64_round_trips_exactly, Fresh) {
    createTable("CREATE TABLE n (id INTEGER NOT NULL PRIMARY KEY, v BIGINT){{table_options}}");
    const std::vector<std::int64_t> values = {0, 1, -1, 2147483647, 2147483648LL, -2147483649LL, 9007199254740993LL,
                                              std::numeric_limits<std::int64_t>::max(),
                                              std::numeric_limits<std::int64_t>::min()};
    db.run([&](UnitOfWork& uow) {
        Statement& insert = uow.statement("INSERT INTO n (id, v) VALUES (?, ?)");
        for (std::size_t i = 0; i < values.size(); ++i) insert.bindAll(static_cast<int>(i), values[i]).execute();
        insert.bind(static_cast<int>(values.size())).bind(std::optional<std::int64_t>{}).execute();
    });
    db.run([&](UnitOfWork& uow) {
        Statement& select = uow.statement("SELECT id, v FROM n ORDER BY id");
        select.execute();
        for (std::size_t i = 0; i < values.size(); ++i) {
            BOOST_TEST_REQUIRE(select.next());
            BOOST_TEST(select.getInt64(1) == values[i]);
        }
        BOOST_TEST_REQUIRE(select.next());
        BOOST_TEST(select.isNull(1));
        BOOST_TEST(!select.getOptionalInt64(1).has_value());
        BOOST_CHECK_THROW(select.getInt64(1), DbError);
        BOOST_TEST(!select.next());
    });
    // Sums of BIGINT arrive as NUMERIC text on PostgreSQL and still read exactly.
    const auto sum = db.run([](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT SUM(v) FROM n WHERE v BETWEEN ? AND ?");
        s.bindAll(std::int64_t{0}, std::int64_t{9007199254740993LL}).execute();
        s.next();
        return s.getInt64(0);
    });
    BOOST_TEST(sum == 1 + 2147483647LL + 2147483648LL + 9007199254740993LL);
}

BOOST_FIXTURE_TEST_CASE(long_and_multibyte_strings_round_trip_exactly, Fresh) {
    createTable("CREATE TABLE s (id INTEGER NOT NULL PRIMARY KEY, short_text VARCHAR(10), mid VARCHAR(1000), doc {{text}}){{table_options}}");
    struct Row {
        std::string short_text;
        std::string mid;
        std::string doc;
    };
    const std::vector<Row> rows = {
        {"", "", ""},
        {"abc", std::string(256, 'x'), std::string(300, 'y')},
        {utf8Repeat("€", 10), utf8Repeat("ü", 1000), utf8Repeat("😀", 100000)},  // 10 characters, 30 bytes
        {"it's \"q\"", std::string(255, 'a') + "é", std::string(1 << 20, 'z') + "end"},
    };
    db.run([&](UnitOfWork& uow) {
        Statement& insert = uow.statement("INSERT INTO s (id, short_text, mid, doc) VALUES (?, ?, ?, ?)");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            insert.bindAll(static_cast<int>(i), rows[i].short_text, rows[i].mid, rows[i].doc).execute();
        }
        insert.bind(99).bind(std::optional<std::string>{}).bind(std::optional<std::string>{}).bind(std::optional<std::string>{}).execute();
    });
    db.run([&](UnitOfWork& uow) {
        Statement& select = uow.statement("SELECT short_text, mid, doc FROM s WHERE id = ?");
        for (std::size_t i = 0; i < rows.size(); ++i) {
            select.bind(static_cast<int>(i)).execute();
            BOOST_TEST_REQUIRE(select.next());
            BOOST_TEST(select.getString(0) == rows[i].short_text);
            BOOST_TEST(select.getString(1) == rows[i].mid);
            BOOST_TEST(select.getString(2).size() == rows[i].doc.size());
            BOOST_TEST((select.getString(2) == rows[i].doc));
        }
        select.bind(99).execute();
        BOOST_TEST_REQUIRE(select.next());
        BOOST_TEST(!select.getOptionalString(0).has_value());  // NULL stays distinct from ""
        // Lookups by a long value match exactly.
        Statement& by_mid = uow.statement("SELECT id FROM s WHERE mid = ?");
        by_mid.bind(rows[2].mid).execute();
        BOOST_TEST_REQUIRE(by_mid.next());
        BOOST_TEST(by_mid.getInt64(0) == 2);
    });
}

BOOST_FIXTURE_TEST_CASE(text_with_nul_is_refused_before_reaching_the_server, Fresh) {
    createTable("CREATE TABLE s (v VARCHAR(20)){{table_options}}");
    db.run([&](UnitOfWork& uow) {
        Statement& insert = uow.statement("INSERT INTO s (v) VALUES (?)");
        BOOST_CHECK_THROW(insert.bind(std::string("a\0b", 3)), DbError);
    });
}

BOOST_FIXTURE_TEST_CASE(a_cached_query_runs_again_after_a_partial_read, Fresh) {
    createTable("CREATE TABLE q (id INTEGER NOT NULL PRIMARY KEY){{table_options}}");
    db.run([&](UnitOfWork& uow) {
        for (int i = 1; i <= 3; ++i) uow.statement("INSERT INTO q (id) VALUES (?)").bind(i).execute();
    });
    db.run([&](UnitOfWork& uow) {
        for (int round = 0; round < 4; ++round) {
            Statement& s = uow.statement("SELECT id FROM q ORDER BY id");
            s.execute();
            BOOST_TEST_REQUIRE(s.next(), "round " << round);  // read one row of three, then run it again
            BOOST_TEST(s.getInt64(0) == 1);
            Statement& c = uow.statement("SELECT COUNT(*) FROM q WHERE id >= ?");
            c.bind(1).execute();
            BOOST_TEST_REQUIRE(c.next(), "count round " << round);
            BOOST_TEST(c.getInt64(0) == 3);
        }
    });
}

BOOST_FIXTURE_TEST_CASE(upsert_inserts_then_updates, Fresh) {
    createTable("CREATE TABLE kv (k VARCHAR(50) NOT NULL PRIMARY KEY, v VARCHAR(50) NOT NULL, n BIGINT NOT NULL){{table_options}}");
    const std::string upsert = db.dialect().upsert("kv", {"k", "v", "n"}, {"k"}, {"v", "n"});
    const std::string insert_only = db.dialect().upsert("kv", {"k", "v", "n"}, {"k"}, {});
    db.run([&](UnitOfWork& uow) {
        uow.statement(upsert).bindAll("a", "one", 1).execute();
        uow.statement(upsert).bindAll("a", "two", 2).execute();
        uow.statement(insert_only).bindAll("a", "three", 3).execute();
        uow.statement(insert_only).bindAll("b", "bee", 4).execute();
    });
    db.run([&](UnitOfWork& uow) {
        Statement& s = uow.statement("SELECT k, v, n FROM kv ORDER BY k");
        s.execute();
        BOOST_TEST_REQUIRE(s.next());
        BOOST_TEST(s.getString(1) == "two");
        BOOST_TEST(s.getInt64(2) == 2);
        BOOST_TEST_REQUIRE(s.next());
        BOOST_TEST(s.getString(0) == "b");
        BOOST_TEST(!s.next());
    });
}

BOOST_FIXTURE_TEST_CASE(batch_inserts_write_every_row_with_few_statements, Fresh) {
    createTable("CREATE TABLE b (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(20), n BIGINT){{table_options}}");
    db.run([&](UnitOfWork& uow) {
        BatchInsert batch(uow, "b", {"id", "name", "n"}, 200);
        for (std::int64_t i = 1; i <= 450; ++i) {
            batch.add(i, i % 3 == 0 ? std::optional<std::string>{} : std::optional<std::string>("row " + std::to_string(i)),
                      i % 5 == 0 ? std::optional<std::int64_t>{} : std::optional<std::int64_t>(i * 10));
        }
        BOOST_TEST(batch.rowsWritten() == 400u);  // two full statements so far
        batch.flush();
        BOOST_TEST(batch.rowsWritten() == 450u);
        BOOST_CHECK_THROW(batch.add(std::int64_t{1}, "x"), std::invalid_argument);
    });
    BOOST_TEST(count("b") == 450);
    BOOST_TEST(count("b", "name IS NULL") == 150);
    BOOST_TEST(count("b", "n IS NULL") == 90);
    BOOST_TEST(count("b", "name = 'row 449' AND n = 4490") == 1);
    // What is left at flush(): up to 16 rows in one statement (a unit's few events or moves are one round trip),
    // more in power-of-two chunks on the servers, everything in one statement on SQLite.
    auto statementsFor = [&](std::int64_t first, std::int64_t rows) {
        std::uint64_t used = 0;
        db.run([&](UnitOfWork& uow) {
            BatchInsert batch(uow, "b", {"id", "name", "n"}, 200);
            for (std::int64_t i = first; i < first + rows; ++i) batch.add(i, "r", i);
            const std::uint64_t mark = statementsExecuted();
            batch.flush();
            used = statementsExecuted() - mark;
        });
        return used;
    };
    BOOST_TEST(statementsFor(1000, 3) == 1u);
    BOOST_TEST(statementsFor(1100, 16) == 1u);
    BOOST_TEST(statementsFor(1200, 50) == (test.backend() == Backend::kSQLite ? 1u : 3u));  // 32 + 16 + 2
    BOOST_TEST(count("b") == 450 + 3 + 16 + 50);
}

BOOST_FIXTURE_TEST_CASE(unique_violations_are_recognised, Fresh) {
    createTable("CREATE TABLE u (channel VARCHAR(20) NOT NULL, external_id VARCHAR(50) NOT NULL, PRIMARY KEY (channel, external_id)){{table_options}}");
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO u VALUES (?, ?)").bindAll("web", "W-1").execute(); });
    try {
        db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO u VALUES (?, ?)").bindAll("web", "W-1").execute(); });
        BOOST_FAIL("duplicate accepted");
    } catch (const DbError& e) {
        BOOST_TEST(e.kind() == ErrorKind::kUniqueViolation, e.what());
        BOOST_TEST(!e.retryable());
    }
    // Keys compare case-sensitively on every backend (MariaDB tables use a binary collation).
    db.run([&](UnitOfWork& uow) { uow.statement("INSERT INTO u VALUES (?, ?)").bindAll("web", "w-1").execute(); });
    BOOST_TEST(count("u") == 2);
}

BOOST_FIXTURE_TEST_CASE(statement_errors_name_the_statement, Fresh) {
    try {
        db.run([&](UnitOfWork& uow) { uow.statement("SELECT nope FROM missing_table").execute(); });
        BOOST_FAIL("query on a missing table succeeded");
    } catch (const DbError& e) {
        BOOST_TEST(e.kind() == ErrorKind::kOther);
        BOOST_TEST(std::string(e.what()).find("missing_table") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find(std::string(backendName(test.backend()))) != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
