#pragma once
// Reading an import CSV file, shared by the catalog imports and those that build on them (prices, contracts,
// customers): the header against the known columns, every data row to a callback, every problem collected with
// its line and column, a structural problem (invalid UTF-8, broken quoting) ending the reading.

#include "keel/catalog/import.h"
#include "keel/kernel/csv.h"
#include "keel/kernel/error.h"

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace keel::catalog::csv_import {

/// The columns of a file: `all` in order, those in `required` required.
csv::Columns columnsOf(const std::vector<std::string>& all, const std::set<std::string>& required);

/// Collects the problems of one row: every field is tried, so one row can report several problems. `bad` keeps the
/// columns that already have a problem, so a later rule does not report a column a second time.
class RowCheck {
public:
    RowCheck(const std::string& source, std::size_t line, std::vector<csv::ParseError>& problems,
             std::set<std::string>& bad)
        : source_(source), line_(line), problems_(problems), bad_(bad) {}

    template <typename Read>
    void field(Read&& read) {
        try {
            read();
        } catch (const csv::ParseError& e) {
            add(e);
        }
    }
    void add(const csv::ParseError& e) {
        problems_.push_back(e);
        bad_.insert(e.column());
    }
    void add(const std::string& column, const std::string& reason) {
        add(csv::ParseError(source_, line_, column, reason));
    }
    /// Domain problems, skipping columns that already failed to read (their value is a default, not the file's).
    void addAll(const std::vector<Problem>& problems) {
        const std::set<std::string> earlier = bad_;
        for (const auto& problem : problems) {
            if (earlier.count(problem.field) == 0) add(problem.field, problem.message);
        }
    }

private:
    const std::string& source_;
    std::size_t line_;
    std::vector<csv::ParseError>& problems_;
    std::set<std::string>& bad_;
};

/// Reads a whole CSV file: the header, then `on_row` for every data row. Row-level problems are collected;
/// a structural problem (invalid UTF-8, broken quoting) ends the reading, because the reader cannot go on.
template <typename OnRow>
void readFile(std::istream& in, const std::string& source, const std::vector<std::string>& all,
              const std::set<std::string>& required, const ImportOptions& options, ImportReport& report,
              std::set<std::string>& present, OnRow&& on_row) {
    csv::Reader reader(in, source);
    csv::Record record;
    try {
        if (!reader.next(record)) {
            std::string names;
            for (const auto& name : all) names += (names.empty() ? "" : ",") + name;
            report.problems.emplace_back(source, 0, "",
                                         "the file is empty; its first line must name the columns, e.g. " + names);
            return;
        }
        std::optional<csv::Header> header_or_problem;
        try {
            header_or_problem.emplace(record, columnsOf(all, required), source);
        } catch (const csv::ParseError& e) {
            report.problems.push_back(e);  // without its columns no row can be understood
            return;
        }
        const csv::Header& header = *header_or_problem;
        for (const auto& name : all) {
            if (header.position(name)) present.insert(name);
        }
        while (reader.next(record)) {
            ++report.rows;
            try {
                const csv::Row row(header, record);
                on_row(row);
            } catch (const csv::ParseError& e) {
                report.problems.push_back(e);
            }
            if (options.on_read) options.on_read(report.rows, reader.bytesRead());
        }
    } catch (const csv::ParseError& e) {
        report.problems.emplace_back(e.source(), e.line(), e.column(),
                                     e.reason() + "; the rest of the file was not read");
    }
}

/// In line order, and within a line in column order (problems of the whole row first), as a reader scans a file.
void sortProblems(std::vector<csv::ParseError>& problems, const std::vector<std::string>& columns);

}  // namespace keel::catalog::csv_import
