#pragma once
// keeld: loads the layered configuration, opens the database, serves HTTP until SIGTERM or SIGINT. The server
// itself (REST API, /metrics, /healthz, /readyz and the background jobs) is HttpServer, which `keel demo` runs too.

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/kernel/config.h"

#include <Poco/Logger.h>
#include <Poco/Util/AbstractConfiguration.h>
#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>
#include <vector>

namespace keel::server {

/// What keeld serves, built from the configuration (server.*, orders.allocate.interval, inventory.sweep.interval,
/// events.*): the HTTP server with the REST API, /metrics and the health endpoints on server.address:server.port,
/// and the background jobs (allocation, backorder fill, hold expiry, event dispatch). Serving from construction to
/// destruction; one function builds it, so keeld and `keel demo` serve exactly the same.
class HttpServer {
public:
    /// Loads the plugins (logging refusals and failed instances), binds the socket and starts serving. Throws
    /// InfrastructureError naming the key for a malformed setting or an address it cannot listen on.
    HttpServer(const Poco::Util::AbstractConfiguration& config, db::Database& database, app::Services& services,
               Poco::Logger& log);
    /// Stops the jobs, then finishes the requests in progress.
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    /// host:port it listens on (the port the system chose when server.port is 0).
    std::string address() const;
    int port() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Blocks SIGINT and SIGTERM in the calling thread and the threads it starts from now on, so that
/// waitForTerminationSignal() receives them. Call before starting threads.
void blockTerminationSignals();
/// Waits for SIGINT or SIGTERM (blocked by blockTerminationSignals()); returns the signal's number.
int waitForTerminationSignal();

/// The keeld application. Options: --config FILE, -D key=value, --help, --version.
class KeelDaemon : public Poco::Util::ServerApplication {
public:
    KeelDaemon();

protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

private:
    config::Sources sources_;
    bool stop_early_ = false;
};

}  // namespace keel::server
