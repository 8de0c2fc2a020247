#pragma once
// The item master and locations: what Keel stocks and sells, and where. Matching is always by identifier
// (SKU, channel alias, GTIN), never by name. Every function works inside the caller's unit of work, so
// catalog changes commit together with whatever else the caller does.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/id.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::catalog {

enum class CostMethod { kMovingAverage, kFifo };
enum class ItemStatus { kActive, kDiscontinued };
enum class LocationType { kWarehouse, kStore, kThirdParty, kTransit, kVirtual };

std::string_view toString(CostMethod value);     ///< "moving_average", "fifo"
std::string_view toString(ItemStatus value);     ///< "active", "discontinued"
std::string_view toString(LocationType value);   ///< "warehouse", "store", "3pl", "transit", "virtual"
std::optional<CostMethod> costMethodFrom(std::string_view text);
std::optional<ItemStatus> itemStatusFrom(std::string_view text);
std::optional<LocationType> locationTypeFrom(std::string_view text);

/// Another unit of an item as a whole multiple of its base unit: a "case" of 12 "each".
struct UnitConversion {
    std::string uom;
    std::int64_t factor = 1;
    std::optional<std::string> gtin;  ///< GTIN-14 of the case, if it has its own barcode
};

/// One component of a kit: `quantity` base units of `item_id` per kit.
struct KitComponent {
    std::string item_id;
    std::string sku;
    std::int64_t quantity = 1;
};

/// An item of the item master. Quantities everywhere in Keel are integers in `base_uom`.
struct Item {
    std::string id;  ///< UUIDv7, assigned on first save
    std::string sku;
    std::string name;
    std::string description;
    std::string base_uom = "each";
    std::optional<std::string> gtin;  ///< normalised GTIN-14 (see gtin.h)
    std::optional<std::int64_t> weight_mg;
    std::optional<std::int64_t> length_mm;
    std::optional<std::int64_t> width_mm;
    std::optional<std::int64_t> height_mm;
    bool lot_tracked = false;
    bool expiry_tracked = false;  ///< implies lot_tracked
    std::optional<int> shelf_life_days;
    std::string tax_class = "standard";
    CostMethod cost_method = CostMethod::kMovingAverage;
    ItemStatus status = ItemStatus::kActive;
    bool is_kit = false;
    std::int64_t safety_stock = 0;  ///< default for every location; per-location overrides live in inventory
    std::vector<UnitConversion> units;
    std::vector<KitComponent> components;  ///< only for kits
};

/// A place that holds stock: warehouse, store, 3PL node, in-transit or virtual location.
struct Location {
    std::string id;  ///< UUIDv7, assigned on first save
    std::string code;
    std::string name;
    LocationType type = LocationType::kWarehouse;
    int priority = 100;        ///< lower is preferred when routing
    std::string country;       ///< ISO 3166-1 alpha-2
    std::string region;        ///< state or province code, may be empty
    bool ships_to_customers = true;
    bool active = true;
};

/// Which items Catalog::listItems returns: a page of the item master in SKU order.
struct ItemQuery {
    std::string sku_prefix;            ///< only SKUs that start with this (empty: all)
    std::optional<ItemStatus> status;  ///< only items in this status
    std::size_t limit = 100;
    std::size_t offset = 0;
};

/// An item's identity without the rest of it: what a lookup that only needs to know which item was meant reads.
struct ItemRef {
    std::string id;
    std::string sku;
};

/// Reads and writes the item master. Stateless apart from the clock and id generator it was given.
class Catalog {
public:
    explicit Catalog(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    /// Finds an item by SKU, then (when `channel` is given) by that channel's alias, then by GTIN in any of
    /// its 8/12/13/14-digit forms (the item's own or one of its units').
    std::optional<Item> findItem(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel = {}) const;
    std::optional<Item> findItemById(db::UnitOfWork& uow, std::string_view id) const;
    /// findItem for many identifiers at once (an order's lines): SKUs are looked up together, the rest one by
    /// one as findItem does. The result holds an entry for each identifier that was found.
    std::map<std::string, Item> findItems(db::UnitOfWork& uow, const std::vector<std::string>& identifiers,
                                          std::string_view channel = {}) const;
    /// As findItem, but throws NotFoundError "unknown item 'X'" (naming the channel when given).
    Item requireItem(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel = {}) const;
    /// findItem / requireItem resolving the same identifiers the same way, reading only the id and SKU (one
    /// statement for a SKU instead of three): for lookups such as ATP that do not need units or components.
    std::optional<ItemRef> findItemRef(db::UnitOfWork& uow, std::string_view identifier,
                                       std::string_view channel = {}) const;
    ItemRef requireItemRef(db::UnitOfWork& uow, std::string_view identifier, std::string_view channel = {}) const;

    /// A page of items (with units and components) in SKU order, for listings (the REST API).
    std::vector<Item> listItems(db::UnitOfWork& uow, const ItemQuery& query) const;

    /// Validates and inserts or updates (by SKU) an item with its units and kit components; returns its id.
    /// Throws RejectedError naming the field for invalid data (bad GTIN, non-positive factor, a kit without
    /// components or containing itself, a component that is itself a kit, expiry without lot tracking, ...).
    std::string saveItem(db::UnitOfWork& uow, Item item) const;

    /// Adds or moves a channel alias to an item. Throws RejectedError for empty names.
    void saveAlias(db::UnitOfWork& uow, std::string_view channel, std::string_view channel_sku,
                   std::string_view item_id) const;

    std::optional<Location> findLocation(db::UnitOfWork& uow, std::string_view code) const;
    std::optional<Location> findLocationById(db::UnitOfWork& uow, std::string_view id) const;
    /// Throws NotFoundError "unknown location 'X'".
    Location requireLocation(db::UnitOfWork& uow, std::string_view code) const;
    /// All locations ordered by priority, then code.
    std::vector<Location> locations(db::UnitOfWork& uow) const;
    /// Validates and inserts or updates (by code) a location; returns its id.
    std::string saveLocation(db::UnitOfWork& uow, Location location) const;

    /// `quantity` in `uom` converted to the item's base unit (checked for overflow); throws RejectedError
    /// for a unit the item does not have.
    std::int64_t toBaseUnits(const Item& item, std::int64_t quantity, std::string_view uom) const;

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::catalog
