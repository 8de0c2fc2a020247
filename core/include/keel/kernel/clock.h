#pragma once
// The source of "now" for everything in Keel, so tests can freeze and advance time instead of sleeping.

#include <Poco/Timestamp.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace keel {

/// Wall-clock time as UTC epoch microseconds, the one timestamp representation Keel stores on every backend.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::int64_t nowMicros() const = 0;

    /// The process-wide real clock.
    static const Clock& system();
};

/// The real UTC clock.
class SystemClock final : public Clock {
public:
    std::int64_t nowMicros() const override;
};

/// A clock that only moves when told to; thread-safe.
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::int64_t start_micros = 0) : now_(start_micros) {}
    std::int64_t nowMicros() const override { return now_.load(); }
    void set(std::int64_t micros) { now_.store(micros); }
    void advance(std::int64_t micros) { now_.fetch_add(micros); }

private:
    std::atomic<std::int64_t> now_;
};

/// ISO-8601 UTC text with microseconds ("2026-11-26T15:40:28.123456Z") for epoch microseconds.
std::string formatIso8601(std::int64_t epoch_micros);

}  // namespace keel
