#pragma once
// One database connection and its prepared statements. Statements talk to the ODBC driver directly through
// the connection handle that Poco::Data::ODBC opened: POCO 1.11 sizes string parameters and result buffers from
// driver-reported column sizes counted in characters (silently truncating UTF-8), pads long values with NUL
// bytes in manual extraction, and calls sqlite3odbc's SQLNativeSql on errors, which writes past its input.
// Here every string is read in full with SQLGetData, every value is bound by copy, and errors are classified.

#include "keel/db/connection_string.h"
#include "keel/db/dialect.h"
#include "keel/db/error.h"

#include <Poco/Data/Session.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace keel::db {

class Connection;

/// Transaction isolation for a unit of work. On PostgreSQL and MariaDB the standard levels (MariaDB with
/// innodb_snapshot_isolation, so REPEATABLE READ detects write conflicts like PostgreSQL). SQLite is always
/// serializable: for Connection::begin, kReadCommitted takes its single writer lock up front (BEGIN IMMEDIATE), the
/// others start a snapshot (BEGIN DEFERRED) that fails retryably if it writes after another writer committed.
/// Database::run begins every SQLite unit that may write IMMEDIATE, and only read-only ones as snapshots.
enum class Isolation { kReadCommitted, kRepeatableRead, kSerializable };

/// The SQL type of a NULL parameter (PostgreSQL needs to know it for server-side prepared statements).
enum class SqlType { kBigInt, kText };

/// How many statements this process has executed on any connection (a relaxed counter, for benchmarks and
/// diagnostics: on client-server backends each one is a round trip to the server).
std::uint64_t statementsExecuted();

/// A statement as a unit of work executed it: its SQL and its parameters in order (monostate for NULL).
struct ExecutedStatement {
    using Parameter = std::variant<std::monostate, std::int64_t, std::string>;
    const std::string& sql;
    std::vector<Parameter> parameters;
};

/// Sees every statement that statementsExecuted() counts, on the thread that executes it, while installed with
/// recordStatements(). For benchmarks: bench_orders and bench_inventory replay what Keel ran on SQLite's own C API,
/// to compare Keel with the bare engine doing the same work. Must be thread-safe where several threads execute.
class StatementRecorder {
public:
    virtual ~StatementRecorder() = default;
    virtual void executed(const ExecutedStatement& statement) = 0;
};

/// Installs `recorder` for the whole process (nullptr: none, the default). Costs one atomic load per statement
/// while none is installed. The caller keeps the recorder alive until it installs another or nullptr.
void recordStatements(StatementRecorder* recorder);

/// While one lives, the statements its thread executes are not counted in statementsExecuted(): the Database's own
/// background work (SQLite's checkpoint thread, its connection's setup included) belongs to no unit of work, and a
/// count taken around a unit must not depend on whether a checkpoint ran meanwhile.
class UncountedStatements {
public:
    UncountedStatements();
    ~UncountedStatements();
    UncountedStatements(const UncountedStatements&) = delete;
    UncountedStatements& operator=(const UncountedStatements&) = delete;

private:
    bool previous_;
};

/// How this process's SQLite library was set up before its first connection. sqlite3odbc uses the process's one
/// libsqlite3, so the library-wide settings are Keel's to choose, once, before SQLite initializes itself:
/// - multi-thread mode: a connection is only ever used by one thread at a time (the pool hands each unit of work its
///   own, the checkpointer has its own, a CommitGroup runs its members on the leader's thread), so the per-connection
///   mutex that serialized mode (Debian's default) takes on every call guards nothing;
/// - no memory statistics: they take one process-wide mutex on every allocation and free of every connection.
/// - the default VFS is Keel's "keel-merged-log" over SQLite's own: a commit's write-ahead log frames go to the file
///   in one write call instead of two a page (db/src/sqlite_wal_writes.cpp says when and why that is safe).
/// - statement journals in memory: SQLite keeps what a statement changed inside a transaction, to undo that statement
///   alone if it fails halfway (a multi-row INSERT or UPDATE that breaks a constraint), in memory only up to 64 KB and
///   then in a temporary file that it opens, writes page by page and deletes. Keel's multi-row statements often pass
///   64 KB (a unit's events, a group's journal lines), and once one has, every later statement of that transaction
///   writes its journal to the file too.
/// The first two give about 10 % more orders per second end to end on SQLite (bench_orders), the last about 17 % on
/// top. Set up by the first Connection, whatever its backend; the first two and the last are false where something in
/// the process had already initialized SQLite (then they did not change).
struct SqliteLibrarySetup {
    bool multithread = false;
    bool memory_statistics_off = false;
    bool merged_log_writes = false;             ///< kSqliteVfsName is the default VFS
    bool statement_journals_in_memory = false;  ///< SQLITE_CONFIG_STMTJRNL_SPILL is -1
};
SqliteLibrarySetup sqliteLibrarySetup();

inline constexpr const char* kSqliteVfsName = "keel-merged-log";

/// The process's write-ahead log writes so far: the write calls SQLite made on log files, and the ones Keel's VFS
/// made of them.
struct SqliteLogWrites {
    std::uint64_t requested = 0;
    std::uint64_t issued = 0;
};
SqliteLogWrites sqliteLogWrites();

/// Statement journal files SQLite opened through kSqliteVfsName in this process so far (none while
/// SqliteLibrarySetup::statement_journals_in_memory holds).
std::uint64_t sqliteStatementJournalFiles();

/// The write-ahead log frames (pages) of the calling thread's last SQLite commit, as Keel's VFS counted them, and 0
/// once read or when none was counted. Read right after a commit, on the thread that committed.
std::uint64_t takeCommittedLogFrames() noexcept;

/// Free memory that a thread's heap keeps instead of giving it back to the kernel (glibc's M_TRIM_THRESHOLD; glibc's
/// own default is 128 KB).
inline constexpr int kHeapTrimThreshold = 64 << 20;

/// How the first Connection set up the process's heap: glibc keeps up to kHeapTrimThreshold of free memory at the top
/// of each heap, so that a connection's page cache, freed whenever another connection writes and allocated again by
/// the next unit of work, does not fault in from the kernel page by page each time (bench_inventory: 49,000-68,000
/// page faults in 30,000 reservations became 3,000-7,000). Left as it was where the operator set the threshold
/// (MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES=glibc.malloc.trim_threshold=...).
struct HeapSetup {
    bool trim_threshold = false;  ///< set to kHeapTrimThreshold
    bool operator_chose = false;  ///< the environment chose the threshold: left alone
};
HeapSetup heapSetup();

/// A prepared statement. Parameters are bound positionally, by copy, in the order of the '?' markers; after
/// execute() the next bind() starts a new parameter list, so one Statement runs many times (one server-side
/// prepare on PostgreSQL). Result columns are read with next() and the typed getters, numbered from 0.
class Statement {
public:
    Statement(Connection& connection, std::string sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(std::int64_t value);
    Statement& bind(int value) { return bind(static_cast<std::int64_t>(value)); }
    Statement& bind(std::string_view value);
    Statement& bind(const std::string& value) { return bind(std::string_view(value)); }
    Statement& bind(const char* value) { return bind(std::string_view(value)); }
    Statement& bind(const std::optional<std::int64_t>& value);
    Statement& bind(const std::optional<std::string>& value);
    Statement& bindNull(SqlType type);

    /// Binds every argument in order: stmt.bindAll(sku, qty, location).
    template <typename... Args>
    Statement& bindAll(const Args&... args) {
        (bind(args), ...);
        return *this;
    }

    /// Runs the statement with the bound parameters. Returns the affected row count for INSERT/UPDATE/DELETE
    /// (matched rows on every backend), 0 for queries. Throws DbError.
    std::size_t execute();

    /// Advances to the next result row; false at the end.
    bool next();

    std::size_t columnCount() const { return columns_.size(); }
    const std::string& columnName(std::size_t column) const;

    bool isNull(std::size_t column) const;
    std::int64_t getInt64(std::size_t column) const;               ///< throws DbError on NULL or non-integer
    std::string getString(std::size_t column) const;               ///< throws DbError on NULL
    std::optional<std::int64_t> getOptionalInt64(std::size_t column) const;
    std::optional<std::string> getOptionalString(std::size_t column) const;

    const std::string& sql() const { return sql_; }

private:
    struct Parameter {
        SqlType type = SqlType::kText;
        bool null = false;
        std::int64_t integer = 0;
        std::string text;
        long indicator = 0;
    };
    /// What was last handed to SQLBindParameter for a position.
    struct Binding {
        short c_type = 0;
        short sql_type = 0;
        std::size_t column_size = 0;
        void* data = nullptr;
        long buffer_length = 0;
        long* indicator = nullptr;
        bool operator==(const Binding&) const = default;
    };
    struct Column {
        std::string name;
        enum class Kind { kInteger, kText, kBinary } kind = Kind::kText;
    };
    using Value = std::variant<std::monostate, std::int64_t, std::string>;

    friend class Connection;
    std::size_t run();  ///< execute() without counting it in statementsExecuted()
    Parameter& slot();
    void describe();
    const Value& value(std::size_t column) const;
    [[noreturn]] void fail(const char* call);

    Connection& connection_;
    std::string sql_;
    void* handle_ = nullptr;
    std::vector<Parameter> parameters_;  ///< slots, reused; the first count_ are this execution's
    std::size_t count_ = 0;
    std::vector<Binding> bound_;
    bool executed_ = false;
    bool described_ = false;
    bool result_open_ = false;  ///< a result set is open and must be closed before the next execution
    bool writes_ = false;       ///< INSERT, UPDATE, DELETE, ... (refused in a read-only unit)
    bool counts_rows_ = false;  ///< SQLite DML sent as WITH ...: the affected rows are SQLite's changes()
    std::vector<Column> columns_;
    std::vector<Value> row_;
};

/// Identity of the server and driver behind a connection, for `keel db status`.
struct ServerInfo {
    std::string dbms_name;
    std::string dbms_version;
    std::string driver_name;
    std::string driver_version;
    std::string odbc_version;
};

/// An open connection in manual-commit mode: every statement runs inside a transaction that ends with
/// commit() or rollback(). Not thread-safe; the pool gives each thread its own.
class Connection {
public:
    /// Connects; throws DbError (kind kConnection) naming the connection (never its password).
    explicit Connection(const ConnectionSpec& spec);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    Backend backend() const { return backend_; }
    const Dialect& dialect() const { return *dialect_; }
    const std::string& display() const { return display_; }

    /// Prepares a statement owned by the caller.
    std::unique_ptr<Statement> prepare(std::string sql);

    /// A statement prepared once per connection and reused: the hot-path form. The reference stays valid
    /// for the life of the connection.
    Statement& cached(const std::string& sql);

    /// Bounds the statement cache: when the cached statements weigh more than kStatementCacheBudget (one per
    /// statement plus one per parameter marker, roughly what a compiled program costs: about 100 bytes a marker in
    /// SQLite, where sqlite3odbc keeps every cached program), the least recently used are freed until half of the
    /// budget is left. Database calls it when a connection goes back to the pool, where nothing holds a reference
    /// to a cached statement. Multi-row statements come in as many sizes as there were row counts, so without a
    /// bound a long-running process would keep every size it ever saw.
    void trimStatementCache();
    static constexpr std::size_t kStatementCacheBudget = 50'000;
    std::size_t cachedStatements() const { return cache_.size(); }
    std::size_t statementCacheWeight() const { return cache_weight_; }

    /// Runs SQL without parameters or results (DDL, SET); returns affected rows.
    std::size_t execute(const std::string& sql);

    /// Runs SQL that must not be inside a transaction (CREATE/DROP DATABASE on PostgreSQL, VACUUM) in
    /// autocommit mode, ending any open work first.
    void executeOutsideTransaction(const std::string& sql);

    /// Starts a transaction at an isolation level; statements before begin() also run in a transaction.
    void begin(Isolation isolation);
    void commit();
    void rollback();
    bool inTransaction() const { return in_transaction_; }
    /// Marks the current unit of work as one that only reads (RunOptions::read_only): a statement that writes is
    /// then refused before it runs (SQLSTATE 25006), on every backend, instead of stalling a SQLite snapshot.
    void setReadOnly(bool read_only) { read_only_ = read_only; }
    bool readOnly() const { return read_only_; }
    /// PostgreSQL and MariaDB: the next unit of work runs its statements without a transaction, each seeing what was
    /// committed when it ran (RunOptions::lookup). psqlODBC sends BEGIN and COMMIT as round trips of their own, so a
    /// one-query lookup saves two of its three; the unit's end returns the connection to manual commit, which costs
    /// nothing there. On MariaDB a lookup saves the COMMIT, and switching costs a round trip each way, so the
    /// connection stays in autocommit after the unit (inAutocommit) until an ordinary unit begins on it.
    void beginLookup();
    bool inLookup() const { return lookup_; }
    /// MariaDB: the connection was left in autocommit by a lookup (another lookup needs no switch; an ordinary unit
    /// switches it back, a round trip).
    bool inAutocommit() const { return autocommit_; }

    /// True when statements ran since the last commit or rollback (an implicit transaction is open).
    bool hasOpenWork() const { return open_work_; }

    /// Called by Statement when a statement fails: a unit of work with a failed statement never commits
    /// (PostgreSQL aborts the transaction anyway; MariaDB and SQLite would otherwise keep the rest).
    void noteStatementFailure(const DbError& error);
    /// True when a statement failed in the current transaction (so it will not commit).
    bool statementFailed() const { return failure_.has_value(); }
    void noteStatementRan();

    /// Marks the connection unusable (lost, or in an unknown state); the pool then discards it.
    void markBroken() { broken_ = true; }
    bool isBroken() const { return broken_; }
    /// Asks the driver whether the server side is gone (no round trip).
    bool isDead() const;

    ServerInfo serverInfo() const;

    /// Builds a DbError from the diagnostics of an ODBC handle (statement if given, else this connection).
    DbError error(const char* call, void* statement_handle, const std::string& sql);

    void* handle() const;

private:
    friend class Statement;
    void endTransaction(bool commit);
    void setAutocommit(bool on);
    /// SQLite: the rows that the last INSERT, UPDATE or DELETE changed (for Statement::execute of rewritten DML).
    std::size_t sqliteChanges();

    std::string display_;
    Backend backend_;
    const Dialect* dialect_ = nullptr;
    std::unique_ptr<Poco::Data::Session> session_;
    struct Cached {
        std::unique_ptr<Statement> statement;
        std::uint64_t used = 0;  ///< cache_tick_ when last handed out
        std::size_t weight = 0;
    };
    std::unordered_map<std::string, Cached> cache_;
    std::uint64_t cache_tick_ = 0;
    std::size_t cache_weight_ = 0;
    std::unique_ptr<Statement> changes_;  ///< SELECT changes(), prepared on first use (SQLite)
    std::optional<Isolation> isolation_;
    bool in_transaction_ = false;
    bool open_work_ = false;
    std::optional<std::string> failure_;  ///< first statement failure in the current transaction
    bool broken_ = false;
    bool read_only_ = false;
    bool lookup_ = false;      ///< in autocommit for a lookup unit (PostgreSQL, MariaDB)
    bool autocommit_ = false;  ///< MariaDB: left in autocommit by a lookup, until an ordinary unit begins
};

}  // namespace keel::db
