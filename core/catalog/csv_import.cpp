#include "keel/catalog/csv_import.h"

#include <algorithm>
#include <utility>

namespace keel::catalog::csv_import {

csv::Columns columnsOf(const std::vector<std::string>& all, const std::set<std::string>& required) {
    csv::Columns columns;
    for (const auto& name : all) (required.count(name) != 0 ? columns.required : columns.optional).push_back(name);
    return columns;
}

void sortProblems(std::vector<csv::ParseError>& problems, const std::vector<std::string>& columns) {
    auto rank = [&](const csv::ParseError& e) {
        const auto it = std::find(columns.begin(), columns.end(), e.column());
        return it == columns.end() ? std::size_t{0} : static_cast<std::size_t>(it - columns.begin()) + 1;
    };
    std::stable_sort(problems.begin(), problems.end(), [&](const csv::ParseError& a, const csv::ParseError& b) {
        return std::make_pair(a.line(), rank(a)) < std::make_pair(b.line(), rank(b));
    });
}

}  // namespace keel::catalog::csv_import
