// keel return ...: customer returns (RMA) from authorization through receipt and inspection to the refund.
#include "commands_returns.h"

#include "order_ref.h"
#include "services.h"

#include "keel/kernel/error.h"
#include "keel/orders/returns.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <iomanip>
#include <ostream>

namespace keel::cli {

namespace {

using orders::ReturnAuthorization;
using orders::Returns;

std::string joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
}

// LINE=QTY words: order lines for create, return lines for receive.
std::vector<std::pair<int, std::int64_t>> lineQuantities(const Arguments& args, std::size_t first) {
    std::vector<std::pair<int, std::int64_t>> out;
    for (std::size_t i = first; i < args.positional().size(); ++i) {
        const std::string& word = args.positional()[i];
        const auto eq = word.find('=');
        if (eq == std::string::npos) throw UsageError("expected LINE=QTY (e.g. 1=2), got '" + word + "'");
        const std::int64_t line = args.integer(word.substr(0, eq), "line");
        const std::int64_t quantity = args.integer(word.substr(eq + 1), "quantity");
        if (line < 1 || line > 1'000'000) throw UsageError("line '" + word.substr(0, eq) + "' is not a line number");
        if (quantity <= 0) throw RejectedError("'" + word + "': the quantity must be a positive whole number");
        out.emplace_back(static_cast<int>(line), quantity);
    }
    return out;
}

Poco::JSON::Object returnJson(const ReturnAuthorization& r) {
    Poco::JSON::Object j;
    j.set("id", r.id);
    j.set("order_id", r.order_id);
    j.set("order", r.order_reference);
    j.set("state", std::string(orders::toString(r.state)));
    j.set("reason", std::string(orders::toString(r.reason)));
    j.set("refund_policy", r.policy.toString());
    j.set("refund_amount", Money(r.refund_amount, *r.currency).toString());
    j.set("currency", std::string(r.currency->code()));
    Poco::JSON::Array lines;
    for (const auto& l : r.lines) {
        Poco::JSON::Object line;
        line.set("line", l.line_no);
        line.set("order_line", l.order_line_no);
        line.set("sku", l.sku);
        line.set("item_id", l.item_id);
        if (!l.lot_code.empty()) line.set("lot", l.lot_code);
        line.set("location", l.location_code);
        line.set("expected", l.expected);
        line.set("received", l.received);
        line.set("restocked", l.restocked);
        line.set("refurbished", l.refurbished);
        line.set("disposed", l.disposed);
        lines.add(line);
    }
    j.set("lines", lines);
    return j;
}

void printReturn(std::ostream& out, const ReturnAuthorization& r) {
    out << "return " << r.id << "  order " << r.order_reference << "\n"
        << "  state     " << orders::toString(r.state) << "\n"
        << "  reason    " << orders::toString(r.reason) << "\n"
        << "  refund    " << Money(r.refund_amount, *r.currency).toString() << " " << r.currency->code() << " ("
        << r.policy.toString() << (r.state == orders::ReturnState::kClosed ? ", due" : ", expected units") << ")\n";
    out << "  " << std::left << std::setw(5) << "line" << std::setw(6) << "order" << std::setw(20) << "sku"
        << std::setw(12) << "lot" << std::setw(10) << "location" << std::right << std::setw(9) << "expected"
        << std::setw(9) << "received" << std::setw(10) << "restocked" << std::setw(12) << "refurbished" << std::setw(9)
        << "disposed"
        << "\n";
    for (const auto& l : r.lines) {
        out << "  " << std::left << std::setw(5) << l.line_no << std::setw(6) << l.order_line_no << std::setw(20)
            << l.sku << std::setw(12) << (l.lot_code.empty() ? "-" : l.lot_code) << std::setw(10) << l.location_code
            << std::right << std::setw(9) << l.expected << std::setw(9) << l.received << std::setw(10) << l.restocked
            << std::setw(12) << l.refurbished << std::setw(9) << l.disposed << "\n";
    }
}

// Runs one change of a return in a unit of work and reads the return back in the same unit. `work` returns the
// return's id or a Problem; a Problem becomes the matching exit code.
template <typename Work>
ReturnAuthorization change(Context& context, Work&& work) {
    Returns returns(services(context).orders, services(context).inventory);
    Result<ReturnAuthorization> result =
        context.database().run([&](db::UnitOfWork& uow) -> Result<ReturnAuthorization> {
            Result<std::string> id = work(uow, returns);
            if (!id) return id.problem();
            return *returns.find(uow, id.value());
        });
    return std::move(result).value();
}

void report(Context& context, const ReturnAuthorization& r, const std::string& message) {
    if (context.json()) {
        context.writeJson(returnJson(r));
    } else {
        context.out() << message << "\n";
    }
}

template <typename T>
Result<std::string> idOr(const Result<T>& result, const std::string& id) {
    if (!result) return result.problem();
    return id;
}

int createCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return create", {"reason", "refund"});
    args.expectPositional(2, 1000, "ORDER LINE=QTY ... --reason R [--refund full|full_with_shipping|partial:P]");
    const std::string reason_text = args.required("reason");
    const auto reason = orders::returnReasonFrom(reason_text);
    if (!reason) {
        throw UsageError("--reason '" + reason_text + "': expected one of " + joined(orders::returnReasons()));
    }
    const std::string refund_text = args.value("refund").value_or("full");
    const auto policy = orders::RefundPolicy::parse(refund_text);
    if (!policy) {
        throw UsageError("--refund '" + refund_text +
                         "': expected full, full_with_shipping or partial:P with P a whole percentage 0..100");
    }
    std::vector<orders::ReturnRequestLine> lines;
    for (const auto& [line, quantity] : lineQuantities(args, 1)) lines.push_back({line, quantity});
    const auto rma = change(context, [&](db::UnitOfWork& uow, Returns& returns) {
        const std::string order = resolveOrderReference(context, uow, args.positional()[0]);
        return returns.authorize(uow, order, lines, *reason, *policy, actor());
    });
    if (context.json()) {
        context.writeJson(returnJson(rma));
        return 0;
    }
    context.out() << "return " << rma.id << " authorized for order " << rma.order_reference << ": refund "
                  << Money(rma.refund_amount, *rma.currency).toString() << " " << rma.currency->code() << " ("
                  << rma.policy.toString() << ")\n";
    for (const auto& l : rma.lines) {
        context.out() << "  line " << l.line_no << ": " << l.expected << " " << l.sku
                      << (l.lot_code.empty() ? "" : " lot " + l.lot_code) << " back to " << l.location_code << "\n";
    }
    return 0;
}

int receiveCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return receive", {"location"});
    args.expectPositional(1, 1000, "RMA_ID [LINE=QTY ...] [--location L]");
    const std::string id = args.positional()[0];
    std::vector<orders::ReturnQuantity> quantities;
    for (const auto& [line, quantity] : lineQuantities(args, 1)) quantities.push_back({line, quantity});
    const auto rma = change(context, [&](db::UnitOfWork& uow, Returns& returns) {
        std::optional<std::string> location;
        if (auto code = args.value("location")) location = services(context).catalog.requireLocation(uow, *code).id;
        return idOr(returns.receive(uow, id, quantities, location, actor()), id);
    });
    std::int64_t expected = 0;
    std::int64_t received = 0;
    for (const auto& l : rma.lines) {
        expected += l.expected;
        received += l.received;
    }
    report(context, rma,
           "return " + rma.id + " is " + std::string(orders::toString(rma.state)) + ": " + std::to_string(received) +
               " of " + std::to_string(expected) + " units received, awaiting inspection");
    return 0;
}

int inspectCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return inspect", {"quantity"}, {"restock", "refurbish", "dispose"});
    args.expectPositional(2, 2, "RMA_ID LINE --restock|--refurbish|--dispose [--quantity Q]");
    std::vector<orders::Disposition> chosen;
    for (const auto d :
         {orders::Disposition::kRestock, orders::Disposition::kRefurbish, orders::Disposition::kDispose}) {
        if (args.flag(std::string(orders::toString(d)))) chosen.push_back(d);
    }
    if (chosen.size() != 1)
        throw UsageError("keel return inspect: give exactly one of --restock, --refurbish, --dispose");
    const std::string id = args.positional()[0];
    const auto line_no = args.integer(args.positional()[1], "line");
    if (line_no < 1 || line_no > 1'000'000)
        throw UsageError("line '" + args.positional()[1] + "' is not a line number");
    const auto quantity = args.integerValue("quantity");
    if (quantity && *quantity <= 0) throw RejectedError("--quantity must be a positive whole number");
    // What the line had inspected before, to tell how many units this call decided.
    std::int64_t before = 0;
    const auto rma = change(context, [&](db::UnitOfWork& uow, Returns& returns) {
        if (const auto current = returns.find(uow, id)) {
            for (const auto& l : current->lines) {
                if (l.line_no == line_no) before = l.restocked + l.refurbished + l.disposed;
            }
        }
        return idOr(returns.inspect(uow, id, static_cast<int>(line_no), chosen.front(), quantity, actor()), id);
    });
    std::string item_id;
    std::int64_t decided = 0;
    for (const auto& l : rma.lines) {
        if (l.line_no != line_no) continue;
        item_id = l.item_id;
        decided = l.restocked + l.refurbished + l.disposed - before;
    }
    const char* what = chosen.front() == orders::Disposition::kRestock     ? "restocked (on hand)"
                       : chosen.front() == orders::Disposition::kRefurbish ? "quarantined for refurbishment"
                                                                           : "disposed (written off)";
    report(context, rma,
           "return " + rma.id + " line " + std::to_string(line_no) + ": " + std::to_string(decided) + " " + what +
               "; the return is " + std::string(orders::toString(rma.state)));
    // Restocked units are sellable again: they may complete waiting orders.
    if (chosen.front() == orders::Disposition::kRestock) fillBackorders(context, {item_id});
    return 0;
}

int closeCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return close", {});
    args.expectPositional(1, 1, "RMA_ID");
    const std::string id = args.positional()[0];
    const auto rma = change(
        context, [&](db::UnitOfWork& uow, Returns& returns) { return idOr(returns.close(uow, id, actor()), id); });
    report(context, rma,
           "return " + rma.id + " closed: refund due " + Money(rma.refund_amount, *rma.currency).toString() + " " +
               std::string(rma.currency->code()) + " (" + rma.policy.toString() + ")");
    return 0;
}

int cancelCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return cancel", {"reason"});
    args.expectPositional(1, 1, "RMA_ID [--reason R]");
    const std::string id = args.positional()[0];
    const auto rma = change(context, [&](db::UnitOfWork& uow, Returns& returns) {
        return idOr(returns.cancel(uow, id, args.value("reason").value_or(""), actor()), id);
    });
    report(context, rma, "return " + rma.id + " cancelled");
    return 0;
}

int showCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return show", {});
    args.expectPositional(1, 1, "RMA_ID");
    Returns returns(services(context).orders, services(context).inventory);
    const auto rma =
        context.database().run([&](db::UnitOfWork& uow) { return returns.find(uow, args.positional()[0]); });
    if (!rma) throw NotFoundError("no return '" + args.positional()[0] + "' (keel return list ORDER shows an order's)");
    if (context.json()) {
        context.writeJson(returnJson(*rma));
    } else {
        printReturn(context.out(), *rma);
    }
    return 0;
}

int listCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "return list", {});
    args.expectPositional(1, 1, "ORDER");
    Returns returns(services(context).orders, services(context).inventory);
    const auto list = context.database().run([&](db::UnitOfWork& uow) {
        return returns.forOrder(uow, resolveOrderReference(context, uow, args.positional()[0]));
    });
    if (context.json()) {
        Poco::JSON::Array array;
        for (const auto& r : list) array.add(returnJson(r));
        Poco::JSON::Object body;
        body.set("returns", array);
        context.writeJson(body);
        return 0;
    }
    if (list.empty()) context.out() << "no returns for order " << args.positional()[0] << "\n";
    for (const auto& r : list) {
        context.out() << std::left << std::setw(38) << r.id << std::setw(12) << orders::toString(r.state)
                      << std::setw(18) << orders::toString(r.reason) << std::right << std::setw(12)
                      << Money(r.refund_amount, *r.currency).toString() << " " << r.currency->code() << "\n";
    }
    return 0;
}

}  // namespace

void addReturnCommands(std::vector<Command>& table) {
    table.push_back(
        {{"return", "create"},
         "ORDER LINE=QTY ... --reason R [--refund full|full_with_shipping|partial:P]",
         "authorize a customer return of shipped units (an RMA)",
         "ORDER is an order id or CHANNEL/EXTERNAL_ID; LINE=QTY names order lines and units (kits count as\n"
         "kits). Only shipped units not already on another return can be returned. Reasons: damaged,\n"
         "defective, wrong_item, not_as_described, unwanted, late, other. Refund: full (goods and tax,\n"
         "the default), full_with_shipping (plus the units' share of shipping and its tax), partial:P\n"
         "(P percent of goods and tax, rounded half up). See docs/returns.md.",
         createCommand});
    table.push_back({{"return", "receive"},
                     "RMA_ID [LINE=QTY ...] [--location L]",
                     "receive returned units into the returned state (all expected units by default)",
                     "LINE is the return's line number (keel return show). --location receives at another\n"
                     "location than the one the units shipped from.",
                     receiveCommand});
    table.push_back({{"return", "inspect"},
                     "RMA_ID LINE --restock|--refurbish|--dispose [--quantity Q]",
                     "decide about received units: restock, refurbish (quarantine) or dispose (write off)",
                     "All of the line's received, uninspected units unless --quantity is given. Restocked units\n"
                     "may fill waiting backorders at once.",
                     inspectCommand});
    table.push_back({{"return", "close"},
                     "RMA_ID",
                     "close a return: the refund of what arrived is due",
                     "Every received unit needs a disposition first. Units that never arrived are given up and may be\n"
                     "authorized again.",
                     closeCommand});
    table.push_back(
        {{"return", "cancel"}, "RMA_ID [--reason R]", "cancel a return of which nothing arrived", "", cancelCommand});
    table.push_back({{"return", "show"}, "RMA_ID", "show a return, its lines and refund", "", showCommand});
    table.push_back({{"return", "list"}, "ORDER", "list the returns of an order", "", listCommand});
}

}  // namespace keel::cli
