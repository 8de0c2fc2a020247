#pragma once
// Health endpoints: /healthz says the process serves requests, /readyz says it can do useful work (the
// database answers and its schema is the one this keeld needs).

#include "keel/db/database.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace keel::server {

/// Readiness of the database, re-checked on every /readyz (a cheap query); the schema check is remembered once
/// it has passed.
class Readiness {
public:
    explicit Readiness(db::Database& database) : database_(database) {}
    /// True when ready; otherwise `reason` says why.
    bool check(std::string& reason);

private:
    db::Database& database_;
    std::mutex mutex_;
    bool schema_ok_ = false;
};

/// The unauthenticated GET paths keeld serves outside /api/v1 (docs/openapi.json documents these and every API
/// route; a test keeps them in step).
const std::vector<std::string>& routes();

class Api;

/// Routes requests: GET /healthz, /readyz and /metrics; everything under /api/v1 to the API; /ui to the dashboard's
/// files (ui.h); JSON 404/405 for the rest. `api` and `metrics_text` may be empty (then /api/v1 is 404 and /metrics
/// 503).
class RequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit RequestHandlerFactory(Readiness& readiness, Api* api = nullptr,
                                   std::function<std::string()> metrics_text = {})
        : readiness_(readiness), api_(api), metrics_text_(std::move(metrics_text)) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
    Readiness& readiness_;
    Api* api_;
    std::function<std::string()> metrics_text_;
};

}  // namespace keel::server
