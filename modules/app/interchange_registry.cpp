#include "keel/app/interchange_registry.h"

#include "keel/edi/x12_reader.h"

#include <sstream>

namespace keel::app {

namespace {

std::int64_t micros(std::chrono::system_clock::time_point at) {
    return std::chrono::duration_cast<std::chrono::microseconds>(at.time_since_epoch()).count();
}

std::string trimRight(std::string_view text) {
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return std::string(text);
}

}  // namespace

DatabaseInterchangeRegistry::DatabaseInterchangeRegistry(db::Database& database, std::string message_id,
                                                         std::string partner,
                                                         std::chrono::system_clock::duration window,
                                                         const edi::Clock& clock)
    : database_(database),
      message_id_(std::move(message_id)),
      partner_(std::move(partner)),
      window_micros_(std::chrono::duration_cast<std::chrono::microseconds>(window).count()),
      clock_(clock) {}

std::optional<DatabaseInterchangeRegistry::Seen> DatabaseInterchangeRegistry::lookUp(db::UnitOfWork& uow,
                                                                                     const edi::InterchangeKey& key,
                                                                                     bool lock) {
    db::Statement& s = uow.statement(
        "SELECT message_id, seen_at FROM edi_interchange WHERE sender_qualifier = ? AND sender_id = ? AND "
        "receiver_qualifier = ? AND receiver_id = ? AND control_number = ?" +
        std::string(lock ? uow.dialect().forUpdate() : ""));
    s.bindAll(key.sender_qualifier, key.sender_id, key.receiver_qualifier, key.receiver_id, key.control_number)
        .execute();
    std::optional<Seen> seen;
    while (s.next()) seen = Seen{s.getString(0), s.getInt64(1)};
    return seen;
}

std::optional<std::chrono::system_clock::time_point> DatabaseInterchangeRegistry::recordAndCheck(
    const edi::InterchangeKey& key) {
    const auto now = clock_.now();
    if (const auto twice = kept_.find(key); twice != kept_.end()) {
        earlier_ = {message_id_, twice->second};
        return std::chrono::system_clock::time_point(std::chrono::microseconds(twice->second));
    }
    const std::optional<Seen> seen = database_.run([&](db::UnitOfWork& uow) { return lookUp(uow, key, false); });
    if (seen && seen->message_id != message_id_ && seen->seen_at >= micros(now) - window_micros_) {
        earlier_ = {seen->message_id, seen->seen_at};
        return std::chrono::system_clock::time_point(std::chrono::microseconds(seen->seen_at));
    }
    kept_.emplace(key, micros(now));
    return std::nullopt;
}

void DatabaseInterchangeRegistry::record(db::UnitOfWork& uow) {
    const std::int64_t now = micros(clock_.now());
    for (const auto& [key, seen_at] : kept_) {
        const std::optional<Seen> seen = lookUp(uow, key, true);
        if (!seen) {
            uow.statement(
                   "INSERT INTO edi_interchange (sender_qualifier, sender_id, receiver_qualifier, receiver_id, "
                   "control_number, partner, message_id, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                .bindAll(key.sender_qualifier, key.sender_id, key.receiver_qualifier, key.receiver_id,
                         key.control_number, partner_, message_id_, seen_at)
                .execute();
            continue;
        }
        if (seen->message_id == message_id_) continue;  // processed again: it is this message's already
        const std::string what = "interchange " + key.control_number + " from " + key.sender_qualifier + "/" +
                                 key.sender_id + " to " + key.receiver_qualifier + "/" + key.receiver_id;
        if (seen->seen_at >= now - window_micros_) {
            throw InterchangeTaken(what + " was registered by message " + seen->message_id + " meanwhile");
        }
        // Seen last before the window: the partner's control numbers came round again, so the key is this message's.
        // The guard on the old row makes a second taker at the same moment change nothing.
        const std::size_t changed =
            uow.statement(
                   "UPDATE edi_interchange SET partner = ?, message_id = ?, seen_at = ? WHERE sender_qualifier = ? "
                   "AND sender_id = ? AND receiver_qualifier = ? AND receiver_id = ? AND control_number = ? AND "
                   "message_id = ? AND seen_at = ?")
                .bindAll(partner_, message_id_, seen_at, key.sender_qualifier, key.sender_id, key.receiver_qualifier,
                         key.receiver_id, key.control_number, seen->message_id, seen->seen_at)
                .execute();
        if (changed == 0) throw InterchangeTaken(what + " was taken over by another message meanwhile");
    }
}

std::vector<InterchangeSpan> interchangeSpans(const std::string& bytes) {
    std::vector<InterchangeSpan> spans;
    std::istringstream in(bytes);
    edi::X12Reader reader(in);
    while (reader.next() == edi::X12Reader::Status::Segment) {
        const edi::Segment& s = reader.segment();
        if (s.id() != "ISA") continue;
        const auto at = static_cast<std::size_t>(s.offset());
        if (!spans.empty()) spans.back().end = at;
        InterchangeSpan span;
        span.key = {std::string(s.element(5)), trimRight(s.element(6)), std::string(s.element(7)),
                    trimRight(s.element(8)), std::string(s.element(13))};
        span.begin = spans.empty() ? 0 : at;
        span.end = bytes.size();
        spans.push_back(std::move(span));
    }
    return spans;
}

}  // namespace keel::app
