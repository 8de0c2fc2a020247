#include "keel/orders/returns.h"

#include "keel/orders/billing.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <algorithm>
#include <array>
#include <map>
#include <sstream>

namespace keel::orders {

namespace {

constexpr std::array<std::pair<ReturnReason, std::string_view>, 7> kReasons = {{
    {ReturnReason::kDamaged, "damaged"},
    {ReturnReason::kDefective, "defective"},
    {ReturnReason::kWrongItem, "wrong_item"},
    {ReturnReason::kNotAsDescribed, "not_as_described"},
    {ReturnReason::kUnwanted, "unwanted"},
    {ReturnReason::kLate, "late"},
    {ReturnReason::kOther, "other"},
}};

constexpr std::array<std::pair<ReturnState, std::string_view>, 5> kStates = {{
    {ReturnState::kAuthorized, "authorized"},
    {ReturnState::kReceived, "received"},
    {ReturnState::kInspected, "inspected"},
    {ReturnState::kClosed, "closed"},
    {ReturnState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<Disposition, std::string_view>, 3> kDispositions = {{
    {Disposition::kRestock, "restock"},
    {Disposition::kRefurbish, "refurbish"},
    {Disposition::kDispose, "dispose"},
}};

template <typename T, std::size_t N>
std::string_view nameOf(const std::array<std::pair<T, std::string_view>, N>& table, T value) {
    for (const auto& [v, name] : table) {
        if (v == value) return name;
    }
    return "unknown";
}

template <typename T, std::size_t N>
std::optional<T> valueOf(const std::array<std::pair<T, std::string_view>, N>& table, std::string_view text) {
    for (const auto& [v, name] : table) {
        if (name == text) return v;
    }
    return std::nullopt;
}

std::string json(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

// The sum of the first `n` of `parts` equal shares of `amount`, exactly as Money::allocateEvenly(parts) splits it
// (largest remainder: the leftover minor units go to the earliest parts; a negative amount mirrors its magnitude).
// A closed form, so a line of a million units needs no million-element vector.
std::int64_t firstShares(std::int64_t amount, std::int64_t parts, std::int64_t n) {
    if (parts <= 0 || n <= 0) return 0;
    n = std::min(n, parts);
    const Int128 magnitude = amount < 0 ? -static_cast<Int128>(amount) : static_cast<Int128>(amount);
    const Int128 base = magnitude / parts;
    const Int128 rest = magnitude % parts;
    const Int128 sum = base * n + std::min<Int128>(n, rest);
    return static_cast<std::int64_t>(amount < 0 ? -sum : sum);
}

// Shares of units first .. first + units - 1 of `parts` equal shares of `amount`.
std::int64_t unitShares(std::int64_t amount, std::int64_t parts, std::int64_t first, std::int64_t units) {
    return firstShares(amount, parts, first + units) - firstShares(amount, parts, first);
}

const OrderLine* lineOf(const Order& order, int line_no) {
    for (const auto& l : order.lines) {
        if (l.line_no == line_no) return &l;
    }
    return nullptr;
}

// Where the units of one item of an order line went: (location, lot) pieces in shipping order.
struct Segment {
    std::string location_id;
    std::string lot_id;
    std::int64_t quantity = 0;
};

// One item an order line shipped as: the line's own item, or each component of a kit.
struct Component {
    std::string item_id;
    std::int64_t per_unit = 0;  ///< base units of this item in one unit of the order line
    std::int64_t shipped = 0;   ///< base units that left
    std::vector<Segment> segments;
};

struct ShippedLine {
    std::int64_t units = 0;             ///< units of the order line that left
    std::vector<Component> components;  ///< by item id
};

// What each order line shipped, from the order's shipped and delivered shipments, earliest shipment first. The
// base units per line unit come from what actually left (a kit's definition may have changed since).
Result<std::map<int, ShippedLine>> shippedLines(const std::vector<Shipment>& shipments) {
    std::map<int, ShippedLine> out;
    for (const auto& shipment : shipments) {
        if (shipment.state != ShipmentState::kShipped && shipment.state != ShipmentState::kDelivered) continue;
        for (const auto& line : shipment.lines) {
            ShippedLine& shipped = out[line.order_line_no];
            shipped.units += line.units;
            auto it = std::find_if(shipped.components.begin(), shipped.components.end(),
                                   [&](const Component& c) { return c.item_id == line.item_id; });
            if (it == shipped.components.end()) {
                shipped.components.push_back(Component{line.item_id, 0, 0, {}});
                it = std::prev(shipped.components.end());
            }
            it->shipped += line.quantity;
            it->segments.push_back(Segment{shipment.location_id, line.lot_id, line.quantity});
        }
    }
    for (auto& [line_no, shipped] : out) {
        std::sort(shipped.components.begin(), shipped.components.end(),
                  [](const Component& a, const Component& b) { return a.item_id < b.item_id; });
        for (auto& c : shipped.components) {
            if (shipped.units <= 0 || c.shipped % shipped.units != 0) {
                return Problem{ExitCode::kConflict,
                               "line " + std::to_string(line_no) + ": its shipments do not say how many of item " +
                                   c.item_id + " make one unit (" + std::to_string(c.shipped) + " for " +
                                   std::to_string(shipped.units) + " units); return it with keel stock return instead",
                               "lines"};
            }
            c.per_unit = c.shipped / shipped.units;
        }
    }
    return out;
}

// Base units per (order line, item) that returns already cover: everything expected on an open return, what
// arrived on a closed one (the rest may be authorized again); cancelled returns cover nothing. Only returns
// authorized before `before` count when it is given.
using Covered = std::map<int, std::map<std::string, std::int64_t>>;

Covered coveredByReturns(db::UnitOfWork& uow, const std::string& order_id, std::string_view before) {
    struct Row {
        std::string return_id;
        bool closed = false;
        int order_line_no = 0;
        std::string item_id;
        std::int64_t expected = 0;
        std::int64_t received = 0;
    };
    std::vector<Row> rows;
    db::Statement& s = uow.statement(
        "SELECT r.id, r.state, l.order_line_no, l.item_id, l.expected, l.received FROM return_authorization r "
        "JOIN return_line l ON l.return_id = r.id WHERE r.order_id = ? AND r.state <> 'cancelled' "
        "ORDER BY r.created_at, r.id, l.line_no");
    s.bind(order_id).execute();
    while (s.next()) {
        rows.push_back(Row{s.getString(0), s.getString(1) == "closed", static_cast<int>(s.getInt64(2)), s.getString(3),
                           s.getInt64(4), s.getInt64(5)});
    }
    Covered out;
    for (const auto& r : rows) {
        if (!before.empty() && r.return_id == before) break;
        out[r.order_line_no][r.item_id] += r.closed ? r.received : r.expected;
    }
    return out;
}

// Units of the line that can still be returned: the fewest whole units any component has left.
std::int64_t returnable(const ShippedLine& shipped, const std::map<std::string, std::int64_t>& covered) {
    std::int64_t units = shipped.units;
    for (const auto& c : shipped.components) {
        const auto it = covered.find(c.item_id);
        const std::int64_t left = c.shipped - (it == covered.end() ? 0 : it->second);
        units = std::min(units, std::max<std::int64_t>(0, left) / c.per_unit);
    }
    return units;
}

const std::map<std::string, std::int64_t>& coveredOf(const Covered& covered, int line_no) {
    static const std::map<std::string, std::int64_t> kNone;
    const auto it = covered.find(line_no);
    return it == covered.end() ? kNone : it->second;
}

std::optional<std::string> lotArgument(const ReturnLine& line) {
    if (line.lot_code.empty()) return std::nullopt;
    return line.lot_code;
}

Poco::JSON::Object refundJson(const RefundBreakdown& refund, const Currency& currency) {
    Poco::JSON::Object j;
    j.set("amount", Money(refund.total, currency).toString());
    j.set("amount_minor", refund.total);
    j.set("currency", std::string(currency.code()));
    j.set("goods", Money(refund.goods, currency).toString());
    j.set("tax", Money(refund.tax, currency).toString());
    j.set("shipping", Money(refund.shipping, currency).toString());
    j.set("shipping_tax", Money(refund.shipping_tax, currency).toString());
    return j;
}

}  // namespace

// ------------------------------------------------------------------------------------------------- names

std::string_view toString(ReturnReason reason) {
    return nameOf(kReasons, reason);
}
std::optional<ReturnReason> returnReasonFrom(std::string_view text) {
    return valueOf(kReasons, text);
}

const std::vector<std::string>& returnReasons() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& [reason, name] : kReasons) out.emplace_back(name);
        return out;
    }();
    return names;
}

std::string_view toString(ReturnState state) {
    return nameOf(kStates, state);
}
std::optional<ReturnState> returnStateFrom(std::string_view text) {
    return valueOf(kStates, text);
}
std::string_view toString(Disposition disposition) {
    return nameOf(kDispositions, disposition);
}
std::optional<Disposition> dispositionFrom(std::string_view text) {
    return valueOf(kDispositions, text);
}

std::optional<RefundPolicy> RefundPolicy::parse(std::string_view text) {
    if (text == "full") return RefundPolicy{Kind::kFull, 100};
    if (text == "full_with_shipping") return RefundPolicy{Kind::kFullWithShipping, 100};
    constexpr std::string_view kPartial = "partial:";
    if (text.substr(0, kPartial.size()) != kPartial) return std::nullopt;
    const std::string_view digits = text.substr(kPartial.size());
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    int percent = 0;
    for (const char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        percent = percent * 10 + (c - '0');
    }
    if (percent > 100) return std::nullopt;
    return RefundPolicy{Kind::kPartial, percent};
}

std::string RefundPolicy::toString() const {
    switch (kind) {
        case Kind::kFull:
            return "full";
        case Kind::kFullWithShipping:
            return "full_with_shipping";
        case Kind::kPartial:
            return "partial:" + std::to_string(percent);
    }
    return "full";
}

// ------------------------------------------------------------------------------------------------ refund

RefundBreakdown computeRefund(const Order& order, const std::vector<RefundUnits>& units, const RefundPolicy& policy) {
    const Currency& currency = *order.currency;
    RefundBreakdown refund;
    // Shipping belongs to the units that were to ship (ordered minus cancelled): split first over the lines by the
    // value of those units, then evenly over each line's units. Cancelled units' shipping is not a return's matter.
    std::vector<std::int64_t> live_units;
    std::vector<std::int64_t> weights;
    std::int64_t weight_sum = 0;
    std::int64_t line_tax = 0;
    for (const auto& l : order.lines) {
        const std::int64_t live = std::max<std::int64_t>(0, l.quantity - l.cancelled);
        live_units.push_back(live);
        weights.push_back(std::max<std::int64_t>(0, firstShares(l.line_total, l.quantity, live)));
        weight_sum += weights.back();
        line_tax += l.tax;
    }
    if (weight_sum == 0) weights = live_units;  // free goods: shipping goes by units instead
    const bool any_weight = std::any_of(weights.begin(), weights.end(), [](std::int64_t w) { return w > 0; });
    std::vector<Money> shipping_parts;
    std::vector<Money> shipping_tax_parts;
    if (any_weight) {
        shipping_parts = Money(order.shipping_amount, currency).allocate(weights);
        shipping_tax_parts = Money(order.tax_total - line_tax, currency).allocate(weights);
    }
    for (const auto& u : units) {
        if (u.units <= 0) continue;
        std::size_t index = 0;
        while (index < order.lines.size() && order.lines[index].line_no != u.order_line_no) ++index;
        if (index == order.lines.size()) continue;
        const OrderLine& l = order.lines[index];
        refund.goods += unitShares(l.line_total, l.quantity, u.first_unit, u.units);
        refund.tax += unitShares(l.tax, l.quantity, u.first_unit, u.units);
        if (policy.kind == RefundPolicy::Kind::kFullWithShipping && any_weight) {
            refund.shipping += unitShares(shipping_parts[index].minor(), live_units[index], u.first_unit, u.units);
            refund.shipping_tax +=
                unitShares(shipping_tax_parts[index].minor(), live_units[index], u.first_unit, u.units);
        }
    }
    const Money merchandise = Money(refund.goods, currency) + Money(refund.tax, currency);
    switch (policy.kind) {
        case RefundPolicy::Kind::kFull:
            refund.total = merchandise.minor();
            break;
        case RefundPolicy::Kind::kFullWithShipping:
            refund.total =
                (merchandise + Money(refund.shipping, currency) + Money(refund.shipping_tax, currency)).minor();
            break;
        case RefundPolicy::Kind::kPartial:
            // One rounding, on the return's total, half up (commercial rounding, as a customer would check it).
            refund.total = merchandise.times(Decimal(policy.percent, 2), RoundingMode::kHalfUp).minor();
            break;
    }
    return refund;
}

// ------------------------------------------------------------------------------------------------ service

Returns::Returns(Orders& orders, inventory::Inventory& inventory, const Clock& clock, IdGenerator& ids)
    : orders_(orders), inventory_(inventory), clock_(clock), ids_(ids), outbox_(clock, ids) {}

void Returns::writeEvent(db::UnitOfWork& uow, const std::string& type, const std::string& return_id,
                         const std::string& payload, const Actor& actor) {
    outbox_.append(uow, events::Event{type, "return", return_id, payload, actor.name});
}

std::optional<ReturnAuthorization> Returns::load(db::UnitOfWork& uow, std::string_view return_id, bool lock) {
    if (lock) {
        // Receipts and inspections of one return queue here instead of racing on its lines.
        db::Statement& l =
            uow.statement("SELECT id FROM return_authorization WHERE id = ?" + std::string(uow.dialect().forUpdate()));
        l.bind(std::string(return_id)).execute();
        if (!l.next()) return std::nullopt;
    }
    db::Statement& s = uow.statement(
        "SELECT r.id, r.order_id, o.channel, o.external_id, r.state, r.reason, r.refund_policy, r.refund_amount, "
        "r.currency, r.created_at, r.updated_at FROM return_authorization r JOIN sales_order o ON o.id = r.order_id "
        "WHERE r.id = ?");
    s.bind(std::string(return_id)).execute();
    if (!s.next()) return std::nullopt;
    ReturnAuthorization rma;
    rma.id = s.getString(0);
    rma.order_id = s.getString(1);
    rma.order_reference = s.getString(2) + "/" + s.getString(3);
    rma.state = returnStateFrom(s.getString(4)).value_or(ReturnState::kAuthorized);
    rma.reason = returnReasonFrom(s.getString(5)).value_or(ReturnReason::kOther);
    rma.policy = RefundPolicy::parse(s.getString(6)).value_or(RefundPolicy{});
    rma.refund_amount = s.getInt64(7);
    rma.currency = &Currency::of(s.getString(8));
    rma.created_at = s.getInt64(9);
    rma.updated_at = s.getInt64(10);
    db::Statement& lines = uow.statement(
        "SELECT l.line_no, l.order_line_no, l.item_id, i.sku, l.lot_id, t.lot_code, l.location_id, c.code, l.expected, "
        "l.received, l.restocked, l.refurbished, l.disposed FROM return_line l LEFT JOIN item i ON i.id = l.item_id "
        "LEFT JOIN lot t ON t.id = l.lot_id LEFT JOIN location c ON c.id = l.location_id WHERE l.return_id = ? "
        "ORDER BY l.line_no");
    lines.bind(rma.id).execute();
    while (lines.next()) {
        ReturnLine l;
        l.line_no = static_cast<int>(lines.getInt64(0));
        l.order_line_no = static_cast<int>(lines.getInt64(1));
        l.item_id = lines.getString(2);
        l.sku = lines.getOptionalString(3).value_or(l.item_id);
        l.lot_id = lines.getString(4);
        l.lot_code = lines.getOptionalString(5).value_or("");
        l.location_id = lines.getString(6);
        l.location_code = lines.getOptionalString(7).value_or(l.location_id);
        l.expected = lines.getInt64(8);
        l.received = lines.getInt64(9);
        l.restocked = lines.getInt64(10);
        l.refurbished = lines.getInt64(11);
        l.disposed = lines.getInt64(12);
        rma.lines.push_back(std::move(l));
    }
    return rma;
}

std::optional<ReturnAuthorization> Returns::find(db::UnitOfWork& uow, std::string_view return_id) {
    return load(uow, return_id, false);
}

std::vector<ReturnAuthorization> Returns::forOrder(db::UnitOfWork& uow, std::string_view order_id) {
    std::vector<std::string> ids;
    db::Statement& s = uow.statement("SELECT id FROM return_authorization WHERE order_id = ? ORDER BY created_at, id");
    s.bind(std::string(order_id)).execute();
    while (s.next()) ids.push_back(s.getString(0));
    std::vector<ReturnAuthorization> out;
    for (const auto& id : ids) {
        if (auto rma = load(uow, id, false)) out.push_back(std::move(*rma));
    }
    return out;
}

std::optional<Problem> Returns::setState(db::UnitOfWork& uow, ReturnAuthorization& rma, ReturnState to) {
    const std::int64_t now = clock_.nowMicros();
    const auto changed =
        uow.statement("UPDATE return_authorization SET state = ?, updated_at = ? WHERE id = ? AND state = ?")
            .bindAll(std::string(toString(to)), now, rma.id, std::string(toString(rma.state)))
            .execute();
    if (changed != 1) {
        return uow.fail(ExitCode::kConflict, "return " + rma.id + " changed while this was being done; try again",
                        "state");
    }
    rma.state = to;
    rma.updated_at = now;
    return std::nullopt;
}

// --------------------------------------------------------------------------------------------- authorize

Result<std::string> Returns::authorize(db::UnitOfWork& uow, std::string_view order_id,
                                       const std::vector<ReturnRequestLine>& lines, ReturnReason reason,
                                       const RefundPolicy& policy, const Actor& actor) {
    // Lock the order first: two returns of the same units authorized at once must not both pass the check below.
    {
        db::Statement& lock =
            uow.statement("SELECT id FROM sales_order WHERE id = ?" + std::string(uow.dialect().forUpdate()));
        lock.bind(std::string(order_id)).execute();
        if (!lock.next()) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    }
    const auto order = orders_.find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    const std::string label = "order " + order->channel + "/" + order->external_id;
    if (lines.empty()) {
        return uow.fail(ExitCode::kRejected, label + ": name at least one order line and quantity to return", "lines");
    }
    if (policy.kind == RefundPolicy::Kind::kPartial && (policy.percent < 0 || policy.percent > 100)) {
        return uow.fail(ExitCode::kRejected,
                        "partial refund of " + std::to_string(policy.percent) + "%: give a whole percentage 0..100",
                        "refund");
    }
    std::map<int, std::int64_t> wanted;  // by order line; a line named twice counts twice
    for (const auto& l : lines) {
        if (l.quantity <= 0) {
            return uow.fail(
                ExitCode::kRejected,
                label + " line " + std::to_string(l.order_line_no) + ": the quantity to return must be positive",
                "lines");
        }
        if (!lineOf(*order, l.order_line_no)) {
            return uow.fail(ExitCode::kNotFound,
                            label + " has no line " + std::to_string(l.order_line_no) + " (it has " +
                                std::to_string(order->lines.size()) + ")",
                            "lines");
        }
        if (__builtin_add_overflow(wanted[l.order_line_no], l.quantity, &wanted[l.order_line_no])) {
            return uow.fail(ExitCode::kRejected, label + ": quantity out of range", "lines");
        }
    }
    auto shipped = shippedLines(orders_.shipments(uow, order->id));
    if (!shipped) return uow.fail(shipped.problem().code, label + " " + shipped.problem().message, "lines");
    const Covered covered = coveredByReturns(uow, order->id, {});

    struct NewLine {
        int order_line_no = 0;
        std::string item_id;
        std::string lot_id;
        std::string location_id;
        std::int64_t expected = 0;
    };
    std::vector<NewLine> new_lines;
    std::vector<RefundUnits> refund_units;
    for (const auto& [line_no, quantity] : wanted) {
        const OrderLine& ol = *lineOf(*order, line_no);
        const std::string where = label + " line " + std::to_string(line_no) + " (" + ol.sku + ")";
        const auto it = shipped.value().find(line_no);
        if (it == shipped.value().end() || it->second.units == 0) {
            return uow.fail(ExitCode::kRejected, where + " has not shipped: only shipped units can be returned",
                            "lines");
        }
        const ShippedLine& sl = it->second;
        const auto& line_covered = coveredOf(covered, line_no);
        const std::int64_t can = returnable(sl, line_covered);
        if (quantity > can) {
            return uow.fail(ExitCode::kRejected,
                            where + ": " + std::to_string(quantity) + " to return, but " + std::to_string(sl.units) +
                                " shipped and " + std::to_string(sl.units - can) + " are already on returns; at most " +
                                std::to_string(can) + " can be returned",
                            "lines");
        }
        // The units come back from where they left, earliest shipment first, after what other returns cover.
        for (const auto& c : sl.components) {
            const auto skip_it = line_covered.find(c.item_id);
            std::int64_t skip = skip_it == line_covered.end() ? 0 : skip_it->second;
            std::int64_t need = quantity * c.per_unit;
            for (const auto& segment : c.segments) {
                if (need == 0) break;
                std::int64_t available = segment.quantity;
                const std::int64_t skipped = std::min(skip, available);
                skip -= skipped;
                available -= skipped;
                const std::int64_t take = std::min(need, available);
                if (take <= 0) continue;
                need -= take;
                auto same = std::find_if(new_lines.begin(), new_lines.end(), [&](const NewLine& n) {
                    return n.order_line_no == line_no && n.item_id == c.item_id && n.lot_id == segment.lot_id &&
                           n.location_id == segment.location_id;
                });
                if (same != new_lines.end()) {
                    same->expected += take;
                } else {
                    new_lines.push_back(NewLine{line_no, c.item_id, segment.lot_id, segment.location_id, take});
                }
            }
            if (need != 0) {  // returnable() said there was enough; the shipments disagree with themselves
                return uow.fail(ExitCode::kConflict, where + ": its shipments do not cover the units to return",
                                "lines");
            }
        }
        refund_units.push_back(RefundUnits{line_no, sl.units - can, quantity});
    }
    const RefundBreakdown refund = computeRefund(*order, refund_units, policy);

    const std::string id = ids_.next();
    const std::int64_t now = clock_.nowMicros();
    uow.statement(
           "INSERT INTO return_authorization (id, order_id, state, reason, refund_policy, refund_amount, "
           "currency, created_at, updated_at) VALUES (?, ?, 'authorized', ?, ?, ?, ?, ?, ?)")
        .bindAll(id, order->id, std::string(toString(reason)), policy.toString(), refund.total,
                 std::string(order->currency->code()), now, now)
        .execute();
    db::Statement& insert = uow.statement(
        "INSERT INTO return_line (return_id, line_no, order_line_no, item_id, lot_id, location_id, expected, received, "
        "restocked, refurbished, disposed) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0)");
    int line_no = 0;
    for (const auto& n : new_lines) {
        insert.bindAll(id, ++line_no, n.order_line_no, n.item_id, n.lot_id, n.location_id, n.expected).execute();
    }

    const auto rma = load(uow, id, false);
    Poco::JSON::Object payload;
    payload.set("return_id", id);
    payload.set("order_id", order->id);
    payload.set("channel", order->channel);
    payload.set("external_id", order->external_id);
    payload.set("reason", std::string(toString(reason)));
    payload.set("refund_policy", policy.toString());
    payload.set("refund", refundJson(refund, *order->currency));
    Poco::JSON::Array line_array;
    for (const auto& l : rma->lines) {
        Poco::JSON::Object j;
        j.set("line", l.line_no);
        j.set("order_line", l.order_line_no);
        j.set("item_id", l.item_id);
        j.set("sku", l.sku);
        if (!l.lot_code.empty()) j.set("lot", l.lot_code);
        j.set("location_id", l.location_id);
        j.set("expected", l.expected);
        line_array.add(j);
    }
    payload.set("lines", line_array);
    writeEvent(uow, "return.authorized", id, json(payload), actor);
    return id;
}

// ----------------------------------------------------------------------------------------------- receive

Result<ReturnState> Returns::receive(db::UnitOfWork& uow, std::string_view return_id,
                                     const std::vector<ReturnQuantity>& quantities,
                                     const std::optional<std::string>& location_id, const Actor& actor) {
    auto rma = load(uow, return_id, true);
    if (!rma) return uow.fail(ExitCode::kNotFound, "no return '" + std::string(return_id) + "'", "return");
    const std::string label = "return " + rma->id + " (order " + rma->order_reference + ")";
    if (rma->state != ReturnState::kAuthorized) {
        return uow.fail(ExitCode::kConflict,
                        label + " is " + std::string(toString(rma->state)) +
                            (rma->state == ReturnState::kCancelled ? ": nothing is expected on it"
                                                                   : ": everything expected has arrived"),
                        "state");
    }
    std::string location_code;
    if (location_id) {
        db::Statement& s = uow.statement("SELECT code FROM location WHERE id = ?");
        s.bind(*location_id).execute();
        if (!s.next()) return uow.fail(ExitCode::kNotFound, "no location '" + *location_id + "'", "location");
        location_code = s.getString(0);
    }
    std::map<int, std::int64_t> plan;
    if (quantities.empty()) {
        for (const auto& l : rma->lines) {
            if (l.expected > l.received) plan[l.line_no] = l.expected - l.received;
        }
    }
    for (const auto& q : quantities) {
        const auto line = std::find_if(rma->lines.begin(), rma->lines.end(),
                                       [&](const ReturnLine& l) { return l.line_no == q.line_no; });
        if (line == rma->lines.end()) {
            return uow.fail(ExitCode::kNotFound,
                            label + " has no line " + std::to_string(q.line_no) + " (it has " +
                                std::to_string(rma->lines.size()) + ")",
                            "lines");
        }
        if (q.quantity <= 0) {
            return uow.fail(ExitCode::kRejected,
                            label + " line " + std::to_string(q.line_no) + ": the quantity received must be positive",
                            "lines");
        }
        plan[q.line_no] += q.quantity;
        if (plan[q.line_no] > line->expected - line->received) {
            return uow.fail(ExitCode::kRejected,
                            label + " line " + std::to_string(q.line_no) + " (" + line->sku +
                                "): " + std::to_string(plan[q.line_no]) + " received, but only " +
                                std::to_string(line->expected - line->received) + " of " +
                                std::to_string(line->expected) + " are still expected",
                            "lines");
        }
    }
    Poco::JSON::Array received;
    for (const auto& [line_no, quantity] : plan) {
        ReturnLine& line = *std::find_if(rma->lines.begin(), rma->lines.end(),
                                         [&, n = line_no](const ReturnLine& l) { return l.line_no == n; });
        const std::string where = location_id.value_or(line.location_id);
        // A line is received at one place, so inspection knows where its units are.
        if (location_id && line.received > 0 && line.location_id != *location_id) {
            return uow.fail(ExitCode::kConflict,
                            label + " line " + std::to_string(line_no) + " was received at " + line.location_code +
                                " before; receive the rest there too",
                            "location");
        }
        const inventory::Source source{"return", rma->id, actor.name, "line " + std::to_string(line_no),
                                       rma->order_reference.substr(0, rma->order_reference.find('/')), ""};
        auto moved = inventory_.receiveReturn(uow, line.item_id, where, lotArgument(line), quantity, source);
        if (!moved) return moved.problem();
        const auto changed = uow.statement(
                                    "UPDATE return_line SET received = received + ?, location_id = ? "
                                    "WHERE return_id = ? AND line_no = ? AND received + ? <= expected")
                                 .bindAll(quantity, where, rma->id, line_no, quantity)
                                 .execute();
        if (changed != 1) {
            return uow.fail(ExitCode::kConflict, label + " changed while this was being done; try again", "lines");
        }
        line.received += quantity;
        line.location_id = where;
        if (location_id) line.location_code = location_code;
        Poco::JSON::Object j;
        j.set("line", line_no);
        j.set("item_id", line.item_id);
        j.set("sku", line.sku);
        if (!line.lot_code.empty()) j.set("lot", line.lot_code);
        j.set("location_id", where);
        j.set("quantity", quantity);
        received.add(j);
    }
    const bool complete =
        std::all_of(rma->lines.begin(), rma->lines.end(), [](const ReturnLine& l) { return l.received == l.expected; });
    if (complete) {
        if (auto problem = setState(uow, *rma, ReturnState::kReceived)) return *problem;
    } else {
        uow.statement("UPDATE return_authorization SET updated_at = ? WHERE id = ?")
            .bindAll(clock_.nowMicros(), rma->id)
            .execute();
    }
    Poco::JSON::Object payload;
    payload.set("return_id", rma->id);
    payload.set("order_id", rma->order_id);
    payload.set("lines", received);
    payload.set("complete", complete);
    payload.set("state", std::string(toString(rma->state)));
    writeEvent(uow, "return.received", rma->id, json(payload), actor);
    return rma->state;
}

// ----------------------------------------------------------------------------------------------- inspect

Result<ReturnState> Returns::inspect(db::UnitOfWork& uow, std::string_view return_id, int line_no,
                                     Disposition disposition, std::optional<std::int64_t> quantity,
                                     const Actor& actor) {
    auto rma = load(uow, return_id, true);
    if (!rma) return uow.fail(ExitCode::kNotFound, "no return '" + std::string(return_id) + "'", "return");
    const std::string label = "return " + rma->id + " (order " + rma->order_reference + ")";
    if (rma->state != ReturnState::kAuthorized && rma->state != ReturnState::kReceived) {
        return uow.fail(ExitCode::kConflict,
                        label + " is " + std::string(toString(rma->state)) + ": nothing is left to inspect", "state");
    }
    const auto it =
        std::find_if(rma->lines.begin(), rma->lines.end(), [&](const ReturnLine& l) { return l.line_no == line_no; });
    if (it == rma->lines.end()) {
        return uow.fail(
            ExitCode::kNotFound,
            label + " has no line " + std::to_string(line_no) + " (it has " + std::to_string(rma->lines.size()) + ")",
            "line");
    }
    ReturnLine& line = *it;
    const std::string where = label + " line " + std::to_string(line_no) + " (" + line.sku + ")";
    const std::int64_t waiting = line.uninspected();
    const std::int64_t count = quantity.value_or(waiting);
    if (quantity && *quantity <= 0) {
        return uow.fail(ExitCode::kRejected, where + ": the quantity to inspect must be positive", "quantity");
    }
    if (count == 0 || count > waiting) {
        return uow.fail(ExitCode::kRejected,
                        where + ": " + std::to_string(count) + " to inspect, but " + std::to_string(line.received) +
                            " received and " + std::to_string(line.received - waiting) +
                            " already inspected; receive the units first",
                        "quantity");
    }
    const inventory::Source source{"return", rma->id, actor.name, "line " + std::to_string(line_no),
                                       rma->order_reference.substr(0, rma->order_reference.find('/')), ""};
    Result<std::string> moved = std::string();
    std::string column;
    switch (disposition) {
        case Disposition::kRestock:
            moved = inventory_.changeState(uow, line.item_id, line.location_id, lotArgument(line),
                                           inventory::StockState::kReturned, inventory::StockState::kOnHand, count,
                                           "return_restock", source);
            column = "restocked";
            line.restocked += count;
            break;
        case Disposition::kRefurbish:
            moved = inventory_.changeState(uow, line.item_id, line.location_id, lotArgument(line),
                                           inventory::StockState::kReturned, inventory::StockState::kQuarantined, count,
                                           "return_refurbish", source);
            column = "refurbished";
            line.refurbished += count;
            break;
        case Disposition::kDispose:
            moved = inventory_.writeOff(uow, line.item_id, line.location_id, lotArgument(line),
                                        inventory::StockState::kReturned, count, "return_dispose", source);
            column = "disposed";
            line.disposed += count;
            break;
    }
    if (!moved) return moved.problem();
    // The column name comes from the switch above, never from input.
    const auto changed = uow.statement("UPDATE return_line SET " + column + " = " + column +
                                       " + ? WHERE return_id = ? AND line_no = ? AND "
                                       "restocked + refurbished + disposed + ? <= received")
                             .bindAll(count, rma->id, line_no, count)
                             .execute();
    if (changed != 1) return uow.fail(ExitCode::kConflict, label + " changed while this was being done; try again");
    const bool done = std::all_of(rma->lines.begin(), rma->lines.end(),
                                  [](const ReturnLine& l) { return l.received == l.expected && l.uninspected() == 0; });
    if (done && rma->state == ReturnState::kReceived) {
        if (auto problem = setState(uow, *rma, ReturnState::kInspected)) return *problem;
    } else {
        uow.statement("UPDATE return_authorization SET updated_at = ? WHERE id = ?")
            .bindAll(clock_.nowMicros(), rma->id)
            .execute();
    }
    Poco::JSON::Object payload;
    payload.set("return_id", rma->id);
    payload.set("order_id", rma->order_id);
    payload.set("line", line_no);
    payload.set("item_id", line.item_id);
    payload.set("sku", line.sku);
    if (!line.lot_code.empty()) payload.set("lot", line.lot_code);
    payload.set("location_id", line.location_id);
    payload.set("disposition", std::string(toString(disposition)));
    payload.set("quantity", count);
    payload.set("state", std::string(toString(rma->state)));
    writeEvent(uow, "return.inspected", rma->id, json(payload), actor);
    return rma->state;
}

// ------------------------------------------------------------------------------------------ close, cancel

Result<ReturnState> Returns::close(db::UnitOfWork& uow, std::string_view return_id, const Actor& actor) {
    auto rma = load(uow, return_id, true);
    if (!rma) return uow.fail(ExitCode::kNotFound, "no return '" + std::string(return_id) + "'", "return");
    const std::string label = "return " + rma->id + " (order " + rma->order_reference + ")";
    if (rma->state == ReturnState::kClosed || rma->state == ReturnState::kCancelled) {
        return uow.fail(ExitCode::kConflict, label + " is already " + std::string(toString(rma->state)), "state");
    }
    std::int64_t received = 0;
    for (const auto& l : rma->lines) {
        if (l.uninspected() > 0) {
            return uow.fail(ExitCode::kConflict,
                            label + " line " + std::to_string(l.line_no) + " (" + l.sku + ") has " +
                                std::to_string(l.uninspected()) +
                                " received units without a disposition: inspect them first",
                            "state");
        }
        received += l.received;
    }
    if (received == 0) {
        return uow.fail(ExitCode::kConflict, label + ": nothing has arrived; cancel it instead of closing it", "state");
    }
    // The refund of what actually came back: whole units of each order line (a kit counts when all of it came).
    const auto order = orders_.find(uow, rma->order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + rma->order_id + "'", "order");
    auto shipped = shippedLines(orders_.shipments(uow, order->id));
    if (!shipped) return uow.fail(shipped.problem().code, label + ": " + shipped.problem().message, "lines");
    const Covered before = coveredByReturns(uow, order->id, rma->id);
    std::map<int, std::map<std::string, std::int64_t>> arrived;
    for (const auto& l : rma->lines) arrived[l.order_line_no][l.item_id] += l.received;
    std::vector<RefundUnits> refund_units;
    for (const auto& [line_no, items] : arrived) {
        const auto it = shipped.value().find(line_no);
        if (it == shipped.value().end()) continue;
        std::int64_t units = it->second.units;
        for (const auto& c : it->second.components) {
            const auto got = items.find(c.item_id);
            units = std::min(units, got == items.end() ? 0 : got->second / c.per_unit);
        }
        refund_units.push_back(
            RefundUnits{line_no, it->second.units - returnable(it->second, coveredOf(before, line_no)), units});
    }
    const RefundBreakdown refund = computeRefund(*order, refund_units, rma->policy);
    const ReturnState from = rma->state;
    uow.statement("UPDATE return_authorization SET refund_amount = ? WHERE id = ?")
        .bindAll(refund.total, rma->id)
        .execute();
    if (auto problem = setState(uow, *rma, ReturnState::kClosed)) return *problem;
    rma->refund_amount = refund.total;
    if (refund.total != 0) {
        if (Billing* billing = orders_.billing()) {
            if (auto problem = billing->refunded(uow, *order, rma->id, refund, actor)) return *problem;
        }
        Poco::JSON::Object due = refundJson(refund, *order->currency);
        due.set("return_id", rma->id);
        due.set("order_id", order->id);
        due.set("channel", order->channel);
        due.set("external_id", order->external_id);
        due.set("refund_policy", rma->policy.toString());
        writeEvent(uow, "return.refund_due", rma->id, json(due), actor);
    }
    Poco::JSON::Object payload;
    payload.set("return_id", rma->id);
    payload.set("order_id", order->id);
    payload.set("from", std::string(toString(from)));
    payload.set("refund_amount", Money(refund.total, *order->currency).toString());
    payload.set("currency", std::string(order->currency->code()));
    writeEvent(uow, "return.closed", rma->id, json(payload), actor);
    return rma->state;
}

Result<ReturnState> Returns::cancel(db::UnitOfWork& uow, std::string_view return_id, const std::string& reason,
                                    const Actor& actor) {
    auto rma = load(uow, return_id, true);
    if (!rma) return uow.fail(ExitCode::kNotFound, "no return '" + std::string(return_id) + "'", "return");
    const std::string label = "return " + rma->id + " (order " + rma->order_reference + ")";
    if (rma->state != ReturnState::kAuthorized) {
        return uow.fail(ExitCode::kConflict,
                        label + " is " + std::string(toString(rma->state)) + "; only an authorized return is cancelled",
                        "state");
    }
    for (const auto& l : rma->lines) {
        if (l.received > 0) {
            return uow.fail(ExitCode::kConflict,
                            label + ": units have arrived (line " + std::to_string(l.line_no) +
                                "); inspect them and close the return instead",
                            "state");
        }
    }
    if (auto problem = setState(uow, *rma, ReturnState::kCancelled)) return *problem;
    Poco::JSON::Object payload;
    payload.set("return_id", rma->id);
    payload.set("order_id", rma->order_id);
    if (!reason.empty()) payload.set("reason", reason);
    writeEvent(uow, "return.cancelled", rma->id, json(payload), actor);
    return rma->state;
}

}  // namespace keel::orders
