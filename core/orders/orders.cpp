#include "keel/orders/orders.h"

#include "keel/orders/billing.h"

#include "keel/db/batch_insert.h"
#include "keel/db/commit_group.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/logging.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/String.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

namespace keel::orders {

namespace {

std::string joinHolds(const std::vector<std::string>& holds) {
    std::string out;
    for (const auto& h : holds) out += (out.empty() ? "" : "; ") + h;
    return out.size() > 1000 ? out.substr(0, 997) + "..." : out;
}

std::vector<std::string> splitHolds(const std::string& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto end = text.find("; ", start);
        out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos) break;
        start = end + 2;
    }
    return out;
}

std::string json(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

std::string money(std::int64_t minor, const Currency* currency) { return Money(minor, *currency).toString(); }

// The same address written differently is the same address for the velocity rule.
std::string addressKey(const Address& a) {
    std::string text = Poco::toLower(a.country + "|" + a.postal_code + "|" + a.line1);
    text.erase(std::remove_if(text.begin(), text.end(), [](char c) { return c == ' ' || c == ',' || c == '.'; }),
               text.end());
    return sha256Hex(text).substr(0, 32);
}

std::optional<Problem> checked(std::int64_t& total, std::int64_t add, const char* what) {
    if (__builtin_add_overflow(total, add, &total)) return keel::reject(std::string(what) + " out of range", "total");
    return std::nullopt;
}

// An order's columns (kOrderColumns of them, read by readOrder) and its lines' (readLine), qualified so that the two
// tables can be joined.
const std::string kOrderColumnsSelect =
    "SELECT o.id, o.channel, o.external_id, o.customer_id, o.email, o.currency, o.state, o.hold_reasons, o.priority, "
    "o.promise_date, o.ship_complete, o.allow_backorder, o.payment_status, o.ship_name, o.ship_line1, o.ship_line2, "
    "o.ship_city, o.ship_region, o.ship_postal_code, o.ship_country, o.bill_country, o.shipping_service, "
    "o.shipping_amount, o.subtotal, o.discount_total, o.tax_total, o.total, o.notes, o.created_at, o.version";
const std::string kOrderSelect = kOrderColumnsSelect + " FROM sales_order o WHERE o.id = ?";
const std::string kOrderWithLinesSelect =
    kOrderColumnsSelect +
    ", l.line_no, l.external_line, l.item_id, l.sku, l.quantity, l.unit_price, l.price_source, l.discount, l.tax, "
    "l.line_total, l.allocated, l.shipped, l.cancelled, l.backordered FROM sales_order o LEFT JOIN sales_order_line l "
    "ON l.order_id = o.id WHERE o.id = ? ORDER BY l.line_no";

// The unit's transition rows, written with one multi-row INSERT when it commits, as its events are
// (db::DeferredInsert): a unit that moves an order more than once (delivered, then invoiced) writes them together.
// Nothing reads them back in the unit that wrote them (the history is read by reports and `keel order show`, in units
// of their own).
const char kPendingTransitions = 0;  // the buffer's key in a unit of work

PaymentStatus paymentFrom(const std::string& text) {
    if (text == "captured") return PaymentStatus::kCaptured;
    if (text == "authorized") return PaymentStatus::kAuthorized;
    return PaymentStatus::kPending;
}

}  // namespace

Orders::Orders(catalog::Catalog& catalog, inventory::Inventory& inventory, PriceSource& prices, TaxQuoter& tax,
               const RoutingStrategy& routing, const Clock& clock, IdGenerator& ids)
    : catalog_(catalog), inventory_(inventory), prices_(prices), tax_(tax), routing_(routing), clock_(clock), ids_(ids),
      outbox_(clock, ids) {}

void Orders::setChannelPolicy(const std::string& channel, ChannelPolicy policy) { channels_[channel] = policy; }

void Orders::writeEvent(db::UnitOfWork& uow, const std::string& type, const std::string& aggregate_type,
                        const std::string& aggregate_id, const std::string& payload, const Actor& actor) {
    outbox_.append(uow, events::Event{type, aggregate_type, aggregate_id, payload, actor.name});
}

// ----------------------------------------------------------------------------------------------- reading

std::optional<Order> Orders::find(db::UnitOfWork& uow, std::string_view order_id) { return load(uow, order_id, true); }

namespace {

constexpr std::size_t kOrderColumns = 30;  // in kOrderSelect, before a line's 14

Order readOrder(const db::Statement& s) {
    Order o;
    o.id = s.getString(0);
    o.channel = s.getString(1);
    o.external_id = s.getString(2);
    o.customer_id = s.getString(3);
    o.email = s.getString(4);
    o.currency = &Currency::of(s.getString(5));
    o.state = orderStateFrom(s.getString(6)).value_or(OrderState::kReceived);
    o.holds = splitHolds(s.getString(7));
    o.priority = static_cast<int>(s.getInt64(8));
    if (auto promise = s.getOptionalInt64(9)) o.promise_date = Date::fromYmd(static_cast<int>(*promise));
    o.ship_complete = s.getInt64(10) != 0;
    o.allow_backorder = s.getInt64(11) != 0;
    o.payment_status = paymentFrom(s.getString(12));
    o.ship_to = Address{s.getString(13), s.getString(14), s.getString(15), s.getString(16), s.getString(17),
                        s.getString(18), s.getString(19), ""};
    o.bill_country = s.getString(20);
    o.shipping_service = s.getString(21);
    o.shipping_amount = s.getInt64(22);
    o.subtotal = s.getInt64(23);
    o.discount_total = s.getInt64(24);
    o.tax_total = s.getInt64(25);
    o.total = s.getInt64(26);
    o.notes = s.getString(27);
    o.created_at = s.getInt64(28);
    o.version = s.getInt64(29);
    return o;
}

// The line whose 14 columns start at column `at`.
OrderLine readLine(const db::Statement& s, std::size_t at) {
    OrderLine l;
    l.line_no = static_cast<int>(s.getInt64(at));
    l.external_line = s.getString(at + 1);
    l.item_id = s.getOptionalString(at + 2).value_or("");
    l.sku = s.getString(at + 3);
    l.quantity = s.getInt64(at + 4);
    l.unit_price = s.getOptionalInt64(at + 5);
    l.price_source = s.getString(at + 6);
    l.discount = s.getInt64(at + 7);
    l.tax = s.getInt64(at + 8);
    l.line_total = s.getInt64(at + 9);
    l.allocated = s.getInt64(at + 10);
    l.shipped = s.getInt64(at + 11);
    l.cancelled = s.getInt64(at + 12);
    l.backordered = s.getInt64(at + 13);
    return l;
}

}  // namespace

std::optional<Order> Orders::load(db::UnitOfWork& uow, std::string_view order_id, bool with_lines) {
    // With its lines, one query (a round trip on the servers; most steps of an order read both): a row per line, the
    // order's columns repeated on each.
    db::Statement& s = uow.statement(with_lines ? kOrderWithLinesSelect : kOrderSelect);
    s.bind(std::string(order_id)).execute();
    if (!s.next()) return std::nullopt;
    Order o = readOrder(s);
    if (!with_lines) return o;
    do {
        if (!s.isNull(kOrderColumns)) o.lines.push_back(readLine(s, kOrderColumns));
    } while (s.next());
    return o;
}

std::optional<Order> Orders::findByExternal(db::UnitOfWork& uow, std::string_view channel,
                                            std::string_view external_id) {
    db::Statement& s = uow.statement("SELECT id FROM sales_order WHERE channel = ? AND external_id = ?");
    s.bindAll(std::string(channel), std::string(external_id)).execute();
    if (!s.next()) return std::nullopt;
    const std::string id = s.getString(0);
    return find(uow, id);
}

std::vector<Order> Orders::list(db::UnitOfWork& uow, std::optional<OrderState> state, std::size_t limit) {
    std::vector<std::string> ids;
    {
        db::Statement& s = uow.statement(state ? "SELECT id FROM sales_order WHERE state = ? ORDER BY created_at, id LIMIT ?"
                                               : "SELECT id FROM sales_order ORDER BY created_at, id LIMIT ?");
        if (state) s.bind(std::string(toString(*state)));
        s.bind(static_cast<std::int64_t>(limit)).execute();
        while (s.next()) ids.push_back(s.getString(0));
    }
    std::vector<Order> out;
    for (const auto& id : ids) {
        if (auto o = find(uow, id)) out.push_back(std::move(*o));
    }
    return out;
}

std::vector<Order> Orders::list(db::UnitOfWork& uow, const OrderQuery& query) {
    std::vector<std::string> ids;
    {
        std::string sql = "SELECT id FROM sales_order WHERE 1 = 1";
        if (query.state) sql += " AND state = ?";
        if (!query.channel.empty()) sql += " AND channel = ?";
        sql += " ORDER BY created_at, id LIMIT ? OFFSET ?";
        db::Statement& s = uow.statement(sql);
        if (query.state) s.bind(std::string(toString(*query.state)));
        if (!query.channel.empty()) s.bind(query.channel);
        s.bind(static_cast<std::int64_t>(query.limit)).bind(static_cast<std::int64_t>(query.offset)).execute();
        while (s.next()) ids.push_back(s.getString(0));
    }
    std::vector<Order> out;
    for (const auto& id : ids) {
        if (auto o = find(uow, id)) out.push_back(std::move(*o));
    }
    return out;
}

std::vector<Exception> Orders::exceptions(db::UnitOfWork& uow) {
    const std::int64_t now = clock_.nowMicros();
    const int today = Date::today(clock_).ymd();
    std::vector<Exception> out;
    db::Statement& s = uow.statement(
        "SELECT id, channel, external_id, state, hold_reasons, created_at, promise_date FROM sales_order "
        "WHERE state = 'on_hold' OR (promise_date IS NOT NULL AND promise_date < ? AND state IN "
        "('validated', 'allocated', 'partially_allocated', 'backordered', 'released', 'picking', 'packed')) "
        "ORDER BY created_at, id");
    s.bind(today).execute();
    while (s.next()) {
        Exception e;
        e.order_id = s.getString(0);
        e.channel = s.getString(1);
        e.external_id = s.getString(2);
        e.state = orderStateFrom(s.getString(3)).value_or(OrderState::kOnHold);
        e.reasons = e.state == OrderState::kOnHold ? splitHolds(s.getString(4)) : std::vector<std::string>{};
        if (e.state != OrderState::kOnHold) {
            e.reasons.push_back("overdue: promised for " + Date::fromYmd(static_cast<int>(s.getInt64(6))).toString());
        }
        e.age_micros = now - s.getInt64(5);
        out.push_back(std::move(e));
    }
    return out;
}

// ------------------------------------------------------------------------------------------- transitions

Result<OrderState> Orders::transition(db::UnitOfWork& uow, Order& order, OrderState to, const std::string& reason,
                                      const Actor& actor) {
    return advance(uow, order, {{to, reason}}, actor);
}

Result<OrderState> Orders::advance(db::UnitOfWork& uow, Order& order, const Steps& steps, const Actor& actor) {
    if (steps.empty()) return order.state;
    OrderState at = order.state;
    for (const auto& [to, reason] : steps) {
        if (to == at) continue;
        if (auto problem = checkTransition(at, to)) {
            problem->message = "order " + order.channel + "/" + order.external_id + ": " + problem->message;
            return uow.fail(problem->code, problem->message, problem->field);
        }
        at = to;
    }
    const std::int64_t now = clock_.nowMicros();
    const auto changed =
        uow.statement(
               "UPDATE sales_order SET state = ?, hold_reasons = ?, version = version + 1, updated_at = ? "
               "WHERE id = ? AND version = ?")
            .bindAll(std::string(toString(at)), joinHolds(order.holds), now, order.id, order.version)
            .execute();
    if (changed != 1) {
        return uow.fail(
            ExitCode::kConflict,
            "order " + order.channel + "/" + order.external_id + " changed while this was being done; try again",
            "order");
    }
    ++order.version;
    OrderState from = order.state;
    for (const auto& [to, reason] : steps) {
        if (to == from) continue;
        recordTransition(uow, order, from, to, reason, actor, now);
        from = to;
    }
    order.state = at;
    return at;
}

void Orders::recordTransition(db::UnitOfWork& uow, const Order& order, OrderState from, OrderState to,
                              const std::string& reason, const Actor& actor, std::int64_t now) {
    db::DeferredInsert::in(uow, &kPendingTransitions, "order_transition",
                           {"id", "order_id", "from_state", "to_state", "reason", "actor", "created_at"})
        .add(ids_.next(), order.id, std::string(toString(from)), std::string(toString(to)), reason.substr(0, 1000),
             actor.name.substr(0, 64), now);
    Poco::JSON::Object payload;
    payload.set("order_id", order.id);
    payload.set("channel", order.channel);
    payload.set("external_id", order.external_id);
    payload.set("from", std::string(toString(from)));
    payload.set("to", std::string(toString(to)));
    if (!reason.empty()) payload.set("reason", reason);
    writeEvent(uow, "order." + std::string(toString(to)), "order", order.id, json(payload), actor);
}

void Orders::saveTaxBreakdown(db::UnitOfWork& uow, const Order& order, bool replace) {
    if (replace) uow.statement("DELETE FROM order_tax WHERE order_id = ?").bindAll(order.id).execute();
    if (order.tax_breakdown.empty()) return;
    // One row per line and jurisdiction: an engine that names a jurisdiction twice for a line is summed.
    std::map<std::pair<int, std::string>, std::int64_t> rows;
    for (const auto& share : order.tax_breakdown) rows[{share.line_no, share.jurisdiction}] += share.tax;
    db::BatchInsert insert(uow, "order_tax", {"order_id", "line_no", "jurisdiction", "tax"}, 64);
    for (const auto& [key, tax] : rows) insert.add(order.id, key.first, key.second, tax);
    insert.flush();
}

void Orders::saveLines(db::UnitOfWork& uow, const Order& order) {
    auto bindLine = [&](db::Statement& s, const OrderLine& l) -> db::Statement& {
        return s.bind(l.item_id.empty() ? std::optional<std::string>() : std::optional<std::string>(l.item_id))
            .bind(l.unit_price)
            .bindAll(l.price_source, l.tax, l.line_total, l.allocated, l.shipped, l.cancelled, l.backordered);
    };
    // SQLite and PostgreSQL: up to 50 lines in one UPDATE joined to a VALUES list (a statement per line was a round
    // trip each on the servers; 50 bounds the statement's size and the shapes cached per connection). MariaDB has no
    // UPDATE ... FROM: a statement per line there, as for a lone line.
    constexpr std::size_t kLinesPerUpdate = 50;
    const bool joined = uow.dialect().backend() != db::Backend::kMariaDB;
    for (std::size_t start = 0; start < order.lines.size(); start += kLinesPerUpdate) {
        const std::size_t end = std::min(order.lines.size(), start + kLinesPerUpdate);
        if (!joined || end - start == 1) {
            db::Statement& one = uow.statement(
                "UPDATE sales_order_line SET item_id = ?, unit_price = ?, price_source = ?, tax = ?, line_total = ?, "
                "allocated = ?, shipped = ?, cancelled = ?, backordered = ? WHERE order_id = ? AND line_no = ?");
            for (std::size_t i = start; i < end; ++i) {
                bindLine(one, order.lines[i]).bindAll(order.id, order.lines[i].line_no).execute();
            }
            continue;
        }
        // The first row's casts type the columns: PostgreSQL would take untyped parameters in VALUES for text.
        std::string values =
            "(CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT), "
            "CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))";
        for (std::size_t i = start + 1; i < end; ++i) values += ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        db::Statement& all = uow.statement(
            "UPDATE sales_order_line SET item_id = v.column2, unit_price = v.column3, price_source = v.column4, "
            "tax = v.column5, line_total = v.column6, allocated = v.column7, shipped = v.column8, "
            "cancelled = v.column9, backordered = v.column10 FROM (VALUES " +
            values +
            ") AS v "
            "WHERE sales_order_line.order_id = ? AND sales_order_line.line_no = v.column1");
        for (std::size_t i = start; i < end; ++i) bindLine(all.bind(order.lines[i].line_no), order.lines[i]);
        all.bind(order.id).execute();
    }
}

// --------------------------------------------------------------------------------------------- validation

std::map<std::string, catalog::Item> Orders::itemsOf(db::UnitOfWork& uow, const Order& order) {
    std::vector<std::string> skus;
    for (const auto& line : order.lines) {
        if (line.item_id.empty()) skus.push_back(line.sku);
    }
    return skus.empty() ? std::map<std::string, catalog::Item>{} : catalog_.findItems(uow, skus, order.channel);
}

std::optional<std::string> Orders::resolveLine(db::UnitOfWork& uow, const Order& order, const Customer& customer,
                                               const std::map<std::string, catalog::Item>& items, OrderLine& line,
                                               const std::string& uom) {
    const std::string where = "line " + line.external_line + " (" + line.sku + ")";
    if (line.item_id.empty()) {
        const auto found = items.find(line.sku);
        const catalog::Item* item = found == items.end() ? nullptr : &found->second;
        if (!item) return "unknown item " + where + ": add it to the item master or an alias for channel " + order.channel;
        if (item->status == catalog::ItemStatus::kDiscontinued) return "inactive item " + where + ": it is discontinued";
        if (!uom.empty()) {
            try {
                line.quantity = catalog_.toBaseUnits(*item, line.quantity, uom);
            } catch (const Error& e) {
                return where + ": " + e.what();
            }
        }
        line.item_id = item->id;
    }
    if (const auto found = items.find(line.sku); found != items.end()) line.tax_class = found->second.tax_class;
    if (!line.unit_price) {
        PriceQuery query;
        query.item_id = line.item_id;
        query.sku = line.sku;
        query.quantity = line.quantity;
        query.customer_id = customer.id;
        query.customer_code = customer.code;
        query.price_list = customer.price_list;
        query.channel = order.channel;
        query.currency = order.currency;
        query.date = Date::today(clock_);
        if (const auto price = prices_.price(uow, query)) {
            line.unit_price = price->unit_price.minor();
            line.price_source = price->source;
        } else {
            return "missing price for " + where + " in " + std::string(order.currency->code());
        }
    }
    return std::nullopt;
}

std::vector<std::string> Orders::dataHolds(const Order& order) const {
    std::vector<std::string> holds;
    const Address& a = order.ship_to;
    std::vector<std::string> missing;
    if (a.name.empty()) missing.push_back("name");
    if (a.line1.empty()) missing.push_back("line1");
    if (a.city.empty()) missing.push_back("city");
    if (a.postal_code.empty()) missing.push_back("postal_code");
    if (a.country.size() != 2) missing.push_back("country");
    if ((a.country == "US" || a.country == "CA") && a.region.empty()) missing.push_back("region");
    if (!missing.empty()) {
        std::string list;
        for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
        holds.push_back("incomplete ship-to address: " + list);
    }
    return holds;
}

std::optional<Problem> Orders::computeTotals(Order& order, std::string* tax_hold) {
    order.subtotal = 0;
    order.discount_total = 0;
    for (auto& l : order.lines) {
        if (!l.unit_price) continue;
        std::int64_t gross = 0;
        if (__builtin_mul_overflow(*l.unit_price, l.quantity, &gross)) return keel::reject("line amount out of range", "lines");
        l.line_total = gross - l.discount;
        if (auto p = checked(order.subtotal, gross, "subtotal")) return p;
        if (auto p = checked(order.discount_total, l.discount, "discounts")) return p;
    }
    TaxRequest request;
    request.order_id = order.id;
    request.customer_id = order.customer_id;
    request.date = Date::today(clock_);
    request.currency = order.currency;
    request.ship_to = order.ship_to;
    request.shipping = Money(order.shipping_amount, *order.currency);
    for (const auto& l : order.lines) {
        request.lines.push_back(TaxLine{l.external_line, l.item_id, l.tax_class.empty() ? "standard" : l.tax_class,
                                        l.quantity, Money(l.unit_price ? l.line_total : 0, *order.currency), l.sku});
    }
    auto quoted = tax_.quote(request);
    if (!quoted && tax_hold == nullptr) return quoted.problem();
    if (!quoted) {
        // A tax engine that cannot answer (a plugin suspended by its breaker, a remote service down) must not
        // lose the order: it is kept on hold without tax, and release quotes again.
        *tax_hold = "tax not quoted: " + quoted.problem().message;
        order.tax_total = 0;
        order.tax_breakdown.clear();
        for (auto& l : order.lines) l.tax = 0;
    } else {
        const TaxResult& result = quoted.value();
        order.tax_total = result.shipping_tax.minor();
        order.tax_breakdown.clear();
        for (std::size_t i = 0; i < order.lines.size(); ++i) {
            order.lines[i].tax = result.line_tax.at(i).minor();
            if (auto p = checked(order.tax_total, order.lines[i].tax, "tax")) return p;
            if (i < result.line_jurisdictions.size()) {
                for (const auto& part : result.line_jurisdictions[i]) {
                    order.tax_breakdown.push_back(TaxShare{order.lines[i].line_no, part.code, part.tax.minor()});
                }
            }
        }
        for (const auto& part : result.shipping_jurisdictions) {
            order.tax_breakdown.push_back(TaxShare{0, part.code, part.tax.minor()});
        }
    }
    order.total = order.subtotal - order.discount_total;
    if (auto p = checked(order.total, order.tax_total, "total")) return p;
    if (auto p = checked(order.total, order.shipping_amount, "total")) return p;
    return std::nullopt;
}

std::vector<std::string> Orders::reviewHolds(db::UnitOfWork& uow, const Order& order, const Customer& customer) {
    std::vector<std::string> holds;
    if (order.payment_status == PaymentStatus::kPending) holds.push_back("payment not authorized");
    const Money total(order.total, *order.currency);
    if (fraud_.max_order_value && fraud_.max_order_value->currency() == *order.currency &&
        total.minor() > fraud_.max_order_value->minor()) {
        holds.push_back("fraud review: order total " + total.toString() + " is over " +
                        fraud_.max_order_value->toString());
    }
    if (fraud_.country_mismatch && !order.bill_country.empty() && order.bill_country != order.ship_to.country) {
        holds.push_back("fraud review: billing country " + order.bill_country + " differs from shipping country " +
                        order.ship_to.country);
    }
    if (fraud_.new_customer_max_value && fraud_.new_customer_max_value->currency() == *order.currency &&
        total.minor() > fraud_.new_customer_max_value->minor()) {
        db::Statement& previous = uow.statement("SELECT COUNT(*) FROM sales_order WHERE customer_id = ? AND id <> ?");
        previous.bindAll(order.customer_id, order.id).execute();
        if (previous.next() && previous.getInt64(0) == 0) {
            holds.push_back("fraud review: first order of a new customer, " + total.toString() + " is over " +
                            fraud_.new_customer_max_value->toString());
        }
    }
    if (fraud_.address_max_orders > 0) {
        db::Statement& recent = uow.statement(
            "SELECT COUNT(*) FROM sales_order WHERE address_key = ? AND created_at >= ? AND id <> ?");
        recent.bindAll(addressKey(order.ship_to), clock_.nowMicros() - fraud_.address_window_micros, order.id).execute();
        if (recent.next() && recent.getInt64(0) + 1 > fraud_.address_max_orders) {
            holds.push_back("fraud review: " + std::to_string(recent.getInt64(0) + 1) +
                            " orders to one address within the review window (at most " +
                            std::to_string(fraud_.address_max_orders) + ")");
        }
    }
    if (customer.kind == CustomerKind::kB2B && customer.credit_limit && customer.currency == order.currency) {
        // Open receivables: what the customer's live orders owe until payment is captured.
        db::Statement& open = uow.statement(
            "SELECT COALESCE(SUM(total), 0) FROM sales_order WHERE customer_id = ? AND id <> ? AND currency = ? "
            "AND payment_status <> 'captured' AND state NOT IN ('cancelled', 'rejected', 'closed')");
        open.bindAll(customer.id, order.id, std::string(order.currency->code())).execute();
        const std::int64_t owed = open.next() ? open.getInt64(0) : 0;
        if (owed > customer.credit_limit->minor() - order.total) {
            holds.push_back("credit limit: open receivables " + money(owed, order.currency) + " plus this order " +
                            total.toString() + " exceed the limit of " + customer.credit_limit->toString());
        }
    }
    return holds;
}

// ------------------------------------------------------------------------------------------------- intake

Result<ImportOutcome> Orders::import(db::UnitOfWork& uow, const OrderDocument& document, const Actor& actor) {
    const std::string canonical = canonicalJson(document);
    const std::string hash = sha256Hex(canonical);
    if (auto existing = findByExternal(uow, document.channel, document.external_id)) {
        db::Statement& s = uow.statement("SELECT document_hash FROM sales_order WHERE id = ?");
        s.bind(existing->id).execute();
        const std::string stored = s.next() ? s.getString(0) : "";
        ImportOutcome outcome;
        outcome.order_id = existing->id;
        outcome.state = existing->state;
        outcome.holds = existing->holds;
        if (stored == hash) {
            outcome.status = ImportStatus::kAlreadyImported;
            return outcome;
        }
        return Problem{ExitCode::kConflict,
                       "order " + document.channel + "/" + document.external_id + " was imported before (" +
                           existing->id + ") with different content; a changed re-send is not applied: cancel the "
                           "order or change it explicitly",
                       "external_id"};
    }

    Customers customers(clock_, ids_);
    // B2C customers of a channel are known by their e-mail when the channel gives no id.
    const std::string code = !document.customer.id.empty() ? document.customer.id : document.customer.email;
    const Customer customer = customers.ensureCustomer(uow, code, document.customer.email, document.customer.name,
                                                       document.customer.kind, *document.currency);
    Order order;
    order.id = ids_.next();
    order.channel = document.channel;
    order.external_id = document.external_id;
    order.customer_id = customer.id;
    order.email = document.customer.email;
    order.currency = document.currency;
    order.priority = document.priority;
    order.promise_date = document.promise_date;
    order.ship_complete = document.ship_complete;
    const auto policy = channels_.find(document.channel);
    order.allow_backorder =
        document.allow_backorder.value_or(policy == channels_.end() ? true : policy->second.allow_backorder);
    order.payment_status = document.payment_status;
    order.ship_to = document.ship_to;
    order.bill_country = document.bill_to ? document.bill_to->country : document.ship_to.country;
    order.shipping_service = document.shipping_service.empty() ? "ground" : document.shipping_service;
    order.shipping_amount = document.shipping_amount.minor();
    order.notes = document.notes;
    order.created_at = clock_.nowMicros();

    std::vector<std::string> holds = dataHolds(order);
    std::vector<std::string> skus;
    for (const auto& doc : document.lines) skus.push_back(doc.sku);
    const auto items = catalog_.findItems(uow, skus, order.channel);
    for (std::size_t i = 0; i < document.lines.size(); ++i) {
        const OrderLineDoc& doc = document.lines[i];
        OrderLine line;
        line.line_no = static_cast<int>(i + 1);
        line.external_line = doc.line_id;
        line.sku = doc.sku;
        line.quantity = doc.quantity;
        line.discount = doc.discount.minor();
        if (doc.unit_price) {
            line.unit_price = doc.unit_price->minor();
            line.price_source = "channel";
        }
        if (auto hold = resolveLine(uow, order, customer, items, line, doc.uom)) holds.push_back(*hold);
        order.lines.push_back(std::move(line));
    }
    std::string tax_hold;
    if (auto problem = computeTotals(order, &tax_hold))
        return uow.fail(problem->code, problem->message, problem->field);
    if (!tax_hold.empty()) holds.push_back(tax_hold);

    // Review holds (payment, fraud, credit) are decided before the order is written: their queries leave the order
    // itself out, so it makes no difference, and the order is inserted in the state it ends in, not inserted as
    // received and updated at once (one statement fewer per import). The change from received is recorded as before.
    if (holds.empty()) {
        const auto review = reviewHolds(uow, order, customer);
        holds.insert(holds.end(), review.begin(), review.end());
    }
    order.holds = holds;
    const OrderState state = holds.empty() ? OrderState::kValidated : OrderState::kOnHold;
    if (auto problem = checkTransition(OrderState::kReceived, state)) {
        return uow.fail(problem->code, problem->message, problem->field);
    }
    const std::int64_t now = order.created_at;
    uow.statement(
           "INSERT INTO sales_order (id, channel, external_id, document_hash, customer_id, email, currency, state, "
           "hold_reasons, priority, promise_date, ship_complete, allow_backorder, payment_status, ship_name, "
           "ship_line1, "
           "ship_line2, ship_city, ship_region, ship_postal_code, ship_country, bill_country, address_key, "
           "shipping_service, shipping_amount, subtotal, discount_total, tax_total, total, notes, document, version, "
           "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
           "?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)")
        .bindAll(order.id, order.channel, order.external_id, hash, order.customer_id, order.email.substr(0, 254),
                 std::string(order.currency->code()), std::string(toString(state)), joinHolds(order.holds),
                 order.priority)
        .bind(order.promise_date ? std::optional<std::int64_t>(order.promise_date->ymd()) : std::nullopt)
        .bindAll(order.ship_complete ? 1 : 0, order.allow_backorder ? 1 : 0,
                 std::string(toString(order.payment_status)), order.ship_to.name, order.ship_to.line1,
                 order.ship_to.line2, order.ship_to.city, order.ship_to.region, order.ship_to.postal_code,
                 order.ship_to.country, order.bill_country, addressKey(order.ship_to), order.shipping_service,
                 order.shipping_amount, order.subtotal, order.discount_total, order.tax_total, order.total, order.notes,
                 canonical, now, now)
        .execute();
    db::BatchInsert lines(uow, "sales_order_line",
                          {"order_id", "line_no", "external_line", "item_id", "sku", "quantity", "unit_price",
                           "price_source", "discount", "tax", "line_total", "allocated", "shipped", "cancelled",
                           "backordered"},
                          64);
    for (const auto& l : order.lines) {
        lines.add(order.id, l.line_no, l.external_line,
                  l.item_id.empty() ? std::optional<std::string>() : std::optional<std::string>(l.item_id), l.sku,
                  l.quantity, l.unit_price, l.price_source, l.discount, l.tax, l.line_total, std::int64_t{0},
                  std::int64_t{0}, std::int64_t{0}, std::int64_t{0});
    }
    lines.flush();
    saveTaxBreakdown(uow, order, false);

    Poco::JSON::Object received;
    received.set("order_id", order.id);
    received.set("channel", order.channel);
    received.set("external_id", order.external_id);
    received.set("total", Money(order.total, *order.currency).toString());
    received.set("currency", std::string(order.currency->code()));
    writeEvent(uow, "order.received", "order", order.id, json(received), actor);
    order.state = state;
    order.version = 1;
    recordTransition(uow, order, OrderState::kReceived, state, holds.empty() ? "validated" : joinHolds(holds), actor,
                     now);
    ImportOutcome outcome;
    outcome.status = ImportStatus::kCreated;
    outcome.order_id = order.id;
    outcome.state = order.state;
    outcome.holds = holds;
    return outcome;
}

Result<ImportOutcome> Orders::importDocument(db::Database& database, const OrderDocument& document,
                                             const Actor& actor) {
    db::RunOptions options;
    options.retry_unique_violation = true;
    return database.run([&](db::UnitOfWork& uow) { return import(uow, document, actor); }, options);
}

std::vector<Result<ImportOutcome>> Orders::importEach(db::Database& database,
                                                      const std::vector<OrderDocument>& documents, const Actor& actor) {
    db::RunOptions options;
    options.retry_unique_violation = true;  // as importDocument
    db::CommitGroup group(database, kImportsPerCommit);
    return group.runEach(
        documents, [&](db::UnitOfWork& uow, const OrderDocument& document) { return import(uow, document, actor); },
        options);
}

// ------------------------------------------------------------------------------------------------- holds

Result<OrderState> Orders::hold(db::UnitOfWork& uow, std::string_view order_id, const std::string& reason,
                                const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    order->holds.push_back("operator hold: " + (reason.empty() ? std::string("no reason given") : reason));
    return transition(uow, *order, OrderState::kOnHold, order->holds.back(), actor);
}

Result<OrderState> Orders::release(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    if (order->state != OrderState::kOnHold) {
        return uow.fail(ExitCode::kConflict,
                        "order " + order->channel + "/" + order->external_id + " is " +
                            std::string(toString(order->state)) + ", not on hold",
                        "state");
    }
    // Data holds are checked again (the item may have been added, the price list loaded); review holds (payment,
    // fraud, credit, operator) are what a release overrides.
    Customers customers(clock_, ids_);
    const auto customer = customers.findById(uow, order->customer_id);
    std::vector<std::string> remaining = dataHolds(*order);
    const auto items = itemsOf(uow, *order);
    for (auto& line : order->lines) {
        if (auto hold = resolveLine(uow, *order, *customer, items, line, "")) remaining.push_back(*hold);
    }
    if (!remaining.empty()) {
        return uow.fail(
            ExitCode::kRejected,
            "order " + order->channel + "/" + order->external_id + " still cannot go on: " + joinHolds(remaining),
            "holds");
    }
    if (auto problem = computeTotals(*order)) return uow.fail(problem->code, problem->message, problem->field);
    uow.statement("UPDATE sales_order SET subtotal = ?, discount_total = ?, tax_total = ?, total = ? WHERE id = ?")
        .bindAll(order->subtotal, order->discount_total, order->tax_total, order->total, order->id)
        .execute();
    saveLines(uow, *order);
    saveTaxBreakdown(uow, *order, true);
    order->holds.clear();
    return transition(uow, *order, OrderState::kValidated, "hold released", actor);
}

Result<OrderState> Orders::reject(db::UnitOfWork& uow, std::string_view order_id, const std::string& reason,
                                  const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    if (auto problem = checkTransition(order->state, OrderState::kRejected)) {
        return uow.fail(problem->code, "order " + order->channel + "/" + order->external_id + ": " + problem->message);
    }
    // A held order may hold stock (it was allocated before the hold): give it back.
    if (auto problem = releaseStock(uow, *order, std::nullopt)) return *problem;
    for (auto& line : order->lines) {
        line.allocated = 0;
        line.backordered = 0;
    }
    saveLines(uow, *order);
    return transition(uow, *order, OrderState::kRejected, reason.empty() ? "rejected" : reason, actor);
}

// ------------------------------------------------------------------------------------------- allocation

std::vector<std::string> Orders::allocationQueue(db::UnitOfWork& uow, std::size_t limit, bool with_backorders) {
    std::vector<std::string> ids;
    // Higher priority first, then the earliest promise (orders without one after those with one), then the oldest.
    db::Statement& s = uow.statement(
        std::string("SELECT id FROM sales_order WHERE state IN ") +
        (with_backorders ? "('validated', 'backordered', 'partially_allocated')" : "('validated')") +
        " ORDER BY priority DESC, CASE WHEN promise_date IS NULL THEN 1 ELSE 0 END, promise_date, created_at, id LIMIT ?");
    s.bind(static_cast<std::int64_t>(limit)).execute();
    while (s.next()) ids.push_back(s.getString(0));
    return ids;
}

std::vector<std::string> Orders::backordersFor(db::UnitOfWork& uow, const std::vector<std::string>& item_ids) {
    std::set<std::string> wanted(item_ids.begin(), item_ids.end());
    // A kit line waits for its components: stock of a component may complete kits.
    db::Statement& kits = uow.statement("SELECT kit_item_id FROM kit_component WHERE component_item_id = ?");
    for (const auto& item : item_ids) {
        kits.bind(item).execute();
        while (kits.next()) wanted.insert(kits.getString(0));
    }
    std::vector<std::string> ids;
    db::Statement& s = uow.statement(
        "SELECT o.id, l.item_id FROM sales_order o JOIN sales_order_line l ON l.order_id = o.id "
        "WHERE o.state IN ('backordered', 'partially_allocated') AND l.backordered > 0 "
        "ORDER BY o.priority DESC, CASE WHEN o.promise_date IS NULL THEN 1 ELSE 0 END, o.promise_date, o.created_at, o.id");
    s.execute();
    std::set<std::string> seen;
    while (s.next()) {
        const std::string id = s.getString(0);
        const auto item = s.getOptionalString(1);
        if ((wanted.empty() || (item && wanted.count(*item) != 0)) && seen.insert(id).second) ids.push_back(id);
    }
    return ids;
}

std::vector<std::string> Orders::fillBackorders(db::Database& database, const std::vector<std::string>& item_ids,
                                                const Actor& actor) {
    const auto waiting = database.run([&](db::UnitOfWork& uow) { return backordersFor(uow, item_ids); });
    // Each order in its own unit of work: one that cannot be allocated now never blocks the next.
    const auto outcomes = allocateEach(database, waiting, actor);
    std::vector<std::string> filled;
    for (std::size_t i = 0; i < waiting.size(); ++i) {
        if (outcomes[i] && outcomes[i].value().allocated > 0) filled.push_back(waiting[i]);
    }
    return filled;
}

std::vector<Result<AllocationOutcome>> Orders::allocateEach(db::Database& database,
                                                            const std::vector<std::string>& order_ids,
                                                            const Actor& actor) {
    db::CommitGroup group(database, kAllocationsPerCommit);
    return group.runEach(
        order_ids, [&](db::UnitOfWork& uow, const std::string& order_id) { return allocate(uow, order_id, actor); });
}

Result<AllocationOutcome> Orders::allocate(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    const std::string label = "order " + order->channel + "/" + order->external_id;
    if (!isAllocatable(order->state)) {
        return uow.fail(ExitCode::kConflict,
                        label + " is " + std::string(toString(order->state)) +
                            "; only validated or backordered orders are allocated",
                        "state");
    }
    RoutingRequest request;
    request.ship_country = order->ship_to.country;
    request.ship_region = order->ship_to.region;
    request.ship_complete = order->ship_complete;
    for (const auto& location : catalog_.locations(uow)) {
        if (!location.active || !location.ships_to_customers) continue;
        request.locations.push_back(
            RoutingLocation{location.id, location.code, location.priority, location.country, location.region});
    }
    std::set<std::string> items;
    for (const auto& line : order->lines) {
        if (line.open() <= 0) continue;
        request.lines.push_back(RoutingLine{line.line_no, line.item_id, line.open()});
        items.insert(line.item_id);
    }
    AllocationOutcome outcome;
    if (request.lines.empty()) {
        outcome.state = order->state;
        return outcome;
    }
    const auto reservable =
        inventory_.reservableMany(uow, std::vector<std::string>(items.begin(), items.end()), order->channel, false);
    for (const auto& [item, at] : reservable) {
        for (const auto& [location, quantity] : at) request.available[{location, item}] = quantity;
    }
    const RoutingPlan plan = routing_.route(request);
    if (plan.held_for_ship_complete) {
        order->holds = {"ship-complete: no single location can ship the whole order"};
        auto moved = transition(uow, *order, OrderState::kOnHold, order->holds.front(), actor);
        if (!moved) return moved.problem();
        outcome.state = OrderState::kOnHold;
        return outcome;
    }
    std::int64_t unallocated = 0;
    for (const auto& [line, quantity] : plan.unallocated) unallocated += quantity;
    if (unallocated > 0 && !order->allow_backorder) {
        // Nothing is reserved: a person decides whether to wait, split or cancel.
        order->holds = {"insufficient stock: " + std::to_string(unallocated) +
                        " units cannot be allocated and the channel does not allow backorders"};
        auto moved = transition(uow, *order, OrderState::kOnHold, order->holds.front(), actor);
        if (!moved) return moved.problem();
        outcome.state = OrderState::kOnHold;
        return outcome;
    }
    std::vector<inventory::ReserveRequest> requests;
    for (const auto& planned : plan.allocations) {
        inventory::ReserveRequest r;
        r.item_id = planned.item_id;
        r.location_id = planned.location_id;
        r.quantity = planned.quantity;
        r.kind = inventory::ReservationKind::kAllocation;
        r.order_id = order->id;
        r.order_line = std::to_string(planned.line_no);
        r.channel = order->channel;
        requests.push_back(std::move(r));
    }
    if (!requests.empty()) {
        auto reserved = inventory_.reserveMany(uow, requests);
        if (!reserved) {
            // Another order took the stock between planning and reserving: this unit rolls back; try again.
            return uow.fail(
                ExitCode::kConflict,
                label + ": stock changed while allocating (" + reserved.problem().message + "); allocate again",
                "stock");
        }
    }
    const std::vector<OrderLine> before = order->lines;
    for (auto& line : order->lines) {
        const std::int64_t open = line.open();
        if (open <= 0) {
            line.backordered = 0;
            continue;
        }
        std::int64_t now_allocated = 0;
        for (const auto& planned : plan.allocations) {
            if (planned.line_no == line.line_no) now_allocated += planned.quantity;
        }
        line.allocated += now_allocated;
        line.backordered = open - now_allocated;
        outcome.allocated += now_allocated;
        outcome.backordered += line.backordered;
    }
    outcome.locations = plan.locations_used;
    std::int64_t held = 0;
    for (const auto& line : order->lines) held += line.allocated;
    const OrderState to = outcome.backordered == 0 ? OrderState::kAllocated
                          : held > 0               ? OrderState::kPartiallyAllocated
                                                   : OrderState::kBackordered;
    const bool lines_changed = !std::equal(before.begin(), before.end(), order->lines.begin(), order->lines.end(),
                                           [](const OrderLine& a, const OrderLine& b) {
                                               return a.allocated == b.allocated && a.backordered == b.backordered;
                                           });
    if (!lines_changed && to == order->state) {
        // Still waiting, nothing found: no write, so waiting orders can be tried often without churn.
        outcome.state = to;
        return outcome;
    }
    saveLines(uow, *order);
    auto moved = transition(uow, *order, to,
                            std::to_string(outcome.allocated) + " allocated from " + std::to_string(plan.locations_used) +
                                " location(s), " + std::to_string(outcome.backordered) + " backordered",
                            actor);
    if (!moved) return moved.problem();
    outcome.state = to;
    return outcome;
}

// ----------------------------------------------------------------------------------------- cancellation

std::optional<Problem> Orders::releaseStock(db::UnitOfWork& uow, const Order& order, std::optional<int> line_no) {
    for (const auto& r : inventory_.activeReservationsOf(
             uow, order.id, line_no ? std::optional<std::string>(std::to_string(*line_no)) : std::nullopt)) {
        auto released = inventory_.release(uow, r.id);
        if (!released) return released.problem();
        uow.statement("DELETE FROM shipment_line WHERE reservation_id = ? AND shipment_id IN (SELECT id FROM shipment "
                      "WHERE order_id = ? AND state IN ('released', 'picking', 'packed'))")
            .bindAll(r.id, order.id)
            .execute();
    }
    uow.statement("UPDATE shipment SET state = 'cancelled' WHERE order_id = ? AND state IN ('released', 'picking', "
                  "'packed') AND NOT EXISTS (SELECT 1 FROM shipment_line sl WHERE sl.shipment_id = shipment.id)")
        .bind(order.id)
        .execute();
    return std::nullopt;
}

Result<OrderState> Orders::cancel(db::UnitOfWork& uow, std::string_view order_id, std::optional<int> line_no,
                                  const std::string& reason, const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    const std::string label = "order " + order->channel + "/" + order->external_id;
    if (!isCancellable(order->state)) {
        return uow.fail(
            ExitCode::kConflict,
            label + " is " + std::string(toString(order->state)) + ": it can no longer be cancelled (use a return)",
            "state");
    }
    if (line_no && (*line_no < 1 || *line_no > static_cast<int>(order->lines.size()))) {
        return uow.fail(ExitCode::kNotFound, label + " has no line " + std::to_string(*line_no), "line");
    }
    if (auto problem = releaseStock(uow, *order, line_no)) return *problem;
    for (auto& line : order->lines) {
        if (line_no && line.line_no != *line_no) continue;
        line.cancelled += line.quantity - line.shipped - line.cancelled;
        line.allocated = 0;
        line.backordered = 0;
    }
    saveLines(uow, *order);
    const bool everything = std::all_of(order->lines.begin(), order->lines.end(),
                                        [](const OrderLine& l) { return l.cancelled == l.quantity; });
    if (everything) return transition(uow, *order, OrderState::kCancelled, reason.empty() ? "cancelled" : reason, actor);
    // One line went: the rest decides the state.
    std::int64_t allocated = 0;
    std::int64_t backordered = 0;
    for (const auto& l : order->lines) {
        allocated += l.allocated;
        backordered += l.backordered;
    }
    OrderState to = order->state;
    if (isAllocatable(order->state) || order->state == OrderState::kAllocated) {
        to = backordered == 0 ? (allocated > 0 ? OrderState::kAllocated : order->state)
             : allocated > 0  ? OrderState::kPartiallyAllocated
                              : OrderState::kBackordered;
    }
    Poco::JSON::Object payload;
    payload.set("order_id", order->id);
    payload.set("line", *line_no);
    payload.set("reason", reason);
    writeEvent(uow, "order.line_cancelled", "order", order->id, json(payload), actor);
    return transition(uow, *order, to, "line " + std::to_string(*line_no) + " cancelled", actor);
}

// --------------------------------------------------------------------------------------------- shipments

std::optional<Shipment> Orders::findShipment(db::UnitOfWork& uow, std::string_view shipment_id, bool with_lines) {
    db::Statement& s = uow.statement(
        "SELECT id, order_id, location_id, state, carrier, service, tracking, packages, weight_mg FROM shipment "
        "WHERE id = ?");
    s.bind(std::string(shipment_id)).execute();
    if (!s.next()) return std::nullopt;
    Shipment sh;
    sh.id = s.getString(0);
    sh.order_id = s.getString(1);
    sh.location_id = s.getString(2);
    sh.state = shipmentStateFrom(s.getString(3)).value_or(ShipmentState::kReleased);
    sh.carrier = s.getString(4);
    sh.service = s.getString(5);
    sh.tracking = s.getString(6);
    sh.packages = static_cast<int>(s.getInt64(7));
    sh.weight_mg = s.getOptionalInt64(8);
    if (!with_lines) return sh;
    db::Statement& lines = uow.statement(
        "SELECT line_no, order_line_no, item_id, lot_id, reservation_id, quantity, line_units FROM shipment_line "
        "WHERE shipment_id = ? ORDER BY line_no");
    lines.bind(sh.id).execute();
    while (lines.next()) {
        sh.lines.push_back(ShipmentLine{static_cast<int>(lines.getInt64(0)), static_cast<int>(lines.getInt64(1)),
                                        lines.getString(2), lines.getString(3), lines.getString(4), lines.getInt64(5),
                                        lines.getInt64(6)});
    }
    return sh;
}

std::vector<Shipment> Orders::shipments(db::UnitOfWork& uow, std::string_view order_id) {
    std::vector<std::string> ids;
    db::Statement& s = uow.statement("SELECT id FROM shipment WHERE order_id = ? ORDER BY created_at, id");
    s.bind(std::string(order_id)).execute();
    while (s.next()) ids.push_back(s.getString(0));
    std::vector<Shipment> out;
    for (const auto& id : ids) {
        if (auto sh = findShipment(uow, id)) out.push_back(std::move(*sh));
    }
    return out;
}

Result<std::vector<std::string>> Orders::releaseToFulfillment(db::UnitOfWork& uow, std::string_view order_id,
                                                              const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    const std::string label = "order " + order->channel + "/" + order->external_id;
    if (order->state != OrderState::kAllocated && order->state != OrderState::kPartiallyAllocated) {
        return uow.fail(
            ExitCode::kConflict,
            label + " is " + std::string(toString(order->state)) + "; only allocated stock is released to fulfillment",
            "state");
    }
    // Reservations not yet on a live shipment, grouped by location.
    std::set<std::string> on_shipment;
    db::Statement& on = uow.statement(
        "SELECT sl.reservation_id FROM shipment_line sl JOIN shipment s ON s.id = sl.shipment_id WHERE s.order_id = ? "
        "AND s.state <> 'cancelled'");
    on.bind(order->id).execute();
    while (on.next()) on_shipment.insert(on.getString(0));
    std::map<std::string, std::vector<inventory::Reservation>> by_location;
    for (auto& r : inventory_.activeReservationsOf(uow, order->id)) {
        if (on_shipment.count(r.id) == 0) by_location[r.location_id].push_back(std::move(r));
    }
    if (by_location.empty()) return uow.fail(ExitCode::kConflict, label + " has nothing allocated to release", "state");
    std::vector<std::string> created;
    const std::int64_t now = clock_.nowMicros();
    for (const auto& [location, reservations] : by_location) {
        const std::string id = ids_.next();
        uow.statement("INSERT INTO shipment (id, order_id, location_id, state, carrier, service, tracking, packages, "
                      "weight_mg, created_at, proof) VALUES (?, ?, ?, 'released', '', ?, '', 0, NULL, ?, '')")
            .bindAll(id, order->id, location, order->shipping_service, now)
            .execute();
        db::BatchInsert lines(uow, "shipment_line",
                              {"shipment_id", "line_no", "order_line_no", "item_id", "lot_id", "reservation_id",
                               "quantity", "line_units"},
                              64);
        int line_no = 0;
        std::set<int> counted_lines;  // a kit line's units are counted on its first component only
        for (const auto& r : reservations) {
            const int order_line = std::stoi(r.order_line);
            const OrderLine& ol = order->lines.at(static_cast<std::size_t>(order_line - 1));
            std::int64_t units = r.quantity;
            if (ol.item_id != r.item_id) {  // a component of a kit line: kits = component units / per kit
                const auto kit = catalog_.findItemById(uow, ol.item_id);
                std::int64_t per_kit = 1;
                if (kit) {
                    for (const auto& c : kit->components) {
                        if (c.item_id == r.item_id) per_kit = c.quantity;
                    }
                }
                units = counted_lines.insert(order_line).second ? r.quantity / per_kit : 0;
            }
            lines.add(id, ++line_no, order_line, r.item_id, r.lot_id, r.id, r.remaining, units);
        }
        lines.flush();
        Poco::JSON::Object payload;
        payload.set("shipment_id", id);
        payload.set("order_id", order->id);
        payload.set("location_id", location);
        writeEvent(uow, "shipment.released", "shipment", id, json(payload), actor);
        created.push_back(id);
    }
    auto moved = transition(uow, *order, OrderState::kReleased,
                            std::to_string(created.size()) + " shipment(s) released to fulfillment", actor);
    if (!moved) return moved.problem();
    return created;
}

Result<ShipmentState> Orders::moveShipment(db::UnitOfWork& uow, Shipment& shipment, ShipmentState to,
                                           const Actor& actor, const ShipmentColumns& also) {
    if (!canTransition(shipment.state, to)) {
        return uow.fail(ExitCode::kConflict,
                        "shipment " + shipment.id + " is " + std::string(toString(shipment.state)) +
                            " and cannot become " + std::string(toString(to)),
                        "state");
    }
    std::string sql = "UPDATE shipment SET state = ?";
    for (const auto& column : also) sql += std::string(", ") + column.first + " = ?";
    db::Statement& update = uow.statement(sql + " WHERE id = ? AND state = ?");
    update.bind(std::string(toString(to)));
    for (const auto& column : also) std::visit([&](const auto& value) { update.bind(value); }, column.second);
    const auto changed = update.bindAll(shipment.id, std::string(toString(shipment.state))).execute();
    if (changed != 1) return uow.fail(ExitCode::kConflict, "shipment " + shipment.id + " changed meanwhile", "state");
    shipment.state = to;
    Poco::JSON::Object payload;
    payload.set("shipment_id", shipment.id);
    payload.set("order_id", shipment.order_id);
    payload.set("state", std::string(toString(to)));
    if (!shipment.tracking.empty()) payload.set("tracking", shipment.tracking);
    if (!shipment.carrier.empty()) payload.set("carrier", shipment.carrier);
    writeEvent(uow, "shipment." + std::string(toString(to)), "shipment", shipment.id, json(payload), actor);
    return to;
}

Result<ShipmentState> Orders::pick(db::UnitOfWork& uow, std::string_view shipment_id, const Actor& actor) {
    auto shipment = findShipment(uow, shipment_id, false);
    if (!shipment) return uow.fail(ExitCode::kNotFound, "no shipment '" + std::string(shipment_id) + "'", "shipment");
    auto moved = moveShipment(uow, *shipment, ShipmentState::kPicking, actor);
    if (!moved) return moved;
    auto order = load(uow, shipment->order_id, false);
    if (order->state == OrderState::kReleased) {
        auto o = transition(uow, *order, OrderState::kPicking, "picking started", actor);
        if (!o) return o.problem();
    }
    return moved;
}

Result<ShipmentState> Orders::pack(db::UnitOfWork& uow, std::string_view shipment_id, int packages,
                                   std::optional<std::int64_t> weight_mg, const Actor& actor) {
    auto shipment = findShipment(uow, shipment_id, false);
    if (!shipment) return uow.fail(ExitCode::kNotFound, "no shipment '" + std::string(shipment_id) + "'", "shipment");
    if (packages < 1) return uow.fail(ExitCode::kRejected, "a packed shipment has at least one package", "packages");
    if (weight_mg && *weight_mg <= 0) return uow.fail(ExitCode::kRejected, "weight must be positive", "weight");
    auto moved = moveShipment(uow, *shipment, ShipmentState::kPacked, actor,
                              {{"packages", std::optional<std::int64_t>(packages)}, {"weight_mg", weight_mg}});
    if (!moved) return moved;
    auto order = load(uow, shipment->order_id, false);
    if (order->state == OrderState::kReleased || order->state == OrderState::kPicking) {
        auto o = transition(uow, *order, OrderState::kPacked, "packed", actor);
        if (!o) return o.problem();
    }
    return moved;
}

Result<ShipmentState> Orders::confirmShipment(db::UnitOfWork& uow, std::string_view shipment_id,
                                              const std::string& carrier, const std::string& service,
                                              const std::string& tracking, const Actor& actor,
                                              const ShipmentReport& report) {
    auto shipment = findShipment(uow, shipment_id);
    if (!shipment) return uow.fail(ExitCode::kNotFound, "no shipment '" + std::string(shipment_id) + "'", "shipment");
    if (carrier.size() > 64 || tracking.size() > 128 || service.size() > 32) {
        return uow.fail(ExitCode::kRejected, "carrier (64), service (32) or tracking (128) too long", "tracking");
    }
    auto order = find(uow, shipment->order_id);
    // What leaves of each line: everything released unless the report says less. Checked before anything moves.
    std::map<int, std::int64_t> ships;
    std::int64_t shipped_total = 0;
    for (const auto& line : shipment->lines) ships[line.line_no] = line.quantity;
    for (const auto& [line_no, quantity] : report.shipped) {
        const auto line = std::find_if(shipment->lines.begin(), shipment->lines.end(),
                                       [&](const ShipmentLine& l) { return l.line_no == line_no; });
        const std::string label = "shipment " + shipment->id + " line " + std::to_string(line_no);
        if (line == shipment->lines.end()) return uow.fail(ExitCode::kNotFound, label + " does not exist", "line");
        if (quantity < 0 || quantity > line->quantity) {
            return uow.fail(ExitCode::kRejected,
                            label + ": " + std::to_string(quantity) + " shipped, " + std::to_string(line->quantity) +
                                " were released (more than released cannot ship from this shipment)",
                            "quantity");
        }
        // A kit ships as components, its count on the first one: a short component would leave a fraction of a kit.
        const OrderLine& ordered = order->lines.at(static_cast<std::size_t>(line->order_line_no - 1));
        if (quantity < line->quantity && (ordered.item_id != line->item_id || line->units != line->quantity)) {
            return uow.fail(ExitCode::kRejected,
                            label +
                                " is a component of a kit: a short kit is not confirmed automatically; confirm "
                                "it in full or cancel the order line",
                            "quantity");
        }
        ships[line_no] = quantity;
    }
    for (const auto& [line_no, quantity] : ships) shipped_total += quantity;
    if (shipped_total == 0) {
        return uow.fail(ExitCode::kRejected,
                        "shipment " + shipment->id + ": nothing shipped; cancel the order (or its lines) instead",
                        "quantity");
    }
    shipment->carrier = carrier;
    shipment->tracking = tracking;
    if (!service.empty()) shipment->service = service;
    // The allocations leave the location: each one becomes a stock move out, in the same transaction. What was not
    // shipped of a short line is released and cancelled on the order line.
    // The lines that ship leave together: their moves are written, valued and posted in a few statements.
    std::vector<inventory::Inventory::Consumption> leaving;
    for (const auto& line : shipment->lines) {
        const std::int64_t quantity = ships.at(line.line_no);
        if (quantity <= 0) continue;
        inventory::Inventory::Consumption consumption;
        consumption.known.id = line.reservation_id;
        consumption.known.item_id = line.item_id;
        consumption.known.location_id = shipment->location_id;
        consumption.known.lot_id = line.lot_id;
        consumption.known.order_id = shipment->order_id;
        consumption.quantity = quantity;
        leaving.push_back(std::move(consumption));
    }
    const inventory::Source source{"shipment", shipment->id, actor.name, tracking, order->channel, order->customer_id};
    auto consumed = inventory_.consumeMany(uow, leaving, source);
    if (!consumed) return consumed.problem();
    Poco::JSON::Array::Ptr shorts = new Poco::JSON::Array;
    std::vector<ShipmentLine> shipped_lines;
    for (const auto& line : shipment->lines) {
        const std::int64_t quantity = ships.at(line.line_no);
        OrderLine& ol = order->lines.at(static_cast<std::size_t>(line.order_line_no - 1));
        ol.allocated -= line.units;
        if (quantity == line.quantity) {
            ol.shipped += line.units;
            shipped_lines.push_back(line);
            continue;
        }
        auto released = inventory_.release(uow, line.reservation_id);
        if (!released) return released.problem();
        ol.shipped += quantity;
        ol.cancelled += line.quantity - quantity;
        if (quantity > 0) {
            uow.statement("UPDATE shipment_line SET quantity = ?, line_units = ? WHERE shipment_id = ? AND line_no = ?")
                .bindAll(quantity, quantity, shipment->id, line.line_no)
                .execute();
            ShipmentLine kept = line;
            kept.quantity = quantity;
            kept.units = quantity;
            shipped_lines.push_back(kept);
        } else {
            uow.statement("DELETE FROM shipment_line WHERE shipment_id = ? AND line_no = ?")
                .bindAll(shipment->id, line.line_no)
                .execute();
        }
        Poco::JSON::Object::Ptr short_line = new Poco::JSON::Object;
        short_line->set("line", line.line_no);
        short_line->set("order_line", line.order_line_no);
        short_line->set("released", static_cast<Poco::Int64>(line.quantity));
        short_line->set("shipped", static_cast<Poco::Int64>(quantity));
        shorts->add(short_line);
    }
    shipment->lines = std::move(shipped_lines);
    saveLines(uow, *order);
    if (shorts->size() > 0) {
        Poco::JSON::Object payload;
        payload.set("shipment_id", shipment->id);
        payload.set("order_id", shipment->order_id);
        payload.set("lines", shorts);
        writeEvent(uow, "shipment.short_shipped", "shipment", shipment->id, json(payload), actor);
    }
    auto moved =
        moveShipment(uow, *shipment, ShipmentState::kShipped, actor,
                     {{"carrier", carrier},
                      {"service", shipment->service},
                      {"tracking", tracking},
                      {"shipped_at", std::optional<std::int64_t>(report.shipped_at.value_or(clock_.nowMicros()))}});
    if (!moved) return moved;
    if (billing_) {
        if (auto problem = billing_->shipped(uow, *order, *shipment, actor)) return *problem;
    }
    auto settled = advance(uow, *order, shippingSteps(uow, *order), actor);
    if (!settled) return settled.problem();
    return moved;
}

Result<ShipmentState> Orders::recordDelivery(db::UnitOfWork& uow, std::string_view shipment_id,
                                             const std::string& proof, const Actor& actor) {
    auto shipment = findShipment(uow, shipment_id, billing_ != nullptr);
    if (!shipment) return uow.fail(ExitCode::kNotFound, "no shipment '" + std::string(shipment_id) + "'", "shipment");
    auto moved = moveShipment(
        uow, *shipment, ShipmentState::kDelivered, actor,
        {{"delivered_at", std::optional<std::int64_t>(clock_.nowMicros())}, {"proof", proof.substr(0, 500)}});
    if (!moved) return moved;
    auto order = find(uow, shipment->order_id);
    if (billing_) {
        if (auto problem = billing_->delivered(uow, *order, *shipment, actor)) return *problem;
    }
    Steps steps = shippingSteps(uow, *order);
    // Delivered and every shipped unit invoiced: the order is invoiced, ready to be closed (in the same write).
    const OrderState settled = steps.empty() ? order->state : steps.back().first;
    if (billing_ && settled == OrderState::kDelivered && billing_->invoicedInFull(uow, *order)) {
        steps.emplace_back(OrderState::kInvoiced, "every shipped unit is invoiced");
    }
    auto advanced = advance(uow, *order, steps, actor);
    if (!advanced) return advanced.problem();
    return moved;
}

Orders::Steps Orders::shippingSteps(db::UnitOfWork& uow, const Order& order) {
    std::int64_t wanted = 0;
    std::int64_t shipped = 0;
    for (const auto& l : order.lines) {
        wanted += l.quantity - l.cancelled;
        shipped += l.shipped;
    }
    bool all_delivered = true;
    db::Statement& s = uow.statement("SELECT state FROM shipment WHERE order_id = ? AND state <> 'cancelled'");
    s.bind(order.id).execute();
    while (s.next()) all_delivered = all_delivered && s.getString(0) == "delivered";
    OrderState to = order.state;
    Steps steps;
    if (shipped >= wanted && wanted > 0) {
        to = all_delivered ? OrderState::kDelivered : OrderState::kShipped;
        if (to == OrderState::kDelivered && order.state != OrderState::kShipped &&
            order.state != OrderState::kPartiallyShipped) {
            steps.emplace_back(OrderState::kShipped, "all lines shipped");
        }
    } else if (shipped > 0) {
        to = OrderState::kPartiallyShipped;
    }
    if (to != order.state) {
        steps.emplace_back(to, to == OrderState::kDelivered ? "delivered" : "shipment confirmed");
    }
    return steps;
}

Result<OrderState> Orders::markInvoiced(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    return transition(uow, *order, OrderState::kInvoiced, "invoiced", actor);
}

Result<OrderState> Orders::close(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor) {
    auto order = find(uow, order_id);
    if (!order) return uow.fail(ExitCode::kNotFound, "no order '" + std::string(order_id) + "'", "order");
    return transition(uow, *order, OrderState::kClosed, "closed", actor);
}

}  // namespace keel::orders
