#pragma once
// A baseline for the SQLite figures of the benchmarks: the statements Keel executed in a measured run, recorded with
// their parameters (db::recordStatements) and executed again on SQLite's own C API, on a copy of the database file as
// it was before the run. The replay has none of Keel's work (documents, pricing, routing, events' JSON, the ledger's
// rules), none of the ODBC layers (unixODBC, sqlite3odbc, Keel's Statement), and no checkpoints at all (its write-ahead
// log only grows): what it takes is what SQLite itself needs for the same reads and writes, an upper bound for any
// code that would store the same rows. Same process, so same library setup and VFS (db::sqliteLibrarySetup()).
// A second replay, on a second copy, adds what any database that lives longer than a benchmark also pays: Keel's own
// db::WalCheckpointer, woken after every replayed COMMIT as a Database wakes it, copies the log back into the database
// file with a passive checkpoint 50 ms later (at once after a commit of WalCheckpointer::kPromptFrames pages or more:
// the replaying thread's commits are counted by the same VFS), and the replaying connection checkpoints itself past
// 10,000 log pages,
// as Keel's connections do. The two together tell Keel's own share (against the second) from the checkpoints' (the
// difference between them).

#include "bench_support.h"

#include "keel/db/connection.h"
#include "keel/db/wal_checkpointer.h"

#include <sqlite3.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace keel::bench {

class BareSqlite final : public db::StatementRecorder {
public:
    struct Figures {
        std::size_t units = 0;       ///< units counted after mark() (orders, reservations)
        double per_second = 0;       ///< units per wall second
        double cpu_micros = 0;       ///< CPU per unit
        std::size_t statements = 0;  ///< replayed after mark()
        std::size_t failed = 0;      ///< statements SQLite refused (none where the recording had none)
    };

    struct Baselines {
        Figures alone;         ///< no checkpoints: the write-ahead log only grows
        Figures checkpointed;  ///< with checkpoints as Keel's Database makes them

        /// Each with how it ran, for a benchmark's lines.
        std::array<std::pair<const char*, const Figures*>, 2> each() const {
            return {
                {{"alone, no checkpoints", &alone}, {"with Keel's checkpoints (db::WalCheckpointer)", &checkpointed}}};
        }
    };

    /// The baselines of a measured run. The database at `path` (no connection may have it open) is copied twice, and
    /// `run(bare)` runs that work once more while every statement the process executes is recorded (recording slows
    /// it, so this run is not the figure); `run` calls bare.mark() where its measured part starts. The statements are
    /// then replayed on each copy with `synchronous` ("full" or "normal", as Keel's connections had it), without
    /// checkpoints and with them, and what followed mark() is timed; the units are the rows the replayed statements
    /// inserted into `table`.
    template <typename Run>
    static Baselines measure(const std::string& path, const std::string& synchronous, const std::string& table,
                             Run&& run) {
        BareSqlite bare(path);
        run(bare);
        db::recordStatements(nullptr);
        const char* sync = synchronous == "normal" ? "NORMAL" : "FULL";
        Baselines baselines;
        baselines.alone = bare.replay(bare.copies_[0], sync, table, false);
        baselines.checkpointed = bare.replay(bare.copies_[1], sync, table, true);
        return baselines;
    }

    ~BareSqlite() override {
        db::recordStatements(nullptr);
        for (const auto& copy : copies_) {
            for (const char* suffix : {"", "-wal", "-shm"}) std::remove((copy + suffix).c_str());
        }
    }
    BareSqlite(const BareSqlite&) = delete;
    BareSqlite& operator=(const BareSqlite&) = delete;

    void executed(const db::ExecutedStatement& statement) override {
        std::lock_guard<std::mutex> lock(mutex_);
        auto [it, added] = sql_index_.try_emplace(statement.sql, sql_.size());
        if (added) sql_.push_back(statement.sql);
        recorded_.push_back(Recorded{it->second, statement.parameters});
    }

    /// The statements recorded from now on are the measured ones (those before bring the copy to the same state).
    void mark() {
        std::lock_guard<std::mutex> lock(mutex_);
        mark_ = recorded_.size();
    }

private:
    /// Replays everything recorded on the copy at `path` (see measure()).
    Figures replay(const std::string& path, const char* synchronous, const std::string& table, bool checkpoints) {
        sqlite3* handle = nullptr;
        if (sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            sqlite3_close(handle);
            throw std::runtime_error("bare SQLite: cannot open " + path);
        }
        std::vector<sqlite3_stmt*> prepared(sql_.size(), nullptr);
        auto close = [&] {
            for (sqlite3_stmt* s : prepared) sqlite3_finalize(s);
            sqlite3_close(handle);
        };
        auto fail = [&](const std::string& what) {
            const std::string message = "bare SQLite: " + what + ": " + sqlite3_errmsg(handle);
            close();
            throw std::runtime_error(message);
        };
        // As sqlite3odbc opens Keel's connections (JournalMode=WAL, SyncPragma, FKSupport); no checkpoints, or Keel's
        // backstop (its connections checkpoint themselves past 10,000 log pages) and its checkpoint thread.
        const std::string setup =
            std::string("PRAGMA journal_mode = WAL; PRAGMA synchronous = ") + synchronous +
            "; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = " + (checkpoints ? "10000" : "0");
        if (sqlite3_exec(handle, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) fail("setup");
        std::optional<db::WalCheckpointer> checkpointer;
        if (checkpoints) {
            db::ConnectionOptions options;
            options.sqlite_synchronous = synchronous == std::string("NORMAL") ? "normal" : "full";
            checkpointer.emplace(db::parseConnectionString("sqlite:" + path, options), db::WalCheckpointer::kDelay);
        }
        Figures figures;
        std::chrono::steady_clock::time_point start;
        double cpu_before = 0;
        std::int64_t sink = 0;
        for (std::size_t k = 0; k < recorded_.size(); ++k) {
            if (k == mark_) {
                start = std::chrono::steady_clock::now();
                cpu_before = cpuSeconds();
            }
            const Recorded& r = recorded_[k];
            const std::string& sql = sql_[r.sql];
            if (sql.find("wal_autocheckpoint") != std::string::npos) continue;  // Keel's setting, made above
            sqlite3_stmt*& s = prepared[r.sql];
            if (s == nullptr && sqlite3_prepare_v2(handle, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) fail(sql);
            for (std::size_t i = 0; i < r.parameters.size(); ++i) {
                const int at = static_cast<int>(i) + 1;
                const auto& p = r.parameters[i];
                if (const auto* n = std::get_if<std::int64_t>(&p)) {
                    sqlite3_bind_int64(s, at, *n);
                } else if (const auto* t = std::get_if<std::string>(&p)) {
                    sqlite3_bind_text(s, at, t->data(), static_cast<int>(t->size()), SQLITE_STATIC);
                } else {
                    sqlite3_bind_null(s, at);
                }
            }
            int rc;
            while ((rc = sqlite3_step(s)) == SQLITE_ROW) {  // every column read, as Keel reads its results
                for (int c = 0; c < sqlite3_column_count(s); ++c) {
                    sink += sqlite3_column_type(s, c) == SQLITE_INTEGER ? sqlite3_column_int64(s, c)
                                                                        : sqlite3_column_bytes(s, c);
                }
            }
            if (rc != SQLITE_DONE) ++figures.failed;
            if (checkpointer && sql == "COMMIT") checkpointer->wake();  // as Database::committedWrite() does
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            if (k >= mark_) {
                figures.units += rowsInserted(sql, r.parameters.size(), table);
                ++figures.statements;
            }
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double cpu = cpuSeconds() - cpu_before;
        checkpointer.reset();
        close();
        consumed_ = sink;
        if (figures.units > 0) {
            figures.per_second = static_cast<double>(figures.units) / seconds;
            figures.cpu_micros = cpu * 1e6 / static_cast<double>(figures.units);
        }
        return figures;
    }

    /// Copies the SQLite database at `path` (its write-ahead log too, if any), which no connection may have open,
    /// twice, and starts recording every statement the process executes.
    explicit BareSqlite(const std::string& path) : copies_{path + ".bare", path + ".bare-checkpointed"} {
        for (const auto& copy : copies_) {
            for (const char* suffix : {"", "-wal"}) {
                std::ifstream in(path + suffix, std::ios::binary);
                if (!in) continue;
                std::ofstream out(copy + suffix, std::ios::binary | std::ios::trunc);
                out << in.rdbuf();
            }
        }
        db::recordStatements(this);
    }

    /// Rows an INSERT INTO `table` adds, to count units in replay(): its parameters over those of one row.
    static std::size_t rowsInserted(const std::string& sql, std::size_t parameters, const std::string& table) {
        if (sql.rfind("INSERT INTO " + table + " (", 0) != 0) return 0;
        const std::size_t values = sql.find("VALUES (");
        if (values == std::string::npos) return 0;
        const std::size_t end = sql.find(')', values);
        std::size_t per_row = 0;
        for (std::size_t i = values; i < end; ++i) per_row += sql[i] == '?' ? 1 : 0;
        return per_row == 0 ? 1 : parameters / per_row;
    }

    struct Recorded {
        std::size_t sql;
        std::vector<db::ExecutedStatement::Parameter> parameters;
    };
    std::array<std::string, 2> copies_;  ///< replayed without checkpoints, and with them
    std::mutex mutex_;
    std::unordered_map<std::string, std::size_t> sql_index_;
    std::vector<std::string> sql_;
    std::vector<Recorded> recorded_;
    std::size_t mark_ = 0;
    volatile std::int64_t consumed_ = 0;  ///< what the replay read, kept so that reading it is not optimized away
};

}  // namespace keel::bench
