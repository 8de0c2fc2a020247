#include "keel/db/connection.h"
#include "sqlite_wal_writes.h"

#include "keel/kernel/logging.h"

#include <Poco/Data/ODBC/Connector.h>
#include <Poco/Data/ODBC/ODBCException.h>
#include <Poco/Data/ODBC/SessionImpl.h>
#include <Poco/Exception.h>
#include <Poco/String.h>

#include <malloc.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <type_traits>

namespace keel::db {

static_assert(std::is_same_v<SQLLEN, long>, "Statement::Parameter::indicator assumes SQLLEN is long");

namespace {

SQLHSTMT stmtHandle(void* handle) { return static_cast<SQLHSTMT>(handle); }

std::string truncated(const std::string& sql, std::size_t limit = 300) {
    return sql.size() <= limit ? sql : sql.substr(0, limit) + "…";
}

struct Diagnostic {
    std::string state;
    long native = 0;
    std::string message;
};

std::vector<Diagnostic> diagnostics(SQLSMALLINT type, SQLHANDLE handle) {
    std::vector<Diagnostic> out;
    for (SQLSMALLINT record = 1; record <= 8; ++record) {
        SQLCHAR state[6] = {};
        SQLINTEGER native = 0;
        SQLCHAR text[1024] = {};
        SQLSMALLINT length = 0;
        const SQLRETURN rc = SQLGetDiagRec(type, handle, record, state, &native, text, sizeof text, &length);
        if (!SQL_SUCCEEDED(rc)) break;
        Diagnostic d;
        d.state = reinterpret_cast<const char*>(state);
        d.native = native;
        d.message = reinterpret_cast<const char*>(text);
        while (!d.message.empty() && (d.message.back() == '\n' || d.message.back() == ' ')) d.message.pop_back();
        out.push_back(std::move(d));
    }
    return out;
}

Backend backendFromDbmsName(const std::string& dbms, Backend fallback) {
    if (dbms.find("SQLite") != std::string::npos) return Backend::kSQLite;
    if (dbms.find("PostgreSQL") != std::string::npos) return Backend::kPostgreSQL;
    if (dbms.find("MariaDB") != std::string::npos || dbms.find("MySQL") != std::string::npos) return Backend::kMariaDB;
    return fallback;
}

std::string getInfo(SQLHDBC dbc, SQLUSMALLINT what) {
    char buffer[256] = {};
    SQLSMALLINT length = 0;
    if (!SQL_SUCCEEDED(SQLGetInfo(dbc, what, buffer, sizeof buffer, &length))) return "unknown";
    return std::string(buffer, static_cast<std::size_t>(std::min<SQLSMALLINT>(length, sizeof buffer - 1)));
}

// sqlite3odbc compiles an INSERT, UPDATE or DELETE again on every execution (and throws the compiled program away
// after it), but keeps the compiled program of a query from SQLPrepare to SQLFreeHandle, resetting it between
// executions. It tells them apart by the first word, and a statement that starts with WITH is a query to it. So a
// single DML statement is sent as `WITH keel_kept(k) AS (SELECT 1) <statement>` (the common table expression is
// never read) and compiled once per cached Statement. The driver then reports no row count, so execute() asks SQLite
// for changes(), the count it would have reported. RETURNING would give the count too, but as a row per affected row
// held in memory by SQLite and the driver, and measured slower. `sql` is one INSERT, UPDATE, DELETE or REPLACE; empty
// when it is not to be rewritten: it has RETURNING, or several statements.
std::string keptByDriver(const std::string& sql) {
    std::string body = sql;
    while (!body.empty() && (std::isspace(static_cast<unsigned char>(body.back())) != 0 || body.back() == ';')) {
        body.pop_back();
    }
    if (body.find(';') != std::string::npos || Poco::toUpper(body).find("RETURNING") != std::string::npos) return {};
    return "WITH keel_kept(k) AS (SELECT 1) " + body;
}

}  // namespace

// ---------------------------------------------------------------------------------------------- Statement

Statement::Statement(Connection& connection, std::string sql) : connection_(connection), sql_(std::move(sql)) {
    const auto first = sql_.find_first_not_of(" \t\r\n(");
    const std::string verb = first == std::string::npos ? std::string() : Poco::toUpper(sql_.substr(first, 7));
    auto startsWithAny = [&](std::initializer_list<const char*> words) {
        return std::any_of(words.begin(), words.end(), [&](const char* word) { return verb.rfind(word, 0) == 0; });
    };
    const bool dml = startsWithAny({"INSERT", "UPDATE", "DELETE", "REPLACE"});
    // A WITH whose parts or main statement write (PostgreSQL's data-modifying CTEs: DeferredInsert writes several
    // tables in one statement). `SELECT ... FOR UPDATE` in a WITH does not count.
    const auto writingWith = [&] {
        if (!startsWithAny({"WITH"})) return false;
        const std::string upper = Poco::toUpper(sql_);
        for (const char* part : {"AS (INSERT ", "AS (UPDATE ", "AS (DELETE ", ") INSERT ", ") UPDATE ", ") DELETE "}) {
            if (upper.find(part) != std::string::npos) return true;
        }
        return false;
    };
    writes_ = dml || startsWithAny({"MERGE", "CREATE", "DROP", "ALTER"}) || writingWith();
    std::string text = dml && connection_.backend() == Backend::kSQLite ? keptByDriver(sql_) : std::string();
    counts_rows_ = !text.empty();
    if (!counts_rows_) text = sql_;
    SQLHSTMT handle = SQL_NULL_HSTMT;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, static_cast<SQLHDBC>(connection_.handle()), &handle))) {
        throw connection_.error("SQLAllocHandle", nullptr, sql_);
    }
    handle_ = handle;
    if (!SQL_SUCCEEDED(
            SQLPrepare(handle, reinterpret_cast<SQLCHAR*>(text.data()), static_cast<SQLINTEGER>(text.size())))) {
        DbError e = connection_.error("SQLPrepare", handle_, sql_);
        SQLFreeHandle(SQL_HANDLE_STMT, handle);
        handle_ = nullptr;
        connection_.noteStatementFailure(e);
        throw e;
    }
}

Statement::~Statement() {
    if (handle_ != nullptr) SQLFreeHandle(SQL_HANDLE_STMT, stmtHandle(handle_));
}

Statement::Parameter& Statement::slot() {
    // Parameter slots are reused from one execution to the next, so their buffers keep their addresses and
    // execute() rarely needs to bind again.
    if (executed_) {
        count_ = 0;
        executed_ = false;
    }
    if (count_ == parameters_.size()) parameters_.emplace_back();
    return parameters_[count_++];
}

Statement& Statement::bind(std::int64_t value) {
    Parameter& p = slot();
    p.type = SqlType::kBigInt;
    p.null = false;
    p.integer = value;
    return *this;
}

Statement& Statement::bind(std::string_view value) {
    if (value.find('\0') != std::string_view::npos) {
        throw DbError(ErrorKind::kOther, "22021", 0,
                      "text parameter " + std::to_string((executed_ ? 0 : count_) + 1) +
                          " contains a NUL character, which no backend stores in text; statement: " + truncated(sql_));
    }
    Parameter& p = slot();
    p.type = SqlType::kText;
    p.null = false;
    p.text.assign(value.data(), value.size());
    return *this;
}

Statement& Statement::bind(const std::optional<std::int64_t>& value) {
    return value ? bind(*value) : bindNull(SqlType::kBigInt);
}

Statement& Statement::bind(const std::optional<std::string>& value) {
    return value ? bind(std::string_view(*value)) : bindNull(SqlType::kText);
}

Statement& Statement::bindNull(SqlType type) {
    Parameter& p = slot();
    p.type = type;
    p.null = true;
    p.text.clear();
    return *this;
}

void Statement::fail(const char* call) {
    DbError e = connection_.error(call, handle_, sql_);
    connection_.noteStatementFailure(e);
    throw e;
}

namespace {
std::atomic<std::uint64_t> executed_statements{0};
thread_local bool uncounted = false;
}  // namespace

std::uint64_t statementsExecuted() { return executed_statements.load(std::memory_order_relaxed); }

namespace {
std::atomic<StatementRecorder*> statement_recorder{nullptr};
}  // namespace

void recordStatements(StatementRecorder* recorder) {
    statement_recorder.store(recorder, std::memory_order_release);
}

// sqlite3_config only works before SQLite initializes, which sqlite3odbc's first sqlite3_open_v2 does: so before the
// process's first connection of any kind (a raw ODBC DSN may name SQLite).
SqliteLibrarySetup sqliteLibrarySetup() {
    static const SqliteLibrarySetup setup = [] {
        SqliteLibrarySetup s;
        s.multithread = sqlite3_config(SQLITE_CONFIG_MULTITHREAD) == SQLITE_OK;
        s.memory_statistics_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
        // -1: never spill a statement journal to a file. A statement's journal holds the pages it changed, and Keel's
        // statements are bounded (BatchInsert, forEachIn), so the memory it takes is too.
        s.statement_journals_in_memory = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, -1) == SQLITE_OK;
        s.merged_log_writes = installSqliteLogWriter();
        if (!s.multithread || !s.memory_statistics_off || !s.statement_journals_in_memory) {
            logging::get("db").warning(
                "SQLite was initialized before Keel's first connection: it keeps serialized mode, memory statistics "
                "and statement journals in temporary files");
        }
        return s;
    }();
    return setup;
}

// glibc gives the free memory at the top of a thread's heap back to the kernel as soon as it passes 128 KB. A
// connection frees its page cache whenever another connection has written (SQLite WAL) and when it closes, and its
// thread allocates it again at once: every page of it then faults in anew, which on this VM costs 20 us or more a page.
HeapSetup heapSetup() {
    static const HeapSetup setup = [] {
        HeapSetup h;
        const char* tunables = std::getenv("GLIBC_TUNABLES");
        h.operator_chose = std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr ||
                           (tunables != nullptr && std::strstr(tunables, "glibc.malloc.trim_threshold") != nullptr);
        if (!h.operator_chose) h.trim_threshold = mallopt(M_TRIM_THRESHOLD, kHeapTrimThreshold) == 1;
        return h;
    }();
    return setup;
}

UncountedStatements::UncountedStatements() : previous_(uncounted) {
    uncounted = true;
}
UncountedStatements::~UncountedStatements() {
    uncounted = previous_;
}

std::size_t Statement::execute() {
    if (!uncounted) {
        executed_statements.fetch_add(1, std::memory_order_relaxed);
        if (StatementRecorder* recorder = statement_recorder.load(std::memory_order_acquire)) {
            ExecutedStatement executed{sql_, {}};
            executed.parameters.reserve(count_);
            for (std::size_t i = 0; i < count_; ++i) {
                const Parameter& p = parameters_[i];
                if (p.null) {
                    executed.parameters.emplace_back(std::monostate{});
                } else if (p.type == SqlType::kBigInt) {
                    executed.parameters.emplace_back(p.integer);
                } else {
                    executed.parameters.emplace_back(p.text);
                }
            }
            recorder->executed(executed);
        }
    }
    return run();
}

std::size_t Statement::run() {
    if (writes_ && connection_.readOnly()) {
        throw DbError(
            ErrorKind::kOther, "25006", 0,
            connection_.display() + ": a read-only unit of work cannot write (RunOptions::read_only): " + sql_);
    }
    SQLHSTMT h = stmtHandle(handle_);
    // Close a result set left open; unconditional SQL_CLOSE/SQL_RESET_PARAMS would make sqlite3odbc throw away
    // its prepared statement and parse the SQL again on every execution. New bindings replace old ones.
    if (result_open_) SQLFreeStmt(h, SQL_CLOSE);
    result_open_ = false;
    described_ = false;
    columns_.clear();
    row_.clear();

    // Bind only what changed since the last execution: rebinding makes sqlite3odbc compile the SQL again.
    // Text is bound with a size class rather than its exact length so that most executions rebind nothing;
    // the indicator carries the real length.
    if (bound_.size() != count_) {
        SQLFreeStmt(h, SQL_RESET_PARAMS);
        bound_.assign(count_, Binding{});
    }
    for (std::size_t i = 0; i < count_; ++i) {
        Parameter& p = parameters_[i];
        Binding wanted;
        if (p.type == SqlType::kBigInt) {
            p.indicator = p.null ? SQL_NULL_DATA : 0;
            wanted = Binding{SQL_C_SBIGINT, SQL_BIGINT, 0, &p.integer, 0, &p.indicator};
        } else {
            p.indicator = p.null ? SQL_NULL_DATA : static_cast<SQLLEN>(p.text.size());
            const std::size_t size = p.text.size() <= 255 ? 255 : p.text.size() <= 4000 ? 4000 : p.text.size();
            if (p.text.capacity() < size) p.text.reserve(size);  // the buffer the driver may read is really there
            wanted = Binding{SQL_C_CHAR, static_cast<short>(size > 4000 ? SQL_LONGVARCHAR : SQL_VARCHAR), size,
                             p.text.data(), static_cast<long>(size), &p.indicator};
        }
        if (wanted == bound_[i]) continue;
        const SQLRETURN rc = SQLBindParameter(h, static_cast<SQLUSMALLINT>(i + 1), SQL_PARAM_INPUT, wanted.c_type,
                                              wanted.sql_type, wanted.column_size, 0, wanted.data,
                                              wanted.buffer_length, static_cast<SQLLEN*>(wanted.indicator));
        if (!SQL_SUCCEEDED(rc)) {
            bound_.clear();
            fail("SQLBindParameter");
        }
        bound_[i] = wanted;
    }

    connection_.noteStatementRan();
    const SQLRETURN rc = SQLExecute(h);
    executed_ = true;
    if (rc == SQL_NO_DATA) return 0;  // a searched UPDATE/DELETE that matched nothing
    if (!SQL_SUCCEEDED(rc)) fail("SQLExecute");

    if (counts_rows_) return connection_.sqliteChanges();
    SQLSMALLINT columns = 0;
    if (!SQL_SUCCEEDED(SQLNumResultCols(h, &columns))) fail("SQLNumResultCols");
    if (columns > 0) {
        result_open_ = true;
        return 0;
    }
    SQLLEN count = 0;
    if (!SQL_SUCCEEDED(SQLRowCount(h, &count))) fail("SQLRowCount");
    return count < 0 ? 0 : static_cast<std::size_t>(count);
}

void Statement::describe() {
    SQLHSTMT h = stmtHandle(handle_);
    SQLSMALLINT count = 0;
    if (!SQL_SUCCEEDED(SQLNumResultCols(h, &count))) fail("SQLNumResultCols");
    columns_.assign(static_cast<std::size_t>(count), Column{});
    for (SQLSMALLINT i = 0; i < count; ++i) {
        SQLCHAR name[256] = {};
        SQLSMALLINT name_length = 0;
        SQLSMALLINT type = 0;
        SQLULEN size = 0;
        SQLSMALLINT digits = 0;
        SQLSMALLINT nullable = 0;
        if (!SQL_SUCCEEDED(SQLDescribeCol(h, static_cast<SQLUSMALLINT>(i + 1), name, sizeof name, &name_length, &type,
                                          &size, &digits, &nullable))) {
            fail("SQLDescribeCol");
        }
        Column& column = columns_[static_cast<std::size_t>(i)];
        column.name = reinterpret_cast<const char*>(name);
        switch (type) {
            case SQL_BIGINT:
            case SQL_INTEGER:
            case SQL_SMALLINT:
            case SQL_TINYINT:
            case SQL_BIT:
                column.kind = Column::Kind::kInteger;
                break;
            case SQL_BINARY:
            case SQL_VARBINARY:
            case SQL_LONGVARBINARY:
                column.kind = Column::Kind::kBinary;
                break;
            default:
                // Everything else, DECIMAL and floating types included, is read as the server's exact text.
                column.kind = Column::Kind::kText;
                break;
        }
    }
    described_ = true;
}

bool Statement::next() {
    SQLHSTMT h = stmtHandle(handle_);
    if (!executed_) {
        throw DbError(ErrorKind::kOther, "HY010", 0, "next() before execute(); statement: " + truncated(sql_));
    }
    if (!described_) describe();
    if (columns_.empty()) {
        throw DbError(ErrorKind::kOther, "24000", 0, "statement returns no rows: " + truncated(sql_));
    }
    const SQLRETURN rc = SQLFetch(h);
    if (rc == SQL_NO_DATA) {
        row_.clear();
        return false;
    }
    if (!SQL_SUCCEEDED(rc)) fail("SQLFetch");

    row_.assign(columns_.size(), Value{});
    for (std::size_t i = 0; i < columns_.size(); ++i) {
        const auto number = static_cast<SQLUSMALLINT>(i + 1);
        if (columns_[i].kind == Column::Kind::kInteger) {
            SQLBIGINT v = 0;
            SQLLEN indicator = 0;
            if (!SQL_SUCCEEDED(SQLGetData(h, number, SQL_C_SBIGINT, &v, 0, &indicator))) fail("SQLGetData");
            if (indicator != SQL_NULL_DATA) row_[i] = static_cast<std::int64_t>(v);
            continue;
        }
        // Read text and binary in chunks until the driver says the value is complete: no size limit, and
        // no dependence on column sizes that drivers report in characters.
        const bool binary = columns_[i].kind == Column::Kind::kBinary;
        const SQLSMALLINT c_type = binary ? SQL_C_BINARY : SQL_C_CHAR;
        char buffer[8192];
        std::string value;
        bool is_null = false;
        for (;;) {
            SQLLEN indicator = 0;
            const SQLRETURN got = SQLGetData(h, number, c_type, buffer, sizeof buffer, &indicator);
            if (got == SQL_NO_DATA) break;
            if (!SQL_SUCCEEDED(got)) fail("SQLGetData");
            if (indicator == SQL_NULL_DATA) {
                is_null = true;
                break;
            }
            const bool more = got == SQL_SUCCESS_WITH_INFO &&
                              (indicator == SQL_NO_TOTAL ||
                               indicator >= static_cast<SQLLEN>(binary ? sizeof buffer : sizeof buffer - 1));
            if (binary) {
                value.append(buffer, more ? sizeof buffer : static_cast<std::size_t>(indicator));
            } else if (more) {
                // A driver may stop short of a multi-byte character; the text ends at its NUL terminator.
                value.append(buffer, strnlen(buffer, sizeof buffer - 1));
            } else {
                value.append(buffer, static_cast<std::size_t>(indicator));
            }
            if (!more) break;
        }
        if (!is_null) row_[i] = std::move(value);
    }
    return true;
}

const std::string& Statement::columnName(std::size_t column) const {
    if (column >= columns_.size()) {
        throw DbError(ErrorKind::kOther, "07009", 0,
                      "column " + std::to_string(column) + " does not exist in: " + truncated(sql_));
    }
    return columns_[column].name;
}

const Statement::Value& Statement::value(std::size_t column) const {
    if (row_.empty()) throw DbError(ErrorKind::kOther, "24000", 0, "no current row (call next()) in: " + truncated(sql_));
    if (column >= row_.size()) {
        throw DbError(ErrorKind::kOther, "07009", 0,
                      "column " + std::to_string(column) + " does not exist in: " + truncated(sql_));
    }
    return row_[column];
}

bool Statement::isNull(std::size_t column) const { return std::holds_alternative<std::monostate>(value(column)); }

std::optional<std::int64_t> Statement::getOptionalInt64(std::size_t column) const {
    const Value& v = value(column);
    if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    // Integers that arrive as text: NUMERIC sums on PostgreSQL, untyped expressions on SQLite.
    const std::string& text = std::get<std::string>(v);
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (ec != std::errc() || end != text.data() + text.size()) {
        throw DbError(ErrorKind::kOther, "22018", 0,
                      "column '" + columns_[column].name + "' holds '" + truncated(text, 40) +
                          "', not a 64-bit integer; statement: " + truncated(sql_));
    }
    return parsed;
}

std::int64_t Statement::getInt64(std::size_t column) const {
    auto v = getOptionalInt64(column);
    if (!v) {
        throw DbError(ErrorKind::kOther, "22002", 0,
                      "column '" + columns_[column].name + "' is NULL; statement: " + truncated(sql_));
    }
    return *v;
}

std::optional<std::string> Statement::getOptionalString(std::size_t column) const {
    const Value& v = value(column);
    if (std::holds_alternative<std::monostate>(v)) return std::nullopt;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    return std::get<std::string>(v);
}

std::string Statement::getString(std::size_t column) const {
    auto v = getOptionalString(column);
    if (!v) {
        throw DbError(ErrorKind::kOther, "22002", 0,
                      "column '" + columns_[column].name + "' is NULL; statement: " + truncated(sql_));
    }
    return std::move(*v);
}

// --------------------------------------------------------------------------------------------- Connection

Connection::Connection(const ConnectionSpec& spec) : display_(spec.display), backend_(spec.backend) {
    static std::once_flag registered;
    std::call_once(registered, [] { Poco::Data::ODBC::Connector::registerConnector(); });
    sqliteLibrarySetup();
    heapSetup();
    try {
        session_ = std::make_unique<Poco::Data::Session>("ODBC", spec.odbc);
    } catch (const Poco::Data::ODBC::ConnectionException& e) {
        const auto& d = e.diagnostics();
        std::string state = d.count() > 0 ? d.sqlState(0) : "08001";
        const long native = d.count() > 0 ? static_cast<long>(d.nativeError(0)) : 0;
        std::string message = d.count() > 0 ? d.message(0) : e.displayText();
        if (state == "IM002") message += " (is the ODBC driver package installed? see packaging/install-deps.sh)";
        throw DbError(ErrorKind::kConnection, state, native, "cannot connect to " + display_ + ": " + message);
    } catch (const Poco::Exception& e) {
        throw DbError(ErrorKind::kConnection, "08001", 0, "cannot connect to " + display_ + ": " + e.displayText());
    }
    const auto dbc = static_cast<SQLHDBC>(handle());
    backend_ = backendFromDbmsName(getInfo(dbc, SQL_DBMS_NAME), backend_);
    if (backend_ == Backend::kUnknown) {
        throw DbError(ErrorKind::kOther, "HY000", 0,
                      "connected to " + display_ + ", but its database (" + getInfo(dbc, SQL_DBMS_NAME) +
                          ") is not one Keel supports: SQLite, PostgreSQL or MariaDB");
    }
    dialect_ = &Dialect::forBackend(backend_);
    // Server backends run in manual-commit mode. SQLite stays in autocommit at the ODBC level and gets explicit
    // BEGIN IMMEDIATE / BEGIN / COMMIT from begin() and commit(): sqlite3odbc can only start deferred
    // transactions, where a unit that reads before it writes fails late (after the busy timeout) whenever
    // another writer committed in between.
    if (backend_ != Backend::kSQLite) session_->setFeature("autoCommit", false);
    std::vector<Dialect::SetupStatement> setup_statements = dialect_->sessionSetup();
    // The Database's checkpointer copies the log back; a commit does it only if that thread falls far behind.
    if (backend_ == Backend::kSQLite && spec.sqlite_background_checkpoint) {
        setup_statements.push_back({"PRAGMA wal_autocheckpoint = 10000", true});
    }
    for (const auto& setup : setup_statements) {
        try {
            execute(setup.sql);
        } catch (const DbError& e) {
            if (setup.required) throw;
            rollback();
            logging::get("db").warning("%s: optional session setting not applied: %s", display_, std::string(e.what()));
        }
    }
    commit();
}

Connection::~Connection() {
    if (session_ && (in_transaction_ || open_work_)) {
        // Close would commit an open transaction; a connection is never closed mid-transaction on purpose.
        try {
            endTransaction(false);
        } catch (const DbError& e) {
            logging::get("db").debug("%s: rollback while closing failed: %s", display_, std::string(e.what()));
        }
    }
    cache_.clear();  // statements before the connection they belong to
    changes_.reset();
    try {
        if (session_) session_->close();
    } catch (const Poco::Exception& e) {
        logging::get("db").debug("%s: error while closing: %s", display_, e.displayText());
    }
}

void* Connection::handle() const {
    auto* impl = dynamic_cast<Poco::Data::ODBC::SessionImpl*>(session_->impl());
    const SQLHDBC& dbc = impl->dbc();
    return dbc;
}

std::unique_ptr<Statement> Connection::prepare(std::string sql) { return std::make_unique<Statement>(*this, std::move(sql)); }

std::size_t Connection::sqliteChanges() {
    if (changes_ == nullptr) changes_ = prepare("SELECT changes()");
    changes_->run();
    return changes_->next() ? static_cast<std::size_t>(changes_->getInt64(0)) : 0;
}

Statement& Connection::cached(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        Cached entry;
        entry.statement = prepare(sql);
        entry.weight = 1 + static_cast<std::size_t>(std::count(sql.begin(), sql.end(), '?'));
        cache_weight_ += entry.weight;
        it = cache_.emplace(sql, std::move(entry)).first;
    }
    it->second.used = ++cache_tick_;
    return *it->second.statement;
}

void Connection::trimStatementCache() {
    if (cache_weight_ <= kStatementCacheBudget) return;
    std::vector<std::pair<std::uint64_t, const std::string*>> by_use;
    by_use.reserve(cache_.size());
    for (const auto& [sql, entry] : cache_) by_use.emplace_back(entry.used, &sql);
    std::sort(by_use.begin(), by_use.end());
    std::vector<std::string> evict;
    std::size_t weight = cache_weight_;
    for (const auto& [used, sql] : by_use) {
        if (weight <= kStatementCacheBudget / 2) break;
        weight -= cache_.at(*sql).weight;
        evict.push_back(*sql);
    }
    for (const auto& sql : evict) cache_.erase(sql);
    cache_weight_ = weight;
}

std::size_t Connection::execute(const std::string& sql) {
    Statement statement(*this, sql);
    return statement.execute();
}

void Connection::executeOutsideTransaction(const std::string& sql) {
    if (in_transaction_ || open_work_) endTransaction(false);
    if (backend_ == Backend::kSQLite) {  // already in autocommit mode
        execute(sql);
        return;
    }
    if (!autocommit_) setAutocommit(true);
    try {
        execute(sql);
    } catch (...) {
        setAutocommit(false);
        autocommit_ = false;
        open_work_ = false;
        failure_.reset();
        throw;
    }
    setAutocommit(false);
    autocommit_ = false;
    open_work_ = false;
}

void Connection::noteStatementFailure(const DbError& error) {
    if (!failure_) failure_ = error.what();
    if (error.kind() == ErrorKind::kConnection) broken_ = true;
}

void Connection::noteStatementRan() {
    if (lookup_) return;  // each statement committed by itself: nothing is left open
    if (backend_ != Backend::kSQLite || in_transaction_) open_work_ = true;
}

void Connection::setAutocommit(bool on) {
    if (!SQL_SUCCEEDED(SQLSetConnectAttr(static_cast<SQLHDBC>(handle()), SQL_ATTR_AUTOCOMMIT,
                                         reinterpret_cast<SQLPOINTER>(on ? SQL_AUTOCOMMIT_ON : SQL_AUTOCOMMIT_OFF),
                                         0))) {
        if (!on) broken_ = true;  // a pooled connection left in autocommit would commit statement by statement
        throw error("SQLSetConnectAttr(SQL_ATTR_AUTOCOMMIT)", nullptr, "");
    }
}

void Connection::beginLookup() {
    if (backend_ == Backend::kSQLite) return;  // no round trips to save
    if (in_transaction_ || open_work_) endTransaction(false);
    // psqlODBC keeps autocommit on the client side: switching it sends nothing while no transaction is open, so the
    // unit's end switches back. MariaDB's driver sends SET autocommit each way: the connection stays in autocommit
    // for the next lookup (Database hands lookups such connections) until an ordinary unit begins on it.
    if (!autocommit_) {
        setAutocommit(true);
        autocommit_ = backend_ == Backend::kMariaDB;
    }
    lookup_ = true;
}

void Connection::begin(Isolation isolation) {
    if (in_transaction_) throw DbError(ErrorKind::kOther, "25001", 0, display_ + ": a transaction is already in progress");
    if (open_work_) endTransaction(false);
    if (autocommit_ && !lookup_) {  // MariaDB, left in autocommit by a lookup: an ordinary unit needs a transaction
        setAutocommit(false);
        autocommit_ = false;
    }
    if (backend_ == Backend::kSQLite) {
        // IMMEDIATE takes the single writer lock now (waiting up to the busy timeout), so the unit cannot fail
        // late; a snapshot (DEFERRED) never waits to read, and a write after another writer committed fails
        // with SQLITE_BUSY, retryable, as a serialization failure does on the servers.
        cached(isolation == Isolation::kReadCommitted ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").execute();
        in_transaction_ = true;
        failure_.reset();
        return;
    }
    if (isolation_ != isolation) {
        SQLULEN level = SQL_TXN_READ_COMMITTED;
        if (isolation == Isolation::kRepeatableRead) level = SQL_TXN_REPEATABLE_READ;
        if (isolation == Isolation::kSerializable) level = SQL_TXN_SERIALIZABLE;
        const SQLRETURN rc = SQLSetConnectAttr(static_cast<SQLHDBC>(handle()), SQL_ATTR_TXN_ISOLATION,
                                               reinterpret_cast<SQLPOINTER>(level), 0);
        if (!SQL_SUCCEEDED(rc)) throw error("SQLSetConnectAttr(SQL_ATTR_TXN_ISOLATION)", nullptr, "");
        isolation_ = isolation;
    }
    in_transaction_ = true;
    failure_.reset();
}

void Connection::endTransaction(bool commit) {
    if (backend_ == Backend::kSQLite) {
        const bool was_in_transaction = in_transaction_;
        in_transaction_ = false;
        open_work_ = false;
        failure_.reset();
        if (!was_in_transaction) return;
        try {
            cached(commit ? "COMMIT" : "ROLLBACK").execute();
        } catch (const DbError& e) {
            failure_.reset();
            // SQLite itself rolls back after some errors (busy, I/O, full disk): nothing left to roll back.
            if (!commit && std::string(e.what()).find("no transaction is active") != std::string::npos) return;
            if (commit) {
                try {
                    cached("ROLLBACK").execute();
                } catch (const DbError& rollback_error) {
                    failure_.reset();
                    if (std::string(rollback_error.what()).find("no transaction is active") == std::string::npos) {
                        broken_ = true;
                    }
                }
            } else {
                broken_ = true;
            }
            throw;
        }
        return;
    }
    if (lookup_) {
        // Nothing to commit or roll back. PostgreSQL goes back to manual commit for the next unit (free); MariaDB
        // stays in autocommit until an ordinary unit begins (see beginLookup).
        lookup_ = false;
        in_transaction_ = false;
        open_work_ = false;
        failure_.reset();
        if (!autocommit_) setAutocommit(false);
        return;
    }
    const SQLRETURN rc = SQLEndTran(SQL_HANDLE_DBC, static_cast<SQLHDBC>(handle()), commit ? SQL_COMMIT : SQL_ROLLBACK);
    in_transaction_ = false;
    open_work_ = false;
    failure_.reset();
    if (!SQL_SUCCEEDED(rc)) {
        DbError e = error(commit ? "SQLEndTran(COMMIT)" : "SQLEndTran(ROLLBACK)", nullptr, "");
        if (!commit) broken_ = true;  // a connection that cannot roll back is in an unknown state
        throw e;
    }
}

void Connection::commit() {
    if (failure_) {
        const std::string first = *failure_;
        endTransaction(false);
        throw DbError(ErrorKind::kOther, "25000", 0,
                      "not committed: a statement failed earlier in this unit of work, so it was rolled back (" +
                          first + ")");
    }
    endTransaction(true);
}

void Connection::rollback() { endTransaction(false); }

bool Connection::isDead() const {
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (!SQL_SUCCEEDED(SQLGetConnectAttr(static_cast<SQLHDBC>(handle()), SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr))) {
        return false;
    }
    return dead == SQL_CD_TRUE;
}

ServerInfo Connection::serverInfo() const {
    const auto dbc = static_cast<SQLHDBC>(handle());
    ServerInfo info;
    info.dbms_name = getInfo(dbc, SQL_DBMS_NAME);
    info.dbms_version = getInfo(dbc, SQL_DBMS_VER);
    info.driver_name = getInfo(dbc, SQL_DRIVER_NAME);
    info.driver_version = getInfo(dbc, SQL_DRIVER_VER);
    info.odbc_version = getInfo(dbc, SQL_DRIVER_ODBC_VER);
    return info;
}

DbError Connection::error(const char* call, void* statement_handle, const std::string& sql) {
    const auto records = statement_handle != nullptr ? diagnostics(SQL_HANDLE_STMT, statement_handle)
                                                     : diagnostics(SQL_HANDLE_DBC, handle());
    std::string state = records.empty() ? "HY000" : records.front().state;
    const long native = records.empty() ? 0 : records.front().native;
    std::string message;
    for (const auto& r : records) {
        if (!message.empty()) message += "; ";
        message += r.message;
    }
    if (message.empty()) message = "no diagnostics from the driver";
    const ErrorKind kind = classifyError(backend_, state, native, message);
    std::string text = std::string(backendName(backend_)) + " error " + state;
    if (native != 0) text += " (native " + std::to_string(native) + ")";
    text += " in " + std::string(call) + ": " + message;
    if (!sql.empty()) text += " [statement: " + truncated(sql) + "]";
    if (kind == ErrorKind::kConnection) broken_ = true;
    return DbError(kind, state, native, text);
}

}  // namespace keel::db
