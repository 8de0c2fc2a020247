#include "keel/events/outbox.h"

namespace keel::events {

std::string Outbox::append(db::UnitOfWork& uow, const Event& event) {
    const std::string id = ids_.next();
    uow.statement("INSERT INTO event_outbox (id, type, aggregate_type, aggregate_id, payload, actor, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bindAll(id, event.type, event.aggregate_type, event.aggregate_id, event.payload,
                 event.actor.substr(0, 64), clock_.nowMicros())
        .execute();
    return id;
}

}  // namespace keel::events
