#pragma once
// keeld's REST routes: one table of (method, path pattern, roles, handler), matched segment by segment. A pattern
// segment `{name}` matches any one non-empty segment and hands it (percent-decoded) to the handler.

#include "keel/auth/api_keys.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace keel::server {

struct Call;
struct Reply;

/// What a route's request body must be.
enum class BodyKind {
    kNone,  ///< no body is read
    kJson,  ///< application/json
    kX12,   ///< application/edi-x12 (or text/plain): raw interchange bytes
};

/// One row of the route table.
struct Route {
    std::string method;             ///< GET, POST, PUT
    std::string pattern;            ///< /api/v1/orders/{id}/hold
    std::vector<auth::Role> roles;  ///< who may call it; empty with `authenticated` false: anyone
    bool authenticated = true;      ///< false: served without an API key (openapi.json)
    BodyKind body = BodyKind::kNone;
    std::string summary;  ///< one line, for logs and documentation checks
    std::function<Reply(Call&)> handler;
};

/// The outcome of matching a request against the table.
struct RouteMatch {
    const Route* route = nullptr;               ///< null: nothing matched (see allowed)
    std::map<std::string, std::string> params;  ///< {name} -> decoded segment
    std::vector<std::string> allowed;           ///< methods the path has, when it matched only by path (405)
};

class Router {
public:
    void add(Route route);
    /// The route for `method` and `path` (no query string), or the methods the path allows, or nothing (404).
    RouteMatch match(const std::string& method, const std::string& path) const;
    const std::vector<Route>& routes() const { return routes_; }

private:
    std::vector<Route> routes_;
    std::vector<std::vector<std::string>> segments_;  ///< each route's pattern, split
};

/// Splits "/a/b/c" into {"a","b","c"}; an empty path gives {}.
std::vector<std::string> splitPath(const std::string& path);

/// "admin, operations" for messages and documentation.
std::string roleList(const std::vector<auth::Role>& roles);

}  // namespace keel::server
