#pragma once
// The transactional outbox: an event is written in the same unit of work as the change it describes, so an
// event exists exactly when its change committed. The event log (log.h) numbers and chains these rows after they
// commit, and the dispatcher (dispatcher.h) delivers them (docs/events.md).

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/id.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace keel::events {

struct Event {
    std::string type;            ///< "order.allocated", "shipment.shipped", ...
    std::string aggregate_type;  ///< "order", "shipment", "return", ...
    std::string aggregate_id;
    std::string payload;         ///< a JSON object
    std::string actor;
};

/// Builds the JSON object of an event's payload: {"key": value, ...} in the order added, strings escaped.
class Payload {
public:
    Payload& add(std::string_view key, std::string_view value);
    Payload& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
    Payload& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
    Payload& add(std::string_view key, std::int64_t value);
    Payload& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
    Payload& add(std::string_view key, bool value);
    /// `json` must already be valid JSON (a nested object or array).
    Payload& addRaw(std::string_view key, std::string_view json);
    std::string str() const { return body_ + "}"; }

private:
    void key(std::string_view name);
    std::string body_ = "{";
};

class Outbox {
public:
    explicit Outbox(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}
    /// Writes the event inside `uow`; returns its id (time-ordered). The row is buffered and written, with the unit's
    /// other events in multi-row INSERTs, just before the unit commits (db::UnitOfWork::deferred): same transaction,
    /// but a query in the same unit does not see it yet.
    std::string append(db::UnitOfWork& uow, const Event& event);
    /// Appends many events inside `uow` (bulk imports), the same way.
    void appendMany(db::UnitOfWork& uow, const std::vector<Event>& events);

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::events
