#pragma once
// CSV files as operators exchange them with spreadsheets and other systems (RFC 4180): a streaming reader
// that reports every problem with file, line and column, a header-mapped row view with typed fields, and a
// writer that quotes only where needed. Text must be UTF-8 (a byte-order mark is skipped).

#include "keel/kernel/error.h"

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::csv {

/// A malformed file or field: where (source, 1-based line and column or column name) and why.
/// Thrown by Reader for structural problems and by Row's typed getters for field values. A RejectedError, so
/// an uncaught one ends a command with exit code 2 and its message.
class ParseError : public RejectedError {
public:
    ParseError(std::string source, std::size_t line, std::string column, std::string reason);
    const std::string& source() const { return source_; }
    std::size_t line() const { return line_; }
    const std::string& column() const { return column_; }  ///< a header name, or "column N"; empty if none
    const std::string& reason() const { return reason_; }

private:
    std::string source_;
    std::size_t line_;
    std::string column_;
    std::string reason_;
};

/// One record: the line it starts on and its fields (a quoted field may span lines).
struct Record {
    std::size_t line = 0;
    std::vector<std::string> fields;
};

/// Streaming reader. Separator ',' by default. A field longer than kMaxFieldBytes is refused (usually a quote
/// that was never closed), so a broken file cannot make the reader hold all of it in memory. Accepts LF and CRLF line ends, "" inside quoted fields,
/// separators and line breaks inside quoted fields, a final line without a line break. Skips completely
/// empty lines. Throws ParseError for: invalid UTF-8 (line and column of the first bad byte), a quote inside
/// an unquoted field, text after a closing quote, a quoted field still open at the end of the file, a NUL byte.
class Reader {
public:
    static constexpr std::size_t kMaxFieldBytes = 1 << 20;

    Reader(std::istream& in, std::string source, char separator = ',');
    /// Reads the next record; false at the end of the input.
    bool next(Record& record);
    /// Bytes consumed so far (for progress on large files).
    std::uint64_t bytesRead() const { return bytes_; }
    const std::string& source() const { return source_; }

private:
    int get();
    std::istream& in_;
    std::string source_;
    char separator_;
    std::size_t line_ = 1;
    std::uint64_t bytes_ = 0;
    bool started_ = false;
};

/// The columns a file must and may have. Header names are matched exactly after trimming spaces.
struct Columns {
    std::vector<std::string> required;
    std::vector<std::string> optional;
};

/// Maps a header record to column positions. Throws ParseError (line of the header) naming every missing
/// required column, any duplicate name, and any unknown name together with the accepted ones.
class Header {
public:
    Header(const Record& header, const Columns& columns, const std::string& source);
    /// Position of a column, or nullopt when an optional column is absent.
    std::optional<std::size_t> position(const std::string& name) const;
    std::size_t size() const { return size_; }
    const std::string& source() const { return source_; }

private:
    std::map<std::string, std::size_t> positions_;
    std::size_t size_ = 0;
    std::string source_;
};

/// A record seen through its header, with typed getters that throw ParseError naming line and column.
/// A record with a different number of fields than the header is refused on construction.
class Row {
public:
    Row(const Header& header, const Record& record);
    Row(const Header& header, Record&& record) = delete;  // a Row refers to its record: keep the record alive

    std::size_t line() const { return record_.line; }
    /// Trimmed text; required columns must not be empty.
    std::string text(const std::string& column) const;
    /// Trimmed text, or nullopt when the column is absent or empty.
    std::optional<std::string> optionalText(const std::string& column) const;
    /// A whole number (optional leading '-'); throws for anything else or out of int64 range.
    std::int64_t integer(const std::string& column) const;
    std::optional<std::int64_t> optionalInteger(const std::string& column) const;
    /// true/false, yes/no, 1/0 (case-insensitive); an absent or empty optional column gives `fallback`.
    bool boolean(const std::string& column, std::optional<bool> fallback = std::nullopt) const;
    /// Throws ParseError for this row and column with `reason` (for domain validation of a field).
    [[noreturn]] void fail(const std::string& column, const std::string& reason) const;

private:
    const std::string* raw(const std::string& column) const;
    const Header& header_;
    const Record& record_;
};

/// Writes records, quoting fields that contain the separator, a quote, CR or LF, or start or end with a
/// space. Line ends are CRLF, as RFC 4180 says.
class Writer {
public:
    explicit Writer(std::ostream& out, char separator = ',') : out_(out), separator_(separator) {}
    void write(const std::vector<std::string>& fields);

private:
    std::ostream& out_;
    char separator_;
};

}  // namespace keel::csv
