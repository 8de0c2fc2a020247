#pragma once
// Registration hook of the return (RMA) commands (commands_returns.cpp): keel return create, receive, inspect,
// close, cancel, show and list.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addReturnCommands(std::vector<Command>& table);

}  // namespace keel::cli
