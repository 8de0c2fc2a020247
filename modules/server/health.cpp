#include "keel/server/health.h"

#include "keel/db/migrations.h"
#include "keel/kernel/version.h"
#include "keel/server/api.h"
#include "keel/server/ui.h"

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include <algorithm>
#include <sstream>

namespace keel::server {

namespace {

class HealthHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        body->set("status", "ok");
        body->set("version", std::string(versionString()));
        sendJson(response, 200, body);
    }
};

class ReadyHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ReadyHandler(Readiness& readiness) : readiness_(readiness) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        std::string reason;
        Poco::JSON::Object::Ptr body = new Poco::JSON::Object;
        if (readiness_.check(reason)) {
            body->set("status", "ready");
            sendJson(response, 200, body);
        } else {
            body->set("status", "not ready");
            body->set("reason", reason);
            sendJson(response, 503, body);
        }
    }

private:
    Readiness& readiness_;
};

class MetricsHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit MetricsHandler(std::function<std::string()> text) : text_(std::move(text)) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        if (!text_) {
            sendError(response, 503, "unavailable", "metrics are not collected by this server");
            return;
        }
        const std::string payload = text_();
        response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType("text/plain; version=0.0.4; charset=utf-8");
        response.set("Cache-Control", "no-store");
        response.setContentLength(static_cast<std::streamsize>(payload.size()));
        response.send() << payload;
    }

private:
    std::function<std::string()> text_;
};

class ApiHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit ApiHandler(Api& api) : api_(api) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        api_.handle(request, response);
    }

private:
    Api& api_;
};

class ErrorHandler : public Poco::Net::HTTPRequestHandler {
public:
    ErrorHandler(Poco::Net::HTTPResponse::HTTPStatus status, std::string code, std::string message)
        : status_(status), code_(std::move(code)), message_(std::move(message)) {}
    void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& response) override {
        if (status_ == Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED) response.set("Allow", "GET, HEAD");
        sendError(response, static_cast<int>(status_), code_, message_);
    }

private:
    Poco::Net::HTTPResponse::HTTPStatus status_;
    std::string code_;
    std::string message_;
};

}  // namespace

const std::vector<std::string>& routes() {
    static const std::vector<std::string> paths = {"/healthz", "/readyz", "/metrics"};
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
    if (api_ != nullptr && (path == "/api/v1" || path.rfind("/api/v1/", 0) == 0)) return new ApiHandler(*api_);
    if (isUiPath(path)) return createUiHandler(request);
    const bool known = std::find(routes().begin(), routes().end(), path) != routes().end();
    if (!known) {
        return new ErrorHandler(Poco::Net::HTTPResponse::HTTP_NOT_FOUND, "not_found", "no route for " + path);
    }
    if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET && request.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) {
        return new ErrorHandler(Poco::Net::HTTPResponse::HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                request.getMethod() + " is not allowed on " + path);
    }
    if (path == "/healthz") return new HealthHandler;
    if (path == "/metrics") return new MetricsHandler(metrics_text_);
    return new ReadyHandler(readiness_);
}

}  // namespace keel::server
