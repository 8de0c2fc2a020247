// Ledger benchmark: posts journal lines through Ledger::post (two lines an entry, 1,000 entries a unit of work) and
// times the trial balance over them. The target: a trial balance over 1,000,000 lines in under 1 s on
// SQLite. Beside it, the time the real `ledger` binary takes for the same balance on the exported journal (the
// ratio is ledger's time over Keel's, in this run). PostgreSQL and MariaDB post fewer lines, for lines per second.
// Run with `make bench`; KEEL_BENCH_LEDGER_LINES changes the SQLite line count.

#include "bench_support.h"

#include "keel/db/database.h"
#include "keel/db/migrations.h"
#include "keel/ledger/ledger.h"

#include <Poco/File.h>
#include <Poco/Path.h>
#include <Poco/TemporaryFile.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace keel;

namespace {

using bench::seconds;

// Pairs of accounts an entry debits and credits, so the balance has many accounts with many lines each.
const std::vector<std::pair<const char*, const char*>> kPairs = {
    {"1200", "4000"}, {"1100", "1200"}, {"5000", "1300"}, {"1300", "2100"}, {"2100", "2000"},
    {"5100", "1100"}, {"1000", "1100"}, {"4200", "1200"}, {"5210", "1300"}, {"2000", "1000"}};

struct Figures {
    std::int64_t lines = 0;
    double post_seconds = 0;
    double trial_balance_seconds = 0;
    std::int64_t total = 0;
};

Figures run(const std::string& connection, std::int64_t lines, const std::string& export_path) {
    db::DatabaseOptions options;
    options.spec = db::parseConnectionString(connection);
    db::Database database(options);
    db::Migrator(database).migrate();
    ledger::Ledger ledger;
    database.run([&](db::UnitOfWork& uow) { return ledger.initialize(uow, Currency::of("USD")); });
    const Currency& usd = Currency::of("USD");
    Figures f;
    f.lines = lines;
    const std::int64_t entries = lines / 2;
    constexpr std::int64_t kBatch = 1000;
    f.post_seconds = seconds([&] {
        for (std::int64_t first = 0; first < entries; first += kBatch) {
            database.run([&](db::UnitOfWork& uow) {
                for (std::int64_t i = first; i < std::min(entries, first + kBatch); ++i) {
                    const auto& [debit, credit] = kPairs[static_cast<std::size_t>(i) % kPairs.size()];
                    ledger::EntryRequest e;
                    e.date = Date::fromYmd(20260101 + static_cast<int>((i * 11 / entries)) * 100 + static_cast<int>(i % 28));
                    e.kind = "journal";
                    e.source_type = "bench";
                    e.idempotency_key = "bench:" + std::to_string(i);
                    const Money amount(100 + (i * 7919) % 100000, usd);
                    e.lines = {{"", debit, amount, {"web", "", "", ""}}, {"", credit, -amount, {"web", "", "", ""}}};
                    auto posted = ledger.post(uow, e);
                    if (!posted) posted.problem().raise();
                }
            });
        }
    });
    std::vector<double> runs;
    for (int r = 0; r < 3; ++r) {
        runs.push_back(seconds([&] {
            const auto tb = database.run([&](db::UnitOfWork& uow) { return ledger.trialBalance(uow); });
            f.total = tb.total_debit;
            if (tb.lines != lines || tb.total_debit != tb.total_credit) {
                std::fprintf(stderr, "trial balance read %lld lines, debit %lld credit %lld\n",
                             static_cast<long long>(tb.lines), static_cast<long long>(tb.total_debit),
                             static_cast<long long>(tb.total_credit));
                std::exit(1);
            }
        }));
    }
    std::sort(runs.begin(), runs.end());
    f.trial_balance_seconds = runs[1];
    if (!export_path.empty()) {
        std::ofstream out(export_path);
        database.run([&](db::UnitOfWork& uow) { ledger.exportLedger(uow, out); });
    }
    return f;
}

}  // namespace

int main() {
    const char* configured = std::getenv("KEEL_BENCH_LEDGER_LINES");
    const std::int64_t lines = configured ? std::atoll(configured) : 1'000'000;
    const std::string dir = Poco::Path::temp() + "keel-bench-ledger-" + IdGenerator::global().next().substr(24);
    Poco::File(dir).createDirectories();
    std::printf("Ledger: post journal lines (2 per entry, 1,000 entries per unit of work), then the trial balance\n");
    const std::string journal = dir + "/journal.ledger";
    const auto sqlite = run(*bench::freshDatabase(db::Backend::kSQLite, dir), lines, journal);
    std::printf("  sqlite      %9lld lines posted in %6.1f s: %8.0f lines/s\n", static_cast<long long>(sqlite.lines),
                sqlite.post_seconds, static_cast<double>(sqlite.lines) / sqlite.post_seconds);
    std::printf("  sqlite      trial balance over %lld lines: %6.0f ms (median of 3; target < 1000 ms: %s)\n",
                static_cast<long long>(sqlite.lines), sqlite.trial_balance_seconds * 1000,
                sqlite.trial_balance_seconds < 1.0 ? "met" : "NOT met");
    const double ledger_seconds = seconds([&] {
        const std::string command = "ledger -f '" + journal + "' bal --flat --no-total > /dev/null";
        if (std::system(command.c_str()) != 0) std::fprintf(stderr, "ledger failed on %s\n", journal.c_str());
    });
    std::printf("  ledger 3    the same balance from the exported journal: %6.0f ms (%.1fx Keel's time)\n",
                ledger_seconds * 1000, ledger_seconds / sqlite.trial_balance_seconds);
    for (const auto backend : {db::Backend::kPostgreSQL, db::Backend::kMariaDB}) {
        const auto connection = bench::freshDatabase(backend, dir);
        if (!connection) continue;
        const auto f = run(*connection, std::min<std::int64_t>(lines, 100'000), "");
        std::printf("  %-10s  %9lld lines posted in %6.1f s: %8.0f lines/s; trial balance %6.0f ms\n",
                    std::string(db::backendName(backend)).c_str(), static_cast<long long>(f.lines), f.post_seconds,
                    static_cast<double>(f.lines) / f.post_seconds, f.trial_balance_seconds * 1000);
    }
    Poco::File(dir).remove(true);
    return 0;
}
