#pragma once
// Where an order's lines ship from. A strategy turns what is available where into an allocation plan; the
// default one ships from one location when one can ship everything (the best by priority, then nearness to the
// ship-to address), otherwise from as few locations as possible, and never splits a ship-complete order.
// Pure logic: no database, so every rule is tested directly.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace keel::orders {

struct RoutingLocation {
    std::string id;
    std::string code;
    int priority = 100;  ///< lower is preferred
    std::string country;
    std::string region;
};

struct RoutingLine {
    int line_no = 0;
    std::string item_id;
    std::int64_t quantity = 0;  ///< still to allocate, base units
};

struct RoutingRequest {
    std::vector<RoutingLine> lines;
    std::vector<RoutingLocation> locations;  ///< candidates: active and shipping to customers
    /// What can be reserved of an item at a location: (location id, item id) -> quantity; absent means 0.
    std::map<std::pair<std::string, std::string>, std::int64_t> available;
    std::string ship_country;
    std::string ship_region;
    bool ship_complete = false;
};

struct PlannedAllocation {
    int line_no = 0;
    std::string item_id;
    std::string location_id;
    std::int64_t quantity = 0;
};

struct RoutingPlan {
    std::vector<PlannedAllocation> allocations;
    std::map<int, std::int64_t> unallocated;  ///< line -> quantity nobody can ship now
    int locations_used = 0;
    /// Ship-complete and no single location has everything: nothing is planned.
    bool held_for_ship_complete = false;
};

class RoutingStrategy {
public:
    virtual ~RoutingStrategy() = default;
    virtual RoutingPlan route(const RoutingRequest& request) const = 0;
};

class DefaultRouting final : public RoutingStrategy {
public:
    RoutingPlan route(const RoutingRequest& request) const override;
};

}  // namespace keel::orders
