#pragma once
// Background work keeld does on a schedule. Every job is safe to run on several keeld nodes at once: it changes
// rows only through guarded statements, so a second node finds nothing left to do.

#include "keel/db/database.h"

#include <Poco/Logger.h>
#include <Poco/Util/Timer.h>

#include <chrono>
#include <memory>

namespace keel::server {

/// Runs the periodic jobs on one timer thread: expiring inventory holds (every inventory.sweep.interval seconds).
class Jobs {
public:
    Jobs(db::Database& database, std::chrono::seconds sweep_interval, Poco::Logger& log);
    ~Jobs();  ///< stops the timer and waits for a running job
    Jobs(const Jobs&) = delete;
    Jobs& operator=(const Jobs&) = delete;

private:
    Poco::Util::Timer timer_;
};

}  // namespace keel::server
