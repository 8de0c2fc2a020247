// Database layer benchmark: single-row inserts through the ODBC layer on every backend, comparing a statement
// prepared once and reused (Connection::cached) with one prepared per row, and one unit of work per row.
// Figures are rows per second and ratios against "prepare per row" in the same run on the same backend.
// Run with `make bench` (which starts throw-away PostgreSQL and MariaDB servers).

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

double seconds(const std::function<void()>& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

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

std::string freshServerDatabase(const std::string& admin_url, bool postgresql) {
    const std::string name = "keel_bench_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000000);
    Connection admin(parseConnectionString(admin_url));
    admin.executeOutsideTransaction("CREATE DATABASE " + name + (postgresql ? "" : " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"));
    return admin_url.substr(0, admin_url.rfind('/') + 1) + name;
}

}  // namespace

int main() {
    std::printf("keel database benchmark: %d single-row inserts per figure\n", kRows);
    const std::string dir = Poco::Path::temp() + "keel-bench-" + keel::IdGenerator::global().next();
    Poco::File(dir).createDirectories();
    try {
        benchmark("sqlite", "sqlite:" + dir + "/bench.db");
        if (const char* pg = std::getenv("KEEL_TEST_POSTGRESQL")) benchmark("postgresql", freshServerDatabase(pg, true));
        else std::printf("postgresql  skipped: KEEL_TEST_POSTGRESQL not set (use make bench)\n");
        if (const char* maria = std::getenv("KEEL_TEST_MARIADB")) benchmark("mariadb", freshServerDatabase(maria, false));
        else std::printf("mariadb     skipped: KEEL_TEST_MARIADB not set (use make bench)\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_db: %s\n", e.what());
        Poco::File(dir).remove(true);
        return 5;
    }
    Poco::File(dir).remove(true);
    return 0;
}
