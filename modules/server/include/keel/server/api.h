#pragma once
// keeld's REST API under /api/v1: JSON over HTTP, authenticated with API keys (core/auth), each route granted to
// roles. Handlers are thin: they read the request, call the same app::Services the `keel` command uses, and write
// JSON. Errors leave every handler as exceptions or Problems and become HTTP statuses in one place (api.cpp).

#include "keel/app/edi_exchange.h"
#include "keel/app/services.h"
#include "keel/auth/api_keys.h"
#include "keel/db/commit_group.h"
#include "keel/db/database.h"
#include "keel/kernel/error.h"
#include "keel/server/metrics.h"
#include "keel/server/router.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/Object.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace keel::server {

/// server.* settings of the API.
struct ApiSettings {
    std::size_t max_body_bytes = 1024 * 1024;  ///< server.max_body_bytes: larger bodies get 413 unread
    app::EdiSettings edi;                      ///< edi.* (EDI uploads with ?partner=)
    /// server.auth_cache_seconds: how long keeld trusts a key it authenticated before asking the database again
    /// (0: every request asks). A key revoked with `keel apikey revoke` is refused by running keelds within this time.
    int auth_cache_seconds = 10;
    /// server.group_commit: on SQLite, at most this many order creations that arrive while another commits share the
    /// next transaction and its one fsync (db::CommitGroup), and as many changes of orders and shipments (hold,
    /// release, cancel, allocate, shipment release, confirm, delivery) in a group of their own; 1 commits each alone.
    /// Ignored on the server backends.
    std::size_t group_commit = 32;

    /// Reads server.max_body_bytes, server.auth_cache_seconds, server.group_commit and edi.*; throws
    /// InfrastructureError naming a key that is malformed.
    static ApiSettings fromConfig(const Poco::Util::AbstractConfiguration& config);
};

/// An error the API answers with: status, a stable code, a message and, when one input is at fault, its field.
class ApiError : public std::runtime_error {
public:
    ApiError(int status, std::string code, const std::string& message, std::string field = {})
        : std::runtime_error(message), status_(status), code_(std::move(code)), field_(std::move(field)) {}
    int status() const { return status_; }
    const std::string& code() const { return code_; }
    const std::string& field() const { return field_; }

private:
    int status_;
    std::string code_;
    std::string field_;
};

/// The unit-of-work options of a handler that only reads (GET routes, authentication): on SQLite a snapshot that never
/// waits for the writer lock, so lookups run side by side with each other and with a writer.
extern const db::RunOptions kReadOnlyUnit;
/// A one-query lookup (RunOptions::lookup): available-to-promise, an API key. On PostgreSQL no BEGIN and COMMIT.
extern const db::RunOptions kLookupUnit;

/// The HTTP status of a keel error (usage 400, rejected 422, not found 404, conflict 409, infrastructure 503).
int statusOf(ExitCode code);
/// The ApiError for a business Problem (its field kept).
ApiError apiError(const Problem& problem);

/// One request as a handler sees it.
struct Call {
    Poco::Net::HTTPServerRequest& request;
    std::map<std::string, std::string> params;  ///< {name} segments of the route pattern
    std::vector<std::pair<std::string, std::string>> query;
    std::optional<auth::ApiKey> key;  ///< the caller (absent only on unauthenticated routes)
    std::string body;                 ///< the raw body, for routes that take one
    Poco::JSON::Object::Ptr json;     ///< the parsed body of JSON routes (an object)

    const std::string& param(const std::string& name) const;
    std::optional<std::string> queryValue(const std::string& name) const;
    /// A whole-number query parameter within [min, max], or `fallback`; 400 naming the parameter otherwise.
    std::int64_t queryInteger(const std::string& name, std::int64_t fallback, std::int64_t min, std::int64_t max) const;
    /// Who acts, for the records the services write: "api:<key name>".
    std::string actorName() const;
};

/// What a handler answers: a status and a JSON body, or raw text with its content type.
struct Reply {
    int status = 200;
    Poco::Dynamic::Var json;  ///< a Poco::JSON::Object (or Array)
    std::string text;         ///< used when `content_type` is set
    std::string content_type;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Keys authenticated recently, by the SHA-256 of the presented token, each trusted until its expiry. Only successful
/// authentications are kept (a new key works at once); at most `capacity` entries, the expired ones dropped first and
/// everything when that is not enough. Thread-safe.
class AuthCache {
public:
    AuthCache(std::chrono::seconds ttl, std::size_t capacity = 10000) : ttl_(ttl), capacity_(capacity) {}
    bool enabled() const { return ttl_.count() > 0; }
    std::optional<auth::ApiKey> find(const std::string& token_hash, std::chrono::steady_clock::time_point now);
    void remember(const std::string& token_hash, const auth::ApiKey& key, std::chrono::steady_clock::time_point now);
    std::size_t size();

private:
    struct Entry {
        auth::ApiKey key;
        std::chrono::steady_clock::time_point expires;
    };
    std::chrono::seconds ttl_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
};

/// The API: its route table and the request pipeline (route, authenticate, authorize, read the body, handle,
/// map errors, log writes, record metrics).
class Api {
public:
    Api(db::Database& database, app::Services& services, ApiSettings settings, Metrics& metrics);

    const Router& router() const { return router_; }
    /// Handles a request whose path starts with /api/v1.
    void handle(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response);

private:
    void addRoutes();        // api_routes.cpp
    void addReportRoutes();  // api_reports.cpp: whoami and the dashboard's reports
    /// Authenticates, authorizes, reads the body and runs the handler; `key_text` names the caller's key for the log.
    Reply dispatch(Poco::Net::HTTPServerRequest& request, const RouteMatch& match, std::string& key_text);

    db::Database& database_;
    app::Services& services_;
    ApiSettings settings_;
    Metrics& metrics_;
    Poco::Logger& log_;
    auth::ApiKeys keys_;
    AuthCache auth_cache_;
    db::CommitGroup intake_group_;   ///< POST /orders
    db::CommitGroup changes_group_;  ///< an order's and its shipments' changes (hold ... delivery)
    Router router_;
};

/// Writes a JSON body with the status (and Cache-Control: no-store).
void sendJson(Poco::Net::HTTPServerResponse& response, int status, const Poco::Dynamic::Var& body);
/// Writes the error body {"code","message"[,"field"]}.
void sendError(Poco::Net::HTTPServerResponse& response, int status, const std::string& code, const std::string& message,
               const std::string& field = {});

/// docs/openapi.json as built into keeld (generated at build time from the source tree's file).
const std::string& openApiDocument();

}  // namespace keel::server
