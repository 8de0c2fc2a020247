#include "keel/orders/pricing.h"

namespace keel::orders {

Result<TaxResult> ZeroTax::quote(const TaxRequest& request) {
    TaxResult result{{}, Money::zero(*request.currency)};
    result.line_tax.assign(request.lines.size(), Money::zero(*request.currency));
    return result;
}

}  // namespace keel::orders
