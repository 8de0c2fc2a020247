#define BOOST_TEST_MODULE ledger
#include <boost/test/unit_test.hpp>

#include "order_fixture.h"
#include "process.h"
#include "test_database.h"

#include "keel/catalog/catalog.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"
#include "keel/events/log.h"
#include "keel/inventory/inventory.h"
#include "keel/ledger/ledger.h"
#include "keel/ledger/postings.h"
#include "keel/orders/orders.h"
#include "keel/orders/returns.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>

#include <fstream>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <sstream>

using namespace keel;
using namespace keel::orders;
using ledger::Ledger;

namespace {

using test::problemOf;

Poco::JSON::Object::Ptr json(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The order services (test::OrderFixture) with an initialized ledger (USD) wired as in production: stock moves post
// through the move observer, shipments invoice. Two warehouses; items A and B at moving average, F at FIFO.
struct Books : test::OrderFixture {
    Ledger ledger{clock};
    ledger::Postings postings{ledger};

    Books() {
        BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) { return ledger.initialize(uow, Currency::of("USD")); }));
        inventory.setMoveObserver(&postings);
        orders.setBilling(&postings);
        location("WH1", 10);
        location("WH2", 20);
        item("A");
        item("B");
        item("F", false, catalog::CostMethod::kFifo);
    }

    std::string receive(const std::string& sku, const std::string& location, std::int64_t quantity,
                        std::optional<std::string> unit_cost, const std::string& currency = "USD") {
        inventory::ReceiveRequest r;
        r.item_id = items.at(sku);
        r.location_id = locations.at(location);
        r.quantity = quantity;
        if (unit_cost) r.unit_cost = Money::parse(*unit_cost, Currency::of(currency));
        const auto received = db.run([&](db::UnitOfWork& uow) { return inventory.receive(uow, r); });
        BOOST_TEST_REQUIRE(received.ok(), problemOf(received));
        return received.value().move_id;
    }

    void writeOff(const std::string& sku, const std::string& location, std::int64_t quantity) {
        const auto done = db.run([&](db::UnitOfWork& uow) {
            return inventory.writeOff(uow, items.at(sku), locations.at(location), std::nullopt,
                                      inventory::StockState::kOnHand, quantity, "damaged", inventory::Source{});
        });
        BOOST_TEST_REQUIRE(done.ok(), problemOf(done));
    }

    std::string importOrder(const std::string& external, const std::string& sku, std::int64_t quantity,
                            const std::string& unit_price, const std::string& discount, const std::string& shipping) {
        return importDocument(R"({"type":"order","version":1,"channel":"web","external_id":")" + external +
                              R"(","currency":"USD","customer":{"id":"C-1"},"ship_to":{"name":"Ann Lee","line1":"1 Main St",)"
                              R"("city":"Springfield","region":"IL","postal_code":"62701","country":"US"},)"
                              R"("payment":{"status":"authorized"},"shipping":{"amount":")" +
                              shipping + R"("},"lines":[{"sku":")" + sku + R"(","quantity":)" +
                              std::to_string(quantity) + R"(,"unit_price":")" + unit_price + R"(","discount":")" +
                              discount + R"("}]})");
    }

    Result<ledger::PostResult> post(const std::string& event) {
        return db.run([&](db::UnitOfWork& uow) { return postings.postEvent(uow, *json(event), "test"); });
    }

    /// Net functional balance of an account (debit positive).
    std::int64_t balance(const std::string& code) {
        const auto tb = db.run([&](db::UnitOfWork& uow) { return ledger.trialBalance(uow); });
        for (const auto& r : tb.rows) {
            if (r.code == code) return r.debit - r.credit;
        }
        return 0;
    }

    std::int64_t pool(const std::string& sku) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement("SELECT value FROM item_cost WHERE item_id = ? AND pool = 'stock'");
            s.bind(items.at(sku)).execute();
            return s.next() ? s.getInt64(0) : std::int64_t{-1};
        });
    }

    /// Returns one unit of line 1 (refund policy full): authorized, received, restocked and closed.
    void returnOneAndRestock(const std::string& order_id) {
        const auto rma = db.run([&](db::UnitOfWork& uow) {
            return returns.authorize(uow, order_id, {{1, 1}}, ReturnReason::kUnwanted, *RefundPolicy::parse("full"),
                                     actor);
        });
        BOOST_TEST_REQUIRE(rma.ok(), problemOf(rma));
        BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) {
                                 return returns.receive(uow, rma.value(), {}, std::nullopt, actor);
                             }).ok());
        BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) {
                                 return returns.inspect(uow, rma.value(), 1, Disposition::kRestock, std::nullopt,
                                                        actor);
                             }).ok());
        BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) { return returns.close(uow, rma.value(), actor); }).ok());
    }

    void requireBooksVerify() {
        const auto report = db.run([&](db::UnitOfWork& uow) { return ledger.verify(uow); });
        std::string all;
        for (const auto& p : report.problems) all += p + "\n";
        BOOST_TEST_REQUIRE(report.ok(), all);
        const auto tb = db.run([&](db::UnitOfWork& uow) { return ledger.trialBalance(uow); });
        BOOST_TEST_REQUIRE(tb.total_debit == tb.total_credit);
        const auto stock = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
        BOOST_TEST_REQUIRE(stock.ok());
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ledger_books, Books)

BOOST_AUTO_TEST_CASE(the_default_chart_maps_every_role_and_the_currency_is_fixed) {
    BOOST_TEST(!db.run([&](db::UnitOfWork& uow) { return ledger.initialize(uow, Currency::of("USD")); }));
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { return ledger.initialize(uow, Currency::of("EUR")); }),
                      ConflictError);
    const auto chart = db.run([&](db::UnitOfWork& uow) { return ledger.accounts(uow); });
    std::set<std::string> roles;
    for (const auto& a : chart) roles.insert(a.roles.begin(), a.roles.end());
    for (const auto& role : ledger::requiredRoles()) BOOST_TEST(roles.count(role) == 1, role);
    // A chart without a required role is refused whole.
    auto smaller = chart;
    smaller.erase(std::remove_if(smaller.begin(), smaller.end(), [](const auto& a) { return a.code == "5300"; }),
                  smaller.end());
    const auto refused = db.run([&](db::UnitOfWork& uow) { return ledger.replaceChart(uow, smaller); });
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(problemOf(refused).find("chargeback_losses") != std::string::npos, problemOf(refused));
    // Renaming and adding accounts works, and roles follow the file.
    auto renamed = chart;
    renamed.push_back({"4010", "Marketplace revenue", ledger::AccountType::kIncome, "", "4000", true, {}});
    const auto replaced = db.run([&](db::UnitOfWork& uow) { return ledger.replaceChart(uow, renamed); });
    BOOST_TEST_REQUIRE(replaced.ok(), problemOf(replaced));
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return ledger.findAccount(uow, "4010"); })->parent_code == "4000");
}

BOOST_AUTO_TEST_CASE(every_change_writes_its_event_in_the_same_transaction_and_the_chain_verifies) {
    const std::string move = receive("A", "WH1", 10, "1.00");
    const std::string order = importOrder("EV-1", "A", 2, "5.00", "0.00", "1.00");
    ship(order);
    // A refused operation writes nothing: neither its move nor its event.
    inventory::AdjustRequest too_much;
    too_much.item_id = items.at("A");
    too_much.location_id = locations.at("WH1");
    too_much.delta = -1000;
    too_much.reason = "lost";
    BOOST_TEST(!db.run([&](db::UnitOfWork& uow) { return inventory.adjust(uow, too_much); }).ok());

    events::EventLog log(clock);
    log.sequenceAll(db);
    const auto all = db.run([&](db::UnitOfWork& uow) {
        return log.read(uow, events::EventFilter{0, 10000, {}, {}, {}});
    });
    std::map<std::string, int> types;
    for (const auto& e : all) ++types[e.type];
    BOOST_TEST(types["location.saved"] == 2);
    BOOST_TEST(types["item.created"] == 3);
    BOOST_TEST(types["stock.moved"] == 2);  // the receipt and the shipment; not the refused adjustment
    BOOST_TEST(types["order.received"] == 1);
    BOOST_TEST(types["shipment.shipped"] == 1);
    BOOST_TEST(types["journal.posted"] == 3);  // receipt, shipment (COGS) and the invoice
    BOOST_TEST(types["invoice.issued"] == 1);
    bool found_receipt = false;
    for (const auto& e : all) {
        if (e.type == "stock.moved" && e.payload.find("\"move_id\":\"" + move + "\"") != std::string::npos) {
            found_receipt = true;
            BOOST_TEST(e.aggregate_id == items.at("A"));
            BOOST_TEST(e.payload.find("\"reason\":\"receipt\"") != std::string::npos, e.payload);
        }
    }
    BOOST_TEST(found_receipt);
    const auto chain = log.verifyChain(db);
    BOOST_TEST(chain.ok, chain.problem);
    BOOST_TEST(chain.verified == static_cast<std::int64_t>(all.size()));
}

BOOST_AUTO_TEST_CASE(an_items_tax_class_reaches_the_tax_quote) {
    db.run([&](db::UnitOfWork& uow) {
        catalog::Item exempt;
        exempt.sku = "BOOK";
        exempt.name = "A tax-exempt book";
        exempt.tax_class = "exempt";
        items["BOOK"] = catalog.saveItem(uow, exempt);
    });
    const auto taxed = importOrder("TC-1", "A", 2, "10.00", "0.00", "0.00");
    const auto untaxed = importOrder("TC-2", "BOOK", 2, "10.00", "0.00", "0.00");
    const auto order = [&](const std::string& id) {
        return *db.run([&](db::UnitOfWork& uow) { return orders.find(uow, id); });
    };
    BOOST_TEST(order(taxed).lines.at(0).tax == 165);  // 8.25 % of 20.00
    BOOST_TEST(order(untaxed).lines.at(0).tax == 0);
    BOOST_TEST(order(untaxed).tax_total == 0);
}

BOOST_AUTO_TEST_CASE(receipts_and_issues_at_moving_average_cost) {
    receive("A", "WH1", 10, "1.00");
    receive("A", "WH1", 5, "1.30");  // 15 units, 16.50
    BOOST_TEST(balance("1300") == 1650);
    BOOST_TEST(balance("2100") == -1650);
    writeOff("A", "WH1", 4);  // 16.50 x 4/15 = 4.40
    BOOST_TEST(balance("5210") == 440);
    BOOST_TEST(pool("A") == 1210);
    writeOff("A", "WH1", 11);  // the last units take what is left
    BOOST_TEST(pool("A") == 0);
    BOOST_TEST(balance("1300") == 0);
    BOOST_TEST(balance("5210") == 1650);
    // A unit found later comes back at the last average (1.10).
    const auto found = db.run([&](db::UnitOfWork& uow) {
        inventory::AdjustRequest a;
        a.item_id = items.at("A");
        a.location_id = locations.at("WH1");
        a.delta = 1;
        a.reason = "found";
        return inventory.adjust(uow, a);
    });
    BOOST_TEST_REQUIRE(found.ok(), problemOf(found));
    BOOST_TEST(balance("1300") == 110);
    BOOST_TEST(balance("5200") == -110);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(fifo_items_issue_their_oldest_layers_first) {
    receive("F", "WH1", 10, "1.00");
    receive("F", "WH1", 10, "2.00");
    writeOff("F", "WH1", 15);  // 10 x 1.00 + 5 x 2.00
    BOOST_TEST(balance("5210") == 2000);
    BOOST_TEST(pool("F") == 1000);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(transfers_move_value_through_inventory_in_transit) {
    receive("A", "WH1", 10, "2.00");
    const auto transfer = db.run([&](db::UnitOfWork& uow) {
        return inventory.shipTransfer(uow, locations.at("WH1"), locations.at("WH2"), {{items.at("A"), std::nullopt, 6}},
                                      "T-1", inventory::Source{});
    });
    BOOST_TEST_REQUIRE(transfer.ok(), problemOf(transfer));
    BOOST_TEST(balance("1310") == 1200);
    BOOST_TEST(balance("1300") == 800);
    const auto received = db.run([&](db::UnitOfWork& uow) {
        return inventory.receiveTransfer(uow, transfer.value(), {{1, 4}}, inventory::Source{});
    });
    BOOST_TEST_REQUIRE(received.ok(), problemOf(received));
    BOOST_TEST(balance("1310") == 400);
    const auto closed =
        db.run([&](db::UnitOfWork& uow) { return inventory.closeTransfer(uow, transfer.value(), inventory::Source{}); });
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    BOOST_TEST(balance("1310") == 0);
    BOOST_TEST(balance("5210") == 400);  // lost in transit
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_shipment_posts_cost_of_goods_and_its_invoice) {
    receive("A", "WH1", 10, "4.00");
    // 3 x 10.00 - 1.00 discount, 5.00 shipping; tax 8.25 %: 29.00 -> 2.39, shipping 0.41.
    const auto order_id = importOrder("W-1", "A", 3, "10.00", "1.00", "5.00");
    const auto shipments = ship(order_id);
    BOOST_TEST(balance("5000") == 1200);
    BOOST_TEST(balance("1200") == 3680);
    BOOST_TEST(balance("4000") == -3000);
    BOOST_TEST(balance("4200") == 100);
    BOOST_TEST(balance("4100") == -500);
    BOOST_TEST(balance("2200-US-IL") == -280);  // tax payable, per jurisdiction
    const auto invoices = db.run([&](db::UnitOfWork& uow) { return postings.invoices(uow, order_id); });
    BOOST_TEST_REQUIRE(invoices.size() == 1u);
    BOOST_TEST(invoices[0].total == 3680);
    BOOST_TEST(invoices[0].due.toString() == "2026-12-26");
    // Revenue and cost carry the channel, so P&L by channel has both.
    const auto pnl = db.run([&](db::UnitOfWork& uow) { return ledger.profitAndLoss(uow, std::nullopt, std::nullopt); });
    BOOST_TEST_REQUIRE(pnl.size() == 1u);
    BOOST_TEST(pnl[0].channel == "web");
    BOOST_TEST(pnl[0].revenue == 3000);
    BOOST_TEST(pnl[0].cogs == 1200);
    BOOST_TEST(pnl[0].margin() == 3000 - 100 + 500 - 1200);
    // Delivered and invoiced in full: the order is invoiced. It went through both states, each recorded, and its row
    // was written once (one version).
    const auto shipped = db.run([&](db::UnitOfWork& uow) { return orders.find(uow, order_id); });
    const auto delivered = db.run(
        [&](db::UnitOfWork& uow) { return orders.recordDelivery(uow, shipments.front(), "signed", actor); });
    BOOST_TEST_REQUIRE(delivered.ok(), problemOf(delivered));
    const auto invoiced = db.run([&](db::UnitOfWork& uow) { return orders.find(uow, order_id); });
    BOOST_TEST(std::string(toString(invoiced->state)) == "invoiced");
    BOOST_TEST(invoiced->version == shipped->version + 1);
    const std::string last = db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement(
            "SELECT from_state, to_state FROM order_transition WHERE order_id = ? ORDER BY created_at DESC, id DESC");
        s.bind(order_id).execute();
        std::string history;
        for (int i = 0; i < 2 && s.next(); ++i)
            history = s.getString(0) + ">" + s.getString(1) + (i ? "," : "") + history;
        return history;
    });
    BOOST_TEST(last == "shipped>delivered,delivered>invoiced");
    requireBooksVerify();
}

namespace {

// An order of several lines, each at 10.00; it must end validated.
std::string multiLineOrder(Books& books, const std::string& external,
                           const std::vector<std::pair<std::string, int>>& lines) {
    std::string text = R"({"type":"order","version":1,"channel":"web","external_id":")" + external +
                       R"(","currency":"USD","customer":{"id":"C-1"},"ship_to":{"name":"Ann Lee","line1":"1 Main St",)"
                       R"("city":"Springfield","region":"IL","postal_code":"62701","country":"US"},)"
                       R"("payment":{"status":"authorized"},"lines":[)";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        text += (i == 0 ? "" : ",") + std::string(R"({"sku":")") + lines[i].first + R"(","quantity":)" +
                std::to_string(lines[i].second) + R"(,"unit_price":"10.00"})";
    }
    return books.importDocument(text + "]}");
}

// Allocates and releases an order that fits one shipment; returns the shipment.
std::string releaseOne(Books& books, const std::string& order_id) {
    BOOST_TEST_REQUIRE(
        books.db.run([&](db::UnitOfWork& uow) { return books.orders.allocate(uow, order_id, books.actor); }).ok());
    const auto released = books.db.run(
        [&](db::UnitOfWork& uow) { return books.orders.releaseToFulfillment(uow, order_id, books.actor); });
    BOOST_TEST_REQUIRE(released.ok(), problemOf(released));
    BOOST_TEST_REQUIRE(released.value().size() == 1u);
    return released.value().front();
}

// Confirms a shipment; returns the statements it took.
std::uint64_t confirmCounting(Books& books, const std::string& shipment_id) {
    std::uint64_t statements = 0;
    const auto shipped = books.db.run([&](db::UnitOfWork& uow) {
        const std::uint64_t before = db::statementsExecuted();
        auto result = books.orders.confirmShipment(uow, shipment_id, "UPS", "ground", "1Z1", books.actor);
        statements = db::statementsExecuted() - before;
        return result;
    });
    BOOST_TEST_REQUIRE(shipped.ok(), problemOf(shipped));
    return statements;
}

// The cost of goods each shipment move posted, smallest first.
std::vector<std::int64_t> shipmentCosts(Books& books) {
    return books.db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement(
            "SELECT l.amount FROM journal_line l JOIN journal_entry e ON e.id = l.entry_id "
            "WHERE e.kind = 'shipment' AND e.source_type = 'stock_move' AND l.account_code = '5000' ORDER BY l.amount");
        s.execute();
        std::vector<std::int64_t> amounts;
        while (s.next()) amounts.push_back(s.getInt64(0));
        return amounts;
    });
}

}  // namespace

// A shipment's lines leave together (Inventory::consumeMany, Postings::movedMany, Ledger::postMany): each move is
// valued as if posted alone after the ones before it, two lines of one item included, and a longer shipment costs
// only its extra lines' guarded updates (reservation, balance) more, not more valuation or posting statements.
BOOST_AUTO_TEST_CASE(a_shipments_lines_are_valued_together_as_they_would_be_one_by_one) {
    item("C");
    receive("A", "WH1", 2, "3.33");
    receive("A", "WH1", 1, "3.34");  // 3 units worth 10.00: a third is not a whole number of cents
    receive("B", "WH1", 20, "1.00");
    receive("C", "WH1", 20, "2.00");
    const std::string first = releaseOne(*this, multiLineOrder(*this, "W-1", {{"A", 1}, {"B", 4}, {"A", 2}, {"C", 1}}));
    confirmCounting(*this, first);
    // A: 1 of 3 units (3.33) and then the 2 left (6.67), or 2 of 3 (6.67) and then the last (3.33): 10.00 in all.
    BOOST_TEST(shipmentCosts(*this) == (std::vector<std::int64_t>{200, 333, 400, 667}),
               boost::test_tools::per_element());
    BOOST_TEST(pool("A") == 0);
    BOOST_TEST(pool("B") == 1600);
    BOOST_TEST(pool("C") == 3800);
    BOOST_TEST(balance("5000") == 1600);
    BOOST_TEST(balance("1300") == 1600 + 3800);
    // The same two items (their cost methods and the accounts now cached) in shipments of 3 and 6 lines.
    const std::uint64_t three_lines =
        confirmCounting(*this, releaseOne(*this, multiLineOrder(*this, "W-2", {{"B", 1}, {"C", 1}, {"B", 1}})));
    const std::uint64_t six_lines = confirmCounting(
        *this,
        releaseOne(*this, multiLineOrder(*this, "W-3", {{"B", 1}, {"C", 2}, {"B", 3}, {"C", 1}, {"B", 1}, {"C", 2}})));
    BOOST_TEST(pool("B") == 900);
    BOOST_TEST(pool("C") == 2600);
    BOOST_TEST(shipmentCosts(*this).size() == 13u);
    // Three more lines are three more guarded updates of a reservation and of a balance, and on MariaDB (no
    // UPDATE ... FROM) three more order line updates.
    const bool mariadb = db.backend() == db::Backend::kMariaDB;
    BOOST_TEST(six_lines - three_lines == (mariadb ? 9u : 6u), six_lines << " - " << three_lines);
    requireBooksVerify();
}

// A FIFO item in the shipment: its layers are taken one move at a time, and the rest posts as usual. A line whose
// allocation is gone fails the whole confirmation: nothing moves, nothing is valued or posted.
BOOST_AUTO_TEST_CASE(a_shipment_with_fifo_items_or_a_lost_allocation_ships_whole_or_not_at_all) {
    receive("F", "WH1", 2, "1.00");
    receive("F", "WH1", 2, "2.00");
    receive("A", "WH1", 10, "4.00");
    const std::string shipment = releaseOne(*this, multiLineOrder(*this, "W-1", {{"F", 3}, {"A", 2}}));
    confirmCounting(*this, shipment);
    BOOST_TEST(shipmentCosts(*this) == (std::vector<std::int64_t>{400, 800}), boost::test_tools::per_element());
    BOOST_TEST(pool("F") == 200);
    BOOST_TEST(pool("A") == 3200);

    const std::string order_id = multiLineOrder(*this, "W-2", {{"A", 1}, {"B", 1}});
    receive("B", "WH1", 5, "1.00");
    const std::string second = releaseOne(*this, order_id);
    const auto reservations =
        db.run([&](db::UnitOfWork& uow) { return inventory.activeReservationsOf(uow, order_id); });
    BOOST_TEST_REQUIRE(reservations.size() == 2u);
    BOOST_TEST_REQUIRE(
        db.run([&](db::UnitOfWork& uow) { return inventory.release(uow, reservations.back().id); }).ok());
    const auto refused =
        db.run([&](db::UnitOfWork& uow) { return orders.confirmShipment(uow, second, "UPS", "ground", "1Z2", actor); });
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(refused.problem().message.find("is already released") != std::string::npos, refused.problem().message);
    BOOST_TEST(shipmentCosts(*this).size() == 2u);
    BOOST_TEST(pool("A") == 3200);
    BOOST_TEST(pool("B") == 500);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(invoices_of_a_split_order_add_up_to_the_order_exactly) {
    receive("A", "WH1", 1, "4.00");
    receive("A", "WH2", 2, "4.00");
    const auto order_id = importOrder("W-2", "A", 3, "10.00", "1.00", "5.00");
    const auto shipments = ship(order_id);
    BOOST_TEST_REQUIRE(shipments.size() == 2u);
    const auto invoices = db.run([&](db::UnitOfWork& uow) { return postings.invoices(uow, order_id); });
    BOOST_TEST_REQUIRE(invoices.size() == 2u);
    std::int64_t total = 0, discount = 0, taxes = 0, shipping = 0;
    for (const auto& i : invoices) {
        total += i.total;
        discount += i.discount;
        taxes += i.tax;
        shipping += i.shipping;
    }
    const auto order = *db.run([&](db::UnitOfWork& uow) { return orders.find(uow, order_id); });
    BOOST_TEST(total == order.total);
    BOOST_TEST(discount == 100);  // 33 + 67 (cumulative shares), never 33 + 33 + ...
    BOOST_TEST(taxes == order.tax_total);
    BOOST_TEST(shipping == 500);  // on the first invoice only
    BOOST_TEST(balance("1200") == order.total);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(payments_fees_payouts_and_aging) {
    receive("A", "WH1", 10, "4.00");
    const auto order_id = importOrder("W-3", "A", 3, "10.00", "1.00", "5.00");
    ship(order_id);
    auto posted = post(R"({"type":"payment_capture","key":"psp-1","order_id":")" + order_id +
                       R"(","provider":"stripe","amount":"20.00","currency":"USD"})");
    BOOST_TEST_REQUIRE(posted.ok(), problemOf(posted));
    posted = post(R"({"type":"marketplace_fee","key":"fee-1","channel":"web","provider":"stripe","amount":"0.88","currency":"USD"})");
    BOOST_TEST_REQUIRE(posted.ok(), problemOf(posted));
    posted = post(R"({"type":"payout","key":"po-1","provider":"stripe","amount":"19.12","currency":"USD"})");
    BOOST_TEST_REQUIRE(posted.ok(), problemOf(posted));
    BOOST_TEST(balance("1100") == 0);
    BOOST_TEST(balance("1000") == 1912);
    BOOST_TEST(balance("5100") == 88);
    const Date today = Date::today(clock);
    auto aging = db.run([&](db::UnitOfWork& uow) { return ledger.aging(uow, today); });
    BOOST_TEST_REQUIRE(aging.size() == 1u);
    BOOST_TEST(aging[0].customer_code == "C-1");
    BOOST_TEST(aging[0].current == 1680);
    aging = db.run([&](db::UnitOfWork& uow) { return ledger.aging(uow, today.plusDays(45)); });
    BOOST_TEST(aging[0].current == 0);
    BOOST_TEST(aging[0].days_1_30 == 1680);
    aging = db.run([&](db::UnitOfWork& uow) { return ledger.aging(uow, today.plusDays(200)); });
    BOOST_TEST(aging[0].over_90 == 1680);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(replaying_an_event_posts_it_once_and_a_changed_replay_is_a_conflict) {
    const std::string event = R"({"type":"chargeback","key":"cb-9","channel":"web","amount":"12.00","currency":"USD"})";
    const auto first = post(event);
    BOOST_TEST_REQUIRE(first.ok(), problemOf(first));
    const auto again = post(event);
    BOOST_TEST_REQUIRE(again.ok(), problemOf(again));
    BOOST_TEST(again.value().already_posted);
    BOOST_TEST(again.value().entry_id == first.value().entry_id);
    BOOST_TEST(balance("5300") == 1200);
    const auto changed = post(R"({"type":"chargeback","key":"cb-9","channel":"web","amount":"13.00","currency":"USD"})");
    BOOST_TEST_REQUIRE(!changed.ok());
    BOOST_TEST((changed.problem().code == ExitCode::kConflict));
    BOOST_TEST(balance("5300") == 1200);
    // Won: the chargeback's entry is reversed, once.
    const auto won = post(R"({"type":"chargeback_won","key":"cb-9-won","chargeback_key":"cb-9"})");
    BOOST_TEST_REQUIRE(won.ok(), problemOf(won));
    BOOST_TEST(balance("5300") == 0);
    BOOST_TEST(balance("1000") == 0);
    BOOST_TEST(post(R"({"type":"chargeback_won","key":"cb-9-won","chargeback_key":"cb-9"})").value().already_posted);
    // A stock move's posting is keyed by the move: it cannot be posted a second time either.
    const std::string move = receive("A", "WH1", 1, "2.00");
    const auto entry = db.run([&](db::UnitOfWork& uow) { return ledger.entryByKey(uow, "stock_move:" + move); });
    BOOST_TEST_REQUIRE(entry.has_value());
    BOOST_TEST(entry->kind == "goods_receipt");
    // Unknown fields and bad amounts are named.
    const auto typo = post(R"({"type":"payout","key":"x","amount":"1.00","currency":"USD","provder":"stripe"})");
    BOOST_TEST(problemOf(typo).find("provder: unknown field") != std::string::npos, problemOf(typo));
    const auto unused = post(R"({"type":"chargeback","key":"x","provider":"stripe","amount":"1.00","currency":"USD"})");
    BOOST_TEST(problemOf(unused).find("provider: not used by chargeback events") != std::string::npos, problemOf(unused));
    const auto unknown = post(R"({"type":"refund","key":"x","amount":"1.00","currency":"USD"})");
    BOOST_TEST(problemOf(unknown).find("type: unknown financial event 'refund'") != std::string::npos, problemOf(unknown));
    const auto bad = post(R"({"type":"payout","key":"x","amount":"1.005","currency":"USD"})");
    BOOST_TEST(problemOf(bad).find("amount") != std::string::npos, problemOf(bad));
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_reversal_negates_an_entry_once) {
    const auto posted = post(R"({"type":"journal","key":"j-1","date":"2026-11-02","memo":"owner's capital","lines":[
        {"account":"1000","debit":"500.00","currency":"USD"},{"account":"3000","credit":"500.00","currency":"USD"}]})");
    BOOST_TEST_REQUIRE(posted.ok(), problemOf(posted));
    BOOST_TEST(balance("1000") == 50000);
    const auto reversed = db.run([&](db::UnitOfWork& uow) {
        return ledger.reverse(uow, posted.value().entry_id, std::nullopt, "", "test");
    });
    BOOST_TEST_REQUIRE(reversed.ok(), problemOf(reversed));
    BOOST_TEST(balance("1000") == 0);
    BOOST_TEST(balance("3000") == 0);
    const auto original = db.run([&](db::UnitOfWork& uow) { return ledger.entry(uow, posted.value().entry_id); });
    BOOST_TEST(original->reversed_by.value_or("") == reversed.value().entry_id);
    const auto again = db.run([&](db::UnitOfWork& uow) {
        return ledger.reverse(uow, posted.value().entry_id, std::nullopt, "", "test", std::string("other"));
    });
    BOOST_TEST(!again.ok());
    const auto of_reversal = db.run([&](db::UnitOfWork& uow) {
        return ledger.reverse(uow, reversed.value().entry_id, std::nullopt, "", "test");
    });
    BOOST_TEST(!of_reversal.ok());
    // An entry that mirrors a stock move is corrected through the stock, not reversed by hand.
    const std::string move = receive("A", "WH1", 2, "1.00");
    const auto receipt = db.run([&](db::UnitOfWork& uow) { return ledger.entryByKey(uow, "stock_move:" + move); });
    const auto by_hand = db.run([&](db::UnitOfWork& uow) { return ledger.reverse(uow, receipt->id, std::nullopt, "", "test"); });
    BOOST_TEST(problemOf(by_hand).find("not reversed by hand") != std::string::npos, problemOf(by_hand));
    // Manual journals cannot touch what the sub-ledgers own, nor post unbalanced.
    const auto control = post(R"({"type":"journal","key":"j-2","lines":[
        {"account":"1300","debit":"5.00","currency":"USD"},{"account":"3000","credit":"5.00","currency":"USD"}]})");
    BOOST_TEST(problemOf(control).find("account 1300 is kept by the stock ledger") != std::string::npos,
               problemOf(control));
    const auto unbalanced = post(R"({"type":"journal","key":"j-3","lines":[
        {"account":"1000","debit":"5.00","currency":"USD"},{"account":"3000","credit":"4.99","currency":"USD"}]})");
    BOOST_TEST(problemOf(unbalanced).find("debits and credits in USD differ by 0.01") != std::string::npos,
               problemOf(unbalanced));
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_closed_period_refuses_postings) {
    const auto october = post(R"({"type":"supplier_invoice","key":"si-1","date":"2026-10-15","amount":"40.00","currency":"USD"})");
    BOOST_TEST_REQUIRE(october.ok(), problemOf(october));
    auto closed = db.run([&](db::UnitOfWork& uow) { return ledger.setPeriod(uow, "2026-10", true, "test"); });
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    const auto late = post(R"({"type":"supplier_invoice","key":"si-2","date":"2026-10-20","amount":"10.00","currency":"USD"})");
    BOOST_TEST_REQUIRE(!late.ok());
    BOOST_TEST((late.problem().code == ExitCode::kConflict));
    BOOST_TEST(problemOf(late).find("period 2026-10 is closed") != std::string::npos, problemOf(late));
    // The current period cannot be closed: it would stop today's shipments.
    const auto current = db.run([&](db::UnitOfWork& uow) { return ledger.setPeriod(uow, "2026-11", true, "test"); });
    BOOST_TEST(!current.ok());
    // A reversal into the closed period is refused too; dated in November it is fine.
    const auto into_closed = db.run([&](db::UnitOfWork& uow) {
        return ledger.reverse(uow, october.value().entry_id, std::nullopt, "", "test");
    });
    BOOST_TEST(!into_closed.ok());
    const auto in_november = db.run([&](db::UnitOfWork& uow) {
        return ledger.reverse(uow, october.value().entry_id, Date::fromYmd(20261126), "", "test");
    });
    BOOST_TEST_REQUIRE(in_november.ok(), problemOf(in_november));
    // As of October the supplier invoice is still there.
    const auto tb = db.run([&](db::UnitOfWork& uow) { return ledger.trialBalance(uow, Date::fromYmd(20261031)); });
    BOOST_TEST(tb.total_debit == 4000);
    BOOST_TEST(balance("2000") == 0);
    const auto reopened = db.run([&](db::UnitOfWork& uow) { return ledger.setPeriod(uow, "2026-10", false, "test"); });
    BOOST_TEST_REQUIRE(reopened.ok(), problemOf(reopened));
    BOOST_TEST(post(R"({"type":"supplier_invoice","key":"si-2","date":"2026-10-20","amount":"10.00","currency":"USD"})").ok());
}

// A close that runs while a back-dated entry is being posted waits for it: the entry is either in before the close
// or refused, never written into a period already closed.
BOOST_AUTO_TEST_CASE(closing_a_period_waits_for_an_entry_being_posted_into_it) {
    std::atomic<bool> posted{false};
    std::atomic<std::int64_t> committed_at{0};
    std::thread poster([&] {
        db.run([&](db::UnitOfWork& uow) {
            auto result = postings.postEvent(
                uow, *json(R"({"type":"supplier_invoice","key":"late-1","date":"2026-10-30","amount":"7.00","currency":"USD"})"),
                "test");
            BOOST_TEST_REQUIRE(result.ok(), problemOf(result));
            posted = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            committed_at = std::chrono::steady_clock::now().time_since_epoch().count();
        });
    });
    while (!posted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto closed = db.run([&](db::UnitOfWork& uow) { return ledger.setPeriod(uow, "2026-10", true, "test"); });
    const auto closed_at = std::chrono::steady_clock::now().time_since_epoch().count();
    poster.join();
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    BOOST_TEST(closed_at >= committed_at.load());
    BOOST_TEST(balance("2000") == -700);
    const auto after = post(R"({"type":"supplier_invoice","key":"late-2","date":"2026-10-31","amount":"1.00","currency":"USD"})");
    BOOST_TEST(problemOf(after).find("period 2026-10 is closed") != std::string::npos, problemOf(after));
}

BOOST_AUTO_TEST_CASE(a_landed_cost_split_three_ways_sums_to_the_amount) {
    const std::string r1 = receive("A", "WH1", 10, "3.00");
    const std::string r2 = receive("B", "WH1", 10, "3.00");
    const std::string r3 = receive("F", "WH1", 10, "3.00");
    writeOff("B", "WH1", 5);  // half of B is gone: half its share goes to cost of goods sold
    const auto posted = post(R"({"type":"landed_cost","key":"freight-7","amount":"100.00","currency":"USD","receipts":[")" +
                             r1 + R"(",")" + r2 + R"(",")" + r3 + R"("]})");
    BOOST_TEST_REQUIRE(posted.ok(), problemOf(posted));
    BOOST_TEST(balance("2300") == -10000);
    BOOST_TEST(pool("A") == 3000 + 3334);
    BOOST_TEST(pool("B") == 1500 + 1666);  // 33.33 x 5/10 = 16.665: 16.66 (half even) raises what is left, 16.67 to COGS
    BOOST_TEST(pool("F") == 3000 + 3333);
    BOOST_TEST(balance("5000") == 1667);
    // Replayed, it posts nothing; the same key on another amount is a conflict.
    const std::string again = R"({"type":"landed_cost","key":"freight-7","amount":"100.00","currency":"USD","receipts":[")" +
                              r1 + R"(",")" + r2 + R"(",")" + r3 + R"("]})";
    BOOST_TEST(post(again).value().already_posted);
    const auto changed = post(R"({"type":"landed_cost","key":"freight-7","amount":"90.00","currency":"USD","receipts":[")" +
                              r1 + R"("]})");
    BOOST_TEST(problemOf(changed).find("from a different document") != std::string::npos, problemOf(changed));
    BOOST_TEST(balance("2300") == -10000);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(foreign_currency_amounts_keep_their_rate_and_round_to_the_rounding_account) {
    const auto missing = post(R"({"type":"payout","key":"eur-0","amount":"100.00","currency":"EUR"})");
    BOOST_TEST(problemOf(missing).find("no exchange rate for EUR") != std::string::npos, problemOf(missing));
    BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) {
                             return ledger.setRate(uow, Currency::of("EUR"), Date::fromYmd(20261101),
                                                   Decimal::parse("1.0850"));
                         }).ok());
    const auto payout = post(R"({"type":"payout","key":"eur-1","amount":"100.00","currency":"EUR"})");
    BOOST_TEST_REQUIRE(payout.ok(), problemOf(payout));
    const auto entry = db.run([&](db::UnitOfWork& uow) { return ledger.entry(uow, payout.value().entry_id); });
    BOOST_TEST(entry->lines[0].currency == "EUR");
    BOOST_TEST(entry->lines[0].amount == 10000);
    BOOST_TEST(entry->lines[0].functional_amount == 10850);
    BOOST_TEST(entry->lines[0].rate.toString() == "1.0850");
    // Three lines that each round: 0.015 -> 0.02 (half even), 0.015 -> 0.02, -0.03: the cent goes to rounding.
    BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) {
                             return ledger.setRate(uow, Currency::of("EUR"), Date::fromYmd(20261120), Decimal::parse("1.5"));
                         }).ok());
    const auto odd = post(R"({"type":"journal","key":"eur-2","lines":[
        {"account":"1000","debit":"0.01","currency":"EUR"},{"account":"5100","debit":"0.01","currency":"EUR"},
        {"account":"3000","credit":"0.02","currency":"EUR"}]})");
    BOOST_TEST_REQUIRE(odd.ok(), problemOf(odd));
    BOOST_TEST(balance("5900") == -1);
    // A receipt at a foreign cost: the stock is valued in USD at the day's rate, the lines keep the EUR amount.
    receive("A", "WH1", 10, "2.00", "EUR");
    BOOST_TEST(pool("A") == 3000);
    BOOST_TEST(balance("1300") == 3000);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_closed_return_posts_its_credit_note_and_restocked_goods_leave_cost_of_goods) {
    receive("A", "WH1", 10, "4.00");
    const auto order_id = importOrder("W-4", "A", 3, "10.00", "0.00", "0.00");
    ship(order_id);
    const auto rma = db.run([&](db::UnitOfWork& uow) {
        return returns.authorize(uow, order_id, {{1, 1}}, ReturnReason::kUnwanted, *RefundPolicy::parse("full"), actor);
    });
    BOOST_TEST_REQUIRE(rma.ok(), problemOf(rma));
    BOOST_TEST_REQUIRE(
        db.run([&](db::UnitOfWork& uow) { return returns.receive(uow, rma.value(), {}, std::nullopt, actor); }).ok());
    BOOST_TEST(balance("5000") == 800);  // 3 shipped at 4.00, one came back
    BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) {
                             return returns.inspect(uow, rma.value(), 1, Disposition::kRestock, std::nullopt, actor);
                         }).ok());
    const auto closed = db.run([&](db::UnitOfWork& uow) { return returns.close(uow, rma.value(), actor); });
    BOOST_TEST_REQUIRE(closed.ok(), problemOf(closed));
    BOOST_TEST(balance("4300") == 1000);         // goods refunded
    BOOST_TEST(balance("2200-US-IL") == -248 + 83);  // tax 30.00 x 8.25 % = 2.48, a third of it refunded
    BOOST_TEST(balance("1200") == 3248 - 1083);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(tax_payable_follows_the_tax_engines_jurisdictions_on_invoices_and_credit_notes) {
    receive("A", "WH1", 10, "4.00");
    const auto order_id = importOrder("W-7", "A", 3, "10.00", "0.00", "0.00");
    // The breakdown a tax plugin's quote stores (state and county parts of the line's 2.48).
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("INSERT INTO order_tax (order_id, line_no, jurisdiction, tax) VALUES (?, 1, 'US-IL', 150)")
            .bindAll(order_id)
            .execute();
        uow.statement("INSERT INTO order_tax (order_id, line_no, jurisdiction, tax) VALUES (?, 1, 'US-IL-COOK', 98)")
            .bindAll(order_id)
            .execute();
    });
    ship(order_id);
    BOOST_TEST(balance("2200-US-IL") == -150);
    BOOST_TEST(balance("2200-US-IL-COOK") == -98);
    returnOneAndRestock(order_id);
    // 0.83 of tax comes back, split 150:98 by largest remainder: 0.50 and 0.33.
    BOOST_TEST(balance("2200-US-IL") == -150 + 50);
    BOOST_TEST(balance("2200-US-IL-COOK") == -98 + 33);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_return_of_goods_never_invoiced_gets_no_credit_note) {
    ledger::PostingOptions options;
    options.channel_invoice_on["web"] = ledger::InvoiceOn::kDelivery;
    ledger::Postings on_delivery(ledger, options);
    orders.setBilling(&on_delivery);
    receive("A", "WH1", 10, "4.00");
    const auto order_id = importOrder("W-6", "A", 2, "10.00", "0.00", "0.00");
    ship(order_id);
    BOOST_TEST(balance("1200") == 0);  // shipped, not yet invoiced
    returnOneAndRestock(order_id);
    BOOST_TEST(balance("4300") == 0);
    BOOST_TEST(balance("1200") == 0);
    orders.setBilling(&postings);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(a_new_chart_keeps_the_tax_accounts_made_per_jurisdiction) {
    receive("A", "WH1", 10, "4.00");
    ship(importOrder("W-7", "A", 1, "10.00", "0.00", "0.00"));
    BOOST_TEST(balance("2200-US-IL") == -83);
    // The chart as an accountant would write it: the default one, without the account the ledger made.
    auto chart = ledger::defaultChart();
    chart.push_back({"2210", "Sales tax payable (new)", ledger::AccountType::kLiability, "", "", true, {}});
    for (auto& a : chart) {
        if (a.code == "2200") a.roles.clear();
        if (a.code == "2210") a.roles = {"tax_payable"};
    }
    const auto replaced = db.run([&](db::UnitOfWork& uow) { return ledger.replaceChart(uow, chart); });
    BOOST_TEST_REQUIRE(replaced.ok(), problemOf(replaced));
    const auto kept = db.run([&](db::UnitOfWork& uow) { return ledger.findAccount(uow, "2200-US-IL"); });
    BOOST_TEST_REQUIRE(kept.has_value());
    BOOST_TEST(kept->active);
    BOOST_TEST(kept->parent_code == "2210");
    ship(importOrder("W-8", "A", 1, "10.00", "0.00", "0.00"));
    BOOST_TEST(balance("2200-US-IL") == -166);
    requireBooksVerify();
}

BOOST_AUTO_TEST_CASE(stock_from_before_the_ledger_is_valued_once_as_an_opening_balance) {
    inventory::Inventory unobserved{clock};  // as stock received before the ledger was initialized
    inventory::ReceiveRequest r;
    r.item_id = items.at("A");
    r.location_id = locations.at("WH1");
    r.quantity = 5;
    BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) { return unobserved.receive(uow, r); }).ok());
    auto report = db.run([&](db::UnitOfWork& uow) { return ledger.verify(uow); });
    BOOST_TEST_REQUIRE(report.problems.size() == 1u);
    BOOST_TEST(report.problems[0].find("item A: the stock ledger holds 5 units, its cost pool 0 (unvalued stock") !=
                   std::string::npos,
               report.problems[0]);
    const auto refused = db.run([&](db::UnitOfWork& uow) {
        return inventory.writeOff(uow, items.at("A"), locations.at("WH1"), std::nullopt, inventory::StockState::kOnHand, 1,
                                  "damaged", inventory::Source{});
    });
    BOOST_TEST(problemOf(refused).find("keel ledger value-stock") != std::string::npos, problemOf(refused));
    const auto valued = db.run([&](db::UnitOfWork& uow) {
        return postings.valueUnvaluedStock(uow, items.at("A"), Money::parse("2.00", Currency::of("USD")), "test");
    });
    BOOST_TEST_REQUIRE(valued.ok(), problemOf(valued));
    BOOST_TEST(valued.value() == 5);
    BOOST_TEST(balance("1300") == 1000);
    BOOST_TEST(balance("3000") == -1000);
    const auto again = db.run([&](db::UnitOfWork& uow) {
        return postings.valueUnvaluedStock(uow, items.at("A"), Money::parse("3.00", Currency::of("USD")), "test");
    });
    BOOST_TEST(again.value() == 0);
    writeOff("A", "WH1", 1);
    BOOST_TEST(balance("5210") == 200);
    requireBooksVerify();
}

// Random sequences of commerce events always leave the books balanced and inventory reconciled.
BOOST_AUTO_TEST_CASE(random_commerce_keeps_the_books_balanced_and_reconciled) {
    std::mt19937 random(20261126);
    auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
    const std::vector<std::string> skus = {"A", "B", "F"};
    const std::vector<std::string> where = {"WH1", "WH2"};
    int orders_made = 0;
    for (int step = 0; step < 60; ++step) {
        const std::string sku = skus[static_cast<std::size_t>(pick(3))];
        const std::string at = where[static_cast<std::size_t>(pick(2))];
        switch (pick(5)) {
            case 0:
            case 1:
                receive(sku, at, 1 + pick(20), std::to_string(1 + pick(9)) + "." + std::to_string(10 + pick(90)));
                break;
            case 2: {
                const auto done = db.run([&](db::UnitOfWork& uow) {
                    inventory::AdjustRequest a;
                    a.item_id = items.at(sku);
                    a.location_id = locations.at(at);
                    a.delta = pick(2) ? 1 + pick(3) : -(1 + pick(3));
                    a.reason = a.delta > 0 ? "found" : "lost";
                    return inventory.adjust(uow, a);
                });
                (void)done;  // a loss larger than the stock is refused: fine, nothing changed
                break;
            }
            case 3: {
                const auto id = importOrder("R-" + std::to_string(++orders_made), sku, 1 + pick(4), "9.99", "0.50", "1.00");
                const auto allocated = db.run([&](db::UnitOfWork& uow) { return orders.allocate(uow, id, actor); });
                if (!allocated.ok() || allocated.value().allocated == 0) break;
                const auto released = db.run([&](db::UnitOfWork& uow) { return orders.releaseToFulfillment(uow, id, actor); });
                for (const auto& s : released.value()) {
                    BOOST_TEST_REQUIRE(
                        db.run([&](db::UnitOfWork& uow) { return orders.confirmShipment(uow, s, "UPS", "", "", actor); })
                            .ok());
                }
                break;
            }
            case 4: {
                const auto done = db.run([&](db::UnitOfWork& uow) {
                    return inventory.writeOff(uow, items.at(sku), locations.at(at), std::nullopt,
                                              inventory::StockState::kOnHand, 1, "damaged", inventory::Source{});
                });
                (void)done;
                break;
            }
        }
        if (step % 10 == 9) requireBooksVerify();
    }
    requireBooksVerify();
}

// The export is read by the real `ledger` and `hledger`, whose balances equal the trial balance exactly.
BOOST_AUTO_TEST_CASE(ledger_and_hledger_read_the_export_and_agree_with_the_trial_balance) {
    receive("A", "WH1", 10, "4.00");
    const auto order_id = importOrder("W-5", "A", 3, "10.00", "1.00", "5.00");
    ship(order_id);
    BOOST_TEST(problemOf(post(R"({"type":"payment_capture","key":"p-5","amount":"36.80","currency":"USD"})"))
                   .find("order_id or customer: required") != std::string::npos);
    BOOST_TEST_REQUIRE(post(R"({"type":"payment_capture","key":"p-5","provider":"stripe","order_id":")" + order_id +
                            R"(","amount":"36.80","currency":"USD"})")
                           .ok());
    BOOST_TEST_REQUIRE(post(R"({"type":"journal","key":"big","lines":[{"account":"1000","debit":"12345.67","currency":"USD"},
        {"account":"3000","credit":"12345.67","currency":"USD"}]})").ok());
    Poco::TemporaryFile file;
    {
        std::ofstream out(file.path());
        db.run([&](db::UnitOfWork& uow) { ledger.exportLedger(uow, out); });
    }
    std::map<std::string, std::int64_t> expected;
    const auto tb = db.run([&](db::UnitOfWork& uow) { return ledger.trialBalance(uow); });
    for (const auto& r : tb.rows) {
        // Both tools leave out accounts whose balance is zero (receivables, once paid).
        if (r.debit != r.credit) expected[ledger::exportAccountName(r.type, r.code)] = r.debit - r.credit;
    }
    auto parse = [](std::string amount) {
        amount.erase(std::remove(amount.begin(), amount.end(), ','), amount.end());
        const auto space = amount.find(' ');
        BOOST_TEST_REQUIRE(amount.substr(space + 1) == "USD");
        return Money::parse(amount.substr(0, space), Currency::of("USD")).minor();
    };
    const auto ledger_run = test::runCommand("/usr/bin/ledger", {"-f", file.path(), "bal", "--flat", "--no-total",
                                                                 "--balance-format", "%(account)\t%(display_total)\n"});
    BOOST_TEST_REQUIRE(ledger_run.exit_code == 0, ledger_run.err);
    std::map<std::string, std::int64_t> from_ledger;
    std::istringstream lines(ledger_run.out);
    for (std::string line; std::getline(lines, line);) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        from_ledger[line.substr(0, tab)] = parse(line.substr(tab + 1));
    }
    BOOST_TEST((from_ledger == expected), ledger_run.out);
    const auto hledger_run = test::runCommand("/usr/bin/hledger", {"-f", file.path(), "bal", "--flat", "--no-total", "-O", "csv"});
    BOOST_TEST_REQUIRE(hledger_run.exit_code == 0, hledger_run.err);
    std::map<std::string, std::int64_t> from_hledger;
    std::istringstream rows(hledger_run.out);
    std::string row;
    std::getline(rows, row);  // header
    for (; std::getline(rows, row);) {
        // "Assets:1200","36.80 USD"
        const auto comma = row.find("\",\"");
        if (comma == std::string::npos) continue;
        from_hledger[row.substr(1, comma - 1)] = parse(row.substr(comma + 3, row.rfind('"') - comma - 3));
    }
    BOOST_TEST((from_hledger == expected), hledger_run.out);
    BOOST_TEST(expected.size() >= 8u);
    BOOST_TEST(tb.rows.size() > expected.size());  // the receivables account nets to zero
}

BOOST_AUTO_TEST_SUITE_END()

// The commands, run in-process: post from a file, reports in JSON, verify, export.
BOOST_FIXTURE_TEST_CASE(ledger_commands_end_to_end, Books) {
    receive("A", "WH1", 5, "2.50");
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", test.connectionString()});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return std::tuple{code, out.str(), err.str()};
    };
    Poco::TemporaryFile events;
    {
        std::ofstream out(events.path());
        out << R"([{"type":"supplier_invoice","key":"inv-1","amount":"12.50","currency":"USD"},
                   {"type":"payout","key":"po-1","amount":"3.00","currency":"USD"}])";
    }
    auto [code, out, err] = keel({"ledger", "post", events.path()});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("posted: entry") != std::string::npos, out);
    std::tie(code, out, err) = keel({"ledger", "post", events.path()});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("already posted") != std::string::npos, out);
    std::tie(code, out, err) = keel({"--json", "ledger", "trial-balance"});
    BOOST_TEST_REQUIRE(code == 0, err);
    const auto totals = json(out)->getObject("totals");
    BOOST_TEST(totals->getValue<std::string>("debit") == totals->getValue<std::string>("credit"));
    std::tie(code, out, err) = keel({"ledger", "trial-balance", "--csv"});
    BOOST_TEST(out.find("1300,Inventory,asset,12.50,") != std::string::npos, out);
    std::tie(code, out, err) = keel({"ledger", "verify"});
    BOOST_TEST(code == 0, err + out);
    BOOST_TEST(out.find("ledger ok") != std::string::npos, out);
    std::tie(code, out, err) = keel({"ledger", "detail", "1300"});
    BOOST_TEST(out.find("goods_receipt") != std::string::npos, out);
    std::tie(code, out, err) = keel({"ledger", "export", "--format", "csv"});
    BOOST_TEST(out.find("entry_id,date,kind") == 0u, out);
    std::tie(code, out, err) = keel({"ledger", "period", "close", "2026-13"});
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("YYYY-MM") != std::string::npos, err);
    // An order delivered and invoiced in full is closed by the operator; one still open is refused.
    const auto order_id = importOrder("W-CLI", "A", 2, "9.00", "0.00", "0.00");
    const auto shipments = ship(order_id);
    std::tie(code, out, err) = keel({"order", "close", order_id});
    BOOST_TEST(code == 4, out);
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return orders.recordDelivery(uow, shipments.front(), "", actor); }).ok());
    std::tie(code, out, err) = keel({"--json", "ledger", "invoices", "web/W-CLI"});
    BOOST_TEST_REQUIRE(code == 0, err);
    BOOST_TEST(json(out)->getArray("invoices")->getObject(0)->getValue<std::string>("total") == "19.49", out);  // 18.00 + 8.25 % tax
    std::tie(code, out, err) = keel({"order", "close", order_id});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("order is closed") != std::string::npos, out);
    // Stock from before the ledger is valued from the command line too; a bad row changes nothing.
    Poco::TemporaryFile costs;
    {
        std::ofstream file(costs.path());
        file << "sku,unit_cost\nB,1.50\nNOPE,1.00\n";
    }
    inventory::Inventory unobserved{clock};
    inventory::ReceiveRequest r;
    r.item_id = items.at("B");
    r.location_id = locations.at("WH1");
    r.quantity = 4;
    BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) { return unobserved.receive(uow, r); }).ok());
    std::tie(code, out, err) = keel({"ledger", "value-stock", "--file", costs.path()});
    BOOST_TEST(code == 3);
    BOOST_TEST(err.find("line 3: no item 'NOPE'") != std::string::npos, err);
    std::tie(code, out, err) = keel({"ledger", "value-stock", "B", "1.50"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("B: 4 units valued") != std::string::npos, out);
    // A stock cost pool that no longer matches the books is named by verify, with exit code 4.
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE item_cost SET value = value + 1 WHERE item_id = ?").bind(items.at("A")).execute();
    });
    std::tie(code, out, err) = keel({"ledger", "verify"});
    BOOST_TEST(code == 4);
    BOOST_TEST(out.find("item A: inventory account 1300 holds 7.50 USD, the stock valuation is 7.51 USD") !=
                   std::string::npos,
               out);
}
