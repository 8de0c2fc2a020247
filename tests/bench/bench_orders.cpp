// Orders benchmark (issue #4): end to end per order - import (validate, price) -> allocate -> release ->
// pick -> pack -> confirm shipped -> record delivery - with every stock move and event, orders of 3 lines over
// 1,000 SKUs in 3 warehouses and 100 customers. Prints orders per second on each backend with 1 and 4 workers
// (the ratio against 1 worker in the same run) and the process's resident memory before and after, which must
// not grow with the number of orders. Targets on a 2-core machine: >= 2,000 orders/s on SQLite, >= 500 on
// PostgreSQL. Run with `make bench`.

#include "bench_support.h"

#include "keel/catalog/catalog.h"
#include "keel/db/batch_insert.h"
#include "keel/db/database.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/orders/orders.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

using namespace keel;

namespace {

constexpr int kSkus = 1000;
constexpr int kLocations = 3;
constexpr int kCustomers = 100;

class FixedPrices final : public orders::PriceSource {
public:
    std::optional<orders::Price> price(db::UnitOfWork&, const orders::PriceQuery& query) override {
        return orders::Price{Money(1999, *query.currency), "bench"};
    }
};

long residentKb() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return 0;
}

void seed(db::Database& database) {
    catalog::Catalog catalog;
    inventory::Inventory inventory;
    std::vector<std::string> items;
    std::vector<std::string> locations;
    database.run([&](db::UnitOfWork& uow) {
        for (int l = 0; l < kLocations; ++l) {
            catalog::Location location;
            location.code = "WH" + std::to_string(l);
            location.name = "Warehouse";
            location.priority = 10 * (l + 1);
            location.country = "US";
            location.region = l == 0 ? "IL" : "CA";
            locations.push_back(catalog.saveLocation(uow, location));
        }
        const std::int64_t now = Clock::system().nowMicros();
        db::BatchInsert insert(uow, "item", {"id", "sku", "name", "description", "base_uom", "lot_tracked", "expiry_tracked",
                                             "tax_class", "cost_method", "status", "is_kit", "safety_stock", "created_at",
                                             "updated_at"});
        for (int i = 0; i < kSkus; ++i) {
            items.push_back(IdGenerator::global().next());
            insert.add(items.back(), "SKU-" + std::to_string(i), "Item", "", "each", 0, 0, "standard", "moving_average",
                       "active", 0, 0, now, now);
        }
        insert.flush();
    });
    database.run([&](db::UnitOfWork& uow) {
        for (const auto& item : items) {
            for (const auto& location : locations) {
                inventory::ReceiveRequest r;
                r.item_id = item;
                r.location_id = location;
                r.quantity = 1'000'000;
                (void)inventory.receive(uow, r).value();
            }
        }
    });
}

std::string document(int n, std::minstd_rand& random) {
    std::uniform_int_distribution<int> sku(0, kSkus - 1);
    std::uniform_int_distribution<int> customer(0, kCustomers - 1);
    std::string text = R"({"type":"order","version":1,"channel":"web","external_id":"B-)" + std::to_string(n) +
                       R"(","currency":"USD","customer":{"id":"CUST-)" + std::to_string(customer(random)) +
                       R"("},"ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Springfield","region":"IL",)"
                       R"("postal_code":"62701","country":"US"},"payment":{"status":"captured"},"lines":[)";
    for (int l = 0; l < 3; ++l) {
        text += (l == 0 ? "" : ",") + std::string(R"({"sku":"SKU-)") + std::to_string(sku(random)) + R"(","quantity":)" +
                std::to_string(1 + l) + "}";
    }
    return text + "]}";
}

double ordersPerSecond(const std::string& connection, int workers, int per_worker, int offset) {
    db::DatabaseOptions options;
    options.spec = db::parseConnectionString(connection);
    options.pool_size = static_cast<std::size_t>(workers);
    options.retry_attempts = 50;
    db::Database database(options);
    catalog::Catalog catalog;
    inventory::Inventory inventory;
    FixedPrices prices;
    orders::ZeroTax tax;
    orders::DefaultRouting routing;
    orders::Orders service(catalog, inventory, prices, tax, routing);
    const orders::Actor actor{"bench"};
    std::atomic<int> failures{0};
    const double seconds = bench::seconds([&] {
        std::vector<std::thread> threads;
        for (int w = 0; w < workers; ++w) {
            threads.emplace_back([&, w] {
                std::minstd_rand random(static_cast<unsigned>(w + offset));
                for (int i = 0; i < per_worker; ++i) {
                    const auto parsed = orders::parseOrderDocument(document(offset + w * per_worker + i, random));
                    auto imported = service.importDocument(database, *parsed.document, actor);
                    if (!imported || imported.value().state != orders::OrderState::kValidated) {
                        ++failures;
                        continue;
                    }
                    const std::string id = imported.value().order_id;
                    auto step = [&](auto&& work) {
                        auto r = database.run(work);
                        if (!r) ++failures;
                        return r.ok();
                    };
                    if (!step([&](db::UnitOfWork& uow) { return service.allocate(uow, id, actor); })) continue;
                    auto shipments = database.run([&](db::UnitOfWork& uow) { return service.releaseToFulfillment(uow, id, actor); });
                    if (!shipments) {
                        ++failures;
                        continue;
                    }
                    for (const auto& shipment : shipments.value()) {
                        step([&](db::UnitOfWork& uow) { return service.pick(uow, shipment, actor); }) &&
                            step([&](db::UnitOfWork& uow) { return service.pack(uow, shipment, 1, 900000, actor); }) &&
                            step([&](db::UnitOfWork& uow) {
                                return service.confirmShipment(uow, shipment, "UPS", "ground", "1Z", actor);
                            }) &&
                            step([&](db::UnitOfWork& uow) { return service.recordDelivery(uow, shipment, "signed", actor); });
                    }
                }
            });
        }
        for (auto& t : threads) t.join();
    });
    if (failures.load() > 0) std::printf("  (%d steps failed)\n", failures.load());
    return workers * per_worker / seconds;
}

void run(db::Backend backend, const std::string& dir) {
    const auto connection = bench::freshDatabase(backend, dir);
    const std::string name(db::backendName(backend));
    if (!connection) {
        std::printf("%-12s skipped: no server configured (use make bench)\n", name.c_str());
        return;
    }
    {
        db::DatabaseOptions options;
        options.spec = db::parseConnectionString(*connection);
        db::Database database(options);
        db::Migrator(database).migrate();
        seed(database);
    }
    const int per = backend == db::Backend::kSQLite ? 600 : 300;
    const long rss_before = residentKb();
    const double one = ordersPerSecond(*connection, 1, per, 0);
    const double four = ordersPerSecond(*connection, 4, per / 4, 1'000'000);
    const double again = ordersPerSecond(*connection, 1, per, 2'000'000);
    const long rss_after = residentKb();
    std::printf("%-12s orders/s end to end  1 worker %6.0f  1.00x   4 workers %6.0f  %.2fx   (1 worker again %6.0f)\n",
                name.c_str(), one, four, four / one, again);
    std::printf("%-12s resident memory %ld kB before, %ld kB after %d orders\n", name.c_str(), rss_before, rss_after,
                per * 3);
}

}  // namespace

int main() {
    std::printf("keel orders benchmark: orders of 3 lines over %d SKUs in %d warehouses, %d customers\n", kSkus,
                kLocations, kCustomers);
    const std::string dir = Poco::Path::temp() + "keel-bench-" + IdGenerator::global().next();
    Poco::File(dir).createDirectories();
    int status = 0;
    try {
        for (const auto backend : {db::Backend::kSQLite, db::Backend::kPostgreSQL, db::Backend::kMariaDB}) {
            if (const char* only = std::getenv("KEEL_BENCH_ONLY"); only != nullptr && db::backendName(backend) != only) continue;
            run(backend, dir);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_orders: %s\n", e.what());
        status = 5;
    }
    Poco::File(dir).remove(true);
    return status;
}
