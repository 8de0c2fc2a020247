#include "keel/ledger/rules.h"

#include <algorithm>

namespace keel::ledger {

namespace {
constexpr Side Dr = Side::kDebit;
constexpr Side Cr = Side::kCredit;
}  // namespace

// The posting rules. Each amount an event carries is non-negative; the side says where it goes. An invoice
// credits gross revenue and debits the discount, so P&L shows both; a credit note debits returns and allowances
// with the goods and shipping refunded and tax payable with the tax refunded.
const std::vector<PostingRule>& postingRules() {
    static const std::vector<PostingRule> rules = {
        {"goods_receipt", "stock received from a supplier, at its unit cost",
         {{Dr, "inventory", "value"}, {Cr, "grni", "value"}}},
        {"opening_balance", "stock on hand at go-live (stock import)",
         {{Dr, "inventory", "value"}, {Cr, "opening_equity", "value"}}},
        {"supplier_invoice", "a supplier's invoice for goods received",
         {{Dr, "grni", "amount"}, {Cr, "payables", "amount"}}},
        {"landed_cost", "freight or duty allocated to received items: on stock raises its cost, sold goes to COGS",
         {{Dr, "inventory", "on_hand"}, {Dr, "cogs", "sold"}, {Cr, "landed_cost_accrual", "amount"}}},
        {"shipment", "goods leave for a customer, at current cost",
         {{Dr, "cogs", "value"}, {Cr, "inventory", "value"}}},
        {"customer_invoice", "an invoice for shipped goods, by channel and tax jurisdiction",
         {{Dr, "receivables", "total"},
          {Dr, "discounts", "discount"},
          {Cr, "revenue", "goods"},
          {Cr, "shipping_revenue", "shipping"},
          {Cr, "tax_payable:{jurisdiction}", "tax"}}},
        {"payment_capture", "a customer's payment captured by a payment provider",
         {{Dr, "clearing:{provider}", "amount"}, {Cr, "receivables", "amount"}}},
        {"payout", "a payment provider or marketplace pays out to the bank",
         {{Dr, "cash", "amount"}, {Cr, "clearing:{provider}", "amount"}}},
        {"marketplace_fee", "a marketplace's or provider's fee, withheld from the payout",
         {{Dr, "marketplace_fees", "amount"}, {Cr, "clearing:{provider}", "amount"}}},
        {"credit_note", "a refund owed for returned goods (with their share of shipping and tax)",
         {{Dr, "returns_allowances", "goods"}, {Dr, "tax_payable:{jurisdiction}", "tax"}, {Cr, "receivables", "total"}}},
        {"refund_payment", "a refund paid back to the customer",
         {{Dr, "receivables", "amount"}, {Cr, "clearing:{provider}", "amount"}}},
        {"return_restock", "returned goods come back into stock, at current cost",
         {{Dr, "inventory", "value"}, {Cr, "cogs", "value"}}},
        {"write_off", "stock disposed of or written off",
         {{Dr, "shrinkage", "value"}, {Cr, "inventory", "value"}}},
        {"adjustment_gain", "an adjustment or cycle count finds stock",
         {{Dr, "inventory", "value"}, {Cr, "inventory_adjustments", "value"}}},
        {"adjustment_loss", "an adjustment or cycle count loses stock",
         {{Dr, "inventory_adjustments", "value"}, {Cr, "inventory", "value"}}},
        {"transfer_ship", "stock leaves a location for another",
         {{Dr, "inventory_transit", "value"}, {Cr, "inventory", "value"}}},
        {"transfer_receive", "stock in transit arrives",
         {{Dr, "inventory", "value"}, {Cr, "inventory_transit", "value"}}},
        {"transfer_loss", "stock in transit never arrived",
         {{Dr, "shrinkage", "value"}, {Cr, "inventory_transit", "value"}}},
        {"chargeback", "a customer's bank takes a payment back",
         {{Dr, "chargeback_losses", "amount"}, {Cr, "cash", "amount"}}},
        // chargeback_won is the reversal of the chargeback's entry; a manual journal names its own accounts.
    };
    return rules;
}

const PostingRule* findRule(std::string_view kind) {
    const auto& rules = postingRules();
    const auto it = std::find_if(rules.begin(), rules.end(), [&](const PostingRule& r) { return r.kind == kind; });
    return it == rules.end() ? nullptr : &*it;
}

std::string resolveRole(std::string_view role, const std::map<std::string, std::string>& parameters) {
    const auto open = role.find('{');
    if (open == std::string_view::npos) return std::string(role);
    const auto close = role.find('}', open);
    const std::string name(role.substr(open + 1, close - open - 1));
    const auto it = parameters.find(name);
    std::string base(role.substr(0, open));
    if (it == parameters.end() || it->second.empty()) {
        if (!base.empty() && base.back() == ':') base.pop_back();
        return base;
    }
    return base + it->second;
}

std::vector<DraftLine> applyRule(const PostingRule& rule, const std::map<std::string, Money>& amounts,
                                 const std::map<std::string, std::string>& parameters, const Dimensions& dimensions) {
    std::vector<DraftLine> lines;
    for (const auto& l : rule.lines) {
        const auto it = amounts.find(std::string(l.amount));
        if (it == amounts.end()) {
            throw RejectedError("posting rule " + std::string(rule.kind) + " needs the amount '" + std::string(l.amount) + "'");
        }
        if (it->second.isNegative()) {
            throw RejectedError("posting rule " + std::string(rule.kind) + ": amount '" + std::string(l.amount) +
                                "' is negative (" + it->second.toString() + ")");
        }
        if (it->second.isZero()) continue;
        lines.push_back(DraftLine{resolveRole(l.role, parameters), "", l.side == Side::kDebit ? it->second : -it->second,
                                  dimensions});
    }
    return lines;
}

std::optional<std::string> imbalance(const std::vector<DraftLine>& lines) {
    std::map<std::string, Int128> sums;
    for (const auto& l : lines) sums[std::string(l.amount.currency().code())] += l.amount.minor();
    std::string problem;
    for (const auto& [currency, sum] : sums) {
        if (sum == 0) continue;
        if (!problem.empty()) problem += "; ";
        const auto& c = Currency::of(currency);
        problem += "debits and credits in " + currency + " differ by " +
                   Money(static_cast<std::int64_t>(sum), c).toString();
    }
    if (problem.empty()) return std::nullopt;
    return problem;
}

}  // namespace keel::ledger
