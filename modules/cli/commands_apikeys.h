#pragma once
// Registration hook of the API key commands (commands_apikeys.cpp): keel apikey create, list, revoke.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addApiKeyCommands(std::vector<Command>& table);

}  // namespace keel::cli
