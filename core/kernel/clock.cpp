#include "keel/kernel/clock.h"

#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>

namespace keel {

const Clock& Clock::system() {
    static const SystemClock clock;
    return clock;
}

std::int64_t SystemClock::nowMicros() const { return Poco::Timestamp().epochMicroseconds(); }

std::string formatIso8601(std::int64_t epoch_micros) {
    return Poco::DateTimeFormatter::format(Poco::Timestamp(epoch_micros), "%Y-%m-%dT%H:%M:%S.%FZ");
}

}  // namespace keel
