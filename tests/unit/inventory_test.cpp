#define BOOST_TEST_MODULE inventory
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "keel/inventory/inventory.h"
#include "keel/inventory/rules.h"
#include "keel/kernel/date.h"

#include <limits>
#include <tuple>

using namespace keel;
using namespace keel::inventory;
namespace data = boost::unit_test::data;

BOOST_AUTO_TEST_SUITE(atp_rules)

// on_hand, allocated, safety -> available
BOOST_DATA_TEST_CASE(available_after_safety_stock,
                     data::make({10, 10, 10, 10, 10, 0, 5, std::numeric_limits<int>::max()}) ^
                         data::make({0, 4, 10, 0, 3, 0, 5, 0}) ^ data::make({0, 0, 0, 3, 5, 2, 0, 1}) ^
                         data::make({10, 6, 0, 7, 2, 0, 0, std::numeric_limits<int>::max() - 1}),
                     on_hand, allocated, safety, expected) {
    BOOST_TEST(availableToPromise(on_hand, allocated, safety) == expected);
}

BOOST_AUTO_TEST_CASE(safety_stock_never_makes_availability_negative) {
    BOOST_TEST(availableToPromise(5, 4, 10) == 0);
    BOOST_TEST(availableToPromise(0, 0, 100) == 0);
}

BOOST_AUTO_TEST_CASE(channel_rules_take_a_percentage_rounded_down_and_a_cap) {
    BOOST_TEST(channelAvailable(100, std::nullopt) == 100);
    BOOST_TEST(channelAvailable(100, ChannelRule{50, std::nullopt}) == 50);
    BOOST_TEST(channelAvailable(9, ChannelRule{50, std::nullopt}) == 4);  // 4.5 rounds down: never over-expose
    BOOST_TEST(channelAvailable(1, ChannelRule{99, std::nullopt}) == 0);
    BOOST_TEST(channelAvailable(100, ChannelRule{std::nullopt, 30}) == 30);
    BOOST_TEST(channelAvailable(20, ChannelRule{std::nullopt, 30}) == 20);
    BOOST_TEST(channelAvailable(100, ChannelRule{50, 30}) == 30);
    BOOST_TEST(channelAvailable(40, ChannelRule{50, 30}) == 20);
    BOOST_TEST(channelAvailable(100, ChannelRule{0, std::nullopt}) == 0);
    BOOST_TEST(channelAvailable(0, ChannelRule{100, 5}) == 0);
    BOOST_TEST(channelAvailable(std::numeric_limits<std::int64_t>::max(), ChannelRule{100, std::nullopt}) ==
               std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(channelAvailable(std::numeric_limits<std::int64_t>::max(), ChannelRule{50, std::nullopt}) ==
               std::numeric_limits<std::int64_t>::max() / 2);
}

BOOST_AUTO_TEST_CASE(kits_are_limited_by_their_scarcest_component) {
    BOOST_TEST(kitAvailable({}) == 0);
    BOOST_TEST(kitAvailable({{10, 1}}) == 10);
    BOOST_TEST(kitAvailable({{10, 2}, {9, 3}}) == 3);
    BOOST_TEST(kitAvailable({{10, 2}, {0, 1}}) == 0);
    BOOST_TEST(kitAvailable({{7, 2}, {100, 1}}) == 3);  // 3.5 kits is 3 kits
    BOOST_TEST(kitAvailable({{-5, 1}, {10, 1}}) == 0);
    BOOST_CHECK_THROW(kitAvailable({{10, 0}}), std::invalid_argument);
}

// Several reservations of one row made in one guarded update must succeed or fail exactly as one update each.
BOOST_AUTO_TEST_CASE(claims_on_one_row_fit_together_exactly_when_they_fit_one_by_one) {
    std::vector<std::vector<Claim>> sequences{{}};
    for (int length = 0; length < 3; ++length) {
        const auto shorter = sequences;
        for (const auto& sequence : shorter) {
            if (static_cast<int>(sequence.size()) != length) continue;
            for (std::int64_t quantity = 1; quantity <= 4; ++quantity) {
                for (std::int64_t protect = 0; protect <= 3; ++protect) {
                    auto longer = sequence;
                    longer.push_back(Claim{quantity, protect});
                    sequences.push_back(longer);
                }
            }
        }
    }
    BOOST_TEST(sequences.size() == 1u + 16u + 256u + 4096u);
    for (const auto& claims : sequences) {
        for (std::int64_t free = 0; free <= 16; ++free) {
            // One guarded update per claim, as reserveOne does: quantity - allocated - protect >= requested.
            std::int64_t left = free;
            std::optional<Shortfall> expected;
            for (std::size_t i = 0; i < claims.size() && !expected; ++i) {
                if (left - claims[i].protect >= claims[i].quantity) {
                    left -= claims[i].quantity;
                } else {
                    expected = Shortfall{i, std::max<std::int64_t>(left - claims[i].protect, 0)};
                }
            }
            const auto shortfall = firstShortfall(free, claims);
            BOOST_TEST_REQUIRE(shortfall.has_value() == expected.has_value());
            if (shortfall) {
                BOOST_TEST(shortfall->index == expected->index);
                BOOST_TEST(shortfall->available == expected->available);
            }
            BOOST_TEST((freeNeeded(claims).value() <= free) == !expected.has_value());
        }
    }
}

BOOST_AUTO_TEST_CASE(claims_beyond_the_64_bit_range_can_never_fit) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    using Claims = std::vector<Claim>;
    BOOST_TEST(freeNeeded(Claims{{kMax, 0}}).value() == kMax);
    BOOST_TEST(!freeNeeded(Claims{{kMax, 1}}).has_value());
    BOOST_TEST(!freeNeeded(Claims{{kMax / 2 + 1, 0}, {kMax / 2 + 1, 0}}).has_value());
    BOOST_TEST(firstShortfall(kMax, Claims{{kMax, 0}, {1, 0}})->index == 1u);
    BOOST_TEST(firstShortfall(kMax, Claims{{kMax, 0}, {1, 0}})->available == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fefo)

LotStock lot(const std::string& code, std::optional<int> expiry, std::int64_t available, bool released = true) {
    return LotStock{"id-" + code, code, expiry, available, released};
}

std::vector<std::string> taken(const std::vector<LotTake>& takes) {
    std::vector<std::string> out;
    for (const auto& t : takes) out.push_back(t.lot_id + ":" + std::to_string(t.quantity));
    return out;
}

BOOST_AUTO_TEST_CASE(earliest_expiry_first_across_lots) {
    const std::vector<LotStock> lots = {lot("C", 20270301, 5), lot("A", 20270101, 3), lot("B", 20270201, 4)};
    const std::vector<std::string> expected = {"id-A:3", "id-B:4", "id-C:1"};
    BOOST_TEST(taken(chooseFefo(lots, 8, 20261126)) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(expired_and_quarantined_lots_are_never_taken) {
    const std::vector<LotStock> lots = {lot("OLD", 20261125, 10), lot("TODAY", 20261126, 2),
                                        lot("HELD", 20261201, 10, false), lot("NEW", 20270101, 10)};
    // An expiry date is the last sellable day.
    const std::vector<std::string> expected = {"id-TODAY:2", "id-NEW:3"};
    BOOST_TEST(taken(chooseFefo(lots, 5, 20261126)) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(lots_without_expiry_come_last_and_ties_go_by_lot_code) {
    const std::vector<LotStock> lots = {lot("Z", std::nullopt, 10), lot("B", 20270101, 1), lot("A", 20270101, 1)};
    const std::vector<std::string> expected = {"id-A:1", "id-B:1", "id-Z:1"};
    BOOST_TEST(taken(chooseFefo(lots, 3, 20261126)) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(short_supply_returns_what_there_is) {
    const auto takes = chooseFefo({lot("A", 20270101, 2), lot("B", 20270101, 0)}, 5, 20261126);
    BOOST_TEST_REQUIRE(takes.size() == 1u);
    BOOST_TEST(takes.front().quantity == 2);
    BOOST_TEST(chooseFefo({}, 5, 20261126).empty());
}

BOOST_AUTO_TEST_CASE(sellable_means_not_past_the_expiry_date) {
    BOOST_TEST(isSellable(std::nullopt, 20261126));
    BOOST_TEST(isSellable(20261126, 20261126));
    BOOST_TEST(!isSellable(20261125, 20261126));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dates)

BOOST_AUTO_TEST_CASE(parse_and_format) {
    BOOST_TEST(Date::parse("2027-12-31").value().ymd() == 20271231);
    BOOST_TEST(Date::parse("2028-02-29").value().toString() == "2028-02-29");
    BOOST_TEST(!Date::parse("2027-02-29").ok());
    BOOST_TEST(Date::parse("2027-02-29").problem().message.find("not a day") != std::string::npos);
    BOOST_TEST(!Date::parse("2027-13-01").ok());
    BOOST_TEST(!Date::parse("27-12-31").ok());
    BOOST_TEST(!Date::parse("2027/12/31").ok());
    BOOST_TEST(!Date::parse("2027-1-31").ok());
    BOOST_CHECK_THROW(Date::fromYmd(20270230), RejectedError);
}

BOOST_AUTO_TEST_CASE(arithmetic_crosses_months_years_and_leap_days) {
    BOOST_TEST(Date::fromYmd(20261231).plusDays(1).ymd() == 20270101);
    BOOST_TEST(Date::fromYmd(20280228).plusDays(1).ymd() == 20280229);
    BOOST_TEST(Date::fromYmd(20270301).plusDays(-1).ymd() == 20270228);
    BOOST_TEST(Date::fromYmd(20261126).plusDays(365).ymd() == 20271126);
}

BOOST_AUTO_TEST_CASE(today_is_the_utc_day_of_the_clock) {
    ManualClock clock(1'798'761'599'000'000);  // 2026-12-31T23:59:59Z
    BOOST_TEST(Date::today(clock).ymd() == 20261231);
    clock.advance(1'000'000);
    BOOST_TEST(Date::today(clock).ymd() == 20270101);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(state_names_round_trip) {
    for (StockState s : {StockState::kOnHand, StockState::kQuarantined, StockState::kInTransit, StockState::kReturned,
                         StockState::kDamaged}) {
        BOOST_TEST(toString(stockStateFrom(toString(s)).value()) == toString(s));
    }
    BOOST_TEST(!stockStateFrom("allocated").has_value());
}
