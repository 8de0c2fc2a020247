#pragma once
// The `keel` command line: global options, the command table and the exit codes of the command-line contract.

#include "keel/db/database.h"
#include "keel/kernel/config.h"

#include <Poco/JSON/Object.h>

#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace keel::app {
struct Services;
}

namespace keel::cli {

using Services = app::Services;

/// What a command gets: configuration, output streams, the --json flag and a lazily opened database.
class Context {
public:
    Context(config::Configuration config, bool json, std::ostream& out, std::ostream& err)
        : config_(std::move(config)), json_(json), out_(out), err_(err) {}

    const Poco::Util::AbstractConfiguration& config() const { return *config_; }
    bool json() const { return json_; }
    std::ostream& out() { return out_; }
    std::ostream& err() { return err_; }

    /// The database named by db.connection (or --db), opened on first use.
    db::Database& database();

    /// Writes a JSON document and a newline to standard output (the --json form of a command's result).
    void writeJson(const Poco::JSON::Object& object);

    /// The domain services of this command run (services.h), created on first use.
    std::shared_ptr<Services>& servicesSlot() { return services_; }

private:
    config::Configuration config_;
    bool json_;
    std::ostream& out_;
    std::ostream& err_;
    std::unique_ptr<db::Database> database_;
    std::shared_ptr<Services> services_;
};

/// One command of the table: its words ("db", "migrate"), help text and handler. The handler gets the
/// arguments after the command words and returns an exit code, or throws keel::Error.
struct Command {
    std::vector<std::string> words;
    std::string arguments;  ///< e.g. "[--dry-run]"
    std::string summary;    ///< one line for the command list
    std::string help;       ///< paragraphs for `keel COMMAND --help`
    std::function<int(Context&, const std::vector<std::string>&)> run;
};

/// Every command, in the order `keel --help` lists them.
const std::vector<Command>& commands();

/// Registration hooks of the command groups (one per source file commands_<group>.cpp).
void addDbCommands(std::vector<Command>& table);       // version, db migrate, db status, demo
void addCatalogCommands(std::vector<Command>& table);  // item ..., location ..., alias ...
void addStockCommands(std::vector<Command>& table);    // stock ...
void addOrderCommands(std::vector<Command>& table);    // order ..., shipment ...
void addPluginCommands(std::vector<Command>& table);   // plugin list

/// Runs `keel` with `args` (without the program name). Never throws: errors become messages and exit codes.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const std::map<std::string, std::string>& environment,
        const std::string& system_config_dir = config::kDefaultSystemDir);

/// A command's arguments: positionals in order, `--name value` (or `--name=value`) options and `--flag`
/// switches. Unknown options are a UsageError naming the command.
class Arguments {
public:
    Arguments(const std::vector<std::string>& args, std::string command, const std::vector<std::string>& values,
              const std::vector<std::string>& flags = {});
    const std::vector<std::string>& positional() const { return positional_; }
    /// UsageError "usage: keel COMMAND USAGE" unless there are min..max positionals.
    void expectPositional(std::size_t min, std::size_t max, const std::string& usage) const;
    std::optional<std::string> value(const std::string& name) const;
    std::string required(const std::string& name) const;
    bool flag(const std::string& name) const { return flags_.count(name) != 0; }
    /// Parses a whole number or throws UsageError naming `what`.
    std::int64_t integer(const std::string& text, const std::string& what) const;
    std::optional<std::int64_t> integerValue(const std::string& name) const;

private:
    std::string command_;
    std::vector<std::string> positional_;
    std::map<std::string, std::string> values_;
    std::set<std::string> flags_;
};

/// Throws UsageError when `args` has anything left that the command did not expect.
void expectNoArguments(const std::vector<std::string>& args, const std::string& command);

}  // namespace keel::cli
