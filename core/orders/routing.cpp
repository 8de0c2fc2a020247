#include "keel/orders/routing.h"

#include <algorithm>
#include <tuple>

namespace keel::orders {

namespace {

// Lower is better: priority, then the same country and region as the customer, the same country, then code.
std::tuple<int, int, std::string> rank(const RoutingLocation& location, const RoutingRequest& request) {
    int nearness = 2;
    if (!request.ship_country.empty() && location.country == request.ship_country) {
        nearness = (!request.ship_region.empty() && location.region == request.ship_region) ? 0 : 1;
    }
    return {location.priority, nearness, location.code};
}

std::int64_t availableAt(const RoutingRequest& request, const std::string& location, const std::string& item,
                         const std::map<std::pair<std::string, std::string>, std::int64_t>& taken) {
    const auto key = std::pair{location, item};
    const auto it = request.available.find(key);
    std::int64_t free = it == request.available.end() ? 0 : it->second;
    if (const auto t = taken.find(key); t != taken.end()) free -= t->second;
    return std::max<std::int64_t>(free, 0);
}

}  // namespace

RoutingPlan DefaultRouting::route(const RoutingRequest& request) const {
    RoutingPlan plan;
    std::vector<const RoutingLocation*> ordered;
    for (const auto& location : request.locations) ordered.push_back(&location);
    std::sort(ordered.begin(), ordered.end(), [&](const RoutingLocation* a, const RoutingLocation* b) {
        return rank(*a, request) < rank(*b, request);
    });

    std::vector<RoutingLine> open;
    for (const auto& line : request.lines) {
        if (line.quantity > 0) open.push_back(line);
    }
    if (open.empty()) return plan;
    // Several lines of the same item draw on the same stock: what is planned is remembered per location and item.
    std::map<std::pair<std::string, std::string>, std::int64_t> taken;

    // One location for everything, when there is one.
    for (const RoutingLocation* location : ordered) {
        std::map<std::string, std::int64_t> need;
        for (const auto& line : open) need[line.item_id] += line.quantity;
        const bool covers = std::all_of(need.begin(), need.end(), [&](const auto& entry) {
            return availableAt(request, location->id, entry.first, taken) >= entry.second;
        });
        if (!covers) continue;
        for (const auto& line : open) plan.allocations.push_back({line.line_no, line.item_id, location->id, line.quantity});
        plan.locations_used = 1;
        return plan;
    }
    if (request.ship_complete) {
        plan.held_for_ship_complete = true;
        for (const auto& line : open) plan.unallocated[line.line_no] += line.quantity;
        return plan;
    }

    // Fewest locations: repeatedly take the location that completes the most lines, then splits the fewest
    // (so a line ships from one place when it can), then supplies the most units.
    while (true) {
        const RoutingLocation* best = nullptr;
        std::tuple<std::size_t, long, std::int64_t> best_score{0, 0, 0};
        for (const RoutingLocation* location : ordered) {
            std::size_t complete = 0;
            long partial = 0;
            std::int64_t units = 0;
            std::map<std::string, std::int64_t> drawn;
            for (const auto& line : open) {
                if (line.quantity <= 0) continue;
                const std::int64_t free = availableAt(request, location->id, line.item_id, taken) - drawn[line.item_id];
                const std::int64_t take = std::min(std::max<std::int64_t>(free, 0), line.quantity);
                drawn[line.item_id] += take;
                units += take;
                if (take == line.quantity) {
                    ++complete;
                } else if (take > 0) {
                    ++partial;
                }
            }
            const std::tuple<std::size_t, long, std::int64_t> score{complete, -partial, units};
            if (units > 0 && (best == nullptr || score > best_score)) {  // ties keep the better-ranked location
                best = location;
                best_score = score;
            }
        }
        if (best == nullptr) break;
        ++plan.locations_used;
        for (auto& line : open) {
            if (line.quantity <= 0) continue;
            const std::int64_t take = std::min(availableAt(request, best->id, line.item_id, taken), line.quantity);
            if (take <= 0) continue;
            plan.allocations.push_back({line.line_no, line.item_id, best->id, take});
            taken[{best->id, line.item_id}] += take;
            line.quantity -= take;
        }
    }
    for (const auto& line : open) {
        if (line.quantity > 0) plan.unallocated[line.line_no] += line.quantity;
    }
    return plan;
}

}  // namespace keel::orders
