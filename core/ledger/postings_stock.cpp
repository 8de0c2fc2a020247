// Valuing stock moves and posting them: cost pools per item (moving average, FIFO layers as an option) and the
// rule each kind of move posts by.
#include "keel/ledger/postings.h"

#include "keel/db/for_each_in.h"

#include <algorithm>

namespace keel::ledger {

namespace {

/// The cost pool a stock state belongs to: everything held at a location is 'stock', 'transit' is between.
const char* poolOf(const std::string& state) {
    if (state.empty()) return nullptr;
    return state == "in_transit" ? "transit" : "stock";
}

/// The posting rule of a move, from where it comes from, where it goes and why.
std::string kindOf(const inventory::MoveRecord& move, const char* from, const char* to) {
    const std::string& reason = move.reason;
    if (!from) {
        if (reason == "receipt") return "goods_receipt";
        if (reason == "opening_balance") return "opening_balance";
        if (reason == "return") return "return_restock";
        return "adjustment_gain";
    }
    if (!to) {
        if (std::string(from) == "transit") return "transfer_loss";
        if (reason == "shipment") return "shipment";
        if (reason.rfind("write_off", 0) == 0) return "write_off";
        return "adjustment_loss";
    }
    return std::string(from) == "stock" ? "transfer_ship" : "transfer_receive";
}

/// An issue of `quantity` from a pool of `quantity`/`value` units at moving average: its proportional share of the value
/// (the last units out take whatever is left), and the pool's average unit cost before it (kept as the pool's cost).
struct AverageIssue {
    std::int64_t value;
    std::int64_t unit_cost;
};
AverageIssue averageIssue(std::int64_t pool_quantity, std::int64_t pool_value, std::int64_t pool_unit_cost,
                          std::int64_t quantity) {
    return AverageIssue{
        quantity == pool_quantity ? pool_value
                                  : proportionalShare(pool_value, quantity, pool_quantity, RoundingMode::kHalfEven),
        pool_quantity > 0 ? divideRounded(pool_value, pool_quantity, RoundingMode::kHalfEven) : pool_unit_cost};
}

/// More units move out of a pool than it holds: the stock ledger and the cost pools disagree.
std::optional<Problem> poolShortage(db::UnitOfWork& uow, const std::string& item_id, const char* pool,
                                    std::int64_t held, std::int64_t moving) {
    if (held >= moving) return std::nullopt;
    return uow.fail(ExitCode::kInfrastructure,
                    "item " + item_id + ": its " + pool + " cost pool holds " + std::to_string(held) + " units, " +
                        std::to_string(moving) + " are moving (stock received before the ledger: `keel ledger value-stock`)",
                    "quantity");
}

}  // namespace

bool Postings::isFifo(db::UnitOfWork& uow, const std::string& item_id) {
    return costMethods(uow, {item_id})[item_id];
}

Postings::Pool Postings::readPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool) {
    db::Statement& s = uow.statement("SELECT quantity, value, unit_cost FROM item_cost WHERE item_id = ? AND pool = ?" +
                                     std::string(uow.dialect().forUpdate()));
    s.bindAll(item_id, pool).execute();
    Pool p;
    if (s.next()) {
        p.exists = true;
        p.quantity = s.getInt64(0);
        p.value = s.getInt64(1);
        p.unit_cost = s.getInt64(2);
    }
    return p;
}

void Postings::addToPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool, std::int64_t quantity,
                         std::int64_t value, bool fifo, const std::string& move_id) {
    const std::int64_t now = ledger_.clock().nowMicros();
    // An atomic add: two first receipts of one item at the same time both count.
    uow.statement(uow.dialect().upsertAdd("item_cost", {"item_id", "pool", "quantity", "value", "unit_cost", "updated_at"},
                                          {"item_id", "pool"}, {"quantity", "value"}, {"updated_at"}))
        .bindAll(item_id, std::string(pool), quantity, value, divideRounded(value, quantity, RoundingMode::kHalfEven), now)
        .execute();
    if (fifo) {
        uow.statement("INSERT INTO cost_layer (id, item_id, move_id, quantity, value, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .bindAll(IdGenerator::global().next(), item_id, move_id, quantity, value, now)
            .execute();
    }
}

Result<std::int64_t> Postings::issueFromPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool,
                                             std::int64_t quantity, bool fifo) {
    const Pool p = readPool(uow, item_id, pool);
    if (auto shortage = poolShortage(uow, item_id, pool, p.quantity, quantity)) return *shortage;
    const AverageIssue average = averageIssue(p.quantity, p.value, p.unit_cost, quantity);
    std::int64_t value = 0;
    if (fifo) {
        // Oldest layers first; a layer taken whole gives all its value, a part its proportional share.
        db::Statement& layers = uow.statement(
            "SELECT id, quantity, value FROM cost_layer WHERE item_id = ? AND quantity > 0 ORDER BY id" +
            std::string(uow.dialect().forUpdate()));
        layers.bind(item_id).execute();
        std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> open;
        while (layers.next()) open.emplace_back(layers.getString(0), layers.getInt64(1), layers.getInt64(2));
        std::int64_t left = quantity;
        for (const auto& [id, q, v] : open) {
            if (left == 0) break;
            const std::int64_t take = std::min(left, q);
            const std::int64_t taken = take == q ? v : proportionalShare(v, take, q, RoundingMode::kHalfEven);
            uow.statement("UPDATE cost_layer SET quantity = quantity - ?, value = value - ? WHERE id = ?")
                .bindAll(take, taken, id)
                .execute();
            value += taken;
            left -= take;
        }
        if (left != 0) {
            return uow.fail(
                ExitCode::kInfrastructure,
                "item " + item_id + ": its FIFO layers hold fewer units than its cost pool; run `keel ledger verify`");
        }
    } else {
        value = average.value;
    }
    uow.statement("UPDATE item_cost SET quantity = quantity - ?, value = value - ?, unit_cost = ?, updated_at = ? "
                  "WHERE item_id = ? AND pool = ?")
        .bindAll(quantity, value, average.unit_cost, ledger_.clock().nowMicros(), item_id, std::string(pool))
        .execute();
    return value;
}

std::optional<Problem> Postings::moved(db::UnitOfWork& uow, const inventory::MoveRecord& move) {
    const char* from = poolOf(move.from_state);
    const char* to = poolOf(move.to_state);
    if (from && to && std::string(from) == to) return std::nullopt;  // a change of state where the stock is
    // A database whose ledger was never initialized (its schema made without `keel db migrate`) keeps stock
    // without value; `keel ledger init` starts the books, and `keel ledger verify` then names unvalued stock.
    const Currency* functional = ledger_.functionalCurrency(uow);
    if (!functional) return std::nullopt;
    const Date today = Date::today(ledger_.clock());
    const bool fifo = isFifo(uow, move.item_id);
    std::int64_t value = 0;
    std::optional<Money> transaction;  // a receipt at a foreign-currency cost posts in that currency
    if (!from) {
        if (move.unit_cost) {
            const Money cost = move.unit_cost->times(move.quantity);
            if (cost.currency() == *functional) {
                value = cost.minor();
            } else {
                const auto rate = ledger_.rateOn(uow, cost.currency(), today);
                if (!rate) {
                    return uow.fail(ExitCode::kRejected,
                                    "no exchange rate for " + std::string(cost.currency().code()) + " on or before " +
                                        today.toString() + " to value the receipt (keel ledger rate set " +
                                        std::string(cost.currency().code()) + " DATE RATE)",
                                    "unit_cost");
                }
                value = cost.convert(*functional, *rate, RoundingMode::kHalfEven).minor();
                transaction = cost;
            }
        } else {
            // No cost given (a return, a found unit, a receipt without a price): the item's current average.
            const Pool p = readPool(uow, move.item_id, "stock");
            value = p.quantity > 0 ? proportionalShare(p.value, move.quantity, p.quantity, RoundingMode::kHalfEven)
                                   : p.unit_cost * move.quantity;
        }
        addToPool(uow, move.item_id, to, move.quantity, value, fifo && std::string(to) == "stock", move.id);
    } else {
        auto issued = issueFromPool(uow, move.item_id, from, move.quantity, fifo && std::string(from) == "stock");
        if (!issued) return issued.problem();
        value = issued.value();
        if (to) addToPool(uow, move.item_id, to, move.quantity, value, fifo && std::string(to) == "stock", move.id);
    }
    if (value == 0) return std::nullopt;  // nothing to post: stock without cost
    auto posted = ledger_.post(
        uow, entryFor(move, kindOf(move, from, to), transaction.value_or(Money(value, *functional)), today));
    if (!posted) return posted.problem();
    return std::nullopt;
}

EntryRequest Postings::entryFor(const inventory::MoveRecord& move, const std::string& kind, const Money& amount,
                                const Date& today) const {
    const PostingRule* rule = findRule(kind);
    Dimensions dimensions;
    dimensions.item_id = move.item_id;
    dimensions.location_id = move.from_location_id.empty() ? move.to_location_id : move.from_location_id;
    if (move.source) {
        dimensions.channel = move.source->channel;
        dimensions.customer_id = move.source->customer_id;
    }
    EntryRequest request;
    request.date = today;
    request.kind = kind;
    request.source_type = "stock_move";
    request.source_id = move.id;
    request.idempotency_key = "stock_move:" + move.id;
    request.new_key = true;
    request.memo = move.reason + " of " + std::to_string(move.quantity) +
                   (move.source && !move.source->id.empty() ? " (" + move.source->type + " " + move.source->id + ")" : "");
    request.actor = move.source ? move.source->actor : "system";
    request.lines = applyRule(*rule, {{"value", amount}}, {}, dimensions);
    return request;
}

std::map<std::string, bool> Postings::costMethods(db::UnitOfWork& uow, const std::vector<std::string>& items) {
    // An item's cost method is cached for a minute: it is read on every move, and changes rarely.
    constexpr std::int64_t kCacheMicros = 60'000'000;
    const std::int64_t now = ledger_.clock().nowMicros();
    std::map<std::string, bool> fifo;
    std::vector<std::string> missing;
    {
        std::lock_guard lock(mutex_);
        for (const auto& item : items) {
            const auto it = cost_methods_.find(item);
            if (it == cost_methods_.end() || now - it->second.second >= kCacheMicros || now < it->second.second) {
                missing.push_back(item);
            } else {
                fifo[item] = it->second.first;
            }
        }
    }
    if (missing.empty()) return fifo;
    std::map<std::string, bool> read;
    db::forEachIn(uow, "SELECT id, cost_method FROM item WHERE id IN ", "", missing,
                  [&](const db::Statement& row) { read[row.getString(0)] = row.getString(1) == "fifo"; });
    std::lock_guard lock(mutex_);
    if (cost_methods_.size() > 100'000) cost_methods_.clear();
    for (const auto& item : missing) {
        const bool is_fifo = read.count(item) != 0 && read[item];  // an unknown item has no layers
        cost_methods_[item] = {is_fifo, now};
        fifo[item] = is_fifo;
    }
    return fifo;
}

std::optional<Problem> Postings::movedMany(db::UnitOfWork& uow, const std::vector<inventory::MoveRecord>& moves) {
    auto oneByOne = [&] { return inventory::MoveObserver::movedMany(uow, moves); };  // moved() for each
    if (moves.size() < 2) return oneByOne();
    std::vector<std::string> items;
    for (const auto& move : moves) {
        const char* from = poolOf(move.from_state);
        if (!from || std::string(from) != "stock" || poolOf(move.to_state)) return oneByOne();
        items.push_back(move.item_id);
    }
    const Currency* functional = ledger_.functionalCurrency(uow);
    if (!functional) return std::nullopt;  // as moved(): stock without books is not valued
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (const auto& [item, fifo] : costMethods(uow, items)) {
        if (fifo) return oneByOne();  // layers are taken one by one
    }
    // The pools, locked in item order (moved() locks them one at a time, in the order of the moves).
    std::map<std::string, Pool> pools;
    db::forEachIn(uow, "SELECT item_id, quantity, value, unit_cost FROM item_cost WHERE pool = ? AND item_id IN ",
                  " ORDER BY item_id" + std::string(uow.dialect().forUpdate()), items,
                  [&](const db::Statement& row) {
                      pools[row.getString(0)] = Pool{true, row.getInt64(1), row.getInt64(2), row.getInt64(3)};
                  },
                  {"stock"});
    // Each move as issueFromPool() values it, against what the moves before it left in the pool.
    struct Taken {
        std::int64_t quantity = 0;
        std::int64_t value = 0;
        std::int64_t unit_cost = 0;
    };
    std::map<std::string, Taken> taken;
    std::vector<std::int64_t> values;
    for (const auto& move : moves) {
        Pool& p = pools[move.item_id];
        if (auto shortage = poolShortage(uow, move.item_id, "stock", p.quantity, move.quantity)) return *shortage;
        const auto [value, unit_cost] = averageIssue(p.quantity, p.value, p.unit_cost, move.quantity);
        p.quantity -= move.quantity;
        p.value -= value;
        p.unit_cost = unit_cost;
        Taken& t = taken[move.item_id];
        t.quantity += move.quantity;
        t.value += value;
        t.unit_cost = unit_cost;
        values.push_back(value);
    }
    const std::int64_t now = ledger_.clock().nowMicros();
    if (taken.size() == 1 || uow.dialect().backend() == db::Backend::kMariaDB) {
        // MariaDB has no UPDATE ... FROM: a statement per item there, as for a single item.
        db::Statement& update = uow.statement(
            "UPDATE item_cost SET quantity = quantity - ?, value = value - ?, unit_cost = ?, updated_at = ? "
            "WHERE item_id = ? AND pool = 'stock'");
        for (const auto& [item, t] : taken) update.bindAll(t.quantity, t.value, t.unit_cost, now, item).execute();
    } else {
        // The first row's casts type the columns (PostgreSQL leaves untyped parameters in VALUES as text).
        std::string values_sql = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))";
        for (std::size_t i = 1; i < taken.size(); ++i) values_sql += ", (?, ?, ?, ?)";
        db::Statement& update = uow.statement(
            "UPDATE item_cost SET quantity = item_cost.quantity - v.column2, value = item_cost.value - v.column3, "
            "unit_cost = v.column4, updated_at = ? FROM (VALUES " +
            values_sql + ") AS v WHERE item_cost.item_id = v.column1 AND item_cost.pool = 'stock'");
        update.bind(now);
        for (const auto& [item, t] : taken) update.bindAll(item, t.quantity, t.value, t.unit_cost);
        if (update.execute() != taken.size()) {
            return uow.fail(ExitCode::kInfrastructure, "a cost pool changed while a shipment was valued; try again");
        }
    }
    const Date today = Date::today(ledger_.clock());
    std::vector<EntryRequest> requests;
    for (std::size_t i = 0; i < moves.size(); ++i) {
        if (values[i] == 0) continue;  // nothing to post: stock without cost
        requests.push_back(
            entryFor(moves[i], kindOf(moves[i], "stock", nullptr), Money(values[i], *functional), today));
    }
    auto posted = ledger_.postMany(uow, requests);
    if (!posted) return posted.problem();
    return std::nullopt;
}

Result<std::int64_t> Postings::valueUnvaluedStock(db::UnitOfWork& uow, const std::string& item_id,
                                                  const Money& unit_cost, const std::string& actor) {
    const Currency* functional = ledger_.functionalCurrency(uow);
    if (!functional) return uow.fail(ExitCode::kInfrastructure, "the ledger is not initialized: run `keel ledger init`");
    if (unit_cost.currency() != *functional) {
        return uow.fail(ExitCode::kRejected,
                        "the unit cost must be in the functional currency " + std::string(functional->code()), "unit_cost");
    }
    if (unit_cost.isNegative()) return uow.fail(ExitCode::kRejected, "the unit cost cannot be negative", "unit_cost");
    std::int64_t held[2] = {0, 0};  // stock, transit
    db::Statement& b = uow.statement(
        "SELECT state, SUM(quantity) FROM stock_balance WHERE item_id = ? GROUP BY state");
    b.bind(item_id).execute();
    while (b.next()) held[b.getString(0) == "in_transit" ? 1 : 0] += b.getInt64(1);
    const bool fifo = isFifo(uow, item_id);
    EntryRequest request;
    request.date = Date::today(ledger_.clock());
    request.kind = "opening_balance";
    request.source_type = "valuation";
    request.source_id = item_id;
    request.memo = "valuation of stock held before the ledger, at " + unit_cost.toString() + " a unit";
    request.actor = actor;
    std::int64_t valued = 0;
    const char* pools[2] = {"stock", "transit"};
    const char* roles[2] = {"inventory", "inventory_transit"};
    for (int i = 0; i < 2; ++i) {
        const Pool p = readPool(uow, item_id, pools[i]);
        const std::int64_t missing = held[i] - p.quantity;
        if (missing <= 0) continue;
        const Money value = unit_cost.times(missing);
        addToPool(uow, item_id, pools[i], missing, value.minor(), fifo && i == 0, "valuation:" + item_id);
        Dimensions d;
        d.item_id = item_id;
        if (!value.isZero()) {
            request.lines.push_back(DraftLine{roles[i], "", value, d});
            request.lines.push_back(DraftLine{"opening_equity", "", -value, d});
        }
        valued += missing;
    }
    if (valued == 0) return std::int64_t{0};
    if (!request.lines.empty()) {
        request.idempotency_key = "valuation:" + item_id + ":" + IdGenerator::global().next();
        auto posted = ledger_.post(uow, request);
        if (!posted) return posted.problem();
    }
    return valued;
}

}  // namespace keel::ledger
