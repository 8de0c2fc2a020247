#include "keel/events/dispatcher.h"

#include "keel/db/lease.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/http_client.h"
#include "keel/kernel/id.h"

#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>

namespace keel::events {

namespace {

constexpr std::size_t kErrorLength = 500;

std::vector<std::string> splitList(const std::string& text) {
    std::vector<std::string> out;
    std::string item;
    std::istringstream in(text);
    while (std::getline(in, item, ',')) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (!item.empty()) out.push_back(item);
    }
    return out;
}

long long positiveNumber(const Poco::Util::AbstractConfiguration& config, const std::string& key, long long fallback,
                         long long minimum) {
    if (!config.hasProperty(key)) return fallback;
    const std::string text = config.getString(key);
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end == nullptr || *end != '\0' || value < minimum) {
        throw UsageError("configuration: " + key + " = \"" + text + "\" is not a whole number of at least " +
                         std::to_string(minimum));
    }
    return value;
}

std::string clip(std::string text) {
    if (text.size() > kErrorLength) text.resize(kErrorLength);
    return text;
}

}  // namespace

std::string resolveSecret(const std::string& key, const std::string& reference) {
    if (reference.rfind("file:", 0) == 0) {
        const std::string path = reference.substr(5);
        std::ifstream in(path, std::ios::binary);
        if (!in) throw UsageError("configuration: " + key + " names the file " + path + ", which cannot be read");
        std::string value((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
        if (value.empty()) throw UsageError("configuration: " + key + ": the file " + path + " is empty");
        return value;
    }
    if (reference.rfind("env:", 0) == 0) {
        const std::string variable = reference.substr(4);
        const char* value = std::getenv(variable.c_str());
        if (value == nullptr || *value == '\0') {
            throw UsageError("configuration: " + key + " names the environment variable " + variable +
                             ", which is not set");
        }
        return value;
    }
    throw UsageError("configuration: " + key +
                     " must be file:PATH or env:VARIABLE (a secret is never written in "
                     "the configuration itself)");
}

std::vector<SubscriberSettings> readSubscribers(const Poco::Util::AbstractConfiguration& config, bool resolve_secrets) {
    std::vector<SubscriberSettings> out;
    Poco::Util::AbstractConfiguration::Keys names;
    config.keys("events.subscriber", names);
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
        const std::string prefix = "events.subscriber." + name + ".";
        if (name.empty() || name.size() > 64 ||
            name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
            throw UsageError("configuration: subscriber name \"" + name +
                             "\" must be 1 to 64 lower-case letters, digits, '-' or '_'");
        }
        SubscriberSettings s;
        s.name = name;
        const std::string kind = config.getString(prefix + "type", "webhook");
        if (kind == "webhook") {
            s.kind = SubscriberKind::kWebhook;
            s.url = config.getString(prefix + "url", "");
            if (s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0) {
                throw UsageError("configuration: " + prefix + "url must be an http:// or https:// URL (got \"" + s.url +
                                 "\")");
            }
            if (!config.hasProperty(prefix + "secret")) {
                throw UsageError("configuration: " + prefix +
                                 "secret is required: webhooks are always signed "
                                 "(file:PATH or env:VARIABLE)");
            }
            if (resolve_secrets) s.secret = resolveSecret(prefix + "secret", config.getString(prefix + "secret"));
            s.ca_file = config.getString(prefix + "ca_file", "");
            if (!s.ca_file.empty() && !std::ifstream(s.ca_file)) {
                throw UsageError("configuration: " + prefix + "ca_file names " + s.ca_file + ", which cannot be read");
            }
        } else if (kind == "plugin" || kind == "tax_commit") {
            s.kind = kind == "plugin" ? SubscriberKind::kPlugin : SubscriberKind::kTaxCommit;
            s.instance = config.getString(prefix + "instance", "");
            if (s.instance.empty()) throw UsageError("configuration: " + prefix + "instance is required for a " + kind);
        } else {
            throw UsageError("configuration: " + prefix + "type = \"" + kind +
                             "\" must be webhook, plugin or tax_commit");
        }
        s.types = splitList(config.getString(prefix + "types", ""));
        if (s.kind == SubscriberKind::kTaxCommit) {
            if (!s.types.empty())
                throw UsageError("configuration: " + prefix +
                                 "types: a tax_commit subscriber takes "
                                 "invoice.issued events only; remove the setting");
            s.types = {"invoice.issued"};
        }
        s.max_attempts = static_cast<int>(positiveNumber(config, prefix + "max_attempts", 10, 1));
        s.backoff_initial = std::chrono::milliseconds(positiveNumber(config, prefix + "backoff.initial_ms", 1000, 1));
        s.backoff_max = std::chrono::milliseconds(positiveNumber(config, prefix + "backoff.max_ms", 300000, 1));
        s.timeout = std::chrono::milliseconds(positiveNumber(config, prefix + "timeout_ms", 10000, 1));
        const std::string start = config.getString(prefix + "start", "latest");
        if (start != "latest" && start != "earliest") {
            throw UsageError("configuration: " + prefix + "start = \"" + start + "\" must be latest or earliest");
        }
        s.from_earliest = start == "earliest";
        out.push_back(std::move(s));
    }
    return out;
}

std::string webhookSignature(const std::string& secret, std::int64_t timestamp, const std::string& body) {
    return "t=" + std::to_string(timestamp) + ",v1=" + hmacSha256Hex(secret, std::to_string(timestamp) + "." + body);
}

Delivery postWebhook(const SubscriberSettings& subscriber, const EventRecord& event, std::int64_t now_micros) {
    try {
        const Poco::URI uri(subscriber.url);
        // The receiver's certificate is always verified: against the subscriber's CA when it names one, else
        // against the system's CAs.
        const auto session = openHttpSession(uri, subscriber.timeout, subscriber.ca_file);
        const std::string body = event.toJson();
        const std::int64_t timestamp = now_micros / 1'000'000;
        Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, uri.getPathAndQuery(),
                                       Poco::Net::HTTPMessage::HTTP_1_1);
        request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
        request.set("Idempotency-Key", event.id);
        request.set("Keel-Event-Id", event.id);
        request.set("Keel-Event-Type", event.type);
        request.set("Keel-Event-Seq", std::to_string(event.seq));
        request.set("Keel-Timestamp", std::to_string(timestamp));
        request.set("Keel-Signature", webhookSignature(subscriber.secret, timestamp, body));
        request.set("User-Agent", "keel-webhook/1");
        session->sendRequest(request) << body;
        Poco::Net::HTTPResponse response;
        std::istream& in = session->receiveResponse(response);
        std::string answer;
        Poco::StreamCopier::copyToString(in, answer);
        const int status = static_cast<int>(response.getStatus());
        if (status >= 200 && status < 300) return {true, {}};
        return {false, clip("HTTP " + std::to_string(status) + " " + response.getReason() +
                            (answer.empty() ? "" : ": " + answer))};
    } catch (const Poco::Exception& e) {
        return {false, clip(subscriber.url + ": " + e.displayText())};
    } catch (const std::exception& e) {
        return {false, clip(subscriber.url + ": " + e.what())};
    }
}

Dispatcher::Dispatcher(db::Database& database, std::vector<SubscriberSettings> subscribers, std::string node,
                       const Clock& clock, std::chrono::milliseconds lease_ttl)
    : database_(database),
      subscribers_(std::move(subscribers)),
      node_(std::move(node)),
      clock_(clock),
      lease_ttl_(lease_ttl),
      log_(clock) {}

std::int64_t Dispatcher::backoffMicros(const SubscriberSettings& subscriber, int attempts) {
    const std::int64_t initial =
        std::chrono::duration_cast<std::chrono::microseconds>(subscriber.backoff_initial).count();
    const std::int64_t maximum = std::chrono::duration_cast<std::chrono::microseconds>(subscriber.backoff_max).count();
    std::int64_t delay = initial;
    for (int i = 1; i < attempts && delay < maximum; ++i) delay *= 2;
    delay = std::min(delay, maximum);
    // Full jitter over the upper half: receivers that failed together do not all come back at the same instant.
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::uniform_int_distribution<std::int64_t> jitter(delay / 2, delay);
    return jitter(random);
}

bool Dispatcher::holdLease(const SubscriberSettings& subscriber) {
    const std::int64_t now = clock_.nowMicros();
    const std::int64_t ttl = std::chrono::duration_cast<std::chrono::microseconds>(lease_ttl_).count();
    auto renewed = lease_renewed_at_.find(subscriber.name);
    if (renewed != lease_renewed_at_.end() && now - renewed->second < ttl / 3) return true;
    if (!db::claimLease(database_, "events.deliver." + subscriber.name, node_, now, ttl)) {
        lease_renewed_at_.erase(subscriber.name);
        return false;
    }
    lease_renewed_at_[subscriber.name] = now;
    return true;
}

void Dispatcher::releaseLeases() {
    for (const auto& [name, at] : lease_renewed_at_) db::releaseLease(database_, "events.deliver." + name, node_);
    lease_renewed_at_.clear();
}

Delivery Dispatcher::deliver(const SubscriberSettings& subscriber, const EventRecord& event) {
    if (subscriber.kind != SubscriberKind::kWebhook) {
        const PluginDelivery& delivery =
            subscriber.kind == SubscriberKind::kPlugin ? plugin_delivery_ : tax_commit_delivery_;
        if (!delivery) return {false, "plugin instance " + subscriber.instance + " is not loaded in this process"};
        return delivery(subscriber.instance, event.toJson());
    }
    if (webhook_delivery_) return webhook_delivery_(subscriber, event);
    return postWebhook(subscriber, event, clock_.nowMicros());
}

DispatchStats Dispatcher::runOnce(std::size_t batch) {
    DispatchStats stats;
    stats.sequenced = log_.sequenceAll(database_);
    for (const auto& subscriber : subscribers_) {
        if (!holdLease(subscriber)) continue;  // another process delivers to it
        deliverTo(subscriber, batch, stats);
    }
    return stats;
}

void Dispatcher::deliverTo(const SubscriberSettings& subscriber, std::size_t batch, DispatchStats& stats) {
    struct State {
        std::int64_t position = 0;
        int attempts = 0;
        std::int64_t next_attempt_at = 0;
    };
    const std::int64_t now = clock_.nowMicros();
    const State state = database_.run([&](db::UnitOfWork& uow) {
        db::Statement& s =
            uow.statement("SELECT position, attempts, next_attempt_at FROM event_subscription WHERE subscriber = ?");
        s.bindAll(subscriber.name).execute();
        std::optional<State> found;
        while (s.next()) found = State{s.getInt64(0), static_cast<int>(s.getInt64(1)), s.getInt64(2)};
        if (found) return *found;
        const std::int64_t start = subscriber.from_earliest ? 0 : log_.headSeq(uow);
        uow.statement(
               "INSERT INTO event_subscription (subscriber, position, attempts, next_attempt_at, last_error, "
               "delivered, delivered_at, updated_at) VALUES (?, ?, 0, 0, '', 0, 0, ?)")
            .bindAll(subscriber.name, start, now)
            .execute();
        return State{start, 0, 0};
    });
    if (state.attempts > 0 && now < state.next_attempt_at) return;  // backing off

    const std::vector<EventRecord> events = database_.run([&](db::UnitOfWork& uow) {
        return log_.read(uow, EventFilter{state.position, batch, {}, {}, {}});
    });

    std::int64_t position = state.position;  // as stored; every write is guarded by it (a replay wins)
    std::int64_t passed = state.position;    // filtered-out events not yet written
    int attempts = state.attempts;
    auto store = [&](std::int64_t new_position, int new_attempts, std::int64_t next_at, const std::string& error,
                     bool delivered) {
        const std::size_t changed = database_.run([&](db::UnitOfWork& uow) {
            return uow
                .statement(
                    "UPDATE event_subscription SET position = ?, attempts = ?, next_attempt_at = ?, "
                    "last_error = ?, delivered = delivered + ?, delivered_at = CASE WHEN ? = 1 THEN ? ELSE "
                    "delivered_at END, updated_at = ? WHERE subscriber = ? AND position = ?")
                .bindAll(new_position, new_attempts, next_at, clip(error), delivered ? 1 : 0, delivered ? 1 : 0,
                         clock_.nowMicros(), clock_.nowMicros(), subscriber.name, position)
                .execute();
        });
        if (changed != 1) return false;  // replayed meanwhile: the next run starts from the new position
        position = new_position;
        return true;
    };

    for (const auto& event : events) {
        if (!typeMatches(subscriber.types, event.type)) {
            passed = event.seq;
            ++stats.filtered;
            continue;
        }
        if (!holdLease(subscriber)) return;
        const Delivery outcome = deliver(subscriber, event);
        if (outcome.ok) {
            ++stats.delivered;
            attempts = 0;
            if (!store(event.seq, 0, 0, "", true)) return;
            passed = event.seq;
            continue;
        }
        ++attempts;
        if (attempts >= subscriber.max_attempts) {
            // Give up on this one event, keep it for an operator, and move on: later events are not held hostage.
            const bool moved = database_.run([&](db::UnitOfWork& uow) {
                const std::size_t changed =
                    uow.statement(
                           "UPDATE event_subscription SET position = ?, attempts = 0, next_attempt_at = 0, "
                           "last_error = ?, updated_at = ? WHERE subscriber = ? AND position = ?")
                        .bindAll(event.seq, clip(outcome.error), clock_.nowMicros(), subscriber.name, position)
                        .execute();
                if (changed != 1) return false;
                uow.statement("DELETE FROM event_dead_letter WHERE subscriber = ? AND seq = ?")
                    .bindAll(subscriber.name, event.seq)
                    .execute();
                uow.statement(
                       "INSERT INTO event_dead_letter (subscriber, seq, event_id, attempts, last_error, "
                       "created_at) VALUES (?, ?, ?, ?, ?, ?)")
                    .bindAll(subscriber.name, event.seq, event.id, attempts, clip(outcome.error), clock_.nowMicros())
                    .execute();
                // And in the integration exception queue, where an operator looks every morning.
                uow.statement(
                       "INSERT INTO integration_exception (id, source, code, message, reference, created_at) "
                       "VALUES (?, ?, 'dead_letter', ?, ?, ?)")
                    .bindAll(IdGenerator::global().next(), "events:" + subscriber.name,
                             "event #" + std::to_string(event.seq) + " (" + event.type + " of " + event.aggregate_type +
                                 " " + event.aggregate_id + ") not delivered after " + std::to_string(attempts) +
                                 " attempts: " + clip(outcome.error) +
                                 "; fix the receiver, then keel events replay "
                                 "--from " +
                                 std::to_string(event.seq) + " --subscriber " + subscriber.name,
                             event.id, clock_.nowMicros())
                    .execute();
                return true;
            });
            if (!moved) return;
            ++stats.dead_lettered;
            position = event.seq;
            passed = event.seq;
            attempts = 0;
            continue;
        }
        ++stats.failed;
        // Keep the filtered-out progress before the failing event, and retry it later.
        store(passed, attempts, clock_.nowMicros() + backoffMicros(subscriber, attempts), outcome.error, false);
        return;
    }
    if (passed != position) store(passed, 0, 0, "", false);  // only filtered-out events since the last write
}

Result<std::vector<std::string>> Dispatcher::replay(std::int64_t from, const std::optional<std::string>& subscriber) {
    std::vector<std::string> names;
    for (const auto& s : subscribers_) {
        if (!subscriber || s.name == *subscriber) names.push_back(s.name);
    }
    if (subscriber && names.empty()) {
        return Problem{ExitCode::kNotFound,
                       "no subscriber " + *subscriber + " is configured (events.subscriber." + *subscriber + ".*)",
                       "--subscriber"};
    }
    if (names.empty())
        return Problem{ExitCode::kNotFound, "no subscriber is configured (events.subscriber.NAME.*)", ""};
    log_.sequenceAll(database_);
    return database_.run([&](db::UnitOfWork& uow) -> Result<std::vector<std::string>> {
        const std::int64_t head = log_.headSeq(uow);
        if (from < 1 || from > head + 1) {
            return uow.fail(ExitCode::kRejected,
                            "--from " + std::to_string(from) + " is outside the events: numbers run from 1 to " +
                                std::to_string(head),
                            "--from");
        }
        const std::int64_t now = clock_.nowMicros();
        for (const auto& name : names) {
            const std::size_t changed =
                uow.statement(
                       "UPDATE event_subscription SET position = ?, attempts = 0, next_attempt_at = 0, "
                       "last_error = '', updated_at = ? WHERE subscriber = ?")
                    .bindAll(from - 1, now, name)
                    .execute();
            if (changed == 0) {
                uow.statement(
                       "INSERT INTO event_subscription (subscriber, position, attempts, next_attempt_at, "
                       "last_error, delivered, delivered_at, updated_at) VALUES (?, ?, 0, 0, '', 0, 0, ?)")
                    .bindAll(name, from - 1, now)
                    .execute();
            }
            // Their exceptions are resolved: the events are on their way again.
            uow.statement(
                   "UPDATE integration_exception SET resolved_at = ? WHERE source = ? AND code = 'dead_letter' "
                   "AND resolved_at IS NULL AND reference IN (SELECT event_id FROM event_dead_letter "
                   "WHERE subscriber = ? AND seq >= ?)")
                .bindAll(now, "events:" + name, name, from)
                .execute();
            uow.statement("DELETE FROM event_dead_letter WHERE subscriber = ? AND seq >= ?")
                .bindAll(name, from)
                .execute();
        }
        return names;
    });
}

std::vector<SubscriptionStatus> Dispatcher::status() {
    log_.sequenceAll(database_);
    return database_.run([&](db::UnitOfWork& uow) {
        const std::int64_t head = log_.headSeq(uow);
        std::map<std::string, SubscriptionStatus> rows;
        for (const auto& s : subscribers_) {
            SubscriptionStatus status;
            status.subscriber = s.name;
            status.position = s.from_earliest ? 0 : head;  // what it starts from on its first run
            rows[s.name] = status;
        }
        db::Statement& s = uow.statement(
            "SELECT subscriber, position, attempts, next_attempt_at, last_error, delivered, delivered_at "
            "FROM event_subscription");
        s.execute();
        while (s.next()) {
            const std::string name = s.getString(0);
            auto [it, inserted] = rows.try_emplace(name);
            SubscriptionStatus& status = it->second;
            status.subscriber = name;
            status.configured = !inserted;
            status.position = s.getInt64(1);
            status.attempts = static_cast<int>(s.getInt64(2));
            status.next_attempt_at = s.getInt64(3);
            status.last_error = s.getString(4);
            status.delivered = s.getInt64(5);
            status.delivered_at = s.getInt64(6);
        }
        db::Statement& dead = uow.statement("SELECT subscriber, COUNT(*) FROM event_dead_letter GROUP BY subscriber");
        dead.execute();
        while (dead.next()) {
            auto it = rows.find(dead.getString(0));
            if (it != rows.end()) it->second.dead_letters = dead.getInt64(1);
        }
        std::vector<SubscriptionStatus> out;
        for (auto& [name, status] : rows) {
            status.lag = std::max<std::int64_t>(0, head - status.position);
            out.push_back(std::move(status));
        }
        return out;
    });
}

std::vector<DeadLetter> Dispatcher::deadLetters(const std::optional<std::string>& subscriber, std::size_t limit) {
    return database_.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement(
            subscriber ? "SELECT subscriber, seq, event_id, attempts, last_error, created_at FROM event_dead_letter "
                         "WHERE subscriber = ? ORDER BY seq LIMIT ?"
                       : "SELECT subscriber, seq, event_id, attempts, last_error, created_at FROM event_dead_letter "
                         "ORDER BY subscriber, seq LIMIT ?");
        if (subscriber) s.bind(*subscriber);
        s.bind(static_cast<std::int64_t>(limit));
        s.execute();
        std::vector<DeadLetter> out;
        while (s.next()) {
            out.push_back(DeadLetter{s.getString(0), s.getInt64(1), s.getString(2), static_cast<int>(s.getInt64(3)),
                                     s.getString(4), s.getInt64(5)});
        }
        return out;
    });
}

}  // namespace keel::events
