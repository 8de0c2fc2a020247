#include "keel/server/metrics.h"

#include "keel/kernel/clock.h"

#include <iomanip>
#include <sstream>

namespace keel::server {

namespace {

// Label values are escaped as the text format asks: backslash, double quote and newline.
std::string label(const std::string& value) {
    std::string out;
    for (const char c : value) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string seconds(std::int64_t micros) {
    std::ostringstream text;
    text << micros / 1'000'000 << '.' << std::setw(6) << std::setfill('0') << micros % 1'000'000;
    return text.str();
}

}  // namespace

void Metrics::observe(const std::string& route, int status, std::int64_t micros) {
    std::lock_guard<std::mutex> lock(mutex_);
    RouteStats& stats = routes_[route];
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
        if (static_cast<double>(micros) <= kBuckets[i] * 1e6) {
            ++stats.buckets[i];
            break;
        }
    }
    ++stats.count;
    stats.sum_micros += micros;
    ++stats.by_status[status];
}

void Metrics::addCommitGroup(std::string name, const db::CommitGroup& group) {
    std::lock_guard<std::mutex> lock(mutex_);
    commit_groups_[std::move(name)] = &group;
}

std::string Metrics::render(db::Database& database, orders::Orders& orders,
                            const plugin_host::PluginHost* plugins) const {
    std::ostringstream out;
    {
        std::map<std::string, RouteStats> routes;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            routes = routes_;
        }
        out << "# HELP keel_http_requests_total Requests served, by route and status.\n"
            << "# TYPE keel_http_requests_total counter\n";
        for (const auto& [route, stats] : routes) {
            for (const auto& [status, count] : stats.by_status) {
                out << "keel_http_requests_total{route=\"" << label(route) << "\",status=\"" << status << "\"} "
                    << count << "\n";
            }
        }
        out << "# HELP keel_http_request_duration_seconds Time to answer a request, by route.\n"
            << "# TYPE keel_http_request_duration_seconds histogram\n";
        for (const auto& [route, stats] : routes) {
            std::uint64_t cumulative = 0;
            for (std::size_t i = 0; i < kBuckets.size(); ++i) {
                cumulative += stats.buckets[i];
                out << "keel_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"" << kBuckets[i]
                    << "\"} " << cumulative << "\n";
            }
            out << "keel_http_request_duration_seconds_bucket{route=\"" << label(route) << "\",le=\"+Inf\"} "
                << stats.count << "\n"
                << "keel_http_request_duration_seconds_sum{route=\"" << label(route) << "\"} "
                << seconds(stats.sum_micros) << "\n"
                << "keel_http_request_duration_seconds_count{route=\"" << label(route) << "\"} " << stats.count << "\n";
        }
    }

    std::map<std::string, const db::CommitGroup*> groups;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        groups = commit_groups_;
    }
    if (!groups.empty()) {
        struct Series {
            const char* metric;
            const char* help;
            std::uint64_t db::CommitGroupStats::*field;
        };
        const Series series[] = {
            {"keel_group_commit_units_total",
             "Units of work submitted to a commit group (SQLite only; zero elsewhere).", &db::CommitGroupStats::units},
            {"keel_group_commit_groups_total", "Transactions that committed two or more units together.",
             &db::CommitGroupStats::groups},
            {"keel_group_commit_grouped_units_total", "Units committed inside those transactions.",
             &db::CommitGroupStats::grouped},
            {"keel_group_commit_fallbacks_total",
             "Groups rolled back because one unit failed (it then ran alone, the others regrouped).",
             &db::CommitGroupStats::fallbacks}};
        std::map<std::string, db::CommitGroupStats> stats;
        for (const auto& [name, group] : groups) stats[name] = group->stats();
        for (const auto& [metric, help, field] : series) {
            out << "# HELP " << metric << " " << help << "\n# TYPE " << metric << " counter\n";
            for (const auto& [name, figures] : stats) {
                out << metric << "{group=\"" << label(name) << "\"} " << figures.*field << "\n";
            }
        }
    }

    if (database.spec().backend == db::Backend::kSQLite && database.spec().sqlite_background_checkpoint) {
        const db::CheckpointStats checkpoints = database.checkpointStats();
        out << "# HELP keel_sqlite_checkpoints_total Background checkpoints that copied SQLite's write-ahead log back "
               "into the database file.\n# TYPE keel_sqlite_checkpoints_total counter\n"
            << "keel_sqlite_checkpoints_total " << checkpoints.checkpoints << "\n"
            << "# HELP keel_sqlite_checkpoint_failures_total Background checkpoints that failed (logged; the next one "
               "tries again).\n# TYPE keel_sqlite_checkpoint_failures_total counter\n"
            << "keel_sqlite_checkpoint_failures_total " << checkpoints.failures << "\n"
            << "# HELP keel_sqlite_wal_frames Frames in the write-ahead log at the last checkpoint.\n"
               "# TYPE keel_sqlite_wal_frames gauge\n"
            << "keel_sqlite_wal_frames " << checkpoints.log_frames << "\n"
            << "# HELP keel_sqlite_wal_frames_checkpointed Of those, frames in the database file (fewer while a long "
               "reader needs older pages).\n# TYPE keel_sqlite_wal_frames_checkpointed gauge\n"
            << "keel_sqlite_wal_frames_checkpointed " << checkpoints.checkpointed_frames << "\n";
    }

    if (plugins != nullptr) {
        out << "# HELP keel_plugin_breaker_open 1 while a plugin instance's circuit breaker is open (suspended).\n"
            << "# TYPE keel_plugin_breaker_open gauge\n";
        const auto instances = plugins->instances();
        for (const auto& i : instances) {
            out << "keel_plugin_breaker_open{instance=\"" << label(i.name) << "\",plugin=\"" << label(i.plugin)
                << "\"} " << (i.state == plugin_host::InstanceState::kSuspended ? 1 : 0) << "\n";
        }
        out << "# HELP keel_plugin_instance_state Plugin instances by state (active, suspended, failed).\n"
            << "# TYPE keel_plugin_instance_state gauge\n";
        for (const auto& i : instances) {
            out << "keel_plugin_instance_state{instance=\"" << label(i.name) << "\",state=\""
                << plugin_host::toString(i.state) << "\"} 1\n";
        }
    }

    // The database gauges: a scrape during an outage still answers, and says so.
    std::ostringstream gauges;
    try {
        database.run([&](db::UnitOfWork& uow) {
            gauges << "# HELP keel_orders Orders by state.\n# TYPE keel_orders gauge\n";
            db::Statement& states =
                uow.statement("SELECT state, COUNT(*) FROM sales_order GROUP BY state ORDER BY state");
            states.execute();
            while (states.next()) {
                gauges << "keel_orders{state=\"" << label(states.getString(0)) << "\"} " << states.getInt64(1) << "\n";
            }
            gauges << "# HELP keel_exception_queue_size Orders that need a person (held, or allocated past their "
                      "promise date).\n# TYPE keel_exception_queue_size gauge\n"
                   << "keel_exception_queue_size " << orders.exceptions(uow).size() << "\n";

            db::Statement& head = uow.statement("SELECT COALESCE(MAX(seq), 0) FROM event_outbox");
            head.execute();
            std::int64_t head_seq = 0;
            while (head.next()) head_seq = head.getInt64(0);
            db::Statement& pending = uow.statement("SELECT COUNT(*) FROM event_outbox WHERE seq IS NULL");
            pending.execute();
            std::int64_t unsequenced = 0;
            while (pending.next()) unsequenced = pending.getInt64(0);
            gauges << "# HELP keel_outbox_head_seq The highest event number given.\n# TYPE keel_outbox_head_seq gauge\n"
                   << "keel_outbox_head_seq " << head_seq << "\n"
                   << "# HELP keel_outbox_unsequenced Committed events not numbered yet.\n"
                      "# TYPE keel_outbox_unsequenced gauge\n"
                   << "keel_outbox_unsequenced " << unsequenced << "\n"
                   << "# HELP keel_outbox_lag Numbered events a subscriber has not been through yet.\n"
                      "# TYPE keel_outbox_lag gauge\n";
            db::Statement& subscriptions =
                uow.statement("SELECT subscriber, position FROM event_subscription ORDER BY subscriber");
            subscriptions.execute();
            while (subscriptions.next()) {
                gauges << "keel_outbox_lag{subscriber=\"" << label(subscriptions.getString(0)) << "\"} "
                       << head_seq - subscriptions.getInt64(1) << "\n";
            }
        });
        gauges << "# HELP keel_integration_exceptions Open integration exceptions (plugin failures, dead letters).\n"
                  "# TYPE keel_integration_exceptions gauge\n"
               << "keel_integration_exceptions " << plugin_host::openExceptions(database, 100000).size() << "\n";
        out << gauges.str() << "# HELP keel_metrics_database_up 1 when the database gauges could be read.\n"
            << "# TYPE keel_metrics_database_up gauge\nkeel_metrics_database_up 1\n";
    } catch (const std::exception& e) {
        // Not swallowed: the scrape says the gauges are missing and why (first line; ODBC details follow it).
        std::string why = e.what();
        out << "# database gauges unavailable: " << why.substr(0, why.find('\n')) << "\n";
        out << "# HELP keel_metrics_database_up 1 when the database gauges could be read.\n"
            << "# TYPE keel_metrics_database_up gauge\nkeel_metrics_database_up 0\n";
    }
    return out.str();
}

}  // namespace keel::server
