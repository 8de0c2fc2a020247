#include "keel/inventory/inventory.h"

#include "keel/db/batch_insert.h"
#include "keel/db/for_each_in.h"
#include "keel/events/outbox.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <tuple>

namespace keel::inventory {

namespace {

constexpr std::int64_t kFactsTtlMicros = 60'000'000;

// A move's end outside the books (receipt from a supplier, shipment to a customer, write-off).
constexpr const char* kOutside = "";

const char* kindName(ReservationKind kind) { return kind == ReservationKind::kHold ? "hold" : "allocation"; }

std::optional<int> optionalInt(const db::Statement& s, std::size_t column) {
    const auto v = s.getOptionalInt64(column);
    if (!v) return std::nullopt;
    return static_cast<int>(*v);
}

std::string quantityText(std::int64_t quantity) { return std::to_string(quantity); }

}  // namespace

std::string_view toString(StockState state) {
    switch (state) {
        case StockState::kOnHand: return "on_hand";
        case StockState::kQuarantined: return "quarantined";
        case StockState::kInTransit: return "in_transit";
        case StockState::kReturned: return "returned";
        case StockState::kDamaged: return "damaged";
    }
    return "on_hand";
}

std::optional<StockState> stockStateFrom(std::string_view text) {
    for (StockState s : {StockState::kOnHand, StockState::kQuarantined, StockState::kInTransit, StockState::kReturned,
                         StockState::kDamaged}) {
        if (toString(s) == text) return s;
    }
    return std::nullopt;
}

const std::vector<std::string>& adjustmentReasons() {
    static const std::vector<std::string> reasons = {"found",      "lost",   "damaged", "shrinkage",
                                                     "correction", "sample", "expired", "other"};
    return reasons;
}

// ------------------------------------------------------------------------------------------------ helpers

std::string Inventory::describe(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id) {
    std::string sku(item_id);
    std::string code(location_id);
    db::Statement& item = uow.statement("SELECT sku FROM item WHERE id = ?");
    item.bind(std::string(item_id)).execute();
    if (item.next()) sku = item.getString(0);
    if (!location_id.empty()) {
        db::Statement& location = uow.statement("SELECT code FROM location WHERE id = ?");
        location.bind(std::string(location_id)).execute();
        if (location.next()) code = location.getString(0);
        return sku + " at " + code;
    }
    return sku;
}

void Inventory::invalidateCache() {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    cache_.clear();
}

Result<Inventory::ItemFacts> Inventory::facts(db::UnitOfWork& uow, std::string_view item_id) {
    std::unordered_map<std::string, ItemFacts> found;
    loadFacts(uow, {std::string(item_id)}, found);
    auto it = found.find(std::string(item_id));
    if (it == found.end())
        return Problem{ExitCode::kNotFound, "unknown item id '" + std::string(item_id) + "'", "item"};
    return std::move(it->second);
}

void Inventory::loadFacts(db::UnitOfWork& uow, const std::vector<std::string>& item_ids,
                          std::unordered_map<std::string, ItemFacts>& out) {
    const std::int64_t now = clock_.nowMicros();
    std::vector<std::string> missing;
    {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        for (const auto& id : item_ids) {
            if (out.count(id) != 0) continue;
            auto it = cache_.find(id);
            if (it != cache_.end() && now - it->second.second < kFactsTtlMicros) {
                out.emplace(id, it->second.first);
            } else {
                missing.push_back(id);
            }
        }
    }
    if (missing.empty()) return;
    std::sort(missing.begin(), missing.end());
    missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
    std::unordered_map<std::string, ItemFacts> loaded;
    std::vector<std::string> kits;
    db::forEachIn(uow,
                  "SELECT id, sku, lot_tracked, expiry_tracked, shelf_life_days, safety_stock, is_kit FROM item "
                  "WHERE id IN ",
                  "", missing, [&](const db::Statement& item) {
                      ItemFacts f;
                      f.sku = item.getString(1);
                      f.lot_tracked = item.getInt64(2) != 0;
                      f.expiry_tracked = item.getInt64(3) != 0;
                      f.shelf_life_days = optionalInt(item, 4);
                      f.safety_stock = item.getInt64(5);
                      f.is_kit = item.getInt64(6) != 0;
                      if (f.is_kit) kits.push_back(item.getString(0));
                      loaded[item.getString(0)] = std::move(f);
                  });
    if (!kits.empty()) {
        db::forEachIn(uow, "SELECT kit_item_id, component_item_id, quantity FROM kit_component WHERE kit_item_id IN ",
                      " ORDER BY kit_item_id, component_item_id", kits, [&](const db::Statement& parts) {
                          loaded[parts.getString(0)].components.emplace_back(parts.getString(1), parts.getInt64(2));
                      });
    }
    std::lock_guard<std::mutex> lock(cache_mutex_);
    for (auto& [id, f] : loaded) {
        cache_[id] = {f, now};
        out.emplace(id, std::move(f));
    }
}

Result<std::string> Inventory::lotFor(db::UnitOfWork& uow, const ItemFacts& f, std::string_view item_id,
                                      const std::optional<std::string>& lot_code, bool create,
                                      const std::optional<Date>& expiry) {
    if (!f.lot_tracked) {
        if (lot_code && !lot_code->empty()) {
            return uow.fail(ExitCode::kRejected, f.sku + " does not track lots; leave the lot out", "lot");
        }
        return std::string();
    }
    if (!lot_code || lot_code->empty()) {
        return uow.fail(ExitCode::kRejected, f.sku + " is lot-tracked: name the lot", "lot");
    }
    if (lot_code->size() > 64) return uow.fail(ExitCode::kRejected, "lot code longer than 64 characters", "lot");
    db::Statement& find = uow.statement("SELECT id, expiry_date FROM lot WHERE item_id = ? AND lot_code = ?");
    find.bindAll(std::string(item_id), *lot_code).execute();
    if (find.next()) {
        const std::string id = find.getString(0);
        const auto stored = optionalInt(find, 1);
        if (expiry && stored && *stored != expiry->ymd()) {
            return uow.fail(ExitCode::kConflict,
                            "lot " + *lot_code + " of " + f.sku + " expires on " + Date::fromYmd(*stored).toString() +
                                ", not " + expiry->toString(),
                            "expiry");
        }
        return id;
    }
    if (!create) {
        return uow.fail(ExitCode::kNotFound, "lot " + *lot_code + " of " + f.sku + " does not exist", "lot");
    }
    std::optional<Date> lot_expiry = expiry;
    if (f.expiry_tracked && !lot_expiry) {
        if (!f.shelf_life_days) {
            return uow.fail(ExitCode::kRejected, f.sku + " is expiry-tracked: give the expiry date of lot " + *lot_code,
                            "expiry");
        }
        lot_expiry = Date::today(clock_).plusDays(*f.shelf_life_days);
    }
    if (!f.expiry_tracked && lot_expiry) {
        return uow.fail(ExitCode::kRejected, f.sku + " does not track expiry; leave the expiry date out", "expiry");
    }
    const std::string id = ids_.next();
    // Two receipts of a new lot may race: insert-if-absent, then read whichever row won.
    uow.statement(uow.dialect().upsert("lot", {"id", "item_id", "lot_code", "expiry_date", "status", "created_at"},
                                       {"item_id", "lot_code"}, {}))
        .bind(id)
        .bind(std::string(item_id))
        .bind(*lot_code)
        .bind(lot_expiry ? std::optional<std::int64_t>(lot_expiry->ymd()) : std::nullopt)
        .bind("released")
        .bind(clock_.nowMicros())
        .execute();
    find.bindAll(std::string(item_id), *lot_code).execute();
    if (!find.next()) return uow.fail(ExitCode::kInfrastructure, "lot " + *lot_code + " vanished after insert");
    return find.getString(0);
}

void Inventory::loadSafetyStock(db::UnitOfWork& uow, const std::set<std::pair<std::string, std::string>>& keys,
                                std::map<std::pair<std::string, std::string>, std::int64_t>& out) {
    std::vector<std::string> items;
    for (const auto& key : keys) {
        if (items.empty() || items.back() != key.first) items.push_back(key.first);  // keys are sorted by item
    }
    std::map<std::string, std::int64_t> item_default;
    std::map<std::pair<std::string, std::string>, std::int64_t> at_location;
    db::forEachIn(uow,
                  "SELECT i.id, i.safety_stock, s.location_id, s.quantity FROM item i "
                  "LEFT JOIN safety_stock s ON s.item_id = i.id WHERE i.id IN ",
                  "", items, [&](const db::Statement& s) {
                      item_default[s.getString(0)] = s.getInt64(1);
                      if (!s.isNull(2)) at_location[{s.getString(0), s.getString(2)}] = s.getInt64(3);
                  });
    for (const auto& key : keys) {
        auto location = at_location.find(key);
        auto item = item_default.find(key.first);
        out[key] = location != at_location.end() ? location->second : item != item_default.end() ? item->second : 0;
    }
}

std::optional<ChannelRule> Inventory::channelRule(db::UnitOfWork& uow, std::string_view channel,
                                                  std::string_view item_id) {
    if (channel.empty()) return std::nullopt;
    std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>> rules;
    loadChannelRules(uow, std::string(channel), {std::string(item_id)}, rules);
    return rules.begin()->second;
}

namespace {

// The channel rules a unit of work has read, per (channel, item) as they apply: an allocation reads them to route the
// order and again to reserve its lines. Kept for the unit only (a rule another transaction changes is seen by the next
// unit); setChannelRule forgets them. Nothing to write at commit.
struct RulesRead final : db::UnitOfWork::Deferred {
    std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>> rules;
    void flush(db::UnitOfWork&) override {}
};
const char kRulesRead = 0;

}  // namespace

void Inventory::loadChannelRules(db::UnitOfWork& uow, const std::string& channel,
                                 const std::vector<std::string>& item_ids,
                                 std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>>& out) {
    auto& read = uow.deferred<RulesRead>(&kRulesRead).rules;
    std::vector<std::string> missing;
    for (const auto& item : item_ids) {
        const auto known = read.find({channel, item});
        if (known == read.end()) {
            missing.push_back(item);
        } else {
            out[known->first] = known->second;
        }
    }
    if (missing.empty()) return;
    // An item's own rule wins over the channel-wide one (item id '').
    std::vector<std::string> wanted = missing;
    wanted.emplace_back();
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    std::optional<ChannelRule> channel_wide;
    std::map<std::string, ChannelRule> own;
    db::forEachIn(uow, "SELECT item_id, percent, cap FROM channel_rule WHERE channel = ? AND item_id IN ", "", wanted,
                  [&](const db::Statement& s) {
                      const ChannelRule rule{optionalInt(s, 1), s.getOptionalInt64(2)};
                      if (s.getString(0).empty()) {
                          channel_wide = rule;
                      } else {
                          own[s.getString(0)] = rule;
                      }
                  },
                  {channel});
    for (const auto& item : missing) {
        auto it = own.find(item);
        const auto rule = it != own.end() ? std::optional<ChannelRule>(it->second) : channel_wide;
        out[{channel, item}] = rule;
        read[{channel, item}] = rule;
    }
}

// --------------------------------------------------------------------------------------------- the ledger

void Inventory::announceMove(db::UnitOfWork& uow, const MoveRecord& move) {
    // Per item, so a subscriber (a channel's stock push) follows each item's moves in order.
    events::Payload payload;
    payload.add("move_id", move.id)
        .add("lot_id", move.lot_id)
        .add("quantity", move.quantity)
        .add("from_location_id", move.from_location_id)
        .add("from_state", move.from_state)
        .add("to_location_id", move.to_location_id)
        .add("to_state", move.to_state)
        .add("reason", move.reason);
    if (move.source != nullptr) {
        payload.add("source_type", move.source->type).add("source_id", move.source->id);
    }
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{"stock.moved", "item", move.item_id, payload.str(),
                                   move.source != nullptr ? move.source->actor : std::string()});
}

Result<std::string> Inventory::applyMove(db::UnitOfWork& uow, const Move& move) {
    const std::int64_t now = clock_.nowMicros();
    auto decrement = [&](const Bucket& from) -> std::optional<Problem> {
        db::Statement& s = uow.statement(
            "UPDATE stock_balance SET quantity = quantity - ?, updated_at = ? WHERE item_id = ? AND location_id = ? "
            "AND lot_id = ? AND state = ? AND quantity - allocated >= ?");
        const auto changed = s.bindAll(move.quantity, now, move.item_id, from.location_id, move.lot_id,
                                       std::string(toString(from.state)), move.quantity)
                                 .execute();
        if (changed == 1) return std::nullopt;
        // Say what is there, so the operator knows what to do.
        db::Statement& have = uow.statement(
            "SELECT quantity, allocated FROM stock_balance WHERE item_id = ? AND location_id = ? AND lot_id = ? "
            "AND state = ?");
        have.bindAll(move.item_id, from.location_id, move.lot_id, std::string(toString(from.state))).execute();
        std::int64_t quantity = 0;
        std::int64_t allocated = 0;
        if (have.next()) {
            quantity = have.getInt64(0);
            allocated = have.getInt64(1);
        }
        std::string text = "insufficient stock: cannot take " + quantityText(move.quantity) + " " +
                           std::string(toString(from.state)) + " of " + describe(uow, move.item_id, from.location_id) +
                           ", which has " + quantityText(quantity - allocated);
        if (allocated > 0) text += " (" + quantityText(allocated) + " more allocated to orders)";
        return uow.fail(ExitCode::kRejected, text, "quantity");
    };
    auto increment = [&](const Bucket& to) {
        uow.statement(uow.dialect().upsertAdd(
                          "stock_balance", {"item_id", "location_id", "lot_id", "state", "quantity", "allocated", "updated_at"},
                          {"item_id", "location_id", "lot_id", "state"}, {"quantity"}, {"updated_at"}))
            .bindAll(move.item_id, to.location_id, move.lot_id, std::string(toString(to.state)), move.quantity,
                     std::int64_t{0}, now)
            .execute();
    };
    // Two balance rows change: always in key order, so concurrent moves between the same places cannot deadlock.
    const bool from_first = !move.to || (move.from && std::tie(move.from->location_id, move.from->state) <
                                                          std::tie(move.to->location_id, move.to->state));
    if (from_first) {
        if (move.from) {
            if (auto problem = decrement(*move.from)) return *problem;
        }
        if (move.to) increment(*move.to);
    } else {
        increment(*move.to);
        if (move.from) {
            if (auto problem = decrement(*move.from)) return *problem;
        }
    }
    const std::string id = ids_.next();
    uow.statement(
           "INSERT INTO stock_move (id, item_id, lot_id, quantity, from_location_id, from_state, to_location_id, "
           "to_state, reason, note, source_type, source_id, unit_cost, currency, actor, created_at) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bindAll(id, move.item_id, move.lot_id, move.quantity, move.from ? move.from->location_id : kOutside,
                 move.from ? std::string(toString(move.from->state)) : kOutside,
                 move.to ? move.to->location_id : kOutside, move.to ? std::string(toString(move.to->state)) : kOutside,
                 move.reason, move.source.note.substr(0, 500), move.source.type, move.source.id)
        .bind(move.unit_cost ? std::optional<std::int64_t>(move.unit_cost->minor()) : std::nullopt)
        .bind(move.unit_cost ? std::optional<std::string>(std::string(move.unit_cost->currency().code())) : std::nullopt)
        .bindAll(move.source.actor.substr(0, 64), now)
        .execute();
    const MoveRecord record{id,
                            move.item_id,
                            move.lot_id,
                            move.quantity,
                            move.from ? move.from->location_id : kOutside,
                            move.from ? std::string(toString(move.from->state)) : kOutside,
                            move.to ? move.to->location_id : kOutside,
                            move.to ? std::string(toString(move.to->state)) : kOutside,
                            move.reason,
                            move.unit_cost,
                            &move.source};
    announceMove(uow, record);
    if (observer_) {
        if (auto problem = observer_->moved(uow, record)) return *problem;
    }
    return id;
}

Result<std::string> Inventory::applyTransferMove(db::UnitOfWork& uow, const std::string& transfer_id,
                                                 const std::string& item_id, const std::string& lot_id,
                                                 std::int64_t quantity, std::optional<Bucket> from,
                                                 std::optional<Bucket> to, const char* reason, const Source& source) {
    Move move;
    move.item_id = item_id;
    move.lot_id = lot_id;
    move.quantity = quantity;
    move.from = std::move(from);
    move.to = std::move(to);
    move.reason = reason;
    move.source = source;
    move.source.type = "transfer";
    move.source.id = transfer_id;
    return applyMove(uow, move);
}

// ----------------------------------------------------------------------------------- receipts and changes

Result<ReceiveResult> Inventory::receive(db::UnitOfWork& uow, const ReceiveRequest& request) {
    auto f = facts(uow, request.item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (request.quantity <= 0) return uow.fail(ExitCode::kRejected, "quantity must be positive", "quantity");
    if (f.value().is_kit) {
        return uow.fail(ExitCode::kRejected, f.value().sku + " is a kit: receive its components instead", "sku");
    }
    if (request.unit_cost && request.unit_cost->isNegative()) {
        return uow.fail(ExitCode::kRejected, "unit cost must not be negative", "unit_cost");
    }
    auto lot = lotFor(uow, f.value(), request.item_id, request.lot_code, true, request.expiry);
    if (!lot) return lot.problem();
    ReceiveResult result;
    result.lot_id = lot.value();
    if (!result.lot_id.empty()) {
        db::Statement& status = uow.statement("SELECT status FROM lot WHERE id = ?");
        status.bind(result.lot_id).execute();
        if (status.next() && status.getString(0) == "quarantined") result.state = StockState::kQuarantined;
    }
    Move move;
    move.item_id = request.item_id;
    move.lot_id = result.lot_id;
    move.quantity = request.quantity;
    move.to = Bucket{request.location_id, result.state};
    move.reason = request.reason;
    move.unit_cost = request.unit_cost;
    move.source = request.source;
    auto id = applyMove(uow, move);
    if (!id) return id.problem();
    result.move_id = id.value();
    return result;
}

Result<std::string> Inventory::adjust(db::UnitOfWork& uow, const AdjustRequest& request) {
    auto f = facts(uow, request.item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    const auto& reasons = adjustmentReasons();
    if (std::find(reasons.begin(), reasons.end(), request.reason) == reasons.end()) {
        std::string list;
        for (const auto& r : reasons) list += (list.empty() ? "" : ", ") + r;
        return uow.fail(ExitCode::kRejected,
                        "unknown adjustment reason '" + request.reason + "' (use one of: " + list + ")", "reason");
    }
    if (request.delta == 0) return uow.fail(ExitCode::kRejected, "an adjustment of 0 changes nothing", "delta");
    if (f.value().is_kit)
        return uow.fail(ExitCode::kRejected, f.value().sku + " is a kit: adjust its components", "sku");
    auto lot = lotFor(uow, f.value(), request.item_id, request.lot_code, false, std::nullopt);
    if (!lot) return lot.problem();
    Move move;
    move.item_id = request.item_id;
    move.lot_id = lot.value();
    move.reason = "adjustment:" + request.reason;
    move.source = request.source;
    if (request.delta > 0) {
        move.quantity = request.delta;
        move.to = Bucket{request.location_id, StockState::kOnHand};
    } else {
        if (request.delta == std::numeric_limits<std::int64_t>::min()) {
            return uow.fail(ExitCode::kRejected, "adjustment out of range", "delta");
        }
        move.quantity = -request.delta;
        move.from = Bucket{request.location_id, StockState::kOnHand};
    }
    return applyMove(uow, move);
}

Result<std::string> Inventory::changeState(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                           const std::optional<std::string>& lot_code, StockState from, StockState to,
                                           std::int64_t quantity, std::string_view reason, const Source& source) {
    auto f = facts(uow, item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (quantity <= 0) return uow.fail(ExitCode::kRejected, "quantity must be positive", "quantity");
    if (from == to) return uow.fail(ExitCode::kRejected, "the stock is already " + std::string(toString(to)), "state");
    auto lot = lotFor(uow, f.value(), item_id, lot_code, false, std::nullopt);
    if (!lot) return lot.problem();
    Move move;
    move.item_id = std::string(item_id);
    move.lot_id = lot.value();
    move.quantity = quantity;
    move.from = Bucket{std::string(location_id), from};
    move.to = Bucket{std::string(location_id), to};
    move.reason = std::string(reason);
    move.source = source;
    return applyMove(uow, move);
}

Result<std::string> Inventory::receiveReturn(db::UnitOfWork& uow, std::string_view item_id,
                                             std::string_view location_id, const std::optional<std::string>& lot_code,
                                             std::int64_t quantity, const Source& source) {
    auto f = facts(uow, item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (quantity <= 0) return uow.fail(ExitCode::kRejected, "quantity must be positive", "quantity");
    // A returned lot must be one Keel knows: it was shipped from here.
    auto lot = lotFor(uow, f.value(), item_id, lot_code, false, std::nullopt);
    if (!lot) return lot.problem();
    Move move;
    move.item_id = std::string(item_id);
    move.lot_id = lot.value();
    move.quantity = quantity;
    move.to = Bucket{std::string(location_id), StockState::kReturned};
    move.reason = "return";
    move.source = source;
    return applyMove(uow, move);
}

Result<std::string> Inventory::writeOff(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                        const std::optional<std::string>& lot_code, StockState from,
                                        std::int64_t quantity, std::string_view reason, const Source& source) {
    auto f = facts(uow, item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (quantity <= 0) return uow.fail(ExitCode::kRejected, "quantity must be positive", "quantity");
    if (from == StockState::kInTransit) {
        return uow.fail(ExitCode::kRejected, "stock in transit is written off by closing its transfer", "state");
    }
    auto lot = lotFor(uow, f.value(), item_id, lot_code, false, std::nullopt);
    if (!lot) return lot.problem();
    Move move;
    move.item_id = std::string(item_id);
    move.lot_id = lot.value();
    move.quantity = quantity;
    move.from = Bucket{std::string(location_id), from};
    move.reason = "write_off:" + std::string(reason.empty() ? "other" : reason);
    move.source = source;
    return applyMove(uow, move);
}

Result<std::int64_t> Inventory::quarantineLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                              const Source& source) {
    return moveLot(uow, item_id, lot_code, true, source);
}

Result<std::int64_t> Inventory::releaseLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                           const Source& source) {
    return moveLot(uow, item_id, lot_code, false, source);
}

Result<std::int64_t> Inventory::moveLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                        bool quarantine, const Source& source) {
    auto f = facts(uow, item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    auto lot = lotFor(uow, f.value(), item_id, std::string(lot_code), false, std::nullopt);
    if (!lot) return lot.problem();
    const std::string lot_id = lot.value();
    const auto marked = uow.statement(quarantine ? "UPDATE lot SET status = 'quarantined' WHERE id = ? AND status = 'released'"
                                                 : "UPDATE lot SET status = 'released' WHERE id = ? AND status = 'quarantined'")
                            .bind(lot_id)
                            .execute();
    if (marked == 0) {
        return uow.fail(ExitCode::kConflict,
                        "lot " + std::string(lot_code) + " of " + f.value().sku +
                            (quarantine ? " is already quarantined" : " is not quarantined"),
                        "lot");
    }
    const StockState from = quarantine ? StockState::kOnHand : StockState::kQuarantined;
    const StockState to = quarantine ? StockState::kQuarantined : StockState::kOnHand;
    // Rows in key order (location), read before any change so the cursor is not disturbed.
    db::Statement& rows = uow.statement(
        "SELECT location_id, quantity, allocated FROM stock_balance WHERE item_id = ? AND lot_id = ? AND state = ? "
        "ORDER BY location_id");
    rows.bindAll(std::string(item_id), lot_id, std::string(toString(from))).execute();
    std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> found;
    while (rows.next()) found.emplace_back(rows.getString(0), rows.getInt64(1), rows.getInt64(2));
    std::int64_t moved_total = 0;
    std::int64_t still_allocated = 0;
    for (const auto& [location, quantity, allocated] : found) {
        still_allocated += allocated;  // allocated stock stays where it is: orders hold it
        if (quantity - allocated <= 0) continue;
        Move move;
        move.item_id = std::string(item_id);
        move.lot_id = lot_id;
        move.quantity = quantity - allocated;
        move.from = Bucket{location, from};
        move.to = Bucket{location, to};
        move.reason = quarantine ? "quarantine" : "release";
        move.source = source;
        auto moved = applyMove(uow, move);
        if (!moved) return moved.problem();
        moved_total += move.quantity;
    }
    return quarantine ? still_allocated : moved_total;
}

// ------------------------------------------------------------------------------------------- reservations

Reservation Inventory::makeReservation(const ReserveRequest& request, const std::string& lot_id,
                                       std::int64_t quantity) {
    Reservation r;
    r.id = ids_.next();
    r.item_id = request.item_id;
    r.location_id = request.location_id;
    r.lot_id = lot_id;
    r.kind = request.kind;
    r.status = "active";
    r.quantity = quantity;
    r.remaining = quantity;
    r.order_id = request.order_id;
    r.order_line = request.order_line;
    r.channel = request.channel;
    if (request.kind == ReservationKind::kHold) r.expires_at = clock_.nowMicros() + request.ttl_micros.value_or(0);
    return r;
}

void Inventory::storeReservations(db::UnitOfWork& uow, const std::vector<const Reservation*>& reservations) {
    // One multi-row INSERT for all of a unit's reservations: SQLite's ODBC driver compiles every statement it
    // executes, so an order's lines cost one INSERT, not one each.
    db::BatchInsert insert(uow, "reservation",
                           {"id", "item_id", "location_id", "lot_id", "kind", "status", "quantity", "remaining",
                            "order_id", "order_line", "channel", "expires_at", "created_at"},
                           50);
    const std::int64_t now = clock_.nowMicros();
    for (const Reservation* r : reservations) {
        insert.add(r->id, r->item_id, r->location_id, r->lot_id, kindName(r->kind), "active", r->quantity, r->remaining,
                   r->order_id, r->order_line, r->channel, r->expires_at, now);
    }
    insert.flush();
}

Result<ReserveResult> Inventory::reserve(db::UnitOfWork& uow, const ReserveRequest& request) {
    auto results = reserveMany(uow, {request});
    if (!results) return results.problem();
    return std::move(results).value().front();
}

namespace {

bool respectsSafety(const ReserveRequest& request) {
    return request.respect_safety_stock.value_or(request.kind == ReservationKind::kHold);
}

// What is wrong with a request before any stock is looked at.
std::optional<Problem> invalidRequest(const ReserveRequest& request) {
    if (request.quantity <= 0) return Problem{ExitCode::kRejected, "quantity must be positive", "quantity"};
    if (request.kind == ReservationKind::kHold && (!request.ttl_micros || *request.ttl_micros <= 0)) {
        return Problem{ExitCode::kRejected, "a hold needs a positive time to live", "ttl"};
    }
    if (request.order_id.size() > 64 || request.order_line.size() > 64 || request.channel.size() > 64) {
        return Problem{ExitCode::kRejected, "order id, line and channel are at most 64 characters", "order"};
    }
    return std::nullopt;
}

// A line's problem as the caller of reserveMany sees it: the field names the line when there are several.
Problem ofLine(Problem problem, std::size_t line, std::size_t lines) {
    if (lines > 1) problem.field = "lines[" + std::to_string(line) + "]." + problem.field;
    return problem;
}

// The guarded allocation of a balance row without lots: quantity, updated_at, item, location, the unallocated stock
// to leave (safety stock), the quantity again.
constexpr const char* kAllocateRow =
    "UPDATE stock_balance SET allocated = allocated + ?, updated_at = ? WHERE item_id = ? AND location_id = ? "
    "AND lot_id = '' AND state = 'on_hand' AND quantity - allocated - ? >= ?";

// Rows of balances without lots that one guarded UPDATE of reservePending changes at most.
constexpr std::size_t kRowsPerUpdate = 50;

// One guarded UPDATE for `rows` (2 to kRowsPerUpdate) balance rows without lots. The rows come as a VALUES list
// joined by primary key: SQLite compiles that list for a few microseconds a row, where an OR of per-row terms costs
// about as much as a statement per row. Parameters: updated_at, then (item, location, quantity, free stock needed) per
// row. The texts are made once: an order's lines look one up instead of building it.
const std::string& reserveRowsSql(std::size_t rows) {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> all(kRowsPerUpdate + 1);
        std::string values;
        for (std::size_t n = 1; n <= kRowsPerUpdate; ++n) {
            values += n == 1 ? "(?, ?, ?, ?)" : ", (?, ?, ?, ?)";
            all[n] = "UPDATE stock_balance SET allocated = allocated + v.column3, updated_at = ? FROM (VALUES " +
                     values +
                     ") AS v WHERE stock_balance.item_id = v.column1 AND stock_balance.location_id = v.column2 "
                     "AND stock_balance.lot_id = '' AND stock_balance.state = 'on_hand' "
                     "AND stock_balance.quantity - stock_balance.allocated >= v.column4";
        }
        return all;
    }();
    return texts.at(rows);
}

}  // namespace

Result<Inventory::ItemFacts> Inventory::knownFacts(db::UnitOfWork& uow, const ReserveContext& context,
                                                   const std::string& item_id) {
    auto known = context.facts.find(item_id);
    if (known != context.facts.end()) return known->second;
    return facts(uow, item_id);
}

std::int64_t Inventory::unallocated(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id) {
    std::int64_t free = 0;
    for (const auto& line : atp(uow, item_id, location_id).locations) free += line.on_hand - line.allocated;
    return free;
}

Problem Inventory::shortage(db::UnitOfWork& uow, const ReserveRequest& request, std::int64_t available) {
    return Problem{ExitCode::kRejected,
                   "insufficient stock: " + describe(uow, request.item_id, request.location_id) + " has " +
                       quantityText(available) + " available, " + quantityText(request.quantity) + " requested",
                   "quantity"};
}

Inventory::ReserveContext Inventory::prepareReserve(db::UnitOfWork& uow, const std::vector<ReserveRequest>& requests) {
    ReserveContext context;
    std::vector<std::string> items;
    for (const auto& request : requests) items.push_back(request.item_id);
    loadFacts(uow, items, context.facts);
    // Kits reserve their components: their facts, channel rules and safety stock are needed too.
    std::vector<std::string> components;
    for (const auto& [id, f] : context.facts) {
        for (const auto& component : f.components) {
            if (context.facts.count(component.first) == 0) components.push_back(component.first);
        }
    }
    if (!components.empty()) loadFacts(uow, components, context.facts);
    std::map<std::string, std::vector<std::string>> by_channel;
    std::set<std::pair<std::string, std::string>> safety_keys;
    for (const auto& request : requests) {
        std::vector<std::string> reserved{request.item_id};
        auto f = context.facts.find(request.item_id);
        if (f != context.facts.end() && f->second.is_kit) {
            reserved.clear();
            for (const auto& component : f->second.components) reserved.push_back(component.first);
        }
        for (const auto& item : reserved) {
            if (!request.channel.empty()) by_channel[request.channel].push_back(item);
            if (respectsSafety(request)) safety_keys.emplace(item, request.location_id);
        }
    }
    for (const auto& [channel, channel_items] : by_channel)
        loadChannelRules(uow, channel, channel_items, context.rules);
    if (!safety_keys.empty()) loadSafetyStock(uow, safety_keys, context.safety);
    return context;
}

std::optional<std::int64_t> Inventory::simpleClaim(const ReserveRequest& request, const ReserveContext& context) const {
    if (invalidRequest(request) || request.allow_partial || (request.lot_code && !request.lot_code->empty())) {
        return std::nullopt;
    }
    auto f = context.facts.find(request.item_id);
    if (f == context.facts.end() || f->second.lot_tracked || f->second.is_kit) return std::nullopt;
    if (!request.channel.empty()) {
        auto rule = context.rules.find({request.channel, request.item_id});
        if (rule == context.rules.end() || rule->second) return std::nullopt;
    }
    if (!respectsSafety(request)) return 0;
    auto safety = context.safety.find({request.item_id, request.location_id});
    if (safety == context.safety.end()) return std::nullopt;
    return safety->second;
}

std::optional<Problem> Inventory::reservePending(db::UnitOfWork& uow, const std::vector<ReserveRequest>& requests,
                                                 std::vector<PendingClaim>& pending) {
    // The lines come in lock order, so the lines of one (item, location) follow each other: each run of them is one
    // row, whose claims are made in that order.
    struct Row {
        const ReserveRequest* key = nullptr;
        std::size_t first = 0;  ///< its first line in `lines` (and claim in `claims`)
        std::size_t count = 0;
    };
    const std::vector<PendingClaim> lines = std::move(pending);
    pending.clear();
    std::vector<Claim> claims;
    claims.reserve(lines.size());
    std::vector<Row> rows;
    for (std::size_t position = 0; position < lines.size(); ++position) {
        const ReserveRequest& request = requests[lines[position].line];
        claims.push_back(lines[position].claim);
        if (!rows.empty()) {
            const auto previous = std::tie(rows.back().key->item_id, rows.back().key->location_id);
            const auto key = std::tie(request.item_id, request.location_id);
            if (key == previous) {
                ++rows.back().count;
                continue;
            }
            // A row twice in one UPDATE ... FROM (VALUES ...) would be changed once: never let that happen.
            if (key < previous) throw std::logic_error("reservePending: lines not in lock order");
        }
        rows.push_back(Row{&request, position, 1});
    }
    const auto claimsOf = [&](const Row& row) { return std::span<const Claim>(claims).subspan(row.first, row.count); };
    const std::int64_t now = clock_.nowMicros();
    for (std::size_t start = 0; start < rows.size(); start += kRowsPerUpdate) {
        const std::size_t end = std::min(rows.size(), start + kRowsPerUpdate);
        std::vector<std::int64_t> needed;
        for (std::size_t r = start; r < end; ++r) {
            const auto free = freeNeeded(claimsOf(rows[r]));
            if (!free) break;  // more than any row can hold: refused below
            needed.push_back(*free);
        }
        std::size_t changed = 0;
        const std::size_t count = end - start;
        if (needed.size() == count) {
            auto total = [&](std::size_t r) {
                std::int64_t sum = 0;
                for (const auto& claim : claimsOf(rows[r])) sum += claim.quantity;  // <= needed: no overflow
                return sum;
            };
            if (count == 1) {
                // One row changes or not (no savepoint needed): reserveOne's statement, guarded by what is needed.
                const std::int64_t quantity = total(start);
                changed = uow.statement(kAllocateRow)
                              .bindAll(quantity, now, rows[start].key->item_id, rows[start].key->location_id,
                                       needed.front() - quantity, quantity)
                              .execute();
            } else {
                // All rows or none: a row that lacks stock undoes the others, so they still say what they had.
                uow.statement("SAVEPOINT keel_reserve_rows").execute();
                db::Statement& update = uow.statement(reserveRowsSql(count));
                update.bind(now);
                for (std::size_t r = start; r < end; ++r) {
                    update.bindAll(rows[r].key->item_id, rows[r].key->location_id, total(r), needed[r - start]);
                }
                changed = update.execute();
                if (changed != count) {
                    uow.statement("ROLLBACK TO keel_reserve_rows").execute();
                    changed = 0;
                }
                uow.statement("RELEASE keel_reserve_rows").execute();
            }
        }
        if (changed == count) continue;
        // Nothing changed: name the first line, in lock order, that lacks stock, with what it could have had.
        std::optional<std::pair<std::size_t, std::int64_t>> first;  // (position, available)
        for (std::size_t r = start; r < end; ++r) {
            const Row& row = rows[r];
            const auto shortfall =
                firstShortfall(unallocated(uow, row.key->item_id, row.key->location_id), claimsOf(row));
            if (shortfall && (!first || row.first + shortfall->index < first->first)) {
                first.emplace(row.first + shortfall->index, shortfall->available);
            }
        }
        Problem problem;
        std::size_t line = lines[rows[start].first].line;
        if (first) {
            line = lines[first->first].line;
            problem = shortage(uow, requests[line], first->second);
        } else {
            problem = Problem{ExitCode::kConflict,
                              "stock of " + describe(uow, requests[line].item_id, requests[line].location_id) +
                                  " changed while reserving; try again",
                              "quantity"};
        }
        problem = ofLine(std::move(problem), line, requests.size());
        return uow.fail(problem.code, problem.message, problem.field);
    }
    return std::nullopt;
}

Result<std::vector<ReserveResult>> Inventory::reserveMany(db::UnitOfWork& uow,
                                                          const std::vector<ReserveRequest>& requests) {
    // Balance rows are locked in (item, location) order whatever the order of the lines, so two orders
    // allocating the same items concurrently cannot deadlock.
    std::vector<std::size_t> order(requests.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(requests[a].item_id, requests[a].location_id) <
               std::tie(requests[b].item_id, requests[b].location_id);
    });
    const ReserveContext context = prepareReserve(uow, requests);
    // SQLite has one writer and no row locks, so lock order does not matter there, and sqlite3odbc compiles each
    // UPDATE again on every execution: lines that are one guarded update of a row without lots wait and are
    // reserved together (reservePending). A line that reads or changes a row they claim is reserved after them,
    // and a line that fails lets them go first, so the outcome and the line named are those of lock order.
    const bool batch = uow.dialect().backend() == db::Backend::kSQLite && requests.size() > 1;
    std::vector<PendingClaim> pending;
    // The (item, location) rows pending lines claim, added in lock order: sorted.
    using RowKey = std::pair<std::string_view, std::string_view>;
    std::vector<RowKey> pending_rows;
    const auto claimed = [&](std::string_view item_id, std::string_view location_id) {
        return std::binary_search(pending_rows.begin(), pending_rows.end(), RowKey{item_id, location_id});
    };
    std::vector<ReserveResult> results(requests.size());
    for (const std::size_t i : order) {
        const ReserveRequest& request = requests[i];
        if (batch) {
            if (const auto protect = simpleClaim(request, context)) {
                pending.push_back(PendingClaim{i, Claim{request.quantity, *protect}});
                pending_rows.emplace_back(request.item_id, request.location_id);
                results[i].reserved = request.quantity;
                results[i].reservations.push_back(makeReservation(request, "", request.quantity));
                continue;
            }
            bool touches = claimed(request.item_id, request.location_id);
            auto f = context.facts.find(request.item_id);
            if (f != context.facts.end()) {
                for (const auto& component : f->second.components) {
                    touches = touches || claimed(component.first, request.location_id);
                }
            }
            if (touches) {
                pending_rows.clear();
                if (auto problem = reservePending(uow, requests, pending)) return *problem;
            }
        }
        auto result = reserveLine(uow, request, context);
        if (!result) {
            // Pending lines come first in lock order: one of them that lacks stock is the line to name.
            if (auto problem = reservePending(uow, requests, pending)) return *problem;
            const Problem problem = ofLine(result.problem(), i, requests.size());
            return uow.fail(problem.code, problem.message, problem.field);
        }
        results[i] = std::move(result).value();
    }
    if (auto problem = reservePending(uow, requests, pending)) return *problem;
    std::vector<const Reservation*> all;
    for (const auto& result : results) {
        for (const auto& r : result.reservations) all.push_back(&r);
    }
    if (!all.empty()) storeReservations(uow, all);
    return results;
}

Result<ReserveResult> Inventory::reserveLine(db::UnitOfWork& uow, const ReserveRequest& request,
                                             const ReserveContext& context) {
    if (auto invalid = invalidRequest(request)) return uow.fail(invalid->code, invalid->message, invalid->field);
    auto f = knownFacts(uow, context, request.item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (!f.value().is_kit) return reserveOne(uow, request, f.value(), context);

    // A kit reserves whole kits' worth of every component, in component order, all or nothing per kit count.
    if (request.lot_code) return uow.fail(ExitCode::kRejected, f.value().sku + " is a kit: it has no lots", "lot");
    const auto& components = f.value().components;
    if (components.empty()) return uow.fail(ExitCode::kRejected, f.value().sku + " is a kit without components", "sku");
    std::int64_t kits = request.quantity;
    if (request.allow_partial) {
        std::vector<KitPart> parts;
        for (const auto& [component, per_kit] : components) {
            const Atp part = atp(uow, component, request.location_id, request.channel.empty()
                                                                         ? std::nullopt
                                                                         : std::optional<std::string_view>(request.channel));
            std::int64_t free = 0;
            for (const auto& line : part.locations) free += line.on_hand - line.allocated;
            parts.push_back(KitPart{free, per_kit});
        }
        kits = std::min(kits, kitAvailable(parts));
        if (kits == 0) {
            return uow.fail(ExitCode::kRejected,
                            "insufficient stock: no complete " + f.value().sku + " kit at " +
                                describe(uow, request.item_id, request.location_id),
                            "quantity");
        }
    }
    ReserveResult result;
    for (const auto& [component, per_kit] : components) {
        auto part_facts = knownFacts(uow, context, component);
        if (!part_facts) return uow.fail(part_facts.problem().code, part_facts.problem().message);
        ReserveRequest part = request;
        part.item_id = component;
        part.allow_partial = false;
        if (__builtin_mul_overflow(kits, per_kit, &part.quantity)) {
            return uow.fail(ExitCode::kRejected, "kit quantity out of range", "quantity");
        }
        auto reserved = reserveOne(uow, part, part_facts.value(), context);
        if (!reserved) return reserved.problem();
        for (auto& r : reserved.value().reservations) result.reservations.push_back(std::move(r));
    }
    result.reserved = kits;
    return result;
}

Result<ReserveResult> Inventory::reserveOne(db::UnitOfWork& uow, const ReserveRequest& request, const ItemFacts& f,
                                            const ReserveContext& context) {
    const bool respect_safety = respectsSafety(request);
    std::optional<ChannelRule> rule;
    if (!request.channel.empty()) {
        auto known = context.rules.find({request.channel, request.item_id});
        rule = known != context.rules.end() ? known->second : channelRule(uow, request.channel, request.item_id);
    }
    auto safetyStock = [&]() -> std::int64_t {
        if (!respect_safety) return 0;
        const std::pair<std::string, std::string> key{request.item_id, request.location_id};
        auto known = context.safety.find(key);
        if (known != context.safety.end()) return known->second;
        std::map<std::pair<std::string, std::string>, std::int64_t> loaded;
        loadSafetyStock(uow, {key}, loaded);
        return loaded[key];
    };
    const int today = Date::today(clock_).ymd();
    ReserveResult result;

    // The common case: an item without lots and no channel rule is one guarded UPDATE, whatever the safety stock.
    if (!f.lot_tracked && !rule && !request.allow_partial) {
        const std::int64_t protect = safetyStock();
        if (request.lot_code && !request.lot_code->empty()) {
            return uow.fail(ExitCode::kRejected, f.sku + " does not track lots; leave the lot out", "lot");
        }
        const auto changed = uow.statement(kAllocateRow)
                                 .bindAll(request.quantity, clock_.nowMicros(), request.item_id, request.location_id,
                                          protect, request.quantity)
                                 .execute();
        if (changed != 1) {
            const std::int64_t free = unallocated(uow, request.item_id, request.location_id);
            const Problem problem = shortage(uow, request, availableToPromise(free, 0, protect));
            return uow.fail(problem.code, problem.message, problem.field);
        }
        result.reserved = request.quantity;
        result.reservations.push_back(makeReservation(request, "", request.quantity));
        return result;
    }

    // Otherwise lock the item's on-hand rows at the location (in lot order) and decide on what they hold.
    std::optional<std::string> only_lot;
    if (request.lot_code) {
        auto lot = lotFor(uow, f, request.item_id, request.lot_code, false, std::nullopt);
        if (!lot) return lot.problem();
        only_lot = lot.value();
    }
    std::vector<LotStock> lots;
    {
        db::Statement& rows = uow.statement(
            "SELECT lot_id, quantity, allocated FROM stock_balance WHERE item_id = ? AND location_id = ? "
            "AND state = 'on_hand' ORDER BY lot_id" + std::string(uow.dialect().forUpdate()));
        rows.bindAll(request.item_id, request.location_id).execute();
        while (rows.next()) {
            LotStock lot;
            lot.lot_id = rows.getString(0);
            lot.available = rows.getInt64(1) - rows.getInt64(2);
            if (!only_lot || *only_lot == lot.lot_id) lots.push_back(std::move(lot));
        }
    }
    if (f.lot_tracked) {
        db::Statement& info = uow.statement("SELECT lot_code, expiry_date, status FROM lot WHERE id = ?");
        for (auto& lot : lots) {
            info.bind(lot.lot_id).execute();
            if (info.next()) {
                lot.lot_code = info.getString(0);
                lot.expiry = optionalInt(info, 1);
                lot.released = info.getString(2) == "released";
            }
        }
    }
    std::int64_t sellable = 0;
    for (const auto& lot : lots) {
        if (lot.released && isSellable(lot.expiry, today)) sellable += lot.available;
    }
    const std::int64_t safety = safetyStock();
    const std::int64_t can_take = channelAvailable(availableToPromise(sellable, 0, safety), rule);
    const std::int64_t wanted = request.allow_partial ? std::min(request.quantity, can_take) : request.quantity;
    if (wanted <= 0 || wanted > can_take) {
        std::string text = "insufficient stock: " + describe(uow, request.item_id, request.location_id) + " has " +
                           quantityText(can_take) + " available";
        if (rule && !request.channel.empty()) text += " to channel " + request.channel;
        return uow.fail(ExitCode::kRejected, text + ", " + quantityText(request.quantity) + " requested", "quantity");
    }
    std::vector<LotTake> takes = chooseFefo(lots, wanted, today);
    // chooseFefo orders by expiry; lock order is lot id, which the rows above were read (and locked) in.
    std::sort(takes.begin(), takes.end(), [](const LotTake& a, const LotTake& b) { return a.lot_id < b.lot_id; });
    db::Statement& allocate = uow.statement(
        "UPDATE stock_balance SET allocated = allocated + ?, updated_at = ? WHERE item_id = ? AND location_id = ? "
        "AND lot_id = ? AND state = 'on_hand' AND quantity - allocated >= ?");
    for (const auto& take : takes) {
        const auto changed =
            allocate.bindAll(take.quantity, clock_.nowMicros(), request.item_id, request.location_id, take.lot_id,
                             take.quantity)
                .execute();
        if (changed != 1) {
            // Only possible if the rows were not locked (they are on every backend): refuse rather than guess.
            return uow.fail(ExitCode::kConflict,
                            "stock of " + describe(uow, request.item_id, request.location_id) +
                                " changed while reserving; try again",
                            "quantity");
        }
        result.reservations.push_back(makeReservation(request, take.lot_id, take.quantity));
        result.reserved += take.quantity;
    }
    return result;
}

namespace {

constexpr const char* kReservationSelect =
    "SELECT id, item_id, location_id, lot_id, kind, status, quantity, remaining, order_id, order_line, channel, "
    "expires_at FROM reservation";

Reservation readReservation(const db::Statement& s) {
    Reservation r;
    r.id = s.getString(0);
    r.item_id = s.getString(1);
    r.location_id = s.getString(2);
    r.lot_id = s.getString(3);
    r.kind = s.getString(4) == "hold" ? ReservationKind::kHold : ReservationKind::kAllocation;
    r.status = s.getString(5);
    r.quantity = s.getInt64(6);
    r.remaining = s.getInt64(7);
    r.order_id = s.getString(8);
    r.order_line = s.getString(9);
    r.channel = s.getString(10);
    r.expires_at = s.getOptionalInt64(11);
    return r;
}

}  // namespace

std::optional<Reservation> Inventory::findReservation(db::UnitOfWork& uow, std::string_view reservation_id) {
    db::Statement& s = uow.statement(std::string(kReservationSelect) + " WHERE id = ?");
    s.bind(std::string(reservation_id)).execute();
    if (!s.next()) return std::nullopt;
    return readReservation(s);
}

std::vector<Reservation> Inventory::activeReservationsOf(db::UnitOfWork& uow, std::string_view order_id,
                                                         std::optional<std::string_view> order_line) {
    db::Statement& s = uow.statement(std::string(kReservationSelect) +
                                     (order_line ? " WHERE order_id = ? AND order_line = ? AND status = 'active'"
                                                 : " WHERE order_id = ? AND status = 'active'"));
    s.bind(std::string(order_id));
    if (order_line) s.bind(std::string(*order_line));
    s.execute();
    std::vector<Reservation> out;
    while (s.next()) out.push_back(readReservation(s));
    // Sorted here rather than by ORDER BY: text ordering follows each server's collation, bytes do not.
    std::sort(out.begin(), out.end(), [](const Reservation& a, const Reservation& b) {
        return std::tie(a.item_id, a.location_id, a.lot_id, a.id) < std::tie(b.item_id, b.location_id, b.lot_id, b.id);
    });
    return out;
}

namespace {

// Takes `quantity` off an active reservation, closing it with `final_status` when nothing remains; with
// `expected`, only if it is still an allocation of that item, location and lot. MariaDB evaluates SET
// assignments left to right with the new values, so status and closed_at come before remaining.
std::size_t shrinkReservation(db::UnitOfWork& uow, const std::string& id, std::int64_t quantity,
                              const std::string& final_status, std::int64_t now,
                              const Reservation* expected = nullptr) {
    db::Statement& s = uow.statement(
        std::string("UPDATE reservation SET status = CASE WHEN remaining = ? THEN ? ELSE status END, "
                    "closed_at = CASE WHEN remaining = ? THEN ? ELSE closed_at END, remaining = remaining - ? "
                    "WHERE id = ? AND status = 'active' AND remaining >= ?") +
        (expected ? " AND kind = 'allocation' AND item_id = ? AND location_id = ? AND lot_id = ?" : ""));
    s.bindAll(quantity, final_status, quantity, now, quantity, id, quantity);
    if (expected) s.bindAll(expected->item_id, expected->location_id, expected->lot_id);
    return s.execute();
}

}  // namespace

Result<std::int64_t> Inventory::release(db::UnitOfWork& uow, std::string_view reservation_id,
                                        std::optional<std::int64_t> quantity) {
    const auto found = findReservation(uow, reservation_id);
    if (!found) {
        return uow.fail(ExitCode::kNotFound, "no reservation '" + std::string(reservation_id) + "'", "reservation");
    }
    const Reservation& r = *found;
    if (r.status != "active") {
        return uow.fail(ExitCode::kConflict, "reservation " + r.id + " is already " + r.status, "reservation");
    }
    const std::int64_t amount = quantity.value_or(r.remaining);
    if (amount <= 0 || amount > r.remaining) {
        return uow.fail(ExitCode::kRejected,
                        "can release 1 to " + quantityText(r.remaining) + " of reservation " + r.id, "quantity");
    }
    const std::int64_t now = clock_.nowMicros();
    if (shrinkReservation(uow, r.id, amount, "released", now) != 1) {
        return uow.fail(ExitCode::kConflict, "reservation " + r.id + " changed meanwhile; look again", "reservation");
    }
    const auto changed = uow.statement(
                                "UPDATE stock_balance SET allocated = allocated - ?, updated_at = ? WHERE item_id = ? "
                                "AND location_id = ? AND lot_id = ? AND state = 'on_hand' AND allocated >= ?")
                             .bindAll(amount, now, r.item_id, r.location_id, r.lot_id, amount)
                             .execute();
    if (changed != 1) {
        return uow.fail(ExitCode::kInfrastructure, "allocation of " + describe(uow, r.item_id, r.location_id) +
                                                       " is below reservation " + r.id + "; run `keel stock verify`");
    }
    return amount;
}

Result<std::string> Inventory::consume(db::UnitOfWork& uow, std::string_view reservation_id, std::int64_t quantity,
                                       const Source& source) {
    const auto found = findReservation(uow, reservation_id);
    if (!found) {
        return uow.fail(ExitCode::kNotFound, "no reservation '" + std::string(reservation_id) + "'", "reservation");
    }
    return consume(uow, *found, quantity, source);
}

Result<std::string> Inventory::consume(db::UnitOfWork& uow, const Reservation& known, std::int64_t quantity,
                                       const Source& source) {
    auto moved = consumeMany(uow, {Consumption{known, quantity}}, source);
    if (!moved) return moved.problem();
    return moved.value().front();
}

std::optional<Problem> Inventory::takeAllocation(db::UnitOfWork& uow, const Reservation& known, std::int64_t quantity,
                                                 std::int64_t now) {
    // One guarded statement takes the quantity off the reservation if it is still what the caller knows; only
    // when it is not is the reservation read, to say why.
    const auto shrunk = quantity <= 0 ? 0 : shrinkReservation(uow, known.id, quantity, "consumed", now, &known);
    if (shrunk != 1) {
        const auto r = findReservation(uow, known.id);
        if (!r) return uow.fail(ExitCode::kNotFound, "no reservation '" + known.id + "'", "reservation");
        if (r->status != "active") {
            return uow.fail(ExitCode::kConflict, "reservation " + r->id + " is already " + r->status, "reservation");
        }
        if (r->kind != ReservationKind::kAllocation) {
            return uow.fail(ExitCode::kRejected,
                            "reservation " + r->id + " is a hold: allocate it to an order to ship it", "reservation");
        }
        if (quantity <= 0 || quantity > r->remaining) {
            return uow.fail(ExitCode::kRejected,
                            "can ship 1 to " + quantityText(r->remaining) + " of reservation " + r->id, "quantity");
        }
        return uow.fail(ExitCode::kConflict,
                        "reservation " + r->id + " holds " + describe(uow, r->item_id, r->location_id) + ", not " +
                            describe(uow, known.item_id, known.location_id) +
                            (r->lot_id != known.lot_id ? " (lot differs)" : ""),
                        "reservation");
    }
    // Allocated stock leaves: both the quantity and its allocation go down in one guarded statement.
    const auto changed =
        uow.statement("UPDATE stock_balance SET quantity = quantity - ?, allocated = allocated - ?, updated_at = ? "
                      "WHERE item_id = ? AND location_id = ? AND lot_id = ? AND state = 'on_hand' AND allocated >= ? "
                      "AND quantity >= ?")
            .bindAll(quantity, quantity, now, known.item_id, known.location_id, known.lot_id, quantity, quantity)
            .execute();
    if (changed != 1) {
        return uow.fail(ExitCode::kInfrastructure, "allocation of " + describe(uow, known.item_id, known.location_id) +
                                                       " is below reservation " + known.id +
                                                       "; run `keel stock verify`");
    }
    return std::nullopt;
}

Result<std::vector<std::string>> Inventory::consumeMany(db::UnitOfWork& uow, const std::vector<Consumption>& lines,
                                                        const Source& source) {
    const std::int64_t now = clock_.nowMicros();
    for (const auto& line : lines) {
        if (auto problem = takeAllocation(uow, line.known, line.quantity, now)) return *problem;
    }
    std::vector<std::string> ids;
    std::vector<MoveRecord> records;
    db::BatchInsert insert(
        uow, "stock_move",
        {"id", "item_id", "lot_id", "quantity", "from_location_id", "from_state", "to_location_id", "to_state",
         "reason", "note", "source_type", "source_id", "unit_cost", "currency", "actor", "created_at"});
    for (const auto& line : lines) {
        const Reservation& known = line.known;
        ids.push_back(ids_.next());
        insert.add(ids.back(), known.item_id, known.lot_id, line.quantity, known.location_id, "on_hand", "", "",
                   "shipment", source.note.substr(0, 500), source.type, source.id.empty() ? known.order_id : source.id,
                   std::optional<std::int64_t>(), std::optional<std::string>(), source.actor.substr(0, 64), now);
        records.push_back(MoveRecord{ids.back(), known.item_id, known.lot_id, line.quantity, known.location_id,
                                     "on_hand", kOutside, kOutside, "shipment", std::nullopt, &source});
    }
    insert.flush();
    for (const auto& record : records) announceMove(uow, record);
    if (observer_) {
        if (auto problem = observer_->movedMany(uow, records)) return *problem;
    }
    return ids;
}

std::int64_t Inventory::sweepExpiredHolds(db::UnitOfWork& uow, std::size_t limit) {
    db::Statement& due = uow.statement(
        "SELECT id, remaining, item_id, location_id, lot_id FROM reservation WHERE status = 'active' AND kind = 'hold' "
        "AND expires_at <= ? ORDER BY expires_at, id LIMIT ?");
    due.bindAll(clock_.nowMicros(), static_cast<std::int64_t>(limit)).execute();
    std::vector<std::tuple<std::string, std::int64_t, std::string, std::string, std::string>> holds;
    while (due.next()) {
        holds.emplace_back(due.getString(0), due.getInt64(1), due.getString(2), due.getString(3), due.getString(4));
    }
    std::int64_t expired = 0;
    const std::int64_t now = clock_.nowMicros();
    for (const auto& [id, remaining, item, location, lot] : holds) {
        if (shrinkReservation(uow, id, remaining, "expired", now) != 1) continue;  // released meanwhile
        const auto changed =
            uow.statement("UPDATE stock_balance SET allocated = allocated - ?, updated_at = ? WHERE item_id = ? "
                          "AND location_id = ? AND lot_id = ? AND state = 'on_hand' AND allocated >= ?")
                .bindAll(remaining, now, item, location, lot, remaining)
                .execute();
        if (changed != 1) {
            throw InfrastructureError("allocation of " + describe(uow, item, location) + " is below hold " + id +
                                      "; run `keel stock verify`");
        }
        ++expired;
    }
    return expired;
}

// ---------------------------------------------------------------------------------------------- transfers

Result<std::string> Inventory::shipTransfer(db::UnitOfWork& uow, std::string_view from_location_id,
                                            std::string_view to_location_id, const std::vector<TransferLine>& lines,
                                            std::string_view reference, const Source& source) {
    if (from_location_id == to_location_id) {
        return uow.fail(ExitCode::kRejected, "a transfer needs two different locations", "to");
    }
    if (lines.empty()) return uow.fail(ExitCode::kRejected, "a transfer needs at least one line", "lines");
    const std::string id = ids_.next();
    const std::int64_t now = clock_.nowMicros();
    uow.statement("INSERT INTO stock_transfer (id, from_location_id, to_location_id, status, reference, created_at) "
                  "VALUES (?, ?, ?, 'in_transit', ?, ?)")
        .bindAll(id, std::string(from_location_id), std::string(to_location_id), std::string(reference).substr(0, 64), now)
        .execute();
    struct Resolved {
        int line_no;
        std::string item_id;
        std::string lot_id;
        std::int64_t quantity;
    };
    std::vector<Resolved> resolved;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const TransferLine& line = lines[i];
        if (line.quantity <= 0) {
            return uow.fail(ExitCode::kRejected, "line " + std::to_string(i + 1) + ": quantity must be positive",
                            "lines[" + std::to_string(i) + "].quantity");
        }
        auto f = facts(uow, line.item_id);
        if (!f) return uow.fail(f.problem().code, f.problem().message, "lines[" + std::to_string(i) + "].item");
        auto lot = lotFor(uow, f.value(), line.item_id, line.lot_code, false, std::nullopt);
        if (!lot) return lot.problem();
        resolved.push_back(Resolved{static_cast<int>(i + 1), line.item_id, lot.value(), line.quantity});
    }
    // Balance rows in key order across lines, so two transfers of the same items cannot deadlock.
    std::vector<const Resolved*> ordered;
    for (const auto& r : resolved) ordered.push_back(&r);
    std::sort(ordered.begin(), ordered.end(), [](const Resolved* a, const Resolved* b) {
        return std::tie(a->item_id, a->lot_id, a->line_no) < std::tie(b->item_id, b->lot_id, b->line_no);
    });
    for (const Resolved* r : ordered) {
        auto moved = applyTransferMove(uow, id, r->item_id, r->lot_id, r->quantity,
                                       Bucket{std::string(from_location_id), StockState::kOnHand},
                                       Bucket{std::string(to_location_id), StockState::kInTransit}, "transfer_ship",
                                       source);
        if (!moved) return moved.problem();
        uow.statement("INSERT INTO stock_transfer_line (transfer_id, line_no, item_id, lot_id, shipped, received, "
                      "written_off) VALUES (?, ?, ?, ?, ?, 0, 0)")
            .bindAll(id, r->line_no, r->item_id, r->lot_id, r->quantity)
            .execute();
    }
    return id;
}

namespace {

struct TransferState {
    std::string to_location_id;
    std::string status;
    struct Line {
        int line_no = 0;
        std::string item_id;
        std::string lot_id;
        std::int64_t shipped = 0;
        std::int64_t received = 0;
        std::int64_t written_off = 0;
        std::int64_t open() const { return shipped - received - written_off; }
    };
    std::vector<Line> lines;
};

std::optional<TransferState> loadTransfer(db::UnitOfWork& uow, std::string_view transfer_id) {
    db::Statement& head = uow.statement("SELECT to_location_id, status FROM stock_transfer WHERE id = ?");
    head.bind(std::string(transfer_id)).execute();
    if (!head.next()) return std::nullopt;
    TransferState t;
    t.to_location_id = head.getString(0);
    t.status = head.getString(1);
    db::Statement& lines = uow.statement(
        "SELECT line_no, item_id, lot_id, shipped, received, written_off FROM stock_transfer_line "
        "WHERE transfer_id = ? ORDER BY item_id, lot_id, line_no");
    lines.bind(std::string(transfer_id)).execute();
    while (lines.next()) {
        t.lines.push_back(TransferState::Line{static_cast<int>(lines.getInt64(0)), lines.getString(1),
                                              lines.getString(2), lines.getInt64(3), lines.getInt64(4),
                                              lines.getInt64(5)});
    }
    return t;
}

}  // namespace

Result<std::int64_t> Inventory::receiveTransfer(db::UnitOfWork& uow, std::string_view transfer_id,
                                                const std::vector<std::pair<int, std::int64_t>>& quantities,
                                                const Source& source) {
    auto transfer = loadTransfer(uow, transfer_id);
    if (!transfer) return uow.fail(ExitCode::kNotFound, "no transfer '" + std::string(transfer_id) + "'", "transfer");
    if (transfer->status != "in_transit") {
        return uow.fail(ExitCode::kConflict, "transfer " + std::string(transfer_id) + " is " + transfer->status,
                        "transfer");
    }
    std::map<int, std::int64_t> wanted;
    for (const auto& [line_no, quantity] : quantities) {
        const auto it = std::find_if(transfer->lines.begin(), transfer->lines.end(),
                                     [&](const TransferState::Line& l) { return l.line_no == line_no; });
        if (it == transfer->lines.end()) {
            return uow.fail(ExitCode::kRejected, "transfer has no line " + std::to_string(line_no), "line");
        }
        if (quantity <= 0 || wanted[line_no] + quantity > it->open()) {
            return uow.fail(
                ExitCode::kRejected,
                "line " + std::to_string(line_no) + " has " + quantityText(it->open()) + " still in transit",
                "quantity");
        }
        wanted[line_no] += quantity;
    }
    if (quantities.empty()) {
        for (const auto& line : transfer->lines) {
            if (line.open() > 0) wanted[line.line_no] = line.open();
        }
    }
    if (wanted.empty())
        return uow.fail(ExitCode::kConflict, "nothing of this transfer is still in transit", "transfer");
    std::int64_t received = 0;
    bool complete = true;
    for (const auto& line : transfer->lines) {  // already in key order
        const auto it = wanted.find(line.line_no);
        const std::int64_t take = it == wanted.end() ? 0 : it->second;
        if (line.open() - take > 0) complete = false;
        if (take == 0) continue;
        auto moved = applyTransferMove(uow, std::string(transfer_id), line.item_id, line.lot_id, take,
                                       Bucket{transfer->to_location_id, StockState::kInTransit},
                                       Bucket{transfer->to_location_id, StockState::kOnHand}, "transfer_receive",
                                       source);
        if (!moved) return moved.problem();
        uow.statement("UPDATE stock_transfer_line SET received = received + ? WHERE transfer_id = ? AND line_no = ?")
            .bindAll(take, std::string(transfer_id), line.line_no)
            .execute();
        received += take;
    }
    if (complete) {
        uow.statement("UPDATE stock_transfer SET status = 'received', closed_at = ? WHERE id = ?")
            .bindAll(clock_.nowMicros(), std::string(transfer_id))
            .execute();
    }
    return received;
}

Result<std::int64_t> Inventory::closeTransfer(db::UnitOfWork& uow, std::string_view transfer_id, const Source& source) {
    auto transfer = loadTransfer(uow, transfer_id);
    if (!transfer) return uow.fail(ExitCode::kNotFound, "no transfer '" + std::string(transfer_id) + "'", "transfer");
    if (transfer->status == "closed") {
        return uow.fail(ExitCode::kConflict, "transfer " + std::string(transfer_id) + " is already closed", "transfer");
    }
    std::int64_t lost = 0;
    for (const auto& line : transfer->lines) {
        if (line.open() <= 0) continue;
        auto moved = applyTransferMove(uow, std::string(transfer_id), line.item_id, line.lot_id, line.open(),
                                       Bucket{transfer->to_location_id, StockState::kInTransit}, std::nullopt,
                                       "transfer_loss", source);
        if (!moved) return moved.problem();
        uow.statement("UPDATE stock_transfer_line SET written_off = written_off + ? WHERE transfer_id = ? AND line_no = ?")
            .bindAll(line.open(), std::string(transfer_id), line.line_no)
            .execute();
        lost += line.open();
    }
    uow.statement("UPDATE stock_transfer SET status = 'closed', closed_at = ? WHERE id = ?")
        .bindAll(clock_.nowMicros(), std::string(transfer_id))
        .execute();
    return lost;
}

// ------------------------------------------------------------------------------------------- cycle counts

namespace {

std::int64_t onHandQuantity(db::UnitOfWork& uow, const std::string& item_id, const std::string& location_id,
                            const std::string& lot_id) {
    db::Statement& s = uow.statement(
        "SELECT quantity FROM stock_balance WHERE item_id = ? AND location_id = ? AND lot_id = ? AND state = 'on_hand'");
    s.bindAll(item_id, location_id, lot_id).execute();
    return s.next() ? s.getInt64(0) : 0;
}

}  // namespace

Result<std::string> Inventory::recordCount(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                           const std::optional<std::string>& lot_code, std::int64_t counted,
                                           const Source& source) {
    auto f = facts(uow, item_id);
    if (!f) return uow.fail(f.problem().code, f.problem().message, f.problem().field);
    if (counted < 0) return uow.fail(ExitCode::kRejected, "a count cannot be negative", "counted");
    if (f.value().is_kit)
        return uow.fail(ExitCode::kRejected, f.value().sku + " is a kit: count its components", "sku");
    auto lot = lotFor(uow, f.value(), item_id, lot_code, false, std::nullopt);
    if (!lot) return lot.problem();
    const std::string id = ids_.next();
    const std::int64_t expected = onHandQuantity(uow, std::string(item_id), std::string(location_id), lot.value());
    uow.statement("INSERT INTO stock_count (id, item_id, location_id, lot_id, counted, expected, status, actor, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)")
        .bindAll(id, std::string(item_id), std::string(location_id), lot.value(), counted, expected,
                 source.actor.substr(0, 64), clock_.nowMicros())
        .execute();
    return id;
}

Result<std::int64_t> Inventory::postCount(db::UnitOfWork& uow, std::string_view count_id, const Source& source) {
    db::Statement& s = uow.statement(
        "SELECT item_id, location_id, lot_id, counted, expected, status FROM stock_count WHERE id = ?");
    s.bind(std::string(count_id)).execute();
    if (!s.next()) return uow.fail(ExitCode::kNotFound, "no count '" + std::string(count_id) + "'", "count");
    const std::string item_id = s.getString(0);
    const std::string location_id = s.getString(1);
    const std::string lot_id = s.getString(2);
    const std::int64_t counted = s.getInt64(3);
    const std::int64_t expected = s.getInt64(4);
    if (s.getString(5) != "open") {
        return uow.fail(ExitCode::kConflict, "count " + std::string(count_id) + " is already " + s.getString(5),
                        "count");
    }
    const std::int64_t now_on_hand = onHandQuantity(uow, item_id, location_id, lot_id);
    if (now_on_hand != expected) {
        return uow.fail(ExitCode::kConflict,
                        "stock of " + describe(uow, item_id, location_id) + " moved since the count (the books said " +
                            quantityText(expected) + ", now " + quantityText(now_on_hand) + "); count again",
                        "count");
    }
    const std::int64_t variance = counted - expected;
    if (variance != 0) {
        Move move;
        move.item_id = item_id;
        move.lot_id = lot_id;
        move.quantity = variance > 0 ? variance : -variance;
        if (variance > 0) {
            move.to = Bucket{location_id, StockState::kOnHand};
        } else {
            move.from = Bucket{location_id, StockState::kOnHand};
        }
        move.reason = variance > 0 ? "count_gain" : "count_loss";
        move.source = source;
        move.source.type = "count";
        move.source.id = std::string(count_id);
        auto moved = applyMove(uow, move);
        if (!moved) {
            return uow.fail(ExitCode::kRejected,
                            "the count (" + quantityText(counted) + ") is below what is allocated to orders at " +
                                describe(uow, item_id, location_id) + "; release allocations first",
                            "counted");
        }
    }
    uow.statement("UPDATE stock_count SET status = 'posted', posted_at = ? WHERE id = ? AND status = 'open'")
        .bindAll(clock_.nowMicros(), std::string(count_id))
        .execute();
    return variance;
}

// -------------------------------------------------------------------------------------- rules and settings

void Inventory::setSafetyStock(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                               std::int64_t quantity) {
    if (quantity < 0) throw RejectedError("safety stock cannot be negative");
    if (location_id.empty()) {
        uow.statement("UPDATE item SET safety_stock = ?, updated_at = ? WHERE id = ?")
            .bindAll(quantity, clock_.nowMicros(), std::string(item_id))
            .execute();
    } else {
        uow.statement(uow.dialect().upsert("safety_stock", {"item_id", "location_id", "quantity", "updated_at"},
                                           {"item_id", "location_id"}, {"quantity", "updated_at"}))
            .bindAll(std::string(item_id), std::string(location_id), quantity, clock_.nowMicros())
            .execute();
    }
    invalidateCache();
}

void Inventory::setChannelRule(db::UnitOfWork& uow, std::string_view channel, std::string_view item_id,
                               const ChannelRule& rule) {
    if (channel.empty() || channel.size() > 64) throw RejectedError("a channel name is 1 to 64 characters");
    if (rule.percent && (*rule.percent < 0 || *rule.percent > 100)) throw RejectedError("percent must be 0 to 100");
    if (rule.cap && *rule.cap < 0) throw RejectedError("cap cannot be negative");
    uow.deferred<RulesRead>(&kRulesRead).rules.clear();  // this unit reads the rules again
    if (!rule.percent && !rule.cap) {
        uow.statement("DELETE FROM channel_rule WHERE channel = ? AND item_id = ?")
            .bindAll(std::string(channel), std::string(item_id))
            .execute();
        return;
    }
    uow.statement(uow.dialect().upsert("channel_rule", {"channel", "item_id", "percent", "cap", "updated_at"},
                                       {"channel", "item_id"}, {"percent", "cap", "updated_at"}))
        .bindAll(std::string(channel), std::string(item_id))
        .bind(rule.percent ? std::optional<std::int64_t>(*rule.percent) : std::nullopt)
        .bind(rule.cap)
        .bind(clock_.nowMicros())
        .execute();
}

// ------------------------------------------------------------------------------------- available-to-promise

namespace {

// The balance rows that make up available-to-promise, one query for one or many items: item, location, its code,
// whether it ships to customers and is active, quantity, allocated, the lot's expiry and status, safety stock.
constexpr const char* kAtpRowsSql =
    "SELECT b.item_id, b.location_id, loc.code, loc.ships_to_customers, loc.active, b.quantity, b.allocated, "
    "l.expiry_date, l.status, COALESCE(s.quantity, i.safety_stock), i.is_kit "
    "FROM stock_balance b JOIN location loc ON loc.id = b.location_id JOIN item i ON i.id = b.item_id "
    "LEFT JOIN lot l ON l.id = b.lot_id "
    "LEFT JOIN safety_stock s ON s.item_id = b.item_id AND s.location_id = b.location_id "
    "WHERE b.state = 'on_hand' AND ";
constexpr const char* kAtpRowsOrder = " ORDER BY b.item_id, loc.priority, loc.code";

// Adds one row of kAtpRowsSql to its item's locations (rows come ordered by item, then location). `counts` gets,
// per location, whether it counts towards the item's total: it ships to customers and is active.
void foldAtpRow(const db::Statement& rows, int today, std::vector<AtpLocation>& lines, std::vector<bool>& counts) {
    const std::string location = rows.getString(1);
    if (lines.empty() || lines.back().location_id != location) {
        AtpLocation line;
        line.location_id = location;
        line.location_code = rows.getString(2);
        line.safety_stock = rows.getOptionalInt64(9).value_or(0);
        lines.push_back(std::move(line));
        counts.push_back(rows.getInt64(3) != 0 && rows.getInt64(4) != 0);
    }
    const bool released = rows.isNull(8) || rows.getString(8) == "released";
    if (!released || !isSellable(optionalInt(rows, 7), today)) return;  // expired or quarantined lots
    lines.back().on_hand += rows.getInt64(5);
    lines.back().allocated += rows.getInt64(6);
}

}  // namespace

bool Inventory::factsCached(std::string_view item_id) const {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(std::string(item_id));
    return it != cache_.end() && clock_.nowMicros() - it->second.second < kFactsTtlMicros;
}

Atp Inventory::atp(db::UnitOfWork& uow, std::string_view item_id, std::optional<std::string_view> location_id,
                   std::optional<std::string_view> channel) {
    Atp result;
    result.item_id = std::string(item_id);
    const int today = Date::today(clock_).ymd();
    std::vector<AtpLocation> lines;
    std::vector<bool> counts;
    auto readRows = [&]() -> std::optional<bool> {  // whether the item is a kit, when it has balance rows
        lines.clear();
        counts.clear();
        std::string sql = std::string(kAtpRowsSql) + "b.item_id = ?";
        if (location_id) sql += " AND b.location_id = ?";
        db::Statement& rows = uow.statement(sql + kAtpRowsOrder);
        rows.bind(std::string(item_id));
        if (location_id) rows.bind(std::string(*location_id));
        rows.execute();
        std::optional<bool> kit;
        while (rows.next()) {
            kit = rows.getInt64(10) != 0;
            foldAtpRow(rows, today, lines, counts);
        }
        return kit;
    };
    // Facts not cached (most lookups over a large catalog): the balance rows come first, since rows of an item that
    // is not a kit show that it exists and holds stock itself, and then its facts cost no query of their own (one
    // round trip instead of two on the servers). A kit, an item without balance rows or an unknown id reads them.
    bool rows_read = false;
    std::optional<bool> kit;
    if (!factsCached(item_id)) {
        kit = readRows();
        rows_read = true;
    }
    std::optional<ItemFacts> known;
    if (!kit || *kit) {
        auto f = facts(uow, item_id);
        if (!f) return result;
        known = std::move(f).value();
        kit = known->is_kit;
    }
    if (channel) result.rule = channelRule(uow, *channel, item_id);

    if (*kit) {
        // Kits are assembled where the components are: per location, the fewest complete kits.
        std::map<std::string, std::vector<KitPart>> parts_by_location;
        std::map<std::string, std::string> codes;
        const auto& components = known->components;
        for (const auto& [component, per_kit] : components) {
            const Atp part = atp(uow, component, location_id);
            for (const auto& line : part.locations) {
                parts_by_location[line.location_id].push_back(KitPart{line.available, per_kit});
                codes[line.location_id] = line.location_code;
            }
        }
        for (auto& [location, parts] : parts_by_location) {
            if (parts.size() != components.size()) continue;  // a component has no stock there
            AtpLocation line;
            line.location_id = location;
            line.location_code = codes[location];
            line.available = channelAvailable(kitAvailable(parts), result.rule);
            result.available += line.available;
            result.locations.push_back(std::move(line));
        }
        return result;
    }

    if (!rows_read) readRows();
    if (location_id) counts.assign(counts.size(), true);  // the location asked for counts whatever it is
    std::int64_t total = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        AtpLocation& line = lines[i];
        const std::int64_t free = availableToPromise(line.on_hand, line.allocated, line.safety_stock);
        line.available = channelAvailable(free, result.rule);
        if (counts[i]) total += free;
    }
    // The channel rule limits what the channel sees in total, not per location on top of it.
    result.available = channelAvailable(total, result.rule);
    result.locations = std::move(lines);
    return result;
}

std::map<std::string, std::int64_t> Inventory::reservable(db::UnitOfWork& uow, std::string_view item_id,
                                                         std::string_view channel, bool respect_safety) {
    auto all = reservableMany(uow, {std::string(item_id)}, channel, respect_safety);
    return std::move(all[std::string(item_id)]);
}

std::map<std::string, std::map<std::string, std::int64_t>> Inventory::reservableMany(
    db::UnitOfWork& uow, const std::vector<std::string>& item_ids, std::string_view channel, bool respect_safety) {
    // A fixed number of statements whatever the number of items: their facts (kit components included), the
    // channel's rules, and the balance rows of every item that holds stock itself.
    std::unordered_map<std::string, ItemFacts> facts;
    loadFacts(uow, item_ids, facts);
    std::vector<std::string> components;
    for (const auto& [id, f] : facts) {
        for (const auto& component : f.components) {
            if (facts.count(component.first) == 0) components.push_back(component.first);
        }
    }
    if (!components.empty()) loadFacts(uow, components, facts);
    std::vector<std::string> known;
    std::vector<std::string> stocked;
    for (const auto& [id, f] : facts) {
        known.push_back(id);
        if (!f.is_kit) stocked.push_back(id);
    }
    std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>> rules;
    if (!channel.empty() && !known.empty()) loadChannelRules(uow, std::string(channel), known, rules);
    auto ruleOf = [&](const std::string& item) -> std::optional<ChannelRule> {
        const auto it = rules.find({std::string(channel), item});
        return it == rules.end() ? std::nullopt : it->second;
    };
    std::map<std::string, std::vector<AtpLocation>> lines;
    std::map<std::string, std::vector<bool>> counts;
    const int today = Date::today(clock_).ymd();
    std::sort(stocked.begin(), stocked.end());
    if (!stocked.empty()) {
        db::forEachIn(uow, std::string(kAtpRowsSql) + "b.item_id IN ", kAtpRowsOrder, stocked,
                      [&](const db::Statement& row) {
                          const std::string item = row.getString(0);
                          foldAtpRow(row, today, lines[item], counts[item]);
                      });
    }
    auto freeOf = [&](const std::string& item) {
        std::map<std::string, std::int64_t> free_at;
        const auto rule = ruleOf(item);
        for (const auto& line : lines[item]) {
            const std::int64_t free = respect_safety
                                          ? availableToPromise(line.on_hand, line.allocated, line.safety_stock)
                                          : std::max<std::int64_t>(line.on_hand - line.allocated, 0);
            free_at[line.location_id] = channelAvailable(free, rule);
        }
        return free_at;
    };
    std::map<std::string, std::map<std::string, std::int64_t>> result;
    for (const auto& item : item_ids) {
        const auto f = facts.find(item);
        if (f == facts.end()) continue;  // unknown: nothing to reserve
        if (!f->second.is_kit) {
            result[item] = freeOf(item);
            continue;
        }
        // A kit: per location, the fewest complete kits its components allow there.
        std::map<std::string, std::vector<KitPart>> parts;
        for (const auto& [component, per_kit] : f->second.components) {
            const auto c = facts.find(component);
            const auto free_at = c != facts.end() && c->second.is_kit
                                     ? reservable(uow, component, channel, respect_safety)  // a kit of kits
                                     : freeOf(component);
            for (const auto& [location, quantity] : free_at) parts[location].push_back(KitPart{quantity, per_kit});
        }
        auto& kit = result[item];
        for (const auto& [location, kit_parts] : parts) {
            if (kit_parts.size() != f->second.components.size()) continue;
            kit[location] = channelAvailable(kitAvailable(kit_parts), ruleOf(item));
        }
    }
    return result;
}

std::vector<Balance> Inventory::balances(db::UnitOfWork& uow, std::string_view item_id,
                                         std::optional<std::string_view> location_id) {
    std::string sql =
        "SELECT b.item_id, b.location_id, b.lot_id, l.lot_code, l.expiry_date, b.state, b.quantity, b.allocated "
        "FROM stock_balance b LEFT JOIN lot l ON l.id = b.lot_id WHERE 1 = 1";
    if (!item_id.empty()) sql += " AND b.item_id = ?";
    if (location_id) sql += " AND b.location_id = ?";
    sql += " ORDER BY b.item_id, b.location_id, b.lot_id, b.state";
    db::Statement& rows = uow.statement(sql);
    if (!item_id.empty()) rows.bind(std::string(item_id));
    if (location_id) rows.bind(std::string(*location_id));
    rows.execute();
    std::vector<Balance> out;
    while (rows.next()) {
        Balance b;
        b.item_id = rows.getString(0);
        b.location_id = rows.getString(1);
        b.lot_id = rows.getString(2);
        b.lot_code = rows.getOptionalString(3).value_or("");
        if (const auto expiry = optionalInt(rows, 4)) b.expiry = Date::fromYmd(*expiry);
        b.state = stockStateFrom(rows.getString(5)).value_or(StockState::kOnHand);
        b.quantity = rows.getInt64(6);
        b.allocated = rows.getInt64(7);
        out.push_back(std::move(b));
    }
    return out;
}

// ------------------------------------------------------------------------------------------------- verify

VerifyReport Inventory::verify(db::UnitOfWork& uow) {
    VerifyReport report;
    // What the ledger says each balance must be: moves in minus moves out.
    const std::string ledger =
        "(SELECT item_id, location_id, lot_id, state, SUM(q) AS total FROM ("
        "SELECT item_id, to_location_id AS location_id, lot_id, to_state AS state, quantity AS q FROM stock_move "
        "WHERE to_location_id <> '' "
        "UNION ALL "
        "SELECT item_id, from_location_id AS location_id, lot_id, from_state AS state, 0 - quantity AS q "
        "FROM stock_move WHERE from_location_id <> ''"
        ") moves GROUP BY item_id, location_id, lot_id, state)";
    auto collect = [&](const std::string& sql, const char* what) {
        db::Statement& s = uow.statement(sql);
        s.execute();
        while (s.next()) {
            if (report.drifts.size() >= 1000) break;
            report.drifts.push_back(VerifyReport::Drift{s.getString(0), s.getString(1), s.getString(2), s.getString(3),
                                                        s.getInt64(4), s.getInt64(5), what});
        }
    };
    collect("SELECT b.item_id, b.location_id, b.lot_id, b.state, b.quantity, COALESCE(m.total, 0) "
            "FROM stock_balance b LEFT JOIN " + ledger +
                " m ON m.item_id = b.item_id AND m.location_id = b.location_id AND m.lot_id = b.lot_id AND m.state = b.state "
                "WHERE b.quantity <> COALESCE(m.total, 0)",
            "quantity");
    collect("SELECT m.item_id, m.location_id, m.lot_id, m.state, 0, m.total FROM " + ledger +
                " m LEFT JOIN stock_balance b ON m.item_id = b.item_id AND m.location_id = b.location_id "
                "AND m.lot_id = b.lot_id AND m.state = b.state WHERE b.item_id IS NULL AND m.total <> 0",
            "quantity");
    // What active reservations say each allocation must be.
    const std::string claims =
        "(SELECT item_id, location_id, lot_id, SUM(remaining) AS total FROM reservation WHERE status = 'active' "
        "GROUP BY item_id, location_id, lot_id)";
    collect("SELECT b.item_id, b.location_id, b.lot_id, b.state, b.allocated, COALESCE(r.total, 0) "
            "FROM stock_balance b LEFT JOIN " + claims +
                " r ON r.item_id = b.item_id AND r.location_id = b.location_id AND r.lot_id = b.lot_id "
                "WHERE b.state = 'on_hand' AND b.allocated <> COALESCE(r.total, 0)",
            "allocated");
    collect("SELECT r.item_id, r.location_id, r.lot_id, 'on_hand', 0, r.total FROM " + claims +
                " r LEFT JOIN stock_balance b ON r.item_id = b.item_id AND r.location_id = b.location_id "
                "AND r.lot_id = b.lot_id AND b.state = 'on_hand' WHERE b.item_id IS NULL",
            "allocated");
    auto count = [&](const char* sql) {
        db::Statement& s = uow.statement(sql);
        s.execute();
        return s.next() ? s.getInt64(0) : 0;
    };
    report.balances_checked = count("SELECT COUNT(*) FROM stock_balance");
    report.moves_checked = count("SELECT COUNT(*) FROM stock_move");
    report.reservations_checked = count("SELECT COUNT(*) FROM reservation WHERE status = 'active'");
    return report;
}

}  // namespace keel::inventory
