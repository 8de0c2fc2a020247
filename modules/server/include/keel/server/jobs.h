#pragma once
// Background work keeld does on a schedule. Every job is safe to run on several keeld nodes at once: it changes
// rows only through guarded statements, so a second node finds nothing left to do. Jobs whose repeated work
// would be wasted (allocation) run where their lease in the database (job_lease) is held.

#include "keel/db/database.h"
#include "keel/events/dispatcher.h"
#include "keel/orders/orders.h"
#include "keel/plugin_host/plugin_host.h"

#include <Poco/Logger.h>
#include <Poco/Util/Timer.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace keel::server {

struct JobSettings {
    std::chrono::seconds sweep_interval{60};     ///< inventory.sweep.interval: expiring inventory holds
    std::chrono::seconds allocate_interval{30};  ///< orders.allocate.interval: 0 turns allocation off
    std::string node;                            ///< this process in job leases (host:pid)
    /// events.dispatch.interval_ms: numbering new events and delivering them to the subscribers; 0 turns it off
    std::chrono::milliseconds dispatch_interval{1000};
    std::chrono::milliseconds dispatch_lease{30000};      ///< events.dispatch.lease_ms
    std::vector<events::SubscriberSettings> subscribers;  ///< events.subscriber.NAME.*
    events::PluginDelivery plugin_delivery;               ///< delivers to subscriber plugins, when plugins are hosted
    events::PluginDelivery tax_commit_delivery;           ///< commits invoices' tax with a tax plugin
    plugin_host::PluginHost* plugins = nullptr;           ///< runs the tasks plugin instances scheduled
    /// edi.exchange.interval: the file drop of every partner of edi.exchange.partners (poll, then send); 0: off
    std::chrono::seconds edi_interval{60};
    std::vector<std::string> edi_partners;  ///< edi.exchange.partners
    /// edi.exchange.inventory_interval: an 846 to every exchanged partner this often (when its inventory changed
    /// since the last one); 0: off
    std::chrono::seconds edi_inventory_interval{0};
    /// Polls and sends for one partner; `inventory`: its 846 is due
    std::function<void(const std::string& partner, bool inventory)> edi_exchange;
};

/// Runs the periodic jobs on one timer thread: expiring inventory holds; allocating validated orders (highest
/// priority, earliest promise, oldest first) and then filling backorders from whatever stock became available
/// (receipts, transfers, returns, cancellations, expired holds, from any source); numbering events and
/// delivering them to subscribers (on its own timer, so a slow webhook never delays allocation); the trading
/// partners' file drop and their 846s (on its own timer too, on the node that holds its lease).
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
    Poco::Util::Timer events_timer_;
    Poco::Util::Timer plugin_timer_;
    Poco::Util::Timer edi_timer_;
    std::shared_ptr<events::Dispatcher> dispatcher_;
};

}  // namespace keel::server
