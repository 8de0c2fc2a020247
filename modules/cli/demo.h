#pragma once
// `keel demo`: a small catalog, receipts, an allocation and a cart hold with their available-to-promise; then
// orders through their lifecycle (import, a payment hold, a re-send, allocation with a backorder, a shipment
// picked, packed, shipped, delivered and invoiced) and the exception queue; then `stock verify`, `ledger verify` and
// the trial balance, the audit chain of the events and which tax engine quoted the orders. Loads its data once per
// database.

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/orders/orders.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <iosfwd>

namespace keel::cli {

void inventoryDemo(app::Services& services, db::Database& database, std::ostream& out);
void ordersDemo(orders::Orders& service, db::Database& database, std::ostream& out);
/// Which tax engine priced the orders: a plugin instance (tax.plugin, through the SDK) or the rate table.
void taxDemo(app::Services& services, const Poco::Util::AbstractConfiguration& config, std::ostream& out);
/// `stock verify`, `ledger verify`, the trial balance and the audit chain of the events, after the other parts.
void verifyDemo(app::Services& services, db::Database& database, std::ostream& out);

}  // namespace keel::cli
