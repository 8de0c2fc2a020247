#include "keel/server/jobs.h"

#include "keel/db/lease.h"
#include "keel/inventory/inventory.h"
#include "keel/kernel/clock.h"

#include <Poco/Util/TimerTask.h>

#include <map>
#include <set>
#include <vector>

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

class AllocateOrders : public Poco::Util::TimerTask {
public:
    static constexpr const char* kLease = "orders.allocate";

    AllocateOrders(db::Database& database, orders::Orders& orders, const JobSettings& settings, Poco::Logger& log)
        : database_(database),
          orders_(orders),
          node_(settings.node),
          log_(log),
          // Long enough that a holder which misses a beat keeps it; short enough that another node takes over soon.
          ttl_micros_(std::max<std::int64_t>(3 * settings.allocate_interval.count(), 60) * 1'000'000) {}

    void run() override {
        try {
            if (!db::claimLease(database_, kLease, node_, Clock::system().nowMicros(), ttl_micros_)) return;
            const orders::Actor actor{"keeld"};
            // New orders first, in queue order; an order that fails (logged) is not tried again in this run.
            std::set<std::string> tried;
            int allocated = 0;
            for (;;) {
                const auto queue =
                    database_.run([&](db::UnitOfWork& uow) { return orders_.allocationQueue(uow, 200, false); });
                std::vector<std::string> fresh;
                for (const auto& id : queue) {
                    if (tried.insert(id).second) fresh.push_back(id);
                }
                if (fresh.empty()) break;
                // Each order in its own unit of work; on SQLite several share a commit (Orders::allocateEach).
                const auto outcomes = orders_.allocateEach(database_, fresh, actor);
                for (std::size_t i = 0; i < fresh.size(); ++i) {
                    if (outcomes[i]) {
                        if (outcomes[i].value().allocated > 0) ++allocated;
                    } else {
                        log_.warning("allocating order %s failed: %s", fresh[i], outcomes[i].problem().message);
                    }
                }
            }
            // Then every waiting backorder, in priority and age order: an order still without stock is not written.
            const auto filled = orders_.fillBackorders(database_, {}, actor);
            if (allocated > 0 || !filled.empty()) {
                log_.information("allocated %d new order(s); %z backordered order(s) received stock", allocated,
                                 filled.size());
            }
        } catch (const std::exception& e) {
            log_.error("allocating orders failed: %s", std::string(e.what()));
        }
    }

private:
    db::Database& database_;
    orders::Orders& orders_;
    std::string node_;
    Poco::Logger& log_;
    std::int64_t ttl_micros_;
};

/// The trading partners' file drop: every partner's inbound folder read, then what it has not received sent, with
/// an 846 every edi.exchange.inventory_interval. On one node at a time (two nodes reading one folder would both take
/// a file in before either moved it).
class EdiExchange : public Poco::Util::TimerTask {
public:
    static constexpr const char* kLease = "edi.exchange";

    EdiExchange(db::Database& database, const JobSettings& settings, Poco::Logger& log)
        : database_(database),
          node_(settings.node),
          partners_(settings.edi_partners),
          exchange_(settings.edi_exchange),
          inventory_interval_(settings.edi_inventory_interval),
          log_(log),
          ttl_micros_(std::max<std::int64_t>(3 * settings.edi_interval.count(), 60) * 1'000'000) {}

    void run() override {
        try {
            if (!db::claimLease(database_, kLease, node_, Clock::system().nowMicros(), ttl_micros_)) return;
        } catch (const std::exception& e) {
            log_.error("EDI exchange: %s", std::string(e.what()));
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        for (const auto& partner : partners_) {
            // Due at the first run on this node (an unchanged inventory is not sent again), then every interval.
            const auto next = inventory_due_.find(partner);
            const bool inventory =
                inventory_interval_.count() > 0 && (next == inventory_due_.end() || now >= next->second);
            try {
                exchange_(partner, inventory);
                if (inventory) inventory_due_[partner] = now + inventory_interval_;
            } catch (const std::exception& e) {  // one partner's broken folder must not stop the others
                log_.error("EDI exchange with %s failed: %s", partner, std::string(e.what()));
            }
        }
    }

private:
    db::Database& database_;
    std::string node_;
    std::vector<std::string> partners_;
    std::function<void(const std::string&, bool)> exchange_;
    std::chrono::seconds inventory_interval_;
    std::map<std::string, std::chrono::steady_clock::time_point> inventory_due_;  ///< per partner, on this node
    Poco::Logger& log_;
    std::int64_t ttl_micros_;
};

class DispatchEvents : public Poco::Util::TimerTask {
public:
    DispatchEvents(std::shared_ptr<events::Dispatcher> dispatcher, Poco::Logger& log)
        : dispatcher_(std::move(dispatcher)), log_(log) {}

    void run() override {
        try {
            // Drain what can be delivered now; a receiver that fails waits for its backoff, not for this timer.
            for (int round = 0; round < 50; ++round) {
                const auto stats = dispatcher_->runOnce();
                if (stats.dead_lettered > 0) {
                    log_.warning("%Ld event(s) dead-lettered: see keel events dead-letters",
                                 static_cast<Poco::Int64>(stats.dead_lettered));
                }
                if (stats.delivered + stats.dead_lettered + stats.filtered + stats.sequenced == 0) break;
            }
        } catch (const std::exception& e) {
            log_.error("dispatching events failed: %s", std::string(e.what()));
        }
    }

private:
    std::shared_ptr<events::Dispatcher> dispatcher_;
    Poco::Logger& log_;
};

class PluginTasks : public Poco::Util::TimerTask {
public:
    PluginTasks(plugin_host::PluginHost& plugins, Poco::Logger& log) : plugins_(plugins), log_(log) {}

    void run() override {
        try {
            plugins_.runDue(Clock::system().nowMicros());
            // Exception rows a call inside an order's transaction could not write (a breaker opened during intake).
            plugins_.flushExceptions();
        } catch (const std::exception& e) {
            log_.error("plugin tasks failed: %s", std::string(e.what()));
        }
    }

private:
    plugin_host::PluginHost& plugins_;
    Poco::Logger& log_;
};

}  // namespace

Jobs::Jobs(db::Database& database, orders::Orders& orders, const JobSettings& settings, Poco::Logger& log)
    : database_(database), settings_(settings) {
    const long sweep_ms = static_cast<long>(settings.sweep_interval.count()) * 1000;
    timer_.scheduleAtFixedRate(new SweepHolds(database, log), sweep_ms, sweep_ms);
    if (settings.allocate_interval.count() > 0) {
        const long allocate_ms = static_cast<long>(settings.allocate_interval.count()) * 1000;
        timer_.scheduleAtFixedRate(new AllocateOrders(database, orders, settings, log), allocate_ms, allocate_ms);
    }
    if (settings.dispatch_interval.count() > 0) {
        dispatcher_ = std::make_shared<events::Dispatcher>(database, settings.subscribers, settings.node,
                                                           Clock::system(), settings.dispatch_lease);
        if (settings.plugin_delivery) dispatcher_->setPluginDelivery(settings.plugin_delivery);
        if (settings.tax_commit_delivery) dispatcher_->setTaxCommitDelivery(settings.tax_commit_delivery);
        const long dispatch_ms = static_cast<long>(settings.dispatch_interval.count());
        events_timer_.schedule(new DispatchEvents(dispatcher_, log), dispatch_ms, dispatch_ms);
    }
    // Each task keeps its own interval (keel_host_api.schedule); this only looks for due ones, on its own thread
    // so a slow plugin delays neither allocation nor event delivery.
    if (settings.plugins != nullptr) plugin_timer_.schedule(new PluginTasks(*settings.plugins, log), 1000, 1000);
    if (settings.edi_exchange && !settings.edi_partners.empty() && settings.edi_interval.count() > 0) {
        const long edi_ms = static_cast<long>(settings.edi_interval.count()) * 1000;
        edi_timer_.schedule(new EdiExchange(database, settings, log), edi_ms, edi_ms);
    }
}

Jobs::~Jobs() {
    timer_.cancel(true);
    events_timer_.cancel(true);
    plugin_timer_.cancel(true);
    edi_timer_.cancel(true);
    if (dispatcher_) {
        try {
            dispatcher_->releaseLeases();
        } catch (const std::exception&) {  // the leases expire on their own
        }
    }
    if (settings_.allocate_interval.count() > 0) {
        try {
            db::releaseLease(database_, AllocateOrders::kLease, settings_.node);  // another node need not wait
        } catch (...) {                                                           // the lease expires on its own
        }
    }
}

}  // namespace keel::server
