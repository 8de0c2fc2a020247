#pragma once
// The event log: the global sequence and the tamper-evident audit chain over the outbox.
//
// Writers append events without a number (Outbox::append). The sequencer numbers committed events afterwards,
// one sequencer at a time (it locks the event_sequence row), in (created_at, id) order, and chains them:
//   hash(n) = SHA-256(hash(n-1) || canonical bytes of event n)
// so numbers become visible in order and without gaps, whatever order writers committed in: a reader that saw
// number N has seen every number below it. verifyChain() recomputes the chain and names the first event that
// was altered, removed or inserted.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keel::events {

/// A numbered event as read back from the outbox.
struct EventRecord {
    std::int64_t seq = 0;
    std::string id;
    std::string type;
    std::string aggregate_type;
    std::string aggregate_id;
    std::string payload;  ///< a JSON object
    std::string actor;
    std::int64_t created_at = 0;  ///< microseconds since the epoch, UTC
    std::string hash;

    /// The event as JSON, the body of a webhook and the input of a subscriber plugin: {"id","seq","type",
    /// "aggregate_type","aggregate_id","actor","created_at" (ISO-8601 UTC),"payload":{...}}.
    std::string toJson() const;
};

/// Which events to read.
struct EventFilter {
    std::int64_t after = 0;  ///< only seq > after
    std::size_t limit = 100;
    std::vector<std::string> types;  ///< patterns "order.allocated", "order.*" or "*"; empty: every type
    std::string aggregate_type;      ///< empty: any
    std::string aggregate_id;        ///< empty: any
};

/// True when `type` matches one of `patterns` (exact, or "prefix.*", or "*"); an empty list matches everything.
bool typeMatches(const std::vector<std::string>& patterns, std::string_view type);

/// The canonical bytes the chain hashes: every field as <decimal length>:<bytes>, in a fixed order, so no two
/// different events have the same bytes.
std::string canonicalBytes(const EventRecord& event);
/// SHA-256 over the previous hash (hex) and the event's canonical bytes, as hex.
std::string chainHash(const std::string& previous_hash, const EventRecord& event);

inline constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

/// Outcome of verifyChain().
struct ChainReport {
    bool ok = true;
    std::int64_t verified = 0;  ///< numbered events checked
    std::int64_t pending = 0;   ///< committed events not numbered yet (not part of the chain yet)
    std::string head_hash;      ///< hash of the last event: record it elsewhere to anchor the chain
    std::int64_t head_seq = 0;
    std::optional<std::int64_t> first_bad_seq;  ///< the first event that does not verify
    std::string problem;                        ///< what is wrong there, for an operator
};

class EventLog {
public:
    explicit EventLog(const Clock& clock = Clock::system()) : clock_(clock) {}

    /// Numbers up to `batch` committed, unnumbered events in one transaction; returns how many. Safe to call
    /// from several processes at once (they take turns on the event_sequence row).
    std::int64_t sequence(db::Database& database, std::size_t batch = 500);
    /// sequence() until nothing is left; returns the total.
    std::int64_t sequenceAll(db::Database& database, std::size_t batch = 500);

    /// Numbered events matching `filter`, in sequence order.
    std::vector<EventRecord> read(db::UnitOfWork& uow, const EventFilter& filter);
    /// The highest number given so far (0 before the first event).
    std::int64_t headSeq(db::UnitOfWork& uow);

    /// Recomputes the whole chain in pages of `page` events.
    ChainReport verifyChain(db::Database& database, std::size_t page = 2000);

private:
    const Clock& clock_;
};

}  // namespace keel::events
