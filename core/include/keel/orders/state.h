#pragma once
// The order state machine: every allowed transition is listed in one table (state.cpp), and anything else is
// refused with the two states named. Shipments have their own, smaller machine.

#include "keel/kernel/error.h"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace keel::orders {

enum class OrderState {
    kReceived,            ///< stored, not yet validated
    kValidated,           ///< valid and priced, waiting for allocation
    kOnHold,              ///< a hold reason stops it (data, payment, fraud, credit, ship-complete, stock)
    kAllocated,           ///< every open line is reserved
    kPartiallyAllocated,  ///< some reserved, the rest backordered
    kBackordered,         ///< nothing reserved yet, waiting for stock
    kReleased,            ///< shipments handed to fulfillment
    kPicking,
    kPacked,
    kPartiallyShipped,
    kShipped,
    kDelivered,
    kInvoiced,
    kClosed,
    kCancelled,
    kRejected,            ///< an operator refused a held order
};

std::string_view toString(OrderState state);
std::optional<OrderState> orderStateFrom(std::string_view text);

/// Whether `from -> to` is in the transition table.
bool canTransition(OrderState from, OrderState to);
/// Every allowed transition (for documentation and tests).
const std::vector<std::pair<OrderState, OrderState>>& transitions();
/// A Problem (kConflict) naming both states when the transition is not allowed; nullopt when it is.
std::optional<Problem> checkTransition(OrderState from, OrderState to);

/// States in which nothing has left a warehouse yet, so the order (or a line) can still be cancelled.
bool isCancellable(OrderState state);
/// States from which allocation may run (again).
bool isAllocatable(OrderState state);

enum class ShipmentState { kReleased, kPicking, kPacked, kShipped, kDelivered, kCancelled };
std::string_view toString(ShipmentState state);
std::optional<ShipmentState> shipmentStateFrom(std::string_view text);
bool canTransition(ShipmentState from, ShipmentState to);

}  // namespace keel::orders
