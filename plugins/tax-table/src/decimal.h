// Exact decimals for the tax-table plugin: amounts in minor units and rates scaled by 10^8, both int64, with a
// 128-bit product, because money and rates never go through floating point (house rule).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keel::taxtable {

__extension__ typedef __int128 Wide;  // __extension__: a GCC/Clang type that -Wpedantic would otherwise flag

/// Rates are kept with 8 decimals ("0.0625" -> 6'250'000): enough for every published rate (0.01025 and the like).
constexpr int kRateDecimals = 8;
constexpr int64_t kRateScale = 100'000'000;

int64_t pow10(int exponent);

/// Parses an unsigned decimal ("39.98", "5", "0.0625") into value x 10^decimals. Returns nothing and sets `why`
/// when the text is not a plain decimal, has more than `decimals` fractional digits or is too large.
std::optional<int64_t> parseDecimal(std::string_view text, int decimals, std::string& why);

/// Minor units as a decimal string with exactly `exponent` decimals (1234, 2 -> "12.34"; 7, 0 -> "7").
std::string formatMinor(int64_t minor, int exponent);

/// A rate scaled by 10^8 as the shortest decimal string ("0.0625", "0.2", "0").
std::string formatRate(int64_t scaled);

}  // namespace keel::taxtable
