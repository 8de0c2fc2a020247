#include "keel/kernel/money.h"

#include "keel/kernel/error.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <ostream>
#include <utility>

namespace keel {

namespace {

__extension__ typedef unsigned __int128 UInt128;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// |INT64_MIN|: the largest magnitude a negative int64 can carry.
constexpr UInt128 kNegativeLimit = static_cast<UInt128>(kInt64Max) + 1;

// Unsigned magnitude, well defined even for the most negative value.
UInt128 magnitude(Int128 value) {
    return value < 0 ? UInt128{0} - static_cast<UInt128>(value) : static_cast<UInt128>(value);
}

Int128 pow10(int exponent) {
    Int128 result = 1;
    for (int i = 0; i < exponent; ++i) result *= 10;
    return result;
}

std::string magnitudeDigits(UInt128 value) {
    std::string digits;
    do {
        digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
        value /= 10;
    } while (value != 0);
    std::reverse(digits.begin(), digits.end());
    return digits;
}

std::string int128ToString(Int128 value) {
    return (value < 0 ? "-" : "") + magnitudeDigits(magnitude(value));
}

// value x 10^-scale in plain notation with exactly `scale` fractional digits.
std::string formatScaled(Int128 value, int scale) {
    std::string digits = magnitudeDigits(magnitude(value));
    const auto width = static_cast<std::size_t>(scale) + 1;
    if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
    if (scale > 0) digits.insert(digits.size() - static_cast<std::size_t>(scale), 1, '.');
    return (value < 0 ? "-" : "") + digits;
}

// Whether a truncated (toward zero) inexact result must move one unit away from zero. `half` compares the
// discarded part with half a unit: negative below, zero exactly half, positive above.
bool roundsAwayFromZero(RoundingMode mode, bool negative, int half, bool truncatedIsOdd) {
    switch (mode) {
        case RoundingMode::kUp: return true;
        case RoundingMode::kDown: return false;
        case RoundingMode::kCeiling: return !negative;
        case RoundingMode::kFloor: return negative;
        case RoundingMode::kHalfUp: return half >= 0;
        case RoundingMode::kHalfDown: return half > 0;
        case RoundingMode::kHalfEven: return half > 0 || (half == 0 && truncatedIsOdd);
    }
    return false;
}

// A signed magnitude narrowed to int64, or nullopt when it does not fit.
std::optional<std::int64_t> toInt64(bool negative, UInt128 value) {
    if (negative ? value > kNegativeLimit : value > static_cast<UInt128>(kInt64Max)) return std::nullopt;
    const auto signed_value = static_cast<Int128>(value);
    return static_cast<std::int64_t>(negative ? -signed_value : signed_value);
}

// divideRounded() without the messages, so each caller can say in its own terms what overflowed.
// Works on magnitudes so that neither operand's sign nor INT128_MIN needs special cases.
std::optional<std::int64_t> tryDivideRounded(Int128 numerator, Int128 denominator, RoundingMode mode) {
    const bool negative = (numerator < 0) != (denominator < 0);
    const UInt128 n = magnitude(numerator);
    const UInt128 d = magnitude(denominator);
    UInt128 quotient = n / d;
    const UInt128 remainder = n % d;
    if (remainder != 0) {
        const UInt128 rest = d - remainder;  // compared instead of 2 * remainder, which could overflow
        const int half = remainder < rest ? -1 : (remainder == rest ? 0 : 1);
        if (roundsAwayFromZero(mode, negative, half, quotient % 2 == 1)) ++quotient;
    }
    return toInt64(negative && quotient != 0, quotient);
}

bool allZeros(std::string_view digits) {
    return std::all_of(digits.begin(), digits.end(), [](char c) { return c == '0'; });
}

// Appends decimal digits to a magnitude; false once it exceeds `limit`, which keeps the accumulator bounded.
bool appendDigits(UInt128& value, std::string_view digits, UInt128 limit) {
    for (const char c : digits) {
        value = value * 10 + static_cast<UInt128>(c - '0');
        if (value > limit) return false;
    }
    return true;
}

// The pieces of a syntactically valid [+|-]digits[.digits].
struct DecimalText {
    bool negative = false;
    std::string_view integer;   ///< at least one digit
    std::string_view fraction;  ///< possibly empty
};

std::string describeCharacter(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == ' ') return "space";
    if (byte >= 0x21 && byte <= 0x7e) return std::string("character '") + c + "'";
    static constexpr char kHex[] = "0123456789abcdef";
    return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Splits `text` into sign, integer and fraction digits; on bad syntax returns nullopt and sets `why`.
std::optional<DecimalText> splitDecimal(std::string_view text, std::string& why) {
    if (text.empty()) {
        why = "it is empty";
        return std::nullopt;
    }
    DecimalText parts;
    std::size_t pos = 0;
    if (text[0] == '+' || text[0] == '-') {
        parts.negative = text[0] == '-';
        ++pos;
    }
    const std::size_t integer_start = pos;
    while (pos < text.size() && isDigit(text[pos])) ++pos;
    parts.integer = text.substr(integer_start, pos - integer_start);
    if (pos < text.size() && text[pos] == '.') {
        if (parts.integer.empty()) {
            why = "it needs a digit before the decimal point (write 0.5, not .5)";
            return std::nullopt;
        }
        const std::size_t fraction_start = ++pos;
        while (pos < text.size() && isDigit(text[pos])) ++pos;
        parts.fraction = text.substr(fraction_start, pos - fraction_start);
        if (parts.fraction.empty() && pos == text.size()) {
            why = "it needs a digit after the decimal point (write 5 or 5.0, not 5.)";
            return std::nullopt;
        }
    }
    if (pos < text.size()) {
        why = "unexpected " + describeCharacter(text[pos]) + " at position " + std::to_string(pos + 1) +
              "; expected [+|-]digits[.digits] without spaces, separators or exponent";
        return std::nullopt;
    }
    if (parts.integer.empty()) {
        why = "it has no digits";
        return std::nullopt;
    }
    return parts;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Currency

std::span<const Currency> Currency::all() {
    // ISO 4217 list one: every code with a minor unit. Codes without one (precious metals XAU XAG XPT XPD, SDR XDR,
    // XSU, XUA, bond units XBA-XBD, XTS, XXX) cannot carry a price and are left out. Codes being phased out by their
    // successor (ANG/XCG, SLL/SLE, ZWL/ZWG, CUC) stay so documents issued in them still parse.
    static constexpr Currency kTable[] = {
        {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2}, {"AWG", 2},
        {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
        {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2}, {"BYN", 2}, {"BZD", 2}, {"CAD", 2},
        {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2},
        {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2},
        {"EGP", 2}, {"ERN", 2}, {"ETB", 2}, {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
        {"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2},
        {"IDR", 2}, {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
        {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2}, {"KZT", 2},
        {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
        {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2}, {"MVR", 2}, {"MWK", 2}, {"MXN", 2},
        {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
        {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2},
        {"RON", 2}, {"RSD", 2}, {"RUB", 2}, {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
        {"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2},
        {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
        {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2}, {"UYW", 4},
        {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2},
        {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2}, {"ZWL", 2},
    };
    // of() binary-searches the table.
    static_assert(std::ranges::adjacent_find(kTable, std::ranges::greater_equal{}, &Currency::code) ==
                  std::ranges::end(kTable));
    return kTable;
}

std::optional<Currency> Currency::find(std::string_view code) {
    const auto table = all();
    const auto it = std::ranges::lower_bound(table, code, std::ranges::less{}, &Currency::code);
    if (it == table.end() || it->code() != code) return std::nullopt;
    return *it;
}

const Currency& Currency::of(std::string_view code) {
    const auto table = all();
    const auto it = std::ranges::lower_bound(table, code, std::ranges::less{}, &Currency::code);
    if (it == table.end() || it->code() != code) {
        throw RejectedError("unknown currency code " + quoted(code) + " (ISO 4217)");
    }
    return *it;
}

std::ostream& operator<<(std::ostream& out, const Currency& currency) { return out << currency.code(); }

// ---------------------------------------------------------------------------------------------------------------
// Rounding

namespace {

constexpr std::pair<RoundingMode, std::string_view> kRoundingModeNames[] = {
    {RoundingMode::kHalfEven, "half_even"}, {RoundingMode::kHalfUp, "half_up"}, {RoundingMode::kHalfDown, "half_down"},
    {RoundingMode::kUp, "up"},              {RoundingMode::kDown, "down"},      {RoundingMode::kCeiling, "ceiling"},
    {RoundingMode::kFloor, "floor"},
};

}  // namespace

std::string_view roundingModeName(RoundingMode mode) {
    for (const auto& [candidate, name] : kRoundingModeNames) {
        if (candidate == mode) return name;
    }
    return "unknown";
}

std::optional<RoundingMode> roundingModeFromName(std::string_view name) {
    for (const auto& [mode, candidate] : kRoundingModeNames) {
        if (candidate == name) return mode;
    }
    return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, RoundingMode mode) { return out << roundingModeName(mode); }

std::int64_t divideRounded(Int128 numerator, Int128 denominator, RoundingMode mode) {
    if (denominator == 0) {
        throw RejectedError("division by zero: " + int128ToString(numerator) + " / 0");
    }
    const auto result = tryDivideRounded(numerator, denominator, mode);
    if (!result) {
        throw RejectedError("arithmetic overflow: " + int128ToString(numerator) + " / " +
                            int128ToString(denominator) + " rounded " + std::string(roundingModeName(mode)) +
                            " does not fit in 64 bits");
    }
    return *result;
}

// ---------------------------------------------------------------------------------------------------------------
// Decimal

Decimal::Decimal(std::int64_t mantissa, int scale) : mantissa_(mantissa), scale_(scale) {
    if (scale < 0 || scale > kMaxScale) {
        throw RejectedError("decimal scale " + std::to_string(scale) + " is outside 0.." +
                            std::to_string(kMaxScale));
    }
}

Decimal Decimal::parse(std::string_view text) {
    std::string why;
    const auto parts = splitDecimal(text, why);
    if (!parts) throw RejectedError("invalid decimal " + quoted(text) + ": " + why);
    if (parts->fraction.size() > static_cast<std::size_t>(kMaxScale)) {
        throw RejectedError("invalid decimal " + quoted(text) + ": it has " + std::to_string(parts->fraction.size()) +
                            " fractional digits, at most " + std::to_string(kMaxScale) + " are allowed");
    }
    const UInt128 limit = parts->negative ? kNegativeLimit : static_cast<UInt128>(kInt64Max);
    UInt128 value = 0;
    if (!appendDigits(value, parts->integer, limit) || !appendDigits(value, parts->fraction, limit)) {
        throw RejectedError("invalid decimal " + quoted(text) +
                            ": out of range (its digits must fit in a 64-bit mantissa, about 18 significant digits)");
    }
    return Decimal(*toInt64(parts->negative, value), static_cast<int>(parts->fraction.size()));
}

std::string Decimal::toString() const { return formatScaled(mantissa_, scale_); }

Decimal Decimal::rescale(int newScale, RoundingMode mode) const {
    if (newScale < 0 || newScale > kMaxScale) {
        throw RejectedError("cannot rescale " + toString() + " to " + std::to_string(newScale) +
                            " digits: the scale must be within 0.." + std::to_string(kMaxScale));
    }
    if (newScale >= scale_) {
        const Int128 widened = static_cast<Int128>(mantissa_) * pow10(newScale - scale_);
        const auto narrowed = toInt64(widened < 0, magnitude(widened));
        if (!narrowed) {
            throw RejectedError("cannot rescale " + toString() + " to " + std::to_string(newScale) +
                                " digits: the mantissa would overflow 64 bits");
        }
        return Decimal(*narrowed, newScale);
    }
    // Dropping digits always shrinks the magnitude, so this cannot overflow.
    return Decimal(*tryDivideRounded(mantissa_, pow10(scale_ - newScale), mode), newScale);
}

namespace {

// Both values at the larger scale; exact in 128 bits (at most 2^63 x 10^18).
std::pair<Int128, Int128> commonScale(const Decimal& a, const Decimal& b) {
    const int scale = std::max(a.scale(), b.scale());
    return {static_cast<Int128>(a.mantissa()) * pow10(scale - a.scale()),
            static_cast<Int128>(b.mantissa()) * pow10(scale - b.scale())};
}

}  // namespace

bool operator==(const Decimal& a, const Decimal& b) noexcept {
    const auto [x, y] = commonScale(a, b);
    return x == y;
}

std::strong_ordering operator<=>(const Decimal& a, const Decimal& b) noexcept {
    const auto [x, y] = commonScale(a, b);
    return x <=> y;
}

std::ostream& operator<<(std::ostream& out, const Decimal& value) { return out << value.toString(); }

// ---------------------------------------------------------------------------------------------------------------
// Money

Money Money::parse(std::string_view amount, const Currency& currency) {
    std::string why;
    const auto parts = splitDecimal(amount, why);
    if (!parts) {
        throw RejectedError("invalid amount " + quoted(amount) + " for " + std::string(currency.code()) + ": " + why);
    }
    const auto exponent = static_cast<std::size_t>(currency.exponent());
    if (parts->fraction.size() > exponent && !allZeros(parts->fraction.substr(exponent))) {
        throw RejectedError("amount " + quoted(amount) + " has more decimal places than " +
                            std::string(currency.code()) + " allows (exponent " + std::to_string(exponent) +
                            "); round it explicitly with a RoundingMode");
    }
    // Only zeros beyond the exponent: every rounding mode gives the exact value.
    return parse(amount, currency, RoundingMode::kDown);
}

Money Money::parse(std::string_view amount, const Currency& currency, RoundingMode mode) {
    std::string why;
    const auto parts = splitDecimal(amount, why);
    if (!parts) {
        throw RejectedError("invalid amount " + quoted(amount) + " for " + std::string(currency.code()) + ": " + why);
    }
    const auto exponent = static_cast<std::size_t>(currency.exponent());
    const std::string_view kept = parts->fraction.substr(0, exponent);
    const std::string_view dropped = parts->fraction.substr(kept.size());
    // One unit of headroom above the int64 range so that rounding up from the limit is caught below.
    const UInt128 limit = kNegativeLimit + 1;
    UInt128 value = 0;
    bool fits = appendDigits(value, parts->integer, limit) && appendDigits(value, kept, limit) &&
                appendDigits(value, std::string(exponent - kept.size(), '0'), limit);
    if (fits && !allZeros(dropped)) {
        // The first dropped digit against 5 decides nearest-rounding; later non-zero digits only break a tie.
        const char first = dropped.front();
        const int half = first < '5' ? -1 : (first > '5' ? 1 : (allZeros(dropped.substr(1)) ? 0 : 1));
        if (roundsAwayFromZero(mode, parts->negative, half, value % 2 == 1)) ++value;
    }
    const auto minor = fits ? toInt64(parts->negative && value != 0, value) : std::nullopt;
    if (!minor) {
        throw RejectedError("money overflow: amount " + quoted(amount) + " does not fit in 64-bit " +
                            std::string(currency.code()) + " minor units");
    }
    return Money(*minor, currency);
}

std::string Money::toString() const { return formatScaled(minor_, currency_.exponent()); }

void Money::requireSameCurrency(const Money& other) const {
    if (currency_ != other.currency_) {
        throw RejectedError("currency mismatch: " + std::string(currency_.code()) + " vs " +
                            std::string(other.currency_.code()));
    }
}

namespace {

std::string describe(const Money& money) { return money.toString() + " " + std::string(money.currency().code()); }

}  // namespace

Money Money::operator-() const {
    std::int64_t result = 0;
    if (__builtin_sub_overflow(std::int64_t{0}, minor_, &result)) {
        throw RejectedError("money overflow: cannot negate " + describe(*this));
    }
    return Money(result, currency_);
}

Money& Money::operator+=(const Money& other) {
    requireSameCurrency(other);
    std::int64_t result = 0;
    if (__builtin_add_overflow(minor_, other.minor_, &result)) {
        throw RejectedError("money overflow: " + describe(*this) + " + " + describe(other));
    }
    minor_ = result;
    return *this;
}

Money& Money::operator-=(const Money& other) {
    requireSameCurrency(other);
    std::int64_t result = 0;
    if (__builtin_sub_overflow(minor_, other.minor_, &result)) {
        throw RejectedError("money overflow: " + describe(*this) + " - " + describe(other));
    }
    minor_ = result;
    return *this;
}

Money Money::times(std::int64_t quantity) const {
    std::int64_t result = 0;
    if (__builtin_mul_overflow(minor_, quantity, &result)) {
        throw RejectedError("money overflow: " + describe(*this) + " x " + std::to_string(quantity));
    }
    return Money(result, currency_);
}

Money Money::times(const Decimal& rate, RoundingMode mode) const {
    // |minor| x |mantissa| <= 2^126: the product is exact, only the division by 10^scale rounds.
    const Int128 product = static_cast<Int128>(minor_) * rate.mantissa();
    const auto result = tryDivideRounded(product, pow10(rate.scale()), mode);
    if (!result) {
        throw RejectedError("money overflow: " + describe(*this) + " x " + rate.toString() + " does not fit in " +
                            "64-bit minor units");
    }
    return Money(*result, currency_);
}

Money Money::convert(const Currency& target, const Decimal& rate, RoundingMode mode) const {
    // target minor = minor x rate x 10^(target exponent - source exponent), as one exact fraction.
    Int128 numerator = static_cast<Int128>(minor_) * rate.mantissa();
    Int128 denominator = pow10(rate.scale());
    const int shift = target.exponent() - currency_.exponent();
    std::optional<std::int64_t> result;
    if (shift >= 0) {
        // If widening overflows 128 bits, the quotient (divided by at most 10^18) cannot fit in 64 bits either.
        if (!__builtin_mul_overflow(numerator, pow10(shift), &numerator)) {
            result = tryDivideRounded(numerator, denominator, mode);
        }
    } else {
        denominator *= pow10(-shift);
        result = tryDivideRounded(numerator, denominator, mode);
    }
    if (!result) {
        throw RejectedError("money overflow: " + describe(*this) + " at " + rate.toString() + " " +
                            std::string(target.code()) + "/" + std::string(currency_.code()) +
                            " does not fit in 64-bit " + std::string(target.code()) + " minor units");
    }
    return Money(*result, target);
}

std::vector<Money> Money::allocate(std::span<const std::int64_t> weights) const {
    if (weights.empty()) throw RejectedError("cannot allocate " + describe(*this) + ": no weights");
    Int128 total_weight = 0;  // at most size_t x 2^63, below 2^127
    for (std::size_t i = 0; i < weights.size(); ++i) {
        if (weights[i] < 0) {
            throw RejectedError("cannot allocate " + describe(*this) + ": weight " + std::to_string(weights[i]) +
                                " at index " + std::to_string(i) + " is negative");
        }
        total_weight += weights[i];
    }
    if (total_weight == 0) throw RejectedError("cannot allocate " + describe(*this) + ": all weights are zero");

    // Allocate the magnitude and mirror the sign, so a refund splits exactly like the sale it reverses.
    const bool negative = minor_ < 0;
    const UInt128 amount = magnitude(minor_);
    const auto denominator = static_cast<UInt128>(total_weight);
    std::vector<UInt128> shares(weights.size());
    std::vector<UInt128> remainders(weights.size());
    UInt128 assigned = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const UInt128 product = amount * static_cast<UInt128>(weights[i]);  // below 2^126
        shares[i] = product / denominator;
        remainders[i] = product % denominator;
        assigned += shares[i];
    }
    // The leftover is below the number of non-zero remainders, so a zero weight never receives a unit.
    const auto leftover = static_cast<std::size_t>(amount - assigned);
    std::vector<std::size_t> order(weights.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(leftover), order.end(),
                      [&](std::size_t a, std::size_t b) {
                          return remainders[a] != remainders[b] ? remainders[a] > remainders[b] : a < b;
                      });
    for (std::size_t k = 0; k < leftover; ++k) ++shares[order[k]];

    std::vector<Money> parts;
    parts.reserve(weights.size());
    for (const UInt128 share : shares) parts.emplace_back(*toInt64(negative && share != 0, share), currency_);
    return parts;
}

std::vector<Money> Money::allocateEvenly(std::size_t parts) const {
    if (parts == 0) throw RejectedError("cannot allocate " + describe(*this) + " into 0 parts");
    const bool negative = minor_ < 0;
    const UInt128 amount = magnitude(minor_);
    const UInt128 base = amount / parts;
    const auto leftover = static_cast<std::size_t>(amount % parts);
    std::vector<Money> result;
    result.reserve(parts);
    for (std::size_t i = 0; i < parts; ++i) {
        const UInt128 share = base + (i < leftover ? 1 : 0);
        result.emplace_back(*toInt64(negative && share != 0, share), currency_);
    }
    return result;
}

bool operator==(const Money& a, const Money& b) noexcept {
    return a.currency_ == b.currency_ && a.minor_ == b.minor_;
}

std::strong_ordering operator<=>(const Money& a, const Money& b) {
    a.requireSameCurrency(b);
    return a.minor_ <=> b.minor_;
}

std::ostream& operator<<(std::ostream& out, const Money& money) { return out << describe(money); }

}  // namespace keel
