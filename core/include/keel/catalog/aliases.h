#pragma once
// Reading channel SKU aliases back (Catalog::saveAlias writes them): what each sales channel calls an item.

#include "keel/db/database.h"

#include <string>
#include <string_view>
#include <vector>

namespace keel::catalog {

/// One alias: `channel_sku` is what `channel` calls the item `item_id`.
struct ChannelAlias {
    std::string channel;
    std::string channel_sku;
    std::string item_id;
};

/// The aliases of one item, ordered by channel, then channel SKU (byte order).
std::vector<ChannelAlias> aliasesOfItem(db::UnitOfWork& uow, std::string_view item_id);

}  // namespace keel::catalog
