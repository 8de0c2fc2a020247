#include "keel/catalog/validation.h"

#include "keel/catalog/gtin.h"
#include "keel/kernel/utf8.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace keel::catalog {

namespace {

// Decodes one UTF-8 sequence at `pos`; returns its length (0 when malformed) and the code point.
std::size_t decodeOne(std::string_view text, std::size_t pos, char32_t& code_point) {
    const utf8::Decoded decoded = utf8::decode(text, pos);
    code_point = decoded.code_point;
    return decoded.length;
}

using utf8::isControl;

bool isUnicodeSpace(char32_t c) {
    return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200b) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

// The first character of an identifier that is whitespace or a control character, described with its position.
std::optional<std::string> identifierCharacterProblem(std::string_view text, std::string_view what) {
    std::size_t position = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        char32_t c = 0;
        const std::size_t length = decodeOne(text, pos, c);
        if (length == 0) return "is not valid UTF-8";
        ++position;
        if (isControl(c)) {
            return "contains a control character at character " + std::to_string(position) + "; " + std::string(what) +
                   " cannot contain control characters";
        }
        if (isUnicodeSpace(c) || c == '\t') {
            return "contains a space at character " + std::to_string(position) + "; " + std::string(what) +
                   " cannot contain whitespace";
        }
        pos += length;
    }
    return std::nullopt;
}

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return std::string(text.substr(first, last - first + 1));
}

// Problems of free text (names, descriptions): UTF-8, length in characters, control characters.
std::optional<std::string> textProblem(std::string_view text, std::size_t max_length, bool allow_line_breaks) {
    if (!isValidUtf8(text)) return "is not valid UTF-8";
    const std::size_t length = utf8Length(text);
    if (length > max_length) {
        return "has " + std::to_string(length) + " characters; at most " + std::to_string(max_length) + " are allowed";
    }
    std::size_t position = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        char32_t c = 0;
        pos += decodeOne(text, pos, c);
        ++position;
        const bool line_break = c == '\n' || c == '\r' || c == '\t';
        if (isControl(c) && !(allow_line_breaks && line_break)) {
            return "contains a control character at character " + std::to_string(position);
        }
    }
    return std::nullopt;
}

void add(std::vector<Problem>& problems, std::string field, std::string message) {
    problems.push_back(reject(std::move(message), std::move(field)));
}

void checkNonNegative(std::vector<Problem>& problems, const char* field, const std::optional<std::int64_t>& value) {
    if (value && *value < 0) add(problems, field, "must not be negative, got " + std::to_string(*value));
}

void normalizeOptionalText(std::optional<std::string>& text) {
    if (text) {
        *text = trimmed(*text);
        if (text->empty()) text.reset();
    }
}

}  // namespace

bool isValidUtf8(std::string_view text) {
    for (std::size_t pos = 0; pos < text.size();) {
        char32_t c = 0;
        const std::size_t length = decodeOne(text, pos, c);
        if (length == 0) return false;
        pos += length;
    }
    return true;
}

std::size_t utf8Length(std::string_view text) {
    std::size_t count = 0;
    for (char c : text) {
        if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
    }
    return count;
}

std::optional<std::string> skuProblem(std::string_view sku) {
    if (sku.empty()) return std::string("is empty; every item needs a SKU");
    if (auto problem = identifierCharacterProblem(sku, "SKUs")) return problem;
    const std::size_t length = utf8Length(sku);
    if (length > kMaxSkuLength) {
        return "has " + std::to_string(length) + " characters; a SKU has at most " + std::to_string(kMaxSkuLength);
    }
    if (sku.find(';') != std::string_view::npos) {
        return std::string("contains ';', which separates kit components in CSV files; choose another character");
    }
    return std::nullopt;
}

std::optional<std::string> uomProblem(std::string_view uom) {
    if (uom.empty()) return std::string("is empty; use a unit such as each, g, ml or case");
    const bool starts_with_letter = uom.front() >= 'a' && uom.front() <= 'z';
    const bool word = std::all_of(uom.begin(), uom.end(),
                                  [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
    if (!starts_with_letter || !word) {
        return "'" + std::string(uom) +
               "' is not a unit name; use a lowercase word of letters, digits and '_' starting with a letter "
               "(each, g, ml, case)";
    }
    if (uom.size() > kMaxUomLength) {
        return "'" + std::string(uom) + "' has " + std::to_string(uom.size()) + " characters; at most " +
               std::to_string(kMaxUomLength);
    }
    return std::nullopt;
}

std::optional<std::string> locationCodeProblem(std::string_view code) {
    if (code.empty()) return std::string("is empty; every location needs a code");
    if (auto problem = identifierCharacterProblem(code, "location codes")) return problem;
    const std::size_t length = utf8Length(code);
    if (length > kMaxLocationCodeLength) {
        return "has " + std::to_string(length) + " characters; a location code has at most " +
               std::to_string(kMaxLocationCodeLength);
    }
    return std::nullopt;
}

std::optional<std::string> channelProblem(std::string_view channel) {
    if (channel.empty()) return std::string("is empty; name the sales channel, e.g. amazon");
    if (auto problem = identifierCharacterProblem(channel, "channel names")) return problem;
    if (utf8Length(channel) > kMaxChannelLength) {
        return "has more than " + std::to_string(kMaxChannelLength) + " characters";
    }
    return std::nullopt;
}

std::optional<std::string> channelSkuProblem(std::string_view channel_sku) {
    if (channel_sku.empty()) return std::string("is empty; give what the channel calls the item");
    if (auto problem = textProblem(channel_sku, kMaxChannelSkuLength, false)) return problem;
    if (trimmed(channel_sku).size() != channel_sku.size()) return std::string("starts or ends with whitespace");
    return std::nullopt;
}

std::vector<Problem> prepareItem(Item& item) {
    std::vector<Problem> problems;

    if (auto problem = skuProblem(item.sku)) add(problems, "sku", *problem);

    item.name = trimmed(item.name);
    if (item.name.empty()) {
        add(problems, "name", "is empty; every item needs a name");
    } else if (auto problem = textProblem(item.name, kMaxItemNameLength, false)) {
        add(problems, "name", *problem);
    }

    item.description = trimmed(item.description);
    if (auto problem = textProblem(item.description, kMaxDescriptionLength, true)) {
        add(problems, "description", *problem);
    }

    if (auto problem = uomProblem(item.base_uom)) add(problems, "base_uom", *problem);

    normalizeOptionalText(item.gtin);
    if (item.gtin) {
        auto normalized = gtin::normalize(*item.gtin);
        if (normalized.ok()) {
            item.gtin = std::move(normalized).value();
        } else {
            add(problems, "gtin", normalized.problem().message);
        }
    }

    checkNonNegative(problems, "weight_mg", item.weight_mg);
    checkNonNegative(problems, "length_mm", item.length_mm);
    checkNonNegative(problems, "width_mm", item.width_mm);
    checkNonNegative(problems, "height_mm", item.height_mm);

    if (item.is_kit && item.lot_tracked) {
        add(problems, "lot_tracked", "kits are never lot-tracked (their components are): set lot_tracked to false");
    }
    if (item.expiry_tracked && !item.lot_tracked) {
        add(problems, "expiry_tracked",
            "expiry tracking needs lot tracking: set lot_tracked to true as well, or expiry_tracked to false");
    }
    if (item.shelf_life_days) {
        const int days = *item.shelf_life_days;
        if (days < 1 || days > kMaxShelfLifeDays) {
            add(problems, "shelf_life_days",
                "must be between 1 and " + std::to_string(kMaxShelfLifeDays) + " days, got " + std::to_string(days));
        } else if (!item.expiry_tracked) {
            add(problems, "shelf_life_days",
                "applies only to expiry-tracked items: set expiry_tracked to true or leave shelf_life_days empty");
        }
    }

    if (item.tax_class.empty()) {
        add(problems, "tax_class", "is empty; use 'standard' unless your tax setup names another class");
    } else if (auto problem = identifierCharacterProblem(item.tax_class, "tax classes")) {
        add(problems, "tax_class", *problem);
    } else if (utf8Length(item.tax_class) > kMaxTaxClassLength) {
        add(problems, "tax_class", "has more than " + std::to_string(kMaxTaxClassLength) + " characters");
    }

    if (item.safety_stock < 0)
        add(problems, "safety_stock", "must not be negative, got " + std::to_string(item.safety_stock));

    // Units: whole multiples of the base unit, each named once, GTINs distinct from the item's.
    std::set<std::string> unit_names;
    std::set<std::string> unit_gtins;
    for (auto& unit : item.units) {
        const std::string label = "unit '" + unit.uom + "': ";
        if (auto problem = uomProblem(unit.uom)) {
            add(problems, "units", "unit name " + *problem);
            continue;
        }
        if (unit.uom == item.base_uom) {
            add(problems, "units", label + "is the base unit; list only units larger than '" + item.base_uom + "'");
        } else if (!unit_names.insert(unit.uom).second) {
            add(problems, "units", label + "is listed twice");
        }
        if (unit.factor <= 1) {
            add(problems, "units",
                label + "factor must be a whole number greater than 1 (" + item.base_uom + " per " + unit.uom +
                    "), got " + std::to_string(unit.factor));
        }
        normalizeOptionalText(unit.gtin);
        if (unit.gtin) {
            auto normalized = gtin::normalize(*unit.gtin);
            if (!normalized.ok()) {
                add(problems, "units", label + "GTIN " + normalized.problem().message);
                continue;
            }
            unit.gtin = std::move(normalized).value();
            if (item.gtin && *unit.gtin == *item.gtin) {
                add(problems, "units", label + "GTIN " + *unit.gtin + " is also the item's own GTIN");
            } else if (!unit_gtins.insert(*unit.gtin).second) {
                add(problems, "units", label + "GTIN " + *unit.gtin + " is also the GTIN of another unit");
            }
        }
    }
    std::sort(item.units.begin(), item.units.end(), [](const UnitConversion& a, const UnitConversion& b) {
        return std::tie(a.factor, a.uom) < std::tie(b.factor, b.uom);
    });

    // Kits: made of at least one component, never of themselves, each component once.
    if (item.is_kit && item.components.empty()) {
        add(problems, "components", "a kit needs at least one component (SKU=QUANTITY)");
    }
    if (!item.is_kit && !item.components.empty()) {
        add(problems, "components", "only kits have components: mark the item as a kit or remove its components");
    }
    std::set<std::string> component_keys;
    for (const auto& component : item.components) {
        const std::string name = component.sku.empty() ? "item id " + component.item_id : component.sku;
        if (component.sku.empty() && component.item_id.empty()) {
            add(problems, "components", "a component has neither a SKU nor an item id");
            continue;
        }
        if ((!component.sku.empty() && component.sku == item.sku) ||
            (!component.item_id.empty() && component.item_id == item.id)) {
            add(problems, "components", "a kit cannot contain itself ('" + item.sku + "')");
        } else if (!component_keys.insert(component.sku.empty() ? component.item_id : component.sku).second) {
            add(problems, "components", "'" + name + "' is listed twice; give it once with the total quantity");
        }
        if (component.quantity <= 0) {
            add(problems, "components",
                "quantity of '" + name + "' must be positive, got " + std::to_string(component.quantity));
        }
    }
    std::sort(item.components.begin(), item.components.end(),
              [](const KitComponent& a, const KitComponent& b) { return a.sku < b.sku; });

    return problems;
}

std::vector<Problem> prepareLocation(Location& location) {
    std::vector<Problem> problems;
    if (auto problem = locationCodeProblem(location.code)) add(problems, "code", *problem);

    location.name = trimmed(location.name);
    if (location.name.empty()) {
        add(problems, "name", "is empty; every location needs a name");
    } else if (auto problem = textProblem(location.name, kMaxLocationNameLength, false)) {
        add(problems, "name", *problem);
    }

    const bool country_ok =
        location.country.size() == 2 &&
        std::all_of(location.country.begin(), location.country.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
    if (!country_ok) {
        add(problems, "country",
            "must be two uppercase letters (ISO 3166-1 alpha-2, e.g. US or DE), got '" + location.country + "'");
    }

    location.region = trimmed(location.region);
    if (auto problem = textProblem(location.region, kMaxRegionLength, false)) add(problems, "region", *problem);
    return problems;
}

std::string joinProblems(const std::vector<Problem>& problems) {
    std::string text;
    for (const auto& problem : problems) {
        if (!text.empty()) text += "; ";
        text += problem.field.empty() ? problem.message : problem.field + ": " + problem.message;
    }
    return text;
}

}  // namespace keel::catalog
