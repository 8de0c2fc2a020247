#pragma once
// Health endpoints: /healthz says the process serves requests, /readyz says it can do useful work (the
// database answers and its schema is the one this keeld needs).

#include "keel/db/database.h"

#include <Poco/Net/HTTPRequestHandlerFactory.h>

#include <atomic>
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

/// The paths keeld serves (docs/openapi.json documents exactly these; a test keeps the two in step).
const std::vector<std::string>& routes();

/// Routes requests: GET /healthz, GET /readyz; JSON 404/405 for everything else.
class RequestHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit RequestHandlerFactory(Readiness& readiness) : readiness_(readiness) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest& request) override;

private:
    Readiness& readiness_;
};

}  // namespace keel::server
