#include "keel/events/outbox.h"

#include "keel/db/batch_insert.h"

#include <Poco/UTF8String.h>

namespace keel::events {

void Payload::key(std::string_view name) {
    if (body_.size() > 1) body_ += ',';
    body_ += '"';
    body_ += Poco::UTF8::escape(std::string(name), true);
    body_ += "\":";
}

Payload& Payload::add(std::string_view name, std::string_view value) {
    key(name);
    body_ += '"';
    body_ += Poco::UTF8::escape(std::string(value), true);
    body_ += '"';
    return *this;
}

Payload& Payload::add(std::string_view name, std::int64_t value) {
    key(name);
    body_ += std::to_string(value);
    return *this;
}

Payload& Payload::add(std::string_view name, bool value) {
    key(name);
    body_ += value ? "true" : "false";
    return *this;
}

Payload& Payload::addRaw(std::string_view name, std::string_view json) {
    key(name);
    body_ += json;
    return *this;
}

namespace {

const char kPendingEvents = 0;  // the buffer's key in a unit of work

// The unit's events, written with one multi-row INSERT when it commits (db::DeferredInsert). One buffer per unit
// whichever Outbox appended: the rows carry their own id and time.
db::DeferredInsert& pendingEvents(db::UnitOfWork& uow) {
    return db::DeferredInsert::in(uow, &kPendingEvents, "event_outbox",
                                  {"id", "type", "aggregate_type", "aggregate_id", "payload", "actor", "created_at"});
}

}  // namespace

std::string Outbox::append(db::UnitOfWork& uow, const Event& event) {
    std::string id = ids_.next();
    pendingEvents(uow).add(id, event.type, event.aggregate_type, event.aggregate_id, event.payload,
                           event.actor.substr(0, 64), clock_.nowMicros());
    return id;
}

void Outbox::appendMany(db::UnitOfWork& uow, const std::vector<Event>& events) {
    auto& pending = pendingEvents(uow);
    const std::int64_t now = clock_.nowMicros();
    for (const auto& event : events) {
        pending.add(ids_.next(), event.type, event.aggregate_type, event.aggregate_id, event.payload,
                    event.actor.substr(0, 64), now);
    }
}

}  // namespace keel::events
