#include "x12_values.h"

#include <algorithm>
#include <cctype>

namespace keel::edix12 {

std::string trim(std::string_view text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) return "";
    const auto last = text.find_last_not_of(' ');
    return std::string(text.substr(first, last - first + 1));
}

bool allDigits(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string joined(const std::vector<std::string>& parts) {
    std::string text;
    for (const auto& part : parts) text += (text.empty() ? "" : ", ") + part;
    return text.empty() ? std::string("none") : text;
}

std::optional<std::string> decimalAmount(std::string_view text) {
    std::string value(text);
    if (!value.empty() && value.front() == '.') value.insert(value.begin(), '0');
    const auto dot = value.find('.');
    const std::string whole = value.substr(0, dot);
    const std::string fraction = dot == std::string::npos ? "" : value.substr(dot + 1);
    if (!allDigits(whole) || (dot != std::string::npos && !allDigits(fraction))) return std::nullopt;
    std::string trimmed_fraction = fraction;
    while (!trimmed_fraction.empty() && trimmed_fraction.back() == '0') trimmed_fraction.pop_back();
    std::string trimmed_whole = whole;
    while (trimmed_whole.size() > 1 && trimmed_whole.front() == '0') trimmed_whole.erase(trimmed_whole.begin());
    return trimmed_fraction.empty() ? trimmed_whole : trimmed_whole + "." + trimmed_fraction;
}

std::optional<std::string> isoDate(std::string_view text) {
    std::string value(text);
    if (value.size() == 6 && allDigits(value)) value = (std::stoi(value.substr(0, 2)) < 50 ? "20" : "19") + value;
    if (value.size() != 8 || !allDigits(value)) return std::nullopt;
    const int month = std::stoi(value.substr(4, 2));
    const int day = std::stoi(value.substr(6, 2));
    if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
    return value.substr(0, 4) + "-" + value.substr(4, 2) + "-" + value.substr(6, 2);
}

std::optional<std::int64_t> wholeQuantity(std::string_view text, std::int64_t min) {
    const auto exact = decimalAmount(text);
    if (!exact || exact->find('.') != std::string::npos || exact->size() > 10) return std::nullopt;
    const std::int64_t value = std::stoll(*exact);
    if (value < min || value > 1'000'000'000) return std::nullopt;
    return value;
}

void ProductIds::add(std::string_view qualifier, std::string_view id) {
    const std::string q = trim(qualifier);
    const std::string value = trim(id);
    if (!q.empty() && !value.empty() && !ids_.count(q)) ids_[q] = value;
}

std::string ProductIds::preferred(const PartnerProfile& partner) const {
    for (const auto& qualifier : partner.item_qualifiers) {
        const auto found = ids_.find(qualifier);
        if (found != ids_.end()) return found->second;
    }
    return "";
}

std::string ProductIds::qualifiers() const {
    std::vector<std::string> present;
    for (const auto& [qualifier, id] : ids_) present.push_back(qualifier);
    return joined(present);
}

Poco::JSON::Object::Ptr ProductIds::toJson() const {
    if (ids_.empty()) return nullptr;
    Poco::JSON::Object::Ptr object = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    for (const auto& [qualifier, id] : ids_) object->set(qualifier, id);
    return object;
}

std::optional<std::string> keelUnit(const PartnerProfile& partner, const std::string& code) {
    const auto mapped = partner.units.find(code.empty() ? "EA" : code);
    if (mapped == partner.units.end()) return std::nullopt;
    return mapped->second;
}

std::string unitRefused(const PartnerProfile& partner, const std::string& code) {
    return "unit '" + code + "' has no Keel unit in partner " + partner.name + " (uom." + code + " = UNIT in " +
           partner.file + ")";
}

}  // namespace keel::edix12
