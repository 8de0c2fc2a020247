// Inbound sets of a 3PL (role = 3pl) → Keel documents: a 945 warehouse shipping advice becomes a shipment
// confirmation (docs/schemas/shipment_confirmation.schema.json), a 944 warehouse stock transfer receipt advice a stock
// receipt (docs/schemas/stock_receipt.schema.json). The host matches them to its shipments and locations.
#pragma once

#include "inbound.h"

#include <memory>
#include <string>

namespace keel::edix12 {

/// Reads one 945: W06 (depositor order number = the 940's W0502, ship date), the warehouse (N1*WH), tracking (N9 2I,
/// CN or BM), W27 carrier, W12 per line (units shipped, unit, product ids, lot) and the W03 total.
std::unique_ptr<SetReader> makeShippingAdviceReader(const PartnerProfile& partner, const std::string& group_control,
                                                    const std::string& set_control);

/// Reads one 944: W17 (receipt date and warehouse receipt number), the warehouse (N1*WH), W07 per line (units received,
/// unit, product ids, lot in W0708 or N9*LT) and the W14 total.
std::unique_ptr<SetReader> makeReceiptAdviceReader(const PartnerProfile& partner, const std::string& group_control,
                                                   const std::string& set_control);

}  // namespace keel::edix12
