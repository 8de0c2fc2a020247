#pragma once
// Background work keeld does on a schedule. Every job is safe to run on several keeld nodes at once: it changes
// rows only through guarded statements, so a second node finds nothing left to do. Jobs whose repeated work
// would be wasted (allocation) run where their lease in the database (job_lease) is held.

#include "keel/db/database.h"
#include "keel/orders/orders.h"

#include <Poco/Logger.h>
#include <Poco/Util/Timer.h>

#include <chrono>
#include <memory>
#include <string>

namespace keel::server {

struct JobSettings {
    std::chrono::seconds sweep_interval{60};     ///< inventory.sweep.interval: expiring inventory holds
    std::chrono::seconds allocate_interval{30};  ///< orders.allocate.interval: 0 turns allocation off
    std::string node;                            ///< this process in job leases (host:pid)
};

/// Runs the periodic jobs on one timer thread: expiring inventory holds; allocating validated orders (highest
/// priority, earliest promise, oldest first) and then filling backorders from whatever stock became available
/// (receipts, transfers, returns, cancellations, expired holds, from any source).
class Jobs {
public:
    Jobs(db::Database& database, orders::Orders& orders, const JobSettings& settings, Poco::Logger& log);
    ~Jobs();  ///< stops the timer, waits for a running job and gives up the job leases
    Jobs(const Jobs&) = delete;
    Jobs& operator=(const Jobs&) = delete;

private:
    db::Database& database_;
    JobSettings settings_;
    Poco::Util::Timer timer_;
};

}  // namespace keel::server
