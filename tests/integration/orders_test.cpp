#define BOOST_TEST_MODULE orders
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "test_database.h"

#include "keel/catalog/catalog.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/orders/orders.h"
#include "keel/pricing/import.h"
#include "keel/cli/cli.h"
#include "temp_dir.h"

#include <Poco/JSON/Parser.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

using namespace keel;
using namespace keel::orders;
namespace data = boost::unit_test::data;

namespace {

constexpr std::int64_t kNow = 1'795'651'200'000'000;  // 2026-11-26T00:00:00Z

// Prices the scenarios set with `price SKU AMOUNT`.
class ScenarioPrices final : public PriceSource {
public:
    std::optional<Price> price(db::UnitOfWork&, const PriceQuery& query) override {
        auto it = prices_.find(query.sku);
        if (it == prices_.end()) return std::nullopt;
        return Price{Money::parse(it->second, *query.currency), "scenario"};
    }
    void set(const std::string& sku, const std::string& amount) { prices_[sku] = amount; }

private:
    std::map<std::string, std::string> prices_;
};

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    std::string w;
    while (in >> w) out.push_back(w);
    return out;
}

// key=value words of a step, and the plain words.
struct Step {
    std::vector<std::string> plain;
    std::map<std::string, std::string> options;
    explicit Step(const std::vector<std::string>& all) {
        for (const auto& w : all) {
            const auto eq = w.find('=');
            if (eq == std::string::npos || w.find('*') != std::string::npos) {
                plain.push_back(w);
            } else {
                options[w.substr(0, eq)] = w.substr(eq + 1);
            }
        }
    }
    std::string option(const std::string& key, const std::string& fallback = "") const {
        auto it = options.find(key);
        return it == options.end() ? fallback : it->second;
    }
};

// Runs a scenario file: one step per line, `#` comments. Readable specifications of order flows that run the
// same on every backend.
class Scenario {
public:
    Scenario() {
        db::Migrator(db_).migrate();
        orders_.setChannelPolicy("b2b", ChannelPolicy{false});
    }

    void run(const std::filesystem::path& file) {
        std::ifstream in(file);
        BOOST_TEST_REQUIRE(in.good(), file);
        std::string line;
        int number = 0;
        while (std::getline(in, line)) {
            ++number;
            const auto hash = line.find('#');
            if (hash != std::string::npos) line = line.substr(0, hash);
            const auto w = words(line);
            if (w.empty()) continue;
            BOOST_TEST_CONTEXT(file.filename().string() << ":" << number << ": " << line) { step(w); }
        }
    }

private:
    void step(const std::vector<std::string>& w) {
        const std::string& verb = w.front();
        const Step s(std::vector<std::string>(w.begin() + 1, w.end()));
        if (verb == "location") return location(s);
        if (verb == "item") return item(s);
        if (verb == "kit") return kit(s);
        if (verb == "price") return prices_.set(s.plain.at(0), s.plain.at(1));
        if (verb == "customer") return customer(s);
        if (verb == "fraud") return fraud(s);
        if (verb == "receive") return receive(s);
        if (verb == "import") return importOrder(s);
        if (verb == "allocate") return allocate(s);
        if (verb == "fill") return fill(s);
        // The order id is looked up before the unit of work starts: a second unit inside the first would wait
        // for the first's lock on SQLite.
        if (verb == "release") {
            const std::string order = id(s);
            return expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.releaseToFulfillment(uow, order, actor_); }), s);
        }
        if (verb == "hold") {
            const std::string order = id(s);
            return expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.hold(uow, order, "scenario", actor_); }), s);
        }
        if (verb == "unhold") {
            const std::string order = id(s);
            return expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.release(uow, order, actor_); }), s);
        }
        if (verb == "reject") {
            const std::string order = id(s);
            return expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.reject(uow, order, "scenario", actor_); }), s);
        }
        if (verb == "cancel") {
            std::optional<int> line;
            if (!s.option("line").empty()) line = std::stoi(s.option("line"));
            const std::string order = id(s);
            return expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.cancel(uow, order, line, "scenario", actor_); }), s);
        }
        if (verb == "ship") return ship(s);
        if (verb == "deliver") return deliver(s);
        if (verb == "expect") return expect(s);
        if (verb == "verify") return verify();
        BOOST_FAIL("unknown step '" + verb + "'");
    }

    template <typename T>
    void expectOk(const Result<T>& result, const Step& s) {
        const std::string wanted = s.option("expect", "ok");
        if (wanted == "ok") {
            BOOST_TEST(result.ok(), (result.ok() ? "" : result.problem().message));
        } else {
            BOOST_TEST_REQUIRE(!result.ok(), "expected a refusal containing '" << wanted << "'");
            BOOST_TEST(result.problem().message.find(wanted) != std::string::npos, result.problem().message);
        }
    }

    std::string id(const Step& s) {
        const std::string external = s.plain.at(0);
        const std::string channel = s.option("channel", channel_of_[external].empty() ? "web" : channel_of_[external]);
        return db_.run([&](db::UnitOfWork& uow) {
            auto o = orders_.findByExternal(uow, channel, external);
            BOOST_TEST_REQUIRE(o.has_value(), "no order " << channel << "/" << external);
            return o->id;
        });
    }

    void location(const Step& s) {
        catalog::Location l;
        l.code = s.plain.at(0);
        l.name = "Warehouse " + l.code;
        l.priority = std::stoi(s.option("priority", "100"));
        l.country = s.option("country", "US");
        l.region = s.option("region", "IL");
        l.ships_to_customers = s.option("ships", "1") == "1";
        locations_[l.code] = db_.run([&](db::UnitOfWork& uow) { return catalog_.saveLocation(uow, l); });
    }

    void item(const Step& s) {
        catalog::Item i;
        i.sku = s.plain.at(0);
        i.name = "Item " + i.sku;
        for (const auto& flag : s.plain) {
            if (flag == "lots") i.lot_tracked = true;
            if (flag == "expiry") i.lot_tracked = i.expiry_tracked = true;
        }
        if (s.option("status") == "discontinued") i.status = catalog::ItemStatus::kDiscontinued;
        items_[i.sku] = db_.run([&](db::UnitOfWork& uow) { return catalog_.saveItem(uow, i); });
    }

    void kit(const Step& s) {
        catalog::Item i;
        i.sku = s.plain.at(0);
        i.name = "Kit " + i.sku;
        i.is_kit = true;
        for (const auto& [sku, quantity] : s.options) i.components.push_back({"", sku, std::stoll(quantity)});
        items_[i.sku] = db_.run([&](db::UnitOfWork& uow) { return catalog_.saveItem(uow, i); });
    }

    // Customers come in the way operators load them: a customer CSV.
    void customer(const Step& s) {
        std::istringstream csv("code,name,kind,credit_limit,currency\n" + s.plain.at(0) + ",Customer " + s.plain.at(0) +
                               "," + s.option("kind", "b2c") + "," + s.option("limit") + ",USD\n");
        const auto report = pricing::PricingCsv(clock_).importCustomers(db_, csv, "customers.csv", Currency::of("USD"));
        BOOST_TEST_REQUIRE(report.problems.empty(), (report.problems.empty() ? "" : report.problems.front().what()));
    }

    void fraud(const Step& s) {
        FraudRules rules;
        if (!s.option("max_value").empty()) rules.max_order_value = Money::parse(s.option("max_value"), Currency::of("USD"));
        if (!s.option("new_customer_max").empty()) {
            rules.new_customer_max_value = Money::parse(s.option("new_customer_max"), Currency::of("USD"));
        }
        rules.country_mismatch = s.option("country_mismatch") == "1";
        rules.address_max_orders = std::stoi(s.option("address_max_orders", "0"));
        orders_.setFraudRules(rules);
    }

    void receive(const Step& s) {
        inventory::ReceiveRequest r;
        r.item_id = items_.at(s.plain.at(0));
        r.location_id = locations_.at(s.plain.at(1));
        r.quantity = std::stoll(s.plain.at(2));
        if (!s.option("lot").empty()) r.lot_code = s.option("lot");
        if (!s.option("expiry").empty()) r.expiry = Date::parse(s.option("expiry")).value();
        auto received = db_.run([&](db::UnitOfWork& uow) { return inventory_.receive(uow, r); });
        BOOST_TEST_REQUIRE(received.ok(), (received.ok() ? "" : received.problem().message));
    }

    // import EXT [channel=web] [customer=C] [payment=authorized] [country=US] [region=IL] [bill_country=US]
    //        [ship_complete=1] [backorder=0|1] [priority=N] [promise=YYYY-MM-DD] [address=incomplete] SKU*QTY[@PRICE] ...
    void importOrder(const Step& s) {
        const std::string external = s.plain.at(0);
        const std::string channel = s.option("channel", "web");
        channel_of_[external] = channel;
        Poco::JSON::Object doc;
        doc.set("type", "order");
        doc.set("version", 1);
        doc.set("channel", channel);
        doc.set("external_id", external);
        doc.set("currency", "USD");
        Poco::JSON::Object customer;
        customer.set("id", s.option("customer", "C-" + external));
        customer.set("email", s.option("email", "buyer@example.com"));
        doc.set("customer", customer);
        Poco::JSON::Object ship_to;
        ship_to.set("name", s.option("address") == "incomplete" ? "" : "Ann Lee");
        ship_to.set("line1", s.option("line1", "1 Main St"));
        ship_to.set("city", "Springfield");
        ship_to.set("region", s.option("region", "IL"));
        ship_to.set("postal_code", "62701");
        ship_to.set("country", s.option("country", "US"));
        doc.set("ship_to", ship_to);
        if (!s.option("bill_country").empty()) {
            Poco::JSON::Object bill_to = ship_to;
            bill_to.set("country", s.option("bill_country"));
            doc.set("bill_to", bill_to);
        }
        Poco::JSON::Array lines;
        for (std::size_t i = 1; i < s.plain.size(); ++i) {
            const std::string& spec = s.plain[i];
            const auto star = spec.find('*');
            const auto at = spec.find('@');
            Poco::JSON::Object line;
            line.set("sku", spec.substr(0, star));
            line.set("quantity", std::stoll(spec.substr(star + 1, at == std::string::npos ? std::string::npos : at - star - 1)));
            if (at != std::string::npos) line.set("unit_price", spec.substr(at + 1));
            lines.add(line);
        }
        doc.set("lines", lines);
        Poco::JSON::Object payment;
        payment.set("status", s.option("payment", "authorized"));
        doc.set("payment", payment);
        if (!s.option("priority").empty()) doc.set("priority", std::stoi(s.option("priority")));
        if (!s.option("promise").empty()) doc.set("promise_date", s.option("promise"));
        if (s.option("ship_complete") == "1") doc.set("ship_complete", true);
        if (!s.option("backorder").empty()) doc.set("allow_backorder", s.option("backorder") == "1");
        if (!s.option("note").empty()) doc.set("notes", s.option("note"));
        std::ostringstream text;
        doc.stringify(text);
        const ParsedDocument parsed = parseOrderDocument(text.str());
        BOOST_TEST_REQUIRE(parsed.ok(), (parsed.problems.empty() ? "" : parsed.problems.front().message));
        auto outcome = db_.run([&](db::UnitOfWork& uow) { return orders_.import(uow, *parsed.document, actor_); });
        const std::string wanted = s.option("expect", "created");
        if (!outcome.ok()) {
            BOOST_TEST(wanted == "conflict", outcome.problem().message);
            BOOST_TEST(static_cast<int>(outcome.problem().code) == 4);
            return;
        }
        const char* got = outcome.value().status == ImportStatus::kCreated          ? "created"
                          : outcome.value().status == ImportStatus::kAlreadyImported ? "already_imported"
                                                                                       : "conflict";
        BOOST_TEST(wanted == got);
    }

    void allocate(const Step& s) {
        if (s.plain.at(0) == "all") {
            // As keeld's allocation sweep: the queue's orders each in its own unit, sharing commits on SQLite.
            const auto queue = db_.run([&](db::UnitOfWork& uow) { return orders_.allocationQueue(uow); });
            (void)orders_.allocateEach(db_, queue, actor_);
            return;
        }
        const std::string order = id(s);
        expectOk(db_.run([&](db::UnitOfWork& uow) { return orders_.allocate(uow, order, actor_); }), s);
    }

    void fill(const Step& s) {
        std::vector<std::string> items;
        for (const auto& sku : s.plain) items.push_back(items_.at(sku));
        (void)orders_.fillBackorders(db_, items, actor_);
    }

    // ship ORDER [SKU=N ...] [expect=REFUSAL]: confirms its released shipments; SKU=N says a fulfiller shipped only N
    // of that item (a short shipment, spread over the item's lines in order).
    void ship(const Step& s) {
        const std::string order = id(s);
        std::map<std::string, std::int64_t> shipped_items;
        for (const auto& [key, value] : s.options) {
            if (key != "channel" && key != "expect") shipped_items[items_.at(key)] = std::stoll(value);
        }
        const auto shipments = db_.run([&](db::UnitOfWork& uow) { return orders_.shipments(uow, order); });
        for (const auto& sh : shipments) {
            if (sh.state != ShipmentState::kReleased) continue;
            ShipmentReport report;
            std::map<std::string, int> last_line;  // an item's last line takes what is left, even more than released
            for (const auto& line : sh.lines) last_line[line.item_id] = line.line_no;
            for (const auto& line : sh.lines) {
                auto left = shipped_items.find(line.item_id);
                if (left == shipped_items.end()) continue;
                const std::int64_t here =
                    last_line[line.item_id] == line.line_no ? left->second : std::min(left->second, line.quantity);
                report.shipped[line.line_no] = here;
                left->second -= here;
            }
            if (s.option("expect", "ok") != "ok") {
                expectOk(db_.run([&](db::UnitOfWork& uow) {
                    return orders_.confirmShipment(uow, sh.id, "UPS", "ground", "1Z999", actor_, report);
                }),
                         s);
                continue;
            }
            auto picked = db_.run([&](db::UnitOfWork& uow) { return orders_.pick(uow, sh.id, actor_); });
            BOOST_TEST_REQUIRE(picked.ok(), (picked.ok() ? "" : picked.problem().message));
            auto packed = db_.run([&](db::UnitOfWork& uow) { return orders_.pack(uow, sh.id, 1, 500000, actor_); });
            BOOST_TEST_REQUIRE(packed.ok(), (packed.ok() ? "" : packed.problem().message));
            auto shipped = db_.run([&](db::UnitOfWork& uow) {
                return orders_.confirmShipment(uow, sh.id, "UPS", "ground", "1Z999", actor_, report);
            });
            BOOST_TEST_REQUIRE(shipped.ok(), (shipped.ok() ? "" : shipped.problem().message));
        }
    }

    void deliver(const Step& s) {
        const std::string order = id(s);
        for (const auto& sh : db_.run([&](db::UnitOfWork& uow) { return orders_.shipments(uow, order); })) {
            if (sh.state != ShipmentState::kShipped) continue;
            auto delivered = db_.run([&](db::UnitOfWork& uow) { return orders_.recordDelivery(uow, sh.id, "signed", actor_); });
            BOOST_TEST_REQUIRE(delivered.ok(), (delivered.ok() ? "" : delivered.problem().message));
            // What packing, confirmation and delivery wrote with each state change (ship() above packs 1 package of
            // 500 g and confirms UPS ground 1Z999).
            db_.run([&](db::UnitOfWork& uow) {
                db::Statement& row = uow.statement(
                    "SELECT carrier, service, tracking, packages, weight_mg, shipped_at, delivered_at, proof, state "
                    "FROM shipment WHERE id = ?");
                row.bind(sh.id).execute();
                BOOST_TEST_REQUIRE(row.next());
                BOOST_TEST(row.getString(0) == "UPS");
                BOOST_TEST(row.getString(1) == "ground");
                BOOST_TEST(row.getString(2) == "1Z999");
                BOOST_TEST(row.getInt64(3) == 1);
                BOOST_TEST(row.getInt64(4) == 500000);
                BOOST_TEST(row.getInt64(5) > 0);
                BOOST_TEST(row.getInt64(6) >= row.getInt64(5));
                BOOST_TEST(row.getString(7) == "signed");
                BOOST_TEST(row.getString(8) == "delivered");
            });
        }
    }

    void expect(const Step& s) {
        const std::string what = s.plain.at(0);
        if (what == "order") {
            std::vector<std::string> target = {s.plain.at(1)};
            if (!s.option("channel").empty()) target.push_back("channel=" + s.option("channel"));
            const std::string order_id = id(Step(target));
            const auto order = db_.run([&](db::UnitOfWork& uow) { return orders_.find(uow, order_id); });
            BOOST_TEST_REQUIRE(order.has_value());
            if (!s.option("state").empty()) BOOST_TEST(std::string(toString(order->state)) == s.option("state"));
            if (!s.option("hold").empty()) {
                std::string all;
                for (const auto& h : order->holds) all += h + "; ";
                BOOST_TEST(all.find(s.option("hold")) != std::string::npos, all);
            }
            auto sum = [&](auto field) {
                std::int64_t total = 0;
                for (const auto& l : order->lines) total += field(l);
                return total;
            };
            if (!s.option("allocated").empty()) BOOST_TEST(sum([](const OrderLine& l) { return l.allocated; }) == std::stoll(s.option("allocated")));
            if (!s.option("backordered").empty()) BOOST_TEST(sum([](const OrderLine& l) { return l.backordered; }) == std::stoll(s.option("backordered")));
            if (!s.option("shipped").empty()) BOOST_TEST(sum([](const OrderLine& l) { return l.shipped; }) == std::stoll(s.option("shipped")));
            if (!s.option("cancelled").empty()) BOOST_TEST(sum([](const OrderLine& l) { return l.cancelled; }) == std::stoll(s.option("cancelled")));
            if (!s.option("total").empty()) BOOST_TEST(Money(order->total, *order->currency).toString() == s.option("total"));
            if (!s.option("shipments").empty()) {
                const auto shipments = db_.run([&](db::UnitOfWork& uow) { return orders_.shipments(uow, order_id); });
                std::int64_t live = 0;
                for (const auto& sh : shipments) live += sh.state == ShipmentState::kCancelled ? 0 : 1;
                BOOST_TEST(live == std::stoll(s.option("shipments")));
            }
            if (!s.option("events").empty()) {
                const std::string events = db_.run([&](db::UnitOfWork& uow) {
                    db::Statement& q = uow.statement("SELECT type FROM event_outbox WHERE aggregate_id = ? ORDER BY id");
                    q.bind(order_id).execute();
                    std::string out;
                    while (q.next()) out += (out.empty() ? "" : ",") + q.getString(0);
                    return out;
                });
                BOOST_TEST(events == s.option("events"));
            }
            // transitions=received>validated,validated>allocated,...: every recorded change of state, in order, and the
            // order's version counts them (each change bumps it once).
            if (!s.option("transitions").empty()) {
                const std::string transitions = db_.run([&](db::UnitOfWork& uow) {
                    db::Statement& q = uow.statement(
                        "SELECT from_state, to_state FROM order_transition WHERE order_id = ? ORDER BY created_at, id");
                    q.bind(order_id).execute();
                    std::string out;
                    while (q.next()) out += (out.empty() ? "" : ",") + q.getString(0) + ">" + q.getString(1);
                    return out;
                });
                BOOST_TEST(transitions == s.option("transitions"));
                const auto changes = static_cast<std::int64_t>(std::count(transitions.begin(), transitions.end(), '>'));
                BOOST_TEST(order->version >= changes);
            }
        } else if (what == "atp") {
            const std::int64_t atp = db_.run([&](db::UnitOfWork& uow) { return inventory_.atp(uow, items_.at(s.plain.at(1))).available; });
            BOOST_TEST(atp == std::stoll(s.plain.at(2)));
        } else if (what == "stock") {
            // expect stock SKU LOC STATE QTY [allocated=N]
            const auto state = inventory::stockStateFrom(s.plain.at(3)).value();
            std::int64_t quantity = 0;
            std::int64_t allocated = 0;
            db_.run([&](db::UnitOfWork& uow) {
                quantity = allocated = 0;
                for (const auto& b : inventory_.balances(uow, items_.at(s.plain.at(1)), locations_.at(s.plain.at(2)))) {
                    if (b.state != state) continue;
                    quantity += b.quantity;
                    allocated += b.allocated;
                }
            });
            BOOST_TEST(quantity == std::stoll(s.plain.at(4)));
            if (!s.option("allocated").empty()) BOOST_TEST(allocated == std::stoll(s.option("allocated")));
        } else if (what == "exceptions") {
            const auto queue = db_.run([&](db::UnitOfWork& uow) { return orders_.exceptions(uow); });
            BOOST_TEST(static_cast<std::int64_t>(queue.size()) == std::stoll(s.plain.at(1)));
        } else {
            BOOST_FAIL("unknown expectation '" + what + "'");
        }
    }

    void verify() {
        const auto report = db_.run([&](db::UnitOfWork& uow) { return inventory_.verify(uow); });
        BOOST_TEST(report.ok(), report.drifts.size() << " drifts");
    }

    test::TestDatabase test_;
    db::Database& db_ = test_.database();
    ManualClock clock_{kNow};
    catalog::Catalog catalog_{clock_};
    inventory::Inventory inventory_{clock_};
    ScenarioPrices prices_;
    ZeroTax tax_;
    DefaultRouting routing_;
    Orders orders_{catalog_, inventory_, prices_, tax_, routing_, clock_};
    Actor actor_{"scenario"};
    std::map<std::string, std::string> items_;
    std::map<std::string, std::string> locations_;
    std::map<std::string, std::string> channel_of_;
};

std::vector<std::string> scenarioFiles() {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(std::string(KEEL_SOURCE_DIR) + "/tests/scenarios/orders")) {
        if (entry.path().extension() == ".scenario") files.push_back(entry.path().string());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

BOOST_DATA_TEST_CASE(scenario, data::make(scenarioFiles()), file) {
    Scenario scenario;
    scenario.run(file);
}

namespace {

std::string orderJson(const std::string& external, const std::vector<std::pair<std::string, int>>& lines) {
    std::string text = R"({"type":"order","version":1,"channel":"web","external_id":")" + external +
                       R"(","currency":"USD","customer":{"id":"C-)" + external +
                       R"("},"ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Springfield","region":"IL",)"
                       R"("postal_code":"62701","country":"US"},"payment":{"status":"authorized"},"lines":[)";
    for (std::size_t i = 0; i < lines.size(); ++i) {
        text += (i == 0 ? "" : ",") + std::string(R"({"sku":")") + lines[i].first +
                R"(","quantity":)" + std::to_string(lines[i].second) + R"(,"unit_price":"1.00"})";
    }
    return text + "]}";
}

// A migrated database with two items, stock and the services, for the tests below.
struct Shop {
    test::TestDatabase test;
    db::Database& db = test.database();
    catalog::Catalog catalog;
    inventory::Inventory inventory;
    ScenarioPrices prices;
    ZeroTax tax;
    DefaultRouting routing;
    Orders orders{catalog, inventory, prices, tax, routing};
    std::map<std::string, std::string> items;
    std::string wh1;

    Shop() {
        db::Migrator(db).migrate();
        db.run([&](db::UnitOfWork& uow) {
            catalog::Location l;
            l.code = "WH1";
            l.name = "Main";
            l.country = "US";
            l.region = "IL";
            wh1 = catalog.saveLocation(uow, l);
            for (const char* sku : {"A", "B"}) {
                catalog::Item i;
                i.sku = sku;
                i.name = sku;
                items[sku] = catalog.saveItem(uow, i);
            }
        });
        for (const auto& [sku, quantity] : std::map<std::string, std::int64_t>{{"A", 25}, {"B", 12}}) {
            inventory::ReceiveRequest r;
            r.item_id = items[sku];
            r.location_id = wh1;
            r.quantity = quantity;
            BOOST_TEST_REQUIRE(db.run([&](db::UnitOfWork& uow) { return inventory.receive(uow, r); }).ok());
        }
    }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(concurrent_intake_and_allocation_keep_the_invariants, Shop) {
    db::DatabaseOptions options = test.options();
    options.pool_size = 4;
    options.retry_attempts = 50;
    db::Database shared(options);
    std::atomic<int> errors{0};
    std::atomic<int> created{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            try {
                for (int i = 0; i < 8; ++i) {
                    // Worker pairs import the same orders: each order must be created exactly once.
                    const std::string external = "C" + std::to_string(w % 2) + "-" + std::to_string(i);
                    const auto parsed = parseOrderDocument(orderJson(external, {{"A", 2}, {"B", 1 + i % 2}}));
                    auto outcome = orders.importDocument(shared, *parsed.document, Actor{"w"});
                    if (!outcome) {
                        ++errors;
                        continue;
                    }
                    if (outcome.value().status == ImportStatus::kCreated) ++created;
                    (void)shared.run([&](db::UnitOfWork& uow) { return orders.allocate(uow, outcome.value().order_id, Actor{"w"}); });
                }
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("worker " << w << ": " << e.what());
                ++errors;
            }
        });
    }
    for (auto& t : workers) t.join();
    BOOST_TEST(errors.load() == 0);
    BOOST_TEST(created.load() == 16);
    db.run([&](db::UnitOfWork& uow) {
        // Every order line's allocation is exactly what its active reservations hold, and no stock is promised twice.
        db::Statement& orders_total = uow.statement(
            "SELECT l.item_id, SUM(l.allocated) FROM sales_order_line l GROUP BY l.item_id ORDER BY l.item_id");
        orders_total.execute();
        std::map<std::string, std::int64_t> allocated;
        while (orders_total.next()) allocated[orders_total.getString(0)] = orders_total.getInt64(1);
        BOOST_TEST(allocated[items["A"]] <= 25);
        BOOST_TEST(allocated[items["B"]] <= 12);
        db::Statement& held = uow.statement(
            "SELECT item_id, SUM(remaining) FROM reservation WHERE status = 'active' GROUP BY item_id");
        held.execute();
        while (held.next()) BOOST_TEST(held.getInt64(1) == allocated[held.getString(0)]);
    });
    const auto report = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
    BOOST_TEST(report.ok());
}

BOOST_FIXTURE_TEST_CASE(a_batch_of_allocations_gives_each_order_its_own_outcome_in_order, Shop) {
    // Stock: 25 A, 12 B. Five orders of 6 A each, then one of 13 B (never enough B), an order id that does not exist,
    // and an order allocated already: each gets its own outcome, and the A goes to the orders in the order given.
    std::vector<std::string> ids;
    for (int i = 1; i <= 5; ++i) {
        const auto parsed = parseOrderDocument(orderJson("BATCH-" + std::to_string(i), {{"A", 6}}));
        ids.push_back(orders.importDocument(db, *parsed.document, Actor{"t"}).value().order_id);
    }
    const auto short_b = parseOrderDocument(orderJson("BATCH-B", {{"B", 13}}));
    ids.push_back(orders.importDocument(db, *short_b.document, Actor{"t"}).value().order_id);
    ids.push_back("no-such-order");
    ids.push_back(ids.front());  // allocated by the time it comes up
    const auto outcomes = orders.allocateEach(db, ids, Actor{"t"});
    BOOST_TEST_REQUIRE(outcomes.size() == ids.size());
    for (std::size_t i = 0; i < 4; ++i) {
        BOOST_TEST_REQUIRE(outcomes[i].ok(), (outcomes[i].ok() ? "" : outcomes[i].problem().message));
        BOOST_TEST(outcomes[i].value().allocated == 6);
        BOOST_TEST(std::string(toString(outcomes[i].value().state)) == "allocated");
    }
    BOOST_TEST_REQUIRE(outcomes[4].ok());
    BOOST_TEST(outcomes[4].value().allocated == 1);  // the last of the 25
    BOOST_TEST(outcomes[4].value().backordered == 5);
    BOOST_TEST_REQUIRE(outcomes[5].ok());
    BOOST_TEST(outcomes[5].value().allocated == 12);
    BOOST_TEST(outcomes[5].value().backordered == 1);
    BOOST_TEST(!outcomes[6].ok());
    BOOST_TEST((outcomes[6].problem().code == ExitCode::kNotFound));
    BOOST_TEST(!outcomes[7].ok());
    BOOST_TEST((outcomes[7].problem().code == ExitCode::kConflict));
    const auto report = db.run([&](db::UnitOfWork& uow) { return inventory.verify(uow); });
    BOOST_TEST(report.ok());
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& held =
            uow.statement("SELECT COALESCE(SUM(remaining), 0) FROM reservation WHERE status = 'active'");
        held.execute();
        BOOST_TEST_REQUIRE(held.next());
        BOOST_TEST(held.getInt64(0) == 37);
    });
}

BOOST_FIXTURE_TEST_CASE(an_order_of_many_lines_stores_each_lines_allocation, Shop) {
    // 61 lines of one unit each (A on odd lines, B on even): the lines are written 50 at a time, and each stored line
    // must say what its own reservations hold, with the rest backordered (stock: 25 A, 12 B).
    std::vector<std::pair<std::string, int>> lines;
    for (int i = 1; i <= 61; ++i) lines.emplace_back(i % 2 == 1 ? "A" : "B", 1);
    const auto parsed = parseOrderDocument(orderJson("MANY-1", lines));
    BOOST_TEST_REQUIRE(parsed.document.has_value());
    auto imported = orders.importDocument(db, *parsed.document, Actor{"t"});
    BOOST_TEST_REQUIRE(imported.ok(), (imported.ok() ? "" : imported.problem().message));
    const std::string id = imported.value().order_id;
    auto allocated = db.run([&](db::UnitOfWork& uow) { return orders.allocate(uow, id, Actor{"t"}); });
    BOOST_TEST_REQUIRE(allocated.ok(), (allocated.ok() ? "" : allocated.problem().message));
    BOOST_TEST(allocated.value().allocated == 37);
    BOOST_TEST(allocated.value().backordered == 24);
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& rows = uow.statement(
            "SELECT l.line_no, l.allocated, l.backordered, (SELECT COALESCE(SUM(r.remaining), 0) FROM reservation r "
            "WHERE r.order_id = l.order_id AND r.order_line = CAST(l.line_no AS VARCHAR(16)) AND r.status = 'active') "
            "FROM sales_order_line l WHERE l.order_id = ? ORDER BY l.line_no");
        rows.bind(id).execute();
        int seen = 0;
        while (rows.next()) {
            ++seen;
            const auto line = rows.getInt64(0);
            BOOST_TEST(rows.getInt64(1) == rows.getInt64(3), "line " << line);
            BOOST_TEST(rows.getInt64(1) + rows.getInt64(2) == 1, "line " << line);
        }
        BOOST_TEST(seen == 61);
    });
    // The order and its 61 lines are read with one statement, the lines in their order with what each holds.
    const auto [found, statements] = db.run([&](db::UnitOfWork& uow) {
        const std::uint64_t before = db::statementsExecuted();
        auto order = orders.find(uow, id);
        return std::pair{order, db::statementsExecuted() - before};
    });
    BOOST_TEST(statements == 1u);
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->external_id == "MANY-1");
    BOOST_TEST_REQUIRE(found->lines.size() == 61u);
    std::int64_t allocated_lines = 0;
    for (std::size_t i = 0; i < found->lines.size(); ++i) {
        const OrderLine& line = found->lines[i];
        BOOST_TEST(line.line_no == static_cast<int>(i + 1));
        BOOST_TEST(line.sku == (i % 2 == 0 ? "A" : "B"));
        allocated_lines += line.allocated;
    }
    BOOST_TEST(allocated_lines == 37);
    BOOST_TEST(!db.run([&](db::UnitOfWork& uow) { return orders.find(uow, "no-such-order"); }).has_value());
}

// The transition rows of a unit are written together when it commits, as its events are: a unit that cancels two
// orders costs two cancellations less the statements they share (the unit's own, one for the events, one for the
// transitions; on PostgreSQL one for both, docs/database.md), and the history still has each order's change.
BOOST_FIXTURE_TEST_CASE(a_units_transitions_are_written_with_one_statement, Shop) {
    std::vector<std::string> ids;
    for (const char* external : {"T-1", "T-2", "T-3"}) {
        const auto parsed = parseOrderDocument(orderJson(external, {{"A", 1}}));
        BOOST_TEST_REQUIRE(parsed.document.has_value());
        auto imported = orders.importDocument(db, *parsed.document, Actor{"t"});
        BOOST_TEST_REQUIRE(imported.ok(), (imported.ok() ? "" : imported.problem().message));
        ids.push_back(imported.value().order_id);
    }
    auto statementsOf = [&](auto&& work) {
        const std::uint64_t before = db::statementsExecuted();
        db.run(work);
        return static_cast<std::int64_t>(db::statementsExecuted() - before);
    };
    const std::int64_t empty = statementsOf([](db::UnitOfWork& uow) { uow.statement("SELECT 1").execute(); }) - 1;
    auto cancel = [&](db::UnitOfWork& uow, const std::string& id) {
        auto cancelled = orders.cancel(uow, id, std::nullopt, "changed mind", Actor{"t"});
        BOOST_TEST_REQUIRE(cancelled.ok(), (cancelled.ok() ? "" : cancelled.problem().message));
    };
    const std::int64_t one = statementsOf([&](db::UnitOfWork& uow) { cancel(uow, ids[0]); });
    const std::int64_t two = statementsOf([&](db::UnitOfWork& uow) {
        cancel(uow, ids[1]);
        cancel(uow, ids[2]);
    });
    const std::int64_t shared_writes = db.backend() == db::Backend::kPostgreSQL ? 1 : 2;
    BOOST_TEST(two == 2 * one - empty - shared_writes);
    db.run([&](db::UnitOfWork& uow) {
        for (const auto& id : ids) {
            db::Statement& s = uow.statement(
                "SELECT from_state, to_state FROM order_transition WHERE order_id = ? "
                "ORDER BY created_at, id");
            s.bind(id).execute();
            std::string history;
            while (s.next()) history += (history.empty() ? "" : ",") + s.getString(0) + ">" + s.getString(1);
            BOOST_TEST(history == "received>validated,validated>cancelled", id);
        }
    });
}

BOOST_FIXTURE_TEST_CASE(command_line_order_flow, Shop) {
    keel::test::TempDir dir;
    {
        std::ofstream file(dir.path + "/orders.json");
        file << "[" << orderJson("CLI-1", {{"A", 2}}) << "," << orderJson("CLI-2", {{"B", 20}}) << "]";
        std::ofstream bad(dir.path + "/bad.json");
        bad << R"({"type":"order","version":1,"channel":"web","external_id":"X","currency":"USD","lines":[{"sku":"A","quantity":1.5}]})";
    }
    auto keel = [&](std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", test.connectionString()});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return std::tuple{code, out.str(), err.str()};
    };
    auto [code, out, err] = keel({"order", "import", dir.path + "/orders.json"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("web/CLI-1: created") != std::string::npos, out);
    std::tie(code, out, err) = keel({"order", "import", dir.path + "/bad.json"});
    BOOST_TEST(code == 2);
    BOOST_TEST(err.find("lines[0].quantity") != std::string::npos, err);
    std::tie(code, out, err) = keel({"order", "import", dir.path + "/orders.json"});
    BOOST_TEST(code == 0);
    BOOST_TEST(out.find("already imported") != std::string::npos, out);
    std::tie(code, out, err) = keel({"order", "allocate", "--all"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"--json", "order", "show", "web/CLI-2"});
    BOOST_TEST(out.find("\"state\":\"partially_allocated\"") != std::string::npos, out);
    // Stock arrives: the backorder is filled as part of the receipt.
    std::tie(code, out, err) = keel({"stock", "receive", "B", "WH1", "8"});
    BOOST_TEST(code == 0, err);
    BOOST_TEST(out.find("backorders filled: 1 order") != std::string::npos, out);
    std::tie(code, out, err) = keel({"--json", "shipment", "release", "web/CLI-2"});
    BOOST_TEST(code == 0, err);
    Poco::JSON::Parser parser;
    const auto shipment = parser.parse(out).extract<Poco::JSON::Object::Ptr>()->getArray("shipments")->getElement<std::string>(0);
    std::tie(code, out, err) = keel({"shipment", "confirm", shipment, "--carrier", "UPS", "--tracking", "1Z1"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"order", "show", "web/CLI-2"});
    BOOST_TEST(out.find("state     shipped") != std::string::npos, out);
    std::tie(code, out, err) = keel({"order", "cancel", "web/CLI-2"});
    BOOST_TEST(code == 4);
    std::tie(code, out, err) = keel({"order", "exceptions"});
    BOOST_TEST(code == 0);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out);

    // A file of several orders (imported in shared commits on SQLite): each document gets its own answer, in the file's
    // order, whatever the others do - a malformed one, the same order twice, a changed re-send of it.
    {
        std::ofstream file(dir.path + "/mixed.json");
        file
            << "[" << orderJson("CLI-3", {{"A", 1}}) << ","
            << R"({"type":"order","version":1,"channel":"web","external_id":"Y","currency":"USD","lines":[{"sku":"A","quantity":1.5}]})"
            << "," << orderJson("CLI-3", {{"A", 1}}) << "," << orderJson("CLI-3", {{"A", 2}}) << ","
            << orderJson("CLI-4", {{"B", 1}}) << "]";
    }
    std::tie(code, out, err) = keel({"order", "import", dir.path + "/mixed.json"});
    BOOST_TEST(code == 4, err);  // the worst answer: the changed re-send's conflict
    const auto created3 = out.find("web/CLI-3: created");
    const auto again3 = out.find("web/CLI-3: already imported");
    const auto created4 = out.find("web/CLI-4: created");
    BOOST_TEST((created3 != std::string::npos && again3 != std::string::npos && created4 != std::string::npos), out);
    BOOST_TEST((created3 < again3 && again3 < created4), out);
    const auto malformed = err.find("mixed.json[1]: lines[0].quantity");
    const auto changed = err.find("mixed.json[3]: ");
    BOOST_TEST((malformed != std::string::npos && changed != std::string::npos && malformed < changed), err);
    std::tie(code, out, err) = keel({"--json", "order", "show", "web/CLI-4"});
    BOOST_TEST(code == 0, err);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out);
}
