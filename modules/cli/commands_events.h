#pragma once
// Registration hook of the event commands (commands_events.cpp): keel events list, subscribers, dead-letters,
// dispatch, replay, and keel audit verify.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addEventCommands(std::vector<Command>& table);

}  // namespace keel::cli
