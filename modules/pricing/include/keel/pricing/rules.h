#pragma once
// The rules of pricing that need no database: which stored price applies to a line (quantity breaks,
// validity windows, currency, contract before list), and what valid codes, amounts and dates look like.
// PriceBook and the CSV imports apply exactly these, so the unit tests of this header test the real rule.

#include "keel/kernel/date.h"
#include "keel/kernel/error.h"
#include "keel/kernel/money.h"
#include "keel/orders/customers.h"
#include "keel/orders/document.h"
#include "keel/orders/pricing.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace keel::pricing {

// The customer rules live with the customer master in core/orders.
using orders::customerCodeProblem;
using orders::customerKindFrom;
using orders::customerKindName;
using orders::customerNameProblem;
using orders::emailProblem;
using orders::kMaxCustomerCodeLength;
using orders::kMaxCustomerNameLength;
using orders::kMaxEmailLength;

inline constexpr std::size_t kMaxPriceListCodeLength = 32;  // price_list.code
/// What the database stores as valid_from for "no start date" (the earliest date Date::parse accepts).
inline constexpr int kOpenStartYmd = 19000101;

/// The source text of a contract price, and the prefix of a price list's ("price_list:RETAIL").
inline constexpr std::string_view kContractSource = "contract";
inline constexpr std::string_view kPriceListSourcePrefix = "price_list:";

/// The days a price applies: from and to inclusive; an absent bound is open.
struct Validity {
    std::optional<Date> from;
    std::optional<Date> to;

    bool contains(Date date) const { return (!from || *from <= date) && (!to || date <= *to); }
    /// The stored forms: valid_from never NULL (kOpenStartYmd when open), valid_to NULL when open.
    int fromYmd() const { return from ? from->ymd() : kOpenStartYmd; }
    std::optional<std::int64_t> toYmd() const { return to ? std::optional<std::int64_t>(to->ymd()) : std::nullopt; }
    static Validity fromStored(std::int64_t valid_from, const std::optional<std::int64_t>& valid_to);
    /// "from 2027-01-01 to 2027-03-31", "from 2027-01-01", "until 2027-03-31", "always".
    std::string toString() const;
};

/// The window from..to, or a Problem (field "valid_to") when `to` is before `from`.
Result<Validity> makeValidity(std::optional<Date> from, std::optional<Date> to);

/// One stored price as the selection rule sees it: a contract price or an entry of a price list (whose currency
/// is the list's).
struct PriceEntry {
    const Currency* currency = nullptr;
    std::int64_t min_quantity = 1;  ///< base units from which this price applies (quantity break)
    std::int64_t unit_price = 0;    ///< minor units of `currency`
    Validity validity;
};

/// The entry that applies to `quantity` base units in `currency` on `date`, or nullptr: among the entries in that
/// currency, valid on that date (both bounds inclusive) and with min_quantity <= quantity, the one with the
/// highest min_quantity; when several have it, the one with the latest start, so a promotion that starts later
/// overrides a standing price for its days. A remaining tie goes to the first in `entries`.
const PriceEntry* selectEntry(std::span<const PriceEntry> entries, std::int64_t quantity, const Currency& currency,
                              Date date);

/// A price found for a line, with what matched (for `keel price show` and for explaining an order's price).
struct PriceMatch {
    orders::Price price;            ///< unit price and source ("contract" or "price_list:CODE")
    std::string price_list;         ///< the list's code; empty for a contract price
    std::int64_t min_quantity = 1;  ///< the break that applied
    Validity validity;
};

/// The whole rule for one line: the customer's contract entries first, then the entries of the price list
/// `list_code`; nullopt when neither has a price (the order is then held for a missing price, never priced at
/// zero). A currency that differs from the order's never matches: there is no conversion.
std::optional<PriceMatch> choosePrice(std::span<const PriceEntry> contract, std::span<const PriceEntry> list,
                                      std::string_view list_code, std::int64_t quantity, const Currency& currency,
                                      Date date);

/// "price_list:RETAIL".
std::string priceListSource(std::string_view list_code);

// --- input rules (Problem::field is the CSV column) -------------------------------------------------------------

/// Why `code` is not a price list code (1-32 ASCII letters, digits, '-', '_' or '.'), or nullopt.
std::optional<std::string> priceListCodeProblem(std::string_view code);


/// A currency by its ISO 4217 code, or a Problem quoting the text and saying what to write.
Result<const Currency*> parseCurrency(std::string_view code);

/// The checks of parseAmount() that need no currency: [+]digits[.digits] ("12,50", "1e3", ".5" are refused) and
/// not negative. For reporting what is wrong with an amount before its currency is known.
Result<Decimal> parseAmountSyntax(std::string_view text);

/// A non-negative amount written as a decimal string in major units of `currency` ("19.99", "1000" for JPY),
/// exact: a Problem for bad syntax, a negative amount, more decimal places than the currency has (trailing zeros
/// are fine; there is no rounding, ever), or an amount out of range.
Result<Money> parseAmount(std::string_view text, const Currency& currency);

/// A min_quantity: a whole number >= 1 of base units; a Problem otherwise.
Result<std::int64_t> checkMinQuantity(std::int64_t quantity);

}  // namespace keel::pricing
