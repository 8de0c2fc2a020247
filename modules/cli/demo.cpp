#include "demo.h"
#include "services.h"

#include "keel/app/edi_exchange.h"
#include "keel/auth/api_keys.h"
#include "keel/catalog/import.h"
#include "keel/events/log.h"
#include "keel/inventory/stock_import.h"
#include "keel/kernel/error.h"
#include "keel/kernel/logging.h"
#include "keel/orders/document.h"
#include "keel/orders/returns.h"
#include "keel/server/server.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

namespace keel::cli {

namespace {

namespace fs = std::filesystem;

const orders::Actor kActor{"demo"};
const char* const kChannel = "marketplace";
const char* const kPartner = "harbor";
// The orders of the sample files, in the order the walkthrough shows them.
const std::vector<std::pair<std::string, std::string>> kOrders = {
    {"marketplace", "M-1001"}, {"marketplace", "M-1002"}, {"marketplace", "M-1003"}, {"marketplace", "M-1004"},
    {"marketplace", "M-1005"}, {"edi.harbor", "HB-5001"}, {"edi.harbor", "HB-5002"}};

// The sample files, found in demo.directory (default config/demo: `make demo` runs in the repository).
class Samples {
public:
    explicit Samples(const Poco::Util::AbstractConfiguration& config)
        : directory_(config.getString("demo.directory", "config/demo")) {}
    fs::path path(const std::string& name) const {
        const fs::path file = fs::path(directory_) / name;
        if (!fs::is_regular_file(file)) {
            throw InfrastructureError("keel demo: sample file " + file.string() +
                                      " not found: run it in Keel's repository (make demo) or set demo.directory");
        }
        return file;
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path(name), std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }

private:
    std::string directory_;
};

template <typename Work>
auto step(db::Database& database, Work&& work) {
    return database.run([&](db::UnitOfWork& uow) { return work(uow); }).value();
}

std::string importLine(const std::string& file, const catalog::ImportReport& report, const std::string& what) {
    if (!report.ok()) {
        std::string message = "keel demo: " + file + " was refused:";
        for (const auto& problem : report.problems) message += "\n  " + std::string(problem.what());
        throw InfrastructureError(message);
    }
    std::ostringstream line;
    line << file << ": " << report.rows << " " << what << " (" << report.created << " created, " << report.updated
         << " updated, " << report.unchanged << " unchanged)";
    return line.str();
}

// Items, aliases and locations: imports that change nothing when run again.
void loadCatalog(const Samples& samples, db::Database& database, std::ostream& out) {
    const catalog::CatalogCsv importer;
    out << "\nCatalog (" << samples.path("catalog.csv").parent_path().string() << ")\n";
    std::ifstream locations(samples.path("locations.csv"));
    out << "  " << importLine("locations.csv", importer.importLocations(database, locations, "locations.csv"), "warehouses")
        << "\n";
    std::ifstream items(samples.path("catalog.csv"));
    out << "  " << importLine("catalog.csv", importer.importItems(database, items, "catalog.csv"), "SKUs") << "\n";
    std::ifstream aliases(samples.path("aliases.csv"));
    out << "  " << importLine("aliases.csv", importer.importAliases(database, aliases, "aliases.csv"), "channel aliases")
        << " for channels marketplace and edi.harbor\n";
}

std::int64_t countMoves(db::Database& database, const std::string& type, const std::string& id) {
    std::int64_t count = 0;
    database.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT COUNT(*) FROM stock_move WHERE source_type = ? AND source_id = ?");
        s.bindAll(type, id).execute();
        while (s.next()) count = s.getInt64(0);
    });
    return count;
}

void loadStock(const Samples& samples, app::Services& services, db::Database& database, std::ostream& out) {
    // The import names each move after its file and line: the first data row's move says it was loaded.
    if (countMoves(database, "stock_import", "demo/stock.csv:2") > 0) {
        out << "  stock.csv: already received (nothing loaded twice)\n";
    } else {
        std::ifstream in(samples.path("stock.csv"));
        const auto result = inventory::importStockLevels(database, services.inventory, in, "demo/stock.csv",
                                                         inventory::Source{"demo", "stock.csv", "demo", ""}, "USD");
        if (!result.ok()) {
            std::string message = "keel demo: stock.csv was refused:";
            for (const auto& problem : result.problems) message += "\n  " + problem;
            throw InfrastructureError(message);
        }
        out << "  stock.csv: " << result.rows << " opening balances, " << result.quantity
            << " units in 3 warehouses (tea and coffee in lots with expiry; lot LCOF-2501-X expired)\n";
    }
    database.run([&](db::UnitOfWork& uow) {
        out << "\n  " << std::left << std::setw(12) << "sku" << std::right << std::setw(10) << "available"
            << "   by location\n";
        for (const char* sku : {"KL-MUG-001", "KL-TEA-001", "KL-COF-001", "KL-LMP-001", "KL-CHR-001"}) {
            const auto item = services.catalog.requireItem(uow, sku);
            const auto atp = services.inventory.atp(uow, item.id);
            out << "  " << std::left << std::setw(12) << sku << std::right << std::setw(10) << atp.available << "   ";
            for (const auto& line : atp.locations) out << line.location_code << " " << line.available << "  ";
            out << "\n";
        }
    });
}

std::vector<std::string> splitDocuments(const std::string& text) {
    const auto array = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
    std::vector<std::string> documents;
    for (std::size_t i = 0; i < array->size(); ++i) {
        std::ostringstream one;
        Poco::JSON::Stringifier::stringify(array->get(i), one);
        documents.push_back(one.str());
    }
    return documents;
}

std::string holdsText(const std::vector<std::string>& holds) {
    std::string text;
    for (const auto& hold : holds) text += " (" + hold + ")";
    return text;
}

// Both intakes. True when the marketplace file's orders were new, so the rest of the story is still to be told.
bool takeOrders(const Samples& samples, app::Services& services, db::Database& database,
                const Poco::Util::AbstractConfiguration& config, std::ostream& out) {
    out << "\nOrders, through one intake\n  marketplace-orders.json (channel " << kChannel
        << ", items by the marketplace's listing ids):\n";
    bool fresh = false;
    for (const auto& text : splitDocuments(samples.read("marketplace-orders.json"))) {
        const auto parsed = orders::parseOrderDocument(text);
        if (!parsed.document) throw InfrastructureError("keel demo: marketplace-orders.json: an invalid order");
        const auto imported = services.orders.importDocument(database, *parsed.document, kActor).value();
        const bool created = imported.status == orders::ImportStatus::kCreated;
        fresh = fresh || created;
        out << "    " << std::left << std::setw(20) << (std::string(kChannel) + "/" + parsed.document->external_id)
            << std::right << (created ? "imported: " + std::string(orders::toString(imported.state)) + holdsText(imported.holds)
                        : std::string("already imported, nothing changed"))
            << "\n";
    }

    const bool edi_loaded = database.run([&](db::UnitOfWork& uow) {
        return services.orders.findByExternal(uow, "edi.harbor", "HB-5001").has_value();
    });
    out << "  harbor-850.edi (X12 850 from trading partner " << kPartner << ", through the edi-x12 plugin):\n";
    if (edi_loaded) {
        out << "    already received (nothing taken in twice)\n";
        return fresh;
    }
    // Without a translator the file is not stored at all (it would wait as a failed message for reprocessing).
    if (config.getString("edi.plugin", "").empty() &&
        services.pluginHost().instancesWith(plugin_host::Capability::kEdi).empty()) {
        out << "    skipped: no plugin instance translates EDI here (`make demo` loads the edi-x12 plugin: "
               "plugins.directory, plugins.instances = config/demo/plugins.d)\n";
        return fresh;
    }
    app::EdiSettings settings = app::EdiSettings::fromConfig(config);
    // The partner's profile is a sample too (config/demo/partners, which the demo's plugin instance reads), unless
    // edi.partners says otherwise; receiving loads it into the database.
    if (!config.hasProperty("edi.partners")) {
        settings.partners_directory =
            samples.path("partners/" + std::string(kPartner) + ".properties").parent_path().string();
    }
    app::EdiExchange exchange(services, database, settings);
    const auto receipt = exchange.receive(kPartner, "harbor-850.edi", samples.read("harbor-850.edi"), kActor);
    const auto set = receipt.ack.find("ST*");
    out << "    " << receipt.status << ": " << receipt.sets << " purchase orders, "
        << (set == std::string::npos ? std::string("no acknowledgment")
                                     : "acknowledged with a " + receipt.ack.substr(set + 3, 3))
        << " (stored as message " << receipt.message_id << ")\n";
    for (const auto& order : receipt.orders) {
        out << "    " << std::left << std::setw(20) << ("edi.harbor/" + order.external_id) << std::right
            << (order.created ? "imported: " : "already imported: ") << order.state << "\n";
    }
    for (const auto& error : receipt.errors) out << "    error: " << error << "\n";
    return fresh;
}

std::string orderId(app::Services& services, db::Database& database, const std::string& channel,
                    const std::string& external_id) {
    const auto order = database.run(
        [&](db::UnitOfWork& uow) { return services.orders.findByExternal(uow, channel, external_id); });
    return order ? order->id : std::string();
}

std::string locationCode(app::Services& services, db::UnitOfWork& uow, const std::string& id) {
    const auto location = services.catalog.findLocationById(uow, id);
    return location ? location->code : id;
}

// Releases an order's allocations to fulfillment and ships every shipment: picked, packed, shipped, delivered.
std::vector<std::string> shipOrder(app::Services& services, db::Database& database, const std::string& order_id,
                                   int& tracking) {
    auto& service = services.orders;
    const auto shipments =
        step(database, [&](db::UnitOfWork& uow) { return service.releaseToFulfillment(uow, order_id, kActor); });
    std::vector<std::string> where;
    for (const auto& shipment : shipments) {
        const std::string number = "1Z-DEMO-" + std::to_string(++tracking);
        step(database, [&](db::UnitOfWork& uow) { return service.pick(uow, shipment, kActor); });
        step(database, [&](db::UnitOfWork& uow) { return service.pack(uow, shipment, 1, 2'000'000, kActor); });
        step(database, [&](db::UnitOfWork& uow) {
            return service.confirmShipment(uow, shipment, "UPS", "ground", number, kActor);
        });
        step(database, [&](db::UnitOfWork& uow) { return service.recordDelivery(uow, shipment, "signed", kActor); });
    }
    database.run([&](db::UnitOfWork& uow) {
        for (const auto& shipment : service.shipments(uow, order_id)) {
            where.push_back(locationCode(services, uow, shipment.location_id) + " " + shipment.tracking);
        }
    });
    return where;
}

std::string joined(const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts) text += (text.empty() ? "" : ", ") + part;
    return text;
}

// Allocation, shipments, the backorder filled from a receipt and a return: once, after the orders arrived.
void fulfil(app::Services& services, db::Database& database, std::ostream& out) {
    auto& service = services.orders;
    std::map<std::string, std::string> ids;
    for (const auto& [channel, external_id] : kOrders) ids[external_id] = orderId(services, database, channel, external_id);

    // The partner buys on account: its purchase orders wait for an operator (payment not authorized), who releases
    // them from the exception queue. M-1005 stays there until its payment is authorized.
    // The EDI orders are on terms (the partner profile's payment = authorized) and go straight to allocation; the
    // marketplace order whose payment is not authorized waits in the exception queue.
    out << "\nException queue\n";
    const auto queue = database.run([&](db::UnitOfWork& uow) { return service.exceptions(uow); });
    for (const auto& e : queue) {
        out << "  " << std::left << std::setw(20) << (e.channel + "/" + e.external_id) << std::right << "on hold:";
        for (const auto& reason : e.reasons) out << " " << reason;
        out << "\n";
    }
    if (queue.empty()) out << "  empty\n";

    out << "\nRouting and allocation (one location when it can ship everything, else the fewest)\n";
    for (const auto& [channel, external_id] : kOrders) {
        const std::string& id = ids[external_id];
        if (id.empty() || external_id == "M-1005") continue;  // M-1005 waits on hold for its payment
        const auto allocated = step(database, [&](db::UnitOfWork& uow) { return service.allocate(uow, id, kActor); });
        out << "  " << std::left << std::setw(20) << (channel + "/" + external_id) << std::right
            << orders::toString(allocated.state) << ": ";
        if (allocated.allocated > 0) {
            out << allocated.allocated << " units from " << allocated.locations
                << (allocated.locations == 1 ? " location" : " locations (a split shipment)");
        }
        if (allocated.backordered > 0) {
            out << (allocated.allocated > 0 ? ", " : "") << allocated.backordered << " units wait for stock";
        }
        out << "\n";
    }

    out << "\nFulfillment (picked, packed, shipped with UPS, delivered, invoiced)\n";
    int tracking = 0;
    for (const char* external_id : {"M-1001", "M-1002", "HB-5001"}) {
        if (ids[external_id].empty()) continue;
        const auto shipments = shipOrder(services, database, ids[external_id], tracking);
        out << "  " << std::left << std::setw(20) << ((external_id[0] == 'H' ? "edi.harbor/" : "marketplace/") +
                                                     std::string(external_id))
            << std::right << shipments.size() << " shipment(s): " << joined(shipments) << "\n";
    }

    // Six chairs arrive at the central warehouse: the backordered order receives them first.
    const auto chair = database.run([&](db::UnitOfWork& uow) { return services.catalog.requireItem(uow, "KL-CHR-001"); });
    step(database, [&](db::UnitOfWork& uow) {
        inventory::ReceiveRequest receipt;
        receipt.item_id = chair.id;
        receipt.location_id = services.catalog.requireLocation(uow, "WH-CENTRAL").id;
        receipt.quantity = 6;
        receipt.unit_cost = Money::parse("72.00", Currency::of("USD"));
        receipt.source = inventory::Source{"demo", "PO-DEMO-CHAIRS", "demo", ""};
        return services.inventory.receive(uow, receipt);
    });
    const auto filled = service.fillBackorders(database, {chair.id}, kActor);
    out << "  receipt: 6 KL-CHR-001 at WH-CENTRAL; backorders filled: " << filled.size() << " order(s)";
    if (!ids["M-1003"].empty()) {
        const auto shipments = shipOrder(services, database, ids["M-1003"], tracking);
        out << "; marketplace/M-1003 shipped: " << joined(shipments);
    }
    out << "\n";

    // The customer of M-1001 sends one mug back: received, inspected, restocked, refunded.
    orders::Returns returns(services.orders, services.inventory);
    const std::string rma = step(database, [&](db::UnitOfWork& uow) {
        return returns.authorize(uow, ids["M-1001"], {{1, 1}}, orders::ReturnReason::kUnwanted, orders::RefundPolicy{},
                                 kActor);
    });
    step(database, [&](db::UnitOfWork& uow) { return returns.receive(uow, rma, {}, std::nullopt, kActor); });
    step(database, [&](db::UnitOfWork& uow) {
        return returns.inspect(uow, rma, 1, orders::Disposition::kRestock, std::nullopt, kActor);
    });
    step(database, [&](db::UnitOfWork& uow) { return returns.close(uow, rma, kActor); });
    const auto closed = database.run([&](db::UnitOfWork& uow) { return returns.find(uow, rma); });
    out << "\nReturn " << rma << " of marketplace/M-1001: 1 KL-MUG-001 (unwanted) received, restocked, closed; refund "
        << Money(closed->refund_amount, *closed->currency).toString() << " USD (credit note on the books)\n";
}

void showOrders(app::Services& services, db::Database& database, std::ostream& out) {
    database.run([&](db::UnitOfWork& uow) {
        out << "\n  " << std::left << std::setw(20) << "order" << std::setw(21) << "state" << std::right
            << std::setw(10) << "total" << std::setw(9) << "shipped" << std::setw(13) << "backordered"
            << std::setw(11) << "shipments\n";
        for (const auto& [channel, external_id] : kOrders) {
            const auto order = services.orders.findByExternal(uow, channel, external_id);
            if (!order) continue;
            std::int64_t shipped = 0;
            std::int64_t backordered = 0;
            for (const auto& line : order->lines) {
                shipped += line.shipped;
                backordered += line.backordered;
            }
            out << "  " << std::left << std::setw(20) << (channel + "/" + external_id) << std::setw(21)
                << orders::toString(order->state) << std::right << std::setw(10)
                << (order->currency ? Money(order->total, *order->currency).toString() : "") << std::setw(9)
                << shipped << std::setw(13) << backordered << std::setw(10)
                << services.orders.shipments(uow, order->id).size() << "\n";
        }
        const auto exceptions = services.orders.exceptions(uow);
        out << "  exception queue: " << exceptions.size() << " order(s)";
        for (const auto& e : exceptions) {
            out << "; " << e.channel << "/" << e.external_id << " " << orders::toString(e.state);
            for (const auto& reason : e.reasons) out << ": " << reason;
        }
        out << "\n";
    });
}

void showTax(app::Services& services, const Poco::Util::AbstractConfiguration& config, std::ostream& out) {
    const std::string instance = config.getString("tax.plugin", "");
    if (instance.empty() || !services.plugins) {
        out << "\n  tax: the rate table (tax.rate.*); `make demo` quotes it through the tax-table plugin instead\n";
        return;
    }
    const auto status = services.plugins->instance(instance);
    if (!status) {
        out << "\n  tax: plugin instance " << instance << " is not configured (plugins.instances)\n";
        return;
    }
    out << "\n  tax: quoted by plugin instance " << status->name << " (" << status->plugin << " " << status->version
        << ", through the plugin SDK): " << plugin_host::toString(status->state) << ", " << status->calls << " call(s)"
        << (status->last_error.empty() ? "" : "; last error: " + status->last_error) << "\n";
}

void showChecks(app::Services& services, db::Database& database, std::ostream& out) {
    events::EventLog log;
    log.sequenceAll(database);
    const auto chain = log.verifyChain(database);
    database.run([&](db::UnitOfWork& uow) {
        const auto report = services.inventory.verify(uow);
        out << "  stock verify: " << report.balances_checked << " balances, " << report.moves_checked
            << " ledger moves, " << report.reservations_checked
            << " active reservations: " << (report.ok() ? "no drift" : std::to_string(report.drifts.size()) + " DRIFTS")
            << "\n";
        out << "  events: " << chain.verified << " numbered and hash-chained, audit chain "
            << (chain.ok ? "ok"
                         : "BROKEN at #" + std::to_string(chain.first_bad_seq.value_or(0)) + ": " + chain.problem)
            << "\n";
        const auto books = services.ledger.verify(uow);
        out << "  ledger verify: " << books.entries_checked << " journal entries balanced, inventory of "
            << books.items_checked << " items reconciled with the stock ledger: "
            << (books.ok() ? "ok" : std::to_string(books.problems.size()) + " MISMATCHES") << "\n";
        for (const auto& p : books.problems) out << "    " << p << "\n";
        const auto tb = services.ledger.trialBalance(uow);
        out << "\nTrial balance (" << tb.currency->code() << ")\n";
        for (const auto& r : tb.rows) {
            out << "  " << std::left << std::setw(19) << r.code << std::setw(31) << r.name << std::right
                << std::setw(11) << (r.debit ? Money(r.debit, *tb.currency).toString() : "") << std::setw(11)
                << (r.credit ? Money(r.credit, *tb.currency).toString() : "") << "\n";
        }
        out << "  " << std::left << std::setw(50) << "total" << std::right << std::setw(11)
            << Money(tb.total_debit, *tb.currency).toString() << std::setw(11)
            << Money(tb.total_credit, *tb.currency).toString()
            << (tb.total_debit == tb.total_credit ? "   balanced" : "   NOT BALANCED") << "\n";
    });
}

// A fresh admin key for the dashboard on every run (a key is shown only once); the demo's earlier keys are revoked.
std::string demoKey(db::Database& database) {
    auth::ApiKeys keys;
    return step(database, [&](db::UnitOfWork& uow) -> Result<std::string> {
        int count = 0;
        for (const auto& key : keys.list(uow)) {
            if (!key.name.starts_with("demo-")) continue;
            ++count;
            if (key.active()) {
                if (auto revoked = keys.revoke(uow, key.name, "demo"); !revoked) return revoked.problem();
            }
        }
        auto created = keys.create(uow, "demo-" + std::to_string(count + 1), auth::Role::kAdmin, "demo");
        if (!created) return created.problem();
        return created.value().token;
    });
}

std::string baseUrl(const std::string& address, int port) {
    const std::string host = address == "0.0.0.0" || address.empty() ? "127.0.0.1" : address;
    return "http://" + host + ":" + std::to_string(port);
}

void showUrls(std::ostream& out, const std::string& base, const std::string& key) {
    out << "\n  dashboard  " << base << "/ui\n"
        << "  REST API   " << base << "/api/v1 (OpenAPI: " << base << "/api/v1/openapi.json), health " << base
        << "/healthz\n"
        << "  API key    " << key << " (role admin, made for this run; earlier demo keys revoked)\n"
        << "             curl -H 'Authorization: Bearer " << key << "' " << base << "/api/v1/orders\n";
}

}  // namespace

int runDemo(Context& context, bool once, const std::string& versions) {
    std::ostringstream quiet;
    std::ostream& out = context.json() ? static_cast<std::ostream&>(quiet) : context.out();
    const auto& config = context.config();
    app::Services& services = cli::services(context);
    db::Database& database = context.database();
    const Samples samples(config);

    loadCatalog(samples, database, out);
    loadStock(samples, services, database, out);
    const bool fresh = takeOrders(samples, services, database, config, out);
    if (fresh) {
        fulfil(services, database, out);
    } else {
        out << "\n  the walkthrough ran on this database before (a fresh database shows the whole story)\n";
    }
    showOrders(services, database, out);
    showTax(services, config, out);
    out << "\nChecks\n";
    showChecks(services, database, out);
    out << "\n" << versions << "\n";

    const std::string key = demoKey(database);
    const std::string address = config.getString("server.address", "127.0.0.1");
    if (once) {
        const std::string base = baseUrl(address, config.getInt("server.port", 8080));
        showUrls(out, base, key);
        out << "  (--once: not serving; `keel demo` or keeld serves them)\n";
        if (context.json()) {
            Poco::JSON::Object result;
            result.set("api_key", key);
            result.set("dashboard", base + "/ui");
            result.set("api", base + "/api/v1");
            context.writeJson(result);
        }
        return 0;
    }
    server::HttpServer http(config, database, services, logging::get("server"));
    const std::string base = baseUrl(address, http.port());
    showUrls(out, base, key);
    out << "\nServing on " << http.address() << " until Ctrl-C\n" << std::flush;
    if (context.json()) {
        Poco::JSON::Object result;
        result.set("api_key", key);
        result.set("dashboard", base + "/ui");
        result.set("api", base + "/api/v1");
        context.writeJson(result);
        context.out() << std::flush;
    }
    const int received = server::waitForTerminationSignal();
    context.err() << "keel demo: stopping (signal " << received << ")\n";
    return 0;
}

}  // namespace keel::cli
