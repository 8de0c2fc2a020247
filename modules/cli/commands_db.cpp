// keel version, keel db migrate, keel db status, keel demo.
#include "keel/cli/cli.h"
#include "demo.h"
#include "services.h"
#include "status.h"

#include "keel/db/migrations.h"
#include "keel/kernel/error.h"
#include "keel/kernel/version.h"
#include "keel/server/server.h"

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/Path.h>
#include <Poco/Version.h>

#include <ostream>
#include <sstream>

namespace keel::cli {

namespace {

int versionCommand(Context& context, const std::vector<std::string>& args) {
    expectNoArguments(args, "version");
    const int schema = db::embeddedMigrations().empty() ? 0 : db::embeddedMigrations().back().version;
    const std::string poco = std::to_string(POCO_VERSION >> 24) + "." + std::to_string((POCO_VERSION >> 16) & 0xff) +
                             "." + std::to_string((POCO_VERSION >> 8) & 0xff);
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("keel", std::string(versionString()));
        o.set("git", std::string(gitDescribe()));
        o.set("schema", schema);
        o.set("poco", poco);
        context.writeJson(o);
    } else {
        context.out() << "keel " << versionString() << " (" << gitDescribe() << ")\n"
                      << "schema version " << schema << "\n"
                      << "POCO " << poco << "\n";
    }
    return 0;
}

// SQLite creates the database file but not its directory; say so instead of "unable to open database file".
void checkSqliteDirectory(db::Database& database) {
    if (database.spec().backend != db::Backend::kSQLite) return;
    const Poco::Path path(database.spec().database);
    const Poco::File directory(path.parent().toString().empty() ? "." : path.parent().toString());
    if (!directory.exists()) {
        throw InfrastructureError("SQLite database " + database.spec().database + ": directory " + directory.path() +
                                  " does not exist; create it first");
    }
}

// Applies pending migrations, announcing each (text output), and reports the status with what was applied (with
// --json, as a JSON document unless `json_report` is false: keel demo writes one document of its own).
StatusReport migrateAndReport(Context& context, const std::string& indent, bool json_report = true) {
    db::Database& database = context.database();
    checkSqliteDirectory(database);
    const auto applied = db::Migrator(database).migrate([&](const db::Migration& m) {
        if (!context.json()) context.out() << indent << "applying migration " << m.version << " " << m.name << "\n";
    });
    // An empty ledger gets the default chart of accounts and the configured functional currency.
    Services& s = services(context);
    const bool initialized = database.run([&](db::UnitOfWork& uow) {
        return !s.ledger.functionalCurrency(uow) && s.ledger.initialize(uow, s.functional_currency);
    });
    const StatusReport report = gatherStatus(database);
    if (context.json()) {
        if (!json_report) return report;
        Poco::JSON::Object::Ptr o = statusJson(report);
        Poco::JSON::Array list;
        for (int v : applied) list.add(v);
        o->set("applied", list);
        o->set("ledger_initialized", initialized);
        context.writeJson(*o);
        return report;
    }
    context.out() << indent << (applied.empty() ? "schema already current" : "migrated") << "\n";
    if (initialized) {
        context.out() << indent << "ledger initialized: default chart of accounts, functional currency "
                      << s.functional_currency.code() << "\n";
    }
    context.out() << "\nDatabase status\n";
    printStatus(context.out(), report);
    return report;
}

int migrateCommand(Context& context, const std::vector<std::string>& args) {
    expectNoArguments(args, "db migrate");
    migrateAndReport(context, "");
    return 0;
}

int statusCommand(Context& context, const std::vector<std::string>& args) {
    expectNoArguments(args, "db status");
    db::Database& database = context.database();
    checkSqliteDirectory(database);
    const StatusReport report = gatherStatus(database);
    if (context.json()) {
        context.writeJson(*statusJson(report));
    } else {
        printStatus(context.out(), report);
    }
    return report.schema.problems.empty() ? 0 : static_cast<int>(ExitCode::kInfrastructure);
}

int demoCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "demo", {}, {"once"});
    args.expectPositional(0, 0, "[--once]");
    // SIGINT and SIGTERM end the serving part through sigwait: blocked before any thread (the database pool's
    // timer, the HTTP server's) starts, so that no thread takes the default action and kills the process.
    if (!args.flag("once")) server::blockTerminationSignals();
    if (!context.json()) context.out() << "Keel demo on " << context.database().spec().display << "\n\n";
    const StatusReport report = migrateAndReport(context, "  ", false);
    std::ostringstream versions;
    versions << "Versions: keel " << versionString() << ", schema " << report.schema.current << ", ODBC driver "
             << report.server.driver_name << " " << report.server.driver_version << ", " << report.server.dbms_name
             << " " << report.server.dbms_version;
    return runDemo(context, args.flag("once"), versions.str());
}

}  // namespace

void addDbCommands(std::vector<Command>& table) {
    table.push_back({{"version"}, "", "print the versions of keel, its schema and libraries",
                     "Works without a database.", versionCommand});
    table.push_back({{"db", "migrate"}, "", "apply pending schema migrations",
                     "Applies the migrations compiled into this keel, in order, each in its own transaction, and\n"
                     "records them in keel_schema_version. Refuses a database whose schema is newer than this\n"
                     "keel, or whose applied migrations differ from this keel's (exit 5). Safe to run again.",
                     migrateCommand});
    table.push_back({{"db", "status"}, "", "show backend, driver, schema version and pending migrations",
                     "Exit 0 when the database is reachable and its schema is usable (pending migrations are\n"
                     "listed), 5 when it is unreachable, newer than this keel, or its migrations were changed.",
                     statusCommand});
    table.push_back({{"demo"}, "[--once]", "run Keel's main job on the configured database, then serve it",
                     "Migrates the database and loads the sample files of demo.directory (default config/demo): a\n"
                     "catalog of 300 SKUs with channel aliases, three warehouses, opening stock with lots and expiry.\n"
                     "Takes orders in from a marketplace JSON file and an EDI 850 (edi-x12 plugin, partner harbor)\n"
                     "through the same intake; allocates them (a split shipment, a backorder), ships some, fills the\n"
                     "backorder from a receipt and processes a return; shows the orders, stock verify, ledger verify,\n"
                     "the audit chain and the trial balance, and creates an admin API key. Then it serves what keeld\n"
                     "serves (dashboard /ui, REST API, /healthz on server.address:server.port) until Ctrl-C or\n"
                     "SIGTERM; --once exits instead. Run again, it loads nothing twice. `make demo` runs it on\n"
                     "./var/keel.db with the plugins of the build tree.",
                     demoCommand});
}

}  // namespace keel::cli
