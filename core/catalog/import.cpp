#include "keel/catalog/import.h"
#include "keel/events/outbox.h"

#include "keel/catalog/csv_import.h"

#include "item_store.h"
#include "keel/catalog/validation.h"
#include "keel/kernel/error.h"

#include <algorithm>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

namespace keel::catalog {

namespace {

using csv_import::columnsOf;
using csv_import::readFile;
using csv_import::RowCheck;
using csv_import::sortProblems;

// Another import that inserted the same new key first makes this unit's insert fail on the unique key; the retry
// reads the stored rows afresh, finds them, and updates or leaves them instead of failing.
db::RunOptions importWrites() {
    db::RunOptions options;
    options.retry_unique_violation = true;
    return options;
}

const std::vector<std::string> kItemCsvColumns = {
    "sku",       "name",        "description", "base_uom",     "gtin",           "weight_mg",
    "length_mm", "width_mm",    "height_mm",   "lot_tracked",  "expiry_tracked", "shelf_life_days",
    "tax_class", "cost_method", "status",      "safety_stock", "units",          "components"};
const std::vector<std::string> kLocationCsvColumns = {
    "code", "name", "type", "priority", "country", "region", "ships_to_customers", "active"};
const std::vector<std::string> kAliasCsvColumns = {"channel", "channel_sku", "sku"};

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return std::string(text.substr(first, last - first + 1));
}

std::vector<std::string> splitEntries(std::string_view text) {
    std::vector<std::string> entries;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find(';', start), text.size());
        std::string entry = trimmed(text.substr(start, end - start));
        if (!entry.empty()) entries.push_back(std::move(entry));
        start = end + 1;
    }
    return entries;
}

// Strict whole number: optional '-', ASCII digits, within int64.
std::optional<std::int64_t> parseWhole(std::string_view text) {
    const bool negative = !text.empty() && text.front() == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty() || digits.size() > 18) return std::nullopt;  // 18 digits always fit; more are nonsense here
    std::int64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + (c - '0');
    }
    return negative ? -value : value;
}

// Why `text` is not a whole number parseWhole() accepts.
std::string wholeNumberProblem(std::string_view text) {
    const std::string_view digits = !text.empty() && text.front() == '-' ? text.substr(1) : text;
    const bool all_digits =
        !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    return all_digits ? "is too large" : "is not a whole number";
}

std::string yesNo(bool value) {
    return value ? "true" : "false";
}

std::string optionalNumber(const std::optional<std::int64_t>& value) {
    return value ? std::to_string(*value) : std::string();
}

// --- items --------------------------------------------------------------------------------------------------

struct ItemRow {
    std::size_t line = 0;
    Item item;
    std::set<std::string> bad;  ///< columns with a problem
    bool ok(const std::string& column) const { return bad.count(column) == 0; }
};

bool sameComponents(const std::vector<KitComponent>& a, const std::vector<KitComponent>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const KitComponent& x, const KitComponent& y) {
        return x.sku == y.sku && x.quantity == y.quantity;
    });
}

bool sameUnits(const std::vector<UnitConversion>& a, const std::vector<UnitConversion>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const UnitConversion& x, const UnitConversion& y) {
        return x.uom == y.uom && x.factor == y.factor && x.gtin == y.gtin;
    });
}

bool sameFields(const Item& a, const Item& b) {
    return std::tie(a.sku, a.name, a.description, a.base_uom, a.gtin, a.weight_mg, a.length_mm, a.width_mm, a.height_mm,
                    a.lot_tracked, a.expiry_tracked, a.shelf_life_days, a.tax_class, a.cost_method, a.status, a.is_kit,
                    a.safety_stock) == std::tie(b.sku, b.name, b.description, b.base_uom, b.gtin, b.weight_mg,
                                                b.length_mm, b.width_mm, b.height_mm, b.lot_tracked, b.expiry_tracked,
                                                b.shelf_life_days, b.tax_class, b.cost_method, b.status, b.is_kit,
                                                b.safety_stock);
}

ItemRow readItemRow(const csv::Row& row, const std::string& source, std::vector<csv::ParseError>& problems) {
    ItemRow result;
    result.line = row.line();
    Item& item = result.item;
    RowCheck check(source, row.line(), problems, result.bad);
    check.field([&] { item.sku = row.text("sku"); });
    check.field([&] { item.name = row.text("name"); });
    check.field([&] { item.description = row.optionalText("description").value_or(""); });
    check.field([&] { item.base_uom = row.optionalText("base_uom").value_or("each"); });
    check.field([&] { item.gtin = row.optionalText("gtin"); });
    check.field([&] { item.weight_mg = row.optionalInteger("weight_mg"); });
    check.field([&] { item.length_mm = row.optionalInteger("length_mm"); });
    check.field([&] { item.width_mm = row.optionalInteger("width_mm"); });
    check.field([&] { item.height_mm = row.optionalInteger("height_mm"); });
    check.field([&] { item.lot_tracked = row.boolean("lot_tracked", false); });
    check.field([&] { item.expiry_tracked = row.boolean("expiry_tracked", false); });
    check.field([&] {
        if (auto days = row.optionalInteger("shelf_life_days")) {
            if (*days < 1 || *days > kMaxShelfLifeDays) {
                row.fail("shelf_life_days", "must be between 1 and " + std::to_string(kMaxShelfLifeDays) +
                                                " days, got " + std::to_string(*days));
            }
            item.shelf_life_days = static_cast<int>(*days);
        }
    });
    check.field([&] { item.tax_class = row.optionalText("tax_class").value_or("standard"); });
    check.field([&] {
        const auto text = row.optionalText("cost_method");
        if (!text) return;
        const auto method = costMethodFrom(*text);
        if (!method) row.fail("cost_method", "'" + *text + "' is not a cost method; use moving_average or fifo");
        item.cost_method = *method;
    });
    check.field([&] {
        const auto text = row.optionalText("status");
        if (!text) return;
        const auto status = itemStatusFrom(*text);
        if (!status) row.fail("status", "'" + *text + "' is not an item status; use active or discontinued");
        item.status = *status;
    });
    check.field([&] { item.safety_stock = row.optionalInteger("safety_stock").value_or(0); });
    check.field([&] {
        const auto text = row.optionalText("units");
        if (!text) return;
        auto units = parseUnits(*text);
        if (!units.ok()) row.fail("units", units.problem().message);
        item.units = std::move(units).value();
    });
    check.field([&] {
        const auto text = row.optionalText("components");
        if (!text) return;
        auto components = parseComponents(*text);
        if (!components.ok()) row.fail("components", components.problem().message);
        item.components = std::move(components).value();
        item.is_kit = !item.components.empty();
    });
    return result;
}

// A column the file does not have keeps the existing item's value, so a file of sku,name,gtin changes names and
// GTINs and nothing else. (An empty cell in a column the file has means the default, or none.)
void keepAbsentColumns(Item& item, const Item& old, const std::set<std::string>& present) {
    auto absent = [&](const char* column) { return present.count(column) == 0; };
    if (absent("description")) item.description = old.description;
    if (absent("base_uom")) item.base_uom = old.base_uom;
    if (absent("gtin")) item.gtin = old.gtin;
    if (absent("weight_mg")) item.weight_mg = old.weight_mg;
    if (absent("length_mm")) item.length_mm = old.length_mm;
    if (absent("width_mm")) item.width_mm = old.width_mm;
    if (absent("height_mm")) item.height_mm = old.height_mm;
    if (absent("lot_tracked")) item.lot_tracked = old.lot_tracked;
    if (absent("expiry_tracked")) item.expiry_tracked = old.expiry_tracked;
    if (absent("shelf_life_days")) item.shelf_life_days = old.shelf_life_days;
    if (absent("tax_class")) item.tax_class = old.tax_class;
    if (absent("cost_method")) item.cost_method = old.cost_method;
    if (absent("status")) item.status = old.status;
    if (absent("safety_stock")) item.safety_stock = old.safety_stock;
    if (absent("units")) item.units = old.units;
    if (absent("components")) {
        item.components = old.components;
        item.is_kit = old.is_kit;
    }
}

void keepAbsentColumns(Location& location, const Location& old, const std::set<std::string>& present) {
    auto absent = [&](const char* column) { return present.count(column) == 0; };
    if (absent("type")) location.type = old.type;
    if (absent("priority")) location.priority = old.priority;
    if (absent("region")) location.region = old.region;
    if (absent("ships_to_customers")) location.ships_to_customers = old.ships_to_customers;
    if (absent("active")) location.active = old.active;
}

// Where a GTIN of the file sits: its line, column and a description for messages.
struct GtinPlace {
    std::size_t line = 0;
    std::string column;
    std::string owner;  ///< "item 'A'" or "unit 'case' of item 'A'"
    std::string sku;
};

// --- locations and aliases ----------------------------------------------------------------------------------

struct LocationRow {
    std::size_t line = 0;
    Location location;
};

bool sameLocation(const Location& a, const Location& b) {
    return std::tie(a.code, a.name, a.type, a.priority, a.country, a.region, a.ships_to_customers, a.active) ==
           std::tie(b.code, b.name, b.type, b.priority, b.country, b.region, b.ships_to_customers, b.active);
}

struct AliasRow {
    std::size_t line = 0;
    std::string channel;
    std::string channel_sku;
    std::string sku;
};

}  // namespace

const std::vector<std::string>& itemCsvColumns() {
    return kItemCsvColumns;
}
const std::vector<std::string>& locationCsvColumns() {
    return kLocationCsvColumns;
}
const std::vector<std::string>& aliasCsvColumns() {
    return kAliasCsvColumns;
}

std::string formatUnits(const std::vector<UnitConversion>& units) {
    std::string text;
    for (const auto& unit : units) {
        if (!text.empty()) text += ";";
        text += unit.uom + "=" + std::to_string(unit.factor);
        if (unit.gtin) text += ":" + *unit.gtin;
    }
    return text;
}

Result<std::vector<UnitConversion>> parseUnits(std::string_view text) {
    std::vector<UnitConversion> units;
    for (const auto& entry : splitEntries(text)) {
        const auto equals = entry.find('=');
        if (equals == std::string::npos) {
            return reject("'" + entry + "' has no '=': write UOM=FACTOR, e.g. case=12 (or case=12:GTIN)", "units");
        }
        UnitConversion unit;
        unit.uom = trimmed(std::string_view(entry).substr(0, equals));
        std::string rest = trimmed(std::string_view(entry).substr(equals + 1));
        const auto colon = rest.find(':');
        if (colon != std::string::npos) {
            unit.gtin = trimmed(std::string_view(rest).substr(colon + 1));
            rest = trimmed(std::string_view(rest).substr(0, colon));
        }
        const auto factor = parseWhole(rest);
        if (!factor) {
            return reject("unit '" + unit.uom + "': factor '" + rest + "' " + wholeNumberProblem(rest) +
                              " (how many base units one " + unit.uom + " holds)",
                          "units");
        }
        unit.factor = *factor;
        units.push_back(std::move(unit));
    }
    return units;
}

std::string formatComponents(const std::vector<KitComponent>& components) {
    std::string text;
    for (const auto& component : components) {
        if (!text.empty()) text += ";";
        text += component.sku + "=" + std::to_string(component.quantity);
    }
    return text;
}

Result<std::vector<KitComponent>> parseComponents(std::string_view text) {
    std::vector<KitComponent> components;
    for (const auto& entry : splitEntries(text)) {
        const auto equals = entry.rfind('=');
        if (equals == std::string::npos) {
            return reject("'" + entry + "' has no '=': write SKU=QUANTITY, e.g. SKU-1=2", "components");
        }
        KitComponent component;
        component.sku = trimmed(std::string_view(entry).substr(0, equals));
        const std::string quantity = trimmed(std::string_view(entry).substr(equals + 1));
        if (component.sku.empty()) return reject("'" + entry + "' has no SKU before '='", "components");
        const auto value = parseWhole(quantity);
        if (!value) {
            return reject("quantity of '" + component.sku + "', '" + quantity + "', " + wholeNumberProblem(quantity),
                          "components");
        }
        component.quantity = *value;
        components.push_back(std::move(component));
    }
    return components;
}

ImportReport CatalogCsv::importItems(db::Database& database, std::istream& in, const std::string& source,
                                     const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;

    // 1. Read every row: syntax and field types. The item rules run later, once absent columns are known.
    std::vector<ItemRow> parsed;
    std::set<std::string> present;
    readFile(in, source, kItemCsvColumns, {"sku", "name"}, options, report, present,
             [&](const csv::Row& row) { parsed.push_back(readItemRow(row, source, report.problems)); });

    // 2. In one unit of work: complete rows from the item master, check everything, and write only when nothing is
    // wrong, so a file is never half-imported. Everything starts afresh on a retried attempt.
    return database.run(
        [&](db::UnitOfWork& uow) {
            ImportReport result = report;
            std::vector<ItemRow> rows = parsed;

            std::set<std::string> sku_set;
            for (const auto& row : rows) {
                if (row.ok("sku")) sku_set.insert(row.item.sku);
            }
            std::map<std::string, Item> existing;  // sku -> item in the database
            db::forEachIn(uow, detail::kItemSelect + " WHERE sku IN ", "",
                          std::vector<std::string>(sku_set.begin(), sku_set.end()), [&](const db::Statement& s) {
                              Item item = detail::readItem(s);
                              existing.emplace(item.sku, std::move(item));
                          });
            {
                std::map<std::string, Item*> by_id;
                for (auto& entry : existing) by_id.emplace(entry.second.id, &entry.second);
                detail::loadUnitsAndComponents(uow, by_id);
            }

            // The item rules, on each row as it will be stored.
            for (auto& row : rows) {
                if (row.ok("sku")) {
                    const auto old = existing.find(row.item.sku);
                    if (old != existing.end()) keepAbsentColumns(row.item, old->second, present);
                }
                RowCheck(source, row.line, result.problems, row.bad).addAll(prepareItem(row.item));
            }

            // Across the rows of the file: each SKU once, each GTIN once, components that are not kits themselves.
            std::map<std::string, std::size_t> row_of_sku;  // sku -> index into rows
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (!rows[i].ok("sku")) continue;
                const auto [it, inserted] = row_of_sku.emplace(rows[i].item.sku, i);
                if (!inserted) {
                    result.problems.emplace_back(source, rows[i].line, "sku",
                                                 "'" + rows[i].item.sku + "' is also on line " +
                                                     std::to_string(rows[it->second].line) +
                                                     "; each SKU may appear once per file");
                }
            }
            std::map<std::string, GtinPlace> gtins;
            auto claimGtin = [&](const std::string& gtin, GtinPlace place) {
                const auto [it, inserted] = gtins.emplace(gtin, place);
                if (!inserted) {
                    result.problems.emplace_back(source, place.line, place.column,
                                                 "GTIN " + gtin + " of " + place.owner + " is also the GTIN of " +
                                                     it->second.owner + " on line " + std::to_string(it->second.line) +
                                                     "; each GTIN identifies one item or unit");
                }
            };
            std::set<std::string> outside_components;  // component SKUs the file does not define
            for (const auto& row : rows) {
                const Item& item = row.item;
                if (!row.ok("sku")) continue;
                if (row.ok("gtin") && item.gtin) {
                    claimGtin(*item.gtin, {row.line, "gtin", "item '" + item.sku + "'", item.sku});
                }
                if (row.ok("units")) {
                    for (const auto& unit : item.units) {
                        if (unit.gtin) {
                            claimGtin(*unit.gtin, {row.line, "units",
                                                   "unit '" + unit.uom + "' of item '" + item.sku + "'", item.sku});
                        }
                    }
                }
                if (!row.ok("components")) continue;
                for (const auto& component : item.components) {
                    const auto in_file = row_of_sku.find(component.sku);
                    if (in_file == row_of_sku.end()) {
                        outside_components.insert(component.sku);
                    } else if (rows[in_file->second].item.is_kit && component.sku != item.sku) {
                        result.problems.emplace_back(source, row.line, "components",
                                                     "'" + component.sku + "' is a kit (line " +
                                                         std::to_string(rows[in_file->second].line) +
                                                         "), and a kit cannot contain another kit; list its components "
                                                         "instead");
                    }
                }
            }

            // Components outside the file must be in the item master and not kits.
            std::map<std::string, std::pair<std::string, bool>> outside;  // sku -> (id, is_kit)
            db::forEachIn(uow, "SELECT sku, id, is_kit FROM item WHERE sku IN ", "",
                          std::vector<std::string>(outside_components.begin(), outside_components.end()),
                          [&](const db::Statement& s) {
                              outside[s.getString(0)] = {s.getString(1), s.getInt64(2) != 0};
                          });
            for (const auto& row : rows) {
                if (!row.ok("sku") || !row.ok("components")) continue;
                for (const auto& component : row.item.components) {
                    if (row_of_sku.count(component.sku) != 0) continue;
                    const auto found = outside.find(component.sku);
                    if (found == outside.end()) {
                        result.problems.emplace_back(source, row.line, "components",
                                                     "'" + component.sku +
                                                         "' is neither in this file nor in the item master; add it to "
                                                         "the file or import it first");
                    } else if (found->second.second) {
                        result.problems.emplace_back(source, row.line, "components",
                                                     "'" + component.sku +
                                                         "' is a kit in the item master, and a kit cannot contain "
                                                         "another kit; list its components instead");
                    }
                }
            }

            // An item that becomes a kit must not be a component of a kit the file leaves alone.
            std::vector<std::string> new_kit_ids;
            std::map<std::string, const ItemRow*> row_of_id;
            for (const auto& row : rows) {
                if (!row.ok("sku") || !row.item.is_kit) continue;
                const auto found = existing.find(row.item.sku);
                if (found == existing.end() || found->second.is_kit) continue;
                new_kit_ids.push_back(found->second.id);
                row_of_id[found->second.id] = &row;
            }
            db::forEachIn(uow,
                          "SELECT kc.component_item_id, k.sku FROM kit_component kc JOIN item k "
                          "ON k.id = kc.kit_item_id WHERE kc.component_item_id IN ",
                          "", new_kit_ids, [&](const db::Statement& s) {
                              const std::string kit = s.getString(1);
                              if (row_of_sku.count(kit) != 0) return;  // the file's version of that kit decides
                              const ItemRow& row = *row_of_id.at(s.getString(0));
                              result.problems.emplace_back(
                                  source, row.line, "components",
                                  "'" + row.item.sku + "' is a component of kit '" + kit +
                                      "' in the item master, and a kit cannot contain another kit; remove it from '" +
                                      kit + "' first");
                          });

            // GTINs must not belong to an item outside the file.
            std::vector<std::string> gtin_list;
            for (const auto& entry : gtins) gtin_list.push_back(entry.first);
            auto gtinTaken = [&](const std::string& gtin, const std::string& holder_sku, const std::string& holder) {
                if (row_of_sku.count(holder_sku) != 0) return;  // the file's version of that item decides
                const GtinPlace& place = gtins.at(gtin);
                result.problems.emplace_back(source, place.line, place.column,
                                             "GTIN " + gtin + " of " + place.owner + " is already the GTIN of " +
                                                 holder + " in the item master; each GTIN identifies one item or unit");
            };
            db::forEachIn(uow, "SELECT gtin, sku FROM item WHERE gtin IN ", "", gtin_list, [&](const db::Statement& s) {
                const std::string sku = s.getString(1);
                gtinTaken(s.getString(0), sku, "item '" + sku + "'");
            });
            db::forEachIn(uow,
                          "SELECT u.gtin, i.sku, u.uom FROM item_uom u JOIN item i ON i.id = u.item_id "
                          "WHERE u.gtin IN ",
                          "", gtin_list, [&](const db::Statement& s) {
                              const std::string sku = s.getString(1);
                              gtinTaken(s.getString(0), sku, "unit '" + s.getString(2) + "' of item '" + sku + "'");
                          });

            // What an item's stock means cannot change once it has stock.
            for (const auto& row : rows) {
                const auto found = existing.find(row.item.sku);
                if (found == existing.end()) continue;
                const auto change = detail::stockDefiningChange(found->second, row.item);
                if (change && detail::hasStockHistory(uow, found->second.id)) {
                    result.problems.emplace_back(source, row.line, change->first, change->second);
                }
            }

            sortProblems(result.problems, kItemCsvColumns);
            if (!result.ok()) return result;

            // 3. What changes.
            enum class Change { kCreate, kUpdate, kSame };
            std::vector<Change> changes(rows.size(), Change::kSame);
            std::map<std::string, std::string> id_of_sku;
            for (const auto& entry : outside) id_of_sku[entry.first] = entry.second.first;
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const Item& item = rows[i].item;
                const auto found = existing.find(item.sku);
                if (found == existing.end()) {
                    changes[i] = Change::kCreate;
                    ++result.created;
                } else if (sameFields(item, found->second) && sameUnits(item.units, found->second.units) &&
                           sameComponents(item.components, found->second.components)) {
                    ++result.unchanged;
                } else {
                    changes[i] = Change::kUpdate;
                    ++result.updated;
                }
                id_of_sku[item.sku] = found == existing.end() ? ids_.next() : found->second.id;
            }
            if (options.dry_run) return result;

            // 4. Writes. First free the GTINs and units that changing items give up, so a GTIN can move from one row
            // of the file to another whatever their order.
            const std::int64_t now = clock_.nowMicros();
            std::vector<bool> replace_units(rows.size(), false);
            std::vector<bool> replace_components(rows.size(), false);
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (changes[i] != Change::kUpdate) {
                    replace_units[i] = replace_components[i] = changes[i] == Change::kCreate;
                    continue;
                }
                const Item& item = rows[i].item;
                const Item& old = existing.at(item.sku);
                if (old.gtin && old.gtin != item.gtin) {
                    uow.statement("UPDATE item SET gtin = NULL WHERE id = ?").bind(old.id).execute();
                }
                if (!sameUnits(item.units, old.units)) {
                    replace_units[i] = true;
                    if (!old.units.empty())
                        uow.statement("DELETE FROM item_uom WHERE item_id = ?").bind(old.id).execute();
                }
                if (!sameComponents(item.components, old.components)) {
                    replace_components[i] = true;
                    if (!old.components.empty()) {
                        uow.statement("DELETE FROM kit_component WHERE kit_item_id = ?").bind(old.id).execute();
                    }
                }
            }

            // Then the items (new ones many rows per statement), and last their units and components, which refer
            // to items by id.
            const std::uint64_t total = result.created + result.updated;
            std::uint64_t done = 0;
            db::BatchInsert inserts(uow, "item", detail::kItemColumns, 32);
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (changes[i] == Change::kSame) continue;
                Item& item = rows[i].item;
                item.id = id_of_sku.at(item.sku);
                if (changes[i] == Change::kCreate) {
                    inserts.addRow(detail::itemRow(item, now, now));
                } else {
                    db::Statement& update = uow.statement(detail::kItemUpdate);
                    detail::bindItemUpdate(update, item, now);
                    update.execute();
                }
                if (options.on_write) options.on_write(++done, total);
            }
            inserts.flush();

            db::BatchInsert units(uow, "item_uom", {"item_id", "uom", "factor", "gtin"}, 128);
            db::BatchInsert components(uow, "kit_component", {"kit_item_id", "component_item_id", "quantity"}, 128);
            for (std::size_t i = 0; i < rows.size(); ++i) {
                const Item& item = rows[i].item;
                const std::string& id = id_of_sku.at(item.sku);
                if (replace_units[i]) {
                    for (const auto& unit : item.units) units.add(id, unit.uom, unit.factor, unit.gtin);
                }
                if (replace_components[i]) {
                    for (const auto& component : item.components) {
                        components.add(id, id_of_sku.at(component.sku), component.quantity);
                    }
                }
            }
            units.flush();
            components.flush();
            std::vector<events::Event> changed;
            for (std::size_t i = 0; i < rows.size(); ++i) {
                if (changes[i] == Change::kSame) continue;
                const Item& item = rows[i].item;
                changed.push_back(events::Event{changes[i] == Change::kCreate ? "item.created" : "item.updated", "item",
                                                id_of_sku.at(item.sku),
                                                events::Payload()
                                                    .add("sku", item.sku)
                                                    .add("name", item.name)
                                                    .add("status", std::string(toString(item.status)))
                                                    .add("source", source)
                                                    .str(),
                                                "catalog"});
            }
            events::Outbox(clock_, ids_).appendMany(uow, changed);
            return result;
        },
        importWrites());
}

ImportReport CatalogCsv::importLocations(db::Database& database, std::istream& in, const std::string& source,
                                         const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;
    std::vector<LocationRow> rows;
    std::set<std::string> present;
    readFile(in, source, kLocationCsvColumns, {"code", "name", "country"}, options, report, present,
             [&](const csv::Row& row) {
                 LocationRow result;
                 result.line = row.line();
                 Location& location = result.location;
                 std::set<std::string> bad;
                 RowCheck check(source, row.line(), report.problems, bad);
                 check.field([&] { location.code = row.text("code"); });
                 check.field([&] { location.name = row.text("name"); });
                 check.field([&] {
                     const auto text = row.optionalText("type");
                     if (!text) return;
                     const auto type = locationTypeFrom(*text);
                     if (!type) {
                         row.fail(
                             "type",
                             "'" + *text + "' is not a location type; use warehouse, store, 3pl, transit or virtual");
                     }
                     location.type = *type;
                 });
                 check.field([&] {
                     const auto priority = row.optionalInteger("priority");
                     if (!priority) return;
                     if (*priority < std::numeric_limits<int>::min() || *priority > std::numeric_limits<int>::max()) {
                         row.fail("priority", std::to_string(*priority) + " is out of range");
                     }
                     location.priority = static_cast<int>(*priority);
                 });
                 check.field([&] { location.country = row.text("country"); });
                 check.field([&] { location.region = row.optionalText("region").value_or(""); });
                 check.field([&] { location.ships_to_customers = row.boolean("ships_to_customers", true); });
                 check.field([&] { location.active = row.boolean("active", true); });
                 check.addAll(prepareLocation(location));
                 if (bad.count("code") == 0) rows.push_back(std::move(result));
             });

    std::map<std::string, std::size_t> line_of_code;
    for (const auto& row : rows) {
        const auto [it, inserted] = line_of_code.emplace(row.location.code, row.line);
        if (!inserted) {
            report.problems.emplace_back(source, row.line, "code",
                                         "'" + row.location.code + "' is also on line " + std::to_string(it->second) +
                                             "; each location code may appear once per file");
        }
    }
    sortProblems(report.problems, kLocationCsvColumns);
    if (!report.ok()) return report;

    const Catalog catalog(clock_, ids_);
    return database.run(
        [&](db::UnitOfWork& uow) {
            ImportReport result = report;
            std::map<std::string, Location> existing;
            for (auto& location : catalog.locations(uow)) existing.emplace(location.code, std::move(location));
            std::vector<Location> writes;
            for (const auto& row : rows) {
                Location location = row.location;
                const auto found = existing.find(location.code);
                if (found == existing.end()) {
                    ++result.created;
                } else {
                    keepAbsentColumns(location, found->second, present);
                    if (sameLocation(found->second, location)) {
                        ++result.unchanged;
                        continue;
                    }
                    ++result.updated;
                }
                writes.push_back(std::move(location));
            }
            if (options.dry_run) return result;
            std::uint64_t done = 0;
            for (const Location& location : writes) {
                catalog.saveLocation(uow, location);
                if (options.on_write) options.on_write(++done, writes.size());
            }
            return result;
        },
        importWrites());
}

ImportReport CatalogCsv::importAliases(db::Database& database, std::istream& in, const std::string& source,
                                       const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;
    std::vector<AliasRow> rows;
    std::set<std::string> present;
    readFile(in, source, kAliasCsvColumns, {"channel", "channel_sku", "sku"}, options, report, present,
             [&](const csv::Row& row) {
                 AliasRow alias;
                 alias.line = row.line();
                 std::set<std::string> bad;
                 RowCheck check(source, row.line(), report.problems, bad);
                 check.field([&] {
                     alias.channel = row.text("channel");
                     if (auto problem = channelProblem(alias.channel)) row.fail("channel", *problem);
                 });
                 check.field([&] {
                     alias.channel_sku = row.text("channel_sku");
                     if (auto problem = channelSkuProblem(alias.channel_sku)) row.fail("channel_sku", *problem);
                 });
                 check.field([&] {
                     alias.sku = row.text("sku");
                     if (auto problem = skuProblem(alias.sku)) row.fail("sku", *problem);
                 });
                 if (bad.empty()) rows.push_back(std::move(alias));
             });

    std::map<std::pair<std::string, std::string>, std::size_t> line_of_alias;
    for (const auto& row : rows) {
        const auto [it, inserted] = line_of_alias.emplace(std::make_pair(row.channel, row.channel_sku), row.line);
        if (!inserted) {
            report.problems.emplace_back(source, row.line, "channel_sku",
                                         "'" + row.channel_sku + "' of channel '" + row.channel + "' is also on line " +
                                             std::to_string(it->second) +
                                             "; each channel SKU may appear once per channel and file");
        }
    }

    return database.run(
        [&](db::UnitOfWork& uow) {
            ImportReport result = report;
            std::set<std::string> sku_set;
            std::set<std::string> channel_skus;
            for (const auto& row : rows) {
                sku_set.insert(row.sku);
                channel_skus.insert(row.channel_sku);
            }
            std::map<std::string, std::string> id_of_sku;
            db::forEachIn(uow, "SELECT sku, id FROM item WHERE sku IN ", "",
                          std::vector<std::string>(sku_set.begin(), sku_set.end()),
                          [&](const db::Statement& s) { id_of_sku[s.getString(0)] = s.getString(1); });
            std::map<std::pair<std::string, std::string>, std::string> existing;  // (channel, channel_sku) -> item id
            db::forEachIn(uow, "SELECT channel, channel_sku, item_id FROM item_alias WHERE channel_sku IN ", "",
                          std::vector<std::string>(channel_skus.begin(), channel_skus.end()),
                          [&](const db::Statement& s) {
                              existing[{s.getString(0), s.getString(1)}] = s.getString(2);
                          });
            std::vector<std::pair<const AliasRow*, std::string>> writes;
            for (const auto& row : rows) {
                const auto id = id_of_sku.find(row.sku);
                if (id == id_of_sku.end()) {
                    result.problems.emplace_back(source, row.line, "sku",
                                                 "'" + row.sku + "' is not in the item master; import the item first");
                    continue;
                }
                const auto found = existing.find({row.channel, row.channel_sku});
                if (found == existing.end()) {
                    ++result.created;
                } else if (found->second == id->second) {
                    ++result.unchanged;
                    continue;
                } else {
                    ++result.updated;
                }
                writes.emplace_back(&row, id->second);
            }
            sortProblems(result.problems, kAliasCsvColumns);
            if (!result.ok()) {
                result.created = result.updated = result.unchanged = 0;
                return result;
            }
            if (options.dry_run) return result;
            const std::string sql =
                uow.dialect().upsert("item_alias", {"channel", "channel_sku", "item_id", "created_at"},
                                     {"channel", "channel_sku"}, {"item_id"});
            const std::int64_t now = clock_.nowMicros();
            std::uint64_t done = 0;
            std::vector<events::Event> saved;
            for (const auto& [row, item_id] : writes) {
                uow.statement(sql).bindAll(row->channel, row->channel_sku, item_id, now).execute();
                saved.push_back(events::Event{
                    "item.alias_saved", "item", item_id,
                    events::Payload().add("channel", row->channel).add("channel_sku", row->channel_sku).str(),
                    "catalog"});
                if (options.on_write) options.on_write(++done, writes.size());
            }
            events::Outbox(clock_, ids_).appendMany(uow, saved);
            return result;
        },
        importWrites());
}

std::size_t CatalogCsv::exportItems(db::UnitOfWork& uow, std::ostream& out) const {
    std::vector<Item> items;
    db::Statement& select = uow.statement(detail::kItemSelect);
    select.execute();
    while (select.next()) items.push_back(detail::readItem(select));
    std::map<std::string, Item*> by_id;
    for (auto& item : items) by_id.emplace(item.id, &item);

    // Whole tables in one query each: an export reads everything anyway.
    db::Statement& units = uow.statement("SELECT item_id, uom, factor, gtin FROM item_uom");
    units.execute();
    while (units.next()) {
        by_id.at(units.getString(0))
            ->units.push_back({units.getString(1), units.getInt64(2), units.getOptionalString(3)});
    }
    db::Statement& components = uow.statement(
        "SELECT kc.kit_item_id, kc.component_item_id, i.sku, kc.quantity FROM kit_component kc "
        "JOIN item i ON i.id = kc.component_item_id");
    components.execute();
    while (components.next()) {
        by_id.at(components.getString(0))
            ->components.push_back({components.getString(1), components.getString(2), components.getInt64(3)});
    }

    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.sku < b.sku; });
    csv::Writer writer(out);
    writer.write(kItemCsvColumns);
    for (auto& item : items) {
        std::sort(item.units.begin(), item.units.end(), [](const UnitConversion& a, const UnitConversion& b) {
            return std::tie(a.factor, a.uom) < std::tie(b.factor, b.uom);
        });
        std::sort(item.components.begin(), item.components.end(),
                  [](const KitComponent& a, const KitComponent& b) { return a.sku < b.sku; });
        writer.write({item.sku, item.name, item.description, item.base_uom, item.gtin.value_or(""),
                      optionalNumber(item.weight_mg), optionalNumber(item.length_mm), optionalNumber(item.width_mm),
                      optionalNumber(item.height_mm), yesNo(item.lot_tracked), yesNo(item.expiry_tracked),
                      item.shelf_life_days ? std::to_string(*item.shelf_life_days) : std::string(), item.tax_class,
                      std::string(toString(item.cost_method)), std::string(toString(item.status)),
                      std::to_string(item.safety_stock), formatUnits(item.units), formatComponents(item.components)});
    }
    return items.size();
}

std::size_t CatalogCsv::exportLocations(db::UnitOfWork& uow, std::ostream& out) const {
    auto locations = Catalog(clock_, ids_).locations(uow);
    std::sort(locations.begin(), locations.end(), [](const Location& a, const Location& b) { return a.code < b.code; });
    csv::Writer writer(out);
    writer.write(kLocationCsvColumns);
    for (const auto& location : locations) {
        writer.write({location.code, location.name, std::string(toString(location.type)),
                      std::to_string(location.priority), location.country, location.region,
                      yesNo(location.ships_to_customers), yesNo(location.active)});
    }
    return locations.size();
}

}  // namespace keel::catalog
