#pragma once
// CSV exchange of the item master: `keel item import/export`, `keel location import`, `keel alias import`.
//
// Every import is all-or-nothing. The whole file is read and checked first — every bad row is reported with
// its line, column and reason, duplicates within the file name both lines, kit components must be in the file
// or the item master — and only when nothing is wrong are all rows written in one unit of work. So a file is
// either imported completely or not at all, and can be fixed and imported again. Re-importing an unchanged
// row changes nothing (counted as unchanged).
//
// Rows update existing items and locations: a column the file does not have leaves that field as it is (a file
// of sku,name,gtin changes names and GTINs only; new items get the defaults), an empty cell in a column the file
// has means the default or none, and units or components given for an item replace its old ones.

#include "keel/catalog/catalog.h"
#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/csv.h"
#include "keel/kernel/id.h"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace keel::catalog {

/// Item CSV columns in the order `keel item export` writes them. Required: sku, name. Optional, with defaults:
/// description (""), base_uom ("each"), gtin (none; 8/12/13/14 digits, stored as GTIN-14), weight_mg,
/// length_mm, width_mm, height_mm (none; whole numbers >= 0), lot_tracked, expiry_tracked (false),
/// shelf_life_days (none), tax_class ("standard"), cost_method ("moving_average" | "fifo"), status ("active" |
/// "discontinued"), safety_stock (0), units ("case=12;pallet=480", a unit's own GTIN as "case=12:GTIN"),
/// components ("SKU-1=2;SKU-2=1"; a row with components is a kit).
const std::vector<std::string>& itemCsvColumns();
/// Location CSV columns. Required: code, name, country. Optional: type ("warehouse"), priority (100), region
/// (""), ships_to_customers (true), active (true).
const std::vector<std::string>& locationCsvColumns();
/// Alias CSV columns, all required: channel, channel_sku, sku.
const std::vector<std::string>& aliasCsvColumns();

/// "case=12:00012345678905;pallet=480" and back (Problem field "units").
std::string formatUnits(const std::vector<UnitConversion>& units);
Result<std::vector<UnitConversion>> parseUnits(std::string_view text);
/// "SKU-1=2;SKU-2=1" and back (Problem field "components"); the SKU is everything before the last '='.
std::string formatComponents(const std::vector<KitComponent>& components);
Result<std::vector<KitComponent>> parseComponents(std::string_view text);

/// Hooks for showing progress of long imports; both may be empty.
struct ImportOptions {
    bool dry_run = false;  ///< check everything, write nothing
    /// While reading: data rows read so far and bytes of the input consumed.
    std::function<void(std::uint64_t rows, std::uint64_t bytes)> on_read;
    /// While writing: rows written so far of `total`.
    std::function<void(std::uint64_t done, std::uint64_t total)> on_write;
};

/// What an import did, or why it did nothing.
struct ImportReport {
    std::string source;
    std::size_t rows = 0;  ///< data rows read (the header not counted)
    std::size_t created = 0;
    std::size_t updated = 0;
    std::size_t unchanged = 0;
    bool dry_run = false;
    /// Every problem found, in line order ("items.csv:14: column 'gtin': check digit is 3, expected 7").
    /// Not empty: nothing was written.
    std::vector<csv::ParseError> problems;
    bool ok() const { return problems.empty(); }
};

/// Imports and exports catalog CSV files. Stateless apart from the clock and id generator it was given.
class CatalogCsv {
public:
    explicit CatalogCsv(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    /// Imports items (upsert by SKU: units and components of a row replace the item's). `source` names the
    /// input in problems (the file name). Structural problems of the file (invalid UTF-8, broken quoting)
    /// stop reading at that line; every other problem is collected. Throws only for infrastructure failures.
    ImportReport importItems(db::Database& database, std::istream& in, const std::string& source,
                             const ImportOptions& options = {}) const;
    /// Imports locations (upsert by code).
    ImportReport importLocations(db::Database& database, std::istream& in, const std::string& source,
                                 const ImportOptions& options = {}) const;
    /// Imports channel aliases (upsert by channel and channel_sku); `sku` must be in the item master.
    ImportReport importAliases(db::Database& database, std::istream& in, const std::string& source,
                               const ImportOptions& options = {}) const;

    /// Writes every item, ordered by SKU, in the columns of itemCsvColumns(); importing the output into an
    /// empty database and exporting again gives the same bytes. Returns the number of items.
    std::size_t exportItems(db::UnitOfWork& uow, std::ostream& out) const;
    /// Writes every location, ordered by code, in the columns of locationCsvColumns().
    std::size_t exportLocations(db::UnitOfWork& uow, std::ostream& out) const;

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::catalog
