#include "keel/db/database.h"

#include "keel/db/batch_insert.h"

#include "keel/kernel/error.h"
#include "keel/kernel/logging.h"

#include <Poco/FileStream.h>
#include <Poco/NumberParser.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

namespace keel::db {

namespace {

int positiveInt(const Poco::Util::AbstractConfiguration& config, const std::string& key, int fallback, int max) {
    const std::string text = config.getString(key, std::to_string(fallback));
    int value = 0;
    if (!Poco::NumberParser::tryParse(text, value) || value < 1 || value > max) {
        throw InfrastructureError("configuration: " + key + " = '" + text + "' is not a whole number from 1 to " +
                                  std::to_string(max));
    }
    return value;
}

std::string readPasswordFile(const std::string& path) {
    try {
        Poco::FileInputStream in(path);
        std::string password;
        std::getline(in, password);
        while (!password.empty() && (password.back() == '\r' || password.back() == ' ')) password.pop_back();
        return password;
    } catch (const Poco::Exception& e) {
        throw InfrastructureError("configuration: db.password_file = " + path + ": " + e.displayText());
    }
}

}  // namespace

DatabaseOptions optionsFromConfig(const Poco::Util::AbstractConfiguration& config) {
    ConnectionOptions connection;
    if (config.has("db.password")) {
        connection.password = config.getRawString("db.password");
    } else if (config.has("db.password_file")) {
        connection.password = readPasswordFile(config.getString("db.password_file"));
    }
    connection.timeout_ms = positiveInt(config, "db.timeout", 5000, 3600000);
    connection.sqlite_synchronous = config.getString("db.sqlite.synchronous", "full");
    connection.sqlite_checkpoint = config.getString("db.sqlite.checkpoint", "background");

    DatabaseOptions options;
    options.spec = parseConnectionString(config.getString("db.connection", ""), connection);
    options.pool_size = static_cast<std::size_t>(positiveInt(config, "db.pool.size", 8, 1000));
    options.pool_wait = std::chrono::milliseconds(positiveInt(config, "db.pool.wait", 5000, 3600000));
    options.retry_attempts = positiveInt(config, "db.retry.attempts", 8, 100);
    options.retry_backoff = std::chrono::milliseconds(positiveInt(config, "db.retry.backoff", 10, 60000));
    return options;
}

// ------------------------------------------------------------------------------------------------- Lease

Lease& Lease::operator=(Lease&& other) noexcept {
    if (this != &other) {
        release();
        database_ = other.database_;
        connection_ = std::move(other.connection_);
        writer_ = other.writer_;
    }
    return *this;
}

Lease::~Lease() { release(); }

void Lease::release() noexcept {
    if (!connection_) return;
    if (!connection_->isBroken() &&
        (connection_->inTransaction() || connection_->hasOpenWork() || connection_->inLookup())) {
        try {
            connection_->rollback();
        } catch (const std::exception& e) {
            connection_->markBroken();
            logging::get("db").warning("%s: rollback before returning a connection failed: %s",
                                       connection_->display(), std::string(e.what()));
        }
    }
    if (writer_) {
        database_->releaseWriter(std::move(connection_));
    } else {
        database_->release(std::move(connection_));
    }
}

// -------------------------------------------------------------------------------------------- UnitOfWork

UnitOfWork::UnitOfWork(Lease lease, Isolation isolation, bool read_only) : lease_(std::move(lease)) {
    lease_.connection().begin(isolation);
    lease_.connection().setReadOnly(read_only);
}

UnitOfWork::~UnitOfWork() {
    Connection& connection = lease_.connection();
    connection.setReadOnly(false);
    if (committed_ || !connection.inTransaction() || connection.isBroken()) return;
    try {
        connection.rollback();
    } catch (const std::exception& e) {
        connection.markBroken();
        logging::get("db").warning("%s: rollback failed, connection discarded: %s", connection.display(),
                                   std::string(e.what()));
    }
}

void UnitOfWork::setRollbackOnly(const Problem& problem) {
    if (!rollback_only_) rollback_only_ = problem;
}

Problem UnitOfWork::fail(ExitCode code, std::string message, std::string field) {
    Problem problem{code, std::move(message), std::move(field)};
    setRollbackOnly(problem);
    return problem;
}

void UnitOfWork::flushDeferred() {
    // PostgreSQL runs data-modifying CTEs: a unit's rows for several tables (an order's transitions and its events)
    // cost one round trip. The other backends cannot (MariaDB) or need not (SQLite has no round trips).
    if (dialect().backend() == Backend::kPostgreSQL) {
        std::vector<DeferredInsert*> together;
        for (auto& entry : deferred_) {
            DeferredInsert* rows = entry.second->rows();
            if (rows != nullptr && rows->size() > 0 && rows->size() <= DeferredInsert::kMaxRowsTogether) {
                together.push_back(rows);
            }
        }
        if (together.size() > 1) DeferredInsert::writeTogether(*this, together);
    }
    for (auto& entry : deferred_) entry.second->flush(*this);
}

void UnitOfWork::commit() {
    if (rollback_only_) {
        lease_.connection().rollback();
        rollback_only_->raise();
    }
    flushDeferred();
    try {
        const bool wrote = !lease_.connection().readOnly();
        lease_.connection().commit();
        committed_ = true;
        if (wrote) lease_.database().committedWrite();
    } catch (const DbError& e) {
        if (e.kind() == ErrorKind::kConnection) {
            throw DbError(ErrorKind::kOther, e.sqlstate(), e.nativeCode(),
                          "the connection was lost while committing, so whether the commit happened is unknown; "
                          "check before repeating the operation (" + std::string(e.what()) + ")");
        }
        throw;
    }
}

// ---------------------------------------------------------------------------------------------- Database

Database::Database(DatabaseOptions options) : options_(std::move(options)), backend_(options_.spec.backend) {
    if (options_.spec.backend == Backend::kSQLite && options_.spec.sqlite_background_checkpoint) {
        checkpointer_ = std::make_unique<WalCheckpointer>(options_.spec, WalCheckpointer::kDelay);
    }
}

Database::~Database() {
    checkpointer_.reset();  // before the pool: its thread may be opening a connection of its own
    sqlite_writer_connection_.reset();
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.clear();
}

Backend Database::backend() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (backend_ != Backend::kUnknown) return backend_;
    }
    Lease lease = acquire();
    std::lock_guard<std::mutex> lock(mutex_);
    backend_ = lease->backend();
    return backend_;
}

Lease Database::acquire(bool autocommit) {
    std::unique_lock<std::mutex> lock(mutex_);
    const auto deadline = std::chrono::steady_clock::now() + options_.pool_wait;
    for (;;) {
        // The most recently returned idle connection of the kind wanted; one of the other kind only when no other
        // connection can be opened.
        auto kind = std::find_if(idle_.rbegin(), idle_.rend(),
                                 [&](const auto& connection) { return connection->inAutocommit() == autocommit; });
        if (kind == idle_.rend() && !idle_.empty() && open_ >= options_.pool_size) kind = idle_.rbegin();
        if (kind != idle_.rend()) {
            std::unique_ptr<Connection> connection = std::move(*kind);
            idle_.erase(std::next(kind).base());
            return Lease(*this, std::move(connection));
        }
        if (open_ < options_.pool_size) {
            ++open_;
            lock.unlock();
            try {
                auto connection = std::make_unique<Connection>(options_.spec);
                {
                    std::lock_guard<std::mutex> guard(mutex_);
                    backend_ = connection->backend();
                }
                return Lease(*this, std::move(connection));
            } catch (...) {
                std::lock_guard<std::mutex> guard(mutex_);
                --open_;
                available_.notify_one();
                throw;
            }
        }
        if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
            open_ >= options_.pool_size) {
            throw InfrastructureError("database " + options_.spec.display + ": all " +
                                      std::to_string(options_.pool_size) + " pooled connections stayed busy for " +
                                      std::to_string(options_.pool_wait.count()) +
                                      " ms; raise db.pool.size or db.pool.wait, or look for a long transaction");
        }
    }
}

void Database::release(std::unique_ptr<Connection> connection) noexcept {
    if (!connection->isBroken()) connection->trimStatementCache();  // nothing holds its statements now
    std::lock_guard<std::mutex> lock(mutex_);
    if (connection->isBroken()) {
        --open_;
        connection.reset();
    } else {
        idle_.push_back(std::move(connection));
    }
    available_.notify_one();
}

Backend Database::knownBackend() {
    std::lock_guard<std::mutex> lock(mutex_);
    return backend_;
}

Lease Database::writerLease() {
    std::unique_ptr<Connection> connection = std::move(sqlite_writer_connection_);
    if (!connection) connection = std::make_unique<Connection>(options_.spec);
    return Lease(*this, std::move(connection), true);
}

void Database::releaseWriter(std::unique_ptr<Connection> connection) noexcept {
    if (connection->isBroken()) return;  // the next writer opens a new one
    connection->trimStatementCache();
    sqlite_writer_connection_ = std::move(connection);
}

void Database::discardIdle() noexcept {
    std::lock_guard<std::mutex> lock(mutex_);
    open_ -= idle_.size();
    idle_.clear();
    available_.notify_all();
}

namespace {
// Forgets which thread holds the SQLite writer mutex just before the mutex is unlocked (destroyed after the unit,
// before the lock: declared between them).
struct WriterRelease {
    std::unique_lock<std::mutex>& lock;
    std::atomic<std::thread::id>& holder;
    ~WriterRelease() {
        if (lock.owns_lock()) holder = std::thread::id();
    }
};
}  // namespace

void Database::runAttempts(const std::function<void(UnitOfWork&)>& body, const RunOptions& options,
                           bool returns_result) {
    const int max_attempts = options.max_attempts > 0 ? options.max_attempts : options_.retry_attempts;
    thread_local std::minstd_rand jitter(std::random_device{}());
    for (int attempt = 1;; ++attempt) {
        try {
            // SQLite: a unit that may write takes the single writer lock up front (BEGIN IMMEDIATE) whatever level it
            // asked for: holding the only write lock from its first read on, it is serializable. A snapshot (DEFERRED)
            // that writes late would instead fail whenever any other unit committed since it started, and under a
            // steady stream of writers it would be retried for hundreds of milliseconds. Read-only units are snapshots.
            const bool read_only = options.read_only || options.lookup;
            // SQLite has one writer at a time, and a BEGIN IMMEDIATE that finds the lock taken sleeps in the
            // driver's busy handler in steps of milliseconds, long after the lock is free again. This process's
            // writers therefore queue on a mutex (woken the moment the previous unit ends) and meet the busy
            // handler only when another process writes. Released after the unit ends (declared before it). A
            // unit nested inside a writing unit on the same thread does not wait for itself: it meets the busy
            // timeout as before. The holder writes through one connection kept for writers (writerLease), whose
            // page cache stays valid from one unit to the next; pooled connections serve readers and nested units.
            std::unique_lock<std::mutex> writer;
            auto takeWriter = [&] {
                writer = std::unique_lock<std::mutex>(sqlite_writer_);
                sqlite_writer_thread_ = std::this_thread::get_id();
            };
            const bool nested = sqlite_writer_thread_ == std::this_thread::get_id();
            const Backend known = knownBackend();
            if (!read_only && !nested && known == Backend::kSQLite) takeWriter();
            const WriterRelease released{writer, sqlite_writer_thread_};
            Lease lease = writer.owns_lock() ? writerLease() : acquire(options.lookup && known == Backend::kMariaDB);
            const bool sqlite = lease->backend() == Backend::kSQLite;
            const Isolation isolation =
                sqlite ? (read_only ? Isolation::kRepeatableRead : Isolation::kReadCommitted) : options.isolation;
            // The backend was not known before this unit's connection (a raw ODBC string): queue as above.
            if (sqlite && !read_only && !nested && !writer.owns_lock()) takeWriter();
            if (options.lookup) lease->beginLookup();
            UnitOfWork uow(std::move(lease), isolation, read_only);
            body(uow);
            if (uow.rollbackOnly() && returns_result) return;  // the destructor rolls back
            if (!uow.committed()) uow.commit();
            return;
        } catch (const DbError& e) {
            const bool unique_race = options.retry_unique_violation && e.kind() == ErrorKind::kUniqueViolation;
            if (!e.retryable() && !unique_race) throw;
            if (attempt >= max_attempts) {
                throw DbError(e.kind(), e.sqlstate(), e.nativeCode(),
                              "gave up after " + std::to_string(attempt) + " attempts: " + std::string(e.what()));
            }
            // A lost connection usually means the server restarted: the idle ones are gone too.
            if (e.kind() == ErrorKind::kConnection) discardIdle();
            if (options.on_retry) options.on_retry(e, attempt);
            const auto cap = std::min<std::chrono::milliseconds::rep>(
                1000, options_.retry_backoff.count() << std::min(attempt - 1, 16));
            const auto pause = std::uniform_int_distribution<std::chrono::milliseconds::rep>(cap / 2, cap)(jitter);
            logging::get("db").information("attempt %d failed with a retryable error, retrying in %d ms: %s", attempt,
                                           static_cast<int>(pause), std::string(e.what()));
            std::this_thread::sleep_for(std::chrono::milliseconds(pause));
        }
    }
}

bool Database::ping(std::string* error) {
    try {
        Lease lease = acquire();
        Statement& probe = lease->cached("SELECT 1");
        probe.execute();
        const bool ok = probe.next() && probe.getInt64(0) == 1;
        lease->rollback();
        return ok;
    } catch (const std::exception& e) {
        if (error != nullptr) *error = e.what();
        return false;
    }
}

CheckpointStats Database::checkpointStats() const {
    return checkpointer_ ? checkpointer_->stats() : CheckpointStats{};
}

PoolStats Database::stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return PoolStats{open_, idle_.size(), options_.pool_size};
}

}  // namespace keel::db
