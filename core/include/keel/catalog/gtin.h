#pragma once
// GTIN (GTIN-8, UPC-A/GTIN-12, EAN-13/GTIN-13, GTIN-14) validation with the GS1 mod-10 check digit.

#include "keel/kernel/error.h"

#include <string>
#include <string_view>

namespace keel::catalog::gtin {

/// The GTIN-14 form (left-padded with zeros) of an 8, 12, 13 or 14 digit GTIN with a correct check digit,
/// or a Problem saying what is wrong ("has 11 digits", "check digit is 3, expected 7", "not a number").
Result<std::string> normalize(std::string_view text);

/// The GS1 check digit for the digits before it.
int checkDigit(std::string_view digits_without_check);

}  // namespace keel::catalog::gtin
