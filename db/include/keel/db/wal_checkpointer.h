#pragma once
// Copies SQLite's write-ahead log back into the database file from a thread of its own (db.sqlite.checkpoint =
// background), so that no commit waits for it. SQLite's default has the commit that takes the log past 1,000 pages
// do the copy, with its fsyncs, while its caller waits: with random reservations over a large catalog that was
// about a third of each commit's time.
#include "keel/db/connection_string.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace keel::db {

/// What the checkpointer has done (Database::checkpointStats, /metrics).
struct CheckpointStats {
    std::uint64_t checkpoints = 0;  ///< passive checkpoints run
    /// The last checkpoint's view of the log: its frames, and how many of them are in the database file (all of
    /// them unless a reader still needed older pages).
    std::uint64_t log_frames = 0;
    std::uint64_t checkpointed_frames = 0;
    std::uint64_t failures = 0;  ///< checkpoints that failed (logged; the next one tries again)
};

class WalCheckpointer {
public:
    /// The Database's delay: a checkpoint 50 ms after the commit that woke the thread.
    static constexpr std::chrono::milliseconds kDelay{50};
    /// A commit of at least this many log frames (pages) is checkpointed at once, without the delay.
    static constexpr std::uint64_t kPromptFrames = 256;

    /// `delay`: after a small commit wakes it, the thread waits this long so that one checkpoint covers the commits
    /// of that interval (a page changed by several of them is copied once, and the database file is synced once).
    /// After a commit of kPromptFrames or more it does not wait: that checkpoint has enough pages to copy to be worth
    /// its syncs, and copying them now overlaps the writer's next transaction instead of its next commit's sync.
    WalCheckpointer(ConnectionSpec spec, std::chrono::milliseconds delay);
    ~WalCheckpointer();  ///< stops the thread (a checkpoint under way finishes first)
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    /// Called after every commit that wrote, on the thread that committed (it reads takeCommittedLogFrames()):
    /// starts the thread on first use, and wakes it when it sleeps.
    void wake() noexcept;
    CheckpointStats stats() const;

private:
    void loop();

    const ConnectionSpec spec_;
    const std::chrono::milliseconds delay_;
    std::atomic<bool> pending_{false};
    std::atomic<bool> prompt_{false};  ///< a commit of kPromptFrames or more is pending: no delay
    mutable std::mutex mutex_;
    std::condition_variable wakeup_;
    bool stop_ = false;
    std::thread thread_;
    CheckpointStats stats_;
    std::uint64_t failing_since_ = 0;                    ///< consecutive failures (the thread's own)
    std::chrono::steady_clock::time_point last_logged_;  ///< of a failure (the thread's own)
};

}  // namespace keel::db
