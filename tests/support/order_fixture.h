#pragma once
// A migrated database on the test's backend with the order services as production wires them (catalog, inventory,
// orders, returns, an 8.25 % tax), and the steps tests repeat: locations, items, order documents, shipping. Header
// only: the test executables that include it link keel::orders.

#include "test_database.h"

#include "keel/catalog/catalog.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/orders/orders.h"
#include "keel/orders/returns.h"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

namespace keel::test {

inline constexpr std::int64_t kNow = 1'795'651'200'000'000;  // 2026-11-26T00:00:00Z

/// The problem's message, for test diagnostics.
template <typename T>
std::string problemOf(const Result<T>& result) {
    return result.ok() ? std::string("(no problem)") : result.problem().message;
}

/// Channel prices are in the documents; nothing else is priced.
class NoPrices final : public orders::PriceSource {
public:
    std::optional<orders::Price> price(db::UnitOfWork&, const orders::PriceQuery&) override { return std::nullopt; }
};

struct OrderFixture {
    TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{kNow};
    catalog::Catalog catalog{clock};
    inventory::Inventory inventory{clock};
    NoPrices prices;
    // 8.25 % on every line and on shipping, rounded half up per line: amounts that do not split evenly per unit.
    orders::TableTax tax{{{"US", Decimal::parse("0.0825")}}};
    orders::DefaultRouting routing;
    orders::Orders orders{catalog, inventory, prices, tax, routing, clock};
    orders::Returns returns{orders, inventory, clock};
    orders::Actor actor{"test"};
    std::map<std::string, std::string> items;      ///< SKU -> id
    std::map<std::string, std::string> locations;  ///< code -> id

    OrderFixture() { db::Migrator(db).migrate(); }

    /// A warehouse in US-IL that ships to customers.
    void location(const std::string& code, int priority) {
        catalog::Location l;
        l.code = code;
        l.name = "Warehouse " + code;
        l.priority = priority;
        l.country = "US";
        l.region = "IL";
        locations[code] = db.run([&](db::UnitOfWork& uow) { return catalog.saveLocation(uow, l); });
    }

    void item(const std::string& sku, bool lots = false,
              catalog::CostMethod method = catalog::CostMethod::kMovingAverage) {
        catalog::Item i;
        i.sku = sku;
        i.name = "Item " + sku;
        i.lot_tracked = lots;
        i.cost_method = method;
        items[sku] = db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, i); });
    }

    /// Imports an order document (JSON text); it must end validated. Returns the order id.
    std::string importDocument(const std::string& text) {
        const orders::ParsedDocument parsed = orders::parseOrderDocument(text);
        BOOST_TEST_REQUIRE(parsed.ok(), (parsed.problems.empty() ? "" : parsed.problems.front().message));
        const auto outcome = db.run([&](db::UnitOfWork& uow) { return orders.import(uow, *parsed.document, actor); });
        BOOST_TEST_REQUIRE(outcome.ok(), problemOf(outcome));
        BOOST_TEST_REQUIRE(std::string(orders::toString(outcome.value().state)) == "validated");
        return outcome.value().order_id;
    }

    /// Allocates what there is, releases it and ships every shipment; returns the shipment ids.
    std::vector<std::string> ship(const std::string& order_id) {
        const auto allocated = db.run([&](db::UnitOfWork& uow) { return orders.allocate(uow, order_id, actor); });
        BOOST_TEST_REQUIRE(allocated.ok(), problemOf(allocated));
        const auto released =
            db.run([&](db::UnitOfWork& uow) { return orders.releaseToFulfillment(uow, order_id, actor); });
        BOOST_TEST_REQUIRE(released.ok(), problemOf(released));
        for (const auto& shipment_id : released.value()) {
            const auto shipped = db.run([&](db::UnitOfWork& uow) {
                return orders.confirmShipment(uow, shipment_id, "UPS", "ground", "1Z" + shipment_id.substr(0, 8),
                                              actor);
            });
            BOOST_TEST_REQUIRE(shipped.ok(), problemOf(shipped));
        }
        return released.value();
    }
};

}  // namespace keel::test
