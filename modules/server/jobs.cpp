#include "keel/server/jobs.h"

#include "keel/inventory/inventory.h"

#include <Poco/Util/TimerTaskAdapter.h>

namespace keel::server {

namespace {

class SweepHolds : public Poco::Util::TimerTask {
public:
    SweepHolds(db::Database& database, Poco::Logger& log) : database_(database), log_(log) {}

    void run() override {
        try {
            std::int64_t total = 0;
            for (;;) {  // batches of 500, each its own short transaction
                const std::int64_t expired =
                    database_.run([&](db::UnitOfWork& uow) { return inventory_.sweepExpiredHolds(uow, 500); });
                total += expired;
                if (expired < 500) break;
            }
            if (total > 0) log_.information("released %Ld expired inventory holds", static_cast<Poco::Int64>(total));
        } catch (const std::exception& e) {
            // The next run tries again; the failure is visible in the log, and /readyz reports a database outage.
            log_.error("expiring inventory holds failed: %s", std::string(e.what()));
        }
    }

private:
    db::Database& database_;
    Poco::Logger& log_;
    inventory::Inventory inventory_;
};

}  // namespace

Jobs::Jobs(db::Database& database, std::chrono::seconds sweep_interval, Poco::Logger& log) {
    const long interval_ms = static_cast<long>(sweep_interval.count()) * 1000;
    timer_.scheduleAtFixedRate(new SweepHolds(database, log), interval_ms, interval_ms);
}

Jobs::~Jobs() { timer_.cancel(true); }

}  // namespace keel::server
