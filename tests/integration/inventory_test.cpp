#define BOOST_TEST_MODULE inventory
#include <boost/test/unit_test.hpp>

#include "process.h"
#include "temp_dir.h"
#include "test_database.h"

#include "keel/catalog/catalog.h"
#include "keel/catalog/import.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/inventory/stock_import.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

using namespace keel;
using namespace keel::inventory;

namespace {

constexpr std::int64_t kNow = 1'795'651'200'000'000;  // 2026-11-26T00:00:00Z

// A migrated database with a frozen clock, a catalog and the inventory service. Same body on every backend.
struct Stock {
    test::TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{kNow};
    catalog::Catalog catalog{clock};
    Inventory inventory{clock};
    std::string wh1;
    std::string wh2;

    Stock() {
        db::Migrator(db).migrate();
        wh1 = location("WH1", 10);
        wh2 = location("WH2", 20);
    }

    std::string location(const std::string& code, int priority, bool ships = true) {
        catalog::Location l;
        l.code = code;
        l.name = "Warehouse " + code;
        l.priority = priority;
        l.country = "US";
        l.region = "IL";
        l.ships_to_customers = ships;
        return db.run([&](db::UnitOfWork& uow) { return catalog.saveLocation(uow, l); });
    }

    std::string item(const std::string& sku, bool lots = false, bool expiry = false) {
        catalog::Item i;
        i.sku = sku;
        i.name = "Item " + sku;
        i.lot_tracked = lots || expiry;
        i.expiry_tracked = expiry;
        return db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, i); });
    }

    std::string kit(const std::string& sku, const std::vector<std::pair<std::string, std::int64_t>>& parts) {
        catalog::Item i;
        i.sku = sku;
        i.name = "Kit " + sku;
        i.is_kit = true;
        for (const auto& [component_sku, quantity] : parts) i.components.push_back({"", component_sku, quantity});
        return db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, i); });
    }

    template <typename T, typename Work>
    Result<T> run(Work&& work) {
        return db.run([&](db::UnitOfWork& uow) -> Result<T> { return work(uow); });
    }

    void receive(const std::string& item_id, const std::string& location_id, std::int64_t quantity,
                 std::optional<std::string> lot = std::nullopt, std::optional<int> expiry = std::nullopt) {
        ReceiveRequest r;
        r.item_id = item_id;
        r.location_id = location_id;
        r.quantity = quantity;
        r.lot_code = std::move(lot);
        if (expiry) r.expiry = Date::fromYmd(*expiry);
        r.unit_cost = Money::parse("2.50", Currency::of("USD"));
        const auto result = run<ReceiveResult>([&](db::UnitOfWork& uow) { return inventory.receive(uow, r); });
        BOOST_TEST_REQUIRE(result.ok(), (result.ok() ? "" : result.problem().message));
    }

    Result<ReserveResult> reserve(const std::string& item_id, const std::string& location_id, std::int64_t quantity,
                                  ReservationKind kind = ReservationKind::kAllocation, const std::string& channel = "") {
        ReserveRequest r;
        r.item_id = item_id;
        r.location_id = location_id;
        r.quantity = quantity;
        r.kind = kind;
        r.channel = channel;
        r.order_id = "O-1";
        if (kind == ReservationKind::kHold) r.ttl_micros = 60'000'000;
        return run<ReserveResult>([&](db::UnitOfWork& uow) { return inventory.reserve(uow, r); });
    }

    /// One line of an order for reserveLines.
    ReserveRequest line(const std::string& item_id, const std::string& location_id, std::int64_t quantity,
                        ReservationKind kind = ReservationKind::kAllocation) {
        ReserveRequest r;
        r.item_id = item_id;
        r.location_id = location_id;
        r.quantity = quantity;
        r.kind = kind;
        r.order_id = "O-1";
        r.order_line = std::to_string(++lines_made);
        if (kind == ReservationKind::kHold) r.ttl_micros = 60'000'000;
        return r;
    }
    int lines_made = 0;

    Result<std::vector<ReserveResult>> reserveLines(const std::vector<ReserveRequest>& lines) {
        return run<std::vector<ReserveResult>>([&](db::UnitOfWork& uow) { return inventory.reserveMany(uow, lines); });
    }

    std::int64_t atp(const std::string& item_id, std::optional<std::string> location = std::nullopt,
                     std::optional<std::string> channel = std::nullopt) {
        return db.run([&](db::UnitOfWork& uow) {
            return inventory
                .atp(uow, item_id, location ? std::optional<std::string_view>(*location) : std::nullopt,
                     channel ? std::optional<std::string_view>(*channel) : std::nullopt)
                .available;
        });
    }

    std::int64_t balance(const std::string& item_id, const std::string& location_id, StockState state,
                         bool allocated = false) {
        std::int64_t total = 0;
        db.run([&](db::UnitOfWork& uow) {
            total = 0;
            for (const auto& b : inventory.balances(uow, item_id, location_id)) {
                if (b.state == state) total += allocated ? b.allocated : b.quantity;
            }
        });
        return total;
    }

    std::int64_t count(const std::string& sql) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(sql);
            s.execute();
            s.next();
            return s.getInt64(0);
        });
    }

    void requireNoDrift() {
        const VerifyReport report = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
        for (const auto& d : report.drifts) {
            BOOST_ERROR("drift: " << d.what << " of " << d.item_id << "/" << d.location_id << "/" << d.lot_id << "/"
                                  << d.state << " is " << d.balance << ", expected " << d.expected);
        }
        BOOST_TEST(report.ok());
    }

    Source manual() const { return Source{"test", "", "tester", ""}; }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger)

BOOST_FIXTURE_TEST_CASE(receipts_and_adjustments_are_moves_and_balances_follow, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    auto lost = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.adjust(uow, AdjustRequest{sku, wh1, std::nullopt, -3, "lost", manual()});
    });
    BOOST_TEST_REQUIRE(lost.ok());
    auto found = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.adjust(uow, AdjustRequest{sku, wh1, std::nullopt, 1, "found", manual()});
    });
    BOOST_TEST_REQUIRE(found.ok());
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 8);
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_move") == 3);
    BOOST_TEST(count("SELECT SUM(unit_cost) FROM stock_move WHERE reason = 'receipt'") == 250);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(refused_changes_leave_nothing_behind, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 5);
    BOOST_TEST_REQUIRE(reserve(sku, wh1, 2).ok());
    // Taking more than the unallocated stock is refused with what is there.
    auto too_much = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.adjust(uow, AdjustRequest{sku, wh1, std::nullopt, -4, "lost", manual()});
    });
    BOOST_TEST_REQUIRE(!too_much.ok());
    BOOST_TEST(contains(too_much.problem().message, "which has 3"), too_much.problem().message);
    BOOST_TEST(contains(too_much.problem().message, "2 more allocated"));
    auto bad_reason = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.adjust(uow, AdjustRequest{sku, wh1, std::nullopt, -1, "vanished", manual()});
    });
    BOOST_TEST_REQUIRE(!bad_reason.ok());
    BOOST_TEST(contains(bad_reason.problem().message, "found, lost"));
    // A transfer whose second line cannot be shipped: the first line's move is rolled back too.
    const std::string other = item("SKU-2");
    receive(other, wh1, 1);
    auto transfer = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.shipTransfer(uow, wh1, wh2, {{sku, std::nullopt, 3}, {other, std::nullopt, 2}}, "T-1", manual());
    });
    BOOST_TEST_REQUIRE(!transfer.ok());
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 5);
    BOOST_TEST(balance(sku, wh2, StockState::kInTransit) == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_transfer") == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_move") == 2);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(the_database_itself_refuses_negative_stock, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 1);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) {
                          uow.statement("UPDATE stock_balance SET quantity = quantity - 2 WHERE item_id = ?").bind(sku).execute();
                      }),
                      db::DbError);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) {
                          uow.statement("UPDATE stock_balance SET allocated = 2 WHERE item_id = ?").bind(sku).execute();
                      }),
                      db::DbError);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 1);
}

BOOST_FIXTURE_TEST_CASE(verify_finds_tampered_balances, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    BOOST_TEST_REQUIRE(reserve(sku, wh1, 4).ok());
    requireNoDrift();
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE stock_balance SET quantity = quantity + 1, allocated = allocated - 1 WHERE item_id = ?")
            .bind(sku)
            .execute();
    });
    const VerifyReport report = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
    BOOST_TEST_REQUIRE(report.drifts.size() == 2u);
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> by_what;
    for (const auto& d : report.drifts) by_what[d.what] = {d.balance, d.expected};
    BOOST_TEST(by_what["quantity"].first == 11);
    BOOST_TEST(by_what["quantity"].second == 10);
    BOOST_TEST(by_what["allocated"].first == 3);
    BOOST_TEST(by_what["allocated"].second == 4);
}

BOOST_FIXTURE_TEST_CASE(what_stock_means_cannot_change_once_there_is_stock, Stock) {
    const std::string sku = item("SKU-1");
    const std::string empty = item("SKU-2");
    receive(sku, wh1, 3);
    auto change = [&](const std::string& code) {
        return db.run([&](db::UnitOfWork& uow) {
            catalog::Item i = catalog.requireItem(uow, code);
            i.lot_tracked = true;
            return catalog.saveItem(uow, i);
        });
    };
    try {
        change("SKU-1");
        BOOST_FAIL("lot tracking changed under existing stock");
    } catch (const ConflictError& e) {
        BOOST_TEST(contains(e.what(), "stock history"), e.what());
    }
    BOOST_CHECK_NO_THROW(change("SKU-2"));  // no stock yet: free to change
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) {
                          catalog::Item i = catalog.requireItem(uow, "SKU-1");
                          i.cost_method = catalog::CostMethod::kFifo;  // its cost pool was built at moving average
                          return catalog.saveItem(uow, i);
                      }),
                      ConflictError);
    std::istringstream csv("sku,name,base_uom\nSKU-1,Item SKU-1,g\n");
    const auto report = catalog::CatalogCsv(clock).importItems(db, csv, "items.csv", {});
    BOOST_TEST_REQUIRE(report.problems.size() == 1u);
    BOOST_TEST(contains(report.problems.front().what(), "items.csv:2: column 'base_uom': the base unit cannot change"),
               report.problems.front().what());
    (void)empty;
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(reservations)

BOOST_FIXTURE_TEST_CASE(allocate_release_and_ship, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    auto first = reserve(sku, wh1, 4);
    BOOST_TEST_REQUIRE(first.ok());
    BOOST_TEST(atp(sku) == 6);
    auto refused = reserve(sku, wh1, 7);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(contains(refused.problem().message, "SKU-1 at WH1 has 6 available, 7 requested"),
               refused.problem().message);
    auto second = reserve(sku, wh1, 6);
    BOOST_TEST_REQUIRE(second.ok());
    BOOST_TEST(atp(sku) == 0);

    const std::string first_id = first.value().reservations.front().id;
    const std::string second_id = second.value().reservations.front().id;
    BOOST_TEST(run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.release(uow, first_id); }).value() == 4);
    BOOST_TEST(atp(sku) == 4);
    auto again = run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.release(uow, first_id); });
    BOOST_TEST_REQUIRE(!again.ok());
    BOOST_TEST(static_cast<int>(again.problem().code) == 4);  // conflict: already released

    BOOST_TEST_REQUIRE(
        run<std::string>([&](db::UnitOfWork& uow) { return inventory.consume(uow, second_id, 2, manual()); }).ok());
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 8);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) == 4);
    BOOST_TEST(atp(sku) == 4);
    BOOST_TEST_REQUIRE(
        run<std::string>([&](db::UnitOfWork& uow) { return inventory.consume(uow, second_id, 4, manual()); }).ok());
    const auto closed = db.run([&](db::UnitOfWork& uow) { return inventory.findReservation(uow, second_id); });
    BOOST_TEST(closed->status == "consumed");
    BOOST_TEST(closed->remaining == 0);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 4);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(shipping_a_known_reservation_checks_it_is_still_that_stock, Stock) {
    const std::string sku = item("SKU-1");
    const std::string other = item("SKU-2");
    receive(sku, wh1, 10);
    receive(sku, wh2, 10);
    auto allocated = reserve(sku, wh1, 5);
    auto held = reserve(sku, wh1, 2, ReservationKind::kHold);
    BOOST_TEST_REQUIRE((allocated.ok() && held.ok()));
    const Reservation known = allocated.value().reservations.front();
    auto ship = [&](Reservation r, std::int64_t quantity) {
        return run<std::string>([&](db::UnitOfWork& uow) { return inventory.consume(uow, r, quantity, manual()); });
    };
    auto refused = [&](Reservation r, std::int64_t quantity, int code, const std::string& text) {
        const auto result = ship(r, quantity);
        BOOST_TEST_REQUIRE(!result.ok());
        BOOST_TEST(static_cast<int>(result.problem().code) == code);
        BOOST_TEST(contains(result.problem().message, text), result.problem().message);
    };
    Reservation elsewhere = known;
    elsewhere.location_id = wh2;
    refused(elsewhere, 1, 4, "holds SKU-1 at WH1, not SKU-1 at WH2");
    Reservation wrong_item = known;
    wrong_item.item_id = other;
    refused(wrong_item, 1, 4, "not SKU-2 at WH1");
    refused(known, 6, 2, "can ship 1 to 5 of reservation");
    refused(known, 0, 2, "can ship 1 to 5 of reservation");
    refused(held.value().reservations.front(), 1, 2, "is a hold");
    Reservation missing = known;
    missing.id = "no-such-reservation";
    refused(missing, 1, 3, "no reservation 'no-such-reservation'");
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 10);  // nothing refused changed anything

    BOOST_TEST_REQUIRE(ship(known, 5).ok());
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 5);
    refused(known, 1, 4, "is already consumed");
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(holds_respect_safety_stock_and_expire, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    db.run([&](db::UnitOfWork& uow) { inventory.setSafetyStock(uow, sku, "", 2); });
    db.run([&](db::UnitOfWork& uow) { inventory.setSafetyStock(uow, sku, wh1, 3); });  // location overrides item
    BOOST_TEST(atp(sku) == 7);
    BOOST_TEST(!reserve(sku, wh1, 8, ReservationKind::kHold).ok());
    auto hold = reserve(sku, wh1, 7, ReservationKind::kHold);
    BOOST_TEST_REQUIRE(hold.ok());
    BOOST_TEST(atp(sku) == 0);
    // An order allocation may use the safety stock; that is what it is for.
    BOOST_TEST(reserve(sku, wh1, 3).ok());
    BOOST_TEST(!reserve(sku, wh1, 1).ok());

    clock.advance(59'000'000);
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return inventory.sweepExpiredHolds(uow); }) == 0);
    clock.advance(2'000'000);
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return inventory.sweepExpiredHolds(uow); }) == 1);
    const auto expired = db.run(
        [&](db::UnitOfWork& uow) { return inventory.findReservation(uow, hold.value().reservations.front().id); });
    BOOST_TEST(expired->status == "expired");
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) == 3);
    BOOST_TEST(atp(sku) == 4);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(channel_rules_keep_stock_for_other_channels, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 100);
    db.run([&](db::UnitOfWork& uow) { inventory.setChannelRule(uow, "marketplace", "", ChannelRule{50, std::nullopt}); });
    db.run([&](db::UnitOfWork& uow) { inventory.setChannelRule(uow, "marketplace", sku, ChannelRule{50, 30}); });
    BOOST_TEST(atp(sku) == 100);
    BOOST_TEST(atp(sku, std::nullopt, std::string("marketplace")) == 30);
    BOOST_TEST(atp(sku, std::nullopt, std::string("b2b")) == 100);
    BOOST_TEST(!reserve(sku, wh1, 31, ReservationKind::kAllocation, "marketplace").ok());
    BOOST_TEST(reserve(sku, wh1, 30, ReservationKind::kAllocation, "marketplace").ok());
    BOOST_TEST(atp(sku, std::nullopt, std::string("marketplace")) == 30);  // half of 70, capped at 30
    BOOST_TEST(reserve(sku, wh1, 40, ReservationKind::kAllocation, "marketplace").ok() == false);
    BOOST_TEST(reserve(sku, wh1, 70, ReservationKind::kAllocation, "b2b").ok());
    BOOST_TEST(atp(sku, std::nullopt, std::string("marketplace")) == 0);
    // Removing the item rule falls back to the channel-wide one.
    db.run([&](db::UnitOfWork& uow) { inventory.setChannelRule(uow, "marketplace", sku, ChannelRule{}); });
    requireNoDrift();
}

// A unit of work reads a channel's rules once (an allocation reads them to route and again to reserve), and a rule
// it changes itself is read again.
BOOST_FIXTURE_TEST_CASE(a_unit_reads_channel_rules_once_and_again_after_changing_one, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 100);
    db.run([&](db::UnitOfWork& uow) {
        inventory.setChannelRule(uow, "marketplace", sku, ChannelRule{50, std::nullopt});
    });
    // The item's facts are cached by the process: read them first, so that only the rules make a difference below.
    db.run([&](db::UnitOfWork& uow) { inventory.reservable(uow, sku, "b2b", false); });
    db.run([&](db::UnitOfWork& uow) {
        auto statementsOf = [&] {
            const std::uint64_t before = db::statementsExecuted();
            BOOST_TEST(inventory.reservable(uow, sku, "marketplace", false).at(wh1) == 50);
            return db::statementsExecuted() - before;
        };
        const std::uint64_t first = statementsOf();
        const std::uint64_t second = statementsOf();
        BOOST_TEST(first == second + 1);  // the second read had the channel's rules
        inventory.setChannelRule(uow, "marketplace", sku, ChannelRule{std::nullopt, 10});
        BOOST_TEST(inventory.reservable(uow, sku, "marketplace", false).at(wh1) == 10);
    });
    BOOST_TEST(atp(sku, std::nullopt, std::string("marketplace")) == 10);
}

BOOST_FIXTURE_TEST_CASE(fefo_lots_expiry_and_recall, Stock) {
    const std::string sku = item("MILK", true, true);
    receive(sku, wh1, 5, "A", 20261201);
    receive(sku, wh1, 5, "B", 20270101);
    receive(sku, wh1, 5, "OLD", 20261125);  // already expired: on the books, never available
    BOOST_TEST(atp(sku) == 10);
    auto taken = reserve(sku, wh1, 7);
    BOOST_TEST_REQUIRE(taken.ok());
    std::map<std::string, std::int64_t> by_lot;
    db.run([&](db::UnitOfWork& uow) {
        for (const auto& r : taken.value().reservations) {
            db::Statement& s = uow.statement("SELECT lot_code FROM lot WHERE id = ?");
            s.bind(r.lot_id).execute();
            s.next();
            by_lot[s.getString(0)] = r.quantity;
        }
    });
    BOOST_TEST(by_lot.size() == 2u);
    BOOST_TEST(by_lot["A"] == 5);
    BOOST_TEST(by_lot["B"] == 2);
    BOOST_TEST(atp(sku) == 3);

    // Recall lot B: its free stock goes to quarantine, what orders hold is reported.
    auto recalled = run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.quarantineLot(uow, sku, "B", manual()); });
    BOOST_TEST_REQUIRE(recalled.ok());
    BOOST_TEST(recalled.value() == 2);
    BOOST_TEST(atp(sku) == 0);
    BOOST_TEST(balance(sku, wh1, StockState::kQuarantined) == 3);
    receive(sku, wh1, 4, "B");  // more of the recalled lot arrives quarantined
    BOOST_TEST(balance(sku, wh1, StockState::kQuarantined) == 7);
    BOOST_TEST(!reserve(sku, wh1, 1).ok());
    BOOST_TEST(run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.releaseLot(uow, sku, "B", manual()); })
                   .value() == 7);
    BOOST_TEST(atp(sku) == 7);

    // The same lot cannot change its expiry, and an expiry-tracked item needs one.
    ReceiveRequest wrong;
    wrong.item_id = sku;
    wrong.location_id = wh1;
    wrong.quantity = 1;
    wrong.lot_code = "A";
    wrong.expiry = Date::fromYmd(20261215);
    auto conflict = run<ReceiveResult>([&](db::UnitOfWork& uow) { return inventory.receive(uow, wrong); });
    BOOST_TEST_REQUIRE(!conflict.ok());
    BOOST_TEST(contains(conflict.problem().message, "expires on 2026-12-01"));
    wrong.lot_code = "C";
    wrong.expiry.reset();
    BOOST_TEST(!run<ReceiveResult>([&](db::UnitOfWork& uow) { return inventory.receive(uow, wrong); }).ok());
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(kits_are_available_and_reserved_through_their_components, Stock) {
    const std::string x = item("X");
    const std::string y = item("Y");
    const std::string k = kit("K", {{"X", 2}, {"Y", 3}});
    receive(x, wh1, 10);
    receive(y, wh1, 9);
    BOOST_TEST(atp(k) == 3);
    auto kits = reserve(k, wh1, 2);
    BOOST_TEST_REQUIRE(kits.ok());
    BOOST_TEST(kits.value().reservations.size() == 2u);
    BOOST_TEST(balance(x, wh1, StockState::kOnHand, true) == 4);
    BOOST_TEST(balance(y, wh1, StockState::kOnHand, true) == 6);
    BOOST_TEST(atp(k) == 1);
    BOOST_TEST(!reserve(k, wh1, 2).ok());
    BOOST_TEST(balance(x, wh1, StockState::kOnHand, true) == 4);  // the refused kit left no component reserved
    // Components at different locations do not make a kit.
    receive(y, wh2, 30);
    BOOST_TEST(atp(k) == 1);
    requireNoDrift();
}

// An order's lines are reserved all or nothing, and a refusal names the first line, in lock order ((item,
// location)), that lacks stock, as reserving them one by one would. On SQLite the lines without lots are one
// guarded UPDATE; these tests hold on every backend.
BOOST_FIXTURE_TEST_CASE(an_order_line_without_stock_is_named_and_nothing_is_reserved, Stock) {
    std::vector<std::string> skus;
    for (const char* sku : {"A", "B", "C", "D", "E"}) {
        skus.push_back(item(sku));
        receive(skus.back(), wh1, 10);
    }
    auto allocated = [&] {
        std::int64_t total = 0;
        for (const auto& sku : skus) total += balance(sku, wh1, StockState::kOnHand, true);
        return total;
    };
    auto refused = reserveLines({line(skus[0], wh1, 3), line(skus[1], wh1, 3), line(skus[2], wh1, 11),
                                 line(skus[3], wh1, 3), line(skus[4], wh1, 3)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[2].quantity");
    BOOST_TEST(contains(refused.problem().message, "insufficient stock: C at WH1 has 10 available, 11 requested"),
               refused.problem().message);
    BOOST_TEST(allocated() == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM reservation") == 0);

    // Two short lines: the one first in lock order (item id) is named, whatever the order of the lines.
    const std::size_t first = skus[1] < skus[3] ? 1 : 3;
    refused = reserveLines({line(skus[3], wh1, 12), line(skus[0], wh1, 1), line(skus[1], wh1, 13)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == (first == 1 ? "lines[2].quantity" : "lines[0].quantity"));
    BOOST_TEST(contains(refused.problem().message, first == 1 ? "B at WH1 has 10 available, 13 requested"
                                                              : "D at WH1 has 10 available, 12 requested"),
               refused.problem().message);
    BOOST_TEST(allocated() == 0);

    // A line that is wrong in itself is named the same way.
    refused = reserveLines({line(skus[0], wh1, 1), line(skus[1], wh1, 0)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[1].quantity");
    BOOST_TEST(allocated() == 0);

    auto taken = reserveLines({line(skus[0], wh1, 3), line(skus[1], wh1, 3), line(skus[2], wh1, 10),
                               line(skus[3], wh1, 3), line(skus[4], wh1, 3)});
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    BOOST_TEST(taken.value().size() == 5u);
    BOOST_TEST(taken.value()[2].reserved == 10);
    BOOST_TEST(taken.value()[2].reservations.front().item_id == skus[2]);
    BOOST_TEST(allocated() == 22);
    BOOST_TEST(atp(skus[2]) == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM reservation WHERE status = 'active'") == 5);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(lines_of_the_same_item_and_location_are_reserved_one_after_another, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    receive(sku, wh2, 10);
    auto taken = reserveLines({line(sku, wh1, 4), line(sku, wh2, 6), line(sku, wh1, 4)});
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    BOOST_TEST(taken.value()[0].reservations.size() == 1u);
    BOOST_TEST(taken.value()[2].reservations.size() == 1u);
    BOOST_TEST(taken.value()[0].reservations.front().id != taken.value()[2].reservations.front().id);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) == 8);
    BOOST_TEST(balance(sku, wh2, StockState::kOnHand, true) == 6);

    // 2 left at WH1: the first line fits, the second does not and is named with what was left for it.
    auto refused = reserveLines({line(sku, wh1, 1), line(sku, wh1, 2)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[1].quantity");
    BOOST_TEST(contains(refused.problem().message, "SKU-1 at WH1 has 1 available, 2 requested"),
               refused.problem().message);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) == 8);

    // A hold leaves the safety stock that an allocation may take, line by line: 4 free at WH2, safety stock 3.
    db.run([&](db::UnitOfWork& uow) { inventory.setSafetyStock(uow, sku, wh2, 3); });
    refused = reserveLines({line(sku, wh2, 2), line(sku, wh2, 2, ReservationKind::kHold)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[1].quantity");
    BOOST_TEST(contains(refused.problem().message, "SKU-1 at WH2 has 0 available, 2 requested"),
               refused.problem().message);
    taken = reserveLines({line(sku, wh2, 1, ReservationKind::kHold), line(sku, wh2, 3)});
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    BOOST_TEST((taken.value()[0].reservations.front().kind == ReservationKind::kHold));
    BOOST_TEST(balance(sku, wh2, StockState::kOnHand, true) == 10);
    BOOST_TEST(count("SELECT COUNT(*) FROM reservation WHERE status = 'active'") == 5);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(lines_with_and_without_lots_in_one_order, Stock) {
    const std::string plain = item("PLAIN");
    const std::string milk = item("MILK", true, true);
    const std::string other = item("OTHER");
    receive(plain, wh1, 10);
    receive(other, wh1, 10);
    receive(milk, wh1, 5, "A", 20261201);
    receive(milk, wh1, 5, "B", 20270101);
    auto taken = reserveLines({line(plain, wh1, 2), line(milk, wh1, 7), line(other, wh1, 3), line(plain, wh1, 1)});
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    BOOST_TEST(taken.value()[1].reserved == 7);
    BOOST_TEST(taken.value()[1].reservations.size() == 2u);  // FEFO: all of lot A, 2 of lot B
    for (const auto& r : taken.value()[1].reservations) BOOST_TEST(!r.lot_id.empty());
    BOOST_TEST(taken.value()[0].reservations.front().lot_id == "");
    BOOST_TEST(balance(plain, wh1, StockState::kOnHand, true) == 3);
    BOOST_TEST(balance(other, wh1, StockState::kOnHand, true) == 3);
    BOOST_TEST(balance(milk, wh1, StockState::kOnHand, true) == 7);

    // The lot-tracked line lacks stock: it is named and the lines without lots are not reserved either.
    auto refused = reserveLines({line(plain, wh1, 1), line(other, wh1, 1), line(milk, wh1, 4)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[2].quantity");
    BOOST_TEST(contains(refused.problem().message, "MILK at WH1 has 3 available, 4 requested"),
               refused.problem().message);
    // A line without lots lacks stock: it is named, and the lot-tracked line changed nothing.
    refused = reserveLines({line(milk, wh1, 3), line(plain, wh1, 8)});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().field == "lines[1].quantity");
    BOOST_TEST(contains(refused.problem().message, "PLAIN at WH1 has 7 available, 8 requested"),
               refused.problem().message);
    BOOST_TEST(balance(plain, wh1, StockState::kOnHand, true) == 3);
    BOOST_TEST(balance(other, wh1, StockState::kOnHand, true) == 3);
    BOOST_TEST(balance(milk, wh1, StockState::kOnHand, true) == 7);
    BOOST_TEST(count("SELECT COUNT(*) FROM reservation WHERE status = 'active'") == 5);
    requireNoDrift();
}

// A kit line reserves its components after the lines before it in lock order, even when they are plain lines
// of the same component waiting to be reserved together.
BOOST_FIXTURE_TEST_CASE(a_kit_and_a_line_of_its_component_share_the_stock_in_lock_order, Stock) {
    const std::string x = item("X");
    const std::string k = kit("K", {{"X", 2}});
    receive(x, wh1, 10);
    auto refused = reserveLines({line(x, wh1, 7), line(k, wh1, 2)});
    BOOST_TEST_REQUIRE(!refused.ok());
    if (x < k) {
        BOOST_TEST(refused.problem().field == "lines[1].quantity");
        BOOST_TEST(contains(refused.problem().message, "X at WH1 has 3 available, 4 requested"),
                   refused.problem().message);
    } else {
        BOOST_TEST(refused.problem().field == "lines[0].quantity");
        BOOST_TEST(contains(refused.problem().message, "X at WH1 has 6 available, 7 requested"),
                   refused.problem().message);
    }
    BOOST_TEST(balance(x, wh1, StockState::kOnHand, true) == 0);
    auto taken = reserveLines({line(x, wh1, 6), line(k, wh1, 2)});
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    BOOST_TEST(balance(x, wh1, StockState::kOnHand, true) == 10);
    requireNoDrift();
}

// An order's allocation plans with reservableMany: each item's reservable stock per location, in a fixed number of
// statements however many items.
BOOST_FIXTURE_TEST_CASE(reservable_stock_of_many_items_at_once, Stock) {
    const std::string a = item("A");
    const std::string b = item("B");
    const std::string lots = item("L", true);
    const std::string k = kit("K", {{"A", 2}, {"B", 1}});
    receive(a, wh1, 10);
    receive(a, wh2, 5);
    receive(b, wh1, 6);
    receive(lots, wh1, 4, "OLD");
    receive(lots, wh1, 3, "NEW");
    BOOST_TEST_REQUIRE(run<std::int64_t>([&](db::UnitOfWork& uow) {
                           return inventory.quarantineLot(uow, lots, "OLD", manual());
                       }).ok());
    BOOST_TEST_REQUIRE(reserve(a, wh1, 2).ok());
    db.run([&](db::UnitOfWork& uow) { inventory.setSafetyStock(uow, a, "", 1); });
    db.run([&](db::UnitOfWork& uow) {
        inventory.setChannelRule(uow, "marketplace", a, ChannelRule{50, std::nullopt});
    });
    inventory.invalidateCache();
    std::uint64_t statements = 0;
    auto many = db.run([&](db::UnitOfWork& uow) {
        const std::uint64_t before = db::statementsExecuted();
        auto result = inventory.reservableMany(uow, {a, b, lots, k, "no-such-item"}, "marketplace", true);
        statements = db::statementsExecuted() - before;
        return result;
    });
    BOOST_TEST(statements == 4u);  // facts, the kit's components, the channel's rules, the balance rows
    BOOST_TEST(many.count("no-such-item") == 0u);
    // A plain item: what available-to-promise offers the channel at each location.
    for (const auto& id : {a, b, lots}) {
        const Atp offered =
            db.run([&](db::UnitOfWork& uow) { return inventory.atp(uow, id, std::nullopt, "marketplace"); });
        BOOST_TEST(many[id].size() == offered.locations.size());
        for (const auto& at : offered.locations) BOOST_TEST(many[id][at.location_id] == at.available, at.location_code);
    }
    // By hand: A at WH1 has 10 - 2 allocated - 1 safety stock = 7, half for the marketplace; L only its released lot.
    BOOST_TEST(many[a][wh1] == 3);
    BOOST_TEST(many[a][wh2] == 2);
    BOOST_TEST(many[lots][wh1] == 3);
    // The kit: per location, the fewest kits its components allow (WH1: 3 / 2 and 6 / 1; WH2 has no B).
    BOOST_TEST(many[k].size() == 1u);
    BOOST_TEST(many[k][wh1] == 1);
    // Without safety stock and for no channel.
    auto plain = db.run([&](db::UnitOfWork& uow) { return inventory.reservableMany(uow, {a, k}, "", false); });
    BOOST_TEST(plain[a][wh1] == 8);
    BOOST_TEST(plain[a][wh2] == 5);
    BOOST_TEST(plain[k][wh1] == 4);
    const auto one = db.run([&](db::UnitOfWork& uow) { return inventory.reservable(uow, k, "", false); });
    BOOST_TEST(one == plain[k]);
}

// Available-to-promise of an item whose facts are not cached reads its balance rows first: rows of an item that is not
// a kit settle it with one query. A kit, an item without stock and an unknown id read the facts too.
BOOST_FIXTURE_TEST_CASE(available_to_promise_of_a_stocked_item_not_in_the_cache_is_one_query, Stock) {
    const std::string a = item("A");
    const std::string b = item("B");
    const std::string empty = item("E");
    const std::string k = kit("K", {{"A", 2}, {"B", 1}});
    receive(a, wh1, 10);
    receive(a, wh2, 5);
    receive(b, wh1, 6);
    BOOST_TEST_REQUIRE(reserve(a, wh1, 2).ok());
    db.run([&](db::UnitOfWork& uow) { inventory.setSafetyStock(uow, a, wh1, 1); });
    db.run([&](db::UnitOfWork& uow) {
        inventory.setChannelRule(uow, "marketplace", a, ChannelRule{50, std::nullopt});
    });
    auto lookup = [&](const std::string& id, std::optional<std::string_view> location = std::nullopt,
                      std::optional<std::string_view> channel = std::nullopt) {
        std::uint64_t statements = 0;
        Atp atp = db.run([&](db::UnitOfWork& uow) {
            const std::uint64_t before = db::statementsExecuted();
            Atp found = inventory.atp(uow, id, location, channel);
            statements = db::statementsExecuted() - before;
            return found;
        });
        return std::make_pair(atp, statements);
    };
    inventory.invalidateCache();
    const auto [cold, cold_statements] = lookup(a);
    BOOST_TEST(cold_statements == 1u);
    BOOST_TEST(cold.available == 7 + 5);  // WH1: 10 - 2 allocated - 1 safety stock; WH2: 5
    BOOST_TEST_REQUIRE(cold.locations.size() == 2u);
    BOOST_TEST(cold.locations[0].available == 7);
    // The same answer once the facts are cached, still one query (the rows).
    db.run([&](db::UnitOfWork& uow) { return inventory.reservable(uow, a, "", false); });
    const auto [warm, warm_statements] = lookup(a);
    BOOST_TEST(warm_statements == 1u);
    BOOST_TEST(warm.available == cold.available);
    BOOST_TEST(warm.locations.size() == cold.locations.size());
    inventory.invalidateCache();
    BOOST_TEST(lookup(a, std::string_view(wh2)).first.available == 5);
    BOOST_TEST(lookup(a, std::nullopt, std::string_view("marketplace")).first.available == 6);  // half of 12
    // A kit: its own rows (none), its facts, then its components; the fewest kits per location (WH1: 7 / 2, 6 / 1).
    inventory.invalidateCache();
    const auto [kits, kit_statements] = lookup(k);
    BOOST_TEST(kits.available == 3);
    BOOST_TEST(kit_statements >= 3u);
    // Known but without stock, and unknown: nothing available, no locations.
    inventory.invalidateCache();
    BOOST_TEST(lookup(empty).first.available == 0);
    BOOST_TEST(lookup(empty).first.locations.empty());
    BOOST_TEST(lookup("no-such-item").first.available == 0);
    BOOST_TEST(lookup("no-such-item").first.locations.empty());
}

// What the batching is for: an order's lines without lots cost a fixed number of statements on SQLite.
BOOST_FIXTURE_TEST_CASE(an_order_of_plain_lines_takes_few_statements, Stock) {
    std::vector<ReserveRequest> lines;
    for (int i = 0; i < 10; ++i) {
        const std::string sku = item("S" + std::to_string(i));
        receive(sku, wh1, 5);
        lines.push_back(line(sku, wh1, 1));
    }
    inventory.invalidateCache();
    std::uint64_t statements = 0;
    const auto taken = run<std::vector<ReserveResult>>([&](db::UnitOfWork& uow) -> Result<std::vector<ReserveResult>> {
        const std::uint64_t before = db::statementsExecuted();
        auto result = inventory.reserveMany(uow, lines);
        statements = db::statementsExecuted() - before;
        return result;
    });
    BOOST_TEST_REQUIRE(taken.ok(), (taken.ok() ? "" : taken.problem().message));
    // On SQLite: the items' facts in one query, one UPDATE inside a savepoint and one INSERT. Where rows are
    // locked: one UPDATE per row, in lock order, and one INSERT of the 10 rows (up to 16 rows go in one statement).
    const bool sqlite = db.backend() == db::Backend::kSQLite;
    BOOST_TEST(statements == (sqlite ? 1u + 3u + 1u : 1u + 10u + 1u));
    BOOST_TEST(count("SELECT SUM(allocated) FROM stock_balance") == 10);
    requireNoDrift();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(operations)

BOOST_FIXTURE_TEST_CASE(transfer_with_partial_receipt_and_loss, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    auto transfer = run<std::string>([&](db::UnitOfWork& uow) {
        return inventory.shipTransfer(uow, wh1, wh2, {{sku, std::nullopt, 6}}, "T-1", manual());
    });
    BOOST_TEST_REQUIRE(transfer.ok());
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 4);
    BOOST_TEST(balance(sku, wh2, StockState::kInTransit) == 6);
    BOOST_TEST(atp(sku) == 4);  // in transit is not sellable
    const std::string id = transfer.value();
    BOOST_TEST(run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.receiveTransfer(uow, id, {{1, 4}}, manual()); })
                   .value() == 4);
    BOOST_TEST(!run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.receiveTransfer(uow, id, {{1, 3}}, manual()); })
                    .ok());
    BOOST_TEST(balance(sku, wh2, StockState::kOnHand) == 4);
    BOOST_TEST(balance(sku, wh2, StockState::kInTransit) == 2);
    BOOST_TEST(run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.closeTransfer(uow, id, manual()); }).value() ==
               2);
    BOOST_TEST(balance(sku, wh2, StockState::kInTransit) == 0);
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_move WHERE reason = 'transfer_loss'") == 1);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(cycle_count_posts_the_variance_unless_stock_moved, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 10);
    auto count_id = run<std::string>(
        [&](db::UnitOfWork& uow) { return inventory.recordCount(uow, sku, wh1, std::nullopt, 8, manual()); });
    BOOST_TEST_REQUIRE(count_id.ok());
    BOOST_TEST(run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.postCount(uow, count_id.value(), manual()); })
                   .value() == -2);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 8);
    BOOST_TEST(!run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.postCount(uow, count_id.value(), manual()); })
                    .ok());

    auto stale = run<std::string>(
        [&](db::UnitOfWork& uow) { return inventory.recordCount(uow, sku, wh1, std::nullopt, 20, manual()); });
    receive(sku, wh1, 1);
    auto refused = run<std::int64_t>([&](db::UnitOfWork& uow) { return inventory.postCount(uow, stale.value(), manual()); });
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(static_cast<int>(refused.problem().code) == 4);
    BOOST_TEST(contains(refused.problem().message, "moved since the count"));
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand) == 9);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(returns_dispositions_quarantine_and_write_offs, Stock) {
    const std::string sku = item("SKU-1");
    receive(sku, wh1, 5);
    BOOST_TEST_REQUIRE(run<std::string>([&](db::UnitOfWork& uow) {
                           return inventory.receiveReturn(uow, sku, wh1, std::nullopt, 3, manual());
                       }).ok());
    BOOST_TEST(balance(sku, wh1, StockState::kReturned) == 3);
    BOOST_TEST(atp(sku) == 5);  // returns are not sellable until restocked
    auto change = [&](StockState from, StockState to, std::int64_t quantity) {
        return run<std::string>([&](db::UnitOfWork& uow) {
            return inventory.changeState(uow, sku, wh1, std::nullopt, from, to, quantity, "test", manual());
        });
    };
    BOOST_TEST(change(StockState::kReturned, StockState::kOnHand, 1).ok());
    BOOST_TEST(change(StockState::kReturned, StockState::kDamaged, 2).ok());
    BOOST_TEST(!change(StockState::kReturned, StockState::kOnHand, 1).ok());
    BOOST_TEST(change(StockState::kOnHand, StockState::kQuarantined, 2).ok());
    BOOST_TEST(atp(sku) == 4);
    BOOST_TEST_REQUIRE(run<std::string>([&](db::UnitOfWork& uow) {
                           return inventory.writeOff(uow, sku, wh1, std::nullopt, StockState::kDamaged, 2, "broken", manual());
                       }).ok());
    BOOST_TEST(balance(sku, wh1, StockState::kDamaged) == 0);
    BOOST_TEST(balance(sku, wh1, StockState::kQuarantined) == 2);
    requireNoDrift();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_FIXTURE_TEST_CASE(eight_workers_never_reserve_more_than_there_is, Stock) {
    const std::map<std::string, std::int64_t> supply = {{item("A"), 40}, {item("B"), 25}, {item("C"), 15}};
    for (const auto& [sku, quantity] : supply) receive(sku, wh1, quantity);
    db::DatabaseOptions options = test.options();
    options.pool_size = 8;
    options.retry_attempts = 50;
    db::Database shared(options);
    constexpr int kWorkers = 8;
    std::vector<std::map<std::string, std::int64_t>> reserved(kWorkers);
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            try {
                std::set<std::string> exhausted;
                while (exhausted.size() < supply.size()) {
                    for (const auto& [sku, _] : supply) {
                        if (exhausted.count(sku) != 0) continue;
                        ReserveRequest r;
                        r.item_id = sku;
                        r.location_id = wh1;
                        r.quantity = 1;
                        r.order_id = "W" + std::to_string(w);
                        const auto result = shared.run([&](db::UnitOfWork& uow) { return inventory.reserve(uow, r); });
                        if (result) {
                            ++reserved[static_cast<std::size_t>(w)][sku];
                        } else {
                            exhausted.insert(sku);
                        }
                    }
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("worker " << w << " failed: " << e.what());
                ++errors;
            }
        });
    }
    for (auto& worker : workers) worker.join();
    BOOST_TEST(errors.load() == 0);
    for (const auto& [sku, quantity] : supply) {
        std::int64_t total = 0;
        for (const auto& per_worker : reserved) {
            auto it = per_worker.find(sku);
            if (it != per_worker.end()) total += it->second;
        }
        BOOST_TEST(total == quantity, "reservations of " << sku);
        BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) == quantity);
        BOOST_TEST(atp(sku) == 0);
    }
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_balance WHERE quantity < 0 OR allocated < 0 OR allocated > quantity") == 0);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(eight_workers_reserving_orders_of_several_lines_never_oversell, Stock) {
    const std::string a = item("A");
    const std::string b = item("B");
    receive(a, wh1, 40);
    receive(b, wh1, 15);
    db::DatabaseOptions options = test.options();
    options.pool_size = 8;
    options.retry_attempts = 50;
    db::Database shared(options);
    constexpr int kWorkers = 8;
    std::atomic<int> orders{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            try {
                // Each order takes 2 A (in two lines) and 1 B; a worker stops at its first refusal.
                const std::vector<ReserveRequest> order = {line(a, wh1, 1), line(b, wh1, 1), line(a, wh1, 1)};
                while (shared.run([&](db::UnitOfWork& uow) { return inventory.reserveMany(uow, order); })) ++orders;
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("worker " << w << " failed: " << e.what());
                ++errors;
            }
        });
    }
    for (auto& worker : workers) worker.join();
    BOOST_TEST(errors.load() == 0);
    BOOST_TEST(orders.load() == 15);  // B runs out first: min(40 / 2, 15)
    BOOST_TEST(balance(a, wh1, StockState::kOnHand, true) == 30);
    BOOST_TEST(balance(b, wh1, StockState::kOnHand, true) == 15);
    BOOST_TEST(count("SELECT COUNT(*) FROM reservation WHERE status = 'active'") == 45);
    BOOST_TEST(
        count("SELECT COUNT(*) FROM stock_balance WHERE quantity < 0 OR allocated < 0 OR allocated > quantity") == 0);
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(reserving_and_releasing_threads_keep_the_books_exact, Stock) {
    const std::string sku = item("A");
    receive(sku, wh1, 10);
    db::DatabaseOptions options = test.options();
    options.pool_size = 8;
    options.retry_attempts = 50;
    db::Database shared(options);
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 8; ++w) {
        workers.emplace_back([&, w] {
            try {
                for (int i = 0; i < 15; ++i) {
                    ReserveRequest r;
                    r.item_id = sku;
                    r.location_id = wh1;
                    r.quantity = 1 + (w + i) % 3;
                    r.order_id = "W" + std::to_string(w);
                    const auto result = shared.run([&](db::UnitOfWork& uow) { return inventory.reserve(uow, r); });
                    if (result && (i % 2 == 0)) {
                        const std::string id = result.value().reservations.front().id;
                        const auto released =
                            shared.run([&](db::UnitOfWork& uow) { return inventory.release(uow, id); });
                        if (!released) ++errors;
                    }
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("worker " << w << " failed: " << e.what());
                ++errors;
            }
        });
    }
    for (auto& worker : workers) worker.join();
    BOOST_TEST(errors.load() == 0);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) <= 10);
    BOOST_TEST(balance(sku, wh1, StockState::kOnHand, true) ==
               count("SELECT COALESCE(SUM(remaining), 0) FROM reservation WHERE status = 'active'"));
    requireNoDrift();
}

BOOST_FIXTURE_TEST_CASE(two_processes_race_for_the_same_stock, Stock) {
    const std::map<std::string, std::int64_t> supply = {{item("A"), 30}, {item("B"), 12}};
    for (const auto& [sku, quantity] : supply) receive(sku, wh1, quantity);
    const char* worker = std::getenv("KEEL_RACE_WORKER");
    BOOST_TEST_REQUIRE(worker != nullptr, "KEEL_RACE_WORKER is not set (run through ctest)");
    std::vector<std::string> args = {test.connectionString(), wh1};
    for (const auto& [sku, _] : supply) args.push_back(sku);
    test::CommandResult first;
    test::CommandResult second;
    std::thread a([&] { first = test::runCommand(worker, args); });
    std::thread b([&] { second = test::runCommand(worker, args); });
    a.join();
    b.join();
    BOOST_TEST_REQUIRE(first.exit_code == 0, first.err);
    BOOST_TEST_REQUIRE(second.exit_code == 0, second.err);
    std::map<std::string, std::int64_t> total;
    for (const auto* output : {&first.out, &second.out}) {
        std::istringstream lines(*output);
        std::string sku;
        std::int64_t reserved = 0;
        while (lines >> sku >> reserved) total[sku] += reserved;
    }
    for (const auto& [sku, quantity] : supply) BOOST_TEST(total[sku] == quantity);
    BOOST_TEST(total.size() == supply.size());
    requireNoDrift();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(imports)

BOOST_FIXTURE_TEST_CASE(go_live_stock_levels_all_or_nothing, Stock) {
    item("SKU-1");
    item("MILK", true, true);
    std::istringstream good(
        "sku,location,quantity,lot,expiry,unit_cost,currency\r\n"
        "SKU-1,WH1,10,,,1.25,USD\r\n"
        "SKU-1,WH2,5,,,,\r\n"
        "MILK,WH1,7,L1,2027-01-31,0.99,\r\n");
    const auto imported = importStockLevels(db, inventory, good, "stock.csv", manual());
    BOOST_TEST_REQUIRE(imported.ok(), (imported.problems.empty() ? "" : imported.problems.front()));
    BOOST_TEST(imported.rows == 3);
    BOOST_TEST(imported.quantity == 22);
    BOOST_TEST(atp(db.run([&](db::UnitOfWork& uow) { return catalog.requireItem(uow, "SKU-1").id; })) == 15);
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_move WHERE reason = 'opening_balance'") == 3);

    std::istringstream bad(
        "sku,location,quantity,lot,expiry\n"
        "SKU-1,WH1,4,,\n"
        "NOPE,WH1,1,,\n"
        "SKU-1,WH9,1,,\n"
        "SKU-1,WH1,-3,,\n"
        "MILK,WH1,1,,2027-01-31\n"
        "MILK,WH1,1,L2,2027-02-30\n"
        "SKU-1,WH1,1,L3,\n"
        "SKU-1,WH1,\xff,,\n");
    const auto refused = importStockLevels(db, inventory, bad, "bad.csv", manual());
    BOOST_TEST_REQUIRE(!refused.ok());
    const std::vector<std::string> expected = {
        "bad.csv:3: column 'sku': unknown item 'NOPE'",
        "bad.csv:4: column 'location': unknown location 'WH9'",
        "bad.csv:5: column 'quantity': must be a positive whole number",
        "bad.csv:6: column 'lot': MILK is lot-tracked",
        "bad.csv:7: column 'expiry': '2027-02-30' is not a day of the calendar",
        "bad.csv:8: column 'lot': SKU-1 does not track lots",
        "bad.csv:9:",
    };
    BOOST_TEST_REQUIRE(refused.problems.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        BOOST_TEST(contains(refused.problems[i], expected[i]), refused.problems[i] << " <> " << expected[i]);
    }
    BOOST_TEST(contains(refused.problems.back(), "UTF-8"));
    // Nothing of the bad file was written, not even its good first row.
    BOOST_TEST(count("SELECT COUNT(*) FROM stock_move") == 3);
    requireNoDrift();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(command_line)

BOOST_FIXTURE_TEST_CASE(stock_commands_end_to_end, Stock) {
    item("SKU-1");
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", test.connectionString()});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return std::tuple{code, out.str(), err.str()};
    };
    auto [code, out, err] = keel({"stock", "receive", "SKU-1", "WH1", "12", "--unit-cost", "3.10"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"stock", "adjust", "SKU-1", "WH1", "-2", "--reason", "damaged"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"stock", "adjust", "SKU-1", "WH1", "-50", "--reason", "lost"});
    BOOST_TEST(code == 2);
    BOOST_TEST(contains(err, "insufficient stock"), err);
    std::tie(code, out, err) = keel({"--json", "stock", "atp", "SKU-1"});
    BOOST_TEST_REQUIRE(code == 0, err);
    Poco::JSON::Parser parser;
    BOOST_TEST(parser.parse(out).extract<Poco::JSON::Object::Ptr>()->getValue<std::int64_t>("available") == 10);
    std::tie(code, out, err) = keel({"stock", "reserve", "SKU-1", "WH1", "11"});
    BOOST_TEST(code == 2);
    std::tie(code, out, err) = keel({"stock", "reserve", "SKU-1", "WH1", "4", "--order", "W-1", "--line", "1"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"stock", "atp", "NOPE"});
    BOOST_TEST(code == 3);
    BOOST_TEST(contains(err, "NOPE"));
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(contains(out, "no drift"));
    std::tie(code, out, err) = keel({"stock", "show", "SKU-1"});
    BOOST_TEST(code == 0);
    BOOST_TEST(contains(out, "on_hand"));
}

BOOST_AUTO_TEST_SUITE_END()
