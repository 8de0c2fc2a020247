#include "keel/catalog/catalog.h"

#include "item_store.h"
#include "keel/catalog/aliases.h"
#include "keel/catalog/gtin.h"
#include "keel/catalog/validation.h"
#include "keel/events/outbox.h"
#include "keel/kernel/error.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>

namespace keel::catalog {

std::string_view toString(CostMethod value) {
    switch (value) {
        case CostMethod::kMovingAverage:
            return "moving_average";
        case CostMethod::kFifo:
            return "fifo";
    }
    return "moving_average";
}

std::string_view toString(ItemStatus value) {
    switch (value) {
        case ItemStatus::kActive:
            return "active";
        case ItemStatus::kDiscontinued:
            return "discontinued";
    }
    return "active";
}

std::string_view toString(LocationType value) {
    switch (value) {
        case LocationType::kWarehouse:
            return "warehouse";
        case LocationType::kStore:
            return "store";
        case LocationType::kThirdParty:
            return "3pl";
        case LocationType::kTransit:
            return "transit";
        case LocationType::kVirtual:
            return "virtual";
    }
    return "warehouse";
}

std::optional<CostMethod> costMethodFrom(std::string_view text) {
    if (text == "moving_average") return CostMethod::kMovingAverage;
    if (text == "fifo") return CostMethod::kFifo;
    return std::nullopt;
}

std::optional<ItemStatus> itemStatusFrom(std::string_view text) {
    if (text == "active") return ItemStatus::kActive;
    if (text == "discontinued") return ItemStatus::kDiscontinued;
    return std::nullopt;
}

std::optional<LocationType> locationTypeFrom(std::string_view text) {
    if (text == "warehouse") return LocationType::kWarehouse;
    if (text == "store") return LocationType::kStore;
    if (text == "3pl") return LocationType::kThirdParty;
    if (text == "transit") return LocationType::kTransit;
    if (text == "virtual") return LocationType::kVirtual;
    return std::nullopt;
}

namespace {

using detail::kItemSelect;
using detail::kLocationSelect;

// The full item (units and components included) of the one row a kItemSelect query with `where` finds.
std::optional<Item> loadItem(db::UnitOfWork& uow, const std::string& where, std::string_view value) {
    db::Statement& statement = uow.statement(kItemSelect + " WHERE " + where);
    statement.bind(value).execute();
    if (!statement.next()) return std::nullopt;
    Item item = detail::readItem(statement);
    while (statement.next()) {
    }
    std::map<std::string, Item*> by_id{{item.id, &item}};
    detail::loadUnitsAndComponents(uow, by_id);
    return item;
}

std::optional<std::string> singleString(db::UnitOfWork& uow, const std::string& sql, std::string_view a,
                                        std::optional<std::string_view> b = std::nullopt) {
    db::Statement& statement = uow.statement(sql);
    statement.bind(a);
    if (b) statement.bind(*b);
    statement.execute();
    std::optional<std::string> result;
    if (statement.next()) result = statement.getString(0);
    while (statement.next()) {
    }
    return result;
}

// Refuses a GTIN that another item, or a unit of another item, already carries.
void checkGtinFree(db::UnitOfWork& uow, const std::string& gtin, const std::string& sku, const std::string& owner) {
    if (auto other = singleString(uow, "SELECT sku FROM item WHERE gtin = ?", gtin); other && *other != sku) {
        throw ConflictError("GTIN " + gtin + " of " + owner + " is already the GTIN of item '" + *other +
                            "'; each GTIN identifies one item or unit: correct one of them");
    }
    db::Statement& units =
        uow.statement("SELECT i.sku, u.uom FROM item_uom u JOIN item i ON i.id = u.item_id WHERE u.gtin = ?");
    units.bind(gtin).execute();
    std::optional<std::pair<std::string, std::string>> holder;
    while (units.next()) holder.emplace(units.getString(0), units.getString(1));
    if (holder && holder->first != sku) {
        throw ConflictError("GTIN " + gtin + " of " + owner + " is already the GTIN of unit '" + holder->second +
                            "' of item '" + holder->first +
                            "'; each GTIN identifies one item or unit: correct one of them");
    }
}

}  // namespace

std::vector<ChannelAlias> aliasesOfItem(db::UnitOfWork& uow, std::string_view item_id) {
    db::Statement& statement = uow.statement("SELECT channel, channel_sku, item_id FROM item_alias WHERE item_id = ?");
    statement.bind(item_id).execute();
    std::vector<ChannelAlias> aliases;
    while (statement.next())
        aliases.push_back({statement.getString(0), statement.getString(1), statement.getString(2)});
    std::sort(aliases.begin(), aliases.end(), [](const ChannelAlias& a, const ChannelAlias& b) {
        return std::tie(a.channel, a.channel_sku) < std::tie(b.channel, b.channel_sku);
    });
    return aliases;
}

namespace {

// The identifier rules of Catalog::findItem, whatever is read of the item: `load(where, value)` reads the item whose
// column matches (sku = ?, gtin = ?, id = ?) or returns nullopt.
template <typename Load>
auto resolveItem(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel, Load load)
    -> decltype(load(std::string(), std::string_view())) {
    if (identifier.empty()) return std::nullopt;
    if (auto found = load("sku = ?", identifier)) return found;
    if (!channel.empty()) {
        if (auto id = singleString(uow, "SELECT item_id FROM item_alias WHERE channel = ? AND channel_sku = ?", channel,
                                   identifier)) {
            return load("id = ?", *id);
        }
    }
    auto normalized = gtin::normalize(identifier);
    if (!normalized.ok()) return std::nullopt;
    const std::string gtin14 = std::move(normalized).value();
    if (auto found = load("gtin = ?", gtin14)) return found;
    if (auto id = singleString(uow, "SELECT item_id FROM item_uom WHERE gtin = ?", gtin14)) return load("id = ?", *id);
    return std::nullopt;
}

[[noreturn]] void throwUnknownItem(std::string_view identifier, std::string_view channel) {
    if (channel.empty()) {
        throw NotFoundError("unknown item '" + std::string(identifier) +
                            "': no SKU or GTIN matches it (channel aliases need a channel)");
    }
    throw NotFoundError("unknown item '" + std::string(identifier) + "' on channel '" + std::string(channel) +
                        "': no SKU, alias of that channel or GTIN matches it");
}

}  // namespace

std::optional<Item> Catalog::findItem(db::UnitOfWork& uow, std::string_view identifier,
                                      std::string_view channel) const {
    return resolveItem(uow, identifier, channel,
                       [&](const std::string& where, std::string_view value) { return loadItem(uow, where, value); });
}

std::optional<ItemRef> Catalog::findItemRef(db::UnitOfWork& uow, std::string_view identifier,
                                            std::string_view channel) const {
    return resolveItem(uow, identifier, channel,
                       [&](const std::string& where, std::string_view value) -> std::optional<ItemRef> {
                           db::Statement& statement = uow.statement("SELECT id, sku FROM item WHERE " + where);
                           statement.bind(value).execute();
                           std::optional<ItemRef> found;
                           while (statement.next()) found = ItemRef{statement.getString(0), statement.getString(1)};
                           return found;
                       });
}

ItemRef Catalog::requireItemRef(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel) const {
    if (auto ref = findItemRef(uow, identifier, channel)) return std::move(*ref);
    throwUnknownItem(identifier, channel);
}

std::map<std::string, Item> Catalog::findItems(db::UnitOfWork& uow, const std::vector<std::string>& identifiers,
                                               std::string_view channel) const {
    std::map<std::string, Item> found;
    std::vector<std::string> wanted;
    for (const auto& identifier : identifiers) {
        if (!identifier.empty()) wanted.push_back(identifier);
    }
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    db::forEachIn(uow, kItemSelect + " WHERE sku IN ", "", wanted, [&](const db::Statement& s) {
        Item item = detail::readItem(s);
        const std::string sku = item.sku;
        found.emplace(sku, std::move(item));
    });
    std::map<std::string, Item*> by_id;
    for (auto& [sku, item] : found) by_id.emplace(item.id, &item);
    if (!by_id.empty()) detail::loadUnitsAndComponents(uow, by_id);
    for (const auto& identifier : wanted) {
        if (found.count(identifier) != 0) continue;
        if (auto item = findItem(uow, identifier, channel)) found.emplace(identifier, std::move(*item));
    }
    return found;
}

std::optional<Item> Catalog::findItemById(db::UnitOfWork& uow, std::string_view id) const {
    return loadItem(uow, "id = ?", id);
}

std::vector<Item> Catalog::listItems(db::UnitOfWork& uow, const ItemQuery& query) const {
    // The prefix is matched with LIKE, so its own % and _ are escaped ('!' as the escape character: portable).
    std::string pattern;
    for (const char c : query.sku_prefix) {
        if (c == '%' || c == '_' || c == '!') pattern += '!';
        pattern += c;
    }
    pattern += '%';
    std::string sql = "SELECT id FROM item WHERE sku LIKE ? ESCAPE '!'";
    if (query.status) sql += " AND status = ?";
    sql += " ORDER BY sku LIMIT ? OFFSET ?";
    db::Statement& s = uow.statement(sql);
    s.bind(pattern);
    if (query.status) s.bind(std::string(toString(*query.status)));
    s.bind(static_cast<std::int64_t>(query.limit)).bind(static_cast<std::int64_t>(query.offset)).execute();
    std::vector<std::string> ids;
    while (s.next()) ids.push_back(s.getString(0));
    std::vector<Item> items;
    for (const auto& id : ids) {
        if (auto item = findItemById(uow, id)) items.push_back(std::move(*item));
    }
    return items;
}

Item Catalog::requireItem(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel) const {
    if (auto item = findItem(uow, identifier, channel)) return std::move(*item);
    throwUnknownItem(identifier, channel);
}

std::string Catalog::saveItem(db::UnitOfWork& uow, Item item) const {
    const auto problems = prepareItem(item);
    if (!problems.empty()) throw RejectedError("item '" + item.sku + "': " + joinProblems(problems));
    const std::string label = "item '" + item.sku + "'";

    const auto existing_id = singleString(uow, "SELECT id FROM item WHERE sku = ?", item.sku);

    for (auto& component : item.components) {
        const bool by_sku = !component.sku.empty();
        db::Statement& find = uow.statement(by_sku ? "SELECT id, sku, is_kit FROM item WHERE sku = ?"
                                                   : "SELECT id, sku, is_kit FROM item WHERE id = ?");
        find.bind(by_sku ? component.sku : component.item_id).execute();
        if (!find.next()) {
            throw RejectedError(label + ": components: '" + (by_sku ? component.sku : component.item_id) +
                                "' is not in the item master; save the component before the kit");
        }
        component.item_id = find.getString(0);
        component.sku = find.getString(1);
        const bool is_kit = find.getInt64(2) != 0;
        while (find.next()) {
        }
        if (existing_id && component.item_id == *existing_id) {
            throw RejectedError(label + ": components: a kit cannot contain itself");
        }
        if (is_kit) {
            throw RejectedError(label + ": components: '" + component.sku +
                                "' is itself a kit, and a kit cannot contain another kit; list its components instead");
        }
    }
    std::sort(item.components.begin(), item.components.end(),
              [](const KitComponent& a, const KitComponent& b) { return a.sku < b.sku; });

    if (item.is_kit && existing_id) {
        if (auto kit = singleString(uow,
                                    "SELECT k.sku FROM kit_component kc JOIN item k ON k.id = kc.kit_item_id "
                                    "WHERE kc.component_item_id = ?",
                                    *existing_id)) {
            throw RejectedError(label + " cannot become a kit: it is a component of kit '" + *kit +
                                "', and a kit cannot contain another kit; remove it from '" + *kit + "' first");
        }
    }

    if (item.gtin) checkGtinFree(uow, *item.gtin, item.sku, label);
    for (const auto& unit : item.units) {
        if (unit.gtin) checkGtinFree(uow, *unit.gtin, item.sku, "unit '" + unit.uom + "' of " + label);
    }

    if (existing_id) {
        const auto stored = findItemById(uow, *existing_id);
        if (const auto change = stored ? detail::stockDefiningChange(*stored, item) : std::nullopt;
            change && detail::hasStockHistory(uow, *existing_id)) {
            throw ConflictError(label + ": " + change->second);
        }
    }

    const std::int64_t now = clock_.nowMicros();
    bool replace_children = false;
    if (existing_id) {
        item.id = *existing_id;
        db::Statement& update = uow.statement(detail::kItemUpdate);
        detail::bindItemUpdate(update, item, now);
        update.execute();
        replace_children = true;
    } else {
        // A caller may choose the id of a new item (so a retried unit of work writes the same one).
        if (!isUuid(item.id)) item.id = ids_.next();
        std::vector<std::string> update_columns;
        for (const auto& column : detail::kItemColumns) {
            if (column != "id" && column != "sku" && column != "created_at") update_columns.push_back(column);
        }
        // An upsert, so a concurrent save of the same new SKU updates instead of failing the unit of work.
        db::Statement& upsert =
            uow.statement(uow.dialect().upsert("item", detail::kItemColumns, {"sku"}, update_columns));
        for (const auto& value : detail::itemRow(item, now, now)) detail::bindValue(upsert, value);
        upsert.execute();
        const auto stored_id = singleString(uow, "SELECT id FROM item WHERE sku = ?", item.sku);
        if (stored_id && *stored_id != item.id) {
            item.id = *stored_id;
            replace_children = true;
        }
    }
    if (replace_children) {
        uow.statement("DELETE FROM item_uom WHERE item_id = ?").bind(item.id).execute();
        uow.statement("DELETE FROM kit_component WHERE kit_item_id = ?").bind(item.id).execute();
    }
    for (const auto& unit : item.units) {
        uow.statement("INSERT INTO item_uom (item_id, uom, factor, gtin) VALUES (?, ?, ?, ?)")
            .bindAll(item.id, unit.uom, unit.factor, unit.gtin)
            .execute();
    }
    for (const auto& component : item.components) {
        uow.statement("INSERT INTO kit_component (kit_item_id, component_item_id, quantity) VALUES (?, ?, ?)")
            .bindAll(item.id, component.item_id, component.quantity)
            .execute();
    }
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{existing_id ? "item.updated" : "item.created", "item", item.id,
                                   events::Payload()
                                       .add("sku", item.sku)
                                       .add("name", item.name)
                                       .add("status", std::string(toString(item.status)))
                                       .str(),
                                   "catalog"});
    return item.id;
}

void Catalog::saveAlias(db::UnitOfWork& uow, std::string_view channel, std::string_view channel_sku,
                        std::string_view item_id) const {
    if (auto problem = channelProblem(channel)) throw RejectedError("alias: channel " + *problem);
    if (auto problem = channelSkuProblem(channel_sku)) {
        throw RejectedError("alias on channel '" + std::string(channel) + "': channel_sku " + *problem);
    }
    if (!singleString(uow, "SELECT id FROM item WHERE id = ?", item_id)) {
        throw NotFoundError("alias '" + std::string(channel_sku) + "' on channel '" + std::string(channel) +
                            "': unknown item id '" + std::string(item_id) + "'");
    }
    const std::string sql = uow.dialect().upsert("item_alias", {"channel", "channel_sku", "item_id", "created_at"},
                                                 {"channel", "channel_sku"}, {"item_id"});
    uow.statement(sql).bindAll(channel, channel_sku, item_id, clock_.nowMicros()).execute();
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{"item.alias_saved", "item", std::string(item_id),
                                   events::Payload().add("channel", channel).add("channel_sku", channel_sku).str(),
                                   "catalog"});
}

std::optional<Location> Catalog::findLocation(db::UnitOfWork& uow, std::string_view code) const {
    db::Statement& statement = uow.statement(kLocationSelect + " WHERE code = ?");
    statement.bind(code).execute();
    std::optional<Location> location;
    while (statement.next()) location = detail::readLocation(statement);
    return location;
}

std::optional<Location> Catalog::findLocationById(db::UnitOfWork& uow, std::string_view id) const {
    db::Statement& statement = uow.statement(kLocationSelect + " WHERE id = ?");
    statement.bind(id).execute();
    std::optional<Location> location;
    while (statement.next()) location = detail::readLocation(statement);
    return location;
}

Location Catalog::requireLocation(db::UnitOfWork& uow, std::string_view code) const {
    if (auto location = findLocation(uow, code)) return std::move(*location);
    throw NotFoundError("unknown location '" + std::string(code) + "'; `keel location list` shows the locations");
}

std::vector<Location> Catalog::locations(db::UnitOfWork& uow) const {
    db::Statement& statement = uow.statement(kLocationSelect);
    statement.execute();
    std::vector<Location> result;
    while (statement.next()) result.push_back(detail::readLocation(statement));
    std::sort(result.begin(), result.end(), [](const Location& a, const Location& b) {
        return std::tie(a.priority, a.code) < std::tie(b.priority, b.code);
    });
    return result;
}

std::string Catalog::saveLocation(db::UnitOfWork& uow, Location location) const {
    const auto problems = prepareLocation(location);
    if (!problems.empty()) throw RejectedError("location '" + location.code + "': " + joinProblems(problems));
    if (!isUuid(location.id)) location.id = ids_.next();
    const std::int64_t now = clock_.nowMicros();
    const std::string sql = uow.dialect().upsert(
        "location",
        {"id", "code", "name", "type", "priority", "country", "region", "ships_to_customers", "active", "created_at",
         "updated_at"},
        {"code"}, {"name", "type", "priority", "country", "region", "ships_to_customers", "active", "updated_at"});
    uow.statement(sql)
        .bindAll(location.id, location.code, location.name, std::string(toString(location.type)), location.priority,
                 location.country, location.region, location.ships_to_customers ? 1 : 0, location.active ? 1 : 0, now,
                 now)
        .execute();
    const std::string id =
        singleString(uow, "SELECT id FROM location WHERE code = ?", location.code).value_or(location.id);
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{"location.saved", "location", id,
                                   events::Payload()
                                       .add("code", location.code)
                                       .add("type", std::string(toString(location.type)))
                                       .add("active", location.active)
                                       .str(),
                                   "catalog"});
    return id;
}

std::int64_t Catalog::toBaseUnits(const Item& item, std::int64_t quantity, std::string_view uom) const {
    if (uom.empty() || uom == item.base_uom) return quantity;
    for (const auto& unit : item.units) {
        if (unit.uom != uom) continue;
        std::int64_t result = 0;
        if (__builtin_mul_overflow(quantity, unit.factor, &result)) {
            throw RejectedError("item '" + item.sku + "': " + std::to_string(quantity) + " " + unit.uom + " of " +
                                std::to_string(unit.factor) + " " + item.base_uom +
                                " is beyond the largest quantity Keel can count (" +
                                std::to_string(std::numeric_limits<std::int64_t>::max()) + " " + item.base_uom + ")");
        }
        return result;
    }
    std::string known = item.base_uom;
    for (const auto& unit : item.units) {
        known += ", " + unit.uom + " (" + std::to_string(unit.factor) + " " + item.base_uom + ")";
    }
    throw RejectedError("item '" + item.sku + "' has no unit '" + std::string(uom) + "'; its units are " + known);
}

}  // namespace keel::catalog
