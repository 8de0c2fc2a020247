#pragma once
// Group commit: concurrent units of work that arrive while another group is committing share the next transaction and
// its single commit. On SQLite, where one writer at a time waits for its own fsync, that turns one fsync per unit into
// one per group (docs/database.md, "Group commit").

#include "keel/db/database.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace keel::db {

/// Figures of a CommitGroup since it was made (for /metrics and tests).
struct CommitGroupStats {
    std::uint64_t units = 0;      ///< units of work submitted
    std::uint64_t groups = 0;     ///< transactions that committed two or more units together
    std::uint64_t grouped = 0;    ///< units committed inside those transactions
    std::uint64_t fallbacks =
        0;  ///< groups rolled back because one unit failed (it then ran alone, the rest regrouped)
};

/// Runs units of work like Database::run, but lets concurrent callers share a transaction.
///
/// Leader and followers: a caller that finds no group running becomes the leader and runs, in one unit of work, every
/// unit queued at that moment (up to `max_units`), one after the other on its own thread, then commits once; the
/// followers wait and get their own results. Nothing waits for company: a lone unit runs at once, alone, and units
/// group only when they arrive while a commit is in progress, which is when waiting costs nothing extra.
///
/// All or nothing, per unit: when every unit of the group succeeds, they commit together. When one fails (it throws,
/// returns a failed Result, marks the unit rollback-only, or one of its statements fails), the group's transaction is
/// rolled back; in queue order, the units before it form a group again, then it runs again alone through
/// Database::run with its own RunOptions and gets its own outcome, then the units after it form a group. So a unit
/// never commits with another's half, one refusal does not cost the others their shared commit, and units take effect
/// in the order they were queued. A retryable error (busy, deadlock, serialization failure, lost connection)
/// retries the whole group, as Database::run does. A failed commit is every member's failure (they shared it); a
/// connection lost during the commit leaves every member's outcome unknown, and none is run again.
///
/// Units therefore follow Database::run's contract: they change state only through the unit of work and can run
/// again. They run on the leader's thread, and must not open another unit of work on the same database (on SQLite that
/// would wait for the leader's own writer lock).
///
/// Worth it where commits are the cost and writers are serialized anyway: SQLite (one writer, an fsync per commit).
/// With `max_units` <= 1, a read-only unit, or a backend other than SQLite, run() is Database::run.
class CommitGroup {
public:
    CommitGroup(Database& database, std::size_t max_units) : database_(database), max_units_(max_units) {}
    CommitGroup(const CommitGroup&) = delete;
    CommitGroup& operator=(const CommitGroup&) = delete;

    template <typename Work>
    auto run(Work&& work, const RunOptions& options = {}) -> std::invoke_result_t<Work&, UnitOfWork&> {
        using Returned = std::invoke_result_t<Work&, UnitOfWork&>;
        if (!grouping(options)) return database_.run(work, options);
        if constexpr (std::is_void_v<Returned>) {
            Member member;
            member.in_group = [&](UnitOfWork& uow) { work(uow); };
            member.alone = [&] { database_.run(work, options); };
            submit(member);
        } else {
            std::optional<Returned> result;
            Member member;
            member.in_group = [&](UnitOfWork& uow) {
                result.reset();
                result.emplace(work(uow));
                if constexpr (detail::IsResult<Returned>::value) {
                    if (!result->ok()) uow.setRollbackOnly(result->problem());
                }
            };
            member.alone = [&] {
                result.reset();
                result.emplace(database_.run(work, options));
            };
            submit(member);
            return std::move(*result);
        }
    }

    /// Runs `work(uow, item)` for every item, each as its own all-or-nothing unit of work, as run() would if a caller
    /// submitted each concurrently: they are queued together, so they share transactions of up to `max_units` (with
    /// any other caller's units queued meanwhile), and one that fails runs again alone, after the units before it
    /// committed, without costing the others their commit. For batch work whose units need not wait for each other:
    /// keeld's allocation sweep, a file of orders. Returns each item's result in item order once every unit ran; if
    /// units threw, the first one's exception (by item order) is rethrown after the others finished. Without grouping
    /// (see run()), one Database::run each.
    template <typename Item, typename Work>
    auto runEach(const std::vector<Item>& items, Work&& work, const RunOptions& options = {})
        -> std::vector<std::invoke_result_t<Work&, UnitOfWork&, const Item&>> {
        using Returned = std::invoke_result_t<Work&, UnitOfWork&, const Item&>;
        static_assert(!std::is_void_v<Returned>, "runEach returns each unit's result");
        std::vector<std::optional<Returned>> results(items.size());
        std::vector<Member> members(items.size());
        for (std::size_t i = 0; i < items.size(); ++i) {
            const Item& item = items[i];
            std::optional<Returned>& result = results[i];
            auto unit = [&work, &item](UnitOfWork& uow) { return work(uow, item); };
            members[i].in_group = [unit, &result](UnitOfWork& uow) {
                result.reset();
                result.emplace(unit(uow));
                if constexpr (detail::IsResult<Returned>::value) {
                    if (!result->ok()) uow.setRollbackOnly(result->problem());
                }
            };
            members[i].alone = [this, unit, &result, &options] {
                result.reset();
                result.emplace(database_.run(unit, options));
            };
        }
        if (grouping(options)) {
            std::vector<Member*> queued;
            for (auto& member : members) queued.push_back(&member);
            submitAll(queued);
        } else {
            for (auto& member : members) runAlone(member);
        }
        for (const auto& member : members) {
            if (member.error) std::rethrow_exception(member.error);
        }
        std::vector<Returned> out;
        out.reserve(results.size());
        for (auto& result : results) out.push_back(std::move(*result));
        return out;
    }

    CommitGroupStats stats() const;
    /// Units waiting for a leader (tests use it to line a group up).
    std::size_t queued() const;

private:
    struct Member {
        std::function<void(UnitOfWork&)> in_group;  ///< the work inside the group's transaction
        std::function<void()> alone;                ///< the work in its own Database::run
        std::exception_ptr error;
        bool done = false;
    };

    bool grouping(const RunOptions& options);
    /// Queues the member and returns when it ran: as a follower, or as the leader of its group. Rethrows its error.
    void submit(Member& member);
    /// Queues the members together and returns when every one ran, leading as many groups as it takes; their errors
    /// stay in the members.
    void submitAll(const std::vector<Member*>& members);
    /// Runs the member in its own Database::run, keeping what it throws in the member.
    static void runAlone(Member& member);
    /// Runs a group and records each member's outcome; never throws.
    void runGroup(const std::vector<Member*>& group);

    Database& database_;
    const std::size_t max_units_;
    mutable std::mutex mutex_;
    std::condition_variable finished_;
    std::deque<Member*> queue_;
    bool leading_ = false;
    CommitGroupStats stats_;
};

}  // namespace keel::db
