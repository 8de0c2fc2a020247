#pragma once
// `keel demo`: a small catalog, receipts, an allocation and a cart hold with their available-to-promise; then
// orders through their lifecycle (import, a payment hold, a re-send, allocation with a backorder, a shipment
// picked, packed, shipped, delivered and invoiced) and the exception queue; then `stock verify`, `ledger verify` and
// the trial balance. Loads its data once per
// database.

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/orders/orders.h"

#include <iosfwd>

namespace keel::cli {

void inventoryDemo(app::Services& services, db::Database& database, std::ostream& out);
void ordersDemo(orders::Orders& service, db::Database& database, std::ostream& out);
/// `stock verify`, `ledger verify`, the trial balance and the number of events written, after the other parts.
void verifyDemo(app::Services& services, db::Database& database, std::ostream& out);

}  // namespace keel::cli
