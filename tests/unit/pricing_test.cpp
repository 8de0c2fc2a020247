#define BOOST_TEST_MODULE pricing
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "keel/pricing/price_book.h"
#include "keel/pricing/rules.h"

#include <string>
#include <vector>

using namespace keel;
using namespace keel::pricing;
namespace data = boost::unit_test::data;

namespace {

const Currency& usd() {
    return Currency::of("USD");
}
const Currency& eur() {
    return Currency::of("EUR");
}

Date day(int ymd) {
    return Date::fromYmd(ymd);
}

PriceEntry entry(std::int64_t min_quantity, std::int64_t unit_price, std::optional<int> from = std::nullopt,
                 std::optional<int> to = std::nullopt, const Currency& currency = Currency::of("USD")) {
    PriceEntry e;
    e.currency = &currency;
    e.min_quantity = min_quantity;
    e.unit_price = unit_price;
    if (from) e.validity.from = day(*from);
    if (to) e.validity.to = day(*to);
    return e;
}

// The unit price in minor units that selectEntry picks, or -1 for none.
std::int64_t picked(const std::vector<PriceEntry>& entries, std::int64_t quantity, int ymd = 20270115,
                    const Currency& currency = Currency::of("USD")) {
    const PriceEntry* e = selectEntry(entries, quantity, currency, day(ymd));
    return e == nullptr ? -1 : e->unit_price;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(selection)

const std::vector<PriceEntry> kBreaks = {entry(1, 1000), entry(10, 900), entry(100, 800)};

// quantity -> unit price: the highest break not above the quantity
BOOST_DATA_TEST_CASE(quantity_breaks_take_the_highest_reached,
                     data::make({1, 2, 9, 10, 11, 99, 100, 101, 1000000}) ^
                         data::make({1000, 1000, 1000, 900, 900, 900, 800, 800, 800}),
                     quantity, expected) {
    BOOST_TEST(picked(kBreaks, quantity) == expected);
}

BOOST_AUTO_TEST_CASE(breaks_are_found_in_any_order_and_none_below_the_lowest) {
    const std::vector<PriceEntry> shuffled = {entry(100, 800), entry(5, 950), entry(10, 900)};
    BOOST_TEST(picked(shuffled, 4) == -1);
    BOOST_TEST(picked(shuffled, 5) == 950);
    BOOST_TEST(picked(shuffled, 10) == 900);
    BOOST_TEST(picked(shuffled, 250) == 800);
    BOOST_TEST(picked(kBreaks, 0) == -1);
    BOOST_TEST(picked(kBreaks, -3) == -1);
    BOOST_TEST(picked({}, 10) == -1);
}

// date -> unit price for a window 2027-01-01..2027-01-31: both bounds are included
BOOST_DATA_TEST_CASE(validity_bounds_are_inclusive,
                     data::make({20261231, 20270101, 20270115, 20270131, 20270201}) ^
                         data::make({-1, 500, 500, 500, -1}),
                     ymd, expected) {
    BOOST_TEST(picked({entry(1, 500, 20270101, 20270131)}, 1, ymd) == expected);
}

BOOST_AUTO_TEST_CASE(open_bounds_reach_as_far_as_dates_go) {
    BOOST_TEST(picked({entry(1, 500, std::nullopt, 20270131)}, 1, 19000101) == 500);
    BOOST_TEST(picked({entry(1, 500, std::nullopt, 20270131)}, 1, 20270201) == -1);
    BOOST_TEST(picked({entry(1, 500, 20270101)}, 1, 99991231) == 500);
    BOOST_TEST(picked({entry(1, 500, 20270101)}, 1, 20261231) == -1);
    BOOST_TEST(picked({entry(1, 500)}, 1, 19000101) == 500);
}

BOOST_AUTO_TEST_CASE(a_later_start_overrides_a_standing_price_with_the_same_break) {
    const std::vector<PriceEntry> entries = {entry(1, 1000), entry(1, 850, 20271201, 20271231),
                                             entry(1, 990, 20270601)};
    BOOST_TEST(picked(entries, 1, 20270531) == 1000);
    BOOST_TEST(picked(entries, 1, 20270601) == 990);
    BOOST_TEST(picked(entries, 1, 20271130) == 990);
    BOOST_TEST(picked(entries, 1, 20271201) == 850);
    BOOST_TEST(picked(entries, 1, 20271231) == 850);
    BOOST_TEST(picked(entries, 1, 20280101) == 990);
}

BOOST_AUTO_TEST_CASE(the_break_decides_before_the_start_date) {
    // A promotion on single units does not undercut the 10-unit break: the highest break reached comes first.
    const std::vector<PriceEntry> entries = {entry(10, 900), entry(1, 800, 20271201, 20271231)};
    BOOST_TEST(picked(entries, 12, 20271215) == 900);
    BOOST_TEST(picked(entries, 9, 20271215) == 800);
    BOOST_TEST(picked(entries, 9, 20271115) == -1);
}

BOOST_AUTO_TEST_CASE(other_currencies_never_match) {
    const std::vector<PriceEntry> entries = {entry(1, 1000, std::nullopt, std::nullopt, eur()),
                                             entry(10, 700, std::nullopt, std::nullopt, usd())};
    BOOST_TEST(picked(entries, 20, 20270115, usd()) == 700);
    BOOST_TEST(picked(entries, 5, 20270115, usd()) == -1);  // the EUR price is not converted
    BOOST_TEST(picked(entries, 20, 20270115, eur()) == 1000);
    BOOST_TEST(picked(entries, 1, 20270115, Currency::of("JPY")) == -1);
    PriceEntry unknown = entry(1, 1);
    unknown.currency = nullptr;  // a currency this build does not know
    BOOST_TEST(picked({unknown}, 1) == -1);
}

BOOST_AUTO_TEST_CASE(a_remaining_tie_goes_to_the_first_entry) {
    BOOST_TEST(picked({entry(1, 111, 20270101, 20270131), entry(1, 222, 20270101, 20270110)}, 1, 20270105) == 111);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(precedence)

BOOST_AUTO_TEST_CASE(a_contract_price_comes_before_the_list_even_when_the_list_is_cheaper) {
    const std::vector<PriceEntry> contract = {entry(1, 1200)};
    const std::vector<PriceEntry> list = {entry(1, 1000)};
    const auto match = choosePrice(contract, list, "RETAIL", 3, usd(), day(20270115));
    BOOST_TEST_REQUIRE(match.has_value());
    BOOST_TEST(match->price.unit_price == Money(1200, usd()));
    BOOST_TEST(match->price.source == "contract");
    BOOST_TEST(match->price_list.empty());
    BOOST_TEST(match->min_quantity == 1);
}

BOOST_AUTO_TEST_CASE(the_list_applies_when_no_contract_price_does) {
    const std::vector<PriceEntry> list = {entry(1, 1000), entry(10, 900, 20270101)};
    // expired contract, a break the line does not reach, a contract in another currency
    const std::vector<PriceEntry> contract = {entry(1, 500, std::nullopt, 20261231), entry(50, 400),
                                              entry(1, 300, std::nullopt, std::nullopt, eur())};
    const auto match = choosePrice(contract, list, "RETAIL", 12, usd(), day(20270115));
    BOOST_TEST_REQUIRE(match.has_value());
    BOOST_TEST(match->price.unit_price == Money(900, usd()));
    BOOST_TEST(match->price.source == "price_list:RETAIL");
    BOOST_TEST(match->price_list == "RETAIL");
    BOOST_TEST(match->min_quantity == 10);
    BOOST_TEST(match->validity.toString() == "from 2027-01-01");

    const auto bigger = choosePrice(contract, list, "RETAIL", 50, usd(), day(20270115));
    BOOST_TEST_REQUIRE(bigger.has_value());
    BOOST_TEST(bigger->price.source == "contract");
    BOOST_TEST(bigger->price.unit_price.minor() == 400);

    const auto in_euro = choosePrice(contract, list, "RETAIL", 1, eur(), day(20270115));
    BOOST_TEST_REQUIRE(in_euro.has_value());
    BOOST_TEST(in_euro->price.unit_price == Money(300, eur()));
}

BOOST_AUTO_TEST_CASE(no_price_is_no_price_never_zero) {
    BOOST_TEST(!choosePrice({}, {}, "RETAIL", 1, usd(), day(20270115)).has_value());
    BOOST_TEST(!choosePrice({}, std::vector<PriceEntry>{entry(1, 1000, std::nullopt, std::nullopt, eur())}, "EU", 1,
                            usd(), day(20270115))
                    .has_value());
    // Without a list only a contract can price the line.
    BOOST_TEST(!choosePrice({}, std::vector<PriceEntry>{entry(1, 1000)}, "", 1, usd(), day(20270115)).has_value());
    // An explicit zero price is a price (a free sample), not a missing one.
    const auto free = choosePrice({}, std::vector<PriceEntry>{entry(1, 0)}, "SAMPLES", 1, usd(), day(20270115));
    BOOST_TEST_REQUIRE(free.has_value());
    BOOST_TEST(free->price.unit_price.isZero());
    BOOST_TEST(free->price.source == "price_list:SAMPLES");
}

BOOST_AUTO_TEST_CASE(the_query_list_or_else_the_default_list) {
    const PriceBook book("RETAIL");
    orders::PriceQuery query;
    BOOST_TEST(book.listFor(query) == "RETAIL");
    query.price_list = "WHOLESALE";
    BOOST_TEST(book.listFor(query) == "WHOLESALE");
    BOOST_TEST(PriceBook().listFor(orders::PriceQuery{}).empty());
    BOOST_TEST(priceListSource("EU-B2B") == "price_list:EU-B2B");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(parsing)

// text, currency -> minor units
BOOST_DATA_TEST_CASE(amounts_are_exact_in_their_currency,
                     data::make({"19.99", "19.990", "0", "0.00", "+5", "1000", "1.234", "12345678901234567.89"}) ^
                         data::make({"USD", "USD", "USD", "EUR", "USD", "JPY", "KWD", "USD"}) ^
                         data::make<std::int64_t>({1999, 1999, 0, 0, 500, 1000, 1234, 1234567890123456789}),
                     text, code, minor) {
    const auto amount = parseAmount(text, Currency::of(code));
    BOOST_TEST_REQUIRE(amount.ok(), (amount.ok() ? "" : amount.problem().message));
    BOOST_TEST(amount.value() == Money(minor, Currency::of(code)));
}

// text, currency -> a part of the problem
BOOST_DATA_TEST_CASE(
    bad_amounts_say_why,
    data::make({"19.995", "10.5", "1.2345", "12,50", "-1.00", ".5", "5.", "1e3", "", " 1", "USD 5",
                "99999999999999999999"}) ^
        data::make({"USD", "JPY", "KWD", "USD", "USD", "USD", "USD", "USD", "USD", "USD", "USD", "USD"}) ^
        data::make({"'19.995' has 3 decimal places, but USD amounts have 2 decimal places",
                    "'10.5' has 1 decimal place, but JPY amounts have 0 decimal places",
                    "'1.2345' has 4 decimal places, but KWD amounts have 3",
                    "invalid decimal '12,50': unexpected character ',' at position 3", "'-1.00' is negative",
                    "write 0.5, not .5", "write 5 or 5.0, not 5.", "unexpected character 'e' at position 2",
                    "it is empty", "invalid decimal ' 1'", "invalid decimal 'USD 5'", "invalid decimal"}),
    text, code, expected) {
    const auto amount = parseAmount(text, Currency::of(code));
    BOOST_TEST_REQUIRE(!amount.ok());
    BOOST_TEST(contains(amount.problem().message, expected), amount.problem().message);
}

BOOST_AUTO_TEST_CASE(amount_syntax_is_checked_without_a_currency) {
    BOOST_TEST(parseAmountSyntax("19.995").ok());  // the decimals are a matter of the currency
    BOOST_TEST(parseAmountSyntax("19.995").value() == Decimal(19995, 3));
    BOOST_TEST(!parseAmountSyntax("-0.01").ok());
    BOOST_TEST(parseAmountSyntax("-0.00").ok());  // minus zero is zero, not a negative price
    BOOST_TEST(!parseAmountSyntax("1,000.00").ok());
}

BOOST_AUTO_TEST_CASE(currencies_are_iso_codes_in_capitals) {
    BOOST_TEST_REQUIRE(parseCurrency("EUR").ok());
    BOOST_TEST(parseCurrency("EUR").value() == &Currency::of("EUR"));
    for (const char* bad : {"usd", "XYZ", "US", "EURO", ""}) {
        const auto currency = parseCurrency(bad);
        BOOST_TEST_REQUIRE(!currency.ok());
        BOOST_TEST(currency.problem().field == "currency");
        BOOST_TEST(contains(currency.problem().message, "is not an ISO 4217 currency code"));
    }
}

BOOST_AUTO_TEST_CASE(min_quantity_is_at_least_one) {
    BOOST_TEST(checkMinQuantity(1).value() == 1);
    BOOST_TEST(checkMinQuantity(1000).value() == 1000);
    for (std::int64_t bad : {0, -1, -100}) {
        const auto checked = checkMinQuantity(bad);
        BOOST_TEST_REQUIRE(!checked.ok());
        BOOST_TEST(checked.problem().field == "min_quantity");
        BOOST_TEST(contains(checked.problem().message, std::to_string(bad) + " is less than 1"));
    }
}

BOOST_AUTO_TEST_CASE(valid_from_must_not_be_after_valid_to) {
    BOOST_TEST(makeValidity(day(20270101), day(20270101)).ok());  // one day
    BOOST_TEST(makeValidity(std::nullopt, day(20270101)).ok());
    BOOST_TEST(makeValidity(day(20270101), std::nullopt).ok());
    const auto reversed = makeValidity(day(20270201), day(20270131));
    BOOST_TEST_REQUIRE(!reversed.ok());
    BOOST_TEST(reversed.problem().field == "valid_to");
    BOOST_TEST(contains(reversed.problem().message, "2027-01-31 is before valid_from 2027-02-01"));
}

BOOST_AUTO_TEST_CASE(validity_is_stored_with_an_open_start_as_1900_01_01) {
    const Validity open = Validity::fromStored(kOpenStartYmd, std::nullopt);
    BOOST_TEST(!open.from.has_value());
    BOOST_TEST(!open.to.has_value());
    BOOST_TEST(open.fromYmd() == 19000101);
    BOOST_TEST(!open.toYmd().has_value());
    BOOST_TEST(open.toString() == "always");
    const Validity window = Validity::fromStored(20270101, 20270331);
    BOOST_TEST(window.toString() == "from 2027-01-01 to 2027-03-31");
    BOOST_TEST(window.fromYmd() == 20270101);
    BOOST_TEST((window.toYmd() == std::optional<std::int64_t>(20270331)));
    BOOST_TEST(Validity::fromStored(kOpenStartYmd, 20270331).toString() == "until 2027-03-31");
}

BOOST_AUTO_TEST_CASE(price_list_codes_are_plain_ascii_words) {
    for (const char* good : {"RETAIL", "EU-B2B", "list_2027.v2", "A", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"}) {
        BOOST_TEST(!priceListCodeProblem(good).has_value(), good);
    }
    BOOST_TEST(contains(priceListCodeProblem("").value(), "is empty"));
    BOOST_TEST(contains(priceListCodeProblem("RE TAIL").value(), "at position 3"));
    BOOST_TEST(contains(priceListCodeProblem("PREISLISTE-Ä").value(), "at position 12"));
    BOOST_TEST(contains(priceListCodeProblem("price_list:X").value(), "at position 11"));
    BOOST_TEST(contains(priceListCodeProblem(std::string(33, 'A')).value(),
                        "has 33 characters; a price list code has at most 32"));
}

BOOST_AUTO_TEST_CASE(customer_codes_names_and_emails) {
    BOOST_TEST(!customerCodeProblem("C-1").has_value());
    BOOST_TEST(!customerCodeProblem("ann@example.com").has_value());
    std::string accented;
    for (int i = 0; i < 64; ++i) accented += "é";  // 64 characters, 128 bytes
    BOOST_TEST(!customerCodeProblem(accented).has_value());
    BOOST_TEST(contains(customerCodeProblem(accented + "é").value(), "has 65 characters"));
    BOOST_TEST(contains(customerCodeProblem("").value(), "is empty"));
    BOOST_TEST(contains(customerCodeProblem("C 1").value(), "contains a space at byte 2"));
    BOOST_TEST(contains(customerCodeProblem("C\t1").value(), "control character at byte 2"));

    BOOST_TEST(!customerNameProblem("").has_value());
    BOOST_TEST(!customerNameProblem("Müller & Söhne GmbH").has_value());
    BOOST_TEST(contains(customerNameProblem(std::string(201, 'x')).value(), "has 201 characters"));
    BOOST_TEST(contains(customerNameProblem("two\nlines").value(), "control character"));

    for (const char* good : {"", "ann@example.com", "a@b"}) BOOST_TEST(!emailProblem(good).has_value(), good);
    for (const char* bad : {"ann", "@example.com", "ann@", "a@b@c", "ann lee@example.com", "a@b.com,c@d.com"}) {
        BOOST_TEST(emailProblem(bad).has_value(), bad);
    }
    BOOST_TEST(contains(emailProblem(std::string(250, 'a') + "@b.com").value(), "at most 254"));
}

BOOST_AUTO_TEST_CASE(customer_kinds) {
    BOOST_TEST((customerKindFrom("b2c") == orders::CustomerKind::kB2C));
    BOOST_TEST((customerKindFrom("b2b") == orders::CustomerKind::kB2B));
    BOOST_TEST(!customerKindFrom("B2B").has_value());
    BOOST_TEST(!customerKindFrom("wholesale").has_value());
    BOOST_TEST(customerKindName(orders::CustomerKind::kB2B) == "b2b");
    BOOST_TEST(customerKindName(orders::CustomerKind::kB2C) == "b2c");
}

BOOST_AUTO_TEST_SUITE_END()
