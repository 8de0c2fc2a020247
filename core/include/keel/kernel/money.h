#pragma once
// Exact money: ISO-4217 currencies, named rounding modes, scaled decimals for prices and rates, and Money as
// integer minor units. Only integers are used (never binary fractions), so every amount and rounding is exact.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace keel {

/// Signed 128-bit integer for intermediate products: int64 x int64 always fits, so nothing overflows before the
/// final, checked narrowing. `__extension__` because the type is a GCC/Clang extension Keel relies on on purpose.
__extension__ typedef __int128 Int128;

/// An ISO-4217 currency: three-letter code and minor-unit exponent (USD 2, JPY 0, KWD 3, CLF 4). Only obtainable
/// from the built-in table, so a Currency value is always a real currency with the right exponent.
class Currency {
public:
    /// The currency with this code (exact, uppercase); throws RejectedError for any other string.
    static const Currency& of(std::string_view code);
    static std::optional<Currency> find(std::string_view code);
    /// Every built-in currency, sorted by code.
    static std::span<const Currency> all();

    constexpr std::string_view code() const noexcept { return {code_.data(), code_.size()}; }
    /// 10^exponent minor units make one major unit.
    constexpr int exponent() const noexcept { return exponent_; }

    friend bool operator==(const Currency&, const Currency&) = default;

private:
    constexpr Currency(const char (&code)[4], int exponent) : code_{code[0], code[1], code[2]}, exponent_(exponent) {}

    std::array<char, 3> code_;
    int exponent_;
};

std::ostream& operator<<(std::ostream& out, const Currency& currency);

/// How an inexact quotient becomes an integer. Keel never rounds implicitly: every call site names one of these.
enum class RoundingMode {
    kHalfEven,  ///< nearest; a tie goes to the even neighbour (banker's rounding)
    kHalfUp,    ///< nearest; a tie goes away from zero (commercial rounding)
    kHalfDown,  ///< nearest; a tie goes toward zero
    kUp,        ///< away from zero
    kDown,      ///< toward zero (truncation)
    kCeiling,   ///< toward +infinity
    kFloor,     ///< toward -infinity
};

/// Stable lowercase name for configuration files and logs: "half_even", "half_up", ..., "floor".
std::string_view roundingModeName(RoundingMode mode);
/// The mode named by roundingModeName(), or nullopt.
std::optional<RoundingMode> roundingModeFromName(std::string_view name);
std::ostream& operator<<(std::ostream& out, RoundingMode mode);

/// numerator / denominator rounded with `mode`, exact for every combination of signs. Throws RejectedError when
/// the denominator is zero or the rounded quotient does not fit in int64.
std::int64_t divideRounded(Int128 numerator, Int128 denominator, RoundingMode mode);

/// amount x part / whole rounded with `mode`, the product formed exactly: the share of an amount that goes with
/// part of a quantity (the cost of 4 of 15 units, the discount of 2 of 3 units). Throws as divideRounded().
inline std::int64_t proportionalShare(std::int64_t amount, std::int64_t part, std::int64_t whole, RoundingMode mode) {
    return divideRounded(static_cast<Int128>(amount) * part, whole, mode);
}

/// An exact scaled decimal, mantissa x 10^-scale with scale 0..18, for unit prices, tax rates and FX rates. The
/// scale is kept as written ("19.990" stays three places), but equality and ordering compare values (1.50 == 1.5).
class Decimal {
public:
    static constexpr int kMaxScale = 18;

    constexpr Decimal() = default;
    /// mantissa x 10^-scale; throws RejectedError when scale is outside 0..kMaxScale.
    explicit Decimal(std::int64_t mantissa, int scale = 0);

    /// Strict parse of [+|-]digits[.digits]: at least one digit on each side of a decimal point (".5" and "5."
    /// are rejected), at most 18 fractional digits, no exponent, no whitespace, no thousands separators. The scale
    /// is the number of fractional digits written. Throws RejectedError quoting the input and saying why.
    static Decimal parse(std::string_view text);

    constexpr std::int64_t mantissa() const noexcept { return mantissa_; }
    constexpr int scale() const noexcept { return scale_; }
    constexpr bool isZero() const noexcept { return mantissa_ == 0; }
    constexpr bool isNegative() const noexcept { return mantissa_ < 0; }

    /// Plain notation with exactly scale() fractional digits: "19.990", "-0.075", "12".
    std::string toString() const;

    /// The same value at `newScale` digits, rounding with `mode` when digits are dropped. Throws RejectedError
    /// when newScale is out of range or the widened mantissa overflows.
    Decimal rescale(int newScale, RoundingMode mode) const;

    friend bool operator==(const Decimal& a, const Decimal& b) noexcept;
    friend std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept;

private:
    std::int64_t mantissa_ = 0;
    int scale_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Decimal& value);

/// An exact amount of one currency as integer minor units (cents, yen, fils). Every operation is checked: overflow
/// and mixing currencies throw RejectedError rather than produce a wrong amount.
class Money {
public:
    Money(std::int64_t minor, const Currency& currency) noexcept : minor_(minor), currency_(currency) {}
    static Money zero(const Currency& currency) noexcept { return Money(0, currency); }

    /// Exact parse of [+|-]digits[.digits] in major units ("19.99" USD -> 1999 minor). Fractional digits beyond
    /// the currency's exponent must be zeros ("19.990" is fine, "19.995" is rejected); use the overload with a
    /// RoundingMode to round instead. Throws RejectedError on bad syntax or overflow.
    static Money parse(std::string_view amount, const Currency& currency);
    /// As parse(amount, currency), but surplus fractional digits (any number of them) are rounded with `mode`.
    static Money parse(std::string_view amount, const Currency& currency, RoundingMode mode);

    constexpr std::int64_t minor() const noexcept { return minor_; }
    constexpr const Currency& currency() const noexcept { return currency_; }
    constexpr bool isZero() const noexcept { return minor_ == 0; }
    constexpr bool isNegative() const noexcept { return minor_ < 0; }
    constexpr bool isPositive() const noexcept { return minor_ > 0; }

    /// Major units with exactly exponent() fractional digits and no currency code: "19.99", "-0.01", "1000" (JPY).
    std::string toString() const;

    Money operator-() const;
    Money& operator+=(const Money& other);
    Money& operator-=(const Money& other);
    friend Money operator+(Money a, const Money& b) { return a += b; }
    friend Money operator-(Money a, const Money& b) { return a -= b; }

    /// This amount times an integer count (e.g. a line quantity), checked.
    Money times(std::int64_t quantity) const;
    /// This amount times an exact rate (tax 0.0825, discount 0.15), rounded to minor units with `mode`. The
    /// product is formed exactly in 128 bits, so the only rounding is the one named here.
    Money times(const Decimal& rate, RoundingMode mode) const;
    /// This amount in `target` at `rate` target units per unit of this currency, rounded with `mode`. Accounts
    /// for differing exponents (1000 JPY at 0.0067 USD/JPY -> 6.70 USD).
    Money convert(const Currency& target, const Decimal& rate, RoundingMode mode) const;

    /// Splits this amount in proportion to non-negative weights by the largest-remainder method: the parts sum to
    /// exactly this amount, each part is within one minor unit of its exact share, and the leftover units go to
    /// the largest remainders (ties: lowest index). A negative amount is split as the mirror of its magnitude.
    /// Throws RejectedError for no weights, a negative weight or all weights zero.
    std::vector<Money> allocate(std::span<const std::int64_t> weights) const;
    /// allocate() with `parts` equal weights: earlier parts get the leftover units. Throws RejectedError for 0.
    std::vector<Money> allocateEvenly(std::size_t parts) const;

    /// Equal when both currency and amount are equal; amounts in different currencies are simply unequal.
    friend bool operator==(const Money& a, const Money& b) noexcept;
    /// Ordering only exists within one currency: throws RejectedError ("currency mismatch: USD vs EUR") otherwise.
    friend std::strong_ordering operator<=>(const Money& a, const Money& b);

private:
    void requireSameCurrency(const Money& other) const;

    std::int64_t minor_;
    Currency currency_;
};

/// "19.99 USD": amount and code, for logs and test diagnostics.
std::ostream& operator<<(std::ostream& out, const Money& money);

}  // namespace keel
