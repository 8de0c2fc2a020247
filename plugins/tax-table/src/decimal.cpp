#include "decimal.h"

namespace keel::taxtable {

int64_t pow10(int exponent) {
    int64_t value = 1;
    for (int i = 0; i < exponent; ++i) value *= 10;
    return value;
}

std::optional<int64_t> parseDecimal(std::string_view text, int decimals, std::string& why) {
    if (text.empty()) {
        why = "is empty";
        return std::nullopt;
    }
    int64_t whole = 0;
    std::size_t i = 0;
    int whole_digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        // 15 digits keep value x 10^decimals inside int64 for every scale used here (at most 10^8 x 10^15 / 10^5).
        if (++whole_digits > 15) {
            why = "is too large";
            return std::nullopt;
        }
        whole = whole * 10 + (text[i] - '0');
    }
    if (whole_digits == 0) {
        why = "is not a decimal (digits with an optional '.' and fraction expected)";
        return std::nullopt;
    }
    int64_t fraction = 0;
    int fraction_digits = 0;
    if (i < text.size() && text[i] == '.') {
        ++i;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
            if (++fraction_digits > decimals) {
                why = "has more than " + std::to_string(decimals) + " decimals";
                return std::nullopt;
            }
            fraction = fraction * 10 + (text[i] - '0');
        }
        if (fraction_digits == 0) {
            why = "is not a decimal (no digits after '.')";
            return std::nullopt;
        }
    }
    if (i != text.size()) {
        why = "is not a decimal (digits with an optional '.' and fraction expected)";
        return std::nullopt;
    }
    const int64_t scale = pow10(decimals);
    if (whole > (INT64_MAX - scale) / scale) {
        why = "is too large";
        return std::nullopt;
    }
    return whole * scale + fraction * pow10(decimals - fraction_digits);
}

std::string formatMinor(int64_t minor, int exponent) {
    const bool negative = minor < 0;
    std::string digits = std::to_string(negative ? -minor : minor);
    if (exponent > 0) {
        if (digits.size() <= static_cast<std::size_t>(exponent)) {
            digits.insert(0, static_cast<std::size_t>(exponent) + 1 - digits.size(), '0');
        }
        digits.insert(digits.size() - static_cast<std::size_t>(exponent), 1, '.');
    }
    return negative ? "-" + digits : digits;
}

std::string formatRate(int64_t scaled) {
    std::string text = formatMinor(scaled, kRateDecimals);
    while (text.back() == '0' && text.find('.') != std::string::npos) text.pop_back();
    if (text.back() == '.') text.pop_back();
    return text;
}

}  // namespace keel::taxtable
