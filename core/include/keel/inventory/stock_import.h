#pragma once
// Go-live stock levels from CSV (`keel stock import`): opening balances received into the ledger.
//
// Columns: sku, location, quantity (required); lot, expiry (YYYY-MM-DD), unit_cost, currency (optional).
// All or nothing: every row is validated first and every bad row reported (line, column, reason); only a
// file without problems is written, in one unit of work, so a failed import leaves nothing behind.

#include "keel/db/database.h"
#include "keel/inventory/inventory.h"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace keel::inventory {

struct StockImportResult {
    std::int64_t rows = 0;
    std::int64_t quantity = 0;           ///< base units received in total
    std::vector<std::string> problems;   ///< "stock.csv:12: column 'sku': unknown item 'X'"; nothing written if any
    bool ok() const { return problems.empty(); }
};

/// Progress callback: rows read so far, bytes consumed.
using ImportProgress = std::function<void(std::uint64_t rows, std::uint64_t bytes)>;

StockImportResult importStockLevels(db::Database& database, Inventory& inventory, std::istream& in,
                                    const std::string& source_name, const Source& source,
                                    const std::string& default_currency = "USD",
                                    const ImportProgress& progress = {});

}  // namespace keel::inventory
