#pragma once
// Job leases in the database (table job_lease), so that among several processes sharing a database one runs a
// given background job at a time, and another takes over when the holder stops renewing.

#include "keel/db/database.h"

#include <cstdint>
#include <string>

namespace keel::db {

/// Takes or renews the lease `name` for `owner` until now + ttl. True when `owner` holds it now: it was free,
/// had expired, or was already `owner`'s. Each call is its own short unit of work.
bool claimLease(Database& database, const std::string& name, const std::string& owner, std::int64_t now_micros,
                std::int64_t ttl_micros);

/// Gives the lease up at once if `owner` holds it (a stopping process), so another can take it without waiting.
void releaseLease(Database& database, const std::string& name, const std::string& owner);

}  // namespace keel::db
