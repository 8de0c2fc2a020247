#pragma once

namespace keel::db {

/// Registers Keel's VFS (kSqliteVfsName, db/src/sqlite_wal_writes.cpp) as SQLite's default; called once, from
/// sqliteLibrarySetup(). False where the default VFS is too old to wrap (nothing changed then).
bool installSqliteLogWriter();

}  // namespace keel::db
