#define BOOST_TEST_MODULE money
#include <boost/test/unit_test.hpp>

#include "keel/kernel/error.h"
#include "keel/kernel/money.h"
#include "keel/kernel/quantity.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace data = boost::unit_test::data;

using keel::Currency;
using keel::Decimal;
using keel::Int128;
using keel::Money;
using keel::Quantity;
using keel::RoundingMode;

namespace {

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

const Currency& usd() { return Currency::of("USD"); }
const Currency& eur() { return Currency::of("EUR"); }
const Currency& jpy() { return Currency::of("JPY"); }
const Currency& kwd() { return Currency::of("KWD"); }
const Currency& clf() { return Currency::of("CLF"); }

// Runs `action` and requires a RejectedError whose message contains `fragment`.
template <typename Action>
void requireRejected(Action&& action, const std::string& fragment) {
    try {
        action();
        BOOST_ERROR("expected RejectedError containing \"" << fragment << "\", nothing was thrown");
    } catch (const keel::RejectedError& error) {
        const std::string message = error.what();
        BOOST_CHECK_MESSAGE(message.find(fragment) != std::string::npos,
                            "message \"" << message << "\" does not contain \"" << fragment << "\"");
        BOOST_TEST(static_cast<int>(error.code()) == static_cast<int>(keel::ExitCode::kRejected));
    }
}

std::vector<std::int64_t> minors(const std::vector<Money>& parts) {
    std::vector<std::int64_t> result;
    for (const Money& part : parts) result.push_back(part.minor());
    return result;
}

// "2.5" / "-0.5" for a value in tenths, so one table drives every API that rounds.
std::string tenthsText(std::int64_t tenths) {
    const std::int64_t magnitude = tenths < 0 ? -tenths : tenths;
    return (tenths < 0 ? "-" : "") + std::to_string(magnitude / 10) + "." + std::to_string(magnitude % 10);
}

// Reference rounding table, each row an input in tenths and its expected integer under every mode, in the order
// HalfEven, HalfUp, HalfDown, Up, Down, Ceiling, Floor (the standard definitions, e.g. java.math.RoundingMode).
struct RoundingRow {
    std::int64_t tenths;
    std::int64_t expected[7];
};

constexpr RoundingMode kModes[7] = {RoundingMode::kHalfEven, RoundingMode::kHalfUp,  RoundingMode::kHalfDown,
                                    RoundingMode::kUp,       RoundingMode::kDown,    RoundingMode::kCeiling,
                                    RoundingMode::kFloor};

constexpr RoundingRow kRoundingRows[] = {
    //        HEven HUp HDown  Up Down Ceil Floor
    {55, {6, 6, 5, 6, 5, 6, 5}},
    {35, {4, 4, 3, 4, 3, 4, 3}},
    {25, {2, 3, 2, 3, 2, 3, 2}},
    {26, {3, 3, 3, 3, 2, 3, 2}},
    {24, {2, 2, 2, 3, 2, 3, 2}},
    {16, {2, 2, 2, 2, 1, 2, 1}},
    {11, {1, 1, 1, 2, 1, 2, 1}},
    {10, {1, 1, 1, 1, 1, 1, 1}},
    {5, {0, 1, 0, 1, 0, 1, 0}},
    {4, {0, 0, 0, 1, 0, 1, 0}},
    {0, {0, 0, 0, 0, 0, 0, 0}},
    {-4, {0, 0, 0, -1, 0, 0, -1}},
    {-5, {0, -1, 0, -1, 0, 0, -1}},
    {-10, {-1, -1, -1, -1, -1, -1, -1}},
    {-11, {-1, -1, -1, -2, -1, -1, -2}},
    {-16, {-2, -2, -2, -2, -1, -1, -2}},
    {-24, {-2, -2, -2, -3, -2, -2, -3}},
    {-25, {-2, -3, -2, -3, -2, -2, -3}},
    {-26, {-3, -3, -3, -3, -2, -2, -3}},
    {-35, {-4, -4, -3, -4, -3, -3, -4}},
    {-55, {-6, -6, -5, -6, -5, -5, -6}},
};

// The table flattened into three parallel columns for BOOST_DATA_TEST_CASE.
struct RoundingColumns {
    std::vector<std::int64_t> tenths;
    std::vector<RoundingMode> modes;
    std::vector<std::int64_t> expected;
};

RoundingColumns roundingColumns() {
    RoundingColumns columns;
    for (const RoundingRow& row : kRoundingRows) {
        for (std::size_t m = 0; m < 7; ++m) {
            columns.tenths.push_back(row.tenths);
            columns.modes.push_back(kModes[m]);
            columns.expected.push_back(row.expected[m]);
        }
    }
    return columns;
}

const RoundingColumns kRounding = roundingColumns();

// Deterministic generator (splitmix64) so the property tests are reproducible on every platform.
class SplitMix {
public:
    explicit SplitMix(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    // Uniform enough in [low, high] for test data; the tiny modulo bias does not matter here.
    std::int64_t between(std::int64_t low, std::int64_t high) {
        const auto span = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low);
        const std::uint64_t offset = span == std::numeric_limits<std::uint64_t>::max() ? next() : next() % (span + 1);
        return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + offset);
    }

private:
    std::uint64_t state_;
};

Int128 absolute(Int128 value) { return value < 0 ? -value : value; }

}  // namespace

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(currency)

const std::vector<std::string> kCodes = {"USD", "EUR", "GBP", "CHF", "CNY", "INR", "BRL", "MXN", "ZWG", "XCG",
                                         "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "XPF", "PYG",
                                         "RWF", "KMF", "GNF", "DJF", "BIF", "VUV", "UYI", "BHD", "IQD", "JOD",
                                         "KWD", "LYD", "OMR", "TND", "CLF", "UYW"};
const std::vector<int> kExponents = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 4, 4};

BOOST_DATA_TEST_CASE(exponent_of_code, data::make(kCodes) ^ data::make(kExponents), code, exponent) {
    const Currency& currency = Currency::of(code);
    BOOST_TEST(currency.code() == code);
    BOOST_TEST(currency.exponent() == exponent);
    const auto found = Currency::find(code);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST((*found == currency));
}

// Not ISO-4217 currencies with a minor unit: invented, wrong case, wrong length, metals, withdrawn (HRK, 2023).
const std::vector<std::string> kUnknownCodes = {"XYZ", "usd", "Usd", "US", "USDD", "", "U$D", "XAU",
                                                "XDR", "XXX", "XTS", "HRK", " USD", "USD "};

BOOST_DATA_TEST_CASE(unknown_code_rejected, data::make(kUnknownCodes), code) {
    BOOST_TEST(!Currency::find(code).has_value());
    requireRejected([&] { (void)Currency::of(code); }, "unknown currency code '" + code + "' (ISO 4217)");
}

BOOST_AUTO_TEST_CASE(unknown_code_message_is_exact) {
    try {
        (void)Currency::of("XYZ");
        BOOST_ERROR("XYZ accepted");
    } catch (const keel::RejectedError& error) {
        BOOST_TEST(std::string(error.what()) == "unknown currency code 'XYZ' (ISO 4217)");
    }
}

BOOST_AUTO_TEST_CASE(table_is_sorted_and_well_formed) {
    const auto all = Currency::all();
    BOOST_TEST(all.size() >= 150u);
    std::set<std::string> zero;
    std::set<std::string> three;
    std::set<std::string> four;
    for (std::size_t i = 0; i < all.size(); ++i) {
        const Currency& currency = all[i];
        BOOST_TEST(currency.code().size() == 3u);
        BOOST_TEST(std::all_of(currency.code().begin(), currency.code().end(), [](char c) {
            return c >= 'A' && c <= 'Z';
        }));
        if (i > 0) BOOST_TEST(all[i - 1].code() < currency.code());
        BOOST_TEST((&Currency::of(currency.code()) == &currency));
        switch (currency.exponent()) {
            case 0: zero.emplace(currency.code()); break;
            case 2: break;
            case 3: three.emplace(currency.code()); break;
            case 4: four.emplace(currency.code()); break;
            default: BOOST_ERROR("unexpected exponent " << currency.exponent() << " for " << currency.code());
        }
    }
    // Every non-2 exponent in ISO 4217 list one, so a new table entry cannot silently get the wrong one.
    const std::set<std::string> expected_zero = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
                                                 "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"};
    const std::set<std::string> expected_three = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    const std::set<std::string> expected_four = {"CLF", "UYW"};
    BOOST_TEST(zero == expected_zero, boost::test_tools::per_element());
    BOOST_TEST(three == expected_three, boost::test_tools::per_element());
    BOOST_TEST(four == expected_four, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(equality) {
    BOOST_TEST((usd() == Currency::of("USD")));
    BOOST_TEST((usd() != eur()));
    std::ostringstream out;
    out << kwd();
    BOOST_TEST(out.str() == "KWD");
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(rounding)

// The same reference table through the three APIs that round: divideRounded, Decimal::rescale and Money::parse.
BOOST_DATA_TEST_CASE(every_mode_matches_definition,
                     data::make(kRounding.tenths) ^ data::make(kRounding.modes) ^ data::make(kRounding.expected),
                     tenths, mode, expected) {
    BOOST_TEST(keel::divideRounded(tenths, 10, mode) == expected);
    BOOST_TEST(keel::divideRounded(-tenths, -10, mode) == expected);
    BOOST_TEST(Decimal(tenths, 1).rescale(0, mode).mantissa() == expected);
    BOOST_TEST(Money::parse(tenthsText(tenths), jpy(), mode).minor() == expected);
    // The same fractions with a denominator that is not a power of ten: tenths x 3 / 30.
    BOOST_TEST(keel::divideRounded(Int128{tenths} * 3, 30, mode) == expected);
}

BOOST_AUTO_TEST_CASE(other_denominators) {
    BOOST_TEST(keel::divideRounded(7, 3, RoundingMode::kHalfEven) == 2);
    BOOST_TEST(keel::divideRounded(8, 3, RoundingMode::kHalfEven) == 3);
    BOOST_TEST(keel::divideRounded(-7, 3, RoundingMode::kCeiling) == -2);
    BOOST_TEST(keel::divideRounded(-7, 3, RoundingMode::kFloor) == -3);
    BOOST_TEST(keel::divideRounded(7, -3, RoundingMode::kUp) == -3);
    BOOST_TEST(keel::divideRounded(-7, -3, RoundingMode::kUp) == 3);
    BOOST_TEST(keel::divideRounded(5, -2, RoundingMode::kHalfEven) == -2);
    BOOST_TEST(keel::divideRounded(-5, -2, RoundingMode::kHalfEven) == 2);
    BOOST_TEST(keel::divideRounded(-5, -2, RoundingMode::kHalfUp) == 3);
    BOOST_TEST(keel::divideRounded(1, 3, RoundingMode::kHalfUp) == 0);
    BOOST_TEST(keel::divideRounded(2, 3, RoundingMode::kHalfDown) == 1);
    BOOST_TEST(keel::divideRounded(0, -7, RoundingMode::kUp) == 0);
}

BOOST_AUTO_TEST_CASE(ties_with_huge_denominator) {
    // 1.5 x 2^126 / 2^126: the half comparison must not compute 2 x remainder, which would overflow.
    const Int128 denominator = Int128{1} << 126;
    const Int128 numerator = denominator + (denominator >> 1);
    BOOST_TEST(keel::divideRounded(numerator, denominator, RoundingMode::kHalfEven) == 2);
    BOOST_TEST(keel::divideRounded(numerator, denominator, RoundingMode::kHalfDown) == 1);
    BOOST_TEST(keel::divideRounded(-numerator, denominator, RoundingMode::kHalfUp) == -2);
    BOOST_TEST(keel::divideRounded(-numerator, denominator, RoundingMode::kHalfDown) == -1);
    BOOST_TEST(keel::divideRounded(numerator + 1, denominator, RoundingMode::kHalfDown) == 2);
    BOOST_TEST(keel::divideRounded(numerator - 1, denominator, RoundingMode::kHalfUp) == 1);
}

BOOST_AUTO_TEST_CASE(extremes_of_int128) {
    const Int128 int128_min = Int128{1} << 127;  // wraps to the minimum (well defined since C++20)
    const Int128 int128_max = -(int128_min + 1);
    BOOST_TEST(keel::divideRounded(int128_min, int128_min, RoundingMode::kDown) == 1);
    BOOST_TEST(keel::divideRounded(int128_max, int128_min, RoundingMode::kHalfEven) == -1);
    BOOST_TEST(keel::divideRounded(int128_max, int128_min, RoundingMode::kDown) == 0);
    BOOST_TEST(keel::divideRounded(1, int128_min, RoundingMode::kFloor) == -1);
    BOOST_TEST(keel::divideRounded(1, int128_min, RoundingMode::kCeiling) == 0);
    requireRejected([&] { (void)keel::divideRounded(int128_min, -1, RoundingMode::kDown); }, "overflow");
}

BOOST_AUTO_TEST_CASE(int64_boundaries) {
    const Int128 max_times_ten = Int128{kMax} * 10;
    BOOST_TEST(keel::divideRounded(max_times_ten + 4, 10, RoundingMode::kHalfUp) == kMax);
    BOOST_TEST(keel::divideRounded(max_times_ten + 9, 10, RoundingMode::kDown) == kMax);
    requireRejected([&] { (void)keel::divideRounded(max_times_ten + 5, 10, RoundingMode::kHalfUp); },
                    "does not fit in 64 bits");
    requireRejected([&] { (void)keel::divideRounded(max_times_ten + 1, 10, RoundingMode::kCeiling); },
                    "arithmetic overflow");
    const Int128 min_times_ten = Int128{kMin} * 10;
    BOOST_TEST(keel::divideRounded(min_times_ten, 10, RoundingMode::kUp) == kMin);
    BOOST_TEST(keel::divideRounded(min_times_ten - 9, 10, RoundingMode::kCeiling) == kMin);
    requireRejected([&] { (void)keel::divideRounded(min_times_ten - 1, 10, RoundingMode::kFloor); }, "overflow");
    requireRejected([&] { (void)keel::divideRounded(Int128{kMax} + 1, 1, RoundingMode::kDown); }, "overflow");
    BOOST_TEST(keel::divideRounded(Int128{kMax} + 1, -1, RoundingMode::kDown) == kMin);
}

BOOST_AUTO_TEST_CASE(division_by_zero) {
    requireRejected([] { (void)keel::divideRounded(1, 0, RoundingMode::kHalfEven); }, "division by zero");
    requireRejected([] { (void)keel::divideRounded(0, 0, RoundingMode::kDown); }, "division by zero");
}

BOOST_DATA_TEST_CASE(mode_names_round_trip, data::make(std::vector<RoundingMode>(std::begin(kModes), std::end(kModes))),
                     mode) {
    const auto parsed = keel::roundingModeFromName(keel::roundingModeName(mode));
    BOOST_TEST_REQUIRE(parsed.has_value());
    BOOST_TEST((*parsed == mode));
}

BOOST_AUTO_TEST_CASE(mode_names) {
    BOOST_TEST(keel::roundingModeName(RoundingMode::kHalfEven) == "half_even");
    BOOST_TEST(keel::roundingModeName(RoundingMode::kHalfUp) == "half_up");
    BOOST_TEST(keel::roundingModeName(RoundingMode::kFloor) == "floor");
    BOOST_TEST(!keel::roundingModeFromName("HALF_EVEN").has_value());
    BOOST_TEST(!keel::roundingModeFromName("").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(decimal)

const std::vector<std::string> kDecimalTexts = {
    "12", "-0.075", "19.990", "+3.5", "0", "-0", "-0.00", "007.50", "0.000000000000000001",
    "9223372036854775807", "-9223372036854775808", "-9.223372036854775808", "922337203685477580.7", "1.0"};
const std::vector<std::int64_t> kDecimalMantissas = {
    12, -75, 19990, 35, 0, 0, 0, 750, 1, kMax, kMin, kMin, kMax, 10};
const std::vector<int> kDecimalScales = {0, 3, 3, 1, 0, 0, 2, 2, 18, 0, 0, 18, 1, 1};
const std::vector<std::string> kDecimalFormatted = {
    "12", "-0.075", "19.990", "3.5", "0", "0", "0.00", "7.50", "0.000000000000000001",
    "9223372036854775807", "-9223372036854775808", "-9.223372036854775808", "922337203685477580.7", "1.0"};

BOOST_DATA_TEST_CASE(parse_and_format,
                     data::make(kDecimalTexts) ^ data::make(kDecimalMantissas) ^ data::make(kDecimalScales) ^
                         data::make(kDecimalFormatted),
                     text, mantissa, scale, formatted) {
    const Decimal value = Decimal::parse(text);
    BOOST_TEST(value.mantissa() == mantissa);
    BOOST_TEST(value.scale() == scale);
    BOOST_TEST(value.toString() == formatted);
    const Decimal again = Decimal::parse(value.toString());
    BOOST_TEST(again.mantissa() == mantissa);
    BOOST_TEST(again.scale() == scale);
}

const std::vector<std::string> kBadDecimals = {
    "", "1.", "-1.", ".5", "-.5", "1e5", "1E5", " 1", "1 ", "1,000", "+", "-", "--1", "+-1", "1.2.3",
    "0x10", "1_000", "NaN", "inf", "\xd9\xa1", "0.0000000000000000001", "9223372036854775808",
    "-9223372036854775809", "99999999999999999999", "1.-5", "1.5\n"};
const std::vector<std::string> kBadDecimalReasons = {
    "it is empty",
    "after the decimal point",
    "after the decimal point",
    "before the decimal point",
    "before the decimal point",
    "unexpected character 'e' at position 2",
    "unexpected character 'E' at position 2",
    "unexpected space at position 1",
    "unexpected space at position 2",
    "unexpected character ',' at position 2",
    "it has no digits",
    "it has no digits",
    "unexpected character '-' at position 2",
    "unexpected character '-' at position 2",
    "unexpected character '.' at position 4",
    "unexpected character 'x' at position 2",
    "unexpected character '_' at position 2",
    "unexpected character 'N' at position 1",
    "unexpected character 'i' at position 1",
    "unexpected byte 0xd9 at position 1",
    "it has 19 fractional digits, at most 18 are allowed",
    "out of range",
    "out of range",
    "out of range",
    "unexpected character '-' at position 3",
    "unexpected byte 0x0a at position 4"};

BOOST_DATA_TEST_CASE(parse_rejects, data::make(kBadDecimals) ^ data::make(kBadDecimalReasons), text, reason) {
    requireRejected([&] { (void)Decimal::parse(text); }, "invalid decimal '" + text + "': ");
    requireRejected([&] { (void)Decimal::parse(text); }, reason);
}

BOOST_AUTO_TEST_CASE(comparison_ignores_scale) {
    BOOST_TEST((Decimal::parse("1.50") == Decimal::parse("1.5")));
    BOOST_TEST((Decimal::parse("1.50") == Decimal(15, 1)));
    BOOST_TEST((Decimal::parse("0") == Decimal::parse("-0.000")));
    BOOST_TEST((Decimal::parse("1.5") != Decimal::parse("1.51")));
    BOOST_TEST((Decimal::parse("1.5") < Decimal::parse("1.51")));
    BOOST_TEST((Decimal::parse("-0.5") < Decimal()));
    BOOST_TEST((Decimal::parse("-0.5") > Decimal::parse("-0.51")));
    BOOST_TEST((Decimal(kMax, 18) < Decimal(kMax, 0)));
    BOOST_TEST((Decimal(kMin, 0) < Decimal(kMin, 18)));
    BOOST_TEST((Decimal(9, 0) == Decimal(9'000'000'000'000'000'000, 18)));
    BOOST_TEST(((Decimal::parse("2") <=> Decimal::parse("2.000")) == std::strong_ordering::equal));
}

BOOST_AUTO_TEST_CASE(rescale) {
    BOOST_TEST(Decimal::parse("19.99").rescale(4, RoundingMode::kDown).toString() == "19.9900");
    BOOST_TEST(Decimal::parse("1.005").rescale(2, RoundingMode::kHalfEven).toString() == "1.00");
    BOOST_TEST(Decimal::parse("1.005").rescale(2, RoundingMode::kHalfUp).toString() == "1.01");
    BOOST_TEST(Decimal::parse("1.015").rescale(2, RoundingMode::kHalfEven).toString() == "1.02");
    BOOST_TEST(Decimal::parse("-1.005").rescale(2, RoundingMode::kFloor).toString() == "-1.01");
    BOOST_TEST(Decimal::parse("-1.005").rescale(2, RoundingMode::kCeiling).toString() == "-1.00");
    BOOST_TEST(Decimal::parse("0.075").rescale(0, RoundingMode::kUp).toString() == "1");
    BOOST_TEST(Decimal(kMin, 18).rescale(0, RoundingMode::kHalfEven).mantissa() == -9);
    BOOST_TEST(Decimal(kMax, 0).rescale(0, RoundingMode::kDown).mantissa() == kMax);
    BOOST_TEST(Decimal(922337203685477580, 0).rescale(1, RoundingMode::kDown).mantissa() == 9223372036854775800);
    requireRejected([] { (void)Decimal(922337203685477581, 0).rescale(1, RoundingMode::kDown); }, "overflow");
    requireRejected([] { (void)Decimal(1, 0).rescale(19, RoundingMode::kDown); }, "within 0..18");
    requireRejected([] { (void)Decimal(1, 0).rescale(-1, RoundingMode::kDown); }, "within 0..18");
}

BOOST_AUTO_TEST_CASE(constructor_checks_scale) {
    BOOST_TEST(Decimal(5, 18).scale() == 18);
    BOOST_TEST(Decimal().toString() == "0");
    BOOST_TEST(Decimal(-5, 3).toString() == "-0.005");
    BOOST_TEST(Decimal(kMin, 0).toString() == "-9223372036854775808");
    requireRejected([] { (void)Decimal(1, 19); }, "decimal scale 19 is outside 0..18");
    requireRejected([] { (void)Decimal(1, -1); }, "decimal scale -1 is outside 0..18");
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(money_text)

const std::vector<std::string> kAmounts = {"19.99",
                                           "5",
                                           "-0.01",
                                           "1000",
                                           "19.990",
                                           "0.5",
                                           "+3.5",
                                           "-0",
                                           "1.234",
                                           "0.0001",
                                           "92233720368547758.07",
                                           "-92233720368547758.08",
                                           "9223372036854775807",
                                           "1000.000",
                                           "007",
                                           "-12.3",
                                           "922337203685477.5807",
                                           "0.00000000000000000000000000000000000000000"};
const std::vector<std::string> kAmountCodes = {"USD", "USD", "USD", "JPY", "USD", "USD", "USD", "USD", "KWD",
                                               "CLF", "USD", "USD", "JPY", "JPY", "USD", "KWD", "CLF", "EUR"};
const std::vector<std::int64_t> kAmountMinors = {1999, 500,  -1,   1000, 1999, 50, 350, 0,     1234,
                                                 1,    kMax, kMin, kMax, 1000, 700, -12300, kMax, 0};
const std::vector<std::string> kAmountFormatted = {"19.99",
                                                   "5.00",
                                                   "-0.01",
                                                   "1000",
                                                   "19.99",
                                                   "0.50",
                                                   "3.50",
                                                   "0.00",
                                                   "1.234",
                                                   "0.0001",
                                                   "92233720368547758.07",
                                                   "-92233720368547758.08",
                                                   "9223372036854775807",
                                                   "1000",
                                                   "7.00",
                                                   "-12.300",
                                                   "922337203685477.5807",
                                                   "0.00"};

BOOST_DATA_TEST_CASE(parse_and_format,
                     data::make(kAmounts) ^ data::make(kAmountCodes) ^ data::make(kAmountMinors) ^
                         data::make(kAmountFormatted),
                     amount, code, minor, formatted) {
    const Currency& currency = Currency::of(code);
    const Money money = Money::parse(amount, currency);
    BOOST_TEST(money.minor() == minor);
    BOOST_TEST((money.currency() == currency));
    BOOST_TEST(money.toString() == formatted);
    BOOST_TEST((Money::parse(money.toString(), currency) == money));
    // An amount that is already exact must not be changed by any rounding mode.
    for (const RoundingMode mode : kModes) BOOST_TEST(Money::parse(amount, currency, mode).minor() == minor);
}

BOOST_AUTO_TEST_CASE(format_round_trips) {
    const std::vector<std::int64_t> values = {0, 1, -1, 9, -9, 10, 99, 100, -100, 123456789, kMax, kMin, kMin + 1};
    for (const Currency* currency : {&usd(), &jpy(), &kwd(), &clf()}) {
        for (const std::int64_t minor : values) {
            const Money money(minor, *currency);
            BOOST_TEST((Money::parse(money.toString(), *currency) == money), money);
        }
    }
    BOOST_TEST(Money(kMin, usd()).toString() == "-92233720368547758.08");
    BOOST_TEST(Money(-5, kwd()).toString() == "-0.005");
    BOOST_TEST(Money(7, clf()).toString() == "0.0007");
    BOOST_TEST(Money(-1000, jpy()).toString() == "-1000");
    std::ostringstream out;
    out << Money(1999, usd());
    BOOST_TEST(out.str() == "19.99 USD");
}

const std::vector<std::string> kBadAmounts = {"19.999", "1000.5", "1.2345", "0.00001", "19.9901", "-0.001"};
const std::vector<std::string> kBadAmountCodes = {"USD", "JPY", "KWD", "CLF", "USD", "EUR"};
const std::vector<std::string> kBadAmountReasons = {
    "amount '19.999' has more decimal places than USD allows (exponent 2)",
    "amount '1000.5' has more decimal places than JPY allows (exponent 0)",
    "amount '1.2345' has more decimal places than KWD allows (exponent 3)",
    "amount '0.00001' has more decimal places than CLF allows (exponent 4)",
    "amount '19.9901' has more decimal places than USD allows (exponent 2)",
    "amount '-0.001' has more decimal places than EUR allows (exponent 2)"};

BOOST_DATA_TEST_CASE(parse_rejects_surplus_digits,
                     data::make(kBadAmounts) ^ data::make(kBadAmountCodes) ^ data::make(kBadAmountReasons), amount,
                     code, reason) {
    requireRejected([&] { (void)Money::parse(amount, Currency::of(code)); }, reason);
}

const std::vector<std::string> kMalformedAmounts = {"", "1.", ".5", "1e3", "$5", "5 USD", "1,000.00", "- 1", "USD"};

BOOST_DATA_TEST_CASE(parse_rejects_syntax, data::make(kMalformedAmounts), amount) {
    requireRejected([&] { (void)Money::parse(amount, usd()); }, "invalid amount '" + amount + "' for USD: ");
    requireRejected([&] { (void)Money::parse(amount, usd(), RoundingMode::kHalfEven); },
                    "invalid amount '" + amount + "' for USD: ");
}

BOOST_AUTO_TEST_CASE(parse_overflow) {
    requireRejected([] { (void)Money::parse("92233720368547758.08", usd()); },
                    "money overflow: amount '92233720368547758.08' does not fit");
    requireRejected([] { (void)Money::parse("-92233720368547758.09", usd()); }, "money overflow");
    requireRejected([] { (void)Money::parse("9223372036854775808", jpy()); }, "money overflow");
    requireRejected([] { (void)Money::parse("100000000000000000000000000000000000000000", jpy()); }, "money overflow");
    requireRejected([] { (void)Money::parse("922337203685477.5808", clf()); }, "money overflow");
}

BOOST_AUTO_TEST_CASE(parse_with_rounding) {
    BOOST_TEST(Money::parse("19.995", usd(), RoundingMode::kHalfEven).minor() == 2000);
    BOOST_TEST(Money::parse("19.985", usd(), RoundingMode::kHalfEven).minor() == 1998);
    BOOST_TEST(Money::parse("19.995", usd(), RoundingMode::kHalfUp).minor() == 2000);
    BOOST_TEST(Money::parse("19.995", usd(), RoundingMode::kHalfDown).minor() == 1999);
    BOOST_TEST(Money::parse("19.9951", usd(), RoundingMode::kHalfDown).minor() == 2000);
    BOOST_TEST(Money::parse("0.0050000001", usd(), RoundingMode::kHalfDown).minor() == 1);
    BOOST_TEST(Money::parse("0.0049999999", usd(), RoundingMode::kHalfUp).minor() == 0);
    BOOST_TEST(Money::parse("-0.005", usd(), RoundingMode::kHalfUp).minor() == -1);
    BOOST_TEST(Money::parse("-0.005", usd(), RoundingMode::kHalfEven).minor() == 0);
    BOOST_TEST(Money::parse("-0.005", usd(), RoundingMode::kCeiling).minor() == 0);
    BOOST_TEST(Money::parse("-0.005", usd(), RoundingMode::kFloor).minor() == -1);
    BOOST_TEST(Money::parse("1.00000000000000000000000000000000000001", usd(), RoundingMode::kUp).minor() == 101);
    BOOST_TEST(Money::parse("1.00000000000000000000000000000000000001", usd(), RoundingMode::kDown).minor() == 100);
    BOOST_TEST(Money::parse("2.5", jpy(), RoundingMode::kHalfEven).minor() == 2);
    BOOST_TEST(Money::parse("1.23456", kwd(), RoundingMode::kHalfEven).minor() == 1235);
    BOOST_TEST(Money::parse("92233720368547758.075", usd(), RoundingMode::kDown).minor() == kMax);
    BOOST_TEST(Money::parse("-92233720368547758.085", usd(), RoundingMode::kDown).minor() == kMin);
    requireRejected([] { (void)Money::parse("92233720368547758.075", usd(), RoundingMode::kHalfUp); },
                    "money overflow");
    requireRejected([] { (void)Money::parse("-92233720368547758.081", usd(), RoundingMode::kUp); },
                    "money overflow");
    requireRejected([] { (void)Money::parse("92233720368547758.08", usd(), RoundingMode::kDown); },
                    "money overflow");
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(money_arithmetic)

BOOST_AUTO_TEST_CASE(add_and_subtract) {
    Money total = Money::parse("19.99", usd());
    total += Money(1, usd());
    BOOST_TEST(total.minor() == 2000);
    total -= Money(2001, usd());
    BOOST_TEST(total.minor() == -1);
    BOOST_TEST((Money(250, eur()) + Money(-300, eur()) == Money(-50, eur())));
    BOOST_TEST((Money(250, eur()) - Money(-300, eur()) == Money(550, eur())));
    BOOST_TEST((-Money(250, eur()) == Money(-250, eur())));
    BOOST_TEST((Money::zero(jpy()) == Money(0, jpy())));
    BOOST_TEST((-Money(kMax, usd())).minor() == kMin + 1);
    BOOST_TEST((Money(kMax, usd()) + Money(kMin, usd())).minor() == -1);
    BOOST_TEST((Money(kMin, usd()) - Money(kMin, usd())).minor() == 0);
}

BOOST_AUTO_TEST_CASE(currency_mismatch) {
    requireRejected([] { (void)(Money(1, usd()) + Money(1, eur())); }, "currency mismatch: USD vs EUR");
    requireRejected([] { (void)(Money(1, eur()) - Money(1, usd())); }, "currency mismatch: EUR vs USD");
    Money a(1, usd());
    requireRejected([&] { a += Money(1, jpy()); }, "currency mismatch: USD vs JPY");
    requireRejected([&] { a -= Money(1, jpy()); }, "currency mismatch: USD vs JPY");
    BOOST_TEST(a.minor() == 1);
}

BOOST_AUTO_TEST_CASE(overflow_is_rejected) {
    requireRejected([] { (void)(Money(kMax, usd()) + Money(1, usd())); },
                    "money overflow: 92233720368547758.07 USD + 0.01 USD");
    requireRejected([] { (void)(Money(kMin, usd()) - Money(1, usd())); },
                    "money overflow: -92233720368547758.08 USD - 0.01 USD");
    requireRejected([] { (void)(Money(kMin, usd()) + Money(-1, usd())); }, "money overflow");
    requireRejected([] { (void)(Money(kMax, usd()) - Money(-1, usd())); }, "money overflow");
    requireRejected([] { (void)(Money(0, usd()) - Money(kMin, usd())); }, "money overflow");
    requireRejected([] { (void)(-Money(kMin, usd())); }, "money overflow: cannot negate -92233720368547758.08 USD");
    // A failed compound assignment leaves the amount unchanged.
    Money a(kMax, jpy());
    requireRejected([&] { a += Money(1, jpy()); }, "money overflow");
    BOOST_TEST(a.minor() == kMax);
    Money b(kMin, jpy());
    requireRejected([&] { b -= Money(1, jpy()); }, "money overflow");
    BOOST_TEST(b.minor() == kMin);
}

BOOST_AUTO_TEST_CASE(times_integer) {
    BOOST_TEST(Money(1999, usd()).times(3).minor() == 5997);
    BOOST_TEST(Money(1999, usd()).times(-3).minor() == -5997);
    BOOST_TEST(Money(1999, usd()).times(0).minor() == 0);
    BOOST_TEST(Money(kMax, usd()).times(1).minor() == kMax);
    BOOST_TEST(Money(kMax, usd()).times(-1).minor() == -kMax);
    BOOST_TEST(Money(kMin, usd()).times(1).minor() == kMin);
    requireRejected([] { (void)Money(kMax, usd()).times(2); }, "money overflow: 92233720368547758.07 USD x 2");
    requireRejected([] { (void)Money(kMin, usd()).times(-1); }, "money overflow");
    requireRejected([] { (void)Money(-1, usd()).times(kMin); }, "money overflow");
    requireRejected([] { (void)Money(4611686018427387904, usd()).times(2); }, "money overflow");
    BOOST_TEST(Money(4611686018427387904, usd()).times(-2).minor() == kMin);
}

BOOST_AUTO_TEST_CASE(comparison) {
    BOOST_TEST((Money(1, usd()) < Money(2, usd())));
    BOOST_TEST((Money(-2, usd()) < Money(-1, usd())));
    BOOST_TEST((Money(2, usd()) >= Money(2, usd())));
    BOOST_TEST((Money(3, usd()) > Money(2, usd())));
    BOOST_TEST((Money(2, usd()) <= Money(3, usd())));
    BOOST_TEST((Money(2, usd()) == Money(2, usd())));
    BOOST_TEST((Money(2, usd()) != Money(3, usd())));
    // Equality is well defined across currencies (never equal); ordering is not.
    BOOST_TEST((Money(2, usd()) != Money(2, eur())));
    BOOST_TEST(!(Money(0, usd()) == Money(0, jpy())));
    requireRejected([] { (void)(Money(1, usd()) < Money(2, eur())); }, "currency mismatch: USD vs EUR");
    requireRejected([] { (void)(Money(1, usd()) >= Money(2, eur())); }, "currency mismatch: USD vs EUR");
    requireRejected([] { (void)(Money(1, usd()) <=> Money(2, jpy())); }, "currency mismatch: USD vs JPY");
}

BOOST_AUTO_TEST_CASE(predicates) {
    BOOST_TEST(Money::zero(usd()).isZero());
    BOOST_TEST(!Money::zero(usd()).isNegative());
    BOOST_TEST(!Money::zero(usd()).isPositive());
    BOOST_TEST(Money(-1, usd()).isNegative());
    BOOST_TEST(!Money(-1, usd()).isZero());
    BOOST_TEST(Money(1, usd()).isPositive());
    BOOST_TEST(!Money(1, usd()).isNegative());
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(money_rates)

// amount (USD) x rate with mode -> expected minor units.
const std::vector<std::string> kRateAmounts = {"19.99", "19.99", "19.99", "19.99", "0.10",  "0.10",  "0.30",
                                               "0.30",  "-0.10", "-0.10", "-0.10", "-0.10", "100.00", "10.00",
                                               "0.01",  "19.99", "-19.99"};
const std::vector<std::string> kRates = {"0.0825", "0.0825", "0.0825", "0.0825", "0.25", "0.25", "0.25", "0.25", "0.25",
                                         "0.25",   "0.25",   "0.25",   "1.5",    "-0.5", "0.5",  "1",    "0.0825"};
const std::vector<RoundingMode> kRateModes = {
    RoundingMode::kHalfUp,   RoundingMode::kHalfEven, RoundingMode::kDown,     RoundingMode::kUp,
    RoundingMode::kHalfEven, RoundingMode::kHalfUp,   RoundingMode::kHalfEven, RoundingMode::kHalfDown,
    RoundingMode::kHalfEven, RoundingMode::kHalfUp,   RoundingMode::kCeiling,  RoundingMode::kFloor,
    RoundingMode::kDown,     RoundingMode::kDown,     RoundingMode::kHalfEven, RoundingMode::kUp,
    RoundingMode::kHalfUp};
const std::vector<std::int64_t> kRateExpected = {165, 165, 164, 165, 2, 3, 8, 7, -2, -3, -2, -3, 15000, -500, 0, 1999,
                                                 -165};

BOOST_DATA_TEST_CASE(times_rate,
                     data::make(kRateAmounts) ^ data::make(kRates) ^ data::make(kRateModes) ^
                         data::make(kRateExpected),
                     amount, rate, mode, expected) {
    const Money result = Money::parse(amount, usd()).times(Decimal::parse(rate), mode);
    BOOST_TEST(result.minor() == expected);
    BOOST_TEST((result.currency() == usd()));
}

BOOST_AUTO_TEST_CASE(times_rate_extremes) {
    // 4611686018427387903.5 minor units: a tie, and the truncated value is odd.
    BOOST_TEST(Money(kMax, usd()).times(Decimal::parse("0.5"), RoundingMode::kHalfEven).minor() ==
               4611686018427387904);
    BOOST_TEST(Money(kMax, usd()).times(Decimal::parse("0.5"), RoundingMode::kHalfDown).minor() ==
               4611686018427387903);
    BOOST_TEST(Money(kMin, usd()).times(Decimal::parse("0.5"), RoundingMode::kHalfEven).minor() ==
               -4611686018427387904);
    BOOST_TEST(Money(kMin, usd()).times(Decimal::parse("1"), RoundingMode::kDown).minor() == kMin);
    // 10^18 x (INT64_MAX x 10^-18): the intermediate product needs 120 bits.
    BOOST_TEST(Money(1'000'000'000'000'000'000, usd()).times(Decimal(kMax, 18), RoundingMode::kDown).minor() == kMax);
    BOOST_TEST(Money(kMax, jpy()).times(Decimal(1, 18), RoundingMode::kDown).minor() == 9);
    BOOST_TEST(Money(kMax, jpy()).times(Decimal(1, 18), RoundingMode::kUp).minor() == 10);
    requireRejected([] { (void)Money(kMax, jpy()).times(Decimal(kMax, 18), RoundingMode::kDown); }, "money overflow");
    requireRejected([] { (void)Money(kMax, usd()).times(Decimal::parse("1.0000000001"), RoundingMode::kDown); },
                    "money overflow: 92233720368547758.07 USD x 1.0000000001");
    requireRejected([] { (void)Money(kMin, usd()).times(Decimal::parse("-1"), RoundingMode::kDown); },
                    "money overflow");
    requireRejected([] { (void)Money(kMin, usd()).times(Decimal(kMin, 0), RoundingMode::kDown); }, "money overflow");
}

BOOST_AUTO_TEST_CASE(convert_between_currencies) {
    const Money yen = Money::parse("1000", jpy());
    const Money dollars = yen.convert(usd(), Decimal::parse("0.0067"), RoundingMode::kHalfEven);
    BOOST_TEST(dollars.minor() == 670);
    BOOST_TEST((dollars.currency() == usd()));
    BOOST_TEST(Money::parse("100.00", usd()).convert(jpy(), Decimal::parse("149.5"), RoundingMode::kDown).minor() ==
               14950);
    BOOST_TEST(Money::parse("1.00", usd()).convert(kwd(), Decimal::parse("0.307"), RoundingMode::kDown).minor() ==
               307);
    BOOST_TEST(Money::parse("10.00", eur()).convert(usd(), Decimal::parse("1.0845"), RoundingMode::kHalfEven).minor() ==
               1084);
    BOOST_TEST(Money::parse("10.00", eur()).convert(usd(), Decimal::parse("1.0845"), RoundingMode::kHalfUp).minor() ==
               1085);
    BOOST_TEST(Money(1, usd()).convert(jpy(), Decimal::parse("150"), RoundingMode::kHalfEven).minor() == 2);
    BOOST_TEST(Money(1, usd()).convert(jpy(), Decimal::parse("150"), RoundingMode::kDown).minor() == 1);
    BOOST_TEST(Money(-1, usd()).convert(jpy(), Decimal::parse("150"), RoundingMode::kFloor).minor() == -2);
    BOOST_TEST(Money(kMax, clf()).convert(jpy(), Decimal(1, 0), RoundingMode::kDown).minor() == 922337203685477);
    requireRejected([] { (void)Money(kMax, jpy()).convert(clf(), Decimal::parse("1000"), RoundingMode::kDown); },
                    "money overflow");
    requireRejected([] { (void)Money(kMax, jpy()).convert(clf(), Decimal(kMax, 0), RoundingMode::kDown); },
                    "money overflow");
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(money_allocation)

namespace {

struct AllocationCase {
    std::int64_t total;
    std::vector<std::int64_t> weights;
    std::vector<std::int64_t> expected;
};

std::ostream& operator<<(std::ostream& out, const AllocationCase& c) {
    out << c.total << " over {";
    for (const std::int64_t w : c.weights) out << ' ' << w;
    return out << " }";
}

const std::vector<AllocationCase> kAllocationCases = {
    {100, {1, 1, 1}, {34, 33, 33}},
    {-100, {1, 1, 1}, {-34, -33, -33}},
    {5, {1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0}},
    {-5, {1, 1, 1, 1, 1, 1}, {-1, -1, -1, -1, -1, 0}},
    {100, {1}, {100}},
    {0, {1, 2}, {0, 0}},
    {100, {0, 1, 0}, {0, 100, 0}},
    {10, {3, 7}, {3, 7}},
    {1000, {1, 2, 3}, {167, 333, 500}},
    {7, {1, 1, 2}, {2, 2, 3}},
    {1, {1, 1, 1}, {1, 0, 0}},
    {2, {1, 1, 1}, {1, 1, 0}},
    {2, {1, 2, 2}, {0, 1, 1}},
    {1, {0, 5, 0, 5}, {0, 1, 0, 0}},
    {101, {50, 50}, {51, 50}},
    {-101, {50, 50}, {-51, -50}},
    {1999, {3, 3, 4}, {600, 600, 799}},
    {kMax, {kMax, kMax}, {4611686018427387904, 4611686018427387903}},
    {kMax, {kMax, 1}, {9223372036854775806, 1}},
    {kMin, {1, 1}, {-4611686018427387904, -4611686018427387904}},
    {kMin, {kMax, kMax, kMax}, {-3074457345618258603, -3074457345618258603, -3074457345618258602}},
    {kMin, {1}, {kMin}},
    {kMax, {0, kMax}, {0, kMax}},
    {kMax, {1, kMax}, {1, 9223372036854775806}},
};

}  // namespace

BOOST_DATA_TEST_CASE(table, data::make(kAllocationCases), sample) {
    const Money total(sample.total, usd());
    const std::vector<Money> parts = total.allocate(sample.weights);
    BOOST_TEST(minors(parts) == sample.expected, boost::test_tools::per_element());
    for (const Money& part : parts) BOOST_TEST((part.currency() == usd()));
}

BOOST_AUTO_TEST_CASE(evenly) {
    BOOST_TEST(minors(Money(100, usd()).allocateEvenly(3)) == std::vector<std::int64_t>({34, 33, 33}),
               boost::test_tools::per_element());
    BOOST_TEST(minors(Money(-100, usd()).allocateEvenly(3)) == std::vector<std::int64_t>({-34, -33, -33}),
               boost::test_tools::per_element());
    BOOST_TEST(minors(Money(5, usd()).allocateEvenly(6)) == std::vector<std::int64_t>({1, 1, 1, 1, 1, 0}),
               boost::test_tools::per_element());
    BOOST_TEST(minors(Money(kMin, usd()).allocateEvenly(2)) ==
                   std::vector<std::int64_t>({-4611686018427387904, -4611686018427387904}),
               boost::test_tools::per_element());
    BOOST_TEST(minors(Money(kMax, usd()).allocateEvenly(1)) == std::vector<std::int64_t>({kMax}),
               boost::test_tools::per_element());
    requireRejected([] { (void)Money(100, usd()).allocateEvenly(0); }, "cannot allocate 1.00 USD into 0 parts");
}

BOOST_AUTO_TEST_CASE(rejects_bad_weights) {
    const Money total(100, usd());
    requireRejected([&] { (void)total.allocate(std::vector<std::int64_t>{}); }, "cannot allocate 1.00 USD: no weights");
    requireRejected([&] { (void)total.allocate(std::vector<std::int64_t>{1, -1, 2}); },
                    "cannot allocate 1.00 USD: weight -1 at index 1 is negative");
    requireRejected([&] { (void)total.allocate(std::vector<std::int64_t>{0, 0}); },
                    "cannot allocate 1.00 USD: all weights are zero");
}

// Property: for many random (total, weights) the parts sum to the total exactly, each part is the floor or the
// ceiling of its exact share (with the total's sign), zero weights get nothing, the extra units go to the largest
// remainders (ties to the lowest index), and equal weights agree with allocateEvenly().
BOOST_AUTO_TEST_CASE(random_allocations_are_exact_and_fair) {
    SplitMix random(20240601);
    for (int iteration = 0; iteration < 3000; ++iteration) {
        std::int64_t total = 0;
        switch (random.between(0, 3)) {
            case 0: total = random.between(-1000, 1000); break;
            case 1: total = random.between(-1'000'000'000'000, 1'000'000'000'000); break;
            case 2: total = random.between(kMax - 1000, kMax); break;
            default: total = random.between(kMin, kMin + 1000); break;
        }
        const auto count = static_cast<std::size_t>(random.between(1, 12));
        const std::int64_t weight_limit = random.between(0, 2) == 0 ? kMax : random.between(0, 20);
        std::vector<std::int64_t> weights(count);
        for (std::int64_t& weight : weights) weight = random.between(0, weight_limit);
        if (std::all_of(weights.begin(), weights.end(), [](std::int64_t w) { return w == 0; })) weights[0] = 1;

        const AllocationCase sample{total, weights, {}};
        BOOST_TEST_CONTEXT("iteration " << iteration << ": " << sample) {
            const std::vector<Money> parts = Money(total, usd()).allocate(weights);
            BOOST_TEST_REQUIRE(parts.size() == count);

            const Int128 weight_sum = std::accumulate(weights.begin(), weights.end(), Int128{0});
            const Int128 magnitude = absolute(total);
            Int128 sum = 0;
            std::vector<bool> got_extra(count);
            std::vector<Int128> remainders(count);
            for (std::size_t i = 0; i < count; ++i) {
                const std::int64_t share = parts[i].minor();
                sum += share;
                const Int128 product = magnitude * weights[i];
                const Int128 floor_share = product / weight_sum;
                remainders[i] = product % weight_sum;
                const Int128 share_magnitude = absolute(share);
                BOOST_TEST((share_magnitude == floor_share || share_magnitude == floor_share + 1));
                if (remainders[i] == 0) BOOST_TEST((share_magnitude == floor_share));
                if (share != 0) BOOST_TEST(((share < 0) == (total < 0)));
                if (weights[i] == 0) BOOST_TEST(share == 0);
                got_extra[i] = share_magnitude == floor_share + 1;
            }
            BOOST_TEST((sum == Int128{total}));
            for (std::size_t i = 0; i < count; ++i) {
                for (std::size_t j = 0; j < count; ++j) {
                    if (got_extra[i] && !got_extra[j]) {
                        BOOST_TEST((remainders[i] > remainders[j] || (remainders[i] == remainders[j] && i < j)));
                    }
                }
            }
            const std::vector<std::int64_t> equal(count, weight_limit == 0 ? 1 : weight_limit);
            BOOST_TEST(minors(Money(total, usd()).allocate(equal)) == minors(Money(total, usd()).allocateEvenly(count)),
                       boost::test_tools::per_element());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ===============================================================================================================
BOOST_AUTO_TEST_SUITE(quantity)

BOOST_AUTO_TEST_CASE(arithmetic) {
    Quantity q(5);
    q += Quantity(7);
    BOOST_TEST(q.value() == 12);
    q -= Quantity(20);
    BOOST_TEST(q.value() == -8);
    BOOST_TEST((Quantity(3) + Quantity(4) == Quantity(7)));
    BOOST_TEST((Quantity(3) - Quantity(4) == Quantity(-1)));
    BOOST_TEST(Quantity().value() == 0);
    BOOST_TEST(Quantity(kMax).value() == kMax);
    BOOST_TEST((Quantity(kMin) + Quantity(kMax)).value() == -1);
}

BOOST_AUTO_TEST_CASE(unit_conversion) {
    BOOST_TEST(Quantity(3).times(12).value() == 36);
    BOOST_TEST(Quantity(-3).times(12).value() == -36);
    BOOST_TEST(Quantity(kMax).times(1).value() == kMax);
    BOOST_TEST(Quantity(kMax).times(-1).value() == -kMax);
    requireRejected([] { (void)Quantity(kMax).times(2); }, "quantity overflow: 9223372036854775807 x 2");
    requireRejected([] { (void)Quantity(kMin).times(-1); }, "quantity overflow");
    requireRejected([] { (void)Quantity(768614336404564651).times(12); }, "quantity overflow");
    BOOST_TEST(Quantity(768614336404564650).times(12).value() == 9223372036854775800);
}

BOOST_AUTO_TEST_CASE(overflow) {
    requireRejected([] { (void)(Quantity(kMax) + Quantity(1)); }, "quantity overflow: 9223372036854775807 + 1");
    requireRejected([] { (void)(Quantity(kMin) - Quantity(1)); }, "quantity overflow: -9223372036854775808 - 1");
    requireRejected([] { (void)(Quantity(0) - Quantity(kMin)); }, "quantity overflow");
    Quantity q(kMax);
    requireRejected([&] { q += Quantity(1); }, "quantity overflow");
    BOOST_TEST(q.value() == kMax);
}

BOOST_AUTO_TEST_CASE(comparison_and_predicates) {
    BOOST_TEST((Quantity(1) < Quantity(2)));
    BOOST_TEST((Quantity(2) >= Quantity(2)));
    BOOST_TEST((Quantity(-1) != Quantity(1)));
    BOOST_TEST(Quantity(1).isPositive());
    BOOST_TEST(!Quantity(0).isPositive());
    BOOST_TEST(!Quantity(-1).isPositive());
    BOOST_TEST(Quantity(0).isZero());
    BOOST_TEST(Quantity(-1).isNegative());
    BOOST_TEST(Quantity(-5).toString() == "-5");
    BOOST_TEST(Quantity(kMin).toString() == "-9223372036854775808");
    std::ostringstream out;
    out << Quantity(42);
    BOOST_TEST(out.str() == "42");
}

BOOST_AUTO_TEST_SUITE_END()
