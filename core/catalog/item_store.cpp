#include "item_store.h"

#include "keel/kernel/error.h"

#include <algorithm>
#include <tuple>

namespace keel::catalog::detail {

const std::string kItemSelect =
    "SELECT id, sku, name, description, base_uom, gtin, weight_mg, length_mm, width_mm, height_mm, lot_tracked, "
    "expiry_tracked, shelf_life_days, tax_class, cost_method, status, is_kit, safety_stock FROM item";

const std::string kLocationSelect =
    "SELECT id, code, name, type, priority, country, region, ships_to_customers, active FROM location";

const std::vector<std::string> kItemColumns = {"id",
                                               "sku",
                                               "name",
                                               "description",
                                               "base_uom",
                                               "gtin",
                                               "weight_mg",
                                               "length_mm",
                                               "width_mm",
                                               "height_mm",
                                               "lot_tracked",
                                               "expiry_tracked",
                                               "shelf_life_days",
                                               "tax_class",
                                               "cost_method",
                                               "status",
                                               "is_kit",
                                               "safety_stock",
                                               "created_at",
                                               "updated_at"};

const std::string kItemUpdate =
    "UPDATE item SET name = ?, description = ?, base_uom = ?, gtin = ?, weight_mg = ?, length_mm = ?, "
    "width_mm = ?, height_mm = ?, lot_tracked = ?, expiry_tracked = ?, shelf_life_days = ?, tax_class = ?, "
    "cost_method = ?, status = ?, is_kit = ?, safety_stock = ?, updated_at = ? WHERE id = ?";

namespace {

std::int64_t flag(bool value) {
    return value ? 1 : 0;
}

std::optional<std::int64_t> optionalDays(const std::optional<int>& days) {
    return days ? std::optional<std::int64_t>(*days) : std::nullopt;
}

// Columns 10..17 of kItemSelect and the item update share this order.
std::vector<Value> itemFields(const Item& item) {
    return {item.name,
            item.description,
            item.base_uom,
            item.gtin,
            item.weight_mg,
            item.length_mm,
            item.width_mm,
            item.height_mm,
            flag(item.lot_tracked),
            flag(item.expiry_tracked),
            optionalDays(item.shelf_life_days),
            item.tax_class,
            std::string(toString(item.cost_method)),
            std::string(toString(item.status)),
            flag(item.is_kit),
            item.safety_stock};
}

[[noreturn]] void corrupt(const std::string& what) {
    throw InfrastructureError("the item master holds " + what +
                              ", which this keel cannot read; check the database with `keel db status`");
}

}  // namespace

Item readItem(const db::Statement& s) {
    Item item;
    item.id = s.getString(0);
    item.sku = s.getString(1);
    item.name = s.getString(2);
    item.description = s.getOptionalString(3).value_or("");
    item.base_uom = s.getString(4);
    item.gtin = s.getOptionalString(5);
    item.weight_mg = s.getOptionalInt64(6);
    item.length_mm = s.getOptionalInt64(7);
    item.width_mm = s.getOptionalInt64(8);
    item.height_mm = s.getOptionalInt64(9);
    item.lot_tracked = s.getInt64(10) != 0;
    item.expiry_tracked = s.getInt64(11) != 0;
    if (auto days = s.getOptionalInt64(12)) item.shelf_life_days = static_cast<int>(*days);
    item.tax_class = s.getString(13);
    const std::string cost_method = s.getString(14);
    const std::string status = s.getString(15);
    const auto method = costMethodFrom(cost_method);
    const auto item_status = itemStatusFrom(status);
    if (!method) corrupt("cost method '" + cost_method + "' for item '" + item.sku + "'");
    if (!item_status) corrupt("status '" + status + "' for item '" + item.sku + "'");
    item.cost_method = *method;
    item.status = *item_status;
    item.is_kit = s.getInt64(16) != 0;
    item.safety_stock = s.getInt64(17);
    return item;
}

Location readLocation(const db::Statement& s) {
    Location location;
    location.id = s.getString(0);
    location.code = s.getString(1);
    location.name = s.getString(2);
    const std::string type = s.getString(3);
    const auto location_type = locationTypeFrom(type);
    if (!location_type) corrupt("location type '" + type + "' for location '" + location.code + "'");
    location.type = *location_type;
    location.priority = static_cast<int>(s.getInt64(4));
    location.country = s.getString(5);
    location.region = s.getOptionalString(6).value_or("");
    location.ships_to_customers = s.getInt64(7) != 0;
    location.active = s.getInt64(8) != 0;
    return location;
}

std::vector<Value> itemRow(const Item& item, std::int64_t created_at, std::int64_t updated_at) {
    std::vector<Value> row{item.id, item.sku};
    auto fields = itemFields(item);
    row.insert(row.end(), std::make_move_iterator(fields.begin()), std::make_move_iterator(fields.end()));
    row.emplace_back(created_at);
    row.emplace_back(updated_at);
    return row;
}

void bindItemUpdate(db::Statement& statement, const Item& item, std::int64_t updated_at) {
    for (const auto& value : itemFields(item)) bindValue(statement, value);
    statement.bind(updated_at).bind(item.id);
}

void loadUnitsAndComponents(db::UnitOfWork& uow, std::map<std::string, Item*>& by_id) {
    std::vector<std::string> ids;
    std::vector<std::string> kits;  // only kits have components (validation refuses a kit without, or a non-kit with)
    ids.reserve(by_id.size());
    for (const auto& [id, item] : by_id) {
        ids.push_back(id);
        if (item->is_kit) kits.push_back(id);
    }
    db::forEachIn(
        uow, "SELECT item_id, uom, factor, gtin FROM item_uom WHERE item_id IN ", "", ids, [&](const db::Statement& s) {
            by_id.at(s.getString(0))->units.push_back({s.getString(1), s.getInt64(2), s.getOptionalString(3)});
        });
    db::forEachIn(uow,
                  "SELECT kc.kit_item_id, kc.component_item_id, i.sku, kc.quantity FROM kit_component kc "
                  "JOIN item i ON i.id = kc.component_item_id WHERE kc.kit_item_id IN ",
                  "", kits, [&](const db::Statement& s) {
                      by_id.at(s.getString(0))->components.push_back({s.getString(1), s.getString(2), s.getInt64(3)});
                  });
    // Sorted here rather than by ORDER BY: text ordering follows each server's collation, bytes do not.
    for (auto& entry : by_id) {
        Item& item = *entry.second;
        std::sort(item.units.begin(), item.units.end(), [](const UnitConversion& a, const UnitConversion& b) {
            return std::tie(a.factor, a.uom) < std::tie(b.factor, b.uom);
        });
        std::sort(item.components.begin(), item.components.end(),
                  [](const KitComponent& a, const KitComponent& b) { return a.sku < b.sku; });
    }
}

std::optional<std::pair<std::string, std::string>> stockDefiningChange(const Item& stored, const Item& updated) {
    const char* why = " cannot change: the item has stock history, which would then mean something else";
    if (stored.lot_tracked != updated.lot_tracked)
        return std::pair{std::string("lot_tracked"), std::string("lot tracking") + why};
    if (stored.expiry_tracked != updated.expiry_tracked) {
        return std::pair{std::string("expiry_tracked"), std::string("expiry tracking") + why};
    }
    if (stored.is_kit != updated.is_kit) return std::pair{std::string("components"), std::string("being a kit") + why};
    if (stored.base_uom != updated.base_uom)
        return std::pair{std::string("base_uom"), std::string("the base unit") + why};
    // The ledger's cost pool (and FIFO layers) were built under the method.
    if (stored.cost_method != updated.cost_method)
        return std::pair{std::string("cost_method"), std::string("the cost method") + why};
    return std::nullopt;
}

bool hasStockHistory(db::UnitOfWork& uow, const std::string& item_id) {
    db::Statement& moves = uow.statement("SELECT COUNT(*) FROM stock_move WHERE item_id = ?");
    moves.bind(item_id).execute();
    if (moves.next() && moves.getInt64(0) > 0) return true;
    db::Statement& claims = uow.statement("SELECT COUNT(*) FROM reservation WHERE item_id = ?");
    claims.bind(item_id).execute();
    return claims.next() && claims.getInt64(0) > 0;
}

}  // namespace keel::catalog::detail
