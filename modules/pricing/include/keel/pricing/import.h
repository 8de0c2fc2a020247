#pragma once
// CSV imports of price lists, contract prices and customers: `keel price import`, `keel price contract-import`,
// `keel customer import`.
//
// All or nothing, like the catalog imports: the whole file is read and checked first, every problem reported with
// its line, column and reason (a duplicate names both lines), and only a file without problems is written, in one
// unit of work. Amounts are decimal strings parsed exactly in the currency they are in: more decimal places than
// the currency has is a problem, never a rounding. Dates are YYYY-MM-DD; both ends of a validity are included.
//
// Price list file. Required: price_list, sku, unit_price. Optional: min_quantity (1), valid_from, valid_to (open),
// currency (required for a list that does not exist yet; a list's currency never changes). A price is identified
// by (price_list, sku, min_quantity, valid_from): importing it again replaces its unit_price and valid_to.
//
// Contract file. Required: customer, sku, unit_price, currency. Optional: min_quantity (1), valid_from, valid_to.
// A contract price is identified by (customer, sku, currency, min_quantity, valid_from).
//
// Customer file. Required: code, name. Optional: email (""), kind (b2c | b2b; b2c), credit_limit (none; a decimal
// string in the customer's currency), currency (the importer's default), price_list ("" = the default list; else
// an existing list). Rows update by code; a column the file does not have leaves that field of existing customers
// as it is, an empty cell means the default.

#include "keel/catalog/import.h"
#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace keel::pricing {

/// The same report and hooks as the catalog imports, so every import of Keel reads and reports alike.
using ImportOptions = catalog::ImportOptions;
using ImportReport = catalog::ImportReport;

/// Columns of the files, in the order the documentation lists them.
const std::vector<std::string>& priceCsvColumns();
const std::vector<std::string>& contractCsvColumns();
const std::vector<std::string>& customerCsvColumns();

/// Imports pricing and customer CSV files. Stateless apart from its clock and id generator.
class PricingCsv {
public:
    explicit PricingCsv(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    /// Price list entries; lists named for the first time are created (name = code) in the row's currency.
    /// `source` names the input in problems. Throws only for infrastructure failures, and ConflictError when
    /// another import wrote the same prices at the same moment (nothing of this file is then written).
    ImportReport importPrices(db::Database& database, std::istream& in, const std::string& source,
                              const ImportOptions& options = {}) const;
    /// Contract prices of customers that already exist.
    ImportReport importContracts(db::Database& database, std::istream& in, const std::string& source,
                                 const ImportOptions& options = {}) const;
    /// Customers; `default_currency` for rows without one (configuration ledger.currency).
    ImportReport importCustomers(db::Database& database, std::istream& in, const std::string& source,
                                 const Currency& default_currency, const ImportOptions& options = {}) const;

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::pricing
