#pragma once
// The rules of the item master that need no database: what a valid SKU, unit, kit or location looks like.
// Catalog::saveItem/saveLocation and the CSV imports apply them, so every path refuses the same data with
// the same words. Problem::field is the name of the CSV column the rule is about.

#include "keel/catalog/catalog.h"
#include "keel/kernel/error.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::catalog {

inline constexpr std::size_t kMaxSkuLength = 64;        // characters, item.sku
inline constexpr std::size_t kMaxItemNameLength = 200;  // characters, item.name
inline constexpr std::size_t kMaxDescriptionLength = 4000;
inline constexpr std::size_t kMaxUomLength = 16;
inline constexpr std::size_t kMaxTaxClassLength = 32;
inline constexpr std::size_t kMaxLocationCodeLength = 32;
inline constexpr std::size_t kMaxLocationNameLength = 200;
inline constexpr std::size_t kMaxRegionLength = 64;
inline constexpr std::size_t kMaxChannelLength = 64;
inline constexpr std::size_t kMaxChannelSkuLength = 128;
inline constexpr int kMaxShelfLifeDays = 36500;

/// Why `sku` is not a valid SKU (empty, too long, whitespace, control characters, ';' which separates kit
/// components in CSV files), or nullopt when it is.
std::optional<std::string> skuProblem(std::string_view sku);

/// Why `uom` is not a unit-of-measure name ("each", "g", "ml", "case": a lowercase ASCII word of at most 16
/// letters, digits or '_', starting with a letter), or nullopt.
std::optional<std::string> uomProblem(std::string_view uom);

/// Why `code` is not a location code (1-32 characters, no whitespace or control characters), or nullopt.
std::optional<std::string> locationCodeProblem(std::string_view code);

/// Why `channel` is not a sales channel name (1-64 characters, no whitespace or control characters), or nullopt.
std::optional<std::string> channelProblem(std::string_view channel);

/// Why `channel_sku` is not what a channel may call an item (1-128 characters, no control characters, no
/// leading or trailing space; inner spaces are allowed because some marketplaces use them), or nullopt.
std::optional<std::string> channelSkuProblem(std::string_view channel_sku);

/// Brings an item to its canonical form (name and description trimmed, GTINs as GTIN-14, units sorted by
/// factor then name, components by SKU, empty optional texts as nullopt) and returns every rule it breaks that
/// needs no database, in column order. Kit rules checked here: a kit has components, a non-kit has none,
/// quantities are positive, no component twice, a kit does not contain itself, kits are never lot-tracked.
/// (That a component is not itself a kit, and that GTINs are unique, needs the database: saveItem checks it.)
std::vector<Problem> prepareItem(Item& item);

/// As prepareItem for a location: code, name, country (two uppercase letters), region and text lengths.
std::vector<Problem> prepareLocation(Location& location);

/// "sku: is empty; name: is empty" — problems joined for one-line messages.
std::string joinProblems(const std::vector<Problem>& problems);

/// True when `text` is well-formed UTF-8.
bool isValidUtf8(std::string_view text);

/// Number of characters (code points) of well-formed UTF-8 text.
std::size_t utf8Length(std::string_view text);

}  // namespace keel::catalog
