#include "keel/pricing/rules.h"

#include "keel/catalog/validation.h"

#include <algorithm>

namespace keel::pricing {


Validity Validity::fromStored(std::int64_t valid_from, const std::optional<std::int64_t>& valid_to) {
    Validity validity;
    if (valid_from != kOpenStartYmd) validity.from = Date::fromYmd(static_cast<int>(valid_from));
    if (valid_to) validity.to = Date::fromYmd(static_cast<int>(*valid_to));
    return validity;
}

std::string Validity::toString() const {
    if (from && to) return "from " + from->toString() + " to " + to->toString();
    if (from) return "from " + from->toString();
    if (to) return "until " + to->toString();
    return "always";
}

Result<Validity> makeValidity(std::optional<Date> from, std::optional<Date> to) {
    if (from && to && *to < *from) {
        return reject(to->toString() + " is before valid_from " + from->toString() +
                          "; a price must be valid for at least one day (both dates are included)",
                      "valid_to");
    }
    return Validity{from, to};
}

const PriceEntry* selectEntry(std::span<const PriceEntry> entries, std::int64_t quantity, const Currency& currency,
                              Date date) {
    const PriceEntry* best = nullptr;
    for (const PriceEntry& entry : entries) {
        if (entry.currency == nullptr || *entry.currency != currency) continue;
        if (entry.min_quantity > quantity || !entry.validity.contains(date)) continue;
        if (best == nullptr || entry.min_quantity > best->min_quantity ||
            (entry.min_quantity == best->min_quantity && entry.validity.fromYmd() > best->validity.fromYmd())) {
            best = &entry;
        }
    }
    return best;
}

std::string priceListSource(std::string_view list_code) {
    return std::string(kPriceListSourcePrefix) + std::string(list_code);
}

std::optional<PriceMatch> choosePrice(std::span<const PriceEntry> contract, std::span<const PriceEntry> list,
                                      std::string_view list_code, std::int64_t quantity, const Currency& currency,
                                      Date date) {
    if (const PriceEntry* entry = selectEntry(contract, quantity, currency, date)) {
        return PriceMatch{{Money(entry->unit_price, currency), std::string(kContractSource)},
                          "",
                          entry->min_quantity,
                          entry->validity};
    }
    if (list_code.empty()) return std::nullopt;
    if (const PriceEntry* entry = selectEntry(list, quantity, currency, date)) {
        return PriceMatch{{Money(entry->unit_price, currency), priceListSource(list_code)},
                          std::string(list_code),
                          entry->min_quantity,
                          entry->validity};
    }
    return std::nullopt;
}

std::optional<std::string> priceListCodeProblem(std::string_view code) {
    if (code.empty()) return std::string("is empty; name the price list, e.g. RETAIL");
    for (std::size_t i = 0; i < code.size(); ++i) {
        const char c = code[i];
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                        c == '_' || c == '.';
        if (!ok) {
            return "'" + std::string(code) +
                   "' has a character other than a letter, digit, '-', '_' or '.' at position " +
                   std::to_string(i + 1) + "; price list codes are plain ASCII words such as RETAIL or EU-B2B";
        }
    }
    if (code.size() > kMaxPriceListCodeLength) {
        return "has " + std::to_string(code.size()) + " characters; a price list code has at most " +
               std::to_string(kMaxPriceListCodeLength);
    }
    return std::nullopt;
}






Result<const Currency*> parseCurrency(std::string_view code) {
    if (!Currency::find(code)) {
        return reject("'" + std::string(code) +
                          "' is not an ISO 4217 currency code; write three capital letters such as USD, EUR or JPY",
                      "currency");
    }
    return &Currency::of(code);
}

Result<Decimal> parseAmountSyntax(std::string_view text) {
    std::optional<Decimal> value;
    try {
        value = Decimal::parse(text);
    } catch (const RejectedError& e) {
        return reject(e.what());
    }
    if (value->isNegative()) {
        return reject("'" + std::string(text) + "' is negative; prices and credit limits are amounts of 0 or more");
    }
    return *value;
}

Result<Money> parseAmount(std::string_view text, const Currency& currency) {
    auto syntax = parseAmountSyntax(text);
    if (!syntax) return syntax.problem();
    const Decimal& value = syntax.value();
    try {
        const Decimal minor = value.rescale(currency.exponent(), RoundingMode::kDown);
        if (minor != value) {
            const auto places = [](int n) {
                return std::to_string(n) + (n == 1 ? " decimal place" : " decimal places");
            };
            return reject("'" + std::string(text) + "' has " + places(value.scale()) + ", but " +
                          std::string(currency.code()) + " amounts have " + places(currency.exponent()) +
                          "; write the exact amount (Keel never rounds a price)");
        }
        return Money(minor.mantissa(), currency);
    } catch (const RejectedError&) {
        return reject("'" + std::string(text) + "' is too large for an amount in " + std::string(currency.code()));
    }
}

Result<std::int64_t> checkMinQuantity(std::int64_t quantity) {
    if (quantity < 1) {
        return reject(std::to_string(quantity) +
                          " is less than 1; min_quantity is the quantity in base units from which the price applies "
                          "(1 for the price of a single unit)",
                      "min_quantity");
    }
    return quantity;
}

}  // namespace keel::pricing
