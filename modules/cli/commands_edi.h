#pragma once
// Registration hook of the EDI commands (commands_edi.cpp): keel edi parse, edi validate.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addEdiCommands(std::vector<Command>& table);

}  // namespace keel::cli
