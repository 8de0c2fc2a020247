#include "keel/db/migrations.h"

#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/logging.h"
#include "keel/kernel/version.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA2Engine.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

namespace keel::db {

const std::vector<std::pair<std::string_view, std::string_view>>& embeddedMigrationFiles();  // generated

namespace {

constexpr const char* kVersionTable = "keel_schema_version";

std::string trim(std::string_view text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(text[begin])) != 0) ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1])) != 0) --end;
    return std::string(text.substr(begin, end - begin));
}

Backend backendFromSuffix(std::string_view suffix) {
    if (suffix == "sqlite") return Backend::kSQLite;
    if (suffix == "postgresql") return Backend::kPostgreSQL;
    if (suffix == "mariadb") return Backend::kMariaDB;
    return Backend::kUnknown;
}

bool tableExists(UnitOfWork& uow, const char* table) {
    Statement& exists = uow.statement(std::string(uow.dialect().tableExistsQuery()));
    exists.bind(table).execute();
    return exists.next() && exists.getInt64(0) > 0;
}

}  // namespace

std::string Migration::sqlFor(Backend backend) const {
    auto it = variants.find(backend);
    return Dialect::forBackend(backend).resolve(it != variants.end() ? it->second : sql);
}

std::string Migration::checksumFor(Backend backend) const {
    auto it = variants.find(backend);
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    engine.update(it != variants.end() ? it->second : sql);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

std::vector<Migration> loadMigrations(const std::vector<std::pair<std::string_view, std::string_view>>& files) {
    std::map<int, Migration> by_version;
    std::vector<std::pair<std::string, std::string_view>> variant_files;
    for (const auto& [file, content] : files) {
        // NNNN_name.sql or NNNN_name.backend.sql
        const std::string name(file);
        int version = 0;
        auto [end, ec] = std::from_chars(name.data(), name.data() + std::min<std::size_t>(4, name.size()), version);
        if (ec != std::errc() || end != name.data() + 4 || name.size() < 10 || name[4] != '_' || !name.ends_with(".sql") ||
            version < 1) {
            throw std::invalid_argument("migration file '" + name + "': expected NNNN_description.sql (NNNN from 0001)");
        }
        const std::string stem = name.substr(5, name.size() - 9);
        const auto dot = stem.find('.');
        if (dot != std::string::npos) {
            variant_files.emplace_back(name, content);
            continue;
        }
        Migration& m = by_version[version];
        if (!m.name.empty()) throw std::invalid_argument("migration version " + std::to_string(version) + " appears twice");
        m.version = version;
        m.name = stem;
        m.sql = std::string(content);
    }
    for (const auto& [name, content] : variant_files) {
        const int version = std::stoi(name.substr(0, 4));
        const std::string stem = name.substr(5, name.size() - 9);
        const auto dot = stem.find('.');
        const Backend backend = backendFromSuffix(stem.substr(dot + 1));
        auto it = by_version.find(version);
        if (backend == Backend::kUnknown) {
            throw std::invalid_argument("migration file '" + name + "': backend suffix must be sqlite, postgresql or mariadb");
        }
        if (it == by_version.end() || it->second.name != stem.substr(0, dot)) {
            throw std::invalid_argument("migration file '" + name + "' has no portable file NNNN_" + stem.substr(0, dot) + ".sql");
        }
        it->second.variants[backend] = std::string(content);
    }
    std::vector<Migration> out;
    int expected = 1;
    for (auto& [version, migration] : by_version) {
        if (version != expected) {
            throw std::invalid_argument("migration " + std::to_string(expected) + " is missing (found " +
                                        std::to_string(version) + ")");
        }
        ++expected;
        out.push_back(std::move(migration));
    }
    return out;
}

const std::vector<Migration>& embeddedMigrations() {
    static const std::vector<Migration> migrations = loadMigrations(embeddedMigrationFiles());
    return migrations;
}

std::vector<std::string> splitStatements(std::string_view sql) {
    // Comments are dropped: some drivers (sqlite3odbc) scan statements for ';' and '?' without knowing them.
    std::vector<std::string> out;
    std::string current;
    auto flush = [&] {
        std::string statement = trim(current);
        if (!statement.empty()) out.push_back(std::move(statement));
        current.clear();
    };
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"' || c == '`') {
            // Quoted text or identifier; a doubled quote is an escaped quote.
            const std::size_t begin = i;
            for (++i; i < sql.size(); ++i) {
                if (sql[i] == c) {
                    if (i + 1 < sql.size() && sql[i + 1] == c) {
                        ++i;
                    } else {
                        break;
                    }
                }
            }
            i = std::min(i + 1, sql.size());
            current.append(sql.substr(begin, i - begin));
        } else if (sql.substr(i, 2) == "--") {
            i = sql.find('\n', i);
            if (i == std::string_view::npos) i = sql.size();
        } else if (sql.substr(i, 2) == "/*") {
            i = sql.find("*/", i + 2);
            i = i == std::string_view::npos ? sql.size() : i + 2;
            current.push_back(' ');
        } else if (c == '$') {
            // PostgreSQL dollar quoting: $tag$ ... $tag$
            std::size_t j = i + 1;
            while (j < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[j])) != 0 || sql[j] == '_')) ++j;
            const std::size_t begin = i;
            if (j < sql.size() && sql[j] == '$') {
                const std::string_view tag = sql.substr(i, j - i + 1);
                const std::size_t close = sql.find(tag, j + 1);
                i = close == std::string_view::npos ? sql.size() : close + tag.size();
            } else {
                ++i;
            }
            current.append(sql.substr(begin, i - begin));
        } else if (c == ';') {
            flush();
            ++i;
        } else {
            current.push_back(c);
            ++i;
        }
    }
    flush();
    return out;
}

// ---------------------------------------------------------------------------------------------- Migrator

Migrator::Migrator(Database& database, const std::vector<Migration>& migrations, const Clock& clock)
    : database_(database), migrations_(migrations), clock_(clock) {}

void Migrator::bootstrap() {
    const Dialect& dialect = database_.dialect();
    database_.run([&](UnitOfWork& uow) {
        uow.execute("CREATE TABLE IF NOT EXISTS " + std::string(kVersionTable) +
                    " (version INTEGER NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, checksum VARCHAR(64) NOT NULL,"
                    " applied_at BIGINT NOT NULL, keel_version VARCHAR(50) NOT NULL)" +
                    std::string(dialect.tableOptions()));
    });
}

SchemaStatus Migrator::status() {
    const Backend backend = database_.backend();
    SchemaStatus status;
    status.latest_known = migrations_.empty() ? 0 : migrations_.back().version;
    database_.run([&](UnitOfWork& uow) {
        status.applied.clear();
        status.instance_id.clear();
        if (tableExists(uow, kVersionTable)) {
            Statement& rows = uow.statement("SELECT version, name, checksum, applied_at, keel_version FROM " +
                                            std::string(kVersionTable) + " ORDER BY version");
            rows.execute();
            while (rows.next()) {
                status.applied.push_back(AppliedMigration{static_cast<int>(rows.getInt64(0)), rows.getString(1),
                                                          rows.getString(2), rows.getInt64(3), rows.getString(4)});
            }
        }
        if (tableExists(uow, "keel_meta")) {
            Statement& meta = uow.statement("SELECT meta_value FROM keel_meta WHERE meta_key = ?");
            meta.bind("instance.id").execute();
            if (meta.next()) status.instance_id = meta.getString(0);
        }
    });

    std::map<int, const AppliedMigration*> applied;
    for (const auto& a : status.applied) {
        applied[a.version] = &a;
        status.current = std::max(status.current, a.version);
    }
    for (const auto& m : migrations_) {
        auto it = applied.find(m.version);
        if (it == applied.end()) {
            status.pending.push_back(m.version);
        } else if (it->second->checksum != m.checksumFor(backend)) {
            status.problems.push_back("migration " + std::to_string(m.version) + " (" + m.name +
                                      ") was changed after it was applied: the database has checksum " +
                                      it->second->checksum.substr(0, 12) + "…, this keel has " +
                                      m.checksumFor(backend).substr(0, 12) + "…");
        }
    }
    if (status.newerThanBinary()) {
        status.problems.push_back("the database schema is at version " + std::to_string(status.current) +
                                  ", newer than this keel " + std::string(versionString()) + " knows (" +
                                  std::to_string(status.latest_known) + "); upgrade keel before using this database");
    }
    return status;
}

void Migrator::refuseIfUnsafe(const SchemaStatus& status) {
    if (!status.problems.empty()) {
        std::string text = "database " + database_.spec().display + ": ";
        for (std::size_t i = 0; i < status.problems.size(); ++i) text += (i > 0 ? "; " : "") + status.problems[i];
        throw InfrastructureError(text);
    }
}

std::vector<int> Migrator::migrate(const std::function<void(const Migration&)>& before_each) {
    bootstrap();
    const SchemaStatus before = status();
    refuseIfUnsafe(before);
    const Backend backend = database_.backend();
    std::vector<int> done;
    for (const auto& m : migrations_) {
        if (std::find(before.pending.begin(), before.pending.end(), m.version) == before.pending.end()) continue;
        if (before_each) before_each(m);
        const std::vector<std::string> statements = splitStatements(m.sqlFor(backend));
        RunOptions once;
        once.max_attempts = 1;  // DDL is not always transactional: never replay half a migration blindly
        try {
            database_.run(
                [&](UnitOfWork& uow) {
                    for (const auto& statement : statements) uow.execute(statement);
                    uow.statement("INSERT INTO " + std::string(kVersionTable) +
                                  " (version, name, checksum, applied_at, keel_version) VALUES (?, ?, ?, ?, ?)")
                        .bindAll(m.version, m.name, m.checksumFor(backend), clock_.nowMicros(), versionString())
                        .execute();
                },
                once);
        } catch (const DbError& e) {
            throw InfrastructureError("migration " + std::to_string(m.version) + " (" + m.name + ") failed on " +
                                      database_.spec().display + ": " + e.what());
        }
        logging::get("db").information("applied migration %d (%s)", m.version, m.name);
        done.push_back(m.version);
    }
    // The instance id names this installation (logs, metrics, the audit chain); created once, never changed.
    const std::string upsert =
        database_.dialect().upsert("keel_meta", {"meta_key", "meta_value", "updated_at"}, {"meta_key"}, {});
    const std::string id = IdGenerator::global().next();
    database_.run([&](UnitOfWork& uow) {
        if (tableExists(uow, "keel_meta")) uow.statement(upsert).bindAll("instance.id", id, clock_.nowMicros()).execute();
    });
    return done;
}

void Migrator::requireCurrent() {
    const SchemaStatus s = status();
    refuseIfUnsafe(s);
    if (!s.pending.empty()) {
        throw InfrastructureError("database " + database_.spec().display + " is at schema version " +
                                  std::to_string(s.current) + " but this keel needs " +
                                  std::to_string(s.latest_known) + "; run `keel db migrate`");
    }
}

}  // namespace keel::db
