#include "keel/server/api.h"

#include "keel/db/error.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/logging.h"
#include "keel/kernel/utf8.h"

#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/NumberParser.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <istream>
#include <sstream>
#include <string_view>

namespace keel::server {

namespace {

std::string mediaType(const std::string& content_type) {
    return Poco::toLower(Poco::trim(content_type.substr(0, content_type.find(';'))));
}

bool acceptsBody(BodyKind kind, const std::string& media_type) {
    switch (kind) {
        case BodyKind::kNone:
            return true;
        case BodyKind::kJson:
            return media_type == "application/json";
        case BodyKind::kX12:
            return media_type == "application/edi-x12" || media_type == "text/plain" ||
                   media_type == "application/octet-stream";
    }
    return false;
}

const char* expectedType(BodyKind kind) {
    return kind == BodyKind::kX12 ? "application/edi-x12 (or text/plain)" : "application/json";
}

/// The presented API key: `Authorization: Bearer KEY`, else `X-Api-Key: KEY`; empty when neither is there.
std::string presentedToken(const Poco::Net::HTTPServerRequest& request) {
    const std::string authorization = request.get("Authorization", "");
    if (!authorization.empty()) {
        const auto space = authorization.find(' ');
        if (space != std::string::npos && Poco::icompare(authorization.substr(0, space), "bearer") == 0) {
            return Poco::trim(authorization.substr(space + 1));
        }
        return {};
    }
    return Poco::trim(request.get("X-Api-Key", ""));
}

/// Reads at most `limit` bytes; more than that is 413 (the rest is left unread and the connection closed).
std::string readBody(std::istream& in, std::size_t limit) {
    std::string body;
    char buffer[8192];
    while (in) {
        in.read(buffer, sizeof buffer);
        const auto got = static_cast<std::size_t>(in.gcount());
        if (body.size() + got > limit) {
            throw ApiError(413, "payload_too_large",
                           "the request body is over " + std::to_string(limit) + " bytes (server.max_body_bytes)");
        }
        body.append(buffer, got);
    }
    return body;
}

// POCO's JSON parser says what is wrong but not where. On that (rare) path this scanner finds the first byte that
// cannot continue a JSON text, so the error can name its line and column.
class JsonScanner {
public:
    explicit JsonScanner(std::string_view text) : text_(text) {}

    /// The offset of the first byte that breaks the syntax; nullopt when the text is one valid JSON value.
    std::optional<std::size_t> errorOffset() {
        space();
        if (!value(0)) return pos_;
        space();
        if (pos_ != text_.size()) return pos_;
        return std::nullopt;
    }

private:
    static constexpr int kMaxDepth = 1000;

    bool more() const { return pos_ < text_.size(); }
    char peek() const { return text_[pos_]; }
    void space() {
        while (more() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos_;
    }
    bool expect(char c) {
        if (!more() || peek() != c) return false;
        ++pos_;
        return true;
    }
    bool value(int depth) {
        if (!more() || depth > kMaxDepth) return false;
        switch (peek()) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return string();
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                return number();
        }
    }
    bool object(int depth) {
        ++pos_;  // {
        space();
        if (expect('}')) return true;
        for (;;) {
            space();
            if (!more() || peek() != '"' || !string()) return false;
            space();
            if (!expect(':')) return false;
            space();
            if (!value(depth)) return false;
            space();
            if (expect('}')) return true;
            if (!expect(',')) return false;
        }
    }
    bool array(int depth) {
        ++pos_;  // [
        space();
        if (expect(']')) return true;
        for (;;) {
            space();
            if (!value(depth)) return false;
            space();
            if (expect(']')) return true;
            if (!expect(',')) return false;
        }
    }
    bool string() {
        ++pos_;  // "
        while (more()) {
            const auto c = static_cast<unsigned char>(peek());
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return false;
            if (c == '\\') {
                ++pos_;
                if (!more()) return false;
                const char e = peek();
                if (e == 'u') {
                    for (int i = 0; i < 4; ++i) {
                        ++pos_;
                        if (!more() || !std::isxdigit(static_cast<unsigned char>(peek()))) return false;
                    }
                } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
                    return false;
                }
            }
            ++pos_;
        }
        return false;
    }
    bool digits() {
        const std::size_t start = pos_;
        while (more() && std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
        return pos_ > start;
    }
    bool number() {
        expect('-');
        if (expect('0')) {
            if (more() && std::isdigit(static_cast<unsigned char>(peek()))) return false;
        } else if (!digits()) {
            return false;
        }
        if (expect('.') && !digits()) return false;
        if (more() && (peek() == 'e' || peek() == 'E')) {
            ++pos_;
            if (more() && (peek() == '+' || peek() == '-')) ++pos_;
            if (!digits()) return false;
        }
        return true;
    }
    bool literal(std::string_view word) {
        for (const char c : word) {
            if (!expect(c)) return false;
        }
        return true;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

/// " at line L, column C" (1-based; columns count bytes) of the first syntax error, or "" when none is found.
std::string jsonErrorPlace(std::string_view text) {
    const auto offset = JsonScanner(text).errorOffset();
    if (!offset) return {};
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < *offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            line_start = i + 1;
        }
    }
    return " at line " + std::to_string(line) + ", column " + std::to_string(*offset - line_start + 1) +
           (*offset >= text.size() ? " (where the body ends early)" : "");
}

Poco::JSON::Object::Ptr parseJsonObject(const std::string& body) {
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        throw ApiError(400, "malformed_json", "the request body is empty; a JSON object is expected");
    }
    Poco::Dynamic::Var parsed;
    try {
        Poco::JSON::Parser parser;
        parsed = parser.parse(body);
    } catch (const Poco::Exception& e) {
        throw ApiError(400, "malformed_json",
                       "the request body is not valid JSON" + jsonErrorPlace(body) + ": " + e.message());
    }
    if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
        throw ApiError(400, "malformed_json", "the request body must be a JSON object");
    }
    return parsed.extract<Poco::JSON::Object::Ptr>();
}

/// `text` with every byte that is not part of a UTF-8 character written as \xNN: messages quote input and POCO's own
/// messages quote the offending byte, and the JSON answer must stay valid UTF-8.
std::string validUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const auto decoded = utf8::decode(text, i);
        if (decoded.length == 0) {
            static const char* kHex = "0123456789abcdef";
            const auto byte = static_cast<unsigned char>(text[i]);
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
            ++i;
        } else {
            out.append(text.substr(i, decoded.length));
            i += decoded.length;
        }
    }
    return out;
}

std::string firstLine(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

}  // namespace

ApiSettings ApiSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
    ApiSettings settings;
    const std::string text = config.getString("server.max_body_bytes", std::to_string(settings.max_body_bytes));
    Poco::UInt64 value = 0;
    if (!Poco::NumberParser::tryParseUnsigned64(text, value) || value == 0) {
        throw InfrastructureError("configuration: server.max_body_bytes must be a positive number of bytes, not '" +
                                  text + "'");
    }
    settings.max_body_bytes = static_cast<std::size_t>(value);
    const std::string cache_text =
        config.getString("server.auth_cache_seconds", std::to_string(settings.auth_cache_seconds));
    int cache_seconds = 0;
    if (!Poco::NumberParser::tryParse(cache_text, cache_seconds) || cache_seconds < 0 || cache_seconds > 3600) {
        throw InfrastructureError("configuration: server.auth_cache_seconds must be 0 to 3600 seconds, not '" +
                                  cache_text + "'");
    }
    settings.auth_cache_seconds = cache_seconds;
    const std::string group_text = config.getString("server.group_commit", std::to_string(settings.group_commit));
    int group = 0;
    if (!Poco::NumberParser::tryParse(group_text, group) || group < 1 || group > 1000) {
        throw InfrastructureError("configuration: server.group_commit must be 1 to 1000 orders per commit, not '" +
                                  group_text + "'");
    }
    settings.group_commit = static_cast<std::size_t>(group);
    settings.edi = app::EdiSettings::fromConfig(config);
    return settings;
}

const db::RunOptions kReadOnlyUnit = [] {
    db::RunOptions options;
    options.read_only = true;
    return options;
}();

const db::RunOptions kLookupUnit = [] {
    db::RunOptions options;
    options.lookup = true;
    return options;
}();

int statusOf(ExitCode code) {
    switch (code) {
        case ExitCode::kOk:
            return 200;
        case ExitCode::kUsage:
            return 400;
        case ExitCode::kRejected:
            return 422;
        case ExitCode::kNotFound:
            return 404;
        case ExitCode::kConflict:
            return 409;
        case ExitCode::kInfrastructure:
            return 503;
    }
    return 500;
}

ApiError apiError(const Problem& problem) {
    return ApiError(statusOf(problem.code), std::string(exitCodeName(problem.code)), problem.message, problem.field);
}

const std::string& Call::param(const std::string& name) const {
    static const std::string empty;
    const auto found = params.find(name);
    return found == params.end() ? empty : found->second;
}

std::optional<std::string> Call::queryValue(const std::string& name) const {
    for (const auto& [query_name, value] : query) {
        if (query_name == name) return value;
    }
    return std::nullopt;
}

std::int64_t Call::queryInteger(const std::string& name, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) const {
    const auto text = queryValue(name);
    if (!text) return fallback;
    Poco::Int64 value = 0;
    if (!Poco::NumberParser::tryParse64(*text, value) || value < min || value > max) {
        throw ApiError(400, "bad_parameter",
                       "query parameter '" + name + "' must be a whole number from " + std::to_string(min) + " to " +
                           std::to_string(max) + ", not '" + *text + "'",
                       name);
    }
    return value;
}

// Actor columns hold 64 characters; a key name may have 64 of its own.
std::string Call::actorName() const {
    return key ? ("api:" + key->name).substr(0, 64) : "api";
}

void sendJson(Poco::Net::HTTPServerResponse& response, int status, const Poco::Dynamic::Var& body) {
    std::ostringstream text;
    Poco::JSON::Stringifier::stringify(body, text);
    const std::string payload = text.str() + "\n";
    response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    response.setContentLength(static_cast<std::streamsize>(payload.size()));
    response.send() << payload;
}

void sendError(Poco::Net::HTTPServerResponse& response, int status, const std::string& code, const std::string& message,
               const std::string& field) {
    Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
    body->set("code", code);
    body->set("message", validUtf8(message));
    if (!field.empty()) body->set("field", validUtf8(field));
    sendJson(response, status, body);
}

std::optional<auth::ApiKey> AuthCache::find(const std::string& token_hash, std::chrono::steady_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto found = entries_.find(token_hash);
    if (found == entries_.end()) return std::nullopt;
    if (found->second.expires <= now) {
        entries_.erase(found);
        return std::nullopt;
    }
    return found->second.key;
}

void AuthCache::remember(const std::string& token_hash, const auth::ApiKey& key,
                         std::chrono::steady_clock::time_point now) {
    if (!enabled()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (entries_.size() >= capacity_) {
        std::erase_if(entries_, [now](const auto& entry) { return entry.second.expires <= now; });
        if (entries_.size() >= capacity_) entries_.clear();
    }
    entries_.insert_or_assign(token_hash, Entry{key, now + ttl_});
}

std::size_t AuthCache::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
}

Api::Api(db::Database& database, app::Services& services, ApiSettings settings, Metrics& metrics)
    : database_(database),
      services_(services),
      settings_(settings),
      metrics_(metrics),
      log_(logging::get("server")),
      auth_cache_(std::chrono::seconds(settings.auth_cache_seconds)),
      intake_group_(database, settings.group_commit),
      changes_group_(database, settings.group_commit) {
    metrics_.addCommitGroup("order_intake", intake_group_);
    metrics_.addCommitGroup("order_changes", changes_group_);
    addRoutes();
    addReportRoutes();
}

void Api::handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) {
    const auto started = std::chrono::steady_clock::now();
    Poco::URI uri;
    std::string path;
    RouteMatch match;
    try {
        uri = Poco::URI(request.getURI());
        path = uri.getPath();
    } catch (const Poco::Exception& e) {
        sendError(response, 400, "bad_request", "the request URI cannot be read: " + e.message());
        metrics_.observe("unmatched", 400, 0);
        return;
    }
    match = router_.match(request.getMethod(), path);
    const std::string route_name = match.route ? match.route->method + " " + match.route->pattern : "unmatched";
    int status = 500;
    std::string key_text = "-";
    try {
        if (match.route == nullptr) {
            if (match.allowed.empty()) throw ApiError(404, "not_found", "no route for " + path);
            std::string allow;
            for (const auto& m : match.allowed) allow += (allow.empty() ? "" : ", ") + m;
            response.set("Allow", allow);
            throw ApiError(405, "method_not_allowed",
                           request.getMethod() + " is not allowed on " + path + " (allowed: " + allow + ")");
        }
        Reply reply = dispatch(request, match, key_text);
        for (const auto& [name, value] : reply.headers) response.set(name, value);
        status = reply.status;
        if (!reply.content_type.empty()) {
            response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(reply.status));
            response.setContentType(reply.content_type);
            response.setContentLength(static_cast<std::streamsize>(reply.text.size()));
            response.send() << reply.text;
        } else {
            sendJson(response, reply.status, reply.json);
        }
    } catch (const ApiError& e) {
        status = e.status();
        if (status == 401) response.set("WWW-Authenticate", "Bearer realm=\"keel\"");
        if (status == 413) response.setKeepAlive(false);  // the unread rest of the body must not be parsed as a request
        sendError(response, status, e.code(), e.what(), e.field());
    } catch (const db::DbError& e) {
        // What the database refused, by kind: a row written at the same time (409), an integrity rule (422), or
        // the database being unavailable or too busy after every retry (503, worth retrying).
        std::string code = "infrastructure";
        std::string message = "the database failed: " + firstLine(e.what());
        status = 503;
        if (e.kind() == db::ErrorKind::kUniqueViolation) {
            status = 409;
            code = "conflict";
            message = "the request conflicts with a row written at the same time; read the current state and retry";
        } else if (e.kind() == db::ErrorKind::kConstraint) {
            status = 422;
            code = "rejected";
            message = "the database refused the change: " + firstLine(e.what());
        } else {
            response.set("Retry-After", "1");
        }
        log_.error("%s %s failed (%s): %s", request.getMethod(), path, std::string(db::errorKindName(e.kind())),
                   std::string(e.what()));
        sendError(response, status, code, message);
    } catch (const Error& e) {
        status = statusOf(e.code());
        if (status >= 500) log_.error("%s %s failed: %s", request.getMethod(), path, std::string(e.what()));
        sendError(response, status, std::string(exitCodeName(e.code())),
                  status >= 500 ? firstLine(e.what()) : std::string(e.what()));
    } catch (const Poco::Exception& e) {
        status = 500;
        log_.error("%s %s failed: %s", request.getMethod(), path, e.displayText());
        sendError(response, status, "internal", "internal error: " + e.displayText());
    } catch (const std::exception& e) {
        status = 500;
        log_.error("%s %s failed: %s", request.getMethod(), path, std::string(e.what()));
        sendError(response, status, "internal", "internal error: " + firstLine(e.what()));
    }
    const auto micros =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count();
    metrics_.observe(route_name, status, micros);
    // Every write is on the record with the key that made it (refused ones too).
    if (request.getMethod() != "GET" && request.getMethod() != "HEAD") {
        log_.information("%s %s by key %s -> %d", request.getMethod(), path, key_text, status);
    }
}

Reply Api::dispatch(Poco::Net::HTTPServerRequest& request, const RouteMatch& match, std::string& key_text) {
    const Route& route = *match.route;
    Call call{request, match.params, {}, std::nullopt, {}, nullptr};
    call.query = Poco::URI(request.getURI()).getQueryParameters();
    if (route.authenticated) {
        const std::string token = presentedToken(request);
        if (token.empty()) {
            throw ApiError(401, "unauthenticated",
                           "an API key is required: send 'Authorization: Bearer KEY' or 'X-Api-Key: KEY' "
                           "(create one with `keel apikey create --role ROLE --name NAME`)");
        }
        // A key authenticated in the last server.auth_cache_seconds is trusted without asking the database again.
        // Otherwise it is read in a snapshot, which on SQLite never waits for the writer lock; the use is recorded
        // (at most once a minute) in a writing unit of its own, since a snapshot must not write.
        const auto now = std::chrono::steady_clock::now();
        const std::string token_hash = auth_cache_.enabled() ? sha256Hex(token) : std::string();
        if (auth_cache_.enabled()) call.key = auth_cache_.find(token_hash, now);
        if (!call.key) {
            call.key = database_.run([&](db::UnitOfWork& uow) { return keys_.verify(uow, token); }, kLookupUnit);
            if (call.key && keys_.useIsDue(*call.key)) {
                database_.run([&](db::UnitOfWork& uow) { keys_.recordUse(uow, *call.key); });
            }
            if (call.key) auth_cache_.remember(token_hash, *call.key, now);
        }
        if (!call.key) {
            throw ApiError(401, "unauthenticated", "the API key is unknown or revoked");
        }
        key_text = call.key->name + " (" + call.key->id + ", " + std::string(auth::toString(call.key->role)) + ")";
        if (std::find(route.roles.begin(), route.roles.end(), call.key->role) == route.roles.end()) {
            throw ApiError(403, "forbidden",
                           route.method + " " + route.pattern + " needs one of the roles " + roleList(route.roles) +
                               "; the key '" + call.key->name + "' has the role " +
                               std::string(auth::toString(call.key->role)));
        }
    }
    if (route.body != BodyKind::kNone) {
        const std::string type = mediaType(request.getContentType());
        if (!acceptsBody(route.body, type)) {
            throw ApiError(415, "unsupported_media_type",
                           "the body must be " + std::string(expectedType(route.body)) + ", not '" +
                               (type.empty() ? "(no Content-Type)" : type) + "'");
        }
        // Refused before a byte of it is read when the client says how long it is.
        if (request.hasContentLength() && request.getContentLength64() > 0 &&
            static_cast<std::uint64_t>(request.getContentLength64()) > settings_.max_body_bytes) {
            throw ApiError(413, "payload_too_large",
                           "the request body is " + std::to_string(request.getContentLength64()) + " bytes, over " +
                               std::to_string(settings_.max_body_bytes) + " (server.max_body_bytes)");
        }
        call.body = readBody(request.stream(), settings_.max_body_bytes);
        if (route.body == BodyKind::kJson) call.json = parseJsonObject(call.body);
    }
    return route.handler(call);
}

}  // namespace keel::server
