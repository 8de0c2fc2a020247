#include "keel/edi/gs1.h"

#include <algorithm>
#include <cctype>

namespace keel::edi {

namespace {
bool allDigits(std::string_view text) {
    return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}
}  // namespace

std::optional<char> gs1CheckDigit(std::string_view digits) {
    if (digits.empty() || !allDigits(digits)) return std::nullopt;
    int sum = 0;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        sum += (digits[digits.size() - 1 - i] - '0') * (i % 2 == 0 ? 3 : 1);
    }
    return static_cast<char>('0' + (10 - sum % 10) % 10);
}

std::optional<std::string> sscc18(int extension, std::string_view company_prefix, std::uint64_t serial) {
    if (extension < 0 || extension > 9 || company_prefix.size() < 6 || company_prefix.size() > 12 ||
        !allDigits(company_prefix)) {
        return std::nullopt;
    }
    const std::size_t width = 16 - company_prefix.size();
    std::string reference = std::to_string(serial);
    if (reference.size() > width) return std::nullopt;
    reference.insert(0, width - reference.size(), '0');
    std::string digits = std::to_string(extension) + std::string(company_prefix) + reference;
    digits += *gs1CheckDigit(digits);
    return digits;
}

bool isSscc18(std::string_view sscc) {
    return sscc.size() == 18 && allDigits(sscc) && gs1CheckDigit(sscc.substr(0, 17)) == sscc[17];
}

}  // namespace keel::edi
