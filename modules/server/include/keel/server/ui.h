#pragma once
// The operations dashboard under /ui: static files from modules/server/ui/, compiled into keeld at build time (so
// the build tree and an installed package serve the same bytes). The pages read everything from /api/v1 with the
// API key the user types in; the files themselves need no key.

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>

#include <map>
#include <string>
#include <vector>

namespace keel::server {

/// The dashboard's files by name ("index.html", "app.js"), as built into keeld (generated: ui_embedded.cpp.in).
const std::map<std::string, std::string>& uiFiles();

/// The Content-Type keeld sends for a file name (by extension; application/octet-stream when unknown).
std::string uiContentType(const std::string& name);

/// True for /ui and everything under /ui/.
bool isUiPath(const std::string& path);

/// The path patterns the dashboard adds to keeld (documented in docs/openapi.json): /ui and /ui/{file}.
const std::vector<std::string>& uiRoutes();

/// The handler of a request whose path isUiPath: GET/HEAD of a compiled-in file (ETag, Cache-Control: no-cache),
/// /ui redirected to /ui/, 404 for any other name (nothing is read from disk, so no path can escape), 405 for other
/// methods.
Poco::Net::HTTPRequestHandler* createUiHandler(const Poco::Net::HTTPServerRequest& request);

}  // namespace keel::server
