#include "csv_table.h"

#include <fstream>

namespace keel::taxtable {
namespace {

std::string trim(const std::string& text) {
    const auto begin = text.find_first_not_of(" \t\r");
    if (begin == std::string::npos) return {};
    const auto end = text.find_last_not_of(" \t\r");
    return text.substr(begin, end - begin + 1);
}

std::vector<std::string> splitLine(const std::string& path, int line_number, const std::string& line) {
    std::vector<std::string> fields;
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.push_back(trim(field));
            field.clear();
        } else {
            field += c;
        }
    }
    if (quoted) {
        throw TableError(path + ":" + std::to_string(line_number) + ": column " + std::to_string(fields.size() + 1) +
                         ": a quoted field is not closed on this line");
    }
    fields.push_back(trim(field));
    return fields;
}

}  // namespace

CsvTable CsvTable::read(const std::string& path, const std::vector<std::string>& required) {
    std::ifstream in(path);
    if (!in) throw TableError(path + ": cannot be read (missing file or no permission)");
    CsvTable table;
    table.path_ = path;
    std::string line;
    int line_number = 0;
    bool have_header = false;
    std::size_t width = 0;
    while (std::getline(in, line)) {
        ++line_number;
        if (line_number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a BOM from spreadsheets
        const std::string trimmed = trim(line);
        if (trimmed.empty() || trimmed[0] == '#') continue;
        auto fields = splitLine(path, line_number, line);
        if (!have_header) {
            for (std::size_t i = 0; i < fields.size(); ++i) table.columns_.emplace(fields[i], i);
            for (const auto& column : required) {
                if (table.columns_.count(column) == 0) {
                    throw TableError(path + ":" + std::to_string(line_number) + ": column '" + column +
                                     "' is missing from the header");
                }
            }
            width = fields.size();
            have_header = true;
            continue;
        }
        if (fields.size() != width) {
            throw TableError(path + ":" + std::to_string(line_number) + ": column " + std::to_string(fields.size()) +
                             ": " + std::to_string(fields.size()) + " fields where the header has " +
                             std::to_string(width));
        }
        table.rows_.push_back(Row{line_number, std::move(fields)});
    }
    if (!have_header) throw TableError(path + ":1: the header row is missing");
    return table;
}

const std::string& CsvTable::get(const Row& row, const std::string& column) const {
    static const std::string empty;
    const auto found = columns_.find(column);
    return found == columns_.end() ? empty : row.fields[found->second];
}

TableError CsvTable::error(const Row& row, const std::string& column, const std::string& message) const {
    return TableError(path_ + ":" + std::to_string(row.line) + ": column '" + column + "': " + message);
}

}  // namespace keel::taxtable
