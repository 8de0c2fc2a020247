#pragma once
// Item quantities as exact integers in the item's base unit, checked like Money so stock can never wrap around.

#include "keel/kernel/error.h"

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

namespace keel {

/// A count of an item in its base unit (each, gram, millilitre). Integer so stock never drifts; a larger unit of
/// measure converts through times() (a case of 12), which is checked like every other operation.
class Quantity {
public:
    constexpr Quantity() noexcept = default;
    constexpr explicit Quantity(std::int64_t value) noexcept : value_(value) {}

    constexpr std::int64_t value() const noexcept { return value_; }
    constexpr bool isPositive() const noexcept { return value_ > 0; }
    constexpr bool isZero() const noexcept { return value_ == 0; }
    constexpr bool isNegative() const noexcept { return value_ < 0; }

    std::string toString() const { return std::to_string(value_); }

    Quantity& operator+=(Quantity other) {
        std::int64_t result = 0;
        if (__builtin_add_overflow(value_, other.value_, &result)) overflow(" + ", other.value_);
        value_ = result;
        return *this;
    }
    Quantity& operator-=(Quantity other) {
        std::int64_t result = 0;
        if (__builtin_sub_overflow(value_, other.value_, &result)) overflow(" - ", other.value_);
        value_ = result;
        return *this;
    }
    friend Quantity operator+(Quantity a, Quantity b) { return a += b; }
    friend Quantity operator-(Quantity a, Quantity b) { return a -= b; }

    /// This quantity times a conversion factor, e.g. cases to eaches; throws RejectedError on overflow.
    Quantity times(std::int64_t factor) const {
        std::int64_t result = 0;
        if (__builtin_mul_overflow(value_, factor, &result)) overflow(" x ", factor);
        return Quantity(result);
    }

    friend constexpr bool operator==(Quantity, Quantity) noexcept = default;
    friend constexpr std::strong_ordering operator<=>(Quantity, Quantity) noexcept = default;

private:
    [[noreturn]] void overflow(const char* op, std::int64_t operand) const {
        throw RejectedError("quantity overflow: " + std::to_string(value_) + op + std::to_string(operand));
    }

    std::int64_t value_ = 0;
};

inline std::ostream& operator<<(std::ostream& out, Quantity quantity) { return out << quantity.value(); }

}  // namespace keel
