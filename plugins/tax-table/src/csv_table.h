// A small CSV reader for the rate tables: a header row naming the columns, RFC 4180 quoting within a line, and
// lines starting with '#' as comments (the shipped tables say where their rates come from). Every error names
// file:line and the column, so an operator can fix a table without reading code.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::taxtable {

/// A table file that cannot be used; what() names file:line and column.
class TableError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class CsvTable {
public:
    struct Row {
        int line = 0;
        std::vector<std::string> fields{};
    };

    /// Reads `path`; every column of `required` must be in the header (other columns are ignored).
    static CsvTable read(const std::string& path, const std::vector<std::string>& required);

    const std::vector<Row>& rows() const { return rows_; }
    bool hasColumn(const std::string& column) const { return columns_.count(column) != 0; }
    /// The trimmed value of `column` in `row` ("" when the column is absent from an optional position).
    const std::string& get(const Row& row, const std::string& column) const;
    /// A TableError "path:line: column 'column': message".
    TableError error(const Row& row, const std::string& column, const std::string& message) const;
    const std::string& path() const { return path_; }

private:
    std::string path_{};
    std::map<std::string, std::size_t> columns_{};
    std::vector<Row> rows_{};
};

}  // namespace keel::taxtable
