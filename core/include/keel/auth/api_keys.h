#pragma once
// API keys for keeld's REST API: who may call it, in which role. A key is `keel_<prefix>_<secret>`: the prefix
// (12 hex digits) finds it, the secret (64 hex digits, 256 random bits) proves it. Keel shows the whole key once,
// when it is created, and stores only its SHA-256; a lost key is revoked and replaced, never recovered.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::auth {

/// The roles routes are granted to (docs/api.md): admin everything; operations orders, stock, fulfillment and the
/// exception queue; finance the ledger; integration intake and the events feed; read-only every GET.
enum class Role { kAdmin, kOperations, kFinance, kIntegration, kReadOnly };

std::string_view toString(Role role);  ///< "admin", "operations", "finance", "integration", "read-only"
std::optional<Role> roleFromName(std::string_view name);  ///< the inverse; nullopt for anything else
const std::vector<Role>& allRoles();

struct ApiKey {
    std::string id;
    std::string name;
    Role role = Role::kReadOnly;
    std::string prefix;  ///< shown in listings and logs: identifies the key without revealing it
    std::int64_t created_at = 0;
    std::string created_by;
    std::optional<std::int64_t> revoked_at = std::nullopt;
    std::optional<std::int64_t> last_used_at = std::nullopt;
    bool active() const { return !revoked_at; }
};

/// A key just created: the only time its token exists outside the caller's hands.
struct CreatedKey {
    ApiKey key;
    std::string token;  ///< keel_<prefix>_<secret>
};

class ApiKeys {
public:
    explicit ApiKeys(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    /// Creates a key. `name` is 1 to 64 of a-z 0-9 . _ - (Rejected otherwise), unique (Conflict).
    Result<CreatedKey> create(db::UnitOfWork& uow, const std::string& name, Role role, const std::string& actor);
    /// Every key, revoked ones included, by name.
    std::vector<ApiKey> list(db::UnitOfWork& uow);
    /// Revokes the key named `name` (NotFound; Conflict when already revoked). Requests with it fail from then on.
    Result<ApiKey> revoke(db::UnitOfWork& uow, const std::string& name, const std::string& actor);
    /// The active key a presented token belongs to, or nullopt (malformed, unknown, wrong secret or revoked: the
    /// caller answers 401 without saying which). Records the use, at most once a minute per key.
    std::optional<ApiKey> authenticate(db::UnitOfWork& uow, std::string_view token);
    /// authenticate() in two steps, for a caller that reads in a snapshot and writes in another unit (keeld): the
    /// key of the token, without recording anything...
    std::optional<ApiKey> verify(db::UnitOfWork& uow, std::string_view token);
    /// ...and whether its use is due to be recorded (the last record is a minute old or more), and the record.
    bool useIsDue(const ApiKey& key) const;
    void recordUse(db::UnitOfWork& uow, ApiKey& key);

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::auth
