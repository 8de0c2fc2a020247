// Read-only routes the dashboard (/ui) needs and the other routes do not answer in one call: who the caller is and
// what its role may do, inventory health across the catalog, and fulfillment throughput with fill rate. Every
// statement binds its values; every number is computed here, so the pages and any other client agree.
#include "keel/server/api.h"

#include "keel/kernel/clock.h"

#include <Poco/JSON/Array.h>

#include <algorithm>
#include <map>
#include <set>

namespace keel::server {

namespace {

using Role = auth::Role;
using Object = Poco::JSON::Object;
using ObjectPtr = Poco::JSON::Object::Ptr;
using Array = Poco::JSON::Array;
using ArrayPtr = Poco::JSON::Array::Ptr;

const std::vector<Role> kEveryRole = {Role::kAdmin, Role::kOperations, Role::kFinance, Role::kIntegration,
                                      Role::kReadOnly};
const std::vector<Role> kStockRead = {Role::kAdmin, Role::kOperations, Role::kIntegration, Role::kReadOnly};
const std::vector<Role> kOrdersRead = {Role::kAdmin, Role::kOperations, Role::kIntegration, Role::kReadOnly};

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

Poco::Int64 i64(std::int64_t value) {
    return static_cast<Poco::Int64>(value);
}

Reply ok(ObjectPtr body) {
    Reply r;
    r.json = std::move(body);
    return r;
}

/// The UTC day ("2027-03-01") of a timestamp in microseconds since the epoch.
std::string dayOf(std::int64_t micros) {
    return formatIso8601(micros).substr(0, 10);
}

/// The dashboard's stage of an order state: both partial states count with their whole one, so a stage is "orders
/// that reached this step", and held/backordered are the two ways an order waits outside the flow.
std::string stageOf(const std::string& state) {
    if (state == "partially_allocated") return "allocated";
    if (state == "partially_shipped") return "shipped";
    if (state == "on_hold") return "held";
    return state;
}

const std::vector<std::string> kStages = {"received", "validated", "held",   "allocated", "backordered",
                                          "released", "picking",   "packed", "shipped",   "delivered"};
// States in which an order still waits for the warehouse (work in progress of the fulfillment flow).
const std::vector<std::string> kOpenStates = {"received",    "validated", "on_hold", "allocated", "partially_allocated",
                                              "backordered", "released",  "picking", "packed",    "partially_shipped"};

}  // namespace

void Api::addReportRoutes() {
    auto& s = services_;
    auto& database = database_;
    auto route = [this](std::string method, std::string pattern, std::vector<Role> roles, std::string summary,
                        std::function<Reply(Call&)> handler) {
        Route r;
        r.method = std::move(method);
        r.pattern = std::move(pattern);
        r.roles = std::move(roles);
        r.summary = std::move(summary);
        r.handler = std::move(handler);
        router_.add(std::move(r));
    };

    // The dashboard shows an action only when the key may take it: the server's table says so, not a copy in
    // JavaScript that could drift from it.
    route("GET", "/api/v1/whoami", kEveryRole, "the calling key: its name, role and the routes that role may call",
          [this](Call& call) {
              ObjectPtr body = new Object;
              body->set("name", call.key ? call.key->name : "");
              body->set("role", call.key ? std::string(auth::toString(call.key->role)) : "");
              body->set("prefix", call.key ? call.key->prefix : "");
              ArrayPtr allowed = new Array;
              for (const auto& r : router_.routes()) {
                  if (!r.authenticated || !call.key) continue;
                  if (std::find(r.roles.begin(), r.roles.end(), call.key->role) != r.roles.end()) {
                      allowed->add(r.method + " " + r.pattern);
                  }
              }
              body->set("allowed", allowed);
              return ok(body);
          });

    route("GET", "/api/v1/reports/inventory-health", kStockRead,
          "stockouts, stock below safety stock, overstock (overstock_factor) and lots expiring within expiring_days",
          [&s, &database](Call& call) {
              const std::int64_t factor = call.queryInteger("overstock_factor", 5, 2, 1000);
              const std::int64_t expiring_days = call.queryInteger("expiring_days", 30, 0, 3650);
              const Date today = Date::today(Clock::system());
              const Date horizon = today.plusDays(static_cast<int>(expiring_days));
              ObjectPtr body = database.run(
                  [&](db::UnitOfWork& uow) {
                      std::map<std::string, std::int64_t> counts = {
                          {"ok", 0}, {"stockout", 0}, {"below_safety", 0}, {"overstock", 0}};
                      ArrayPtr flagged = new Array;
                      catalog::ItemQuery query;
                      query.status = catalog::ItemStatus::kActive;
                      query.limit = 500;
                      for (query.offset = 0;; query.offset += query.limit) {
                          const auto items = s.catalog.listItems(uow, query);
                          for (const auto& item : items) {
                              if (item.is_kit) continue;  // a kit has no stock of its own: its components are counted
                              // The same ATP the allocation uses: expired and quarantined lots are not stock.
                              const auto atp = s.inventory.atp(uow, item.id);
                              std::int64_t on_hand = 0, allocated = 0, safety = 0;
                              for (const auto& l : atp.locations) {
                                  on_hand += l.on_hand;
                                  allocated += l.allocated;
                                  safety += l.safety_stock;
                              }
                              if (atp.locations.empty()) safety = item.safety_stock;
                              const std::int64_t free = on_hand - allocated;
                              // Free stock against safety stock, not ATP: ATP already keeps the safety stock back, so
                              // it cannot tell an empty shelf from one dipping into its reserve.
                              std::string status = "ok";
                              if (free <= 0) {
                                  status = "stockout";
                              } else if (free < safety) {
                                  status = "below_safety";
                              } else if (safety > 0 && free > factor * safety) {
                                  status = "overstock";
                              }
                              ++counts[status];
                              if (status == "ok") continue;
                              ObjectPtr o = new Object;
                              o->set("sku", item.sku);
                              o->set("name", item.name);
                              o->set("status", status);
                              o->set("on_hand", i64(on_hand));
                              o->set("allocated", i64(allocated));
                              o->set("safety_stock", i64(safety));
                              o->set("available", i64(atp.available));
                              flagged->add(o);
                          }
                          if (items.size() < query.limit) break;
                      }
                      db::Statement& lots = uow.statement(
                          "SELECT i.sku, l.lot_code, l.expiry_date, loc.code, b.quantity, b.allocated "
                          "FROM stock_balance b JOIN lot l ON l.id = b.lot_id JOIN item i ON i.id = b.item_id "
                          "JOIN location loc ON loc.id = b.location_id "
                          "WHERE b.state = ? AND b.quantity > ? AND l.expiry_date IS NOT NULL AND l.expiry_date <= ? "
                          "ORDER BY l.expiry_date, i.sku, loc.code, l.lot_code");
                      lots.bindAll("on_hand", std::int64_t{0}, std::int64_t{horizon.ymd()}).execute();
                      ArrayPtr expiring = new Array;
                      while (lots.next()) {
                          const Date expiry = Date::fromYmd(static_cast<int>(lots.getInt64(2)));
                          ObjectPtr o = new Object;
                          o->set("sku", lots.getString(0));
                          o->set("lot", lots.getString(1));
                          o->set("expiry", expiry.toString());
                          o->set("days_left", today.daysUntil(expiry));
                          o->set("expired", expiry < today);
                          o->set("location", lots.getString(3));
                          o->set("quantity", i64(lots.getInt64(4)));
                          o->set("allocated", i64(lots.getInt64(5)));
                          expiring->add(o);
                      }
                      ObjectPtr summary = new Object;
                      for (const auto& [name, count] : counts) summary->set(name, i64(count));
                      summary->set("expiring_lots", static_cast<Poco::UInt64>(expiring->size()));
                      ObjectPtr out = new Object;
                      out->set("as_of", today.toString());
                      out->set("overstock_factor", i64(factor));
                      out->set("expiring_days", i64(expiring_days));
                      out->set("summary", summary);
                      out->set("items", flagged);
                      out->set("expiring", expiring);
                      return out;
                  },
                  kReadOnlyUnit);
              return ok(body);
          });

    route(
        "GET", "/api/v1/reports/throughput", kOrdersRead,
        "orders entering each fulfillment stage per day, orders waiting in each stage now, and fill rate (days=N)",
        [&database](Call& call) {
            const std::int64_t days = call.queryInteger("days", 14, 1, 366);
            const std::int64_t now = Clock::system().nowMicros();
            const std::int64_t since = (now / kMicrosPerDay - days + 1) * kMicrosPerDay;
            ObjectPtr body = database.run(
                [&](db::UnitOfWork& uow) {
                    // (day, stage) -> distinct orders: an order that enters a stage twice in a day (partially, then
                    // wholly shipped) is counted once.
                    std::map<std::string, std::map<std::string, std::set<std::string>>> entered;
                    db::Statement& created =
                        uow.statement("SELECT id, created_at FROM sales_order WHERE created_at >= ?");
                    created.bindAll(since).execute();
                    while (created.next()) {
                        entered[dayOf(created.getInt64(1))]["received"].insert(created.getString(0));
                    }
                    db::Statement& moves = uow.statement(
                        "SELECT order_id, to_state, created_at FROM order_transition WHERE created_at >= ?");
                    moves.bindAll(since).execute();
                    while (moves.next()) {
                        const std::string stage = stageOf(moves.getString(1));
                        if (std::find(kStages.begin(), kStages.end(), stage) == kStages.end()) continue;
                        entered[dayOf(moves.getInt64(2))][stage].insert(moves.getString(0));
                    }
                    ArrayPtr series = new Array;
                    for (std::int64_t d = 0; d < days; ++d) {
                        const std::string day = dayOf(since + d * kMicrosPerDay);
                        ObjectPtr row = new Object;
                        row->set("date", day);
                        for (const auto& stage : kStages) {
                            const auto found = entered.find(day);
                            const std::size_t n = found == entered.end() ? 0 : found->second[stage].size();
                            row->set(stage, static_cast<Poco::UInt64>(n));
                        }
                        series->add(row);
                    }

                    // Work in progress now, with the age of the oldest order in each stage (since it was created).
                    std::map<std::string, std::pair<std::int64_t, std::int64_t>> waiting;  // stage -> (count, oldest)
                    db::Statement& open = uow.statement(
                        "SELECT state, COUNT(*), MIN(created_at) FROM sales_order WHERE state IN "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) GROUP BY state");
                    for (const auto& state : kOpenStates) open.bind(state);
                    open.execute();
                    while (open.next()) {
                        auto& w = waiting[stageOf(open.getString(0))];
                        const std::int64_t oldest = open.getInt64(2);
                        w.second = w.first == 0 ? oldest : std::min(w.second, oldest);
                        w.first += open.getInt64(1);
                    }
                    ObjectPtr wip = new Object;
                    std::string bottleneck;
                    std::int64_t most = 0;
                    for (const auto& stage : kStages) {
                        if (stage == "delivered" || stage == "shipped") continue;
                        const auto found = waiting.find(stage);
                        ObjectPtr w = new Object;
                        w->set("orders", i64(found == waiting.end() ? 0 : found->second.first));
                        w->set("oldest_age_seconds",
                               i64(found == waiting.end() ? 0 : (now - found->second.second) / 1'000'000));
                        wip->set(stage, w);
                        if (found != waiting.end() && found->second.first > most) {
                            most = found->second.first;
                            bottleneck = stage;
                        }
                    }
                    // partially_shipped orders still wait for the rest: they are work in progress of "shipped".
                    {
                        const auto found = waiting.find("shipped");
                        ObjectPtr w = new Object;
                        w->set("orders", i64(found == waiting.end() ? 0 : found->second.first));
                        w->set("oldest_age_seconds",
                               i64(found == waiting.end() ? 0 : (now - found->second.second) / 1'000'000));
                        wip->set("shipped", w);
                    }

                    // Fill rate of the orders created in the window (cancelled and rejected ones left out): units
                    // reserved or shipped of the units still wanted, and orders that never waited for stock.
                    db::Statement& units = uow.statement(
                        "SELECT COALESCE(SUM(l.quantity - l.cancelled), 0), COALESCE(SUM(l.allocated + l.shipped), 0) "
                        "FROM sales_order_line l JOIN sales_order o ON o.id = l.order_id "
                        "WHERE o.created_at >= ? AND o.state NOT IN (?, ?)");
                    units.bindAll(since, "cancelled", "rejected").execute();
                    std::int64_t wanted = 0, filled = 0;
                    if (units.next()) {
                        wanted = units.getInt64(0);
                        filled = units.getInt64(1);
                    }
                    db::Statement& reached = uow.statement(
                        "SELECT t.order_id, t.to_state FROM order_transition t JOIN sales_order o ON o.id = t.order_id "
                        "WHERE o.created_at >= ? AND o.state NOT IN (?, ?) AND t.to_state IN (?, ?, ?)");
                    reached.bindAll(since, "cancelled", "rejected", "allocated", "partially_allocated", "backordered")
                        .execute();
                    std::set<std::string> allocated_orders, short_orders;
                    while (reached.next()) {
                        const std::string id = reached.getString(0);
                        allocated_orders.insert(id);
                        if (reached.getString(1) != "allocated") short_orders.insert(id);
                    }
                    ObjectPtr fill = new Object;
                    fill->set("units_wanted", i64(wanted));
                    fill->set("units_filled", i64(filled));
                    fill->set("orders_allocated", static_cast<Poco::UInt64>(allocated_orders.size()));
                    fill->set("orders_short", static_cast<Poco::UInt64>(short_orders.size()));
                    fill->set("orders_filled_first_time",
                              static_cast<Poco::UInt64>(allocated_orders.size() - short_orders.size()));

                    ObjectPtr out = new Object;
                    out->set("days", i64(days));
                    out->set("since", dayOf(since));
                    ArrayPtr stages = new Array;
                    for (const auto& stage : kStages) stages->add(stage);
                    out->set("stages", stages);
                    out->set("series", series);
                    out->set("wip", wip);
                    out->set("bottleneck", bottleneck.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(bottleneck));
                    out->set("fill_rate", fill);
                    return out;
                },
                kReadOnlyUnit);
            return ok(body);
        });
}

}  // namespace keel::server
