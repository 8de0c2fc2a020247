// keel plugin list: what the plugin host would load from this configuration, every instance and its state, every
// refused library with the reason, and the open entries of the integration exception queue.
#include "keel/cli/cli.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/plugin_host/plugin_host.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <ostream>

namespace keel::cli {

namespace {

std::string joined(const std::vector<std::string>& words, const char* separator = ",") {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
    return out;
}

int listCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "plugin list", {});
    args.expectPositional(0, 0, "");
    using namespace plugin_host;
    PluginHost host(HostSettings::fromConfig(context.config()));
    host.load();  // an unreadable directory throws InfrastructureError: exit 5
    const auto instances = host.instances();

    // The exception queue lives in the database; the list is still useful without one.
    std::vector<IntegrationException> exceptions;
    std::string exceptions_error;
    if (context.config().has("db.connection")) {
        try {
            exceptions = openExceptions(context.database());
        } catch (const std::exception& e) {
            // The first line says it (ODBC diagnostics follow on the next ones).
            exceptions_error = e.what();
            exceptions_error = exceptions_error.substr(0, exceptions_error.find('\n'));
        }
    }

    if (context.json()) {
        Poco::JSON::Object body;
        Poco::JSON::Array list;
        for (const auto& i : instances) {
            Poco::JSON::Object o;
            o.set("instance", i.name);
            o.set("plugin", i.plugin);
            o.set("version", i.version);
            Poco::JSON::Array capabilities;
            for (const auto& c : i.capabilities) capabilities.add(c);
            o.set("capabilities", capabilities);
            o.set("state", std::string(toString(i.state)));
            o.set("last_error", i.last_error);
            list.add(o);
        }
        body.set("instances", list);
        Poco::JSON::Array refused;
        for (const auto& r : host.refused()) {
            Poco::JSON::Object o;
            o.set("path", r.path);
            o.set("reason", r.reason);
            refused.add(o);
        }
        body.set("refused", refused);
        Poco::JSON::Array queue;
        for (const auto& e : exceptions) {
            Poco::JSON::Object o;
            o.set("id", e.id);
            o.set("source", e.source);
            o.set("code", e.code);
            o.set("message", e.message);
            o.set("created_at", formatIso8601(e.created_at));
            queue.add(o);
        }
        body.set("exceptions", queue);
        if (!exceptions_error.empty()) body.set("exceptions_error", exceptions_error);
        context.writeJson(body);
        return 0;
    }
    std::ostream& out = context.out();
    if (instances.empty()) out << "no plugin instances\n";
    for (const auto& i : instances) {
        out << i.name << "  " << (i.plugin.empty() ? "-" : i.plugin) << " " << (i.version.empty() ? "-" : i.version)
            << "  [" << joined(i.capabilities) << "]  " << toString(i.state) << "\n";
        if (!i.last_error.empty()) out << "  last error: " << i.last_error << "\n";
    }
    for (const auto& r : host.refused()) out << "refused: " << r.path << "\n  " << r.reason << "\n";
    for (const auto& e : exceptions) {
        out << "exception " << formatIso8601(e.created_at) << " " << e.source << " " << e.code << ": " << e.message
            << "\n";
    }
    if (!exceptions_error.empty()) context.err() << "exception queue not read: " << exceptions_error << "\n";
    return 0;
}

}  // namespace

void addPluginCommands(std::vector<Command>& table) {
    table.push_back(
        {{"plugin", "list"},
         "",
         "list plugin instances (state, last error), refused plugin libraries and open integration exceptions",
         "Loads the plugins of plugins.directory as keeld would (manifest, ABI, SHA-256, signature checks) and\n"
         "the instances of plugins.instances. A refused library is listed with the reason and does not make\n"
         "the command fail; exit 5 when a directory cannot be read. See docs/plugin-host.md.",
         listCommand});
}

}  // namespace keel::cli
