#pragma once
// Database failures as Keel sees them: classified once, from the SQLSTATE and the backend's native code, so
// callers decide by kind (retry, reconnect, report a duplicate) instead of parsing driver messages.

#include "keel/db/connection_string.h"
#include "keel/kernel/error.h"

#include <iosfwd>
#include <string>

namespace keel::db {

/// What a failure means for the caller.
enum class ErrorKind {
    kRetryable,        ///< serialization failure, deadlock, lock timeout, SQLite busy: redo the whole unit
    kConnection,       ///< the connection is gone (08xxx, server shutdown): drop it, take a new one
    kUniqueViolation,  ///< a unique or primary key constraint refused the row
    kConstraint,       ///< another integrity constraint (foreign key, not null, check)
    kOther,            ///< anything else: a bug or a schema problem, reported as is
};

std::string_view errorKindName(ErrorKind kind);
std::ostream& operator<<(std::ostream& out, ErrorKind kind);

/// An ODBC or database failure. An InfrastructureError (exit code 5) unless a caller turns it into a
/// business outcome (a unique violation on an idempotency key is "already imported", not a failure).
class DbError : public InfrastructureError {
public:
    DbError(ErrorKind kind, std::string sqlstate, long native, const std::string& message)
        : InfrastructureError(message), kind_(kind), sqlstate_(std::move(sqlstate)), native_(native) {}

    ErrorKind kind() const noexcept { return kind_; }
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    long nativeCode() const noexcept { return native_; }
    bool retryable() const noexcept { return kind_ == ErrorKind::kRetryable || kind_ == ErrorKind::kConnection; }

private:
    ErrorKind kind_;
    std::string sqlstate_;
    long native_;
};

/// Classifies a failure by SQLSTATE, native code and (only where a driver leaves no other way) message.
ErrorKind classifyError(Backend backend, const std::string& sqlstate, long native, const std::string& message);

}  // namespace keel::db
