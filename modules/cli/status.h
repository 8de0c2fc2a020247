#pragma once
// The database status report shared by `keel db status`, `keel db migrate` and `keel demo`.

#include "keel/db/database.h"
#include "keel/db/migrations.h"

#include <Poco/JSON/Object.h>

#include <iosfwd>

namespace keel::cli {

/// Everything `keel db status` shows, gathered with one connection.
struct StatusReport {
    std::string backend;
    std::string connection;
    db::ServerInfo server;
    db::SchemaStatus schema;
};

StatusReport gatherStatus(db::Database& database);
Poco::JSON::Object::Ptr statusJson(const StatusReport& report);
void printStatus(std::ostream& out, const StatusReport& report);

}  // namespace keel::cli
