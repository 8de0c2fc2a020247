// keel stock ...: receipts, adjustments, reservations, transfers, counts, quarantine, returns, write-offs,
// available-to-promise, balances, the go-live import and `stock verify`.
#include "keel/cli/cli.h"
#include "progress.h"
#include "services.h"

#include "keel/catalog/catalog.h"
#include "keel/inventory/inventory.h"
#include "keel/inventory/stock_import.h"
#include "keel/kernel/error.h"

#include <Poco/Environment.h>
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <fstream>
#include <iomanip>
#include <ostream>

namespace keel::cli {

namespace {

using inventory::Inventory;
using inventory::StockState;


inventory::Source cliSource(const Arguments& args) {
    inventory::Source source;
    source.type = "cli";
    source.actor = Poco::Environment::get("USER", "cli");
    source.note = args.value("note").value_or("");
    return source;
}

std::optional<std::string> lotOption(const Arguments& args) { return args.value("lot"); }

std::int64_t positiveQuantity(const Arguments& args, const std::string& text) {
    const std::int64_t quantity = args.integer(text, "quantity");
    if (quantity <= 0) throw RejectedError("quantity must be a positive whole number of base units, got " + text);
    return quantity;
}

StockState stateArgument(const std::string& text, const std::string& option) {
    auto state = inventory::stockStateFrom(text);
    if (!state) {
        throw UsageError(option + " '" + text + "': expected on_hand, quarantined, in_transit, returned or damaged");
    }
    return *state;
}

/// Runs one unit of work whose result is a keel::Result; a Problem becomes the matching exit code.
template <typename T, typename Work>
T runOrRaise(Context& context, Work&& work) {
    Result<T> result = context.database().run([&](db::UnitOfWork& uow) -> Result<T> { return work(uow); });
    return std::move(result).value();
}

void printMoved(Context& context, const std::string& what, const std::string& move_id) {
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("move_id", move_id);
        context.writeJson(o);
    } else {
        context.out() << what << " (move " << move_id << ")\n";
    }
}

// ---------------------------------------------------------------------------------------------- commands

int receiveCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock receive", {"lot", "expiry", "unit-cost", "currency", "uom", "note"});
    args.expectPositional(3, 3, "SKU LOCATION QTY [--lot L --expiry YYYY-MM-DD --unit-cost AMOUNT]");
    std::optional<Date> expiry;
    if (auto text = args.value("expiry")) {
        auto date = Date::parse(*text);
        if (!date) throw RejectedError("--expiry: " + date.problem().message);
        expiry = date.value();
    }
    std::optional<Money> cost;
    if (auto text = args.value("unit-cost")) {
        cost = Money::parse(*text, Currency::of(args.value("currency").value_or(
                                      context.config().getString("ledger.currency", "USD"))));
    }
    std::string item_id;
    const auto result = runOrRaise<inventory::ReceiveResult>(context, [&](db::UnitOfWork& uow) {
        const catalog::Item item = services(context).catalog.requireItem(uow, args.positional()[0]);
        item_id = item.id;
        const catalog::Location location = services(context).catalog.requireLocation(uow, args.positional()[1]);
        inventory::ReceiveRequest request;
        request.item_id = item.id;
        request.location_id = location.id;
        request.quantity = positiveQuantity(args, args.positional()[2]);
        if (auto uom = args.value("uom")) request.quantity = services(context).catalog.toBaseUnits(item, request.quantity, *uom);
        request.lot_code = lotOption(args);
        request.expiry = expiry;
        request.unit_cost = cost;
        request.source = cliSource(args);
        return services(context).inventory.receive(uow, request);
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("move_id", result.move_id);
        o.set("lot_id", result.lot_id);
        o.set("state", std::string(inventory::toString(result.state)));
        context.writeJson(o);
    } else {
        context.out() << "received into " << inventory::toString(result.state) << " (move " << result.move_id << ")\n";
    }
    if (result.state == StockState::kOnHand) fillBackorders(context, {item_id});
    return 0;
}

int adjustCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock adjust", {"reason", "lot", "note"});
    args.expectPositional(3, 3, "SKU LOCATION DELTA --reason R [--lot L]");
    const std::int64_t delta = args.integer(args.positional()[2], "delta");
    const std::string reason = args.required("reason");
    std::string item_id;
    const auto move = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) {
        inventory::AdjustRequest request;
        request.item_id = item_id = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        request.location_id = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        request.lot_code = lotOption(args);
        request.delta = delta;
        request.reason = reason;
        request.source = cliSource(args);
        return services(context).inventory.adjust(uow, request);
    });
    printMoved(context, "adjusted by " + std::to_string(delta), move);
    if (delta > 0) fillBackorders(context, {item_id});
    return 0;
}

int atpCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock atp", {"location", "channel"});
    args.expectPositional(1, 1, "SKU [--location L] [--channel C]");
    const auto channel = args.value("channel");
    const auto [atp, sku] = context.database().run(
        [&](db::UnitOfWork& uow) {
            const catalog::Item item =
                services(context).catalog.requireItem(uow, args.positional()[0], channel.value_or(""));
            std::optional<std::string> location;
            if (auto code = args.value("location")) location = services(context).catalog.requireLocation(uow, *code).id;
            return std::pair{services(context).inventory.atp(
                                 uow, item.id, location ? std::optional<std::string_view>(*location) : std::nullopt,
                                 channel ? std::optional<std::string_view>(*channel) : std::nullopt),
                             item.sku};
        },
        [] {
            db::RunOptions lookup;  // item, location and stock rows need not share a snapshot
            lookup.lookup = true;
            return lookup;
        }());
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("sku", sku);
        o.set("available", atp.available);
        if (channel) o.set("channel", *channel);
        Poco::JSON::Array lines;
        for (const auto& line : atp.locations) {
            Poco::JSON::Object l;
            l.set("location", line.location_code);
            l.set("on_hand", line.on_hand);
            l.set("allocated", line.allocated);
            l.set("safety_stock", line.safety_stock);
            l.set("available", line.available);
            lines.add(l);
        }
        o.set("locations", lines);
        context.writeJson(o);
        return 0;
    }
    context.out() << sku << ": " << atp.available << " available to promise"
                  << (channel ? " on channel " + *channel : std::string()) << "\n";
    if (!atp.locations.empty()) {
        context.out() << "  " << std::left << std::setw(16) << "location" << std::right << std::setw(12) << "on hand"
                      << std::setw(12) << "allocated" << std::setw(12) << "safety" << std::setw(12) << "available" << "\n";
        for (const auto& line : atp.locations) {
            context.out() << "  " << std::left << std::setw(16) << line.location_code << std::right << std::setw(12)
                          << line.on_hand << std::setw(12) << line.allocated << std::setw(12) << line.safety_stock
                          << std::setw(12) << line.available << "\n";
        }
    }
    return 0;
}

int showCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock show", {"location"});
    args.expectPositional(1, 1, "SKU [--location L]");
    struct Row {
        inventory::Balance balance;
        std::string location_code;
    };
    const auto [rows, sku] = context.database().run([&](db::UnitOfWork& uow) {
        const catalog::Item item = services(context).catalog.requireItem(uow, args.positional()[0]);
        std::optional<std::string> location;
        if (auto code = args.value("location")) location = services(context).catalog.requireLocation(uow, *code).id;
        std::vector<Row> out;
        for (auto& b : services(context).inventory.balances(uow, item.id, location ? std::optional<std::string_view>(*location) : std::nullopt)) {
            const auto loc = services(context).catalog.findLocationById(uow, b.location_id);
            out.push_back(Row{std::move(b), loc ? loc->code : b.location_id});
        }
        return std::pair{out, item.sku};
    });
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& r : rows) {
            Poco::JSON::Object o;
            o.set("location", r.location_code);
            o.set("lot", r.balance.lot_code);
            o.set("expiry", r.balance.expiry ? r.balance.expiry->toString() : "");
            o.set("state", std::string(inventory::toString(r.balance.state)));
            o.set("quantity", r.balance.quantity);
            o.set("allocated", r.balance.allocated);
            list.add(o);
        }
        Poco::JSON::Object o;
        o.set("sku", sku);
        o.set("balances", list);
        context.writeJson(o);
        return 0;
    }
    context.out() << sku << "\n  " << std::left << std::setw(16) << "location" << std::setw(16) << "lot" << std::setw(12)
                  << "expiry" << std::setw(13) << "state" << std::right << std::setw(10) << "quantity" << std::setw(11)
                  << "allocated" << "\n";
    for (const auto& r : rows) {
        context.out() << "  " << std::left << std::setw(16) << r.location_code << std::setw(16) << r.balance.lot_code
                      << std::setw(12) << (r.balance.expiry ? r.balance.expiry->toString() : "") << std::setw(13)
                      << inventory::toString(r.balance.state) << std::right << std::setw(10) << r.balance.quantity
                      << std::setw(11) << r.balance.allocated << "\n";
    }
    return 0;
}

int verifyCommand(Context& context, const std::vector<std::string>& raw) {
    expectNoArguments(raw, "stock verify");
    const auto report = context.database().run([&](db::UnitOfWork& uow) { return services(context).inventory.verify(uow); });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("ok", report.ok());
        o.set("balances_checked", report.balances_checked);
        o.set("moves_checked", report.moves_checked);
        o.set("reservations_checked", report.reservations_checked);
        Poco::JSON::Array drifts;
        for (const auto& d : report.drifts) {
            Poco::JSON::Object x;
            x.set("item_id", d.item_id);
            x.set("location_id", d.location_id);
            x.set("lot_id", d.lot_id);
            x.set("state", d.state);
            x.set("what", d.what);
            x.set("balance", d.balance);
            x.set("expected", d.expected);
            drifts.add(x);
        }
        o.set("drifts", drifts);
        context.writeJson(o);
    } else {
        context.out() << "checked " << report.balances_checked << " balances against " << report.moves_checked
                      << " ledger moves and " << report.reservations_checked << " active reservations: "
                      << (report.ok() ? "no drift\n" : std::to_string(report.drifts.size()) + " drifts\n");
        for (const auto& d : report.drifts) {
            context.out() << "  DRIFT item " << d.item_id << " location " << d.location_id << " lot '" << d.lot_id
                          << "' " << d.state << ": " << d.what << " is " << d.balance << ", ledger says "
                          << d.expected << "\n";
        }
    }
    return report.ok() ? 0 : static_cast<int>(ExitCode::kConflict);
}

Poco::JSON::Object reservationJson(const inventory::Reservation& r) {
    Poco::JSON::Object o;
    o.set("id", r.id);
    o.set("lot_id", r.lot_id);
    o.set("quantity", r.quantity);
    o.set("status", r.status);
    if (r.expires_at) o.set("expires_at", formatIso8601(*r.expires_at));
    return o;
}

int reserveCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock reserve", {"order", "line", "channel", "lot", "ttl"}, {"hold", "partial"});
    args.expectPositional(3, 3, "SKU LOCATION QTY [--order O --line N] [--channel C] [--lot L] [--hold --ttl SECONDS] [--partial]");
    const auto result = runOrRaise<inventory::ReserveResult>(context, [&](db::UnitOfWork& uow) {
        inventory::ReserveRequest request;
        request.item_id = services(context).catalog.requireItem(uow, args.positional()[0], args.value("channel").value_or("")).id;
        request.location_id = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        request.quantity = positiveQuantity(args, args.positional()[2]);
        request.kind = args.flag("hold") ? inventory::ReservationKind::kHold : inventory::ReservationKind::kAllocation;
        request.order_id = args.value("order").value_or("");
        request.order_line = args.value("line").value_or("");
        request.channel = args.value("channel").value_or("");
        request.lot_code = lotOption(args);
        if (auto ttl = args.integerValue("ttl")) request.ttl_micros = *ttl * 1'000'000;
        if (request.kind == inventory::ReservationKind::kHold && !request.ttl_micros) request.ttl_micros = 900'000'000;
        request.allow_partial = args.flag("partial");
        return services(context).inventory.reserve(uow, request);
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("reserved", result.reserved);
        Poco::JSON::Array list;
        for (const auto& r : result.reservations) list.add(reservationJson(r));
        o.set("reservations", list);
        context.writeJson(o);
    } else {
        context.out() << "reserved " << result.reserved << "\n";
        for (const auto& r : result.reservations) {
            context.out() << "  " << r.id << "  " << r.quantity << (r.lot_id.empty() ? "" : "  lot " + r.lot_id)
                          << (r.expires_at ? "  until " + formatIso8601(*r.expires_at) : "") << "\n";
        }
    }
    return 0;
}

int releaseCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock release", {"quantity"});
    args.expectPositional(1, 1, "RESERVATION_ID [--quantity Q]");
    const auto released = runOrRaise<std::int64_t>(context, [&](db::UnitOfWork& uow) {
        return services(context).inventory.release(uow, args.positional()[0], args.integerValue("quantity"));
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("released", released);
        context.writeJson(o);
    } else {
        context.out() << "released " << released << "\n";
    }
    return 0;
}

int sweepCommand(Context& context, const std::vector<std::string>& raw) {
    expectNoArguments(raw, "stock sweep");
    std::int64_t total = 0;
    for (;;) {  // batches, each its own unit of work, so a large backlog never holds locks for long
        const std::int64_t expired =
            context.database().run([&](db::UnitOfWork& uow) { return services(context).inventory.sweepExpiredHolds(uow, 500); });
        total += expired;
        if (expired < 500) break;
    }
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("expired", total);
        context.writeJson(o);
    } else {
        context.out() << "expired " << total << " holds\n";
    }
    return 0;
}

int transferShipCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock transfer ship", {"reference", "note"});
    args.expectPositional(3, 1000, "FROM TO SKU=QTY[@LOT] ... [--reference R]");
    const auto id = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) {
        const catalog::Location from = services(context).catalog.requireLocation(uow, args.positional()[0]);
        const catalog::Location to = services(context).catalog.requireLocation(uow, args.positional()[1]);
        std::vector<inventory::TransferLine> lines;
        for (std::size_t i = 2; i < args.positional().size(); ++i) {
            const std::string& spec = args.positional()[i];
            const auto eq = spec.find('=');
            if (eq == std::string::npos || eq == 0) throw UsageError("line '" + spec + "': expected SKU=QTY or SKU=QTY@LOT");
            const auto at = spec.find('@', eq);
            inventory::TransferLine line;
            line.item_id = services(context).catalog.requireItem(uow, spec.substr(0, eq)).id;
            line.quantity = positiveQuantity(args, spec.substr(eq + 1, at == std::string::npos ? std::string::npos : at - eq - 1));
            if (at != std::string::npos) line.lot_code = spec.substr(at + 1);
            lines.push_back(std::move(line));
        }
        return services(context).inventory.shipTransfer(uow, from.id, to.id, lines, args.value("reference").value_or(""), cliSource(args));
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("transfer_id", id);
        context.writeJson(o);
    } else {
        context.out() << "shipped: transfer " << id << " is in transit\n";
    }
    return 0;
}

int transferReceiveCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock transfer receive", {"note"});
    args.expectPositional(1, 1000, "TRANSFER_ID [LINE=QTY ...]");
    std::vector<std::pair<int, std::int64_t>> quantities;
    for (std::size_t i = 1; i < args.positional().size(); ++i) {
        const std::string& spec = args.positional()[i];
        const auto eq = spec.find('=');
        if (eq == std::string::npos) throw UsageError("'" + spec + "': expected LINE=QTY");
        quantities.emplace_back(static_cast<int>(args.integer(spec.substr(0, eq), "line")),
                                positiveQuantity(args, spec.substr(eq + 1)));
    }
    const auto received = runOrRaise<std::int64_t>(context, [&](db::UnitOfWork& uow) {
        return services(context).inventory.receiveTransfer(uow, args.positional()[0], quantities, cliSource(args));
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("received", received);
        context.writeJson(o);
    } else {
        context.out() << "received " << received << "\n";
    }
    fillBackorders(context, {});
    return 0;
}

int transferCloseCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock transfer close", {"note"});
    args.expectPositional(1, 1, "TRANSFER_ID");
    const auto lost = runOrRaise<std::int64_t>(
        context, [&](db::UnitOfWork& uow) { return services(context).inventory.closeTransfer(uow, args.positional()[0], cliSource(args)); });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("written_off", lost);
        context.writeJson(o);
    } else {
        context.out() << "closed; " << lost << " never arrived and were written off\n";
    }
    return 0;
}

int countCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock count", {"lot", "note"}, {"post"});
    args.expectPositional(3, 3, "SKU LOCATION COUNTED [--lot L] [--post]");
    const std::int64_t counted = args.integer(args.positional()[2], "counted");
    struct Outcome {
        std::string id;
        std::int64_t variance = 0;
        bool posted = false;
    };
    const auto outcome = runOrRaise<Outcome>(context, [&](db::UnitOfWork& uow) -> Result<Outcome> {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        const std::string location = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        auto id = services(context).inventory.recordCount(uow, item, location, lotOption(args), counted, cliSource(args));
        if (!id) return id.problem();
        Outcome o{id.value(), 0, false};
        db::Statement& expected = uow.statement("SELECT counted - expected FROM stock_count WHERE id = ?");
        expected.bind(o.id).execute();
        if (expected.next()) o.variance = expected.getInt64(0);
        if (args.flag("post")) {
            auto posted = services(context).inventory.postCount(uow, o.id, cliSource(args));
            if (!posted) return posted.problem();
            o.posted = true;
        }
        return o;
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("count_id", outcome.id);
        o.set("variance", outcome.variance);
        o.set("posted", outcome.posted);
        context.writeJson(o);
    } else {
        context.out() << "count " << outcome.id << ": variance " << outcome.variance
                      << (outcome.posted ? ", posted\n" : " (post it with `keel stock count-post " + outcome.id + "`)\n");
    }
    return 0;
}

int countPostCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock count-post", {"note"});
    args.expectPositional(1, 1, "COUNT_ID");
    const auto variance = runOrRaise<std::int64_t>(
        context, [&](db::UnitOfWork& uow) { return services(context).inventory.postCount(uow, args.positional()[0], cliSource(args)); });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("variance", variance);
        context.writeJson(o);
    } else {
        context.out() << "posted variance " << variance << "\n";
    }
    return 0;
}

// stock quarantine / unquarantine / return-to-stock style commands: one state change at a location.
int stateChange(Context& context, const std::vector<std::string>& raw, const std::string& name, StockState from,
                StockState to, const std::string& reason) {
    const Arguments args(raw, name, {"lot", "note"});
    args.expectPositional(3, 3, "SKU LOCATION QTY [--lot L]");
    const auto move = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        const std::string location = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        return services(context).inventory.changeState(uow, item, location, lotOption(args), from, to,
                                     positiveQuantity(args, args.positional()[2]), reason, cliSource(args));
    });
    printMoved(context, std::string(inventory::toString(from)) + " -> " + std::string(inventory::toString(to)), move);
    if (to == StockState::kOnHand) fillBackorders(context, {});
    return 0;
}

int lotCommand(Context& context, const std::vector<std::string>& raw, bool quarantine) {
    const std::string name = quarantine ? "stock quarantine-lot" : "stock release-lot";
    const Arguments args(raw, name, {"note"});
    args.expectPositional(2, 2, "SKU LOT");
    const auto quantity = runOrRaise<std::int64_t>(context, [&](db::UnitOfWork& uow) {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        return quarantine ? services(context).inventory.quarantineLot(uow, item, args.positional()[1], cliSource(args))
                          : services(context).inventory.releaseLot(uow, item, args.positional()[1], cliSource(args));
    });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set(quarantine ? "still_allocated" : "released", quantity);
        context.writeJson(o);
    } else if (quarantine) {
        context.out() << "lot quarantined"
                      << (quantity > 0 ? "; " + std::to_string(quantity) +
                                             " units are still allocated to orders: release them to pull them back\n"
                                       : "\n");
    } else {
        context.out() << "lot released; " << quantity << " units back on hand\n";
    }
    if (!quarantine) fillBackorders(context, {});
    return 0;
}

int returnCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock return", {"lot", "order", "note"});
    args.expectPositional(3, 3, "SKU LOCATION QTY [--lot L] [--order O]");
    const auto move = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        const std::string location = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        inventory::Source source = cliSource(args);
        if (auto order = args.value("order")) {
            source.type = "order";
            source.id = *order;
        }
        return services(context).inventory.receiveReturn(uow, item, location, lotOption(args),
                                       positiveQuantity(args, args.positional()[2]), source);
    });
    printMoved(context, "returned, awaiting disposition", move);
    return 0;
}

int disposeCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock dispose", {"as", "lot", "note"});
    args.expectPositional(3, 3, "SKU LOCATION QTY --as restock|damaged|quarantine|write-off [--lot L]");
    const std::string as = args.required("as");
    const auto move = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) -> Result<std::string> {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        const std::string location = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        const std::int64_t quantity = positiveQuantity(args, args.positional()[2]);
        if (as == "write-off") {
            return services(context).inventory.writeOff(uow, item, location, lotOption(args), StockState::kReturned, quantity, "return",
                                      cliSource(args));
        }
        StockState to = StockState::kOnHand;
        if (as == "damaged") to = StockState::kDamaged;
        else if (as == "quarantine") to = StockState::kQuarantined;
        else if (as != "restock") throw UsageError("--as '" + as + "': expected restock, damaged, quarantine or write-off");
        return services(context).inventory.changeState(uow, item, location, lotOption(args), StockState::kReturned, to, quantity,
                                     as == "restock" ? "restock" : "return_" + as, cliSource(args));
    });
    printMoved(context, "disposed as " + as, move);
    if (as == "restock") fillBackorders(context, {});
    return 0;
}

int writeOffCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock write-off", {"from", "reason", "lot", "note"});
    args.expectPositional(3, 3, "SKU LOCATION QTY --from STATE --reason R [--lot L]");
    const StockState from = stateArgument(args.value("from").value_or("damaged"), "--from");
    const std::string reason = args.required("reason");
    const auto move = runOrRaise<std::string>(context, [&](db::UnitOfWork& uow) {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        const std::string location = services(context).catalog.requireLocation(uow, args.positional()[1]).id;
        return services(context).inventory.writeOff(uow, item, location, lotOption(args), from,
                                  positiveQuantity(args, args.positional()[2]), reason, cliSource(args));
    });
    printMoved(context, "written off", move);
    return 0;
}

int importCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock import", {"note"});
    args.expectPositional(1, 1, "FILE.csv");
    const std::string path = args.positional()[0];
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RejectedError("cannot read " + path + ": no such readable file");
    const Poco::File file(path);
    Progress progress(context.err(), path, file.getSize());
    const auto result = inventory::importStockLevels(
        context.database(), services(context).inventory, in, path, cliSource(args), context.config().getString("ledger.currency", "USD"),
        [&](std::uint64_t rows, std::uint64_t bytes) { progress.update(rows, bytes); });
    progress.finish();
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("ok", result.ok());
        o.set("rows", result.rows);
        o.set("quantity", result.quantity);
        Poco::JSON::Array problems;
        for (const auto& p : result.problems) problems.add(p);
        o.set("problems", problems);
        context.writeJson(o);
    } else if (result.ok()) {
        context.out() << "imported " << result.rows << " stock levels (" << result.quantity << " units)\n";
    } else {
        for (const auto& p : result.problems) context.err() << p << "\n";
        context.err() << "nothing imported: " << result.problems.size() << " problem"
                      << (result.problems.size() == 1 ? "" : "s") << " in " << path << "\n";
    }
    if (result.ok()) fillBackorders(context, {});
    return result.ok() ? 0 : static_cast<int>(ExitCode::kRejected);
}

int safetyCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock safety", {"location"});
    args.expectPositional(2, 2, "SKU QTY [--location L]");
    const std::int64_t quantity = args.integer(args.positional()[1], "quantity");
    context.database().run([&](db::UnitOfWork& uow) {
        const std::string item = services(context).catalog.requireItem(uow, args.positional()[0]).id;
        std::string location;
        if (auto code = args.value("location")) location = services(context).catalog.requireLocation(uow, *code).id;
        services(context).inventory.setSafetyStock(uow, item, location, quantity);
    });
    context.out() << (context.json() ? "{\"ok\":true}\n" : "safety stock set\n");
    return 0;
}

int channelRuleCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "stock channel-rule", {"sku", "percent", "cap"});
    args.expectPositional(1, 1, "CHANNEL [--sku S] [--percent P] [--cap N]");
    inventory::ChannelRule rule;
    if (auto p = args.integerValue("percent")) rule.percent = static_cast<int>(*p);
    rule.cap = args.integerValue("cap");
    context.database().run([&](db::UnitOfWork& uow) {
        std::string item;
        if (auto sku = args.value("sku")) item = services(context).catalog.requireItem(uow, *sku).id;
        services(context).inventory.setChannelRule(uow, args.positional()[0], item, rule);
    });
    context.out() << (context.json() ? "{\"ok\":true}\n"
                                     : (rule.percent || rule.cap ? "channel rule set\n" : "channel rule removed\n"));
    return 0;
}

}  // namespace

void addStockCommands(std::vector<Command>& table) {
    table.push_back({{"stock", "receive"}, "SKU LOCATION QTY [--lot L] [--expiry YYYY-MM-DD] [--unit-cost AMOUNT] [--currency C] [--uom U] [--note N]",
                     "receive stock into a location",
                     "Lot-tracked items need --lot; expiry-tracked items --expiry (or a shelf life on the item).\n"
                     "QTY is in base units, or in --uom (a unit of the item such as case). Stock of a quarantined\n"
                     "lot arrives quarantined.",
                     receiveCommand});
    table.push_back({{"stock", "adjust"}, "SKU LOCATION DELTA --reason R [--lot L] [--note N]",
                     "adjust on-hand stock up or down with a reason code",
                     "Reasons: found, lost, damaged, shrinkage, correction, sample, expired, other. A decrease can\n"
                     "never take stock that is allocated to orders.",
                     adjustCommand});
    table.push_back({{"stock", "atp"}, "SKU [--location L] [--channel C]", "show available-to-promise",
                     "On hand minus allocated minus safety stock, per location and in total over the locations that\n"
                     "ship to customers; expired and quarantined lots never count. With --channel, the channel's\n"
                     "rule (percentage or cap) limits what it sees. Kits show complete kits from their components.",
                     atpCommand});
    table.push_back({{"stock", "show"}, "SKU [--location L]", "show balances by location, lot and state", "", showCommand});
    table.push_back({{"stock", "verify"}, "", "recompute every balance from the ledger and report drift",
                     "Exit 0 when every balance equals the sum of its ledger moves and every allocation the sum of\n"
                     "its active reservations; 4 (conflict) with the drifting rows otherwise.",
                     verifyCommand});
    table.push_back({{"stock", "reserve"}, "SKU LOCATION QTY [--order O] [--line N] [--channel C] [--lot L] [--hold] [--ttl SECONDS] [--partial]",
                     "reserve stock for an order line, or hold it for a while",
                     "Allocations (default) may use safety stock; holds (--hold, for carts and quotes) may not and\n"
                     "expire after --ttl seconds (default 900) unless released. Lot-tracked items are taken first\n"
                     "expired, first out unless --lot names one. --partial reserves what is there.",
                     reserveCommand});
    table.push_back({{"stock", "release"}, "RESERVATION_ID [--quantity Q]", "release a reservation (or part of it)", "",
                     releaseCommand});
    table.push_back({{"stock", "sweep"}, "", "expire holds whose time is up", "", sweepCommand});
    table.push_back({{"stock", "transfer", "ship"}, "FROM TO SKU=QTY[@LOT] ... [--reference R] [--note N]",
                     "ship stock to another location (it is in transit until received)", "", transferShipCommand});
    table.push_back({{"stock", "transfer", "receive"}, "TRANSFER_ID [LINE=QTY ...] [--note N]",
                     "receive a transfer, all of it or the given quantities per line", "", transferReceiveCommand});
    table.push_back({{"stock", "transfer", "close"}, "TRANSFER_ID [--note N]",
                     "close a transfer, writing off what never arrived", "", transferCloseCommand});
    table.push_back({{"stock", "count"}, "SKU LOCATION COUNTED [--lot L] [--post] [--note N]",
                     "record a cycle count and its variance (and post it with --post)",
                     "The variance is counted minus the on-hand quantity in the books. Posting adjusts the books;\n"
                     "it is refused when stock moved since the count.",
                     countCommand});
    table.push_back({{"stock", "count-post"}, "COUNT_ID [--note N]", "post a recorded count's variance", "",
                     countPostCommand});
    table.push_back({{"stock", "quarantine"}, "SKU LOCATION QTY [--lot L] [--note N]", "move on-hand stock to quarantine (QC)",
                     "", [](Context& c, const std::vector<std::string>& a) {
                         return stateChange(c, a, "stock quarantine", StockState::kOnHand, StockState::kQuarantined,
                                            "quarantine");
                     }});
    table.push_back({{"stock", "unquarantine"}, "SKU LOCATION QTY [--lot L] [--note N]",
                     "return quarantined stock to on hand", "", [](Context& c, const std::vector<std::string>& a) {
                         return stateChange(c, a, "stock unquarantine", StockState::kQuarantined, StockState::kOnHand,
                                            "release");
                     }});
    table.push_back({{"stock", "quarantine-lot"}, "SKU LOT [--note N]", "quarantine a lot everywhere (recall)",
                     "Its unallocated stock moves to quarantine at every location and later receipts of the lot\n"
                     "arrive quarantined; units already allocated to orders are reported.",
                     [](Context& c, const std::vector<std::string>& a) { return lotCommand(c, a, true); }});
    table.push_back({{"stock", "release-lot"}, "SKU LOT [--note N]", "release a quarantined lot", "",
                     [](Context& c, const std::vector<std::string>& a) { return lotCommand(c, a, false); }});
    table.push_back({{"stock", "return"}, "SKU LOCATION QTY [--lot L] [--order O] [--note N]",
                     "receive a customer return, awaiting disposition", "", returnCommand});
    table.push_back({{"stock", "dispose"}, "SKU LOCATION QTY --as restock|damaged|quarantine|write-off [--lot L] [--note N]",
                     "decide what happens to returned stock", "", disposeCommand});
    table.push_back({{"stock", "write-off"}, "SKU LOCATION QTY --from STATE --reason R [--lot L] [--note N]",
                     "take stock off the books (damaged, quarantined, returned or on_hand)", "", writeOffCommand});
    table.push_back({{"stock", "import"}, "FILE.csv [--note N]", "load go-live stock levels from CSV",
                     "Columns: sku, location, quantity (required); lot, expiry (YYYY-MM-DD), unit_cost, currency.\n"
                     "All or nothing: every bad row is reported with its line and column and nothing is written\n"
                     "unless the whole file is good; then every row is received in one transaction.",
                     importCommand});
    table.push_back({{"stock", "safety"}, "SKU QTY [--location L]",
                     "set safety stock (the item's default, or at one location)", "", safetyCommand});
    table.push_back({{"stock", "channel-rule"}, "CHANNEL [--sku S] [--percent P] [--cap N]",
                     "limit what a channel sees and takes (no --percent and no --cap removes the rule)", "",
                     channelRuleCommand});
}

}  // namespace keel::cli
