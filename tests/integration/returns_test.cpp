#define BOOST_TEST_MODULE returns
#include <boost/test/unit_test.hpp>

#include "order_fixture.h"
#include "test_database.h"

#include "../../modules/cli/commands_returns.h"
#include "keel/catalog/catalog.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/kernel/config.h"
#include "keel/orders/orders.h"
#include "keel/orders/returns.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <atomic>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

using namespace keel;
using namespace keel::orders;

namespace {

using test::problemOf;

struct DocLine {
    std::string sku;
    std::int64_t quantity = 0;
    std::string unit_price;
    std::string discount = "0";
};

// Two warehouses, a few items (two with lots, a kit), stock, and the order services (test::OrderFixture). Orders are
// imported as documents, allocated, released and shipped as in production. Same body on every backend.
struct Shop : test::OrderFixture {
    Shop() {
        location("WH1", 10);
        location("WH2", 20);
        for (const char* sku : {"A", "B", "MUG"}) item(sku, false);
        item("LOT", true);
        item("TEA", true);
        db.run([&](db::UnitOfWork& uow) {
            catalog::Item gift;
            gift.sku = "GIFT";
            gift.name = "Gift box";
            gift.is_kit = true;
            gift.components = {{"", "MUG", 1}, {"", "TEA", 2}};
            items["GIFT"] = catalog.saveItem(uow, gift);
        });
    }

    void stock(const std::string& sku, const std::string& location, std::int64_t quantity,
               const std::string& lot = "") {
        inventory::ReceiveRequest r;
        r.item_id = items.at(sku);
        r.location_id = locations.at(location);
        r.quantity = quantity;
        if (!lot.empty()) r.lot_code = lot;
        const auto received = db.run([&](db::UnitOfWork& uow) { return inventory.receive(uow, r); });
        BOOST_TEST_REQUIRE(received.ok(), problemOf(received));
    }

    std::string importOrder(const std::string& external, const std::vector<DocLine>& lines,
                            const std::string& shipping = "0.00") {
        std::string text = R"({"type":"order","version":1,"channel":"web","external_id":")" + external +
                           R"(","currency":"USD","customer":{"id":"C-)" + external +
                           R"("},"ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Springfield","region":"IL",)"
                           R"("postal_code":"62701","country":"US"},"payment":{"status":"authorized"},)"
                           R"("shipping":{"amount":")" +
                           shipping + R"("},"lines":[)";
        for (std::size_t i = 0; i < lines.size(); ++i) {
            text += (i == 0 ? "" : ",") + std::string(R"({"sku":")") + lines[i].sku + R"(","quantity":)" +
                    std::to_string(lines[i].quantity) + R"(,"unit_price":")" + lines[i].unit_price +
                    R"(","discount":")" + lines[i].discount + R"("})";
        }
        text += "]}";
        return importDocument(text);
    }

    Order order(const std::string& order_id) {
        return *db.run([&](db::UnitOfWork& uow) { return orders.find(uow, order_id); });
    }

    Result<std::string> authorize(const std::string& order_id, const std::vector<ReturnRequestLine>& lines,
                                  const std::string& policy = "full", ReturnReason reason = ReturnReason::kDamaged) {
        return db.run([&](db::UnitOfWork& uow) {
            return returns.authorize(uow, order_id, lines, reason, *RefundPolicy::parse(policy), actor);
        });
    }

    std::string authorized(const std::string& order_id, const std::vector<ReturnRequestLine>& lines,
                           const std::string& policy = "full") {
        auto id = authorize(order_id, lines, policy);
        BOOST_TEST_REQUIRE(id.ok(), problemOf(id));
        return id.value();
    }

    Result<ReturnState> receive(const std::string& rma, const std::vector<ReturnQuantity>& quantities = {},
                                const std::optional<std::string>& location = std::nullopt) {
        return db.run([&](db::UnitOfWork& uow) { return returns.receive(uow, rma, quantities, location, actor); });
    }

    Result<ReturnState> inspect(const std::string& rma, int line, Disposition disposition,
                                std::optional<std::int64_t> quantity = std::nullopt) {
        return db.run(
            [&](db::UnitOfWork& uow) { return returns.inspect(uow, rma, line, disposition, quantity, actor); });
    }

    Result<ReturnState> close(const std::string& rma) {
        return db.run([&](db::UnitOfWork& uow) { return returns.close(uow, rma, actor); });
    }

    ReturnAuthorization rma(const std::string& id) {
        const auto found = db.run([&](db::UnitOfWork& uow) { return returns.find(uow, id); });
        BOOST_TEST_REQUIRE(found.has_value());
        return *found;
    }

    // Quantity of an item in one state at a location (all lots), or at one lot.
    std::int64_t balance(const std::string& sku, const std::string& location, inventory::StockState state,
                         const std::string& lot = "*") {
        return db.run([&](db::UnitOfWork& uow) {
            std::int64_t total = 0;
            for (const auto& b : inventory.balances(uow, items.at(sku), locations.at(location))) {
                if (b.state == state && (lot == "*" || b.lot_code == lot)) total += b.quantity;
            }
            return total;
        });
    }

    std::string events(const std::string& aggregate_id) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& q = uow.statement("SELECT type FROM event_outbox WHERE aggregate_id = ? ORDER BY id");
            q.bind(aggregate_id).execute();
            std::string out;
            while (q.next()) out += (out.empty() ? "" : ",") + q.getString(0);
            return out;
        });
    }

    std::string payload(const std::string& aggregate_id, const std::string& type) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& q =
                uow.statement("SELECT payload FROM event_outbox WHERE aggregate_id = ? AND type = ? ORDER BY id");
            q.bindAll(aggregate_id, type).execute();
            return q.next() ? q.getString(0) : std::string();
        });
    }

    std::int64_t count(const std::string& table) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& q = uow.statement("SELECT COUNT(*) FROM " + table);  // table names come from the tests
            q.execute();
            q.next();
            return q.getInt64(0);
        });
    }

    void verify() {
        const auto report = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
        BOOST_TEST(report.ok(), report.drifts.size() << " drifts");
    }
};

using S = inventory::StockState;

}  // namespace

BOOST_FIXTURE_TEST_SUITE(returns, Shop)

BOOST_AUTO_TEST_CASE(each_disposition_moves_stock_and_writes_events) {
    stock("A", "WH1", 10);
    const std::string order_id = importOrder("R-1", {{"A", 6, "10.00"}}, "5.00");
    ship(order_id);
    BOOST_TEST(balance("A", "WH1", S::kOnHand) == 4);

    const std::string id = authorized(order_id, {{1, 6}});
    auto r = rma(id);
    BOOST_TEST(std::string(toString(r.state)) == "authorized");
    BOOST_TEST(r.order_reference == "web/R-1");
    BOOST_TEST_REQUIRE(r.lines.size() == 1u);
    BOOST_TEST(r.lines[0].expected == 6);
    BOOST_TEST(r.lines[0].location_code == "WH1");
    BOOST_TEST(r.lines[0].sku == "A");
    BOOST_TEST(Money(r.refund_amount, *r.currency).toString() == "64.95");  // 60.00 + 4.95 tax, no shipping

    const auto received = receive(id);
    BOOST_TEST_REQUIRE(received.ok(), problemOf(received));
    BOOST_TEST(std::string(toString(received.value())) == "received");
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 6);
    BOOST_TEST(balance("A", "WH1", S::kOnHand) == 4);

    BOOST_TEST(inspect(id, 1, Disposition::kRestock, 2).ok());
    BOOST_TEST(inspect(id, 1, Disposition::kRefurbish, 3).ok());
    const auto last = inspect(id, 1, Disposition::kDispose);  // the rest: 1
    BOOST_TEST_REQUIRE(last.ok(), problemOf(last));
    BOOST_TEST(std::string(toString(last.value())) == "inspected");
    BOOST_TEST(balance("A", "WH1", S::kOnHand) == 6);
    BOOST_TEST(balance("A", "WH1", S::kQuarantined) == 3);
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 0);
    r = rma(id);
    BOOST_TEST(r.lines[0].restocked == 2);
    BOOST_TEST(r.lines[0].refurbished == 3);
    BOOST_TEST(r.lines[0].disposed == 1);

    const auto closed = close(id);
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    BOOST_TEST(std::string(toString(closed.value())) == "closed");
    BOOST_TEST(rma(id).refund_amount == 6495);
    BOOST_TEST(events(id) ==
               "return.authorized,return.received,return.inspected,return.inspected,return.inspected,"
               "return.refund_due,return.closed");
    const std::string due = payload(id, "return.refund_due");
    BOOST_TEST(due.find("\"amount\":\"64.95\"") != std::string::npos, due);
    BOOST_TEST(due.find("\"currency\":\"USD\"") != std::string::npos, due);
    BOOST_TEST(due.find("\"amount_minor\":6495") != std::string::npos, due);
    const std::string inspected = payload(id, "return.inspected");
    BOOST_TEST(inspected.find("\"disposition\":\"restock\"") != std::string::npos, inspected);
    // The stock ledger says where every unit went.
    const auto moves = db.run([&](db::UnitOfWork& uow) {
        db::Statement& q = uow.statement(
            "SELECT reason, SUM(quantity) FROM stock_move WHERE source_id = ? GROUP BY reason ORDER BY reason");
        q.bind(id).execute();
        std::string out;
        while (q.next()) out += q.getString(0) + "=" + std::to_string(q.getInt64(1)) + " ";
        return out;
    });
    BOOST_TEST(moves == "return=6 return_refurbish=3 return_restock=2 write_off:return_dispose=1 ");
    verify();
}

BOOST_AUTO_TEST_CASE(partial_receipts_and_closing_early_refund_what_arrived) {
    stock("A", "WH1", 3);
    const std::string order_id = importOrder("R-2", {{"A", 3, "10.00"}});  // tax 2.475 -> 2.48: 0.83, 0.83, 0.82
    ship(order_id);
    const std::string id = authorized(order_id, {{1, 3}});
    BOOST_TEST(rma(id).refund_amount == 3248);

    auto state = receive(id, {{1, 1}});
    BOOST_TEST_REQUIRE(state.ok(), problemOf(state));
    BOOST_TEST(std::string(toString(state.value())) == "authorized");
    BOOST_TEST(rma(id).lines[0].received == 1);
    state = receive(id, {{1, 1}});
    BOOST_TEST_REQUIRE(state.ok(), problemOf(state));
    BOOST_TEST(rma(id).lines[0].received == 2);
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 2);

    // Only one more is expected; nothing of a refused receipt stays.
    const auto too_many = receive(id, {{1, 2}});
    BOOST_TEST_REQUIRE(!too_many.ok());
    BOOST_TEST(problemOf(too_many).find("only 1 of 3 are still expected") != std::string::npos, problemOf(too_many));
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 2);

    // Closing needs a disposition for every unit that arrived.
    const auto early = close(id);
    BOOST_TEST_REQUIRE(!early.ok());
    BOOST_TEST(static_cast<int>(early.problem().code) == 4);
    BOOST_TEST(problemOf(early).find("inspect them first") != std::string::npos, problemOf(early));

    BOOST_TEST(inspect(id, 1, Disposition::kRestock).ok());
    BOOST_TEST(std::string(toString(rma(id).state)) == "authorized");  // one unit is still out
    const auto closed = close(id);
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    BOOST_TEST(rma(id).refund_amount == 2166);  // 2 x 10.00 + 0.83 + 0.83

    // The unit that never came back may be authorized again; together the refunds are the line exactly.
    const std::string again = authorized(order_id, {{1, 1}});
    BOOST_TEST(rma(again).refund_amount == 1082);
    BOOST_TEST(2166 + 1082 == order(order_id).total);
    BOOST_TEST(balance("A", "WH1", S::kOnHand) == 2);
    verify();
}

BOOST_AUTO_TEST_CASE(refunds_are_exact_for_every_policy) {
    stock("A", "WH1", 20);
    stock("B", "WH1", 40);
    // Line 1: 3 units for 10.00 (3 x 3.34 - 0.02), tax 0.83; line 2: 7 x 1.99 = 13.93, tax 1.15; shipping 4.99 with
    // 0.41 tax. Total 31.31. None of it splits evenly per unit.
    const std::vector<DocLine> lines = {{"A", 3, "3.34", "0.02"}, {"B", 7, "1.99"}};
    auto make = [&](const std::string& external) {
        const std::string id = importOrder(external, lines, "4.99");
        ship(id);
        return id;
    };

    // full: goods and tax, shares fixed per unit; two returns add up to the goods and tax exactly.
    const std::string full = make("P-FULL");
    BOOST_TEST(order(full).total == 3131);
    const std::string f1 = authorized(full, {{1, 1}, {2, 3}});
    const std::string f2 = authorized(full, {{1, 2}, {2, 4}});
    BOOST_TEST(rma(f1).refund_amount == 334 + 28 + 597 + 51);  // 10.00/3 -> 3.34; 0.83/3 -> 0.28; 3 x 1.99; 1.15/7
    BOOST_TEST(rma(f1).refund_amount + rma(f2).refund_amount == 1000 + 83 + 1393 + 115);

    // full_with_shipping: everything back, one unit at a time or at once, is the order's total to the cent.
    const std::string ship_all = make("P-SHIP-ALL");
    const std::string all = authorized(ship_all, {{1, 3}, {2, 7}}, "full_with_shipping");
    BOOST_TEST(rma(all).refund_amount == order(ship_all).total);
    const std::string ship_parts = make("P-SHIP-PARTS");
    std::int64_t sum = 0;
    std::vector<std::int64_t> firsts;
    for (int i = 0; i < 3; ++i) {
        const std::string id = authorized(ship_parts, {{1, 1}}, "full_with_shipping");
        firsts.push_back(rma(id).refund_amount);
        sum += firsts.back();
    }
    for (const int units : {2, 5}) sum += rma(authorized(ship_parts, {{2, units}}, "full_with_shipping")).refund_amount;
    BOOST_TEST(sum == 3131);
    // Shipping 4.99 splits 2.09 / 2.90 by line value (10.00 : 13.93), its tax 0.17 / 0.24; line 1's unit shares are
    // 3.34 + 0.28 + 0.70 + 0.06, then 3.33 + 0.28 + 0.70 + 0.06, then 3.33 + 0.27 + 0.69 + 0.05.
    BOOST_TEST(firsts == (std::vector<std::int64_t>{438, 437, 434}), boost::test_tools::per_element());

    // partial: one rounding, half up, of the goods and tax of the units.
    const std::string partial = make("P-HALF");
    const std::string half = authorized(partial, {{1, 3}}, "partial:50");
    BOOST_TEST(rma(half).refund_amount == 542);  // 50 % of 10.83 = 5.415
    const std::string none = authorized(partial, {{2, 1}}, "partial:0");
    BOOST_TEST(rma(none).refund_amount == 0);
    const std::string whole = authorized(partial, {{2, 6}}, "partial:100");
    BOOST_TEST(rma(whole).refund_amount == 6 * 199 + 115 - 17);  // units 2..7 of line 2: 1.15 tax less the first 0.17
    BOOST_TEST(payload(half, "return.authorized").find("\"refund_policy\":\"partial:50\"") != std::string::npos);

    // A zero refund closes without a refund_due event.
    BOOST_TEST(receive(none).ok());
    BOOST_TEST(inspect(none, 1, Disposition::kRestock).ok());
    BOOST_TEST(close(none).ok());
    BOOST_TEST(events(none) == "return.authorized,return.received,return.inspected,return.closed");
    verify();
}

BOOST_AUTO_TEST_CASE(the_pure_refund_computation_sums_exactly) {
    // Independently of the database: a line of 7 units, 10.00, tax 0.83, shipping 1.00 with 0.08 tax, returned in
    // every split into consecutive runs, always sums to the whole.
    Order o;
    o.currency = &Currency::of("USD");
    o.shipping_amount = 100;
    o.tax_total = 83 + 8;
    OrderLine l;
    l.line_no = 1;
    l.quantity = 7;
    l.line_total = 1000;
    l.tax = 83;
    o.lines.push_back(l);
    const auto policy = *RefundPolicy::parse("full_with_shipping");
    for (std::int64_t cut = 1; cut < 7; ++cut) {
        const auto a = computeRefund(o, {{1, 0, cut}}, policy);
        const auto b = computeRefund(o, {{1, cut, 7 - cut}}, policy);
        BOOST_TEST(a.total + b.total == 1000 + 83 + 100 + 8);
        BOOST_TEST(a.goods + b.goods == 1000);
        BOOST_TEST(a.shipping + b.shipping == 100);
    }
    // The shares are Money::allocateEvenly's: earlier units take the leftover minor units.
    const auto parts = Money(1000, *o.currency).allocateEvenly(7);
    for (std::int64_t unit = 0; unit < 7; ++unit) {
        BOOST_TEST(computeRefund(o, {{1, unit, 1}}, *RefundPolicy::parse("full")).goods == parts[unit].minor());
    }
    BOOST_TEST(!RefundPolicy::parse("partial:101"));
    BOOST_TEST(!RefundPolicy::parse("partial:-1"));
    BOOST_TEST(!RefundPolicy::parse("partial:"));
    BOOST_TEST(!RefundPolicy::parse("half"));
    BOOST_TEST(RefundPolicy::parse("partial:7")->percent == 7);
    BOOST_TEST(RefundPolicy::parse("partial:7")->toString() == "partial:7");
}

BOOST_AUTO_TEST_CASE(refusals_say_why_and_leave_nothing_behind) {
    stock("A", "WH1", 5);
    // B has no stock: line 2 is backordered and never ships.
    const std::string order_id = importOrder("R-3", {{"A", 5, "2.00"}, {"B", 2, "3.00"}});
    ship(order_id);
    BOOST_TEST(order(order_id).lines[1].shipped == 0);
    const auto events_before = count("event_outbox");

    auto refused = authorize(order_id, {{1, 6}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(static_cast<int>(refused.problem().code) == 2);
    BOOST_TEST(problemOf(refused).find("6 to return, but 5 shipped") != std::string::npos, problemOf(refused));
    refused = authorize(order_id, {{2, 1}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(problemOf(refused).find("line 2 (B) has not shipped") != std::string::npos, problemOf(refused));
    refused = authorize(order_id, {{9, 1}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(static_cast<int>(refused.problem().code) == 3);
    BOOST_TEST(problemOf(refused).find("has no line 9") != std::string::npos, problemOf(refused));
    refused = authorize(order_id, {{1, 0}});
    BOOST_TEST(!refused.ok());
    refused = authorize("no-such-order", {{1, 1}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(static_cast<int>(refused.problem().code) == 3);
    // A good line does not carry a bad one: all or nothing.
    refused = authorize(order_id, {{1, 1}, {2, 1}});
    BOOST_TEST(!refused.ok());
    BOOST_TEST(count("return_authorization") == 0);
    BOOST_TEST(count("return_line") == 0);
    BOOST_TEST(count("event_outbox") == events_before);

    // What other returns cover cannot be returned twice.
    const std::string first = authorized(order_id, {{1, 3}});
    refused = authorize(order_id, {{1, 3}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(problemOf(refused).find("3 are already on returns; at most 2") != std::string::npos, problemOf(refused));

    // Inspecting more than arrived.
    auto inspected = inspect(first, 1, Disposition::kRestock);
    BOOST_TEST_REQUIRE(!inspected.ok());
    BOOST_TEST(problemOf(inspected).find("receive the units first") != std::string::npos, problemOf(inspected));
    BOOST_TEST(receive(first, {{1, 1}}).ok());
    inspected = inspect(first, 1, Disposition::kDispose, 2);
    BOOST_TEST_REQUIRE(!inspected.ok());
    BOOST_TEST(static_cast<int>(inspected.problem().code) == 2);
    BOOST_TEST(problemOf(inspected).find("2 to inspect, but 1 received and 0 already inspected") != std::string::npos,
               problemOf(inspected));
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 1);
    inspected = inspect(first, 7, Disposition::kDispose);
    BOOST_TEST_REQUIRE(!inspected.ok());
    BOOST_TEST(static_cast<int>(inspected.problem().code) == 3);
    auto received = receive(first, {{4, 1}});
    BOOST_TEST_REQUIRE(!received.ok());
    BOOST_TEST(problemOf(received).find("has no line 4") != std::string::npos, problemOf(received));

    // Wrong states: a return with units in it is not cancelled; a cancelled one receives nothing; closed is final.
    auto cancelled = db.run([&](db::UnitOfWork& uow) { return returns.cancel(uow, first, "", actor); });
    BOOST_TEST_REQUIRE(!cancelled.ok());
    BOOST_TEST(static_cast<int>(cancelled.problem().code) == 4);
    const std::string second = authorized(order_id, {{1, 2}});
    auto closed = close(second);
    BOOST_TEST_REQUIRE(!closed.ok());
    BOOST_TEST(problemOf(closed).find("nothing has arrived; cancel it") != std::string::npos, problemOf(closed));
    cancelled = db.run([&](db::UnitOfWork& uow) { return returns.cancel(uow, second, "customer kept it", actor); });
    BOOST_TEST_REQUIRE(cancelled.ok(), problemOf(cancelled));
    received = receive(second);
    BOOST_TEST_REQUIRE(!received.ok());
    BOOST_TEST(static_cast<int>(received.problem().code) == 4);
    BOOST_TEST(problemOf(received).find("is cancelled") != std::string::npos, problemOf(received));
    // Cancelled units are free again.
    const std::string third = authorized(order_id, {{1, 2}});
    BOOST_TEST(inspect(first, 1, Disposition::kRestock).ok());
    BOOST_TEST(close(first).ok());
    closed = close(first);
    BOOST_TEST_REQUIRE(!closed.ok());
    BOOST_TEST(problemOf(closed).find("is already closed") != std::string::npos, problemOf(closed));
    inspected = inspect(first, 1, Disposition::kRestock);
    BOOST_TEST(!inspected.ok());
    // The two units that never arrived on the first return are free again too.
    refused = authorize(order_id, {{1, 3}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(problemOf(refused).find("at most 2") != std::string::npos, problemOf(refused));
    BOOST_TEST(authorize(order_id, {{1, 2}}).ok());
    BOOST_TEST(events(second) == "return.authorized,return.cancelled");
    BOOST_TEST(!third.empty());
    verify();
}

BOOST_AUTO_TEST_CASE(concurrent_authorizations_never_return_a_unit_twice) {
    stock("A", "WH1", 8);
    const std::string order_id = importOrder("R-RACE", {{"A", 8, "1.00"}});
    ship(order_id);
    db::DatabaseOptions options = test.options();
    options.pool_size = 4;
    options.retry_attempts = 50;
    db::Database shared(options);
    std::atomic<int> authorized_units{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&] {
            try {
                for (int i = 0; i < 3; ++i) {
                    // 4 workers x 3 tries x 1 unit for 8 units: some must be refused, none may pass twice.
                    auto id = shared.run([&](db::UnitOfWork& uow) {
                        return returns.authorize(uow, order_id, {{1, 1}}, ReturnReason::kUnwanted, RefundPolicy{},
                                                 Actor{"w"});
                    });
                    if (id.ok()) ++authorized_units;
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("worker: " << e.what());
                ++errors;
            }
        });
    }
    for (auto& t : workers) t.join();
    BOOST_TEST(errors.load() == 0);
    BOOST_TEST(authorized_units.load() == 8);
    const auto expected = db.run([&](db::UnitOfWork& uow) {
        db::Statement& q = uow.statement("SELECT SUM(expected) FROM return_line");
        q.execute();
        q.next();
        return q.getInt64(0);
    });
    BOOST_TEST(expected == 8);
    // Eight one-unit refunds of one line are the line exactly, whatever order they were authorized in.
    const auto refunds = db.run([&](db::UnitOfWork& uow) {
        db::Statement& q = uow.statement("SELECT SUM(refund_amount) FROM return_authorization");
        q.execute();
        q.next();
        return q.getInt64(0);
    });
    BOOST_TEST(refunds == order(order_id).total);
}

BOOST_AUTO_TEST_CASE(lines_split_across_lots_and_locations) {
    // A: 2 at WH1 (first by priority), 5 at WH2; an order of 6 ships from both.
    stock("A", "WH1", 2);
    stock("A", "WH2", 5);
    // LOT: lots L1 (2) and L2 (5) at WH1; 4 ship, L1 first.
    stock("LOT", "WH1", 2, "L1");
    stock("LOT", "WH1", 5, "L2");
    const std::string order_id = importOrder("R-4", {{"A", 6, "1.00"}, {"LOT", 4, "2.00"}});
    ship(order_id);
    BOOST_TEST(order(order_id).lines[0].shipped == 6);
    BOOST_TEST(order(order_id).lines[1].shipped == 4);

    const std::string id = authorized(order_id, {{1, 3}, {2, 3}});
    const auto r = rma(id);
    std::vector<std::string> got;
    for (const auto& l : r.lines) {
        got.push_back(l.sku + "@" + l.location_code + (l.lot_code.empty() ? "" : "/" + l.lot_code) + "=" +
                      std::to_string(l.expected));
    }
    const std::vector<std::string> wanted = {"A@WH1=2", "A@WH2=1", "LOT@WH1/L1=2", "LOT@WH1/L2=1"};
    BOOST_TEST(got == wanted, boost::test_tools::per_element());
    // The next return starts where this one ended.
    const std::string next = authorized(order_id, {{1, 3}, {2, 1}});
    const auto n = rma(next);
    BOOST_TEST_REQUIRE(n.lines.size() == 2u);
    BOOST_TEST(n.lines[0].location_code == "WH2");
    BOOST_TEST(n.lines[0].expected == 3);
    BOOST_TEST(n.lines[1].lot_code == "L2");

    // Everything received; line 2 (A from WH2) is brought to WH1 instead.
    BOOST_TEST(receive(id, {{1, 2}, {3, 2}, {4, 1}}).ok());
    auto state = receive(id, {{2, 1}}, locations.at("WH1"));
    BOOST_TEST_REQUIRE(state.ok(), problemOf(state));
    BOOST_TEST(std::string(toString(state.value())) == "received");
    BOOST_TEST(balance("A", "WH1", S::kReturned) == 3);
    BOOST_TEST(balance("A", "WH2", S::kReturned) == 0);
    BOOST_TEST(balance("LOT", "WH1", S::kReturned, "L1") == 2);
    BOOST_TEST(balance("LOT", "WH1", S::kReturned, "L2") == 1);
    BOOST_TEST(rma(id).lines[1].location_code == "WH1");

    BOOST_TEST(inspect(id, 1, Disposition::kRestock).ok());
    BOOST_TEST(inspect(id, 2, Disposition::kRefurbish).ok());
    BOOST_TEST(inspect(id, 3, Disposition::kDispose).ok());
    state = inspect(id, 4, Disposition::kRestock);
    BOOST_TEST_REQUIRE(state.ok(), problemOf(state));
    BOOST_TEST(std::string(toString(state.value())) == "inspected");
    BOOST_TEST(balance("A", "WH1", S::kOnHand) == 2);
    BOOST_TEST(balance("A", "WH1", S::kQuarantined) == 1);
    BOOST_TEST(balance("LOT", "WH1", S::kOnHand, "L1") == 0);
    BOOST_TEST(balance("LOT", "WH1", S::kOnHand, "L2") == 3 + 1);
    BOOST_TEST(close(id).ok());
    verify();
}

BOOST_AUTO_TEST_CASE(a_kit_comes_back_as_its_components) {
    stock("MUG", "WH1", 5);
    stock("TEA", "WH1", 10, "T1");
    const std::string order_id = importOrder("R-5", {{"GIFT", 3, "25.00"}});
    ship(order_id);
    const std::string id = authorized(order_id, {{1, 2}});
    const auto r = rma(id);
    BOOST_TEST_REQUIRE(r.lines.size() == 2u);
    BOOST_TEST(r.lines[0].expected + r.lines[1].expected == 2 + 4);
    BOOST_TEST(r.refund_amount == 5000 + 413);  // 2 of 3 kits: 50.00 and 4.13 of the 6.19 tax
    // Only one kit is left to return.
    const auto refused = authorize(order_id, {{1, 2}});
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(problemOf(refused).find("at most 1") != std::string::npos, problemOf(refused));

    BOOST_TEST(receive(id).ok());
    BOOST_TEST(inspect(id, 1, Disposition::kRestock).ok());
    BOOST_TEST(inspect(id, 2, Disposition::kRestock).ok());
    BOOST_TEST(close(id).ok());
    BOOST_TEST(rma(id).refund_amount == 5413);
    BOOST_TEST(balance("MUG", "WH1", S::kOnHand) == 5 - 3 + 2);
    BOOST_TEST(balance("TEA", "WH1", S::kOnHand) == 10 - 6 + 4);
    verify();
}

BOOST_AUTO_TEST_CASE(command_line_return_flow) {
    stock("A", "WH1", 4);
    const std::string order_id = importOrder("CLI-R", {{"A", 4, "2.50"}});
    ship(order_id);
    // Another customer waits for A: a restock fills the backorder.
    const std::string waiting = importOrder("CLI-W", {{"A", 2, "2.50"}});
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return orders.allocate(uow, waiting, actor); }).ok());
    BOOST_TEST(std::string(toString(order(waiting).state)) == "backordered");

    // The return commands as `keel` runs them (registered in the command table by cli.cpp).
    std::vector<cli::Command> table;
    cli::addReturnCommands(table);
    auto keel = [&](std::vector<std::string> args, bool json = false) {
        std::ostringstream out;
        std::ostringstream err;
        int code = 0;
        try {
            config::Sources sources;
            sources.system_dir = "/nonexistent/etc/keel";
            sources.overrides.emplace_back("db.connection", test.connectionString());
            cli::Context context(config::load(sources), json, out, err);
            const cli::Command* command = nullptr;
            for (const auto& c : table) {
                if (c.words.size() == 2 && c.words[1] == args.at(0)) command = &c;
            }
            BOOST_TEST_REQUIRE(command != nullptr, "no command 'return " << args.at(0) << "'");
            code = command->run(context, std::vector<std::string>(args.begin() + 1, args.end()));
        } catch (const Error& e) {
            err << e.what();
            code = static_cast<int>(e.code());
        }
        return std::tuple{code, out.str(), err.str()};
    };
    auto [code, out, err] =
        keel({"create", "web/CLI-R", "1=3", "--reason", "defective", "--refund", "partial:50"}, true);
    BOOST_TEST_REQUIRE(code == 0, err);
    Poco::JSON::Parser parser;
    const auto created = parser.parse(out).extract<Poco::JSON::Object::Ptr>();
    const std::string id = created->getValue<std::string>("id");
    BOOST_TEST(created->getValue<std::string>("refund_amount") == "4.07");  // 50 % of 7.50 + 0.63 tax, half up
    BOOST_TEST(created->getValue<std::string>("reason") == "defective");

    std::tie(code, out, err) = keel({"create", "web/CLI-R", "1=2", "--reason", "damaged"});
    BOOST_TEST(code == 2, err);
    BOOST_TEST(err.find("at most 1") != std::string::npos, err);
    std::tie(code, out, err) = keel({"create", "web/CLI-R", "1=1", "--reason", "broken"});
    BOOST_TEST(code == 1);
    BOOST_TEST(err.find("wrong_item") != std::string::npos, err);
    std::tie(code, out, err) = keel({"create", "web/NOPE", "1=1", "--reason", "late"});
    BOOST_TEST(code == 3);

    std::tie(code, out, err) = keel({"receive", id, "1=2"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("2 of 3 units received") != std::string::npos, out);
    std::tie(code, out, err) = keel({"inspect", id, "1", "--restock", "--dispose"});
    BOOST_TEST(code == 1);
    std::tie(code, out, err) = keel({"inspect", id, "1", "--restock"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("2 restocked") != std::string::npos, out);
    BOOST_TEST(out.find("backorders filled: 1 order") != std::string::npos, out);
    BOOST_TEST(std::string(toString(order(waiting).state)) == "allocated");

    std::tie(code, out, err) = keel({"close", id}, true);
    BOOST_TEST(code == 0, err);
    const auto closed = parser.parse(out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(closed->getValue<std::string>("state") == "closed");
    BOOST_TEST(closed->getValue<std::string>("refund_amount") == "2.71");  // 50 % of 5.00 + 0.42 tax: 2 units came
    std::tie(code, out, err) = keel({"show", id});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("state     closed") != std::string::npos, out);
    std::tie(code, out, err) = keel({"list", "web/CLI-R"}, true);
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find(id) != std::string::npos, out);
    std::tie(code, out, err) = keel({"show", "nope"});
    BOOST_TEST(code == 3);
    verify();
}

BOOST_AUTO_TEST_SUITE_END()
