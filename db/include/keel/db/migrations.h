#pragma once
// Versioned schema migrations: SQL files in db/migrations/ embedded into the binary, applied in order by
// `keel db migrate`, recorded in keel_schema_version with a checksum, and refused on a database whose schema
// is newer than this binary or whose applied migrations were edited afterwards.
//
// File names: NNNN_description.sql (portable SQL, placeholders {{text}} {{blob}} {{table_options}}) and,
// only where unavoidable, NNNN_description.<sqlite|postgresql|mariadb>.sql replacing it for one backend.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::db {

/// One schema version.
struct Migration {
    int version = 0;
    std::string name;                        ///< "schema_metadata"
    std::string sql;                         ///< the portable file
    std::map<Backend, std::string> variants; ///< backend-specific replacements

    /// The SQL for a backend with placeholders resolved.
    std::string sqlFor(Backend backend) const;
    /// SHA-256 (hex) of the unresolved SQL used for the backend, recorded when applied.
    std::string checksumFor(Backend backend) const;
};

/// Builds migrations from {file name, content} pairs. Throws std::invalid_argument for a malformed file name,
/// a duplicate version, a gap in the sequence, or a variant without its portable file.
std::vector<Migration> loadMigrations(const std::vector<std::pair<std::string_view, std::string_view>>& files);

/// The migrations compiled into this binary.
const std::vector<Migration>& embeddedMigrations();

/// Splits SQL text into statements at ';' outside quotes, comments and PostgreSQL dollar quotes.
std::vector<std::string> splitStatements(std::string_view sql);

/// A row of keel_schema_version.
struct AppliedMigration {
    int version = 0;
    std::string name;
    std::string checksum;
    std::int64_t applied_at = 0;  ///< epoch microseconds
    std::string keel_version;
};

/// What `keel db status` reports.
struct SchemaStatus {
    int current = 0;       ///< highest applied version (0: empty database)
    int latest_known = 0;  ///< highest version this binary carries
    std::vector<AppliedMigration> applied;
    std::vector<int> pending;
    std::vector<std::string> problems;  ///< edited migrations, unknown versions
    std::string instance_id;            ///< keel_meta instance.id, empty before the first migration
    bool newerThanBinary() const { return current > latest_known; }
};

/// Applies and inspects migrations on one database.
class Migrator {
public:
    explicit Migrator(Database& database, const std::vector<Migration>& migrations = embeddedMigrations(),
                      const Clock& clock = Clock::system());

    SchemaStatus status();

    /// Applies the pending migrations in order, each in its own unit of work (MariaDB commits DDL on its
    /// own, so a migration there is not atomic; each file is written to be re-runnable). Returns the versions
    /// applied. Throws InfrastructureError when the database is newer than the binary or an applied
    /// migration's checksum differs from the file's.
    std::vector<int> migrate(const std::function<void(const Migration&)>& before_each = {});

    /// Throws InfrastructureError unless every known migration is applied (keeld refuses an old schema).
    void requireCurrent();

private:
    void bootstrap();
    void refuseIfUnsafe(const SchemaStatus& status);

    Database& database_;
    const std::vector<Migration>& migrations_;
    const Clock& clock_;
};

}  // namespace keel::db
