#pragma once
// Application-generated identifiers: portable across backends (no RETURNING, no identity columns) and
// known before the insert, so a retried unit of work writes the same ids.

#include "keel/kernel/clock.h"

#include <cstdint>
#include <mutex>
#include <string>

namespace keel {

/// Generates UUID version 7 strings (RFC 9562): 48-bit Unix milliseconds, then randomness. They sort by
/// creation time, which keeps B-tree inserts local on every backend. Ids from one generator are strictly
/// increasing even within one millisecond (a 12-bit counter in rand_a). Thread-safe.
class IdGenerator {
public:
    explicit IdGenerator(const Clock& clock = Clock::system()) : clock_(clock) {}

    /// A new id: 36 lowercase characters, e.g. "01890a5d-ac96-774b-bcce-b302099a8057".
    std::string next();

    /// The process-wide generator on the system clock.
    static IdGenerator& global();

private:
    const Clock& clock_;
    std::mutex mutex_;
    std::int64_t last_millis_ = -1;
    std::uint16_t counter_ = 0;
};

/// True when `text` is a canonical lowercase UUID (any version).
bool isUuid(const std::string& text);

}  // namespace keel
