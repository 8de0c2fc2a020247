#include "keel/server/health.h"

#include "keel/db/migrations.h"
#include "keel/kernel/version.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <algorithm>
#include <sstream>

namespace keel::server {

namespace {

void sendJson(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
              const Poco::JSON::Object& body) {
    std::ostringstream text;
    body.stringify(text);
    const std::string payload = text.str() + "\n";
    response.setStatus(status);
    response.setContentType("application/json");
    response.set("Cache-Control", "no-store");
    response.setContentLength(static_cast<std::streamsize>(payload.size()));
    response.send() << payload;
}

void sendError(Poco::Net::HTTPServerResponse& response, Poco::Net::HTTPResponse::HTTPStatus status,
               const std::string& code, const std::string& message) {
    Poco::JSON::Object body;
    body.set("code", code);
    body.set("message", message);
    sendJson(response, status, body);
}

class HealthHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        Poco::JSON::Object body;
        body.set("status", "ok");
        body.set("version", std::string(versionString()));
        sendJson(response, Poco::Net::HTTPResponse::HTTP_OK, body);
    }
};

class ReadyHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ReadyHandler(Readiness& readiness) : readiness_(readiness) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        std::string reason;
        Poco::JSON::Object body;
        if (readiness_.check(reason)) {
            body.set("status", "ready");
            sendJson(response, Poco::Net::HTTPResponse::HTTP_OK, body);
        } else {
            body.set("status", "not ready");
            body.set("reason", reason);
            sendJson(response, Poco::Net::HTTPResponse::HTTP_SERVICE_UNAVAILABLE, body);
        }
    }

private:
    Readiness& readiness_;
};

class ErrorHandler : public Poco::Net::HTTPRequestHandler {
public:
    ErrorHandler(Poco::Net::HTTPResponse::HTTPStatus status, std::string code, std::string message)
        : status_(status), code_(std::move(code)), message_(std::move(message)) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        if (status_ == Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED) response.set("Allow", "GET, HEAD");
        sendError(response, status_, code_, message_);
    }

private:
    Poco::Net::HTTPResponse::HTTPStatus status_;
    std::string code_;
    std::string message_;
};

}  // namespace

const std::vector<std::string>& routes() {
    static const std::vector<std::string> paths = {"/healthz", "/readyz"};
    return paths;
}

bool Readiness::check(std::string& reason) {
    std::string error;
    if (!database_.ping(&error)) {
        reason = "database unreachable: " + error;
        return false;
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (!schema_ok_) {
        try {
            db::Migrator(database_).requireCurrent();
            schema_ok_ = true;
        } catch (const std::exception& e) {
            reason = e.what();
            return false;
        }
    }
    return true;
}

Poco::Net::HTTPRequestHandler* RequestHandlerFactory::createRequestHandler(const Poco::Net::HTTPServerRequest& request) {
    const std::string path = request.getURI().substr(0, request.getURI().find('?'));
    const bool known = std::find(routes().begin(), routes().end(), path) != routes().end();
    if (!known) {
        return new ErrorHandler(Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "not_found", "no route for " + path);
    }
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET && request.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) {
        return new ErrorHandler(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                request.getMethod() + " is not allowed on " + path);
    }
    if (path == "/healthz") return new HealthHandler;
    return new ReadyHandler(readiness_);
}

}  // namespace keel::server
