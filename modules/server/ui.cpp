#include "keel/server/ui.h"

#include "keel/kernel/hash.h"
#include "keel/server/api.h"

#include <Poco/Net/HTTPServerResponse.h>

namespace keel::server {

namespace {

// Each file's ETag, computed once: the files cannot change while keeld runs.
const std::map<std::string, std::string>& etags() {
    static const std::map<std::string, std::string> tags = [] {
        std::map<std::string, std::string> out;
        for (const auto& [name, body] : uiFiles()) out[name] = "\"" + sha256Hex(body).substr(0, 32) + "\"";
        return out;
    }();
    return tags;
}

class UiHandler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        const std::string path = request.getURI().substr(0, request.getURI().find('?'));
        if (request.getMethod() != Poco::Net::HTTPRequest::HTTP_GET &&
            request.getMethod() != Poco::Net::HTTPRequest::HTTP_HEAD) {
            response.set("Allow", "GET, HEAD");
            sendError(response, 405, "method_not_allowed", request.getMethod() + " is not allowed on " + path);
            return;
        }
        if (path == "/ui") {
            // Relative links in index.html (app.js, app.css) resolve against /ui/, not /.
            response.set("Location", "/ui/");
            response.setStatus(Poco::Net::HTTPResponse::HTTP_MOVED_PERMANENTLY);
            response.setContentLength(0);
            response.send();
            return;
        }
        // Only the exact names of the compiled-in files exist: "..", "%2e%2e", "a/b" and absolute paths are names
        // no file has, so nothing outside the dashboard can be reached.
        const std::string name = path == "/ui/" ? "index.html" : path.substr(4);
        const auto file = uiFiles().find(name);
        if (file == uiFiles().end()) {
            sendError(response, 404, "not_found", "the dashboard has no file " + path + " (open /ui/)");
            return;
        }
        const std::string& etag = etags().at(name);
        // no-cache, not max-age: the names carry no version, so a browser revalidates (a cheap 304) and an upgraded
        // keeld's files are seen at once.
        response.set("Cache-Control", "no-cache");
        response.set("ETag", etag);
        response.set("X-Content-Type-Options", "nosniff");
        response.set("Content-Security-Policy",
                     "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                     "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        response.set("Referrer-Policy", "no-referrer");
        if (request.get("If-None-Match", "") == etag) {
            response.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_MODIFIED);
            response.setContentLength(0);
            response.send();
            return;
        }
        response.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
        response.setContentType(uiContentType(name));
        response.setContentLength(static_cast<std::streamsize>(file->second.size()));
        auto& out = response.send();
        if (request.getMethod() == Poco::Net::HTTPRequest::HTTP_GET) out << file->second;
    }
};

}  // namespace

std::string uiContentType(const std::string& name) {
    const auto dot = name.rfind('.');
    const std::string ext = dot == std::string::npos ? "" : name.substr(dot + 1);
    if (ext == "html") return "text/html; charset=utf-8";
    if (ext == "css") return "text/css; charset=utf-8";
    if (ext == "js") return "text/javascript; charset=utf-8";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "json") return "application/json";
    if (ext == "ico") return "image/x-icon";
    if (ext == "png") return "image/png";
    return "application/octet-stream";
}

bool isUiPath(const std::string& path) {
    return path == "/ui" || path.rfind("/ui/", 0) == 0;
}

const std::vector<std::string>& uiRoutes() {
    static const std::vector<std::string> paths = {"/ui", "/ui/{file}"};
    return paths;
}

Poco::Net::HTTPRequestHandler* createUiHandler(const Poco::Net::HTTPServerRequest&) {
    return new UiHandler;
}

}  // namespace keel::server
