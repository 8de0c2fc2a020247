#include "keel/db/connection_string.h"

#include "keel/kernel/error.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <ostream>
#include <vector>

namespace keel::db {

namespace {

struct Url {
    std::string scheme;
    std::string user;
    std::string host;
    int port = 0;
    std::string database;
    std::vector<std::pair<std::string, std::string>> params;
};

[[noreturn]] void bad(std::string_view text, const std::string& why) {
    throw UsageError("connection string '" + std::string(text) + "': " + why);
}

bool isKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Parses scheme://[user@]host[:port]/database[?key=value&...]; percent-escapes are not needed for the
// names databases allow, so they are refused rather than half-supported.
Url parseUrl(std::string_view text) {
    Url url;
    const auto colon = text.find("://");
    url.scheme = Poco::toLower(std::string(text.substr(0, colon)));
    std::string_view rest = text.substr(colon + 3);

    std::string_view query;
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        query = rest.substr(q + 1);
        rest = rest.substr(0, q);
    }
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos || slash + 1 >= rest.size()) bad(text, "no database name after the host (…/DATABASE)");
    url.database = std::string(rest.substr(slash + 1));
    std::string_view authority = rest.substr(0, slash);

    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = authority.substr(0, at);
        if (userinfo.find(':') != std::string_view::npos) {
            bad(text, "a password in the connection string would be visible in process listings; "
                      "set db.password in the configuration or the KEEL_DB_PASSWORD environment variable");
        }
        url.user = std::string(userinfo);
        if (url.user.empty()) bad(text, "empty user name before '@'");
        authority = authority.substr(at + 1);
    }

    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
        const auto close = authority.find(']');
        if (close == std::string_view::npos) bad(text, "unterminated '[' in the host");
        url.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') bad(text, "expected ':PORT' after ']'");
            port_text = authority.substr(close + 2);
        }
    } else if (const auto c = authority.rfind(':'); c != std::string_view::npos) {
        url.host = std::string(authority.substr(0, c));
        port_text = authority.substr(c + 1);
    } else {
        url.host = std::string(authority);
    }
    if (url.host.empty()) bad(text, "no host name");
    if (!port_text.empty()) {
        int port = 0;
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535) {
            bad(text, "port '" + std::string(port_text) + "' is not a number from 1 to 65535");
        }
        url.port = port;
    }
    for (char c : url.database) {
        if (!isKeyChar(c) && c != '-' && c != '.') bad(text, "database name '" + url.database + "' has a character other than letters, digits, '_', '-' or '.'");
    }

    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const auto eq = pair.find('=');
        if (eq == std::string_view::npos || eq == 0) bad(text, "query parameter '" + std::string(pair) + "' is not key=value");
        std::string key(pair.substr(0, eq));
        if (!std::all_of(key.begin(), key.end(), isKeyChar)) bad(text, "query parameter name '" + key + "' is not a plain word");
        const std::string lower = Poco::toLower(key);
        if (lower == "pwd" || lower == "password") {
            bad(text, "a password in the connection string would be visible in process listings; "
                      "set db.password in the configuration or the KEEL_DB_PASSWORD environment variable");
        }
        url.params.emplace_back(std::move(key), std::string(pair.substr(eq + 1)));
    }
    return url;
}

void append(std::string& odbc, std::string_view key, std::string_view value) {
    odbc.append(key).append("=").append(odbcQuote(value)).append(";");
}

bool hasAttribute(std::string_view odbc, std::string_view name) {
    const std::string lower = Poco::toLower(std::string(odbc));
    const std::string wanted = Poco::toLower(std::string(name)) + "=";
    std::size_t pos = 0;
    while ((pos = lower.find(wanted, pos)) != std::string::npos) {
        if (pos == 0 || lower[pos - 1] == ';' || std::isspace(static_cast<unsigned char>(lower[pos - 1])) != 0) return true;
        pos += wanted.size();
    }
    return false;
}

}  // namespace

std::string_view backendName(Backend backend) {
    switch (backend) {
        case Backend::kSQLite: return "sqlite";
        case Backend::kPostgreSQL: return "postgresql";
        case Backend::kMariaDB: return "mariadb";
        case Backend::kUnknown: break;
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& out, Backend backend) { return out << backendName(backend); }

std::string odbcQuote(std::string_view value) {
    const bool needs = value.find_first_of(";{}") != std::string_view::npos ||
                       (!value.empty() && (std::isspace(static_cast<unsigned char>(value.front())) != 0 ||
                                           std::isspace(static_cast<unsigned char>(value.back())) != 0));
    if (!needs) return std::string(value);
    std::string out = "{";
    for (char c : value) {
        out.push_back(c);
        if (c == '}') out.push_back('}');
    }
    out.push_back('}');
    return out;
}

std::string redactOdbc(std::string_view odbc) {
    std::string out;
    std::size_t pos = 0;
    while (pos < odbc.size()) {
        std::size_t end = pos;
        const auto eq = odbc.find('=', pos);
        std::string key(odbc.substr(pos, eq == std::string_view::npos ? std::string_view::npos : eq - pos));
        // Values in braces may contain ';'.
        if (eq != std::string_view::npos && eq + 1 < odbc.size() && odbc[eq + 1] == '{') {
            end = eq + 2;
            while (end < odbc.size()) {
                if (odbc[end] == '}') {
                    if (end + 1 < odbc.size() && odbc[end + 1] == '}') { end += 2; continue; }
                    ++end;
                    break;
                }
                ++end;
            }
            end = odbc.find(';', end);
        } else {
            end = odbc.find(';', pos);
        }
        const std::string attribute(odbc.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos));
        const std::string lower_key = Poco::toLower(Poco::trim(key));
        if (eq != std::string_view::npos && (lower_key == "pwd" || lower_key == "password")) {
            out += key + "=***";
        } else {
            out += attribute;
        }
        if (end == std::string_view::npos) break;
        out.push_back(';');
        pos = end + 1;
    }
    return out;
}

ConnectionSpec parseConnectionString(std::string_view text, const ConnectionOptions& options) {
    if (text.empty()) throw UsageError("connection string is empty; use sqlite:PATH, postgresql://USER@HOST:PORT/DB, "
                                       "mariadb://USER@HOST:PORT/DB, DSN=NAME or an ODBC connection string");
    ConnectionSpec spec;
    const std::string timeout = std::to_string(options.timeout_ms);
    const std::string login_timeout = std::to_string(std::max(1, options.timeout_ms / 1000));

    if (text.starts_with("sqlite:")) {
        std::string path(text.substr(7));
        if (path.starts_with("//")) path = path.substr(2);  // tolerate sqlite://PATH
        if (path.empty()) bad(text, "no database file after 'sqlite:'");
        if (path.find_first_of(";{}") != std::string::npos) bad(text, "the path must not contain ';', '{' or '}'");
        spec.backend = Backend::kSQLite;
        spec.display = std::string(text);
        spec.database = path;
        // BigInt: 64-bit integers (money in minor units); FKSupport: enforce foreign keys; WAL: readers do not
        // block the writer; Timeout: wait this long on a locked database before reporting SQLITE_BUSY.
        // StepAPI=0: with 1, a query executed again after a partial read resumes where the read stopped.
        append(spec.odbc, "Driver", "SQLite3");
        append(spec.odbc, "Database", path);
        if (options.sqlite_synchronous != "full" && options.sqlite_synchronous != "normal") {
            throw UsageError("db.sqlite.synchronous = '" + options.sqlite_synchronous + "': expected full or normal");
        }
        if (options.sqlite_checkpoint != "background" && options.sqlite_checkpoint != "commit") {
            throw UsageError("db.sqlite.checkpoint = '" + options.sqlite_checkpoint +
                             "': expected background or commit");
        }
        spec.sqlite_background_checkpoint = options.sqlite_checkpoint == "background";
        spec.odbc += "BigInt=1;FKSupport=1;JournalMode=WAL;StepAPI=0;NoWCHAR=1;";
        spec.odbc += options.sqlite_synchronous == "full" ? "SyncPragma=FULL;" : "SyncPragma=NORMAL;";
        append(spec.odbc, "Timeout", timeout);
        return spec;
    }

    const auto scheme_end = text.find("://");
    if (scheme_end != std::string_view::npos && text.substr(0, scheme_end).find('=') == std::string_view::npos) {
        Url url = parseUrl(text);
        spec.display = std::string(text);
        spec.database = url.database;
        if (url.scheme == "postgresql" || url.scheme == "postgres") {
            spec.backend = Backend::kPostgreSQL;
            append(spec.odbc, "Driver", "PostgreSQL Unicode");
            append(spec.odbc, "Server", url.host);
            append(spec.odbc, "Port", std::to_string(url.port != 0 ? url.port : 5432));
            append(spec.odbc, "Database", url.database);
            if (!url.user.empty()) append(spec.odbc, "Uid", url.user);
            // CommLog/Debug: Debian registers the driver with a log file per connection in /tmp.
            // MaxVarcharSize/MaxLongVarcharSize: strings over 255 characters fail or truncate otherwise.
            // UseServerSidePrepare: one parse per prepared statement. Protocol=7.4-1: an error rolls back the
            // whole transaction, so nothing of a failed unit of work can be committed.
            spec.odbc += "CommLog=0;Debug=0;MaxVarcharSize=65535;MaxLongVarcharSize=1073741823;TextAsLongVarchar=1;"
                         "UnknownsAsLongVarchar=1;UseServerSidePrepare=1;Protocol=7.4-1;ByteaAsLongVarBinary=1;"
                         "BoolsAsChar=0;";
            append(spec.odbc, "ConnSettings", "SET application_name='keel'");
            append(spec.odbc, "LoginTimeout", login_timeout);
        } else if (url.scheme == "mariadb" || url.scheme == "mysql") {
            spec.backend = Backend::kMariaDB;
            append(spec.odbc, "Driver", "MariaDB Unicode");
            append(spec.odbc, "Server", url.host);
            append(spec.odbc, "Port", std::to_string(url.port != 0 ? url.port : 3306));
            append(spec.odbc, "Database", url.database);
            if (!url.user.empty()) append(spec.odbc, "Uid", url.user);
            // Option=2 (FOUND_ROWS): an UPDATE reports matched rows like the other backends, so a guarded
            // update that matched but changed nothing is still seen as matched. utf8mb4: all of Unicode.
            spec.odbc += "Option=2;CharSet=utf8mb4;";
            append(spec.odbc, "ConnectTimeout", login_timeout);
        } else {
            bad(text, "unknown scheme '" + url.scheme + "' (use postgresql:// or mariadb://)");
        }
        for (const auto& [key, value] : url.params) append(spec.odbc, key, value);
        if (options.password) append(spec.odbc, "Pwd", *options.password);
        return spec;
    }

    if (text.find('=') != std::string_view::npos) {
        // DSN=NAME or a raw ODBC string: passed through; the backend is detected once connected.
        spec.backend = Backend::kUnknown;
        spec.odbc = std::string(text);
        if (!spec.odbc.empty() && spec.odbc.back() != ';') spec.odbc.push_back(';');
        spec.display = redactOdbc(text);
        const std::string lower = Poco::toLower(std::string(text));
        if (lower.find("sqlite") != std::string::npos) spec.backend = Backend::kSQLite;
        else if (lower.find("postgres") != std::string::npos) spec.backend = Backend::kPostgreSQL;
        else if (lower.find("mariadb") != std::string::npos || lower.find("mysql") != std::string::npos) spec.backend = Backend::kMariaDB;
        if (options.password && !hasAttribute(spec.odbc, "pwd") && !hasAttribute(spec.odbc, "password")) {
            append(spec.odbc, "PWD", *options.password);
        }
        return spec;
    }

    bad(text, "not a connection string; use sqlite:PATH, postgresql://USER@HOST:PORT/DB, "
              "mariadb://USER@HOST:PORT/DB, DSN=NAME or an ODBC connection string (Driver=...;...)");
}

}  // namespace keel::db
