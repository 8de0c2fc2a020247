#include "keel/orders/state.h"

#include <algorithm>
#include <array>
#include <string>

namespace keel::orders {

namespace {

using S = OrderState;

constexpr std::array<std::pair<OrderState, std::string_view>, 16> kNames = {{
    {S::kReceived, "received"},
    {S::kValidated, "validated"},
    {S::kOnHold, "on_hold"},
    {S::kAllocated, "allocated"},
    {S::kPartiallyAllocated, "partially_allocated"},
    {S::kBackordered, "backordered"},
    {S::kReleased, "released"},
    {S::kPicking, "picking"},
    {S::kPacked, "packed"},
    {S::kPartiallyShipped, "partially_shipped"},
    {S::kShipped, "shipped"},
    {S::kDelivered, "delivered"},
    {S::kInvoiced, "invoiced"},
    {S::kClosed, "closed"},
    {S::kCancelled, "cancelled"},
    {S::kRejected, "rejected"},
}};

}  // namespace

std::string_view toString(OrderState state) {
    for (const auto& [s, name] : kNames) {
        if (s == state) return name;
    }
    return "unknown";
}

std::optional<OrderState> orderStateFrom(std::string_view text) {
    for (const auto& [s, name] : kNames) {
        if (name == text) return s;
    }
    return std::nullopt;
}

const std::vector<std::pair<OrderState, OrderState>>& transitions() {
    // The whole lifecycle, in one place. Allocation states move among themselves as stock is found or
    // released; everything before the first shipment can be cancelled; a hold can be taken before release.
    static const std::vector<std::pair<OrderState, OrderState>> table = {
        {S::kReceived, S::kValidated},
        {S::kReceived, S::kOnHold},
        {S::kReceived, S::kCancelled},

        {S::kValidated, S::kAllocated},
        {S::kValidated, S::kPartiallyAllocated},
        {S::kValidated, S::kBackordered},
        {S::kValidated, S::kOnHold},
        {S::kValidated, S::kCancelled},

        {S::kOnHold, S::kValidated},
        {S::kOnHold, S::kRejected},
        {S::kOnHold, S::kCancelled},

        {S::kBackordered, S::kAllocated},
        {S::kBackordered, S::kPartiallyAllocated},
        {S::kBackordered, S::kOnHold},
        {S::kBackordered, S::kCancelled},

        {S::kPartiallyAllocated, S::kAllocated},
        {S::kPartiallyAllocated, S::kBackordered},
        {S::kPartiallyAllocated, S::kReleased},
        {S::kPartiallyAllocated, S::kOnHold},
        {S::kPartiallyAllocated, S::kCancelled},

        {S::kAllocated, S::kPartiallyAllocated},
        {S::kAllocated, S::kBackordered},
        {S::kAllocated, S::kReleased},
        {S::kAllocated, S::kOnHold},
        {S::kAllocated, S::kCancelled},

        {S::kReleased, S::kPicking},
        {S::kReleased, S::kPartiallyShipped},
        {S::kReleased, S::kShipped},
        {S::kReleased, S::kCancelled},
        {S::kReleased, S::kPartiallyAllocated},

        {S::kPicking, S::kPacked},
        {S::kPicking, S::kPartiallyShipped},
        {S::kPicking, S::kShipped},
        {S::kPicking, S::kCancelled},

        {S::kPacked, S::kPartiallyShipped},
        {S::kPacked, S::kShipped},
        {S::kPacked, S::kCancelled},

        {S::kPartiallyShipped, S::kPartiallyShipped},
        {S::kPartiallyShipped, S::kShipped},
        {S::kPartiallyShipped, S::kDelivered},

        {S::kShipped, S::kDelivered},
        {S::kShipped, S::kInvoiced},
        {S::kDelivered, S::kInvoiced},
        {S::kInvoiced, S::kClosed},
    };
    return table;
}

bool canTransition(OrderState from, OrderState to) {
    const auto& table = transitions();
    return std::find(table.begin(), table.end(), std::pair{from, to}) != table.end();
}

std::optional<Problem> checkTransition(OrderState from, OrderState to) {
    if (canTransition(from, to)) return std::nullopt;
    return Problem{ExitCode::kConflict,
                   "an order that is " + std::string(toString(from)) + " cannot become " + std::string(toString(to)),
                   "state"};
}

bool isCancellable(OrderState state) {
    return canTransition(state, S::kCancelled);
}

bool isAllocatable(OrderState state) {
    return state == S::kValidated || state == S::kBackordered || state == S::kPartiallyAllocated;
}

// ------------------------------------------------------------------------------------------------ shipments

std::string_view toString(ShipmentState state) {
    switch (state) {
        case ShipmentState::kReleased: return "released";
        case ShipmentState::kPicking: return "picking";
        case ShipmentState::kPacked: return "packed";
        case ShipmentState::kShipped: return "shipped";
        case ShipmentState::kDelivered: return "delivered";
        case ShipmentState::kCancelled: return "cancelled";
    }
    return "unknown";
}

std::optional<ShipmentState> shipmentStateFrom(std::string_view text) {
    for (ShipmentState s : {ShipmentState::kReleased, ShipmentState::kPicking, ShipmentState::kPacked,
                            ShipmentState::kShipped, ShipmentState::kDelivered, ShipmentState::kCancelled}) {
        if (toString(s) == text) return s;
    }
    return std::nullopt;
}

bool canTransition(ShipmentState from, ShipmentState to) {
    using T = ShipmentState;
    switch (from) {
        case T::kReleased: return to == T::kPicking || to == T::kPacked || to == T::kShipped || to == T::kCancelled;
        case T::kPicking: return to == T::kPacked || to == T::kShipped || to == T::kCancelled;
        case T::kPacked: return to == T::kShipped || to == T::kCancelled;
        case T::kShipped: return to == T::kDelivered;
        case T::kDelivered:
        case T::kCancelled: return false;
    }
    return false;
}

}  // namespace keel::orders
