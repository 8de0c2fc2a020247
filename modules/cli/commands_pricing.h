#pragma once
// Registration hook of the pricing and customer commands (commands_pricing.cpp): keel price import,
// price contract-import, price show, customer import, customer show.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addPricingCommands(std::vector<Command>& table);

}  // namespace keel::cli
