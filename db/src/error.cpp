#include "keel/db/error.h"

#include <ostream>

namespace keel::db {

std::string_view errorKindName(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::kRetryable: return "retryable";
        case ErrorKind::kConnection: return "connection";
        case ErrorKind::kUniqueViolation: return "unique_violation";
        case ErrorKind::kConstraint: return "constraint";
        case ErrorKind::kOther: break;
    }
    return "other";
}

std::ostream& operator<<(std::ostream& out, ErrorKind kind) { return out << errorKindName(kind); }

ErrorKind classifyError(Backend backend, const std::string& sqlstate, long native, const std::string& message) {
    const std::string_view state(sqlstate);
    // Connection loss is the same on every backend; a unit of work that saw it is retried on a new connection.
    if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" || state == "HYT01") {
        return ErrorKind::kConnection;
    }
    // Class 40: transaction rollback (serialization failure 40001, deadlock 40P01, ...).
    if (state.starts_with("40")) return ErrorKind::kRetryable;

    switch (backend) {
        case Backend::kSQLite:
            // sqlite3odbc reports the SQLite result code as the native code, usually under SQLSTATE HY000.
            // 5 SQLITE_BUSY (also BUSY_SNAPSHOT: a stale read snapshot tried to write), 6 SQLITE_LOCKED.
            if ((native & 0xff) == 5 || (native & 0xff) == 6) return ErrorKind::kRetryable;
            if ((native & 0xff) == 19) {  // SQLITE_CONSTRAINT; only the message tells unique from the others
                const bool unique = message.find("UNIQUE constraint failed") != std::string::npos ||
                                    message.find("PRIMARY KEY") != std::string::npos;
                return unique ? ErrorKind::kUniqueViolation : ErrorKind::kConstraint;
            }
            break;
        case Backend::kMariaDB:
            switch (native) {
                case 1213:  // ER_LOCK_DEADLOCK (also Galera certification failures)
                case 1205:  // ER_LOCK_WAIT_TIMEOUT
                case 1020:  // ER_CHECKREAD: row changed since read (innodb_snapshot_isolation)
                case 1180:  // ER_ERROR_DURING_COMMIT
                    return ErrorKind::kRetryable;
                case 1062:  // ER_DUP_ENTRY
                case 1586:  // ER_DUP_ENTRY_WITH_KEY_NAME
                    return ErrorKind::kUniqueViolation;
                case 2006:  // CR_SERVER_GONE_ERROR
                case 2013:  // CR_SERVER_LOST
                case 1927:  // ER_CONNECTION_KILLED
                case 1047:  // ER_UNKNOWN_COM_ERROR: Galera node not ready
                    return ErrorKind::kConnection;
                default:
                    break;
            }
            break;
        case Backend::kPostgreSQL:
        case Backend::kUnknown:
            break;
    }
    if (state == "23505") return ErrorKind::kUniqueViolation;
    if (state.starts_with("23")) {
        // MariaDB reports duplicates as 23000 with native 1062 (handled above).
        return ErrorKind::kConstraint;
    }
    return ErrorKind::kOther;
}

}  // namespace keel::db
