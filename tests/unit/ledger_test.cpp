#define BOOST_TEST_MODULE ledger_rules
#include <boost/test/unit_test.hpp>

#include "keel/ledger/ledger.h"
#include "keel/ledger/rules.h"

#include <set>

using namespace keel;
using namespace keel::ledger;

namespace {
const Currency& usd() { return Currency::of("USD"); }
}  // namespace

// Every rule balances when its amounts agree the way the event's do (total = goods - discount + shipping + tax,
// landed cost = on hand + sold), and the default chart gives an account to every role a rule names.
BOOST_AUTO_TEST_CASE(every_rule_balances_and_every_role_has_an_account) {
    std::set<std::string> chart_roles;
    for (const auto& a : defaultChart()) chart_roles.insert(a.roles.begin(), a.roles.end());
    for (const auto& rule : postingRules()) {
        std::map<std::string, Money> amounts;
        if (rule.kind == "customer_invoice") {
            amounts = {{"goods", Money(3000, usd())}, {"discount", Money(100, usd())}, {"shipping", Money(500, usd())},
                       {"tax", Money(280, usd())}, {"total", Money(3680, usd())}};
        } else if (rule.kind == "credit_note") {
            amounts = {{"goods", Money(1000, usd())}, {"tax", Money(83, usd())}, {"total", Money(1083, usd())}};
        } else if (rule.kind == "landed_cost") {
            amounts = {{"on_hand", Money(700, usd())}, {"sold", Money(300, usd())}, {"amount", Money(1000, usd())}};
        } else {
            amounts = {{"value", Money(1234, usd())}, {"amount", Money(1234, usd())}};
        }
        const auto lines = applyRule(rule, amounts, {{"jurisdiction", "US-IL"}, {"provider", "stripe"}}, {});
        BOOST_TEST(!lines.empty(), rule.kind);
        BOOST_TEST(!imbalance(lines).has_value(), rule.kind << ": " << imbalance(lines).value_or(""));
        for (const auto& l : rule.lines) {
            const std::string role(l.role.substr(0, l.role.find(':')));
            BOOST_TEST(chart_roles.count(role) == 1, rule.kind << " needs " << role);
        }
    }
    for (const auto& role : requiredRoles()) BOOST_TEST(chart_roles.count(role) == 1, role);
}

BOOST_AUTO_TEST_CASE(an_invoice_posts_receivables_against_revenue_discount_shipping_and_tax) {
    const auto lines = applyRule(*findRule("customer_invoice"),
                                 {{"goods", Money(3000, usd())}, {"discount", Money(100, usd())},
                                  {"shipping", Money(0, usd())}, {"tax", Money(239, usd())}, {"total", Money(3139, usd())}},
                                 {{"jurisdiction", "US-IL"}}, Dimensions{"web", "", "C1", ""});
    BOOST_TEST_REQUIRE(lines.size() == 4u);  // no shipping line for a zero amount
    BOOST_TEST(lines[0].role == "receivables");
    BOOST_TEST(lines[0].amount.minor() == 3139);
    BOOST_TEST(lines[1].role == "discounts");
    BOOST_TEST(lines[1].amount.minor() == 100);
    BOOST_TEST(lines[2].role == "revenue");
    BOOST_TEST(lines[2].amount.minor() == -3000);
    BOOST_TEST(lines[3].role == "tax_payable:US-IL");
    BOOST_TEST(lines[3].dimensions.channel == "web");
}

BOOST_AUTO_TEST_CASE(roles_take_their_parameters_or_fall_back_to_the_bare_role) {
    BOOST_TEST(resolveRole("tax_payable:{jurisdiction}", {{"jurisdiction", "DE"}}) == "tax_payable:DE");
    BOOST_TEST(resolveRole("clearing:{provider}", {}) == "clearing");
    BOOST_TEST(resolveRole("clearing:{provider}", {{"provider", ""}}) == "clearing");
    BOOST_TEST(resolveRole("cogs", {{"provider", "x"}}) == "cogs");
}

BOOST_AUTO_TEST_CASE(negative_or_missing_amounts_and_imbalances_are_named) {
    BOOST_CHECK_THROW(applyRule(*findRule("shipment"), {{"value", Money(-1, usd())}}, {}, {}), RejectedError);
    BOOST_CHECK_THROW(applyRule(*findRule("shipment"), {}, {}, {}), RejectedError);
    const std::vector<DraftLine> lines = {{"", "1000", Money(500, usd()), {}},
                                          {"", "3000", Money(-499, usd()), {}},
                                          {"", "1000", Money(100, Currency::of("EUR")), {}}};
    const auto problem = imbalance(lines);
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST(problem->find("EUR differ by 1.00") != std::string::npos, *problem);
    BOOST_TEST(problem->find("USD differ by 0.01") != std::string::npos, *problem);
    BOOST_TEST(periodOf(Date::fromYmd(20260105)) == "2026-01");
}
