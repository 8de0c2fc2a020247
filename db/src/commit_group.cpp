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
    std::unique_lock<std::mutex> lock(mutex_);
    ++stats_.units;
    queue_.push_back(&member);
    while (!member.done) {
        if (leading_) {
            finished_.wait(lock);
            continue;
        }
        // Lead the units queued now (this one among them unless more than max_units_ were ahead of it; then it waits
        // for, or leads, a later group).
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
    if (member.error) std::rethrow_exception(member.error);
}

void CommitGroup::runGroup(const std::vector<Member*>& group) {
    const auto alone = [](Member& m) {
        try {
            m.alone();
        } catch (...) {
            m.error = std::current_exception();
        }
    };
    if (group.size() == 1) {
        alone(*group.front());
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
    // The member that failed gets its own outcome alone; the others, rolled back with it, form a group again (a
    // second failure among them repeats this).
    alone(*group[*failed]);
    std::vector<Member*> rest;
    for (std::size_t i = 0; i < group.size(); ++i) {
        if (i != *failed) rest.push_back(group[i]);
    }
    runGroup(rest);
}

}  // namespace keel::db
