#pragma once
// The customer master (table `customer`): who orders, in which currency, with which credit limit and price list.
// B2B accounts are imported (`keel customer import`); order intake creates B2C customers on first sight with
// ensureCustomer(). Every function works inside the caller's unit of work.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"
#include "keel/orders/document.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::orders {

// Limits of the customer table and the checks that keep rows within them (used by intake and by imports).
inline constexpr std::size_t kMaxEmailLength = 254;         // customer.email
inline constexpr std::size_t kMaxCustomerNameLength = 200;  // customer.name, characters
inline constexpr std::size_t kMaxCustomerCodeLength = 64;   // customer.code
/// Why `code` is not a customer code (1-64 characters, no whitespace or control characters), or nullopt.
std::optional<std::string> customerCodeProblem(std::string_view code);
/// Why `name` is not a customer name (at most 200 characters, no control characters), or nullopt. May be empty.
std::optional<std::string> customerNameProblem(std::string_view name);
/// Why `email` is not an e-mail address (at most 254 characters, one '@' with text on both sides, no spaces or
/// control characters), or nullopt. Empty is allowed: not every customer gives one.
std::optional<std::string> emailProblem(std::string_view email);
/// "b2c", "b2b" and back (exact, lowercase).
std::string_view customerKindName(orders::CustomerKind kind);
std::optional<orders::CustomerKind> customerKindFrom(std::string_view text);

/// One customer as stored.
struct Customer {
    std::string id;  ///< UUIDv7
    std::string code;
    std::string name;
    std::string email;  ///< may be empty
    CustomerKind kind = CustomerKind::kB2C;
    const Currency* currency = nullptr;  ///< points into Currency's table
    std::optional<Money> credit_limit;   ///< in `currency`; nullopt: no limit
    std::string price_list;              ///< empty: the default list (pricing.default_list)
    std::int64_t created_at = 0;         ///< UTC epoch microseconds
    std::int64_t updated_at = 0;
};

/// Reads customers and creates them on first sight. Stateless apart from its clock and id generator.
class Customers {
public:
    explicit Customers(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    std::optional<Customer> findByCode(db::UnitOfWork& uow, std::string_view code) const;
    std::optional<Customer> findById(db::UnitOfWork& uow, std::string_view id) const;
    /// The customers with these codes, by code (codes without a customer are simply absent); a few queries for
    /// thousands of codes.
    std::map<std::string, Customer> findByCodes(db::UnitOfWork& uow, const std::vector<std::string>& codes) const;
    /// As findByCode, but throws NotFoundError "unknown customer 'X'" saying how to add one.
    Customer requireByCode(db::UnitOfWork& uow, std::string_view code) const;

    /// The customer with `code`, inserted (no credit limit, the default price list) when there is none. An existing
    /// customer is returned as it is: its name, email, kind and currency are not changed. A returning customer costs
    /// one SELECT. Safe when several units of work (or keeld nodes) ensure the same code at once: the insert is an
    /// upsert that does nothing on a duplicate code, and the row is then read back, so every caller gets the one
    /// customer. Throws RejectedError naming the field for a code, name or email the customer table cannot hold.
    Customer ensureCustomer(db::UnitOfWork& uow, std::string_view code, std::string_view email, std::string_view name,
                            CustomerKind kind, const Currency& currency) const;

private:
    const Clock& clock_;
    IdGenerator& ids_;
};

}  // namespace keel::orders
