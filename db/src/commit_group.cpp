#include "keel/db/commit_group.h"

#include "keel/db/error.h"

#include <optional>

namespace keel::db {

namespace {
// Thrown inside the group's unit of work when a member failed: rolls the group back (not a DbError, so not retried).
struct GroupAbandoned {};
}  // namespace

bool CommitGroup::grouping(const RunOptions& options) {
    // Every SQLite unit that may write takes the writer lock up front whatever its isolation (Database::run).
    return max_units_ > 1 && !options.read_only && !options.lookup && database_.backend() == Backend::kSQLite;
}

CommitGroupStats CommitGroup::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

std::size_t CommitGroup::queued() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return queue_.size();
}

void CommitGroup::submit(Member& member) {
    submitAll({&member});
    if (member.error) std::rethrow_exception(member.error);
}

void CommitGroup::runAlone(Member& member) {
    try {
        member.alone();
    } catch (...) {
        member.error = std::current_exception();
    }
}

void CommitGroup::submitAll(const std::vector<Member*>& members) {
    std::unique_lock<std::mutex> lock(mutex_);
    stats_.units += members.size();
    for (Member* member : members) queue_.push_back(member);
    const auto all_done = [&] {
        for (const Member* member : members) {
            if (!member->done) return false;
        }
        return true;
    };
    while (!all_done()) {
        if (leading_) {
            finished_.wait(lock);
            continue;
        }
        // Lead the units queued now (these among them unless more than max_units_ were ahead of them; then the rest
        // wait for, or lead, a later group).
        leading_ = true;
        std::vector<Member*> group;
        while (!queue_.empty() && group.size() < max_units_) {
            group.push_back(queue_.front());
            queue_.pop_front();
        }
        lock.unlock();
        runGroup(group);
        lock.lock();
        for (Member* m : group) m->done = true;
        leading_ = false;
        finished_.notify_all();
    }
}

void CommitGroup::runGroup(const std::vector<Member*>& group) {
    if (group.size() == 1) {
        runAlone(*group.front());
        return;
    }
    std::optional<std::size_t> failed;  // the member that made the group roll back
    try {
        database_.run([&](UnitOfWork& uow) {
            failed.reset();
            for (std::size_t i = 0; i < group.size(); ++i) {
                Member* m = group[i];
                try {
                    m->in_group(uow);
                    if (!uow.rollbackOnly()) uow.flushDeferred();  // its buffered rows fail as its own, not the group's
                } catch (const DbError& e) {
                    if (e.retryable()) throw;  // the whole group again, as Database::run would retry a unit
                    failed = i;
                    throw GroupAbandoned{};
                } catch (...) {
                    failed = i;
                    throw GroupAbandoned{};
                }
                // A failed Result, a rollback-only mark or a statement failure the work caught: this member must not
                // commit, and the others must not commit with its half.
                if (uow.rollbackOnly() || uow.connection().statementFailed()) {
                    failed = i;
                    throw GroupAbandoned{};
                }
            }
        });
    } catch (const GroupAbandoned&) {
    } catch (...) {
        // The commit (or a retry budget) failed: the members shared it, so each has its outcome.
        for (Member* m : group) m->error = std::current_exception();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (failed) {
            ++stats_.fallbacks;
        } else {
            ++stats_.groups;
            stats_.grouped += group.size();
        }
    }
    if (!failed) return;
    // In queue order: the members before the one that failed form a group again, then it runs alone and gets its own
    // outcome, then the members after it form a group (a second failure among them repeats this). So a unit that
    // failed in the group never takes effect ahead of those queued before it (an allocation sweep's order).
    const std::vector<Member*> before(group.begin(), group.begin() + static_cast<std::ptrdiff_t>(*failed));
    const std::vector<Member*> after(group.begin() + static_cast<std::ptrdiff_t>(*failed) + 1, group.end());
    if (!before.empty()) runGroup(before);
    runAlone(*group[*failed]);
    if (!after.empty()) runGroup(after);
}

}  // namespace keel::db
