#pragma once
// The plugin host: finds plugin libraries by their manifests, checks them (ABI, SHA-256, signature) before
// anything of theirs runs, loads them with Boost.DLL, creates the configured instances (plugins.d) and is the
// one door every call into a plugin goes through, so a failing plugin is contained by its circuit breaker and
// shows up in the integration exception queue while the rest of Keel goes on (docs/plugin-host.md).

#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::db {
class Database;
}
namespace keel::catalog {
class Catalog;
}
namespace keel::inventory {
class Inventory;
}
namespace keel::orders {
class Orders;
}

namespace keel::plugin_host {

namespace detail {
struct Impl;
}

/// The capability kinds of keel/plugin_abi.h (KEEL_CAP_*).
enum class Capability { kMarketplace, kFulfillment, kTax, kEdi, kTransport, kSubscriber };
std::string_view toString(Capability capability);  ///< "marketplace", ..., "subscriber" (the manifest's names)
std::optional<Capability> capabilityFromName(std::string_view name);

/// Every keel_operation of every capability table, so other components (the event dispatcher) can call any
/// plugin through PluginHost::invoke without seeing the C ABI.
enum class Operation {
    kMarketplacePullOrders,
    kMarketplaceAcknowledge,
    kMarketplacePushInventory,
    kMarketplacePushTracking,
    kMarketplacePullCancellations,
    kFulfillmentSendShipmentRequest,
    kFulfillmentReceiveConfirmations,
    kFulfillmentReceiveInventorySnapshot,
    kTaxQuote,
    kTaxCommit,
    kTaxVoid,
    kEdiToDocuments,
    kEdiFromDocument,
    kTransportSend,
    kTransportReceive,
    kSubscriberOnEvent,
};
std::string_view toString(Operation operation);  ///< "tax.quote", "subscriber.on_event", ...
Capability capabilityOf(Operation operation);

/// A plugin's manifest (NAME.keel-plugin.json, written by keel_add_plugin).
struct Manifest {
    std::string name;
    std::string version;
    int abi_major = 0;
    int abi_minor = 0;
    std::vector<std::string> capabilities;
    std::string library;  ///< file name, next to the manifest
    std::string sha256;   ///< of the library, 64 lowercase hex digits
};

/// Parses a manifest; the Problem names `path` and the field that is missing or wrong.
Result<Manifest> parseManifest(std::string_view json, const std::string& path);

/// A manifest or library the host would not load, and why (the message names the file).
struct Refusal {
    std::string path;
    std::string reason;
};

enum class InstanceState { kActive, kSuspended, kFailed };
std::string_view toString(InstanceState state);  ///< "active", "suspended" (breaker open), "failed"

/// What `keel plugin list` shows of an instance.
struct InstanceStatus {
    std::string name;  ///< the instance (file stem in plugins.d)
    std::string plugin;
    std::string version;
    std::vector<std::string> capabilities;
    InstanceState state = InstanceState::kFailed;
    std::string last_error;
    std::int64_t calls = 0;
    std::int64_t failures = 0;
    int consecutive_failures = 0;
    std::int64_t suspended_until = 0;  ///< epoch microseconds while the breaker is open
};

/// Settings (plugins.*), see docs/plugin-host.md.
struct HostSettings {
    std::vector<std::string> directories;                     ///< plugins.directory, colon-separated
    std::string instances_directory = "/etc/keel/plugins.d";  ///< plugins.instances
    std::string trusted_keys;  ///< plugins.trusted_keys: directories of PEM public keys, colon-separated
    bool allow_unsigned = false;                              ///< plugins.allow_unsigned
    int breaker_failures = 5;                                 ///< plugins.breaker.failures
    std::int64_t breaker_cooldown_seconds = 60;               ///< plugins.breaker.cooldown

    /// Reads plugins.*; throws InfrastructureError naming a malformed key.
    static HostSettings fromConfig(const Poco::Util::AbstractConfiguration& config);
};

/// What the host functions offered to plugins (order_intake, stock_query, document_get, the exception queue)
/// need from the rest of Keel. Any may be null: the host function then answers KEEL_E_UNAVAILABLE.
/// core/plugin_host cannot see modules/app, so the process that owns the services fills this in.
struct HostServices {
    db::Database* database = nullptr;
    orders::Orders* orders = nullptr;
    inventory::Inventory* inventory = nullptr;
    catalog::Catalog* catalog = nullptr;
};

/// A task a plugin instance asked for with keel_host_api.schedule.
struct ScheduledTask {
    std::string instance;
    std::string task;
    std::int64_t interval_seconds = 0;
    std::int64_t next_due = 0;  ///< epoch microseconds
};

/// An entry of the integration exception queue (table integration_exception).
struct IntegrationException {
    std::string id;
    std::string source;  ///< "plugin:INSTANCE"
    std::string code;    ///< "breaker_open" or the plugin's own code
    std::string message;
    std::string reference;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> resolved_at;
};

/// The open (unresolved) exceptions, newest first, at most `limit`.
std::vector<IntegrationException> openExceptions(db::Database& database, std::size_t limit = 100);

/// Loads plugins and owns their libraries and instances for its whole life: instances are destroyed before the
/// libraries that hold their code. Thread-safe: calls to one instance are serialized, different instances run
/// in parallel.
class PluginHost {
public:
    explicit PluginHost(HostSettings settings, HostServices services = {}, const Clock& clock = Clock::system());
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    /// Discovers, checks and loads the plugins, then creates the instances. A refused plugin or a failed
    /// instance is recorded and the rest goes on; throws InfrastructureError only when a directory of
    /// plugins.directory or plugins.instances exists but cannot be read. Call once.
    void load();

    /// The services may be set after load (the process builds them from the same configuration).
    void setServices(HostServices services);

    const std::vector<Refusal>& refused() const;
    /// Every instance in name order, failed ones included.
    std::vector<InstanceStatus> instances() const;
    std::optional<InstanceStatus> instance(std::string_view name) const;
    /// The active or suspended instances whose plugin has `capability`, in name order.
    std::vector<std::string> instancesWith(Capability capability) const;

    /// Calls an operation of an instance with a JSON request and returns its JSON response. The one door into a
    /// plugin: refuses (kInfrastructure) while the instance's breaker is open or the instance failed,
    /// kNotFound for an unknown instance, kUsage when the plugin lacks the capability; maps the plugin's status
    /// to the Problem's code (KEEL_E_INVALID -> kRejected, ...) with the plugin's message. KEEL_E_UNAVAILABLE and
    /// KEEL_E_INTERNAL count for the breaker. Exception rows (breaker opened, report_error) are written at the
    /// end of the call when `write_exceptions` is set, else kept for flushExceptions(): a caller inside an open
    /// unit of work (tax during order intake) must not write through a second connection (SQLite would wait on
    /// its own lock).
    Result<std::string> invoke(std::string_view instance, Operation operation, std::string_view request_json,
                               bool write_exceptions = true);

    /// Writes the exception rows not yet written (needs HostServices::database); returns how many remain.
    std::size_t flushExceptions();

    /// Scheduled tasks due at `now` (epoch microseconds).
    std::vector<ScheduledTask> dueTasks(std::int64_t now) const;
    /// Calls `tick` of every due task through the breaker and schedules its next run; returns how many ran OK.
    int runDue(std::int64_t now);

private:
    std::unique_ptr<detail::Impl> impl_;
};

}  // namespace keel::plugin_host
