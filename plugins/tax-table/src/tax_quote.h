// The tax_request -> tax_result computation of the tax-table plugin (documents: docs/plugins.md and
// docs/schemas/tax_request.schema.json, tax_result.schema.json).
#pragma once

#include <string>
#include <string_view>

#include "tax_tables.h"

namespace keel::taxtable {

/// Quotes a tax_request against `tables`. Throws keel::plugin::Error: KEEL_E_INVALID for a malformed request (the
/// message names the field path, e.g. `lines[1].amount: "12.3x" is not a decimal amount`), KEEL_E_NOT_FOUND when
/// the destination has no table.
std::string quote(const TaxTables& tables, std::string_view request_json);

/// Escapes `text` as a JSON string literal, quotes included.
std::string jsonString(std::string_view text);

}  // namespace keel::taxtable
