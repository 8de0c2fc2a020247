#pragma once
// What the order lifecycle tells finance, inside the unit of work of the change: goods shipped or delivered (the
// customer invoice) and a refund owed for a return (the credit note). core/ledger implements it; without it
// (tests of the lifecycle alone) nothing is invoiced.

#include "keel/orders/orders.h"
#include "keel/orders/returns.h"

#include <optional>
#include <string>

namespace keel::orders {

class Billing {
public:
    virtual ~Billing() = default;
    /// A shipment was confirmed shipped (its stock moves are written).
    virtual std::optional<Problem> shipped(db::UnitOfWork& uow, const Order& order, const Shipment& shipment,
                                           const Actor& actor) = 0;
    /// A shipment was delivered.
    virtual std::optional<Problem> delivered(db::UnitOfWork& uow, const Order& order, const Shipment& shipment,
                                             const Actor& actor) = 0;
    /// Whether every shipped unit of the order is invoiced (the order may then become invoiced).
    virtual bool invoicedInFull(db::UnitOfWork& uow, const Order& order) = 0;
    /// A return closed with a refund due.
    virtual std::optional<Problem> refunded(db::UnitOfWork& uow, const Order& order, const std::string& return_id,
                                            const RefundBreakdown& refund, const Actor& actor) = 0;
};

}  // namespace keel::orders
