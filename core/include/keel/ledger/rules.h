#pragma once
// The posting rules: which accounts every commerce event debits and credits, in one table (rules.cpp) that reads
// like the accountant's version of it, and the pure function that turns an event's amounts into journal lines.
// Accounts are named by role ("inventory", "cogs", "tax_payable:US-CA"); the chart maps roles to account codes.
// No database here: the rules are tested on their own.

#include "keel/kernel/error.h"
#include "keel/kernel/money.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::ledger {

enum class Side { kDebit, kCredit };

/// One line of a rule: this side of the role's account takes the named amount of the event.
struct RuleLine {
    Side side = Side::kDebit;
    std::string_view role;    ///< "tax_payable:{jurisdiction}" and "clearing:{provider}" are filled in per event
    std::string_view amount;  ///< the event amount this line takes ("value", "goods", "tax", ...)
};

struct PostingRule {
    std::string_view kind;         ///< "goods_receipt", "shipment", "customer_invoice", ...
    std::string_view description;  ///< what happened, for the table in docs/ledger.md and `keel ledger rules`
    std::vector<RuleLine> lines;
};

/// Every rule, in the order docs/ledger.md lists them.
const std::vector<PostingRule>& postingRules();
/// The rule of a kind, or nullptr.
const PostingRule* findRule(std::string_view kind);

/// Dimensions of a journal line (all optional: "" when not known).
struct Dimensions {
    std::string channel;
    std::string location_id;
    std::string customer_id;
    std::string item_id;
    friend bool operator==(const Dimensions&, const Dimensions&) = default;
};

/// A journal line before it is stored: an account by role or by code, and a signed amount (debit > 0).
struct DraftLine {
    std::string role;     ///< set when the account comes from a posting rule
    std::string account;  ///< set for lines that name an account code (manual journals)
    Money amount;         ///< debit positive, credit negative, in the line's currency
    Dimensions dimensions;
    /// Set only when the functional amount is fixed already (a reversal negates the original's); otherwise it is
    /// converted at the rate in force on the entry's date.
    std::optional<std::int64_t> functional_amount = std::nullopt;
    std::optional<Decimal> rate = std::nullopt;
};

/// Fills {jurisdiction} and {provider} in a rule's role ("tax_payable:{jurisdiction}" -> "tax_payable:US-CA");
/// an empty value leaves the bare role ("tax_payable").
std::string resolveRole(std::string_view role, const std::map<std::string, std::string>& parameters);

/// The lines of `rule` for an event with these amounts (all in one currency) and parameters. Zero amounts give no
/// line. Throws RejectedError when the rule names an amount the event lacks or a negative amount.
std::vector<DraftLine> applyRule(const PostingRule& rule, const std::map<std::string, Money>& amounts,
                                 const std::map<std::string, std::string>& parameters, const Dimensions& dimensions);

/// nullopt when the lines balance per currency; otherwise the problem names each currency that does not.
std::optional<std::string> imbalance(const std::vector<DraftLine>& lines);

}  // namespace keel::ledger
