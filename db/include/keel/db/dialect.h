#pragma once
// The few places where SQL differs between Keel's backends. Everything else is portable SQL.

#include "keel/db/connection_string.h"

#include <string>
#include <string_view>
#include <vector>

namespace keel::db {

/// SQL text differences of one backend: upsert, row locks, type names in migrations, session setup.
class Dialect {
public:
    static const Dialect& forBackend(Backend backend);

    Backend backend() const { return backend_; }
    std::string_view name() const { return backendName(backend_); }

    /// INSERT of `columns` that updates `update_columns` when a row with the same `key_columns` exists
    /// (does nothing when `update_columns` is empty). Identifiers come from code, never from users; they are
    /// checked to be plain lowercase names. Affected-row counts of upserts differ by backend: do not use them.
    std::string upsert(std::string_view table, const std::vector<std::string>& columns,
                       const std::vector<std::string>& key_columns,
                       const std::vector<std::string>& update_columns) const;

    /// INSERT of `columns`; when a row with the same `key_columns` exists, adds the inserted values of
    /// `add_columns` to it (balance += delta) and replaces `replace_columns`. The row changes atomically.
    std::string upsertAdd(std::string_view table, const std::vector<std::string>& columns,
                          const std::vector<std::string>& key_columns, const std::vector<std::string>& add_columns,
                          const std::vector<std::string>& replace_columns) const;

    /// Whether SELECT ... FOR UPDATE exists (not on SQLite, where the writer lock covers the database).
    bool supportsSelectForUpdate() const { return backend_ != Backend::kSQLite; }
    /// " FOR UPDATE" or "" to append to a SELECT that reads rows it will change.
    std::string_view forUpdate() const { return supportsSelectForUpdate() ? " FOR UPDATE" : ""; }

    /// Long text (JSON documents, payloads): TEXT, or LONGTEXT on MariaDB whose TEXT stops at 64 KiB.
    std::string_view textType() const;
    /// Binary data: BLOB, BYTEA or LONGBLOB.
    std::string_view blobType() const;
    /// Table options appended to CREATE TABLE: InnoDB with utf8mb4 and a binary collation on MariaDB, so
    /// identifiers compare case-sensitively as on PostgreSQL and SQLite.
    std::string_view tableOptions() const;

    /// A query with one parameter (the table name) returning COUNT(*) > 0 when the table exists.
    std::string_view tableExistsQuery() const;

    /// Replaces the placeholders {{text}}, {{blob}}, {{table_options}} and {{clustered_table_options}} (a table
    /// kept in primary-key order: SQLite WITHOUT ROWID) in migration SQL.
    std::string resolve(std::string_view sql) const;

    /// A statement run once on every new connection; an optional one may fail on older servers.
    struct SetupStatement {
        std::string sql;
        bool required = true;
    };
    std::vector<SetupStatement> sessionSetup() const;

private:
    explicit Dialect(Backend backend) : backend_(backend) {}
    Backend backend_;
};

}  // namespace keel::db
