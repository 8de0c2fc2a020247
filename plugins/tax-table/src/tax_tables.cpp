#include "tax_tables.h"

#include <filesystem>

#include "csv_table.h"
#include "decimal.h"

namespace keel::taxtable {
namespace {

bool exists(const std::string& path) {
    std::error_code ignored;
    return std::filesystem::exists(path, ignored);
}

int64_t rateAt(const CsvTable& table, const CsvTable::Row& row, const std::string& column) {
    const std::string& text = table.get(row, column);
    std::string why;
    const auto rate = parseDecimal(text, kRateDecimals, why);
    if (!rate) throw table.error(row, column, "\"" + text + "\" " + why + " (a rate such as 0.0625 is expected)");
    if (*rate > kRateScale) throw table.error(row, column, "\"" + text + "\" is above 1 (rates are fractions)");
    return *rate;
}

bool isLeap(int year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

}  // namespace

bool isIsoDate(const std::string& text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
        if (text[i] < '0' || text[i] > '9') return false;
    }
    const int year = std::stoi(text.substr(0, 4));
    const int month = std::stoi(text.substr(5, 2));
    const int day = std::stoi(text.substr(8, 2));
    static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1) return false;
    return day <= kDays[month - 1] + (month == 2 && isLeap(year) ? 1 : 0);
}

TaxTables TaxTables::load(const std::string& directory) {
    TaxTables tables;
    const std::string dir = directory.empty() || directory.back() == '/' ? directory : directory + "/";
    if (!std::filesystem::is_directory(directory)) {
        throw TableError(directory + ": the tax table directory does not exist (instance setting 'tables')");
    }

    const auto j = CsvTable::read(dir + "jurisdictions.csv", {"code", "name", "rounding", "shipping_taxable"});
    for (const auto& row : j.rows()) {
        Jurisdiction jurisdiction;
        jurisdiction.code = j.get(row, "code");
        jurisdiction.name = j.get(row, "name");
        if (jurisdiction.code.empty()) throw j.error(row, "code", "is empty");
        if (jurisdiction.name.empty()) throw j.error(row, "name", "is empty");
        const auto& rounding = j.get(row, "rounding");
        if (rounding == "line") {
            jurisdiction.rounding = Rounding::kLine;
        } else if (rounding == "document") {
            jurisdiction.rounding = Rounding::kDocument;
        } else {
            throw j.error(row, "rounding", "\"" + rounding + "\" is not line or document");
        }
        const auto& shipping = j.get(row, "shipping_taxable");
        if (shipping != "yes" && shipping != "no")
            throw j.error(row, "shipping_taxable", "\"" + shipping + "\" is not yes or no");
        jurisdiction.shipping_taxable = shipping == "yes";
        if (!tables.jurisdictions_.emplace(jurisdiction.code, jurisdiction).second) {
            throw j.error(row, "code", "\"" + jurisdiction.code + "\" is listed twice");
        }
    }

    // A code used by another table must be declared here: its name, rounding and shipping rule come from it.
    auto requireJurisdiction = [&tables](const CsvTable& table, const CsvTable::Row& row, const std::string& column,
                                         const std::string& code) {
        if (tables.jurisdictions_.count(code) == 0) {
            throw table.error(row, column, "jurisdiction \"" + code + "\" is not declared in jurisdictions.csv");
        }
    };

    if (exists(dir + "us_states.csv")) {
        const auto t = CsvTable::read(dir + "us_states.csv", {"state", "rate"});
        for (const auto& row : t.rows()) {
            const auto& state = t.get(row, "state");
            if (state.size() != 2) throw t.error(row, "state", "\"" + state + "\" is not a two-letter state code");
            requireJurisdiction(t, row, "state", "US-" + state);
            if (!tables.states_.emplace(state, rateAt(t, row, "rate")).second) {
                throw t.error(row, "state", "\"" + state + "\" is listed twice");
            }
        }
    }

    if (exists(dir + "us_zip_rates.csv")) {
        // The column names of the public TAXRATES_ZIP5 files, plus the jurisdiction code of each local rate.
        const auto t =
            CsvTable::read(dir + "us_zip_rates.csv",
                           {"State", "ZipCode", "TaxRegionName", "StateRate", "EstimatedCountyRate",
                            "EstimatedCityRate", "EstimatedSpecialRate", "CountyCode", "CityCode", "SpecialCode"});
        for (const auto& row : t.rows()) {
            ZipRate zip;
            zip.state = t.get(row, "State");
            const auto& code = t.get(row, "ZipCode");
            if (code.size() != 5 || code.find_first_not_of("0123456789") != std::string::npos) {
                throw t.error(row, "ZipCode", "\"" + code + "\" is not a 5-digit ZIP code");
            }
            requireJurisdiction(t, row, "State", "US-" + zip.state);
            zip.region_name = t.get(row, "TaxRegionName");
            zip.state_rate = rateAt(t, row, "StateRate");
            for (const auto& [rate_column, code_column] :
                 {std::pair<std::string, std::string>{"EstimatedCountyRate", "CountyCode"},
                  {"EstimatedCityRate", "CityCode"},
                  {"EstimatedSpecialRate", "SpecialCode"}}) {
                const int64_t rate = rateAt(t, row, rate_column);
                const auto& local = t.get(row, code_column);
                if (local.empty()) {
                    if (rate != 0) throw t.error(row, code_column, "is empty but " + rate_column + " is not 0");
                    continue;
                }
                requireJurisdiction(t, row, code_column, local);
                zip.local.emplace_back(local, rate);
            }
            if (!tables.zips_.emplace(code, zip).second)
                throw t.error(row, "ZipCode", "\"" + code + "\" is listed twice");
        }
    }

    if (exists(dir + "eu_vat.csv")) {
        const auto t = CsvTable::read(dir + "eu_vat.csv", {"country", "standard_rate", "reduced_rate"});
        for (const auto& row : t.rows()) {
            const auto& country = t.get(row, "country");
            requireJurisdiction(t, row, "country", country);
            VatRate vat;
            vat.standard = rateAt(t, row, "standard_rate");
            if (!t.get(row, "reduced_rate").empty()) vat.reduced = rateAt(t, row, "reduced_rate");
            if (!tables.vat_.emplace(country, vat).second)
                throw t.error(row, "country", "\"" + country + "\" is listed twice");
        }
    }

    if (exists(dir + "class_rates.csv")) {
        const auto t = CsvTable::read(dir + "class_rates.csv", {"jurisdiction", "tax_class", "rate"});
        for (const auto& row : t.rows()) {
            const auto& code = t.get(row, "jurisdiction");
            const auto& tax_class = t.get(row, "tax_class");
            requireJurisdiction(t, row, "jurisdiction", code);
            if (tax_class.empty() || tax_class == "exempt" || tax_class == "shipping") {
                throw t.error(row, "tax_class", "\"" + tax_class + "\" cannot have a rate of its own");
            }
            tables.classes_.insert(tax_class);
            if (!tables.class_rates_.emplace(std::make_pair(code, tax_class), rateAt(t, row, "rate")).second) {
                throw t.error(row, "tax_class", "\"" + tax_class + "\" is listed twice for " + code);
            }
        }
    }

    if (exists(dir + "exemptions.csv")) {
        const auto t = CsvTable::read(dir + "exemptions.csv",
                                      {"customer_id", "certificate", "jurisdiction", "valid_from", "valid_to"});
        for (const auto& row : t.rows()) {
            Exemption exemption{t.get(row, "customer_id"), t.get(row, "certificate"), t.get(row, "jurisdiction"),
                                t.get(row, "valid_from"), t.get(row, "valid_to")};
            if (exemption.customer_id.empty()) throw t.error(row, "customer_id", "is empty");
            if (exemption.certificate.empty()) throw t.error(row, "certificate", "is empty");
            // "US" covers every US jurisdiction without being one that is taxed itself.
            if (exemption.jurisdiction != "US") requireJurisdiction(t, row, "jurisdiction", exemption.jurisdiction);
            if (!isIsoDate(exemption.valid_from)) {
                throw t.error(row, "valid_from", "\"" + exemption.valid_from + "\" is not a date (YYYY-MM-DD)");
            }
            if (!exemption.valid_to.empty() && !isIsoDate(exemption.valid_to)) {
                throw t.error(row, "valid_to", "\"" + exemption.valid_to + "\" is not a date (YYYY-MM-DD) or empty");
            }
            if (!exemption.valid_to.empty() && exemption.valid_to < exemption.valid_from) {
                throw t.error(row, "valid_to", exemption.valid_to + " is before valid_from " + exemption.valid_from);
            }
            tables.exemptions_.push_back(std::move(exemption));
        }
    }
    return tables;
}

const Jurisdiction* TaxTables::jurisdiction(const std::string& code) const {
    const auto found = jurisdictions_.find(code);
    return found == jurisdictions_.end() ? nullptr : &found->second;
}

const ZipRate* TaxTables::zip(const std::string& zip5) const {
    const auto found = zips_.find(zip5);
    return found == zips_.end() ? nullptr : &found->second;
}

std::optional<int64_t> TaxTables::stateRate(const std::string& state) const {
    const auto found = states_.find(state);
    if (found == states_.end()) return std::nullopt;
    return found->second;
}

const VatRate* TaxTables::vat(const std::string& country) const {
    const auto found = vat_.find(country);
    return found == vat_.end() ? nullptr : &found->second;
}

std::optional<int64_t> TaxTables::classRate(const std::string& code, const std::string& tax_class) const {
    const auto found = class_rates_.find(std::make_pair(code, tax_class));
    if (found == class_rates_.end()) return std::nullopt;
    return found->second;
}

bool TaxTables::knowsClass(const std::string& tax_class) const {
    return classes_.count(tax_class) != 0;
}

const Exemption* TaxTables::exemption(const std::string& customer_id, const std::string& code,
                                      const std::string& date) const {
    if (customer_id.empty()) return nullptr;
    for (const auto& e : exemptions_) {
        if (e.customer_id != customer_id) continue;
        const bool covers = code == e.jurisdiction || code.rfind(e.jurisdiction + "-", 0) == 0;
        const bool valid = e.valid_from <= date && (e.valid_to.empty() || date <= e.valid_to);
        if (covers && valid) return &e;
    }
    return nullptr;
}

}  // namespace keel::taxtable
