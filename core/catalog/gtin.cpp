#include "keel/catalog/gtin.h"

#include <stdexcept>

namespace keel::catalog::gtin {

namespace {

constexpr std::size_t kNormalizedLength = 14;

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

// A character as a reader sees it in a message; bytes of multi-byte UTF-8 are not printable one by one.
std::string describeCharacter(char c) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x21 && byte < 0x7f) return std::string("'") + c + "'";
    if (c == ' ') return "a space";
    return "a non-printable or non-ASCII character";
}

}  // namespace

int checkDigit(std::string_view digits_without_check) {
    // GS1 mod 10: weights 3, 1, 3, 1, ... from the rightmost digit, so every GTIN length shares one rule.
    int sum = 0;
    bool weight_three = true;
    for (auto it = digits_without_check.rbegin(); it != digits_without_check.rend(); ++it) {
        if (!isDigit(*it)) throw std::invalid_argument("gtin::checkDigit needs digits only");
        const int digit = *it - '0';
        sum += weight_three ? 3 * digit : digit;
        weight_three = !weight_three;
    }
    return (10 - sum % 10) % 10;
}

Result<std::string> normalize(std::string_view text) {
    if (text.empty()) return reject("is empty; a GTIN has 8, 12, 13 or 14 digits", "gtin");
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!isDigit(text[i])) {
            return reject("not a number: character " + std::to_string(i + 1) + " is " + describeCharacter(text[i]) +
                              "; a GTIN has digits only",
                          "gtin");
        }
    }
    const std::size_t length = text.size();
    if (length != 8 && length != 12 && length != 13 && length != 14) {
        return reject("has " + std::to_string(length) + " digits; a GTIN has 8, 12, 13 or 14", "gtin");
    }
    if (text.find_first_not_of('0') == std::string_view::npos) {
        return reject("is all zeros, which GS1 never assigns", "gtin");
    }
    const int expected = checkDigit(text.substr(0, length - 1));
    const int actual = text.back() - '0';
    if (actual != expected) {
        return reject("check digit is " + std::to_string(actual) + ", expected " + std::to_string(expected), "gtin");
    }
    return std::string(kNormalizedLength - length, '0') + std::string(text);
}

}  // namespace keel::catalog::gtin
