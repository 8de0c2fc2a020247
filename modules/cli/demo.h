#pragma once
// `keel demo` (issue #8): from an empty database, the sample files of config/demo (demo.directory) go through Keel
// as a business would use it: a catalog of a few hundred SKUs with channel aliases, three warehouses, opening stock
// with lots and expiry; orders from a marketplace JSON file and an EDI 850 (the edi-x12 plugin, EdiExchange) through
// the same intake; allocation with a split shipment and a backorder, shipments, the backorder filled by a receipt,
// a return; then stock verify, ledger verify, the trial balance and the audit chain. Without --once it then serves
// what keeld serves (REST API, dashboard, health) until SIGINT or SIGTERM. Nothing is loaded twice on a re-run.

#include "keel/cli/cli.h"

#include <string>
#include <vector>

namespace keel::cli {

/// Runs the walkthrough on the migrated database, prints `versions` (a line about keel, schema and driver) and an
/// admin API key, then serves unless `once`. Returns the exit code.
int runDemo(Context& context, bool once, const std::string& versions);

}  // namespace keel::cli
