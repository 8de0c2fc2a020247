// keel order ... and keel shipment ...: intake, allocation, holds, cancellation and fulfillment.
#include "keel/cli/cli.h"
#include "order_ref.h"
#include "services.h"

#include "keel/plugin_host/plugin_host.h"

#include "keel/kernel/error.h"
#include "keel/orders/document.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>

namespace keel::cli {

namespace {

using orders::Order;
using orders::OrderState;

template <typename T, typename Work>
T runOrRaise(Context& context, Work&& work) {
    Result<T> result = context.database().run([&](db::UnitOfWork& uow) -> Result<T> { return work(uow); });
    return std::move(result).value();
}

Poco::JSON::Object orderJson(const Order& o) {
    Poco::JSON::Object j;
    j.set("id", o.id);
    j.set("channel", o.channel);
    j.set("external_id", o.external_id);
    j.set("state", std::string(orders::toString(o.state)));
    Poco::JSON::Array holds;
    for (const auto& h : o.holds) holds.add(h);
    j.set("holds", holds);
    j.set("currency", std::string(o.currency->code()));
    j.set("total", Money(o.total, *o.currency).toString());
    j.set("priority", o.priority);
    if (o.promise_date) j.set("promise_date", o.promise_date->toString());
    Poco::JSON::Array lines;
    for (const auto& l : o.lines) {
        Poco::JSON::Object line;
        line.set("line", l.line_no);
        line.set("sku", l.sku);
        line.set("quantity", l.quantity);
        if (l.unit_price) line.set("unit_price", Money(*l.unit_price, *o.currency).toString());
        line.set("allocated", l.allocated);
        line.set("backordered", l.backordered);
        line.set("shipped", l.shipped);
        line.set("cancelled", l.cancelled);
        lines.add(line);
    }
    j.set("lines", lines);
    return j;
}

void printOrder(std::ostream& out, const Order& o) {
    out << o.channel << "/" << o.external_id << "  " << o.id << "\n  state     " << orders::toString(o.state) << "\n";
    for (const auto& h : o.holds) out << "  hold      " << h << "\n";
    out << "  total     " << Money(o.total, *o.currency).toString() << " " << o.currency->code() << "\n"
        << "  ship to   " << o.ship_to.name << ", " << o.ship_to.city << " " << o.ship_to.region << " "
        << o.ship_to.country << "\n";
    out << "  " << std::left << std::setw(5) << "line" << std::setw(20) << "sku" << std::right << std::setw(9)
        << "quantity" << std::setw(11) << "allocated" << std::setw(13) << "backordered" << std::setw(9) << "shipped"
        << std::setw(11) << "cancelled" << "\n";
    for (const auto& l : o.lines) {
        out << "  " << std::left << std::setw(5) << l.line_no << std::setw(20) << l.sku << std::right << std::setw(9)
            << l.quantity << std::setw(11) << l.allocated << std::setw(13) << l.backordered << std::setw(9) << l.shipped
            << std::setw(11) << l.cancelled << "\n";
    }
}

// ------------------------------------------------------------------------------------------------ intake

std::string readInput(const std::string& path) {
    if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RejectedError("cannot read " + path + ": no such readable file");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// One document, or an array of them: each is its own unit of work.
std::vector<std::string> splitDocuments(const std::string& text, const std::string& source) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || text[first] != '[') return {text};
    Poco::JSON::Parser parser;
    Poco::Dynamic::Var parsed;
    try {
        parsed = parser.parse(text);
    } catch (const Poco::Exception& e) {
        throw RejectedError(source + ": not valid JSON: " + e.displayText());
    }
    std::vector<std::string> out;
    const auto array = parsed.extract<Poco::JSON::Array::Ptr>();
    for (std::size_t i = 0; i < array->size(); ++i) {
        std::ostringstream one;
        Poco::JSON::Stringifier::stringify(array->get(i), one);
        out.push_back(one.str());
    }
    return out;
}

int importCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "order import", {});
    args.expectPositional(1, 1, "FILE.json|-");
    const std::string source = args.positional()[0] == "-" ? "stdin" : args.positional()[0];
    const auto documents = splitDocuments(readInput(args.positional()[0]), source);
    Poco::JSON::Array results;
    int worst = 0;
    // Each order in its own unit of work; on SQLite a chunk's orders share commits (Orders::importEach). A chunk at a
    // time, so a large file shows its progress; the answers come in the file's order.
    constexpr std::size_t kChunk = 256;
    for (std::size_t first = 0; first < documents.size(); first += kChunk) {
        const std::size_t end = std::min(documents.size(), first + kChunk);
        std::vector<orders::ParsedDocument> parsed;
        std::vector<orders::OrderDocument> valid;
        for (std::size_t i = first; i < end; ++i) {
            parsed.push_back(orders::parseOrderDocument(documents[i]));
            if (parsed.back().ok()) valid.push_back(*parsed.back().document);
        }
        const auto outcomes = services(context).orders.importEach(context.database(), valid, actor());
        std::size_t next = 0;  // the outcome of the next valid document
        for (std::size_t i = first; i < end; ++i) {
            const std::string where = documents.size() > 1 ? source + "[" + std::to_string(i) + "]" : source;
            const orders::ParsedDocument& document = parsed[i - first];
            Poco::JSON::Object r;
            if (!document.ok()) {
                Poco::JSON::Array problems;
                for (const auto& p : document.problems) {
                    const std::string text = where + ": " + (p.field.empty() ? "" : p.field + ": ") + p.message;
                    problems.add(text);
                    if (!context.json()) context.err() << text << "\n";
                }
                r.set("status", "rejected");
                r.set("problems", problems);
                results.add(r);
                worst = std::max(worst, static_cast<int>(ExitCode::kRejected));
                continue;
            }
            const auto& outcome = outcomes[next++];
            r.set("channel", document.document->channel);
            r.set("external_id", document.document->external_id);
            if (!outcome) {
                r.set("status", "conflict");
                r.set("message", outcome.problem().message);
                if (!context.json()) context.err() << where << ": " << outcome.problem().message << "\n";
                worst = std::max(worst, static_cast<int>(outcome.problem().code));
                results.add(r);
                continue;
            }
            const auto& o = outcome.value();
            const char* status = o.status == orders::ImportStatus::kCreated ? "created" : "already imported";
            r.set("status", o.status == orders::ImportStatus::kCreated ? "created" : "already_imported");
            r.set("order_id", o.order_id);
            r.set("state", std::string(orders::toString(o.state)));
            Poco::JSON::Array holds;
            for (const auto& h : o.holds) holds.add(h);
            r.set("holds", holds);
            results.add(r);
            if (!context.json()) {
                context.out() << document.document->channel << "/" << document.document->external_id << ": " << status
                              << " " << o.order_id << " (" << orders::toString(o.state) << ")\n";
                for (const auto& h : o.holds) context.out() << "  hold: " << h << "\n";
            }
        }
    }
    // A tax plugin's breaker may have opened during intake, whose unit of work could not write the exception row.
    if (services(context).plugins) services(context).plugins->flushExceptions();
    if (context.json()) {
        Poco::JSON::Object body;
        body.set("orders", results);
        context.writeJson(body);
    }
    return worst;
}

// ----------------------------------------------------------------------------------- allocation and holds

int allocateCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "order allocate", {}, {"all"});
    args.expectPositional(args.flag("all") ? 0 : 1, args.flag("all") ? 0 : 1, "ID|--all");
    auto& o = services(context).orders;
    std::vector<std::string> ids;
    if (args.flag("all")) {
        ids = context.database().run([&](db::UnitOfWork& uow) { return o.allocationQueue(uow, 100000); });
    } else {
        ids.push_back(context.database().run([&](db::UnitOfWork& uow) { return resolveOrderReference(context, uow, args.positional()[0]); }));
    }
    Poco::JSON::Array results;
    int worst = 0;
    // Each order in its own unit of work, in queue order; on SQLite a chunk's units share commits (allocateEach). A
    // chunk at a time, so a long queue shows its progress.
    constexpr std::size_t kChunk = 256;
    std::vector<Result<orders::AllocationOutcome>> outcomes;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        if (i % kChunk == 0) {
            const auto end = ids.begin() + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + kChunk));
            outcomes =
                o.allocateEach(context.database(),
                               std::vector<std::string>(ids.begin() + static_cast<std::ptrdiff_t>(i), end), actor());
        }
        const std::string& id = ids[i];
        const auto& outcome = outcomes[i % kChunk];
        Poco::JSON::Object r;
        r.set("order_id", id);
        if (!outcome) {
            r.set("error", outcome.problem().message);
            if (!context.json()) context.err() << id << ": " << outcome.problem().message << "\n";
            worst = std::max(worst, static_cast<int>(outcome.problem().code));
        } else {
            r.set("state", std::string(orders::toString(outcome.value().state)));
            r.set("allocated", outcome.value().allocated);
            r.set("backordered", outcome.value().backordered);
            if (!context.json()) {
                context.out() << id << ": " << orders::toString(outcome.value().state) << " (" << outcome.value().allocated
                              << " allocated, " << outcome.value().backordered << " backordered)\n";
            }
        }
        results.add(r);
    }
    if (context.json()) {
        Poco::JSON::Object body;
        body.set("orders", results);
        context.writeJson(body);
    } else if (ids.empty()) {
        context.out() << "no order waits for allocation\n";
    }
    return args.flag("all") ? 0 : worst;
}

int stateCommand(Context& context, const std::vector<std::string>& raw, const std::string& name) {
    const Arguments args(raw, "order " + name, {"reason", "line"});
    args.expectPositional(1, 1, "ID [--reason R]" + std::string(name == "cancel" ? " [--line N]" : ""));
    auto& o = services(context).orders;
    const std::string reason = args.value("reason").value_or("");
    if (name == "reject" && reason.empty()) throw UsageError("keel order reject: --reason is required");
    const auto state = runOrRaise<OrderState>(context, [&](db::UnitOfWork& uow) -> Result<OrderState> {
        const std::string id = resolveOrderReference(context, uow, args.positional()[0]);
        if (name == "hold") return o.hold(uow, id, reason, actor());
        if (name == "release") return o.release(uow, id, actor());
        if (name == "reject") return o.reject(uow, id, reason, actor());
        if (name == "close") return o.close(uow, id, actor());
        std::optional<int> line;
        if (auto n = args.integerValue("line")) line = static_cast<int>(*n);
        return o.cancel(uow, id, line, reason, actor());
    });
    if (context.json()) {
        Poco::JSON::Object body;
        body.set("state", std::string(orders::toString(state)));
        context.writeJson(body);
    } else {
        context.out() << "order is " << orders::toString(state) << "\n";
    }
    return 0;
}

int showCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "order show", {});
    args.expectPositional(1, 1, "ID|CHANNEL/EXTERNAL_ID");
    auto& o = services(context).orders;
    const auto [order, shipments] = context.database().run([&](db::UnitOfWork& uow) {
        const std::string id = resolveOrderReference(context, uow, args.positional()[0]);
        return std::pair{*o.find(uow, id), o.shipments(uow, id)};
    });
    if (context.json()) {
        Poco::JSON::Object body = orderJson(order);
        Poco::JSON::Array list;
        for (const auto& s : shipments) {
            Poco::JSON::Object sj;
            sj.set("id", s.id);
            sj.set("state", std::string(orders::toString(s.state)));
            sj.set("tracking", s.tracking);
            list.add(sj);
        }
        body.set("shipments", list);
        context.writeJson(body);
        return 0;
    }
    printOrder(context.out(), order);
    for (const auto& s : shipments) {
        context.out() << "  shipment  " << s.id << "  " << orders::toString(s.state)
                      << (s.tracking.empty() ? "" : "  " + s.carrier + " " + s.tracking) << "\n";
    }
    return 0;
}

int listCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "order list", {"state", "limit"});
    args.expectPositional(0, 0, "[--state S] [--limit N]");
    std::optional<OrderState> state;
    if (auto text = args.value("state")) {
        state = orders::orderStateFrom(*text);
        if (!state) throw UsageError("--state '" + *text + "' is not an order state (e.g. on_hold, allocated, shipped)");
    }
    const auto limit = static_cast<std::size_t>(args.integerValue("limit").value_or(1000));
    const auto list = context.database().run([&](db::UnitOfWork& uow) { return services(context).orders.list(uow, state, limit); });
    if (context.json()) {
        Poco::JSON::Array array;
        for (const auto& o : list) array.add(orderJson(o));
        Poco::JSON::Object body;
        body.set("orders", array);
        context.writeJson(body);
        return 0;
    }
    for (const auto& o : list) {
        context.out() << std::left << std::setw(38) << o.id << std::setw(28) << (o.channel + "/" + o.external_id)
                      << std::setw(20) << orders::toString(o.state) << std::right << std::setw(12)
                      << Money(o.total, *o.currency).toString() << " " << o.currency->code();
        if (!o.holds.empty()) context.out() << "  " << o.holds.front();
        context.out() << "\n";
    }
    return 0;
}

int exceptionsCommand(Context& context, const std::vector<std::string>& raw) {
    expectNoArguments(raw, "order exceptions");
    const auto queue = context.database().run([&](db::UnitOfWork& uow) { return services(context).orders.exceptions(uow); });
    // Failed integrations (a plugin's breaker, its reported errors, dead-lettered events) share the queue.
    const auto integrations = plugin_host::openExceptions(context.database(), 1000);
    const std::int64_t now = Clock::system().nowMicros();
    if (context.json()) {
        Poco::JSON::Array array;
        for (const auto& e : queue) {
            Poco::JSON::Object j;
            j.set("order_id", e.order_id);
            j.set("reference", e.channel + "/" + e.external_id);
            j.set("state", std::string(orders::toString(e.state)));
            Poco::JSON::Array reasons;
            for (const auto& r : e.reasons) reasons.add(r);
            j.set("reasons", reasons);
            j.set("age_seconds", e.age_micros / 1'000'000);
            array.add(j);
        }
        Poco::JSON::Array failed;
        for (const auto& e : integrations) {
            Poco::JSON::Object j;
            j.set("id", e.id);
            j.set("source", e.source);
            j.set("code", e.code);
            j.set("message", e.message);
            j.set("reference", e.reference);
            j.set("age_seconds", (now - e.created_at) / 1'000'000);
            failed.add(j);
        }
        Poco::JSON::Object body;
        body.set("exceptions", array);
        body.set("integrations", failed);
        context.writeJson(body);
        return 0;
    }
    if (queue.empty() && integrations.empty()) context.out() << "the exception queue is empty\n";
    for (const auto& e : queue) {
        context.out() << e.channel << "/" << e.external_id << "  " << orders::toString(e.state) << "  age "
                      << e.age_micros / 3'600'000'000 << " h  " << e.order_id << "\n";
        for (const auto& r : e.reasons) context.out() << "    " << r << "\n";
    }
    for (const auto& e : integrations) {
        context.out() << e.source << "  " << e.code << "  age " << (now - e.created_at) / 3'600'000'000 << " h  "
                      << e.reference << "\n    " << e.message << "\n";
    }
    return 0;
}

// ---------------------------------------------------------------------------------------------- shipments

int shipmentCommand(Context& context, const std::vector<std::string>& raw, const std::string& name) {
    const Arguments args(raw, "shipment " + name, {"carrier", "tracking", "service", "packages", "weight-g", "proof"});
    args.expectPositional(1, 1, name == "release" ? "ORDER" : "SHIPMENT_ID");
    auto& o = services(context).orders;
    if (name == "release") {
        const auto ids = runOrRaise<std::vector<std::string>>(context, [&](db::UnitOfWork& uow) {
            return o.releaseToFulfillment(uow, resolveOrderReference(context, uow, args.positional()[0]), actor());
        });
        if (context.json()) {
            Poco::JSON::Array list;
            for (const auto& id : ids) list.add(id);
            Poco::JSON::Object body;
            body.set("shipments", list);
            context.writeJson(body);
        } else {
            for (const auto& id : ids) context.out() << "shipment " << id << " released to fulfillment\n";
        }
        return 0;
    }
    const std::string id = args.positional()[0];
    const auto state = runOrRaise<orders::ShipmentState>(context, [&](db::UnitOfWork& uow) -> Result<orders::ShipmentState> {
        if (name == "pick") return o.pick(uow, id, actor());
        if (name == "pack") {
            std::optional<std::int64_t> weight;
            if (auto grams = args.integerValue("weight-g")) weight = *grams * 1000;
            return o.pack(uow, id, static_cast<int>(args.integerValue("packages").value_or(1)), weight, actor());
        }
        if (name == "confirm") {
            return o.confirmShipment(uow, id, args.value("carrier").value_or(""), args.value("service").value_or(""),
                                     args.value("tracking").value_or(""), actor());
        }
        return o.recordDelivery(uow, id, args.value("proof").value_or(""), actor());
    });
    if (context.json()) {
        Poco::JSON::Object body;
        body.set("state", std::string(orders::toString(state)));
        context.writeJson(body);
    } else {
        context.out() << "shipment " << id << " is " << orders::toString(state) << "\n";
    }
    return 0;
}

}  // namespace

void addOrderCommands(std::vector<Command>& table) {
    table.push_back({{"order", "import"}, "FILE.json|-", "take orders in (one document or an array of them)",
                     "The canonical order document (docs/order.schema.json). A malformed document is refused with\n"
                     "every problem (field path, value, reason) and exit 2. A valid one is stored, validated and priced;\n"
                     "problems of substance (unknown item, missing price, incomplete address, payment not authorized,\n"
                     "fraud review, credit limit) put it on hold with the reason instead. The same order again reports\n"
                     "\"already imported\"; a different document under the same channel and id is a conflict (exit 4).",
                     importCommand});
    table.push_back({{"order", "allocate"}, "ID|--all", "reserve stock for orders by the routing rules",
                     "One location when one can ship everything (priority, then nearness to the customer), otherwise\n"
                     "as few as possible; ship-complete orders are held rather than split; what is missing is\n"
                     "backordered when the channel allows it. --all goes by priority, promise date, then age.",
                     allocateCommand});
    table.push_back({{"order", "show"}, "ID|CHANNEL/EXTERNAL_ID", "show an order, its lines and shipments", "", showCommand});
    table.push_back({{"order", "list"}, "[--state S] [--limit N]", "list orders, oldest first", "", listCommand});
    table.push_back({{"order", "exceptions"},
                     "",
                     "the exception queue: held and overdue orders, and failed integrations, with reasons and age",
                     "",
                     exceptionsCommand});
    table.push_back({{"order", "hold"}, "ID [--reason R]", "put an order on hold", "",
                     [](Context& c, const std::vector<std::string>& a) { return stateCommand(c, a, "hold"); }});
    table.push_back({{"order", "release"}, "ID", "release a held order",
                     "Overrides payment, fraud, credit and operator holds; checks items, prices and address again.",
                     [](Context& c, const std::vector<std::string>& a) { return stateCommand(c, a, "release"); }});
    table.push_back({{"order", "reject"}, "ID --reason R", "reject a held order (its stock is released)", "",
                     [](Context& c, const std::vector<std::string>& a) { return stateCommand(c, a, "reject"); }});
    table.push_back({{"order", "cancel"}, "ID [--line N] [--reason R]",
                     "cancel an order or one line before it ships; reservations are released", "",
                     [](Context& c, const std::vector<std::string>& a) { return stateCommand(c, a, "cancel"); }});
    table.push_back({{"order", "close"}, "ID", "close an invoiced order (the end of its lifecycle)",
                     "An order becomes invoiced when it is delivered and every shipped unit is invoiced; closing it\n"
                     "is the operator's last step.",
                     [](Context& c, const std::vector<std::string>& a) { return stateCommand(c, a, "close"); }});
    table.push_back({{"shipment", "release"}, "ORDER", "hand an order's allocated stock to fulfillment (a shipment per location)",
                     "", [](Context& c, const std::vector<std::string>& a) { return shipmentCommand(c, a, "release"); }});
    table.push_back({{"shipment", "pick"}, "SHIPMENT_ID", "record that picking started", "",
                     [](Context& c, const std::vector<std::string>& a) { return shipmentCommand(c, a, "pick"); }});
    table.push_back({{"shipment", "pack"}, "SHIPMENT_ID [--packages N] [--weight-g G]", "record packing", "",
                     [](Context& c, const std::vector<std::string>& a) { return shipmentCommand(c, a, "pack"); }});
    table.push_back({{"shipment", "confirm"}, "SHIPMENT_ID [--carrier C] [--tracking T] [--service S]",
                     "confirm a shipment shipped: its stock leaves the location", "",
                     [](Context& c, const std::vector<std::string>& a) { return shipmentCommand(c, a, "confirm"); }});
    table.push_back({{"shipment", "deliver"}, "SHIPMENT_ID [--proof P]", "record delivery (proof of delivery)", "",
                     [](Context& c, const std::vector<std::string>& a) { return shipmentCommand(c, a, "deliver"); }});
}

}  // namespace keel::cli
