#pragma once
// What the CSV import commands (items, locations, aliases, prices, contracts, customers) share: opening the
// file, checking the schema, progress on stderr, and the report - every problem with its line and column, or
// what was created, updated and left unchanged.

#include "keel/catalog/import.h"
#include "keel/cli/cli.h"

#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace keel::cli {

/// Opens a file to import, or throws RejectedError saying why it cannot be read.
std::ifstream openInput(const std::string& path);

/// Throws InfrastructureError ("run `keel db migrate` first") unless the database has the migration named
/// `migration`; `needs` says who needs it in the message ("the item master needs").
void requireMigration(db::Database& database, const std::string& migration, const std::string& needs);

using CsvImport = std::function<catalog::ImportReport(db::Database&, std::istream&, const std::string&,
                                                      const catalog::ImportOptions&)>;

/// The body of `keel COMMAND FILE.csv [--dry-run]`: returns the exit code (0, or 2 with every problem).
int runCsvImport(Context& context, const std::vector<std::string>& raw, const std::string& command,
                 const CsvImport& import, const std::string& noun, const std::string& migration,
                 const std::string& needs);

}  // namespace keel::cli
