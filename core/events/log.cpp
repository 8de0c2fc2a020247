#include "keel/events/log.h"

#include "keel/kernel/hash.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <sstream>

namespace keel::events {

namespace {

constexpr const char* kColumns = "seq, id, type, aggregate_type, aggregate_id, payload, actor, created_at, hash";

EventRecord readRecord(db::Statement& s) {
    EventRecord e;
    e.seq = s.getOptionalInt64(0).value_or(0);
    e.id = s.getString(1);
    e.type = s.getString(2);
    e.aggregate_type = s.getString(3);
    e.aggregate_id = s.getString(4);
    e.payload = s.getString(5);
    e.actor = s.getString(6);
    e.created_at = s.getInt64(7);
    e.hash = s.getOptionalString(8).value_or("");
    return e;
}

void appendField(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

}  // namespace

std::string EventRecord::toJson() const {
    Poco::JSON::Object object(Poco::JSON_PRESERVE_KEY_ORDER);
    object.set("id", id);
    object.set("seq", static_cast<Poco::Int64>(seq));
    object.set("type", type);
    object.set("aggregate_type", aggregate_type);
    object.set("aggregate_id", aggregate_id);
    object.set("actor", actor);
    object.set("created_at", formatIso8601(created_at));
    try {
        object.set("payload", Poco::JSON::Parser().parse(payload));
    } catch (const Poco::Exception&) {
        object.set("payload", payload);  // written by Keel as JSON; kept verbatim if a row was edited into junk
    }
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

bool typeMatches(const std::vector<std::string>& patterns, std::string_view type) {
    if (patterns.empty()) return true;
    for (const auto& pattern : patterns) {
        if (pattern == "*" || pattern == type) return true;
        if (pattern.size() >= 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0 &&
            type.substr(0, pattern.size() - 1) == std::string_view(pattern).substr(0, pattern.size() - 1)) {
            return true;
        }
    }
    return false;
}

std::string canonicalBytes(const EventRecord& event) {
    std::string out;
    out.reserve(event.payload.size() + 160);
    appendField(out, std::to_string(event.seq));
    appendField(out, event.id);
    appendField(out, event.type);
    appendField(out, event.aggregate_type);
    appendField(out, event.aggregate_id);
    appendField(out, event.actor);
    appendField(out, std::to_string(event.created_at));
    appendField(out, event.payload);
    return out;
}

std::string chainHash(const std::string& previous_hash, const EventRecord& event) {
    return sha256Hex(previous_hash + canonicalBytes(event));
}

std::int64_t EventLog::sequence(db::Database& database, std::size_t batch) {
    return database.run([&](db::UnitOfWork& uow) -> std::int64_t {
        const std::string pending_sql =
            std::string("SELECT ") + kColumns + " FROM event_outbox WHERE seq IS NULL ORDER BY created_at, id LIMIT ?";
        {
            // Nothing to do is the common case (keeld asks every second): find out without taking the turn.
            db::Statement& probe = uow.statement("SELECT id FROM event_outbox WHERE seq IS NULL LIMIT 1");
            probe.execute();
            if (!probe.next()) return 0;
            while (probe.next()) {
            }
        }
        // Take the turn: this row lock orders sequencers, so numbers are given (and committed) one batch at a time.
        uow.statement("UPDATE event_sequence SET updated_at = ? WHERE name = 'global'")
            .bindAll(clock_.nowMicros())
            .execute();
        db::Statement& head = uow.statement("SELECT last_seq, last_hash FROM event_sequence WHERE name = 'global'");
        head.execute();
        if (!head.next()) throw InfrastructureError("event_sequence has no 'global' row: run `keel db migrate`");
        std::int64_t seq = head.getInt64(0);
        std::string hash = head.getString(1);
        while (head.next()) {
        }

        // Read after taking the turn: what another sequencer numbered meanwhile is no longer pending.
        std::vector<EventRecord> events;
        db::Statement& pending = uow.statement(pending_sql);
        pending.bindAll(static_cast<std::int64_t>(batch)).execute();
        while (pending.next()) events.push_back(readRecord(pending));
        if (events.empty()) return 0;

        db::Statement& number = uow.statement("UPDATE event_outbox SET seq = ?, hash = ? WHERE id = ? AND seq IS NULL");
        for (auto& event : events) {
            event.seq = ++seq;
            hash = chainHash(hash, event);
            if (number.bindAll(event.seq, hash, event.id).execute() != 1) {
                throw InfrastructureError("event " + event.id +
                                          " was numbered by someone else while the sequence "
                                          "was held: is something writing event_outbox.seq outside Keel?");
            }
        }
        uow.statement("UPDATE event_sequence SET last_seq = ?, last_hash = ?, updated_at = ? WHERE name = 'global'")
            .bindAll(seq, hash, clock_.nowMicros())
            .execute();
        return static_cast<std::int64_t>(events.size());
    });
}

std::int64_t EventLog::sequenceAll(db::Database& database, std::size_t batch) {
    std::int64_t total = 0;
    for (;;) {
        const std::int64_t n = sequence(database, batch);
        total += n;
        if (n < static_cast<std::int64_t>(batch)) return total;
    }
}

std::vector<EventRecord> EventLog::read(db::UnitOfWork& uow, const EventFilter& filter) {
    std::string sql = std::string("SELECT ") + kColumns + " FROM event_outbox WHERE seq > ?";
    if (!filter.aggregate_type.empty()) sql += " AND aggregate_type = ?";
    if (!filter.aggregate_id.empty()) sql += " AND aggregate_id = ?";
    sql += " ORDER BY seq LIMIT ?";
    std::vector<EventRecord> out;
    std::int64_t after = filter.after;
    // Type patterns are matched here (they are few and may be prefixes), so read pages until the limit is met.
    const std::size_t page = std::max<std::size_t>(filter.limit, 100);
    while (out.size() < filter.limit) {
        db::Statement& s = uow.statement(sql);
        s.bind(after);
        if (!filter.aggregate_type.empty()) s.bind(filter.aggregate_type);
        if (!filter.aggregate_id.empty()) s.bind(filter.aggregate_id);
        s.bind(static_cast<std::int64_t>(page));
        s.execute();
        std::size_t rows = 0;
        while (s.next()) {
            ++rows;
            EventRecord e = readRecord(s);
            after = e.seq;
            if (out.size() < filter.limit && typeMatches(filter.types, e.type)) out.push_back(std::move(e));
        }
        if (rows < page) break;
    }
    return out;
}

std::int64_t EventLog::headSeq(db::UnitOfWork& uow) {
    db::Statement& s = uow.statement("SELECT last_seq FROM event_sequence WHERE name = 'global'");
    s.execute();
    std::int64_t seq = 0;
    while (s.next()) seq = s.getInt64(0);
    return seq;
}

ChainReport EventLog::verifyChain(db::Database& database, std::size_t page) {
    ChainReport report;
    // The head first: events numbered while the verification runs lie beyond it and are left for the next one.
    database.run([&](db::UnitOfWork& uow) {
        db::Statement& head = uow.statement("SELECT last_seq, last_hash FROM event_sequence WHERE name = 'global'");
        head.execute();
        report.head_hash = kGenesisHash;
        while (head.next()) {
            report.head_seq = head.getInt64(0);
            report.head_hash = head.getString(1);
        }
    });
    std::string previous_hash = kGenesisHash;
    std::int64_t previous_seq = 0;
    const std::string sql =
        std::string("SELECT ") + kColumns + " FROM event_outbox WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?";
    auto fail = [&](std::int64_t seq, std::string problem) {
        report.ok = false;
        report.first_bad_seq = seq;
        report.problem = std::move(problem);
    };
    for (bool more = true; more && report.ok;) {
        // Pages are separate short transactions: the chain below the head never changes, so a long verification
        // neither blocks writers nor sees anything half-written.
        more = database.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(sql);
            s.bindAll(previous_seq, report.head_seq, static_cast<std::int64_t>(page)).execute();
            std::size_t rows = 0;
            while (s.next()) {
                ++rows;
                if (!report.ok) continue;
                const EventRecord e = readRecord(s);
                if (e.seq != previous_seq + 1) {
                    fail(previous_seq + 1, "event #" + std::to_string(previous_seq + 1) +
                                               " is missing: the chain goes from #" + std::to_string(previous_seq) +
                                               " to #" + std::to_string(e.seq) + " (a row was deleted or renumbered)");
                    continue;
                }
                const std::string expected = chainHash(previous_hash, e);
                if (expected != e.hash) {
                    fail(e.seq, "event #" + std::to_string(e.seq) + " (id " + e.id + ", " + e.type + " of " +
                                    e.aggregate_type + " " + e.aggregate_id +
                                    ") does not match its hash: its content, or its hash, was changed after it was "
                                    "recorded");
                    continue;
                }
                previous_hash = e.hash;
                previous_seq = e.seq;
                ++report.verified;
            }
            return rows == page;
        });
    }
    if (report.ok && report.head_seq != previous_seq) {
        fail(previous_seq + 1, "event #" + std::to_string(previous_seq + 1) + " is missing: the sequence head is #" +
                                   std::to_string(report.head_seq) + " but the chain ends at #" +
                                   std::to_string(previous_seq) + " (the last events were deleted)");
    } else if (report.ok && report.head_hash != previous_hash) {
        fail(previous_seq, "the sequence head's hash differs from the hash of event #" + std::to_string(previous_seq) +
                               ": the head or the last event was changed");
    }
    database.run([&](db::UnitOfWork& uow) {
        db::Statement& pending = uow.statement("SELECT COUNT(*) FROM event_outbox WHERE seq IS NULL");
        pending.execute();
        while (pending.next()) report.pending = pending.getInt64(0);
    });
    return report;
}

}  // namespace keel::events
