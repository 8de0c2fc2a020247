#pragma once
// Registration hook of the ledger commands (commands_ledger.cpp): keel ledger init, accounts, rules, post, entry,
// reverse, period, rate, trial-balance, detail, pnl, aging, verify and export.

#include "keel/cli/cli.h"

#include <vector>

namespace keel::cli {

void addLedgerCommands(std::vector<Command>& table);

}  // namespace keel::cli
