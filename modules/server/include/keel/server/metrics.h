#pragma once
// keeld's /metrics in the Prometheus text format: request counts and a latency histogram per route, kept in
// memory, and the business gauges (orders by state, exception queue, outbox lag per subscriber, plugin breakers)
// read from the database and the plugin host when scraped.

#include "keel/db/commit_group.h"
#include "keel/db/database.h"
#include "keel/orders/orders.h"
#include "keel/plugin_host/plugin_host.h"

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace keel::server {

class Metrics {
public:
    /// Upper bounds of the latency buckets, in seconds (+Inf is implied).
    static constexpr std::array<double, 10> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

    /// Records one request: `route` is the pattern ("GET /api/v1/orders/{id}"), or "unmatched".
    void observe(const std::string& route, int status, std::int64_t micros);

    /// The whole exposition text. The database gauges are left out (with keel_metrics_database_up 0) when the
    /// database does not answer; `plugins` may be null (not loaded).
    std::string render(db::Database& database, orders::Orders& orders, const plugin_host::PluginHost* plugins) const;

    /// Adds a CommitGroup's figures to the text, labelled group="NAME" (the API's order intake and order changes). It
    /// must outlive the scrapes.
    void addCommitGroup(std::string name, const db::CommitGroup& group);

private:
    struct RouteStats {
        std::array<std::uint64_t, kBuckets.size()> buckets{};  ///< not cumulative; summed when rendered
        std::uint64_t count = 0;
        std::int64_t sum_micros = 0;
        std::map<int, std::uint64_t> by_status;
    };
    mutable std::mutex mutex_;  // held for a map update per request: cheap next to a database round trip
    std::map<std::string, RouteStats> routes_;
    std::map<std::string, const db::CommitGroup*> commit_groups_;
};

}  // namespace keel::server
