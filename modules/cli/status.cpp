#include "status.h"

#include "keel/kernel/clock.h"
#include "keel/kernel/version.h"

#include <Poco/JSON/Array.h>

#include <ostream>

namespace keel::cli {

StatusReport gatherStatus(db::Database& database) {
    StatusReport report;
    report.connection = database.spec().display;
    {
        db::Lease lease = database.acquire();
        report.server = lease->serverInfo();
        report.backend = std::string(db::backendName(lease->backend()));
    }
    report.schema = db::Migrator(database).status();
    return report;
}

Poco::JSON::Object::Ptr statusJson(const StatusReport& report) {
    Poco::JSON::Object::Ptr root(new Poco::JSON::Object);
    root->set("backend", report.backend);
    root->set("connection", report.connection);
    Poco::JSON::Object server;
    server.set("name", report.server.dbms_name);
    server.set("version", report.server.dbms_version);
    root->set("server", server);
    Poco::JSON::Object driver;
    driver.set("name", report.server.driver_name);
    driver.set("version", report.server.driver_version);
    driver.set("odbc_version", report.server.odbc_version);
    root->set("driver", driver);
    Poco::JSON::Object schema;
    schema.set("version", report.schema.current);
    schema.set("latest_known", report.schema.latest_known);
    Poco::JSON::Array pending;
    for (int v : report.schema.pending) pending.add(v);
    schema.set("pending", pending);
    Poco::JSON::Array problems;
    for (const auto& p : report.schema.problems) problems.add(p);
    schema.set("problems", problems);
    root->set("schema", schema);
    root->set("instance_id", report.schema.instance_id);
    Poco::JSON::Object keel;
    keel.set("version", std::string(versionString()));
    keel.set("git", std::string(gitDescribe()));
    root->set("keel", keel);
    return root;
}

void printStatus(std::ostream& out, const StatusReport& report) {
    auto line = [&](const char* label, const std::string& value) {
        out << "  " << label << std::string(12 - std::string(label).size(), ' ') << value << "\n";
    };
    line("backend", report.backend);
    line("connection", report.connection);
    line("server", report.server.dbms_name + " " + report.server.dbms_version);
    line("driver", report.server.driver_name + " " + report.server.driver_version + " (ODBC " +
                       report.server.odbc_version + ")");
    std::string schema = std::to_string(report.schema.current);
    schema += report.schema.current == 0 ? " (empty database)" : "";
    schema += ", this keel knows " + std::to_string(report.schema.latest_known);
    line("schema", schema);
    std::string pending;
    for (int v : report.schema.pending) pending += (pending.empty() ? "" : ", ") + std::to_string(v);
    line("pending", pending.empty() ? "none" : pending + " (run `keel db migrate`)");
    if (!report.schema.instance_id.empty()) line("instance", report.schema.instance_id);
    if (!report.schema.applied.empty()) {
        const auto& last = report.schema.applied.back();
        line("migrated", formatIso8601(last.applied_at) + " by keel " + last.keel_version);
    }
    for (const auto& p : report.schema.problems) line("PROBLEM", p);
    line("keel", std::string(versionString()) + " (" + std::string(gitDescribe()) + ")");
}

}  // namespace keel::cli
