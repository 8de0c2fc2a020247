// keel events ... and keel audit verify: the numbered event log, delivery to subscribers and the audit chain.
#include "commands_events.h"

#include "services.h"

#include "keel/events/dispatcher.h"
#include "keel/events/log.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"

#include <Poco/Environment.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Process.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iomanip>
#include <ostream>
#include <thread>

namespace keel::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void onStopSignal(int) {
    g_stop.store(true);
}

std::string nodeName() {
    return Poco::Environment::nodeName() + ":" + std::to_string(Poco::Process::id());
}

/// `deliver`: the dispatcher will deliver, so subscriber plugins are loaded (only then: loading runs plugin code).
events::Dispatcher dispatcherOf(Context& context, bool deliver = false) {
    const auto lease_ms = context.config().getInt("events.dispatch.lease_ms", 30000);
    if (lease_ms < 100) throw UsageError("configuration: events.dispatch.lease_ms must be at least 100");
    auto subscribers = events::readSubscribers(context.config(), deliver);
    const bool plugin_subscribers = std::any_of(subscribers.begin(), subscribers.end(), [](const auto& s) {
        return s.kind != events::SubscriberKind::kWebhook;
    });
    events::Dispatcher dispatcher(context.database(), std::move(subscribers), nodeName(), Clock::system(),
                                  std::chrono::milliseconds(lease_ms));
    if (deliver && plugin_subscribers) {
        Services& s = services(context);
        s.attachDatabase(context.database());
        dispatcher.setPluginDelivery(s.pluginDelivery());
        dispatcher.setTaxCommitDelivery(s.taxCommitDelivery());
    }
    return dispatcher;
}

std::string timeOrDash(std::int64_t micros) {
    return micros > 0 ? formatIso8601(micros) : "-";
}

Poco::JSON::Object eventJson(const events::EventRecord& e) {
    Poco::JSON::Parser parser;
    return *parser.parse(e.toJson()).extract<Poco::JSON::Object::Ptr>();
}

int listCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "events list", {"after", "limit", "type", "aggregate"});
    args.expectPositional(0, 0, "[--after SEQ] [--limit N] [--type PATTERN] [--aggregate TYPE:ID]");
    events::EventFilter filter;
    filter.after = args.integerValue("after").value_or(0);
    const std::int64_t limit = args.integerValue("limit").value_or(100);
    if (filter.after < 0) throw UsageError("--after must be 0 or an event number");
    if (limit < 1 || limit > 100000) throw UsageError("--limit must be between 1 and 100000");
    filter.limit = static_cast<std::size_t>(limit);
    if (auto type = args.value("type")) filter.types = {*type};
    if (auto aggregate = args.value("aggregate")) {
        const auto colon = aggregate->find(':');
        if (colon == std::string::npos || colon == 0)
            throw UsageError("--aggregate must be TYPE:ID (order:ID) or TYPE:");
        filter.aggregate_type = aggregate->substr(0, colon);
        filter.aggregate_id = aggregate->substr(colon + 1);
    }
    events::EventLog log;
    log.sequenceAll(context.database());  // committed events get their numbers before they are listed
    const auto found = context.database().run([&](db::UnitOfWork& uow) { return log.read(uow, filter); });
    if (context.json()) {
        Poco::JSON::Object o;
        Poco::JSON::Array list;
        for (const auto& e : found) list.add(eventJson(e));
        o.set("events", list);
        o.set("next_after", found.empty() ? filter.after : found.back().seq);
        context.writeJson(o);
        return 0;
    }
    for (const auto& e : found) {
        context.out() << std::setw(8) << e.seq << "  " << formatIso8601(e.created_at) << "  " << std::left
                      << std::setw(26) << e.type << std::right << " " << e.aggregate_type << " " << e.aggregate_id
                      << "  (" << e.actor << ")\n";
    }
    if (found.empty()) context.out() << "no events after #" << filter.after << "\n";
    return 0;
}

int subscribersCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "events subscribers", {});
    args.expectPositional(0, 0, "");
    auto dispatcher = dispatcherOf(context);
    const auto rows = dispatcher.status();
    if (context.json()) {
        Poco::JSON::Object o;
        Poco::JSON::Array list;
        for (const auto& s : rows) {
            Poco::JSON::Object j;
            j.set("subscriber", s.subscriber);
            j.set("configured", s.configured);
            j.set("position", s.position);
            j.set("lag", s.lag);
            j.set("attempts", s.attempts);
            j.set("next_attempt_at", s.next_attempt_at > 0 ? formatIso8601(s.next_attempt_at) : std::string());
            j.set("last_error", s.last_error);
            j.set("delivered", s.delivered);
            j.set("delivered_at", s.delivered_at > 0 ? formatIso8601(s.delivered_at) : std::string());
            j.set("dead_letters", s.dead_letters);
            list.add(j);
        }
        o.set("subscribers", list);
        context.writeJson(o);
        return 0;
    }
    if (rows.empty()) context.out() << "no subscribers configured (events.subscriber.NAME.*)\n";
    for (const auto& s : rows) {
        context.out() << s.subscriber << (s.configured ? "" : " (no longer configured)") << "\n"
                      << "  position  #" << s.position << ", " << s.lag << " behind\n"
                      << "  delivered " << s.delivered << ", last at " << timeOrDash(s.delivered_at) << "\n"
                      << "  dead      " << s.dead_letters << "\n";
        if (s.attempts > 0) {
            context.out() << "  retrying  #" << (s.position + 1) << " after " << s.attempts
                          << " failed attempt(s), next at " << timeOrDash(s.next_attempt_at) << "\n";
        }
        if (!s.last_error.empty()) context.out() << "  error     " << s.last_error << "\n";
    }
    return 0;
}

int deadLettersCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "events dead-letters", {"subscriber", "limit"});
    args.expectPositional(0, 0, "[--subscriber S] [--limit N]");
    const std::int64_t limit = args.integerValue("limit").value_or(100);
    if (limit < 1) throw UsageError("--limit must be at least 1");
    auto dispatcher = dispatcherOf(context);
    const auto rows = dispatcher.deadLetters(args.value("subscriber"), static_cast<std::size_t>(limit));
    if (context.json()) {
        Poco::JSON::Object o;
        Poco::JSON::Array list;
        for (const auto& d : rows) {
            Poco::JSON::Object j;
            j.set("subscriber", d.subscriber);
            j.set("seq", d.seq);
            j.set("event_id", d.event_id);
            j.set("attempts", d.attempts);
            j.set("last_error", d.last_error);
            j.set("created_at", formatIso8601(d.created_at));
            list.add(j);
        }
        o.set("dead_letters", list);
        context.writeJson(o);
        return 0;
    }
    if (rows.empty()) context.out() << "no dead letters\n";
    for (const auto& d : rows) {
        context.out() << d.subscriber << "  #" << d.seq << "  " << d.event_id << "  " << d.attempts << " attempts  "
                      << formatIso8601(d.created_at) << "\n    " << d.last_error << "\n";
    }
    return 0;
}

int dispatchCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "events dispatch", {"interval-ms", "batch"}, {"once"});
    args.expectPositional(0, 0, "[--once] [--interval-ms N] [--batch N]");
    const std::int64_t interval = args.integerValue("interval-ms").value_or(1000);
    const std::int64_t batch = args.integerValue("batch").value_or(200);
    if (interval < 10) throw UsageError("--interval-ms must be at least 10");
    if (batch < 1 || batch > 10000) throw UsageError("--batch must be between 1 and 10000");
    auto dispatcher = dispatcherOf(context, true);
    events::DispatchStats total;
    g_stop.store(false);
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    for (;;) {
        const auto stats = dispatcher.runOnce(static_cast<std::size_t>(batch));
        total.sequenced += stats.sequenced;
        total.delivered += stats.delivered;
        total.failed += stats.failed;
        total.dead_lettered += stats.dead_lettered;
        total.filtered += stats.filtered;
        const bool progressed = stats.delivered + stats.dead_lettered + stats.filtered + stats.sequenced > 0;
        if (args.flag("once") && !progressed) break;
        if (g_stop.load()) break;
        if (!progressed) {
            for (std::int64_t waited = 0; waited < interval && !g_stop.load(); waited += 10) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            if (g_stop.load()) break;
        }
    }
    dispatcher.releaseLeases();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("sequenced", total.sequenced);
        o.set("delivered", total.delivered);
        o.set("failed_attempts", total.failed);
        o.set("dead_lettered", total.dead_lettered);
        o.set("filtered", total.filtered);
        context.writeJson(o);
    } else {
        context.out() << "numbered " << total.sequenced << " event(s); delivered " << total.delivered << ", "
                      << total.failed << " failed attempt(s), " << total.dead_lettered << " dead-lettered, "
                      << total.filtered << " filtered out\n";
    }
    return 0;
}

int replayCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "events replay", {"from", "subscriber"});
    args.expectPositional(0, 0, "--from SEQ [--subscriber S]");
    const std::int64_t from = args.integer(args.required("from"), "--from");
    auto dispatcher = dispatcherOf(context);
    auto result = dispatcher.replay(from, args.value("subscriber"));
    if (!result) result.problem().raise();
    if (context.json()) {
        Poco::JSON::Object o;
        Poco::JSON::Array names;
        for (const auto& n : result.value()) names.add(n);
        o.set("from", from);
        o.set("subscribers", names);
        context.writeJson(o);
    } else {
        for (const auto& n : result.value()) {
            context.out() << n << ": events from #" << from << " will be delivered again by the dispatcher\n";
        }
    }
    return 0;
}

int auditVerifyCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "audit verify", {});
    args.expectPositional(0, 0, "");
    events::EventLog log;
    log.sequenceAll(context.database());
    const auto report = log.verifyChain(context.database());
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("ok", report.ok);
        o.set("verified", report.verified);
        o.set("pending", report.pending);
        o.set("head_seq", report.head_seq);
        o.set("head_hash", report.head_hash);
        if (report.first_bad_seq) o.set("first_bad_seq", *report.first_bad_seq);
        o.set("problem", report.problem);
        context.writeJson(o);
    } else if (report.ok) {
        context.out() << "audit chain ok: " << report.verified << " events verified; head #" << report.head_seq << " "
                      << report.head_hash << "\n";
        if (report.pending > 0) context.out() << report.pending << " event(s) committed meanwhile, not numbered yet\n";
    } else {
        context.out() << "audit chain BROKEN at event #" << *report.first_bad_seq << ": " << report.problem << "\n"
                      << "  " << report.verified << " events before it verified\n";
    }
    if (!report.ok) {
        if (!context.json()) context.err() << "keel: the audit chain does not verify\n";
        return static_cast<int>(ExitCode::kConflict);
    }
    return 0;
}

}  // namespace

void addEventCommands(std::vector<Command>& table) {
    table.push_back({{"events", "list"},
                     "[--after SEQ] [--limit N] [--type PATTERN] [--aggregate TYPE:ID]",
                     "list numbered events in sequence order",
                     "Events are numbered after they commit, in order and without gaps: a consumer that read up to\n"
                     "#N and asks for --after N never misses one. --type takes order.allocated, order.* or *.\n"
                     "With --json, next_after is the --after of the next page.",
                     listCommand});
    table.push_back({{"events", "subscribers"},
                     "",
                     "show each subscriber's delivery position, lag, retries and errors",
                     "Subscribers are configured as events.subscriber.NAME.* (docs/events.md).",
                     subscribersCommand});
    table.push_back({{"events", "dead-letters"},
                     "[--subscriber S] [--limit N]",
                     "list events a subscriber gave up on after its maximum attempts",
                     "`keel events replay --from SEQ --subscriber S` delivers them (and what followed) again.",
                     deadLettersCommand});
    table.push_back({{"events", "dispatch"},
                     "[--once] [--interval-ms N] [--batch N]",
                     "deliver events to the subscribers (keeld does this continuously)",
                     "Runs until interrupted (Ctrl-C, SIGTERM), or with --once until nothing more can be delivered\n"
                     "now. Safe next to keeld and other dispatchers: one process delivers to a subscriber at a time.",
                     dispatchCommand});
    table.push_back({{"events", "replay"},
                     "--from SEQ [--subscriber S]",
                     "deliver events again from SEQ on, to one subscriber or all",
                     "Moves the subscriber's position back and clears its retry state and its dead letters from\n"
                     "SEQ on; the dispatcher then delivers them again, in order. Receivers deduplicate on the\n"
                     "event id (the Idempotency-Key header).",
                     replayCommand});
    table.push_back({{"audit", "verify"},
                     "",
                     "recompute the hash chain of the events and name the first altered or removed one",
                     "Exit code 4 when the chain is broken. The head hash printed on success anchors the chain:\n"
                     "record it elsewhere to detect a rewrite of the whole history.",
                     auditVerifyCommand});
}

}  // namespace keel::cli
