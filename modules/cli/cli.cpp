#include "keel/cli/cli.h"
#include "commands_apikeys.h"
#include "commands_edi.h"
#include "commands_events.h"
#include "commands_ledger.h"
#include "commands_pricing.h"
#include "commands_returns.h"

#include "keel/kernel/error.h"
#include "keel/kernel/logging.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/Util/MapConfiguration.h>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <sstream>

namespace keel::cli {

namespace {

constexpr const char* kGlobalUsage = "keel [--db CONNECTION] [--config FILE] [-D key=value ...] [--json] COMMAND ...";

std::string joinWords(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
    return out;
}

void printOverview(std::ostream& out) {
    out << "usage: " << kGlobalUsage << "\n\n"
        << "Keel, the on-premise commerce ERP.\n\n"
        << "Global options (anywhere before `--`):\n"
        << "  --db CONNECTION   database: sqlite:PATH | postgresql://USER@HOST:PORT/DB | mariadb://USER@HOST:PORT/DB\n"
        << "                    | DSN=NAME | an ODBC connection string (password: db.password or KEEL_DB_PASSWORD)\n"
        << "  --config FILE     read FILE after /etc/keel/keel.properties and /etc/keel/conf.d/*.properties\n"
        << "  -D key=value      set a configuration key (strongest layer)\n"
        << "  --json            machine-readable output\n"
        << "  -h, --help        this text; `keel COMMAND --help` for a command\n\n"
        << "Commands:\n";
    std::size_t width = 0;
    for (const auto& c : commands()) width = std::max(width, joinWords(c.words).size());
    for (const auto& c : commands()) {
        const std::string name = joinWords(c.words);
        out << "  " << name << std::string(width - name.size() + 3, ' ') << c.summary << "\n";
    }
    out << "\nExit codes: 0 success, 1 usage, 2 rejected input or business rule, 3 not found, 4 conflict, "
           "5 infrastructure.\n";
}

void printCommandHelp(std::ostream& out, const Command& c) {
    out << "usage: keel " << joinWords(c.words) << (c.arguments.empty() ? "" : " " + c.arguments) << "\n\n"
        << c.summary << "\n";
    if (!c.help.empty()) out << "\n" << c.help << "\n";
    out << "\nGlobal options: --db CONNECTION, --config FILE, -D key=value, --json (see `keel --help`).\n";
}

// The command whose words are the longest prefix of `rest`, or nullptr.
const Command* findCommand(const std::vector<std::string>& rest, std::size_t& consumed) {
    const Command* best = nullptr;
    for (const auto& c : commands()) {
        if (c.words.size() <= rest.size() && std::equal(c.words.begin(), c.words.end(), rest.begin()) &&
            (best == nullptr || c.words.size() > best->words.size())) {
            best = &c;
        }
    }
    consumed = best != nullptr ? best->words.size() : 0;
    return best;
}

void reportError(std::ostream& out, std::ostream& err, bool json, ExitCode code, const std::string& message) {
    if (json) {
        Poco::JSON::Object error;
        error.set("code", std::string(exitCodeName(code)));
        error.set("message", message);
        Poco::JSON::Object body;
        body.set("error", error);
        body.stringify(out);
        out << "\n";
    } else {
        err << "keel: " << message << "\n";
    }
}

}  // namespace

db::Database& Context::database() {
    if (!database_) database_ = std::make_unique<db::Database>(db::optionsFromConfig(*config_));
    return *database_;
}

void Context::writeJson(const Poco::JSON::Object& object) {
    object.stringify(out_);
    out_ << "\n";
}

const std::vector<Command>& commands() {
    static const std::vector<Command> table = [] {
        std::vector<Command> t;
        addDbCommands(t);
        addCatalogCommands(t);
        addStockCommands(t);
        addOrderCommands(t);
        addPricingCommands(t);
        addReturnCommands(t);
        addLedgerCommands(t);
        addEventCommands(t);
        addApiKeyCommands(t);
        addPluginCommands(t);
        addEdiCommands(t);
        return t;
    }();
    return table;
}

Arguments::Arguments(const std::vector<std::string>& args, std::string command, const std::vector<std::string>& values,
                     const std::vector<std::string>& flags)
    : command_(std::move(command)) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (!a.starts_with("--")) {
            positional_.push_back(a);
            continue;
        }
        const auto eq = a.find('=');
        const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
        if (std::find(flags.begin(), flags.end(), name) != flags.end()) {
            if (eq != std::string::npos) throw UsageError("keel " + command_ + ": --" + name + " takes no value");
            flags_.insert(name);
        } else if (std::find(values.begin(), values.end(), name) != values.end()) {
            if (eq != std::string::npos) {
                values_[name] = a.substr(eq + 1);
            } else if (i + 1 < args.size()) {
                values_[name] = args[++i];
            } else {
                throw UsageError("keel " + command_ + ": --" + name + " needs a value");
            }
        } else {
            throw UsageError("keel " + command_ + ": unknown option '--" + name + "' (see `keel " + command_ + " --help`)");
        }
    }
}

void Arguments::expectPositional(std::size_t min, std::size_t max, const std::string& usage) const {
    if (positional_.size() < min || positional_.size() > max) {
        throw UsageError("usage: keel " + command_ + " " + usage);
    }
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

std::string Arguments::required(const std::string& name) const {
    auto v = value(name);
    if (!v || v->empty()) throw UsageError("keel " + command_ + ": --" + name + " is required");
    return *v;
}

std::int64_t Arguments::integer(const std::string& text, const std::string& what) const {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw UsageError("keel " + command_ + ": " + what + " '" + text + "' is not a whole number");
    }
    return value;
}

std::optional<std::int64_t> Arguments::integerValue(const std::string& name) const {
    auto v = value(name);
    if (!v) return std::nullopt;
    return integer(*v, "--" + name);
}

void expectNoArguments(const std::vector<std::string>& args, const std::string& command) {
    if (!args.empty()) {
        throw UsageError("keel " + command + ": unexpected argument '" + args.front() + "' (see `keel " + command +
                         " --help`)");
    }
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
        const std::map<std::string, std::string>& environment, const std::string& system_config_dir) {
    bool json = std::find(args.begin(), args.end(), "--json") != args.end();
    try {
        config::Sources sources;
        sources.system_dir = system_config_dir;
        sources.environment = environment;
        bool help = false;
        std::vector<std::string> rest;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string& a = args[i];
            auto value = [&](const std::string& option) -> std::string {
                if (i + 1 >= args.size()) throw UsageError(option + " needs a value (see `keel --help`)");
                return args[++i];
            };
            if (a == "--") {
                rest.insert(rest.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
                break;
            } else if (a == "--json") {
                json = true;
            } else if (a == "-h" || a == "--help") {
                help = true;
            } else if (a == "--db") {
                sources.overrides.emplace_back("db.connection", value(a));
            } else if (a.starts_with("--db=")) {
                sources.overrides.emplace_back("db.connection", a.substr(5));
            } else if (a == "--config") {
                sources.file = value(a);
            } else if (a.starts_with("--config=")) {
                sources.file = a.substr(9);
            } else if (a == "-D") {
                sources.overrides.push_back(config::parseOverride(value(a)));
            } else if (a.starts_with("-D") && a.size() > 2) {
                sources.overrides.push_back(config::parseOverride(a.substr(2)));
            } else {
                rest.push_back(a);
            }
        }

        if (rest.empty() || (rest.size() == 1 && rest.front() == "help")) {
            printOverview(help || !rest.empty() ? out : err);
            return help || !rest.empty() ? 0 : static_cast<int>(ExitCode::kUsage);
        }
        if (rest.front() == "help") {
            rest.erase(rest.begin());
            help = true;
        }
        std::size_t consumed = 0;
        const Command* command = findCommand(rest, consumed);
        if (command == nullptr) {
            throw UsageError("unknown command '" + joinWords(rest) + "' (see `keel --help`)");
        }
        if (help) {
            printCommandHelp(out, *command);
            return 0;
        }
        // Options a command does not list are refused before anything runs (negative numbers are arguments).
        for (std::size_t i = consumed; i < rest.size(); ++i) {
            const std::string option = rest[i].substr(0, rest[i].find('='));
            if (option.starts_with("--") && command->arguments.find(option) == std::string::npos) {
                throw UsageError("keel " + joinWords(command->words) + ": unknown option '" + option + "' (see `keel " +
                                 joinWords(command->words) + " --help`)");
            }
        }

        Context context(config::load(sources), json, out, err);
        // The CLI logs to stderr only, at cli.log.level (default warning): log.* belongs to keeld, whose log
        // file an operator's shell may not be allowed to write.
        Poco::AutoPtr<Poco::Util::MapConfiguration> cli_logging(new Poco::Util::MapConfiguration);
        cli_logging->setString("log.channel", "console");
        cli_logging->setString("log.level", context.config().getString("cli.log.level", "warning"));
        logging::configure(*cli_logging, "keel");

        return command->run(context, std::vector<std::string>(rest.begin() + static_cast<std::ptrdiff_t>(consumed), rest.end()));
    } catch (const Error& e) {
        reportError(out, err, json, e.code(), e.what());
        return static_cast<int>(e.code());
    } catch (const Poco::Exception& e) {
        reportError(out, err, json, ExitCode::kInfrastructure, e.displayText());
        return static_cast<int>(ExitCode::kInfrastructure);
    } catch (const std::exception& e) {
        reportError(out, err, json, ExitCode::kInfrastructure, std::string("internal error: ") + e.what());
        return static_cast<int>(ExitCode::kInfrastructure);
    }
}

}  // namespace keel::cli
