#pragma once
// GS1 identifiers used in EDI documents: the SSCC-18 of a logistic unit (a carton, a pallet) in an 856's MAN*GM.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel::edi {

/// The GS1 check digit of `digits` (mod 10, weights 3 and 1 from the right), or nothing when a character is not
/// a digit.
std::optional<char> gs1CheckDigit(std::string_view digits);

/// An SSCC-18: extension digit, GS1 company prefix (6 to 12 digits), serial reference (as many digits as are left
/// of 16, zero-padded), check digit. Nothing when an input is malformed or the serial does not fit.
std::optional<std::string> sscc18(int extension, std::string_view company_prefix, std::uint64_t serial);

/// True when `sscc` is 18 digits with a valid check digit.
bool isSscc18(std::string_view sscc);

}  // namespace keel::edi
