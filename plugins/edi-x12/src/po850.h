// Inbound 850 purchase orders → Keel's canonical order documents (docs/order.schema.json), for a customer partner.
#pragma once

#include "inbound.h"

#include <memory>
#include <string>

namespace keel::edix12 {

/// Reads one 850 (BEG original orders only, parties, PO1 lines with the partner's product ids and units, CTT).
std::unique_ptr<SetReader> makePurchaseOrderReader(const PartnerProfile& partner, const std::string& group_control,
                                                   const std::string& set_control);

}  // namespace keel::edix12
