#pragma once
// The customer master lives in core/orders (order intake needs it); pricing keeps these names for its imports.

#include "keel/orders/customers.h"

namespace keel::pricing {

using orders::Customer;
using orders::Customers;

}  // namespace keel::pricing
