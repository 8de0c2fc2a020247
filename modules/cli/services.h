#pragma once
// The domain services a `keel` command works with, built once per command from the configuration.

#include "keel/app/services.h"
#include "keel/cli/cli.h"

#include <memory>

namespace keel::cli {

/// The services of this command (created on first use).
Services& services(Context& context);

/// The person or script acting: $USER, for transition records and events.
orders::Actor actor();

/// After stock arrived (receipt, transfer receipt, restock): allocate waiting backorders of these items and say
/// how many orders received stock.
void fillBackorders(Context& context, const std::vector<std::string>& item_ids);

}  // namespace keel::cli
