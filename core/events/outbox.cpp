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

// The unit's events, written with one multi-row INSERT when it commits (db::UnitOfWork::Deferred). One buffer per unit
// whichever Outbox appended: the rows carry their own id and time.
struct PendingEvents final : db::UnitOfWork::Deferred {
    struct Row {
        std::string id, type, aggregate_type, aggregate_id, payload, actor;
        std::int64_t created_at = 0;
    };
    std::vector<Row> rows;

    void flush(db::UnitOfWork& uow) override {
        if (rows.empty()) return;
        db::BatchInsert insert(uow, "event_outbox",
                               {"id", "type", "aggregate_type", "aggregate_id", "payload", "actor", "created_at"}, 64);
        for (const Row& r : rows)
            insert.add(r.id, r.type, r.aggregate_type, r.aggregate_id, r.payload, r.actor, r.created_at);
        insert.flush();
        rows.clear();
    }
};

const char kPendingEvents = 0;  // the buffer's key in a unit of work

}  // namespace

std::string Outbox::append(db::UnitOfWork& uow, const Event& event) {
    std::string id = ids_.next();
    uow.deferred<PendingEvents>(&kPendingEvents)
        .rows.push_back({id, event.type, event.aggregate_type, event.aggregate_id, event.payload,
                         event.actor.substr(0, 64), clock_.nowMicros()});
    return id;
}

void Outbox::appendMany(db::UnitOfWork& uow, const std::vector<Event>& events) {
    auto& pending = uow.deferred<PendingEvents>(&kPendingEvents);
    const std::int64_t now = clock_.nowMicros();
    for (const auto& event : events) {
        pending.rows.push_back({ids_.next(), event.type, event.aggregate_type, event.aggregate_id, event.payload,
                                event.actor.substr(0, 64), now});
    }
}

}  // namespace keel::events
