#include "http_recorder.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/StreamCopier.h>

namespace keel::test {

class RecorderHandler : public Poco::Net::HTTPRequestHandler {
public:
    explicit RecorderHandler(HttpRecorder& owner) : owner_(owner) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        RecordedRequest r;
        r.method = request.getMethod();
        r.path = request.getURI();
        for (const auto& [name, value] : request) r.headers[name] = value;
        Poco::StreamCopier::copyToString(request.stream(), r.body);
        const CannedResponse answer = owner_.handle(std::move(r));
        response.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(answer.status));
        response.setContentType("application/json");
        response.setContentLength(static_cast<std::streamsize>(answer.body.size()));
        response.send() << answer.body;
    }

private:
    HttpRecorder& owner_;
};

namespace {

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    explicit Factory(HttpRecorder& owner) : owner_(owner) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new RecorderHandler(owner_);
    }

private:
    HttpRecorder& owner_;
};

}  // namespace

HttpRecorder::HttpRecorder(const std::string& certificate_file, const std::string& key_file)
    : tls_(!certificate_file.empty()) {
    Poco::Net::ServerSocket socket;
    if (tls_) {
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, key_file,
                                                                 certificate_file, "", Poco::Net::Context::VERIFY_NONE);
        socket = Poco::Net::SecureServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0), 64, context);
    } else {
        socket = Poco::Net::ServerSocket(Poco::Net::SocketAddress("127.0.0.1", 0));
    }
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
}

HttpRecorder::~HttpRecorder() {
    server_->stopAll(true);
}

std::string HttpRecorder::url(const std::string& path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpRecorder::setResponder(Responder responder) {
    std::lock_guard<std::mutex> lock(mutex_);
    responder_ = std::move(responder);
}

std::vector<RecordedRequest> HttpRecorder::requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
}

std::size_t HttpRecorder::count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
}

void HttpRecorder::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
}

CannedResponse HttpRecorder::handle(RecordedRequest request) {
    Responder responder;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        responder = responder_;
    }
    const CannedResponse answer = responder ? responder(request) : CannedResponse{};
    request.answered = answer.status;
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(std::move(request));
    return answer;
}

}  // namespace keel::test
