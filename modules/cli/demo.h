#pragma once
// The inventory part of `keel demo`: a small catalog, receipts, an order allocation and a cart hold, then
// available-to-promise and `stock verify` on them. Loads its data once per database.

#include "keel/db/database.h"

#include <iosfwd>

namespace keel::cli {

void inventoryDemo(db::Database& database, std::ostream& out);

}  // namespace keel::cli
