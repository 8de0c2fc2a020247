#include "keel/db/lease.h"

#include "keel/kernel/error.h"

namespace keel::db {

bool claimLease(Database& database, const std::string& name, const std::string& owner, std::int64_t now_micros,
                std::int64_t ttl_micros) {
    if (name.empty() || name.size() > 64 || owner.empty() || owner.size() > 128 || ttl_micros <= 0) {
        throw RejectedError("lease '" + name + "' for '" + owner +
                            "': name 1-64, owner 1-128 characters, positive ttl");
    }
    return database.run([&](UnitOfWork& uow) {
        // The row exists from the first claim on; inserting it when absent never changes a held lease.
        uow.statement(uow.dialect().upsert("job_lease", {"name", "owner", "expires_at"}, {"name"}, {}))
            .bindAll(name, std::string(), std::int64_t{0})
            .execute();
        // Matched rows are counted on every backend, so renewing with the same values still reports 1.
        return uow.statement(
                      "UPDATE job_lease SET owner = ?, expires_at = ? WHERE name = ? AND (owner = ? OR "
                      "expires_at < ?)")
                   .bindAll(owner, now_micros + ttl_micros, name, owner, now_micros)
                   .execute() == 1;
    });
}

void releaseLease(Database& database, const std::string& name, const std::string& owner) {
    database.run([&](UnitOfWork& uow) {
        uow.statement("UPDATE job_lease SET expires_at = 0 WHERE name = ? AND owner = ?")
            .bindAll(name, owner)
            .execute();
    });
}

}  // namespace keel::db
