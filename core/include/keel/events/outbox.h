#pragma once
// The transactional outbox: an event is written in the same unit of work as the change it describes, so an
// event exists exactly when its change committed. Delivery to subscribers, the global sequence and the audit
// chain build on these rows (the event issue).

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/id.h"

#include <string>

namespace keel::events {

struct Event {
    std::string type;            ///< "order.allocated", "shipment.shipped", ...
    std::string aggregate_type;  ///< "order", "shipment", "return", ...
    std::string aggregate_id;
    std::string payload;         ///< a JSON object
    std::string actor;
};

class Outbox {
public:
    explicit Outbox(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}
    /// Writes the event inside `uow`; returns its id (time-ordered).
    std::string append(db::UnitOfWork& uow, const Event& event);

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::events
