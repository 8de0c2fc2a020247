#pragma once
// Where order lines get their prices when the channel did not fix them: the customer's contract prices, then
// the customer's price list (or the default list from configuration). Implements orders::PriceSource.

#include "keel/db/database.h"
#include "keel/orders/pricing.h"
#include "keel/pricing/rules.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <optional>
#include <string>

namespace keel::pricing {

/// The configuration key naming the price list of customers without one (and of orders without a customer).
inline constexpr const char* kDefaultListKey = "pricing.default_list";

/// The value of pricing.default_list; empty (no default list) when it is not set.
std::string defaultPriceList(const Poco::Util::AbstractConfiguration& config);

/// Prices from price lists and contract prices. At most two indexed queries per line, both prepared once per
/// connection: the customer's contract prices for the item, and only when none applies, the list's entries.
/// Stateless apart from the default list code; safe to share between threads.
class PriceBook final : public orders::PriceSource {
public:
    /// `default_list`: the list used when the query names none (empty: then there is no list price).
    explicit PriceBook(std::string default_list = {}) : default_list_(std::move(default_list)) {}

    /// The unit price of `query.quantity` base units of `query.item_id` for `query.customer_id` in
    /// `*query.currency` on `query.date` (see choosePrice() for the rule), or nullopt. Throws RejectedError when
    /// the query has no currency (a bug of the caller), DbError for database failures.
    std::optional<orders::Price> price(db::UnitOfWork& uow, const orders::PriceQuery& query) override;

    /// As price(), with the break and validity that matched.
    std::optional<PriceMatch> find(db::UnitOfWork& uow, const orders::PriceQuery& query) const;

    /// The list a query uses: its own price_list, else the default list (may be empty).
    const std::string& listFor(const orders::PriceQuery& query) const {
        return query.price_list.empty() ? default_list_ : query.price_list;
    }
    const std::string& defaultList() const { return default_list_; }

private:
    std::string default_list_;
};

}  // namespace keel::pricing
