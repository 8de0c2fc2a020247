#include "keel/server/router.h"

#include <Poco/URI.h>

#include <algorithm>
#include <stdexcept>

namespace keel::server {

std::vector<std::string> splitPath(const std::string& path) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < path.size()) {
        if (path[start] == '/') {
            ++start;
            continue;
        }
        const std::size_t end = std::min(path.find('/', start), path.size());
        out.push_back(path.substr(start, end - start));
        start = end;
    }
    return out;
}

std::string roleList(const std::vector<auth::Role>& roles) {
    std::string out;
    for (const auto role : roles) out += (out.empty() ? "" : ", ") + std::string(auth::toString(role));
    return out;
}

void Router::add(Route route) {
    auto segments = splitPath(route.pattern);
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        if (routes_[i].method == route.method && segments_[i] == segments) {
            throw std::logic_error("route " + route.method + " " + route.pattern + " is in the table twice");
        }
    }
    routes_.push_back(std::move(route));
    segments_.push_back(std::move(segments));
}

RouteMatch Router::match(const std::string& method, const std::string& path) const {
    const auto segments = splitPath(path);
    RouteMatch result;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        const auto& pattern = segments_[i];
        if (pattern.size() != segments.size()) continue;
        std::map<std::string, std::string> params;
        bool same = true;
        for (std::size_t s = 0; s < pattern.size() && same; ++s) {
            const std::string& p = pattern[s];
            if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
                std::string decoded;
                Poco::URI::decode(segments[s], decoded);
                params[p.substr(1, p.size() - 2)] = decoded;
            } else {
                same = p == segments[s];
            }
        }
        if (!same) continue;
        // A literal segment beats a parameter (/orders/exceptions before /orders/{id}) because the table lists
        // literals first; the first route of this method wins.
        if (routes_[i].method == method && result.route == nullptr) {
            result.route = &routes_[i];
            result.params = std::move(params);
        }
        if (std::find(result.allowed.begin(), result.allowed.end(), routes_[i].method) == result.allowed.end()) {
            result.allowed.push_back(routes_[i].method);
        }
    }
    return result;
}

}  // namespace keel::server
