#pragma once
// Shared by the benchmarks: fresh databases on every backend and simple timing.

#include "keel/db/connection.h"
#include "keel/db/connection_string.h"
#include "keel/kernel/id.h"

#include <Poco/File.h>
#include <Poco/Path.h>

#include <sys/resource.h>

#include <barrier>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

namespace keel::bench {

/// A fresh database: an SQLite file in `sqlite_dir`, or a new database on the server named by
/// KEEL_TEST_POSTGRESQL / KEEL_TEST_MARIADB (set by `make bench`); nullopt when the server is not configured.
inline std::optional<std::string> freshDatabase(db::Backend backend, const std::string& sqlite_dir) {
    const std::string name = "keel_bench_" + IdGenerator::global().next().substr(24);
    if (backend == db::Backend::kSQLite) return "sqlite:" + sqlite_dir + "/" + name + ".db";
    const char* admin_url = std::getenv(backend == db::Backend::kPostgreSQL ? "KEEL_TEST_POSTGRESQL" : "KEEL_TEST_MARIADB");
    if (admin_url == nullptr) return std::nullopt;
    const std::string admin(admin_url);
    db::Connection connection(db::parseConnectionString(admin));
    connection.executeOutsideTransaction("CREATE DATABASE " + name +
                                         (backend == db::Backend::kMariaDB ? " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" : ""));
    return admin.substr(0, admin.rfind('/') + 1) + name;
}

/// CPU seconds (user + system) this process has used so far. On a shared machine the wall clock of an embedded
/// database (SQLite) depends on what else runs; the CPU it takes per operation much less.
inline double cpuSeconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// Seconds taken by `work`, measured on the steady clock.
template <typename Work>
double seconds(Work&& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// The start of a measured run of `workers` threads that first work unmeasured for a second (warming()), as keeld's
/// long-running workers would have: their connections' page caches and memory maps filled, statements compiled,
/// their heaps grown. Each worker calls arrive() when warm; the clock and the CPU count start when the last one does.
class WarmStart {
public:
    using Clock = std::chrono::steady_clock;

    explicit WarmStart(int workers) : barrier_(workers, Mark{this}) {}

    bool warming() const { return Clock::now() < warm_until_; }
    void arrive() { barrier_.arrive_and_wait(); }
    /// Since the last worker arrived: wall seconds, and this process's CPU seconds.
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
    double cpuSeconds() const { return bench::cpuSeconds() - cpu_before_; }

private:
    struct Mark {
        WarmStart* self;
        void operator()() noexcept {
            self->start_ = Clock::now();
            self->cpu_before_ = bench::cpuSeconds();
        }
    };
    const Clock::time_point warm_until_ = Clock::now() + std::chrono::seconds(1);
    Clock::time_point start_;
    double cpu_before_ = 0;
    std::barrier<Mark> barrier_;
};

}  // namespace keel::bench
