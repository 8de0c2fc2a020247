#include "keel/server/server.h"

#include "keel/app/edi_exchange.h"
#include "keel/app/services.h"
#include "keel/db/migrations.h"
#include "keel/kernel/error.h"
#include "keel/kernel/logging.h"
#include "keel/kernel/version.h"
#include "keel/plugin_host/plugin_host.h"
#include "keel/server/api.h"
#include "keel/server/health.h"
#include "keel/server/jobs.h"

#include <Poco/Environment.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Process.h>
#include <Poco/StringTokenizer.h>
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>

#include <algorithm>
#include <iostream>

#include <pthread.h>
#include <signal.h>

namespace keel::server {

KeelDaemon::KeelDaemon() { setUnixOptions(true); }

void KeelDaemon::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Poco::Util::Option("config", "c", "read FILE after /etc/keel/keel.properties and conf.d/")
                          .required(false).repeatable(false).argument("FILE"));
    options.addOption(Poco::Util::Option("define", "D", "set a configuration key (strongest layer)")
                          .required(false).repeatable(true).argument("key=value"));
    options.addOption(Poco::Util::Option("help", "h", "print this help").required(false).repeatable(false));
    options.addOption(Poco::Util::Option("version", "", "print the version").required(false).repeatable(false));
}

void KeelDaemon::handleOption(const std::string& name, const std::string& value) {
    ServerApplication::handleOption(name, value);
    if (name == "config") {
        sources_.file = value;
    } else if (name == "define") {
        sources_.overrides.push_back(config::parseOverride(value));
    } else if (name == "help") {
        Poco::Util::HelpFormatter help(options());
        help.setCommand(commandName());
        help.setUsage("[--config FILE] [-D key=value ...]");
        help.setHeader(
            "keeld: the Keel daemon (REST API under /api/v1, the dashboard at /ui/, /metrics, /healthz, /readyz). Runs "
            "in the "
            "foreground; stop with SIGTERM. Keys: db.connection, server.address, server.port, "
            "server.threads, server.timeout, server.max_body_bytes, plugins.directory, log.level.");
        help.format(std::cout);
        stop_early_ = true;
        stopOptionsProcessing();
    } else if (name == "version") {
        std::cout << "keeld " << versionString() << " (" << gitDescribe() << ")\n";
        stop_early_ = true;
        stopOptionsProcessing();
    }
}

int KeelDaemon::main(const std::vector<std::string>& args) {
    if (stop_early_) return EXIT_OK;
    if (!args.empty()) {
        std::cerr << "keeld: unexpected argument '" << args.front() << "' (see keeld --help)\n";
        return EXIT_USAGE;
    }
    Poco::Logger* log = nullptr;
    try {
        sources_.environment = config::processEnvironment();
        const config::Configuration configuration = config::load(sources_);
        logging::configure(*configuration, "keeld");
        log = &logging::get("server");

        db::Database database(db::optionsFromConfig(*configuration));
        log->information("keeld %s (%s) starting; database %s", std::string(versionString()),
                         std::string(gitDescribe()), database.spec().display);
        app::Services services(*configuration);
        services.attachDatabase(database);
        {
            HttpServer server(*configuration, database, services, *log);
            waitForTerminationRequest();
            log->information("stopping: finishing requests in progress");
        }
        log->information("stopped");
        return EXIT_OK;
    } catch (const Error& e) {
        if (log != nullptr) log->fatal(e.what());
        std::cerr << "keeld: " << e.what() << "\n";
        return e.code() == keel::ExitCode::kUsage ? EXIT_USAGE : EXIT_CONFIG;
    } catch (const Poco::Exception& e) {
        if (log != nullptr) log->fatal(e.displayText());
        std::cerr << "keeld: " << e.displayText() << "\n";
        return EXIT_SOFTWARE;
    }
}

namespace {

JobSettings jobSettings(const Poco::Util::AbstractConfiguration& configuration) {
    JobSettings jobs_settings;
    const int sweep = configuration.getInt("inventory.sweep.interval", 60);
    if (sweep < 1) throw InfrastructureError("configuration: inventory.sweep.interval must be at least 1 second");
    jobs_settings.sweep_interval = std::chrono::seconds(sweep);
    const int allocate = configuration.getInt("orders.allocate.interval", 30);
    if (allocate < 0) {
        throw InfrastructureError("configuration: orders.allocate.interval must be 0 (off) or a number of seconds");
    }
    jobs_settings.allocate_interval = std::chrono::seconds(allocate);
    jobs_settings.node = Poco::Environment::nodeName() + ":" + std::to_string(Poco::Process::id());
    const int dispatch = configuration.getInt("events.dispatch.interval_ms", 1000);
    if (dispatch < 0) {
        throw InfrastructureError("configuration: events.dispatch.interval_ms must be 0 (off) or milliseconds");
    }
    jobs_settings.dispatch_interval = std::chrono::milliseconds(dispatch);
    const int lease = configuration.getInt("events.dispatch.lease_ms", 30000);
    if (lease < 100) throw InfrastructureError("configuration: events.dispatch.lease_ms must be at least 100");
    jobs_settings.dispatch_lease = std::chrono::milliseconds(lease);
    jobs_settings.subscribers = events::readSubscribers(configuration);
    const int edi = configuration.getInt("edi.exchange.interval", 60);
    if (edi < 0)
        throw InfrastructureError("configuration: edi.exchange.interval must be 0 (off) or a number of seconds");
    jobs_settings.edi_interval = std::chrono::seconds(edi);
    Poco::StringTokenizer partners(configuration.getString("edi.exchange.partners", ""), ",",
                                   Poco::StringTokenizer::TOK_TRIM | Poco::StringTokenizer::TOK_IGNORE_EMPTY);
    jobs_settings.edi_partners.assign(partners.begin(), partners.end());
    const int inventory = configuration.getInt("edi.exchange.inventory_interval", 0);
    if (inventory < 0) {
        throw InfrastructureError(
            "configuration: edi.exchange.inventory_interval must be 0 (off) or a number of seconds");
    }
    jobs_settings.edi_inventory_interval = std::chrono::seconds(inventory);
    return jobs_settings;
}

}  // namespace

// Members in the order they are built; destroyed in reverse, so the jobs stop before the HTTP server, which stops
// before the API it calls.
struct HttpServer::State {
    State(db::Database& database, app::Services& services, const ApiSettings& api_settings)
        : readiness(database), api(database, services, api_settings, metrics) {}
    Readiness readiness;
    Metrics metrics;
    Api api;
    Poco::Net::ServerSocket socket;
    std::unique_ptr<Poco::Net::HTTPServer> http;
    std::unique_ptr<Jobs> jobs;
};

HttpServer::HttpServer(const Poco::Util::AbstractConfiguration& configuration, db::Database& database,
                       app::Services& services, Poco::Logger& log) {
    JobSettings jobs_settings = jobSettings(configuration);
    const int timeout = configuration.getInt("server.timeout", 30);
    if (timeout < 1) throw InfrastructureError("configuration: server.timeout must be at least 1 second");
    const ApiSettings api_settings = ApiSettings::fromConfig(configuration);
    state_ = std::make_unique<State>(database, services, api_settings);

    std::string reason;
    if (!state_->readiness.check(reason)) log.warning("not ready yet: %s", reason);

    const std::string address = configuration.getString("server.address", "127.0.0.1");
    const int port = configuration.getInt("server.port", 8080);
    try {
        state_->socket.bind(Poco::Net::SocketAddress(address, static_cast<Poco::UInt16>(port)), true);
        state_->socket.listen(128);
    } catch (const Poco::Exception& e) {
        throw InfrastructureError("cannot listen on " + address + ":" + std::to_string(port) + ": " + e.displayText() +
                                  " (server.address, server.port)");
    }
    // Plugins load at start, whatever uses them: a refused library or a failed instance is logged and listed
    // (keel plugin list) and the rest of Keel runs. Subscriber plugins receive events through the host, and
    // the tasks instances scheduled run on the jobs' timer.
    plugin_host::PluginHost& plugins = services.pluginHost();
    for (const auto& refusal : plugins.refused()) log.warning("plugin refused: %s", refusal.reason);
    for (const auto& instance : plugins.instances()) {
        if (instance.state == plugin_host::InstanceState::kFailed) {
            log.error("plugin instance %s (%s) failed: %s", instance.name, instance.plugin, instance.last_error);
        } else {
            log.information("plugin instance %s: %s %s", instance.name, instance.plugin, instance.version);
        }
    }
    Poco::Net::HTTPServerParams::Ptr params(new Poco::Net::HTTPServerParams);
    params->setMaxThreads(configuration.getInt("server.threads", 16));
    params->setMaxQueued(256);
    // A client that stops sending (or reading) holds a thread at most this long.
    params->setTimeout(Poco::Timespan(timeout, 0));
    params->setKeepAlive(true);
    params->setKeepAliveTimeout(Poco::Timespan(std::min(timeout, 15), 0));
    params->setServerName("keeld/" + std::string(versionString()));
    State& state = *state_;
    state.http = std::make_unique<Poco::Net::HTTPServer>(
        new RequestHandlerFactory(state.readiness, &state.api,
                                  [&state, &database, &services]() {
                                      return state.metrics.render(database, services.orders, services.plugins.get());
                                  }),
        state.socket, params);
    state.http->start();
    log.information("listening on http://%s (REST API under /api/v1, dashboard /ui/, /metrics)",
                    state.socket.address().toString());
    jobs_settings.plugin_delivery = services.pluginDelivery();
    jobs_settings.tax_commit_delivery = services.taxCommitDelivery();
    jobs_settings.plugins = &plugins;
    // The configuration outlives the server (keeld's and the demo's main own both).
    jobs_settings.edi_exchange = [&configuration, &database, &services, &log](const std::string& partner,
                                                                              bool inventory) {
        app::EdiExchange exchange(services, database, configuration);
        const auto polled = exchange.poll(partner, orders::Actor{"keeld"});
        for (const auto& r : polled.receipts) {
            log.information("EDI from %s: message %s %s, %z order(s), %z warehouse advice(s), %z error(s)", partner,
                            r.message_id, r.status, r.orders.size(), r.advices.size(), r.errors.size());
        }
        app::SendOptions options;
        options.inventory = inventory;
        options.inventory_if_changed = true;  // the timer repeats an 846 only when the inventory moved
        const auto sent = exchange.send(partner, options);
        for (const auto& x : sent.sent) {
            if (x.external_id.empty()) {
                log.information("EDI to %s: %s (message %s)", partner, x.transaction_set, x.message_id);
            } else {
                log.information("EDI to %s: %s for PO %s", partner, x.transaction_set, x.external_id);
            }
        }
        for (const auto& e : sent.errors) log.error("EDI to %s: %s", partner, e);
        for (const auto& note : sent.skipped) log.information("EDI to %s: %s", partner, note);
    };
    state.jobs = std::make_unique<Jobs>(database, services.orders, jobs_settings, logging::get("jobs"));
}

HttpServer::~HttpServer() {
    state_->jobs.reset();
    state_->http->stopAll(false);
}

std::string HttpServer::address() const {
    return state_->socket.address().toString();
}

int HttpServer::port() const {
    return state_->socket.address().port();
}

namespace {

sigset_t terminationSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void blockTerminationSignals() {
    const sigset_t set = terminationSignals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int waitForTerminationSignal() {
    const sigset_t set = terminationSignals();
    int received = 0;
    while (sigwait(&set, &received) != 0) {
    }
    return received;
}

}  // namespace keel::server
