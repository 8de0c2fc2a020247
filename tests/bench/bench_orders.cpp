// Orders benchmark (issue #4): end to end per order - import (validate, price) -> allocate -> release ->
// pick -> pack -> confirm shipped -> record delivery - with every stock move, journal entry, invoice and event as
// in production (the ledger values and posts each move and invoices each shipment), orders of 3 lines over
// 1,000 SKUs in 3 warehouses and 100 customers. Prints orders per second on each backend with 1 and 4 workers
// (the ratio against 1 worker in the same run), the process's CPU time per order (steadier than the wall clock on a
// shared machine), and its memory before and after (the heap in use, which must not grow with the number of orders,
// and the resident set). Targets on a 2-core machine: >= 2,000 orders/s on SQLite, >= 500 on PostgreSQL. Run with
// `make bench`.

#include "bare_sqlite.h"
#include "bench_support.h"

#include "keel/catalog/catalog.h"
#include "keel/db/batch_insert.h"
#include "keel/db/commit_group.h"
#include "keel/db/database.h"
#include "keel/db/migrations.h"
#include "keel/inventory/inventory.h"
#include "keel/ledger/ledger.h"
#include "keel/ledger/postings.h"
#include "keel/orders/orders.h"

#include <malloc.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
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

// Memory, in kB: what the heap holds (every arena's allocated chunks and mmap'd blocks), the figure that must not grow
// with the number of orders, and the process's resident set after glibc returned what it can. The resident set also
// counts the free memory at the top of each worker thread's heap, which the process keeps mapped (up to 64 MB each,
// db::heapSetup) and malloc_trim does not return, and the database file's pages SQLite's memory map has touched.
struct Memory {
    long heap_kb = 0;
    long resident_kb = 0;
};

Memory memory() {
    malloc_trim(0);
    Memory m;
    const struct mallinfo2 info = mallinfo2();
    m.heap_kb = static_cast<long>((info.uordblks + info.hblkhd) / 1024);
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) m.resident_kb = std::stol(line.substr(6));
    }
    return m;
}

void seed(db::Database& database) {
    catalog::Catalog catalog;
    inventory::Inventory inventory;
    ledger::Ledger ledger;
    ledger::Postings postings(ledger);
    database.run([&](db::UnitOfWork& uow) { return ledger.initialize(uow, Currency::of("USD")); });
    inventory.setMoveObserver(&postings);
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
                r.unit_cost = Money(750, Currency::of("USD"));
                (void)inventory.receive(uow, r).value();
            }
        }
    });
}

std::string document(int n, std::minstd_rand& random, const char* prefix = "B") {
    std::uniform_int_distribution<int> sku(0, kSkus - 1);
    std::uniform_int_distribution<int> customer(0, kCustomers - 1);
    std::string text = R"({"type":"order","version":1,"channel":"web","external_id":")" + std::string(prefix) + "-" +
                       std::to_string(n) + R"(","currency":"USD","customer":{"id":"CUST-)" +
                       std::to_string(customer(random)) +
                       R"("},"ship_to":{"name":"Ann Lee","line1":"1 Main St","city":"Springfield","region":"IL",)"
                       R"("postal_code":"62701","country":"US"},"payment":{"status":"captured"},"lines":[)";
    for (int l = 0; l < 3; ++l) {
        text += (l == 0 ? "" : ",") + std::string(R"({"sku":"SKU-)") + std::to_string(sku(random)) + R"(","quantity":)" +
                std::to_string(1 + l) + "}";
    }
    return text + "]}";
}

// Statements executed per order in each step, and the step's wall time (measured in a one-worker run, where the
// process-wide counter belongs to that worker alone): on PostgreSQL and MariaDB each statement is a round trip.
struct StepStatements {
    const char* name;
    std::uint64_t statements = 0;
    double micros = 0;
};

struct Throughput {
    double per_second = 0;
    /// This process's CPU time per order: on SQLite all of the database's work (the checkpoint thread's included), on
    /// the servers the client's only. Less noisy than the wall clock on a shared machine, so A/B runs compare it too.
    double cpu_micros = 0;
};

// `group_commit`: the steps after import run through a db::CommitGroup (SQLite only; elsewhere it changes nothing), so
// the workers' concurrent steps share commits as keeld's order intake does. `batch` > 0: each worker takes its orders
// through every step `batch` at a time with CommitGroup::runEach (each order's step still its own all-or-nothing unit),
// as keeld's allocation sweep and an EDI file's orders and shipment advices go (SQLite only; elsewhere one transaction
// each).
Throughput ordersPerSecond(const std::string& connection, const db::ConnectionOptions& connection_options, int workers,
                           int per_worker, int offset, std::vector<StepStatements>* per_step = nullptr,
                           bool group_commit = false, int batch = 0, bench::BareSqlite* bare = nullptr) {
    db::DatabaseOptions options;
    options.spec = db::parseConnectionString(connection, connection_options);
    options.pool_size = static_cast<std::size_t>(workers);
    options.retry_attempts = 50;
    db::Database database(options);
    db::CommitGroup group(database, batch > 0      ? static_cast<std::size_t>(batch)
                                    : group_commit ? static_cast<std::size_t>(workers)
                                                   : 1);
    catalog::Catalog catalog;
    inventory::Inventory inventory;
    FixedPrices prices;
    orders::ZeroTax tax;
    orders::DefaultRouting routing;
    orders::Orders service(catalog, inventory, prices, tax, routing);
    ledger::Ledger ledger;
    ledger::Postings postings(ledger);
    inventory.setMoveObserver(&postings);
    service.setBilling(&postings);
    const orders::Actor actor{"bench"};
    std::atomic<int> failures{0};
    // Each worker first takes orders end to end for a second unmeasured (external ids W-...), on its own connection
    // (bench::WarmStart); the per-step counts are of measured orders only.
    using Clock = std::chrono::steady_clock;
    bench::WarmStart warm(workers);
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            std::minstd_rand random(static_cast<unsigned>(w + offset));
            auto take = [&](const std::string& text, std::vector<StepStatements>* counted) {
                const auto parsed = orders::parseOrderDocument(text);
                std::uint64_t mark = db::statementsExecuted();
                auto tmark = Clock::now();
                auto count = [&](std::size_t step) {
                    const std::uint64_t now = db::statementsExecuted();
                    const auto tnow = Clock::now();
                    if (counted != nullptr) {
                        (*counted)[step].statements += now - mark;
                        (*counted)[step].micros += std::chrono::duration<double, std::micro>(tnow - tmark).count();
                    }
                    mark = now;
                    tmark = tnow;
                };
                auto imported = service.importDocument(database, *parsed.document, actor);
                count(0);
                if (!imported || imported.value().state != orders::OrderState::kValidated) {
                    ++failures;
                    return;
                }
                const std::string id = imported.value().order_id;
                auto step = [&](auto&& work) {
                    auto r = group.run(work);
                    if (!r) ++failures;
                    return r.ok();
                };
                const bool allocated = step([&](db::UnitOfWork& uow) { return service.allocate(uow, id, actor); });
                count(1);
                if (!allocated) return;
                auto shipments =
                    group.run([&](db::UnitOfWork& uow) { return service.releaseToFulfillment(uow, id, actor); });
                count(2);
                if (!shipments) {
                    ++failures;
                    return;
                }
                for (const auto& shipment : shipments.value()) {
                    bool ok = step([&](db::UnitOfWork& uow) { return service.pick(uow, shipment, actor); });
                    count(3);
                    ok = ok && step([&](db::UnitOfWork& uow) { return service.pack(uow, shipment, 1, 900000, actor); });
                    count(4);
                    ok = ok && step([&](db::UnitOfWork& uow) {
                             return service.confirmShipment(uow, shipment, "UPS", "ground", "1Z", actor);
                         });
                    count(5);
                    ok = ok && step([&](db::UnitOfWork& uow) {
                             return service.recordDelivery(uow, shipment, "signed", actor);
                         });
                    count(6);
                }
            };
            // `count` orders from number `first` through every step, each step one runEach over all of them.
            auto takeBatch = [&](int first, int count, const char* prefix) {
                std::vector<orders::OrderDocument> documents;
                for (int i = 0; i < count; ++i) {
                    documents.push_back(*orders::parseOrderDocument(document(first + i, random, prefix)).document);
                }
                // Import and allocate as `keel order import` and keeld's allocation job do (at most 32 a commit).
                std::vector<std::string> ids;
                for (auto& imported : service.importEach(database, documents, actor)) {
                    if (imported && imported.value().state == orders::OrderState::kValidated) {
                        ids.push_back(imported.value().order_id);
                    } else {
                        ++failures;
                    }
                }
                auto each = [&](const std::vector<std::string>& keys, auto&& work) {
                    for (const auto& outcome : group.runEach(keys, work)) {
                        if (!outcome) ++failures;
                    }
                };
                for (const auto& outcome : service.allocateEach(database, ids, actor)) {
                    if (!outcome) ++failures;
                }
                std::vector<std::string> shipments;
                const auto release = [&](db::UnitOfWork& uow, const std::string& id) {
                    return service.releaseToFulfillment(uow, id, actor);
                };
                for (auto& released : group.runEach(ids, release)) {
                    if (!released) ++failures;
                    if (released) shipments.insert(shipments.end(), released.value().begin(), released.value().end());
                }
                each(shipments, [&](db::UnitOfWork& uow, const std::string& s) { return service.pick(uow, s, actor); });
                each(shipments,
                     [&](db::UnitOfWork& uow, const std::string& s) { return service.pack(uow, s, 1, 900000, actor); });
                each(shipments, [&](db::UnitOfWork& uow, const std::string& s) {
                    return service.confirmShipment(uow, s, "UPS", "ground", "1Z", actor);
                });
                each(shipments, [&](db::UnitOfWork& uow, const std::string& s) {
                    return service.recordDelivery(uow, s, "signed", actor);
                });
            };
            if (batch > 0) {
                for (int k = 0; warm.warming(); k += batch) takeBatch(offset + w * 100'000 + k, batch, "W");
                warm.arrive();
                if (bare != nullptr) bare->mark();  // one worker: what follows is measured
                for (int i = 0; i < per_worker; i += batch) {
                    takeBatch(offset + w * per_worker + i, std::min(batch, per_worker - i), "B");
                }
                return;
            }
            for (int k = 0; warm.warming(); ++k) take(document(offset + w * 100'000 + k, random, "W"), nullptr);
            warm.arrive();
            for (int i = 0; i < per_worker; ++i) take(document(offset + w * per_worker + i, random), per_step);
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = warm.seconds();
    const double cpu = warm.cpuSeconds();
    if (failures.load() > 0) std::printf("  (%d steps failed)\n", failures.load());
    const double orders = workers * per_worker;
    return Throughput{orders / seconds, cpu * 1e6 / orders};
}

void run(db::Backend backend, const std::string& dir) {
    const auto connection = bench::freshDatabase(backend, dir);
    const std::string name(db::backendName(backend));
    if (!connection) {
        std::printf("%-22s skipped: no server configured (use make bench)\n", name.c_str());
        return;
    }
    {
        db::DatabaseOptions options;
        options.spec = db::parseConnectionString(*connection);
        db::Database database(options);
        db::Migrator(database).migrate();
        seed(database);
    }
    std::vector<std::pair<std::string, db::ConnectionOptions>> variants;
    if (backend == db::Backend::kSQLite) {
        db::ConnectionOptions normal;
        normal.sqlite_synchronous = "normal";
        variants = {{"sqlite (sync full)", db::ConnectionOptions{}}, {"sqlite (sync normal)", normal}};
    } else {
        variants = {{name, db::ConnectionOptions{}}};
    }
    const int per = backend == db::Backend::kSQLite ? 600 : 300;
    int offset = 0;
    for (const auto& [label, connection_options] : variants) {
        const Memory before = memory();
        std::vector<StepStatements> steps{{"import"}, {"allocate"}, {"release"}, {"pick"},
                                          {"pack"},   {"confirm"},  {"deliver"}};
        const Throughput one = ordersPerSecond(*connection, connection_options, 1, per, offset, &steps);
        const Memory first = memory();
        const Throughput four = ordersPerSecond(*connection, connection_options, 4, per / 4, offset + 1'000'000);
        const Throughput again = ordersPerSecond(*connection, connection_options, 1, per, offset + 2'000'000);
        const Memory after = memory();
        std::printf(
            "%-22s orders/s end to end  1 worker %6.0f  1.00x   4 workers %6.0f  %.2fx   (1 worker again %6.0f)\n",
            label.c_str(), one.per_second, four.per_second, four.per_second / one.per_second, again.per_second);
        std::printf("%-22s CPU of this process per order (%s), 1 worker %5.0f us, again %5.0f us, 4 workers %5.0f us\n",
                    label.c_str(), backend == db::Backend::kSQLite ? "all of SQLite's work" : "the client's only",
                    one.cpu_micros, again.cpu_micros, four.cpu_micros);
        if (backend == db::Backend::kSQLite) {
            const Throughput grouped =
                ordersPerSecond(*connection, connection_options, 4, per / 4, offset + 2'500'000, nullptr, true);
            std::printf("%-22s orders/s, 4 workers whose steps share commits (db::CommitGroup) %6.0f  %.2fx\n",
                        label.c_str(), grouped.per_second, grouped.per_second / one.per_second);
        }
        for (const int batch : {8, 32}) {
            const Throughput batched = ordersPerSecond(*connection, connection_options, 1, per,
                                                       offset + 2'700'000 + batch * 1000, nullptr, false, batch);
            std::printf(
                "%-22s orders/s, 1 worker, each step %2d orders at a time (CommitGroup::runEach) %6.0f  %.2fx   CPU "
                "%5.0f us\n",
                label.c_str(), batch, batched.per_second, batched.per_second / one.per_second, batched.cpu_micros);
            if (backend == db::Backend::kSQLite && batch == 32) {
                // The baselines (bare_sqlite.h): the same statements on SQLite's C API without Keel or ODBC,
                // without checkpoints (what SQLite alone needs for the rows each order stores) and with Keel's.
                const auto engine = bench::BareSqlite::measure(
                    connection->substr(7), connection_options.sqlite_synchronous, "sales_order",
                    [&](bench::BareSqlite& bare) {
                        (void)ordersPerSecond(*connection, connection_options, 1, per, offset + 2'800'000, nullptr,
                                              false, batch, &bare);
                    });
                for (const auto& [how, figures] : engine.each()) {
                    std::printf(
                        "%-22s the same statements (%.0f an order) on SQLite's C API %s (bare_sqlite.h) %6.0f "
                        "orders/s   CPU %5.0f us   (Keel %.2fx of it)%s\n",
                        label.c_str(), static_cast<double>(figures->statements) / static_cast<double>(figures->units),
                        how, figures->per_second, figures->cpu_micros, batched.per_second / figures->per_second,
                        figures->failed > 0 ? "   (some statements failed)" : "");
                }
            }
        }
        offset += 3'000'000;
        std::string breakdown;
        std::uint64_t total = 0;
        for (const auto& step : steps) {
            total += step.statements;
            char text[96];
            std::snprintf(text, sizeof text, " %s %.1f (%.0f us)", step.name, static_cast<double>(step.statements) / per,
                          step.micros / per);
            breakdown += text;
        }
        std::printf("%-22s statements per order %.1f (and time per step, 1 worker):%s\n", label.c_str(), static_cast<double>(total) / per,
                    breakdown.c_str());
        std::printf(
            "%-22s heap in use %ld kB before, %ld kB after %d orders, %ld kB after %d (resident %ld, %ld, %ld kB)\n",
            label.c_str(), before.heap_kb, first.heap_kb, per, after.heap_kb, per * 3, before.resident_kb,
            first.resident_kb, after.resident_kb);
    }
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
