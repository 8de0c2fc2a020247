#include "demo.h"

#include "keel/catalog/catalog.h"
#include "keel/events/log.h"
#include "keel/inventory/inventory.h"
#include "keel/orders/document.h"

#include <iomanip>
#include <map>
#include <ostream>

namespace keel::cli {

namespace {

catalog::Location location(const std::string& code, const std::string& region, int priority) {
    catalog::Location l;
    l.code = code;
    l.name = "Demo warehouse " + code;
    l.priority = priority;
    l.country = "US";
    l.region = region;
    return l;
}

// Receipts, an order's allocation and a cart hold, once per database.
void seed(db::UnitOfWork& uow, const catalog::Catalog& catalog, inventory::Inventory& inventory, std::ostream& out) {
    const std::string east = catalog.saveLocation(uow, location("WH-EAST", "NY", 10));
    const std::string west = catalog.saveLocation(uow, location("WH-WEST", "CA", 20));
    catalog::Item mug;
    mug.sku = "DEMO-MUG";
    mug.name = "Stoneware mug";
    mug.safety_stock = 2;
    mug.units.push_back({"case", 12, std::nullopt});
    const std::string mug_id = catalog.saveItem(uow, mug);
    catalog::Item tea;
    tea.sku = "DEMO-TEA";
    tea.name = "Green tea, 100 g";
    tea.lot_tracked = true;
    tea.expiry_tracked = true;
    tea.shelf_life_days = 365;
    const std::string tea_id = catalog.saveItem(uow, tea);
    catalog::Item gift;
    gift.sku = "DEMO-GIFT";
    gift.name = "Mug and tea gift set";
    gift.is_kit = true;
    gift.components = {{"", "DEMO-MUG", 1}, {"", "DEMO-TEA", 2}};
    catalog.saveItem(uow, gift);

    const Date today = Date::today(Clock::system());
    auto receive = [&](const std::string& item, const std::string& at, std::int64_t quantity,
                       std::optional<std::string> lot, std::optional<Date> expiry, const char* cost) {
        inventory::ReceiveRequest r;
        r.item_id = item;
        r.location_id = at;
        r.quantity = quantity;
        r.lot_code = std::move(lot);
        r.expiry = expiry;
        r.unit_cost = Money::parse(cost, Currency::of("USD"));
        r.source = inventory::Source{"demo", "PO-DEMO-1", "demo", ""};
        (void)inventory.receive(uow, r).value();
    };
    receive(mug_id, east, 36, std::nullopt, std::nullopt, "3.10");
    receive(mug_id, west, 24, std::nullopt, std::nullopt, "3.10");
    receive(tea_id, east, 60, std::string("T-FRESH"), today.plusDays(180), "1.95");
    receive(tea_id, east, 10, std::string("T-OLD"), today.plusDays(-1), "1.95");  // expired: never available
    out << "  received 36 + 24 DEMO-MUG, 60 DEMO-TEA (lot T-FRESH) and 10 expired DEMO-TEA (lot T-OLD)\n";

    inventory::ReserveRequest gifts;
    gifts.item_id = catalog.requireItem(uow, "DEMO-GIFT").id;
    gifts.location_id = east;
    gifts.quantity = 3;
    gifts.order_id = "DEMO-1001";
    gifts.order_line = "1";
    (void)inventory.reserve(uow, gifts).value();
    inventory::ReserveRequest cart;
    cart.item_id = mug_id;
    cart.location_id = west;
    cart.quantity = 5;
    cart.kind = inventory::ReservationKind::kHold;
    cart.ttl_micros = 900'000'000;
    cart.order_id = "CART-42";
    (void)inventory.reserve(uow, cart).value();
    inventory.setChannelRule(uow, "marketplace", "", inventory::ChannelRule{50, std::nullopt});
    out << "  order DEMO-1001 allocated 3 gift sets (3 mugs, 6 tea, first expiring lot first); cart CART-42 holds 5 "
           "mugs\n"
        << "  channel rule: the marketplace sees 50% of what is available\n";
}

}  // namespace

void inventoryDemo(app::Services& services, db::Database& database, std::ostream& out) {
    const catalog::Catalog& catalog = services.catalog;
    inventory::Inventory& inventory = services.inventory;
    out << "\nInventory\n";
    database.run([&](db::UnitOfWork& uow) {
        if (catalog.findItem(uow, "DEMO-MUG")) {
            out << "  demo stock already loaded (a fresh database shows the whole story)\n";
        } else {
            seed(uow, catalog, inventory, out);
        }
    });
    database.run([&](db::UnitOfWork& uow) {
        out << "\n  " << std::left << std::setw(12) << "sku" << std::right << std::setw(10) << "available"
            << std::setw(13) << "marketplace"
            << "   by location\n";
        for (const char* sku : {"DEMO-MUG", "DEMO-TEA", "DEMO-GIFT"}) {
            const auto item = catalog.requireItem(uow, sku);
            const auto all = inventory.atp(uow, item.id);
            const auto marketplace = inventory.atp(uow, item.id, std::nullopt, std::string_view("marketplace"));
            out << "  " << std::left << std::setw(12) << sku << std::right << std::setw(10) << all.available
                << std::setw(13) << marketplace.available << "   ";
            for (const auto& line : all.locations) out << line.location_code << " " << line.available << "  ";
            out << "\n";
        }
    });
}

namespace {

std::string orderJson(const std::string& external_id, const std::string& payment, const std::string& region,
                      const std::string& lines) {
    // A consistent address per state: destination tax (the tax-table plugin) checks the ZIP against the state.
    const bool ny = region == "NY";
    return R"({"type": "order", "version": 1, "channel": "web", "external_id": ")" + external_id +
           R"(", "currency": "USD", "customer": {"email": "ann@example.com", "name": "Ann Lee"}, )"
           R"("ship_to": {"name": "Ann Lee", "line1": "1 Main St", "city": ")" +
           (ny ? "New York" : "San Francisco") + R"(", "region": ")" + region + R"(", "postal_code": ")" +
           (ny ? "10001" : "94103") + R"(", "country": "US"}, "lines": [)" + lines +
           R"(], "shipping": {"amount": "5.00", "service": "ground"}, "payment": {"status": ")" + payment + R"("}})";
}

const std::vector<std::pair<std::string, std::string>>& demoOrders() {
    static const std::vector<std::pair<std::string, std::string>> documents = {
        {"W-1001", orderJson("W-1001", "captured", "NY",
                             R"({"sku": "DEMO-MUG", "quantity": 2, "unit_price": "12.50"}, )"
                             R"({"sku": "DEMO-GIFT", "quantity": 1, "unit_price": "29.00", "discount": "4.00"})")},
        {"W-1002", orderJson("W-1002", "pending", "NY", R"({"sku": "DEMO-TEA", "quantity": 3, "unit_price": "6.00"})")},
        {"W-1003",
         orderJson("W-1003", "authorized", "CA", R"({"sku": "DEMO-MUG", "quantity": 60, "unit_price": "11.00"})")},
    };
    return documents;
}

template <typename Work>
auto step(db::Database& database, Work&& work) {
    return database.run([&](db::UnitOfWork& uow) { return work(uow); }).value();
}

void runOrders(orders::Orders& service, db::Database& database, std::ostream& out) {
    const orders::Actor actor{"demo"};
    std::map<std::string, std::string> ids;
    for (const auto& [external_id, text] : demoOrders()) {
        const auto parsed = orders::parseOrderDocument(text);
        const auto imported = service.importDocument(database, *parsed.document, actor).value();
        ids[external_id] = imported.order_id;
        out << "  web/" << external_id << "  imported: " << orders::toString(imported.state);
        for (const auto& hold : imported.holds) out << " (" << hold << ")";
        out << "\n";
    }
    const auto again =
        service.importDocument(database, *orders::parseOrderDocument(demoOrders()[0].second).document, actor);
    out << "  web/W-1001  sent again: "
        << (again.value().status == orders::ImportStatus::kAlreadyImported ? "already imported, nothing changed"
                                                                           : "NOT recognised as a re-send")
        << "\n";

    for (const char* external_id : {"W-1001", "W-1003"}) {
        const auto allocated =
            step(database, [&](db::UnitOfWork& uow) { return service.allocate(uow, ids[external_id], actor); });
        out << "  web/" << external_id << "  allocate: " << orders::toString(allocated.state) << ", "
            << allocated.allocated << " allocated from " << allocated.locations << " location(s), "
            << allocated.backordered << " backordered\n";
    }
    const auto shipments =
        step(database, [&](db::UnitOfWork& uow) { return service.releaseToFulfillment(uow, ids["W-1001"], actor); });
    for (const auto& shipment : shipments) {
        step(database, [&](db::UnitOfWork& uow) { return service.pick(uow, shipment, actor); });
        step(database, [&](db::UnitOfWork& uow) { return service.pack(uow, shipment, 1, 1'400'000, actor); });
        step(database, [&](db::UnitOfWork& uow) {
            return service.confirmShipment(uow, shipment, "UPS", "ground", "1Z-DEMO-1001", actor);
        });
        step(database,
             [&](db::UnitOfWork& uow) { return service.recordDelivery(uow, shipment, "signed: A. Lee", actor); });
    }
    out << "  web/W-1001  " << shipments.size()
        << " shipment released, picked, packed, shipped with UPS 1Z-DEMO-1001, delivered\n";
}

}  // namespace

void ordersDemo(orders::Orders& service, db::Database& database, std::ostream& out) {
    out << "\nOrders\n";
    const bool loaded =
        database.run([&](db::UnitOfWork& uow) { return service.findByExternal(uow, "web", "W-1001").has_value(); });
    if (loaded) {
        out << "  demo orders already imported (a fresh database shows the whole story)\n";
    } else {
        runOrders(service, database, out);
    }
    database.run([&](db::UnitOfWork& uow) {
        out << "\n  " << std::left << std::setw(12) << "order" << std::setw(21) << "state" << std::right
            << std::setw(10) << "total" << std::setw(10) << "shipped" << std::setw(13) << "backordered"
            << "\n";
        for (const auto& [external_id, text] : demoOrders()) {
            const auto order = service.findByExternal(uow, "web", external_id);
            if (!order) continue;
            std::int64_t shipped = 0;
            std::int64_t backordered = 0;
            for (const auto& line : order->lines) {
                shipped += line.shipped;
                backordered += line.backordered;
            }
            out << "  " << std::left << std::setw(12) << external_id << std::setw(21) << orders::toString(order->state)
                << std::right << std::setw(10) << Money(order->total, *order->currency).toString() << std::setw(10)
                << shipped << std::setw(13) << backordered << "\n";
        }
        const auto exceptions = service.exceptions(uow);
        out << "\n  exception queue: " << exceptions.size() << " order(s)";
        for (const auto& e : exceptions) {
            out << "; " << e.channel << "/" << e.external_id << " " << orders::toString(e.state);
            for (const auto& reason : e.reasons) out << ": " << reason;
        }
        out << "\n";
    });
}

void taxDemo(app::Services& services, const Poco::Util::AbstractConfiguration& config, std::ostream& out) {
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

void verifyDemo(app::Services& services, db::Database& database, std::ostream& out) {
    events::EventLog log;
    log.sequenceAll(database);
    const auto chain = log.verifyChain(database);
    database.run([&](db::UnitOfWork& uow) {
        const auto report = services.inventory.verify(uow);
        out << "\n  stock verify: " << report.balances_checked << " balances, " << report.moves_checked
            << " ledger moves, " << report.reservations_checked
            << " active reservations: " << (report.ok() ? "no drift" : std::to_string(report.drifts.size()) + " DRIFTS")
            << "\n";
        out << "  events: " << chain.verified << " numbered and hash-chained, audit chain "
            << (chain.ok ? "ok"
                         : "BROKEN at #" + std::to_string(chain.first_bad_seq.value_or(0)) + ": " + chain.problem)
            << " (head #" << chain.head_seq << " " << chain.head_hash.substr(0, 16) << "...)\n";
        const auto books = services.ledger.verify(uow);
        out << "  ledger verify: " << books.entries_checked << " journal entries balanced, inventory of "
            << books.items_checked << " items reconciled with the stock ledger: "
            << (books.ok() ? "ok" : std::to_string(books.problems.size()) + " MISMATCHES") << "\n";
        for (const auto& p : books.problems) out << "    " << p << "\n";
        const auto tb = services.ledger.trialBalance(uow);
        out << "\n  trial balance (" << tb.currency->code() << ")\n";
        for (const auto& r : tb.rows) {
            out << "  " << std::left << std::setw(16) << r.code << std::setw(34) << r.name << std::right
                << std::setw(10) << (r.debit ? Money(r.debit, *tb.currency).toString() : "") << std::setw(10)
                << (r.credit ? Money(r.credit, *tb.currency).toString() : "") << "\n";
        }
        out << "  " << std::left << std::setw(50) << "total" << std::right << std::setw(10)
            << Money(tb.total_debit, *tb.currency).toString() << std::setw(10)
            << Money(tb.total_credit, *tb.currency).toString() << "\n";
    });
}

}  // namespace keel::cli
