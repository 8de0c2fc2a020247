#include "keel/db/wal_checkpointer.h"

#include "keel/db/connection.h"
#include "keel/kernel/logging.h"

#include <algorithm>
#include <memory>

namespace keel::db {

WalCheckpointer::WalCheckpointer(ConnectionSpec spec, std::chrono::milliseconds delay)
    : spec_(std::move(spec)), delay_(delay) {}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wakeup_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::wake() noexcept {
    const bool prompt = takeCommittedLogFrames() >= kPromptFrames;
    if (prompt) prompt_ = true;
    // Already due: the thread will see this commit's frames too (a large one ends its delay).
    if (pending_.exchange(true) && !prompt) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return;
    if (!thread_.joinable()) {
        try {
            thread_ = std::thread([this] { loop(); });
        } catch (const std::exception& e) {
            // No thread: the connections' backstop (wal_autocheckpoint) still bounds the log.
            pending_ = false;
            logging::get("db").warning("%s: cannot start the checkpoint thread: %s", spec_.display,
                                       std::string(e.what()));
            return;
        }
    }
    wakeup_.notify_all();
}

CheckpointStats WalCheckpointer::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void WalCheckpointer::loop() {
    // Not any unit's statements: a count taken around a unit (tests, bench_orders) must not see a round that ran
    // meanwhile, or this thread's first connection's setup (a flaky +5 in a ledger test on a loaded machine).
    const UncountedStatements uncounted;
    std::unique_ptr<Connection> connection;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wakeup_.wait(lock, [&] { return stop_ || pending_.load(); });
        if (stop_) return;
        // Let the commits of the next `delay_` join this checkpoint, unless a large one is waiting; a shutdown does
        // not wait for it (closing the last connection checkpoints anyway).
        wakeup_.wait_for(lock, delay_, [&] { return stop_ || prompt_.load(); });
        if (stop_) return;
        // Commits from now on wake the next round (a commit before these lines has its frames in this one).
        prompt_ = false;
        pending_ = false;
        lock.unlock();
        std::int64_t log = 0;
        std::int64_t copied = 0;
        bool failed = false;
        try {
            if (!connection) connection = std::make_unique<Connection>(spec_);
            // PASSIVE copies what no reader still needs and never waits for readers or writers; it needs no
            // transaction (the connection is in autocommit between units).
            Statement& run = connection->cached("PRAGMA wal_checkpoint(PASSIVE)");
            run.execute();
            if (run.next()) {
                log = run.getInt64(1);
                copied = run.getInt64(2);
            }
        } catch (const std::exception& e) {
            failed = true;
            connection.reset();
            // A lasting cause (permissions, a full disk) fails every round: the first failure and then one a minute.
            const auto now = std::chrono::steady_clock::now();
            if (failing_since_ == 0 || now - last_logged_ >= std::chrono::minutes(1)) {
                logging::get("db").warning(
                    "%s: background checkpoint failed (%s so far; the next commit tries again, and connections "
                    "checkpoint themselves past 10,000 log pages): %s",
                    spec_.display, std::to_string(failing_since_ + 1), std::string(e.what()));
                last_logged_ = now;
            }
            ++failing_since_;
        }
        if (!failed) failing_since_ = 0;
        lock.lock();
        if (failed) {
            ++stats_.failures;
        } else {
            ++stats_.checkpoints;
            stats_.log_frames = static_cast<std::uint64_t>(std::max<std::int64_t>(0, log));
            stats_.checkpointed_frames = static_cast<std::uint64_t>(std::max<std::int64_t>(0, copied));
        }
    }
}

}  // namespace keel::db
