// Database layer benchmark: single-row inserts through the ODBC layer on every backend, comparing a statement
// prepared once and reused (Connection::cached) with one prepared per row, and one unit of work per row.
// Figures are rows per second and ratios against "prepare per row" in the same run on the same backend.
// Run with `make bench` (which starts throw-away PostgreSQL and MariaDB servers).

#include "bench_support.h"

#include "keel/db/database.h"
#include "keel/kernel/id.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

using namespace keel::db;

namespace {

constexpr int kRows = 3000;

using keel::bench::seconds;

void benchmark(const std::string& label, const std::string& connection) {
    DatabaseOptions options;
    options.spec = parseConnectionString(connection);
    Database db(options);
    db.run([&](UnitOfWork& uow) {
        uow.execute("CREATE TABLE bench_rows (id BIGINT NOT NULL PRIMARY KEY, sku VARCHAR(64) NOT NULL, qty BIGINT NOT NULL)" +
                    std::string(db.dialect().tableOptions()));
    });
    std::int64_t next_id = 0;
    auto clear = [&] { db.run([](UnitOfWork& uow) { uow.execute("DELETE FROM bench_rows"); }); };

    const double per_row_prepare = seconds([&] {
        db.run([&](UnitOfWork& uow) {
            for (int i = 0; i < kRows; ++i) {
                auto s = uow.connection().prepare("INSERT INTO bench_rows (id, sku, qty) VALUES (?, ?, ?)");
                s->bindAll(++next_id, "SKU-" + std::to_string(i), std::int64_t{i}).execute();
            }
        });
    });
    clear();
    const double reused = seconds([&] {
        db.run([&](UnitOfWork& uow) {
            Statement& s = uow.statement("INSERT INTO bench_rows (id, sku, qty) VALUES (?, ?, ?)");
            for (int i = 0; i < kRows; ++i) s.bindAll(++next_id, "SKU-" + std::to_string(i), std::int64_t{i}).execute();
        });
    });
    clear();
    const int unit_rows = kRows / 10;
    const double unit_per_row = seconds([&] {
        for (int i = 0; i < unit_rows; ++i) {
            db.run([&](UnitOfWork& uow) {
                uow.statement("INSERT INTO bench_rows (id, sku, qty) VALUES (?, ?, ?)")
                    .bindAll(++next_id, "SKU-" + std::to_string(i), std::int64_t{i})
                    .execute();
            });
        }
    });

    const double base = kRows / per_row_prepare;
    std::printf("%-11s prepare per row      %9.0f rows/s  1.00x (baseline)\n", label.c_str(), base);
    std::printf("%-11s prepared once, reused %9.0f rows/s  %.2fx\n", label.c_str(), kRows / reused, (kRows / reused) / base);
    std::printf("%-11s one commit per row    %9.0f rows/s  %.2fx\n", label.c_str(), unit_rows / unit_per_row,
                (unit_rows / unit_per_row) / base);
}

}  // namespace

int main() {
    std::printf("keel database benchmark: %d single-row inserts per figure\n", kRows);
    const std::string dir = Poco::Path::temp() + "keel-bench-" + keel::IdGenerator::global().next();
    Poco::File(dir).createDirectories();
    try {
        for (const Backend backend : {Backend::kSQLite, Backend::kPostgreSQL, Backend::kMariaDB}) {
            const auto connection = keel::bench::freshDatabase(backend, dir);
            if (connection) {
                benchmark(std::string(backendName(backend)), *connection);
            } else {
                std::printf("%-11s skipped: no server configured (use make bench)\n", std::string(backendName(backend)).c_str());
            }
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_db: %s\n", e.what());
        Poco::File(dir).remove(true);
        return 5;
    }
    Poco::File(dir).remove(true);
    return 0;
}
