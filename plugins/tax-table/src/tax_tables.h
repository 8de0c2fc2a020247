// The rate tables of the tax-table plugin, loaded once from a directory of CSV files (docs/plugins.md,
// "The tax-table plugin"): jurisdictions.csv (names, rounding, shipping taxability), us_states.csv,
// us_zip_rates.csv, eu_vat.csv, class_rates.csv and exemptions.csv. Every code a table uses must be declared in
// jurisdictions.csv, so a typo fails at load time with file:line and column instead of taxing nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace keel::taxtable {

enum class Rounding { kLine, kDocument };

struct Jurisdiction {
    std::string code{};  // "US-IL", "US-IL-COOK", "DE"
    std::string name{};
    Rounding rounding = Rounding::kLine;
    bool shipping_taxable = false;
};

/// One row of us_zip_rates.csv: the jurisdictions and rates of a 5-digit ZIP code.
struct ZipRate {
    std::string state{};
    std::string region_name{};
    int64_t state_rate = 0;
    std::vector<std::pair<std::string, int64_t>> local{};  // county, city, special: (jurisdiction code, rate)
};

struct VatRate {
    int64_t standard = 0;
    std::optional<int64_t> reduced{};
};

struct Exemption {
    std::string customer_id{};
    std::string certificate{};
    std::string jurisdiction{};  // "US" covers US-IL and US-IL-COOK; "US-IL" covers US-IL-COOK
    std::string valid_from{};    // YYYY-MM-DD, inclusive
    std::string valid_to{};      // YYYY-MM-DD, inclusive; empty: no end
};

class TaxTables {
public:
    /// Loads every table of `directory`; jurisdictions.csv is required, the others are optional.
    static TaxTables load(const std::string& directory);

    const Jurisdiction* jurisdiction(const std::string& code) const;
    const ZipRate* zip(const std::string& zip5) const;
    std::optional<int64_t> stateRate(const std::string& state) const;
    const VatRate* vat(const std::string& country) const;
    /// A class-specific rate (class_rates.csv) of a jurisdiction, if the tables give one.
    std::optional<int64_t> classRate(const std::string& jurisdiction, const std::string& tax_class) const;
    /// standard, reduced, exempt, shipping and every class of class_rates.csv.
    bool knowsClass(const std::string& tax_class) const;
    /// The first certificate of `customer_id` valid on `date` whose jurisdiction covers `code`.
    const Exemption* exemption(const std::string& customer_id, const std::string& code, const std::string& date) const;

    std::size_t zipCount() const { return zips_.size(); }
    std::size_t jurisdictionCount() const { return jurisdictions_.size(); }

private:
    std::map<std::string, Jurisdiction> jurisdictions_{};
    std::map<std::string, ZipRate> zips_{};
    std::map<std::string, int64_t> states_{};
    std::map<std::string, VatRate> vat_{};
    std::map<std::pair<std::string, std::string>, int64_t> class_rates_{};
    std::set<std::string> classes_{"standard", "reduced", "exempt", "shipping"};
    std::vector<Exemption> exemptions_{};
};

/// True when `text` is a calendar date written YYYY-MM-DD.
bool isIsoDate(const std::string& text);

}  // namespace keel::taxtable
