#pragma once
// Turns the connection strings operators write (sqlite:PATH, postgresql://..., mariadb://..., DSN=NAME or a raw
// ODBC string) into an ODBC connection string with the driver options that make each backend behave correctly.

#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace keel::db {

/// The SQL backends Keel knows. kUnknown is a raw ODBC string whose backend is detected after connecting.
enum class Backend { kUnknown, kSQLite, kPostgreSQL, kMariaDB };

/// "sqlite", "postgresql", "mariadb" or "unknown".
std::string_view backendName(Backend backend);
std::ostream& operator<<(std::ostream& out, Backend backend);

/// Settings that complete a connection string but never appear in it on the command line.
struct ConnectionOptions {
    std::optional<std::string> password;  ///< from db.password / KEEL_DB_PASSWORD / db.password_file
    int timeout_ms = 5000;                ///< SQLite busy timeout; login timeout for servers
    /// SQLite durability (db.sqlite.synchronous): "full" syncs the WAL on every commit and survives power
    /// loss; "normal" syncs at checkpoints: a crash of Keel loses nothing, a power cut may lose the last
    /// commits, never the database. The default is full.
    std::string sqlite_synchronous = "full";
    /// Who copies SQLite's write-ahead log back into the database file (db.sqlite.checkpoint): "background" (the
    /// default), a thread of each Database, off the path of the commits; or "commit", SQLite's own way, where the
    /// commit that takes the log past 1,000 pages copies them while its caller waits.
    std::string sqlite_checkpoint = "background";
};

/// A parsed connection: what the operator wrote (safe to print), and what ODBC receives.
struct ConnectionSpec {
    Backend backend = Backend::kUnknown;
    std::string display;  ///< the operator's text with any password removed; safe for logs and status output
    std::string odbc;     ///< the full ODBC connection string (may contain the password: never print)
    std::string database; ///< database name or SQLite path, when the shorthand names one
    /// SQLite: a Database checkpoints in a thread of its own, and its connections checkpoint only as a backstop,
    /// when the log has grown ten times past the usual 1,000 pages (db.sqlite.checkpoint = background).
    bool sqlite_background_checkpoint = false;
};

/// Parses a connection string. Throws UsageError naming the text and what is wrong, e.g. a password inside a
/// URL (it would be visible in `ps`: use db.password or KEEL_DB_PASSWORD instead).
ConnectionSpec parseConnectionString(std::string_view text, const ConnectionOptions& options = {});

/// Quotes an ODBC attribute value when needed: values with ';', '{', '}' or surrounding spaces go in braces.
std::string odbcQuote(std::string_view value);

/// A raw ODBC string with PWD/Password values replaced by "***".
std::string redactOdbc(std::string_view odbc);

}  // namespace keel::db
