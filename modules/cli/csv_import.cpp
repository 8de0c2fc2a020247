#include "csv_import.h"

#include "progress.h"

#include "keel/db/migrations.h"
#include "keel/kernel/error.h"

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <ostream>

namespace keel::cli {

// Every import command needs its tables; say how to get them instead of "no such table".
void requireMigration(db::Database& database, const std::string& migration, const std::string& needs) {
    int needed = 0;
    for (const auto& m : db::embeddedMigrations()) {
        if (m.name == migration) needed = m.version;
    }
    const db::SchemaStatus status = db::Migrator(database).status();
    if (status.current < needed) {
        throw InfrastructureError("the database " + database.spec().display + " is at schema version " +
                                  std::to_string(status.current) + ", " + needs + " version " + std::to_string(needed) +
                                  ": run `keel db migrate` first");
    }
}

std::ifstream openInput(const std::string& path) {
    const Poco::File file(path);
    if (!file.exists()) throw RejectedError(path + ": no such file; check the path and try again");
    if (!file.isFile()) throw RejectedError(path + ": not a regular file; name a CSV file");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RejectedError(path + ": cannot be read (" + std::strerror(errno) + "); check its permissions");
    return in;
}

// The shared body of the import commands: read, check, report every problem or write everything.
int runCsvImport(Context& context, const std::vector<std::string>& raw, const std::string& command,
                 const CsvImport& import, const std::string& noun, const std::string& migration,
                 const std::string& needs) {
    const Arguments args(raw, command, {}, {"dry-run"});
    args.expectPositional(1, 1, "FILE.csv [--dry-run]");
    const std::string& path = args.positional().front();
    std::ifstream in = openInput(path);
    const std::uint64_t size = Poco::File(path).getSize();

    db::Database& database = context.database();
    requireMigration(database, migration, needs);

    Progress reading(context.err(), path, size);
    std::optional<Progress> writing;
    catalog::ImportOptions options;
    options.dry_run = args.flag("dry-run");
    options.on_read = [&](std::uint64_t rows, std::uint64_t bytes) { reading.update(rows, bytes); };
    options.on_write = [&](std::uint64_t done, std::uint64_t total) {
        if (!writing) {
            reading.finish();
            writing.emplace(context.err(), path + " (writing)", total);
        }
        writing->update(done, done);
    };
    const catalog::ImportReport report = import(database, in, path, options);
    reading.finish();
    if (writing) writing->finish();

    if (!report.ok()) {
        const std::string summary = path + ": " + std::to_string(report.problems.size()) +
                                    (report.problems.size() == 1 ? " problem" : " problems") +
                                    "; nothing was imported. Fix the file and import it again.";
        if (context.json()) {
            Poco::JSON::Array problems;
            for (const auto& problem : report.problems) {
                Poco::JSON::Object p;
                p.set("source", problem.source());
                p.set("line", static_cast<Poco::UInt64>(problem.line()));
                p.set("column", problem.column());
                p.set("reason", problem.reason());
                p.set("message", std::string(problem.what()));
                problems.add(p);
            }
            Poco::JSON::Object error;
            error.set("code", std::string(exitCodeName(ExitCode::kRejected)));
            error.set("message", summary);
            error.set("problems", problems);
            Poco::JSON::Object body;
            body.set("error", error);
            context.writeJson(body);
        } else {
            for (const auto& problem : report.problems) context.err() << "keel: " << problem.what() << "\n";
            context.err() << "keel: " << summary << "\n";
        }
        return static_cast<int>(ExitCode::kRejected);
    }

    if (context.json()) {
        Poco::JSON::Object body;
        body.set("source", path);
        body.set("rows", static_cast<Poco::UInt64>(report.rows));
        body.set("created", static_cast<Poco::UInt64>(report.created));
        body.set("updated", static_cast<Poco::UInt64>(report.updated));
        body.set("unchanged", static_cast<Poco::UInt64>(report.unchanged));
        body.set("dry_run", report.dry_run);
        context.writeJson(body);
    } else {
        context.out() << path << ": " << report.rows << " " << noun << (report.rows == 1 ? "" : "s") << ": "
                      << report.created << " created, " << report.updated << " updated, " << report.unchanged
                      << " unchanged" << (report.dry_run ? " (dry run: nothing was written)" : "") << "\n";
    }
    return 0;
}

}  // namespace keel::cli
