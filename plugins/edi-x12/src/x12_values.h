// Element values of inbound sets as Keel wants them: trimmed text, exact decimals, ISO dates, whole quantities, and
// the product ids and units of a line read through the partner's profile. Shared by the readers of every set.
#pragma once

#include "partner.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::edix12 {

std::string trim(std::string_view text);
bool allDigits(std::string_view text);
/// "a, b, c" (or "none" for an empty list).
std::string joined(const std::vector<std::string>& parts);

/// An X12 R (decimal) value as an exact decimal string: "3", "3.5"; nullopt for a negative or malformed one.
std::optional<std::string> decimalAmount(std::string_view text);
/// CCYYMMDD (or YYMMDD, years 00-49 → 20xx) → YYYY-MM-DD.
std::optional<std::string> isoDate(std::string_view text);
/// An R quantity that must be a whole number from `min` to 10^9 ("12", "12.0"); nullopt otherwise (a fraction is
/// never rounded).
std::optional<std::int64_t> wholeQuantity(std::string_view text, std::int64_t min = 1);

/// The product ids of one line: (qualifier, id) pairs as the segment gives them; a repeated qualifier keeps its first
/// id. The partner's `items` preference picks the one that names the item.
class ProductIds {
public:
    void add(std::string_view qualifier, std::string_view id);
    /// The id under the first qualifier of the partner's `items` that is present; empty when none is.
    std::string preferred(const PartnerProfile& partner) const;
    /// The qualifiers present ("UK, VN"), or "none".
    std::string qualifiers() const;
    /// {"VN": "A-1", ...}, or nullptr when there are none (the x_product_ids of a document line).
    Poco::JSON::Object::Ptr toJson() const;

private:
    std::map<std::string, std::string> ids_;
};

/// The Keel unit an X12 unit code (PO103, W1205, W0702) means for the partner: "" for the item's base unit (EA unless
/// the profile says otherwise), nullopt for a code its profile does not map.
std::optional<std::string> keelUnit(const PartnerProfile& partner, const std::string& code);
/// Why `code` was refused, naming the profile key that would map it.
std::string unitRefused(const PartnerProfile& partner, const std::string& code);

}  // namespace keel::edix12
