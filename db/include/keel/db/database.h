#pragma once
// The database as the rest of Keel uses it: a bounded pool of connections and units of work that commit
// together or not at all, retried on serialization failures, deadlocks and busy databases.

#include "keel/db/connection.h"
#include "keel/db/connection_string.h"
#include "keel/db/wal_checkpointer.h"
#include "keel/kernel/error.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace keel::db {

/// Pool and retry settings (configuration keys db.pool.size, db.pool.wait, db.retry.attempts, db.retry.backoff).
struct DatabaseOptions {
    ConnectionSpec spec;
    std::size_t pool_size = 8;
    std::chrono::milliseconds pool_wait{5000};
    int retry_attempts = 8;                      ///< attempts of a unit of work, the first included
    std::chrono::milliseconds retry_backoff{10}; ///< first backoff; doubles per attempt, capped at 1 s, jittered
};

/// Reads db.* keys: db.connection (or `connection_override`), the password from db.password (KEEL_DB_PASSWORD)
/// or the file named by db.password_file, and the pool and retry settings. Throws UsageError/InfrastructureError
/// naming the key that is wrong.
DatabaseOptions optionsFromConfig(const Poco::Util::AbstractConfiguration& config);

class Database;
class DeferredInsert;

/// A connection borrowed from the pool; returned when the lease ends. A connection with open work is rolled
/// back before it goes back, so the next borrower never inherits a transaction.
class Lease {
public:
    /// `writer`: the SQLite writer connection (Database::runAttempts), which goes back to its own slot, not the pool.
    Lease(Database& database, std::unique_ptr<Connection> connection, bool writer = false)
        : database_(&database), connection_(std::move(connection)), writer_(writer) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

    Connection& connection() { return *connection_; }
    Database& database() { return *database_; }
    Connection* operator->() { return connection_.get(); }

private:
    void release() noexcept;
    Database* database_;
    std::unique_ptr<Connection> connection_;
    bool writer_ = false;
};

/// One database transaction: begins on construction, commits only when commit() is called, rolls back when
/// it ends without commit (an exception, an early return). Use Database::run() to get retries.
class UnitOfWork {
public:
    UnitOfWork(Lease lease, Isolation isolation, bool read_only = false);
    ~UnitOfWork();
    UnitOfWork(const UnitOfWork&) = delete;
    UnitOfWork& operator=(const UnitOfWork&) = delete;

    Connection& connection() { return lease_.connection(); }
    const Dialect& dialect() { return lease_.connection().dialect(); }
    /// A prepared statement reused across units of work on the same connection.
    Statement& statement(const std::string& sql) { return lease_.connection().cached(sql); }
    std::size_t execute(const std::string& sql) { return lease_.connection().execute(sql); }

    /// Commits. Throws DbError; a connection lost during commit leaves the outcome unknown and is reported as
    /// such (kind kOther), never retried. Refuses (RejectedError with the problem) a rollback-only unit.
    void commit();
    bool committed() const { return committed_; }

    /// Marks the unit so it can only roll back: a business rule refused part of it after other statements
    /// ran. Database::run then rolls back and returns a failed Result (when the work returns one) or throws
    /// the problem, so half of a refused operation can never be committed. The first problem is kept.
    void setRollbackOnly(const Problem& problem);
    /// setRollbackOnly() with a new problem, which it returns: `return uow.fail(ExitCode::kRejected, "why", "field");`
    /// where a business rule refuses the work.
    Problem fail(ExitCode code, std::string message, std::string field = {});
    const std::optional<Problem>& rollbackOnly() const { return rollback_only_; }

    /// Rows buffered in memory during the unit and written just before it commits, several per statement (the event
    /// outbox: every state change appends an event, and one INSERT per event was a sixth of an order's statements).
    /// A unit that rolls back drops them. Still the same transaction: they commit with the rest or not at all.
    /// Also holds what a unit keeps for itself alone and never writes (the channel rules it has read: its flush does
    /// nothing), since it lives and dies with the unit.
    struct Deferred {
        virtual ~Deferred() = default;
        /// Writes what was buffered and forgets it. A failure fails the commit (and is retried like any statement).
        virtual void flush(UnitOfWork& uow) = 0;
        /// Rows for one table (a DeferredInsert), which flushDeferred() may write together with other tables' rows.
        virtual DeferredInsert* rows() { return nullptr; }
    };
    /// The unit's buffer of type T (a Deferred) for `owner`, made on first use; flushed in the order first used.
    template <typename T>
    T& deferred(const void* owner) {
        for (auto& [key, buffer] : deferred_) {
            if (key == owner) return static_cast<T&>(*buffer);
        }
        deferred_.emplace_back(owner, std::make_unique<T>());
        return static_cast<T&>(*deferred_.back().second);
    }
    /// Writes the buffered rows now (commit() does it; CommitGroup does it after each member, so a failure is the
    /// member's). On PostgreSQL the rows of several tables go in one statement, one round trip (DeferredInsert).
    void flushDeferred();

private:
    Lease lease_;
    bool committed_ = false;
    std::optional<Problem> rollback_only_;
    std::vector<std::pair<const void*, std::unique_ptr<Deferred>>> deferred_;
};

namespace detail {
template <typename T>
struct IsResult : std::false_type {};
template <typename T>
struct IsResult<Result<T>> : std::true_type {};
}  // namespace detail

/// Options of one Database::run().
struct RunOptions {
    Isolation isolation = Isolation::kReadCommitted;
    int max_attempts = 0;  ///< 0: the database default (db.retry.attempts)
    /// Retry a unit that a unique constraint refused: for idempotent writes, where a concurrent writer that
    /// inserted the same key first means the retry will find the row and do nothing (order intake).
    bool retry_unique_violation = false;
    /// Called before each retry with the error and the number of the attempt that failed (tests, metrics).
    std::function<void(const DbError&, int attempt)> on_retry;
    /// The unit only reads: on SQLite it starts as a snapshot (BEGIN DEFERRED) instead of taking the single writer
    /// lock, so concurrent readers never queue behind each other or behind a writer (every other SQLite unit begins
    /// IMMEDIATE, whatever its isolation). It must not write: a write is refused before it runs (SQLSTATE 25006). On
    /// the server backends the isolation above applies unchanged (switching a pooled connection's level costs a round
    /// trip).
    bool read_only = false;
    /// A read-only lookup whose statements need not share one snapshot: each sees what was committed when it ran (an
    /// item's facts and its stock rows for available-to-promise). On PostgreSQL it runs without a transaction, which
    /// saves BEGIN and COMMIT, two of a one-query lookup's three round trips; elsewhere it is a read_only unit. Writes
    /// are refused as in a read_only unit.
    bool lookup = false;
};

/// Pool usage for /metrics and diagnostics.
struct PoolStats {
    std::size_t open = 0;
    std::size_t idle = 0;
    std::size_t capacity = 0;
};

/// The database: connection pool, retrying units of work, and identity of the backend.
class Database {
public:
    explicit Database(DatabaseOptions options);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// The backend, detected from the server once the first connection is open.
    Backend backend();
    const Dialect& dialect() { return Dialect::forBackend(backend()); }
    const ConnectionSpec& spec() const { return options_.spec; }
    const DatabaseOptions& options() const { return options_; }

    /// Borrows a connection, waiting at most db.pool.wait when all are in use (then InfrastructureError).
    /// `autocommit`: prefer an idle connection whose inAutocommit() is that (a MariaDB lookup wants one left in
    /// autocommit, an ordinary unit one that is not), opening a new one rather than switching one of the other kind
    /// while the pool has room.
    Lease acquire(bool autocommit = false);

    /// Runs `work(UnitOfWork&)` in a transaction and commits it. On a retryable failure (serialization
    /// failure, deadlock, lock timeout, SQLite busy, lost connection) the transaction is rolled back and the
    /// whole of `work` runs again on a fresh transaction after a jittered backoff, up to the attempt limit.
    /// `work` must therefore only change things through the unit of work. Returns what `work` returns.
    /// When `work` returns a keel::Result that failed (a business outcome such as "insufficient stock"), the
    /// unit is rolled back instead of committed and the failed Result returned.
    template <typename Work>
    auto run(Work&& work, const RunOptions& options = {}) -> std::invoke_result_t<Work&, UnitOfWork&> {
        using Returned = std::invoke_result_t<Work&, UnitOfWork&>;
        if constexpr (std::is_void_v<Returned>) {
            runAttempts([&](UnitOfWork& uow) { work(uow); }, options);
        } else {
            std::optional<Returned> result;
            runAttempts(
                [&](UnitOfWork& uow) {
                    result.emplace(work(uow));
                    if constexpr (detail::IsResult<Returned>::value) {
                        if (!result->ok()) uow.setRollbackOnly(result->problem());
                    }
                },
                options, detail::IsResult<Returned>::value);
            return std::move(*result);
        }
    }

    /// True when a connection can be borrowed and answers a trivial query; `error` receives the reason if not.
    bool ping(std::string* error = nullptr);

    PoolStats stats();

    /// SQLite with db.sqlite.checkpoint = background: what the checkpoint thread has done (zeros otherwise).
    CheckpointStats checkpointStats() const;
    /// Called by UnitOfWork after a commit that wrote: wakes the SQLite checkpoint thread.
    void committedWrite() noexcept {
        if (checkpointer_) checkpointer_->wake();
    }

private:
    friend class Lease;
    /// `returns_result`: a rollback-only unit ends quietly (the Result carries the problem) instead of throwing.
    void runAttempts(const std::function<void(UnitOfWork&)>& body, const RunOptions& options,
                     bool returns_result = false);
    void release(std::unique_ptr<Connection> connection) noexcept;
    void discardIdle() noexcept;
    /// SQLite: the connection that this process's writing units use, one at a time (the holder of sqlite_writer_).
    Lease writerLease();
    void releaseWriter(std::unique_ptr<Connection> connection) noexcept;
    /// The backend as far as known without borrowing a connection (kUnknown before the first one for a raw ODBC
    /// string).
    Backend knownBackend();

    DatabaseOptions options_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Connection>> idle_;
    std::size_t open_ = 0;
    Backend backend_;
    std::mutex sqlite_writer_;  ///< held by this process's SQLite unit that has the writer lock (see runAttempts)
    std::atomic<std::thread::id> sqlite_writer_thread_{};
    /// Used only by the holder of sqlite_writer_; outside the pool's count. One connection for every writer keeps its
    /// page cache: SQLite empties a connection's cache whenever another connection has written since it last read.
    std::unique_ptr<Connection> sqlite_writer_connection_;
    std::unique_ptr<WalCheckpointer>
        checkpointer_;  ///< SQLite with background checkpoints; declared last, stopped first
};

}  // namespace keel::db
