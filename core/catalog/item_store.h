#pragma once
// Private to core/catalog: the SQL of the item master tables shared by the repository (catalog.cpp) and the
// bulk CSV paths (import.cpp), so both read and write rows identically.

#include "keel/catalog/catalog.h"
#include "keel/db/batch_insert.h"
#include "keel/db/database.h"
#include "keel/db/for_each_in.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace keel::catalog::detail {

/// SELECT of the 18 item columns that readItem() reads, without WHERE.
extern const std::string kItemSelect;
/// SELECT of the location columns that readLocation() reads, without WHERE.
extern const std::string kLocationSelect;

/// The item of the current row of a kItemSelect query (no units or components).
Item readItem(const db::Statement& statement);
Location readLocation(const db::Statement& statement);

/// A bound value of a row assembled at run time.
using Value = db::Field;

/// Values of an item row in the column order of `item` (id first, created_at and updated_at last).
std::vector<Value> itemRow(const Item& item, std::int64_t created_at, std::int64_t updated_at);
extern const std::vector<std::string> kItemColumns;

/// UPDATE of every item column except id, sku and created_at, by id; bind with bindItemUpdate().
extern const std::string kItemUpdate;
void bindItemUpdate(db::Statement& statement, const Item& item, std::int64_t updated_at);

/// What an update would change of the fields that say what an item's stock means (lot tracking, expiry
/// tracking, kit, base unit): the CSV column and why, or nullopt. Such changes are refused once the item has
/// stock history, because its balances and ledger would then mean something else.
std::optional<std::pair<std::string, std::string>> stockDefiningChange(const Item& stored, const Item& updated);
/// Whether any stock move or reservation names the item.
bool hasStockHistory(db::UnitOfWork& uow, const std::string& item_id);

/// Attaches units and kit components to items already loaded, keyed by item id.
void loadUnitsAndComponents(db::UnitOfWork& uow, std::map<std::string, Item*>& by_id);

inline void bindValue(db::Statement& statement, const Value& value) {
    db::bindField(statement, value);
}

}  // namespace keel::catalog::detail
