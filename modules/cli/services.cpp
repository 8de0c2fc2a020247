#include "services.h"

#include <Poco/Environment.h>

#include <ostream>

namespace keel::cli {

Services& services(Context& context) {
    auto& slot = context.servicesSlot();
    if (!slot) {
        slot = std::make_shared<Services>(context.config());
        if (slot->plugins) slot->attachDatabase(context.database());
    }
    return *slot;
}

orders::Actor actor() { return orders::Actor{Poco::Environment::get("USER", "cli")}; }

void fillBackorders(Context& context, const std::vector<std::string>& item_ids) {
    const auto filled = services(context).orders.fillBackorders(context.database(), item_ids, actor());
    if (!filled.empty() && !context.json()) {
        context.out() << "backorders filled: " << filled.size() << " order(s) received stock\n";
    }
}

}  // namespace keel::cli
