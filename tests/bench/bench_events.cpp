// Events benchmark, per backend: writers appending events (100 per unit of work, as busy order traffic does), the
// sequencer numbering and chaining them afterwards, `keel audit verify`'s chain check, and webhook delivery to a
// local receiver. The ratios compare each stage with appending in the same run: numbering must keep up with the
// writers (ratio >= 1 means it is faster than they are), so the sequence never falls behind.
// Run with `make bench`; KEEL_BENCH_EVENTS changes the number of events (default 20,000).

#include "bench_support.h"

#include "keel/db/database.h"
#include "keel/db/migrations.h"
#include "keel/events/dispatcher.h"
#include "keel/events/log.h"
#include "keel/events/outbox.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <atomic>
#include <cstdio>
#include <string>

using namespace keel;

namespace {

using bench::seconds;

std::atomic<long> g_received{0};

class Receiver : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response) override {
        std::string body;
        Poco::StreamCopier::copyToString(request.stream(), body);
        ++g_received;
        response.setStatus(Poco::Net::HTTPResponse::HTTP_NO_CONTENT);
        response.send();
    }
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new Receiver;
    }
};

void run(const std::string& label, const std::string& connection, std::int64_t count, int port) {
    db::DatabaseOptions options;
    options.spec = db::parseConnectionString(connection);
    db::Database database(options);
    db::Migrator(database).migrate();
    events::Outbox outbox;
    const std::string payload = R"({"order":"web/W-1001","lines":3,"total":"59.89","state":"allocated"})";
    const double append = seconds([&] {
        for (std::int64_t first = 0; first < count; first += 100) {
            database.run([&](db::UnitOfWork& uow) {
                for (std::int64_t i = first; i < std::min(count, first + 100); ++i) {
                    outbox.append(uow, events::Event{"order.allocated", "order", "O-" + std::to_string(i % 500),
                                                     payload, "bench"});
                }
            });
        }
    });
    events::EventLog log;
    std::int64_t numbered = 0;
    const double sequence = seconds([&] { numbered = log.sequenceAll(database); });
    events::ChainReport chain;
    const double verify = seconds([&] { chain = log.verifyChain(database); });
    const std::int64_t delivered_count = std::min<std::int64_t>(count, 2000);
    events::SubscriberSettings hook;
    hook.name = "bench";
    hook.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
    hook.secret = "bench-secret";
    hook.from_earliest = true;
    events::Dispatcher dispatcher(database, {hook}, "bench");
    g_received = 0;
    const double deliver = seconds([&] {
        while (g_received.load() < delivered_count) dispatcher.runOnce(static_cast<std::size_t>(delivered_count));
    });
    const double append_rate = static_cast<double>(count) / append;
    const double sequence_rate = static_cast<double>(numbered) / sequence;
    const double verify_rate = static_cast<double>(chain.verified) / verify;
    const double deliver_rate = static_cast<double>(delivered_count) / deliver;
    std::printf(
        "  %-11s append %8.0f events/s 1.00x | number+chain %8.0f/s %5.2fx | verify %8.0f/s %5.2fx | "
        "webhook %6.0f/s %5.2fx%s\n",
        label.c_str(), append_rate, sequence_rate, sequence_rate / append_rate, verify_rate, verify_rate / append_rate,
        deliver_rate, deliver_rate / append_rate, chain.ok ? "" : "  CHAIN BROKEN");
}

}  // namespace

int main() {
    const char* configured = std::getenv("KEEL_BENCH_EVENTS");
    const std::int64_t count = configured ? std::atoll(configured) : 20'000;
    const std::string dir = Poco::Path::temp() + "keel-bench-events-" + IdGenerator::global().next().substr(24);
    Poco::File(dir).createDirectories();
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    const int port = socket.address().port();
    Poco::Net::HTTPServer server(new Factory, socket, new Poco::Net::HTTPServerParams);
    server.start();
    std::printf(
        "Events: %lld appended (100 per unit of work), numbered and chained, verified; 2,000 delivered to a "
        "local webhook\n",
        static_cast<long long>(count));
    for (const auto backend : {db::Backend::kSQLite, db::Backend::kPostgreSQL, db::Backend::kMariaDB}) {
        const auto connection = bench::freshDatabase(backend, dir);
        if (!connection) continue;
        run(std::string(db::backendName(backend)), *connection, count, port);
    }
    server.stop();
    Poco::File(dir).remove(true);
    return 0;
}
