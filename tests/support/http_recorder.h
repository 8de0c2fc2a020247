#pragma once
// A local HTTP server for tests that stands in for a service Keel calls (a webhook receiver, later marketplace
// APIs): it records every request and answers through a test-supplied function, on a free loopback port.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace Poco::Net {
class HTTPServer;
}

namespace keel::test {

struct RecordedRequest {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  ///< names as sent
    std::string body;
    int answered = 0;  ///< the status the server answered with
};

struct CannedResponse {
    int status = 200;
    std::string body;
};

class HttpRecorder {
public:
    using Responder = std::function<CannedResponse(const RecordedRequest&)>;

    /// Starts listening on 127.0.0.1 at a free port; answers 200 with an empty body until setResponder(). With a
    /// certificate and key (PEM files) it speaks HTTPS.
    explicit HttpRecorder(const std::string& certificate_file = {}, const std::string& key_file = {});
    ~HttpRecorder();
    HttpRecorder(const HttpRecorder&) = delete;
    HttpRecorder& operator=(const HttpRecorder&) = delete;

    int port() const { return port_; }
    std::string url(const std::string& path = "/") const;
    void setResponder(Responder responder);
    std::vector<RecordedRequest> requests() const;
    std::size_t count() const;
    void clear();

private:
    friend class RecorderHandler;
    CannedResponse handle(RecordedRequest request);

    mutable std::mutex mutex_;
    std::vector<RecordedRequest> requests_;
    Responder responder_;
    int port_ = 0;
    bool tls_ = false;
    std::unique_ptr<Poco::Net::HTTPServer> server_;
};

}  // namespace keel::test
