#include "keel/db/commit_group.h"

#include "keel/db/error.h"

namespace keel::db {

namespace {
// Thrown inside the group's unit of work when a member failed: rolls the group back (not a DbError, so not retried).
struct GroupAbandoned {};
}  // namespace

bool CommitGroup::grouping(const RunOptions& options) {
    // Every SQLite unit that may write takes the writer lock up front whatever its isolation (Database::run).
    return max_units_ > 1 && !options.read_only && database_.backend() == Backend::kSQLite;
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
    bool abandoned = false;
    try {
        database_.run([&](UnitOfWork& uow) {
            for (Member* m : group) {
                try {
                    m->in_group(uow);
                    if (!uow.rollbackOnly()) uow.flushDeferred();  // its buffered rows fail as its own, not the group's
                } catch (const DbError& e) {
                    if (e.retryable()) throw;  // the whole group again, as Database::run would retry a unit
                    throw GroupAbandoned{};
                } catch (...) {
                    throw GroupAbandoned{};
                }
                // A failed Result, a rollback-only mark or a statement failure the work caught: this member must not
                // commit, and the others must not commit with its half.
                if (uow.rollbackOnly() || uow.connection().statementFailed()) throw GroupAbandoned{};
            }
        });
    } catch (const GroupAbandoned&) {
        abandoned = true;
    } catch (...) {
        // The commit (or a retry budget) failed: the members shared it, so each has its outcome.
        for (Member* m : group) m->error = std::current_exception();
        return;
    }
    if (abandoned) {
        for (Member* m : group) alone(*m);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (abandoned) {
        ++stats_.fallbacks;
    } else {
        ++stats_.groups;
        stats_.grouped += group.size();
    }
}

}  // namespace keel::db
