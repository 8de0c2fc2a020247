#include "keel/db/dialect.h"

#include <stdexcept>

namespace keel::db {

namespace {

void checkIdentifier(std::string_view name) {
    bool ok = !name.empty() && name.size() <= 63 && ((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');
    for (char c : name) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    if (!ok) throw std::invalid_argument("not a plain SQL identifier: '" + std::string(name) + "'");
}

std::string join(const std::vector<std::string>& names, std::string_view separator) {
    std::string out;
    for (const auto& name : names) {
        if (!out.empty()) out += separator;
        out += name;
    }
    return out;
}

void replaceAll(std::string& text, std::string_view from, std::string_view to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size())) {
        text.replace(pos, from.size(), to);
    }
}

}  // namespace

const Dialect& Dialect::forBackend(Backend backend) {
    static const Dialect sqlite(Backend::kSQLite);
    static const Dialect postgresql(Backend::kPostgreSQL);
    static const Dialect mariadb(Backend::kMariaDB);
    switch (backend) {
        case Backend::kSQLite: return sqlite;
        case Backend::kPostgreSQL: return postgresql;
        case Backend::kMariaDB: return mariadb;
        case Backend::kUnknown: break;
    }
    throw std::invalid_argument("no SQL dialect for an unknown backend");
}

std::string Dialect::upsert(std::string_view table, const std::vector<std::string>& columns,
                            const std::vector<std::string>& key_columns,
                            const std::vector<std::string>& update_columns) const {
    checkIdentifier(table);
    for (const auto& c : columns) checkIdentifier(c);
    for (const auto& c : key_columns) checkIdentifier(c);
    for (const auto& c : update_columns) checkIdentifier(c);
    if (columns.empty() || key_columns.empty()) throw std::invalid_argument("upsert needs columns and key columns");

    std::string markers;
    for (std::size_t i = 0; i < columns.size(); ++i) markers += i == 0 ? "?" : ", ?";
    std::string sql = "INSERT INTO " + std::string(table) + " (" + join(columns, ", ") + ") VALUES (" + markers + ")";

    if (backend_ == Backend::kMariaDB) {
        std::vector<std::string> sets;
        for (const auto& c : update_columns) sets.push_back(c + " = VALUES(" + c + ")");
        // A no-op assignment instead of INSERT IGNORE, which would also hide unrelated errors.
        if (sets.empty()) sets.push_back(key_columns.front() + " = " + key_columns.front());
        return sql + " ON DUPLICATE KEY UPDATE " + join(sets, ", ");
    }
    sql += " ON CONFLICT (" + join(key_columns, ", ") + ")";
    if (update_columns.empty()) return sql + " DO NOTHING";
    std::vector<std::string> sets;
    for (const auto& c : update_columns) sets.push_back(c + " = excluded." + c);
    return sql + " DO UPDATE SET " + join(sets, ", ");
}

std::string Dialect::upsertAdd(std::string_view table, const std::vector<std::string>& columns,
                               const std::vector<std::string>& key_columns, const std::vector<std::string>& add_columns,
                               const std::vector<std::string>& replace_columns) const {
    // Reuse upsert() for the INSERT part and the identifier checks, then write the assignments.
    const std::string insert = upsert(table, columns, key_columns, {});
    std::vector<std::string> sets;
    for (const auto& c : add_columns) checkIdentifier(c);
    for (const auto& c : replace_columns) checkIdentifier(c);
    if (backend_ == Backend::kMariaDB) {
        for (const auto& c : add_columns) sets.push_back(c + " = " + c + " + VALUES(" + c + ")");
        for (const auto& c : replace_columns) sets.push_back(c + " = VALUES(" + c + ")");
        return insert.substr(0, insert.find(" ON DUPLICATE KEY")) + " ON DUPLICATE KEY UPDATE " + join(sets, ", ");
    }
    for (const auto& c : add_columns) sets.push_back(c + " = " + std::string(table) + "." + c + " + excluded." + c);
    for (const auto& c : replace_columns) sets.push_back(c + " = excluded." + c);
    return insert.substr(0, insert.find(" DO NOTHING")) + " DO UPDATE SET " + join(sets, ", ");
}

std::string_view Dialect::textType() const {
    return backend_ == Backend::kMariaDB ? "LONGTEXT" : "TEXT";
}

std::string_view Dialect::blobType() const {
    switch (backend_) {
        case Backend::kPostgreSQL: return "BYTEA";
        case Backend::kMariaDB: return "LONGBLOB";
        default: return "BLOB";
    }
}

std::string_view Dialect::tableOptions() const {
    return backend_ == Backend::kMariaDB ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" : "";
}

std::string_view Dialect::tableExistsQuery() const {
    switch (backend_) {
        case Backend::kSQLite: return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?";
        case Backend::kPostgreSQL:
            return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                   "AND table_name = ?";
        default:
            return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?";
    }
}

std::string Dialect::resolve(std::string_view sql) const {
    std::string out(sql);
    replaceAll(out, "{{text}}", textType());
    replaceAll(out, "{{blob}}", blobType());
    // Tables looked up by their whole primary key on every hot path: stored in key order (SQLite WITHOUT ROWID;
    // InnoDB always clusters by primary key; PostgreSQL has no such option).
    replaceAll(out, "{{clustered_table_options}}",
               backend_ == Backend::kSQLite ? std::string_view(" WITHOUT ROWID") : tableOptions());
    replaceAll(out, "{{table_options}}", tableOptions());
    return out;
}

std::vector<Dialect::SetupStatement> Dialect::sessionSetup() const {
    switch (backend_) {
        case Backend::kMariaDB:
            // Strict mode: reject instead of truncating or coercing. Snapshot isolation: a REPEATABLE READ
            // transaction that writes a row changed since its snapshot fails (retryable) instead of silently
            // overwriting, as on PostgreSQL.
            // (innodb_snapshot_isolation exists from MariaDB 10.6.18 / 10.11.8 on; older servers keep the
            // default behaviour, so it is optional.)
            return {{"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,"
                     "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,PIPES_AS_CONCAT,ANSI_QUOTES'", true},
                    {"SET SESSION innodb_snapshot_isolation = ON", false},
                    {"SET SESSION time_zone = '+00:00'", true}};
        case Backend::kPostgreSQL:
            return {{"SET TIME ZONE 'UTC'", true}};
        case Backend::kSQLite:
            // A page cache and memory map large enough for a catalog's balances: random reservations then read
            // pages from memory instead of through read() calls (SQLite's default cache is 2 MB). The write-ahead log
            // file keeps the size it once grew to (a go-live import left 240 MB); past 64 MB it is cut back when the
            // log next starts over after a complete checkpoint. Below that it is reused in place, which syncs faster.
            return {{"PRAGMA cache_size = -65536", true},
                    {"PRAGMA mmap_size = 1073741824", true},
                    {"PRAGMA journal_size_limit = 67108864", true}};
        case Backend::kUnknown:
            break;
    }
    return {};
}

}  // namespace keel::db
