#pragma once
// Duplicate-interchange detection across files, processes and keeld nodes (docs/edi.md "Duplicate interchanges"):
// the edi::InterchangeRegistry of the EDI library, kept in the database (edi_interchange), so that a partner's
// interchange sent again (same ISA05/06, ISA07/08 and ISA13 within edi.duplicate_window_days) is recognised whichever
// node or command receives it.

#include "keel/db/database.h"
#include "keel/edi/x12_envelope.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::app {

/// Another message registered an interchange between the look-up and the registration (two processes received it
/// at the same moment): the message must be decided again, now as a duplicate.
class InterchangeTaken : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// The interchanges of one inbound message, checked against and then registered in edi_interchange. A look-up
/// (recordAndCheck) reads the table; the registration (record) is written in the unit of work that stores the
/// message's outcome, so a message's interchanges count as received exactly when its outcome is committed. Rows are
/// per message: the same message processed again (keel edi reprocess) is not a duplicate of itself.
class DatabaseInterchangeRegistry final : public edi::InterchangeRegistry {
public:
    /// Who took an interchange in first.
    struct Earlier {
        std::string message_id;    ///< this message's own id when it holds the interchange twice
        std::int64_t seen_at = 0;  ///< microseconds since the epoch
    };

    DatabaseInterchangeRegistry(db::Database& database, std::string message_id, std::string partner,
                                std::chrono::system_clock::duration window, const edi::Clock& clock);

    /// A duplicate when another message took `key` in within the window, or when this message holds it twice:
    /// returns when it was first seen (earlier() says by which message). Otherwise `key` is kept for record().
    std::optional<std::chrono::system_clock::time_point> recordAndCheck(const edi::InterchangeKey& key) override;
    /// The message that had the key of the last duplicate recordAndCheck() found.
    const Earlier& earlier() const { return earlier_; }

    /// Registers the kept keys in `uow`. Throws InterchangeTaken when another message took one of them within the
    /// window since the look-up; a row inserted by another process at the same moment makes the insert fail with a
    /// unique violation (db::DbError) instead. Either way the caller's unit rolls back and the message is decided
    /// again.
    void record(db::UnitOfWork& uow);

private:
    struct Seen {
        std::string message_id;
        std::int64_t seen_at = 0;
    };
    std::optional<Seen> lookUp(db::UnitOfWork& uow, const edi::InterchangeKey& key, bool lock);

    db::Database& database_;
    std::string message_id_;
    std::string partner_;
    std::int64_t window_micros_;
    const edi::Clock& clock_;
    std::map<edi::InterchangeKey, std::int64_t> kept_;  ///< key -> when this message saw it
    Earlier earlier_;
};

/// One interchange of a file: its key and its bytes [begin, end) (from its ISA to the next ISA or the end; the first
/// one from the start of the file).
struct InterchangeSpan {
    edi::InterchangeKey key;
    std::size_t begin = 0;
    std::size_t end = 0;
};

/// The interchanges of `bytes` in order, as far as the file can be read (none when it is not X12).
std::vector<InterchangeSpan> interchangeSpans(const std::string& bytes);

}  // namespace keel::app
