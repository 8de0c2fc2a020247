#pragma once
// Delivery of numbered events to subscribers (webhooks and subscriber plugins), at least once and in sequence
// order per subscriber (so in order per aggregate), with the delivery state persisted per subscriber.
//
// Each subscriber has a position: every event up to it was delivered, filtered out or dead-lettered. The event
// after it is delivered next; a failure is retried with exponential backoff and jitter, and after max_attempts it
// goes to the dead letters and delivery moves on. The position is written after each delivery, so a dispatcher
// that dies between a delivery and that write delivers the event again on restart (receivers deduplicate on the
// event id, sent as Idempotency-Key). One process delivers for a subscriber at a time (a job lease per subscriber),
// so several keeld nodes can run dispatchers on one database.

#include "keel/db/database.h"
#include "keel/events/log.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keel::events {

/// webhook: HTTP(S) POST; plugin: a subscriber plugin's on_event; tax_commit: a tax plugin's commit for every
/// invoice.issued event (the invoice's tax, recorded by the engine once the invoice committed).
enum class SubscriberKind { kWebhook, kPlugin, kTaxCommit };

/// One subscriber, from events.subscriber.NAME.* (docs/events.md).
struct SubscriberSettings {
    std::string name;
    SubscriberKind kind = SubscriberKind::kWebhook;
    std::string url;                 ///< webhook: http:// or https://
    std::string secret;              ///< webhook: the HMAC-SHA256 key, resolved from file:PATH or env:VAR
    std::string ca_file;  ///< webhook over HTTPS: trust this CA (PEM) instead of the system's (an internal CA)
    std::string instance;            ///< plugin, tax_commit: the plugin instance that receives the events
    std::vector<std::string> types;  ///< event type patterns ("order.*"); empty: every event
    int max_attempts = 10;
    std::chrono::milliseconds backoff_initial{1000};
    std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};
    std::chrono::milliseconds timeout{std::chrono::seconds(10)};
    bool from_earliest = false;  ///< start: a new subscriber gets every past event (earliest) or only new ones
};

/// Reads every events.subscriber.NAME.*; throws UsageError naming the key for a missing or malformed setting.
/// `resolve_secrets` false leaves webhook secrets unread (commands that only show or move delivery state, run from a
/// shell that need not hold the secrets).
std::vector<SubscriberSettings> readSubscribers(const Poco::Util::AbstractConfiguration& config,
                                                bool resolve_secrets = true);

/// Resolves a secret reference: "file:/path" (the file's content, trailing newline removed) or "env:VAR".
/// Throws UsageError naming `key` when it is neither or cannot be read.
std::string resolveSecret(const std::string& key, const std::string& reference);

/// The outcome of one delivery attempt.
struct Delivery {
    bool ok = false;
    std::string error;  ///< why it failed, for the operator (HTTP status and the start of the body, or the cause)
};

/// Delivers an event to a subscriber plugin instance; set by the process that hosts plugins.
using PluginDelivery = std::function<Delivery(const std::string& instance, const std::string& event_json)>;

/// The webhook request: an HTTP(S) POST of the event JSON with headers
///   Content-Type: application/json, Idempotency-Key and Keel-Event-Id: the event id, Keel-Event-Type,
///   Keel-Event-Seq, Keel-Timestamp: Unix seconds, Keel-Signature: t=TIMESTAMP,v1=HEX where HEX is
///   HMAC-SHA256(secret, TIMESTAMP + "." + body).
Delivery postWebhook(const SubscriberSettings& subscriber, const EventRecord& event, std::int64_t now_micros);
/// The signature header value for `body` at `timestamp` (seconds): what a receiver recomputes.
std::string webhookSignature(const std::string& secret, std::int64_t timestamp, const std::string& body);

/// Delivery state of a subscriber, for `keel events subscribers` and /metrics.
struct SubscriptionStatus {
    std::string subscriber;
    std::int64_t position = 0;
    std::int64_t lag = 0;  ///< numbered events after the position
    int attempts = 0;
    std::int64_t next_attempt_at = 0;
    std::string last_error;
    std::int64_t delivered = 0;
    std::int64_t delivered_at = 0;
    std::int64_t dead_letters = 0;
    bool configured = true;  ///< false: a row left by a subscriber no longer in the configuration
};

struct DeadLetter {
    std::string subscriber;
    std::int64_t seq = 0;
    std::string event_id;
    int attempts = 0;
    std::string last_error;
    std::int64_t created_at = 0;
};

/// What one dispatch run did.
struct DispatchStats {
    std::int64_t sequenced = 0;
    std::int64_t delivered = 0;
    std::int64_t failed = 0;  ///< attempts that failed and will be retried
    std::int64_t dead_lettered = 0;
    std::int64_t filtered = 0;
};

class Dispatcher {
public:
    /// `node` names this process in job leases (host:pid); `lease_ttl` is how long another process waits before
    /// it takes over the subscribers of one that stopped renewing (events.dispatch.lease).
    Dispatcher(db::Database& database, std::vector<SubscriberSettings> subscribers, std::string node,
               const Clock& clock = Clock::system(), std::chrono::milliseconds lease_ttl = std::chrono::seconds(30));

    void setPluginDelivery(PluginDelivery delivery) { plugin_delivery_ = std::move(delivery); }
    /// Delivers an invoice.issued event to a tax plugin instance's commit (tax_commit subscribers).
    void setTaxCommitDelivery(PluginDelivery delivery) { tax_commit_delivery_ = std::move(delivery); }
    /// Replaces how webhooks are sent (tests that count requests without a server do not need it; kept for
    /// transports added later).
    void setWebhookDelivery(std::function<Delivery(const SubscriberSettings&, const EventRecord&)> delivery) {
        webhook_delivery_ = std::move(delivery);
    }

    /// Numbers new events, then delivers to every subscriber whose lease this process holds or gets, up to
    /// `batch` events each. Never throws for a failing receiver (that is a failed attempt); throws only when the
    /// database fails.
    DispatchStats runOnce(std::size_t batch = 200);

    /// Delivers again from event `from` (inclusive) to `subscriber`, or to every configured subscriber: its
    /// position goes back to from - 1, its retry state is cleared and dead letters from `from` on are dropped
    /// (they will be delivered again). NotFound for an unknown subscriber, Rejected for from < 1 or beyond the
    /// last event + 1.
    Result<std::vector<std::string>> replay(std::int64_t from, const std::optional<std::string>& subscriber);

    std::vector<SubscriptionStatus> status();
    std::vector<DeadLetter> deadLetters(const std::optional<std::string>& subscriber, std::size_t limit = 100);

    /// Gives up this process's leases (a stopping process), so another can take over at once.
    void releaseLeases();

    const std::vector<SubscriberSettings>& subscribers() const { return subscribers_; }

private:
    void deliverTo(const SubscriberSettings& subscriber, std::size_t batch, DispatchStats& stats);
    Delivery deliver(const SubscriberSettings& subscriber, const EventRecord& event);
    bool holdLease(const SubscriberSettings& subscriber);
    std::int64_t backoffMicros(const SubscriberSettings& subscriber, int attempts);

    db::Database& database_;
    std::vector<SubscriberSettings> subscribers_;
    std::string node_;
    const Clock& clock_;
    std::chrono::milliseconds lease_ttl_;
    EventLog log_;
    PluginDelivery plugin_delivery_;
    PluginDelivery tax_commit_delivery_;
    std::function<Delivery(const SubscriberSettings&, const EventRecord&)> webhook_delivery_;
    std::map<std::string, std::int64_t> lease_renewed_at_;
};

}  // namespace keel::events
