#include "keel/orders/pricing.h"

namespace keel::orders {

Result<TaxResult> ZeroTax::quote(const TaxRequest& request) {
    TaxResult result{{}, Money::zero(*request.currency)};
    result.line_tax.assign(request.lines.size(), Money::zero(*request.currency));
    return result;
}

Decimal TableTax::rateFor(const Address& address) const {
    if (!address.region.empty()) {
        if (auto it = rates_.find(address.country + "-" + address.region); it != rates_.end()) return it->second;
    }
    if (auto it = rates_.find(address.country); it != rates_.end()) return it->second;
    return Decimal(0);
}

Result<TaxResult> TableTax::quote(const TaxRequest& request) {
    const Currency& currency = *request.currency;
    const Decimal rate = rateFor(request.ship_to);
    TaxResult result{{}, Money::zero(currency)};
    result.line_tax.assign(request.lines.size(), Money::zero(currency));
    if (rate.isZero()) return result;
    if (rounding_ == Rounding::kLine) {
        for (std::size_t i = 0; i < request.lines.size(); ++i) {
            if (request.lines[i].tax_class == "exempt") continue;
            result.line_tax[i] = request.lines[i].net_amount.times(rate, RoundingMode::kHalfUp);
        }
        result.shipping_tax = request.shipping.times(rate, RoundingMode::kHalfUp);
        return result;
    }
    // Per document: the taxable total once, rounded once, split back in proportion to what each part adds.
    std::vector<std::int64_t> weights;
    Money taxable = Money::zero(currency);
    for (const auto& l : request.lines) {
        const std::int64_t w = l.tax_class == "exempt" || l.net_amount.isNegative() ? 0 : l.net_amount.minor();
        weights.push_back(w);
        taxable += Money(w, currency);
    }
    weights.push_back(request.shipping.isNegative() ? 0 : request.shipping.minor());
    taxable += Money(weights.back(), currency);
    if (taxable.isZero()) return result;
    const auto parts = taxable.times(rate, RoundingMode::kHalfUp).allocate(weights);
    for (std::size_t i = 0; i < request.lines.size(); ++i) result.line_tax[i] = parts[i];
    result.shipping_tax = parts.back();
    return result;
}

}  // namespace keel::orders
