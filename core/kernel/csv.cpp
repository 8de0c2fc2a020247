#include "keel/kernel/csv.h"

#include <istream>
#include <limits>
#include <ostream>
#include <set>
#include <stdexcept>
#include <streambuf>
#include <utility>

// Decisions that the header leaves open:
//  * Columns in Reader errors count characters (Unicode code points), starting at 1, because that is what an
//    operator sees in an editor; a byte offset would point elsewhere on any line with accented letters. A byte
//    order mark is not counted. An invalid UTF-8 sequence is reported at the column where it starts.
//  * A lone CR (not followed by LF) ends a line like LF and CRLF do: spreadsheets on old Macs still write such
//    files, and rejecting them would only make the operator convert the file by hand. Inside a quoted field
//    every line break is kept exactly as written.
//  * After a Reader has thrown, its position in the input is unspecified; it must not be used any further.

namespace keel::csv {

namespace {

constexpr int kEndOfInput = -1;
// Header::positions_ entry of an optional column the file does not have. Keeping it in the map is how the
// header remembers the full column specification, so that a name outside it is caught as a programming error.
constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
constexpr const char* kAfterClosingQuote =
    "text after the closing quote (a quote inside a quoted field is written \"\")";
constexpr const char* kNoSuchColumn = "is required here, but the file has no such column";
// Field values quoted in messages are cut to this many bytes so that a runaway field cannot flood a log.
constexpr std::size_t kMaxQuotedValue = 60;

bool isBlank(char c) {
    return c == ' ' || c == '\t';
}

std::string trim(std::string_view text) {
    std::size_t begin = 0;
    std::size_t end = text.size();
    while (begin < end && isBlank(text[begin])) ++begin;
    while (end > begin && isBlank(text[end - 1])) --end;
    return std::string(text.substr(begin, end - begin));
}

// Separators that would make records ambiguous: the quote and line breaks are structure, NUL is rejected as
// content, and a byte >= 0x80 could be part of a UTF-8 character.
void checkSeparator(char separator) {
    const auto byte = static_cast<unsigned char>(separator);
    if (separator == '"' || separator == '\r' || separator == '\n' || byte == 0 || byte >= 0x80) {
        throw std::invalid_argument("keel::csv: a separator cannot be '\"', CR, LF, NUL or a non-ASCII byte");
    }
}

std::string columnAt(std::size_t position) {
    return "column " + std::to_string(position);
}

// "column 12" as opposed to a header name: ParseError formats the two differently.
bool isPosition(const std::string& column) {
    constexpr std::string_view prefix = "column ";
    if (column.size() <= prefix.size() || column.compare(0, prefix.size(), prefix) != 0) return false;
    for (std::size_t i = prefix.size(); i < column.size(); ++i) {
        if (column[i] < '0' || column[i] > '9') return false;
    }
    return true;
}

std::string hex(unsigned value, int min_digits) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string digits;
    do {
        digits.insert(digits.begin(), kDigits[value % 16]);
        value /= 16;
    } while (value != 0);
    if (digits.size() < static_cast<std::size_t>(min_digits)) {
        digits.insert(0, static_cast<std::size_t>(min_digits) - digits.size(), '0');
    }
    return digits;
}

std::string byteName(unsigned char byte) {
    return "byte 0x" + hex(byte, 2);
}

// 'value' for a message, shortened on a character boundary when long.
std::string quoted(const std::string& value) {
    if (value.size() <= kMaxQuotedValue) return "'" + value + "'";
    std::size_t end = kMaxQuotedValue;
    while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) --end;
    return "'" + value.substr(0, end) + "...'";
}

std::string counted(std::size_t count, const std::string& noun) {
    return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

std::string joined(const std::vector<std::string>& items, const std::string& separator) {
    std::string text;
    for (const auto& item : items) {
        if (!text.empty()) text += separator;
        text += item;
    }
    return text;
}

// "3", "3 and 5", "3, 5 and 8"
std::string positionList(const std::vector<std::size_t>& positions) {
    std::string text;
    for (std::size_t i = 0; i < positions.size(); ++i) {
        if (i > 0) text += i + 1 == positions.size() ? " and " : ", ";
        text += std::to_string(positions[i]);
    }
    return text;
}

// Decodes the UTF-8 sequence that starts with `lead` (>= 0x80), appending its bytes to `out`. Returns the code
// point, or an empty optional with `problem` set. Continuation bytes come from `nextByte` so that the reader
// keeps streaming; the sequence is checked as a whole, as RFC 3629 requires: no overlong forms, no
// surrogates, nothing above U+10FFFF, no missing continuation bytes.
template <typename NextByte>
std::optional<char32_t> decodeUtf8(unsigned char lead, std::string& out, std::string& problem, NextByte nextByte) {
    int continuation_bytes = 0;
    char32_t code_point = 0;
    char32_t smallest = 0;  // the smallest code point that needs this many bytes; anything less is overlong
    if (lead < 0xC0) {
        problem = byteName(lead) + " cannot start a character";
        return std::nullopt;
    } else if (lead < 0xC2) {
        problem = "overlong encoding (" + byteName(lead) + ")";  // C0 and C1 could only encode ASCII
        return std::nullopt;
    } else if (lead < 0xE0) {
        continuation_bytes = 1;
        code_point = lead & 0x1Fu;
        smallest = 0x80;
    } else if (lead < 0xF0) {
        continuation_bytes = 2;
        code_point = lead & 0x0Fu;
        smallest = 0x800;
    } else if (lead < 0xF5) {
        continuation_bytes = 3;
        code_point = lead & 0x07u;
        smallest = 0x10000;
    } else {
        problem = byteName(lead) + " never occurs in UTF-8";
        return std::nullopt;
    }
    out.push_back(static_cast<char>(lead));
    for (int i = 0; i < continuation_bytes; ++i) {
        const int next = nextByte();
        if (next == kEndOfInput || (static_cast<unsigned>(next) & 0xC0u) != 0x80u) {
            problem = "truncated sequence starting with " + byteName(lead);
            return std::nullopt;
        }
        code_point = (code_point << 6) | (static_cast<unsigned>(next) & 0x3Fu);
        out.push_back(static_cast<char>(next));
    }
    if (code_point < smallest) {
        problem = "overlong encoding of U+" + hex(code_point, 4);
    } else if (code_point >= 0xD800 && code_point <= 0xDFFF) {
        problem = "encoded surrogate U+" + hex(code_point, 4);
    } else if (code_point > 0x10FFFF) {
        problem = "code point U+" + hex(code_point, 4) + " is beyond U+10FFFF";
    } else {
        return code_point;
    }
    return std::nullopt;
}

enum class IntegerParse { kOk, kMalformed, kOutOfRange };

// Strict: an optional '-' and ASCII digits, nothing else. Accumulates the magnitude unsigned so that the most
// negative int64 is representable.
IntegerParse parseInteger(std::string_view text, std::int64_t& result) {
    const bool negative = !text.empty() && text.front() == '-';
    const std::string_view digits = negative ? text.substr(1) : text;
    if (digits.empty()) return IntegerParse::kMalformed;
    for (const char c : digits) {
        if (c < '0' || c > '9') return IntegerParse::kMalformed;
    }
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    const std::uint64_t limit = negative ? kMax + 1 : kMax;
    std::uint64_t magnitude = 0;
    for (const char c : digits) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (magnitude > (limit - digit) / 10) return IntegerParse::kOutOfRange;
        magnitude = magnitude * 10 + digit;
    }
    if (!negative) {
        result = static_cast<std::int64_t>(magnitude);
    } else if (magnitude == kMax + 1) {
        result = std::numeric_limits<std::int64_t>::min();
    } else {
        result = -static_cast<std::int64_t>(magnitude);
    }
    return IntegerParse::kOk;
}

[[noreturn]] void throwAt(const std::string& source, std::size_t line, std::size_t column, const std::string& reason) {
    throw ParseError(source, line, columnAt(column), reason);
}

std::int64_t toInteger(const Row& row, const std::string& column, const std::string& value) {
    std::int64_t result = 0;
    const IntegerParse parsed = parseInteger(value, result);
    if (parsed == IntegerParse::kMalformed) row.fail(column, quoted(value) + " is not a whole number");
    if (parsed == IntegerParse::kOutOfRange) row.fail(column, quoted(value) + " is out of range");
    return result;
}

std::string asciiLower(std::string text) {
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return text;
}

}  // namespace

// --- ParseError ---------------------------------------------------------------------------------------------

namespace {

// "items.csv:12: column 'gtin': check digit is 3, expected 7"
std::string parseErrorText(const std::string& source, std::size_t line, const std::string& column,
                           const std::string& reason) {
    std::string text = source;
    if (line > 0) text += ":" + std::to_string(line);  // line 0: the problem concerns the input as a whole
    text += ": ";
    if (!column.empty()) text += (isPosition(column) ? column : "column '" + column + "'") + ": ";
    return text + reason;
}

}  // namespace

ParseError::ParseError(std::string source, std::size_t line, std::string column, std::string reason)
    : RejectedError(parseErrorText(source, line, column, reason)),
      source_(std::move(source)),
      line_(line),
      column_(std::move(column)),
      reason_(std::move(reason)) {}

// --- Reader -------------------------------------------------------------------------------------------------

Reader::Reader(std::istream& in, std::string source, char separator)
    : in_(in), source_(std::move(source)), separator_(separator) {
    checkSeparator(separator_);
    if (in_.rdbuf() == nullptr) throw std::invalid_argument("keel::csv::Reader: the stream has no buffer");
}

// Reads straight from the stream buffer: it does the buffering (a file is never loaded whole), and sbumpc is
// an inline pointer bump on the common path, where istream::get would build a sentry for every byte.
int Reader::get() {
    const int c = in_.rdbuf()->sbumpc();
    if (c == std::char_traits<char>::eof()) return kEndOfInput;
    ++bytes_;
    return c;
}

bool Reader::next(Record& record) {
    record.fields.clear();
    record.line = line_;
    // Only the very first character of the input can be a byte order mark.
    bool at_input_start = !started_;
    if (!started_) {
        started_ = true;
        // An ifstream that failed to open would otherwise read as an empty file.
        if (in_.fail()) throw ParseError(source_, 0, "", "cannot be read");
    }

    enum class State {
        kFieldStart,  // nothing of the current field read yet
        kUnquoted,
        kQuoted,
        kQuoteInQuoted,  // a '"' inside a quoted field: the closing quote or the first half of ""
    };
    State state = State::kFieldStart;
    std::string field;
    bool has_content = false;  // false while the line is completely empty, so far
    std::size_t column = 1;    // column of the next character on the current line
    std::size_t quote_line = 0;
    std::size_t quote_column = 0;

    // CR LF counts as one line break; the LF is consumed with the CR.
    auto lineBreak = [&](int c, std::string* keep) {
        if (keep != nullptr) keep->push_back(static_cast<char>(c));
        if (c == '\r' && in_.rdbuf()->sgetc() == '\n') {
            get();
            if (keep != nullptr) keep->push_back('\n');
        }
        ++line_;
        column = 1;
    };

    for (;;) {
        const int c = get();
        if (c == kEndOfInput) {
            if (state == State::kQuoted) {
                throwAt(source_, quote_line, quote_column, "quoted field is not closed: the input ends inside it");
            }
            if (!has_content) return false;
            record.fields.push_back(std::move(field));
            return true;
        }
        const std::size_t here = column++;
        const auto byte = static_cast<unsigned char>(c);
        if (byte == 0) {
            throwAt(source_, line_, here, "NUL byte (the file may be UTF-16 or binary; save it as UTF-8 text)");
        }

        if (byte >= 0x80) {
            if (state == State::kQuoteInQuoted) {
                throwAt(source_, line_, here, kAfterClosingQuote);
            }
            const std::size_t before = field.size();
            std::string problem;
            const auto code_point = decodeUtf8(byte, field, problem, [this] { return get(); });
            if (!code_point) throwAt(source_, line_, here, "invalid UTF-8: " + problem + " (save the file as UTF-8)");
            if (at_input_start && *code_point == 0xFEFF) {
                field.resize(before);
                column = here;  // an editor does not show the mark, so it takes no column
                at_input_start = false;
                continue;
            }
            at_input_start = false;
            has_content = true;
            if (state == State::kFieldStart) state = State::kUnquoted;
            continue;
        }
        at_input_start = false;

        switch (state) {
            case State::kFieldStart:
            case State::kUnquoted:
                if (c == separator_) {
                    record.fields.push_back(std::move(field));
                    field.clear();
                    state = State::kFieldStart;
                    has_content = true;
                } else if (c == '"') {
                    if (state == State::kUnquoted) {
                        throwAt(source_, line_, here,
                                "quote inside an unquoted field (enclose the field in quotes and write each quote "
                                "twice)");
                    }
                    state = State::kQuoted;
                    quote_line = line_;
                    quote_column = here;
                    has_content = true;
                } else if (c == '\r' || c == '\n') {
                    lineBreak(c, nullptr);
                    if (!has_content) {
                        record.line = line_;  // a completely empty line: skipped
                        break;
                    }
                    record.fields.push_back(std::move(field));
                    return true;
                } else {
                    if (field.size() >= kMaxFieldBytes) {
                        throwAt(source_, line_, here, "field longer than " + std::to_string(kMaxFieldBytes) + " bytes");
                    }
                    field.push_back(static_cast<char>(c));
                    state = State::kUnquoted;
                    has_content = true;
                }
                break;
            case State::kQuoted:
                if (field.size() >= kMaxFieldBytes) {
                    throwAt(source_, quote_line, quote_column,
                            "quoted field longer than " + std::to_string(kMaxFieldBytes) +
                                " bytes (is a closing quote missing?)");
                }
                if (c == '"') {
                    state = State::kQuoteInQuoted;
                } else if (c == '\r' || c == '\n') {
                    lineBreak(c, &field);
                } else {
                    field.push_back(static_cast<char>(c));
                }
                break;
            case State::kQuoteInQuoted:
                if (c == '"') {
                    field.push_back('"');
                    state = State::kQuoted;
                } else if (c == separator_) {
                    record.fields.push_back(std::move(field));
                    field.clear();
                    state = State::kFieldStart;
                } else if (c == '\r' || c == '\n') {
                    lineBreak(c, nullptr);
                    record.fields.push_back(std::move(field));
                    return true;
                } else {
                    throwAt(source_, line_, here, kAfterClosingQuote);
                }
                break;
        }
    }
}

// --- Header -------------------------------------------------------------------------------------------------

Header::Header(const Record& header, const Columns& columns, const std::string& source)
    : size_(header.fields.size()), source_(source) {
    // The specification comes from code, so a flaw in it is a programming error, not a problem of the file.
    std::vector<std::string> expected = columns.required;
    expected.insert(expected.end(), columns.optional.begin(), columns.optional.end());
    std::set<std::string> specified;
    for (const auto& name : expected) {
        if (name.empty() || trim(name) != name || !specified.insert(name).second) {
            throw std::logic_error("keel::csv::Columns: empty, untrimmed or repeated column name '" + name + "'");
        }
    }

    std::vector<std::string> names;                         // in the order of the file, first occurrence only
    std::map<std::string, std::vector<std::size_t>> found;  // name -> 1-based positions
    std::vector<std::size_t> nameless;
    for (std::size_t i = 0; i < header.fields.size(); ++i) {
        std::string name = trim(header.fields[i]);
        if (name.empty()) {
            nameless.push_back(i + 1);
            continue;
        }
        auto& positions = found[name];
        if (positions.empty()) names.push_back(name);
        positions.push_back(i + 1);
    }
    if (names.empty()) throw ParseError(source_, header.line, "", "the header line is empty");

    std::vector<std::string> problems;
    std::vector<std::string> missing;
    for (const auto& name : columns.required) {
        if (found.count(name) == 0) missing.push_back(name);
    }
    if (!missing.empty()) {
        problems.push_back(
            std::string(missing.size() == 1 ? "missing required column: " : "missing required columns: ") +
            joined(missing, ", "));
    }
    std::vector<std::string> unknown;
    for (const auto& name : names) {
        if (specified.count(name) == 0) unknown.push_back(quoted(name));
    }
    if (!unknown.empty()) {
        problems.push_back(std::string(unknown.size() == 1 ? "unknown column " : "unknown columns ") +
                           joined(unknown, ", ") + " (expected one of: " + joined(expected, ", ") + ")");
    }
    for (const auto& name : names) {
        const auto& positions = found[name];
        if (positions.size() > 1) {
            problems.push_back("duplicate column " + quoted(name) + " (columns " + positionList(positions) + ")");
        }
    }
    if (!nameless.empty()) {
        problems.push_back(nameless.size() == 1 ? "column " + positionList(nameless) + " has no name"
                                                : "columns " + positionList(nameless) + " have no name");
    }
    if (!problems.empty()) throw ParseError(source_, header.line, "", joined(problems, "; "));

    for (const auto& name : names) positions_[name] = found[name].front() - 1;
    for (const auto& name : columns.optional) positions_.emplace(name, kAbsent);
}

std::optional<std::size_t> Header::position(const std::string& name) const {
    const auto it = positions_.find(name);
    if (it == positions_.end()) {
        throw std::logic_error("keel::csv: column '" + name + "' is not in the column specification");
    }
    if (it->second == kAbsent) return std::nullopt;
    return it->second;
}

// --- Row ----------------------------------------------------------------------------------------------------

Row::Row(const Header& header, const Record& record) : header_(header), record_(record) {
    if (record_.fields.size() != header_.size()) {
        throw ParseError(header_.source(), record_.line, "",
                         "the row has " + counted(record_.fields.size(), "field") + ", the header has " +
                             std::to_string(header_.size()));
    }
}

const std::string* Row::raw(const std::string& column) const {
    const auto position = header_.position(column);
    return position ? &record_.fields[*position] : nullptr;
}

// text(), integer() and boolean() without a fallback demand a value in any column: the header does not
// record which columns are required, and a caller asking for a value of an optional column means it is needed
// here. The optional getters are for values that may be missing.
std::string Row::text(const std::string& column) const {
    const std::string* value = raw(column);
    if (value == nullptr) fail(column, kNoSuchColumn);
    std::string trimmed = trim(*value);
    if (trimmed.empty()) fail(column, "is empty");
    return trimmed;
}

std::optional<std::string> Row::optionalText(const std::string& column) const {
    const std::string* value = raw(column);
    if (value == nullptr) return std::nullopt;
    std::string trimmed = trim(*value);
    if (trimmed.empty()) return std::nullopt;
    return trimmed;
}

std::int64_t Row::integer(const std::string& column) const {
    return toInteger(*this, column, text(column));
}

std::optional<std::int64_t> Row::optionalInteger(const std::string& column) const {
    const auto value = optionalText(column);
    if (!value) return std::nullopt;
    return toInteger(*this, column, *value);
}

bool Row::boolean(const std::string& column, std::optional<bool> fallback) const {
    const std::string* value = raw(column);
    const std::string trimmed = value == nullptr ? std::string() : trim(*value);
    if (trimmed.empty()) {
        if (fallback) return *fallback;
        fail(column, value == nullptr ? kNoSuchColumn : "is empty");
    }
    const std::string lower = asciiLower(trimmed);
    if (lower == "true" || lower == "yes" || lower == "1") return true;
    if (lower == "false" || lower == "no" || lower == "0") return false;
    fail(column, quoted(trimmed) + " is not a yes/no value (expected true/false, yes/no or 1/0)");
}

void Row::fail(const std::string& column, const std::string& reason) const {
    // An empty column makes a row-level error; a name must be one of the specification (a typo is a bug).
    if (!column.empty()) static_cast<void>(header_.position(column));
    throw ParseError(header_.source(), record_.line, column, reason);
}

// --- Writer -------------------------------------------------------------------------------------------------

void Writer::write(const std::vector<std::string>& fields) {
    checkSeparator(separator_);
    // A record without fields would be an empty line, which readers skip: it could not be read back.
    if (fields.empty()) throw std::logic_error("keel::csv::Writer: a record needs at least one field");
    const char special[] = {separator_, '"', '\r', '\n'};
    for (std::size_t i = 0; i < fields.size(); ++i) {
        const std::string& field = fields[i];
        if (i > 0) out_.put(separator_);
        // Tabs count as space too: readers (and Row) trim them alike. A record of one empty field is quoted
        // because a bare empty line would be skipped on reading.
        const bool quote = field.find_first_of(special, 0, sizeof special) != std::string::npos ||
                           (!field.empty() && (isBlank(field.front()) || isBlank(field.back()))) ||
                           (field.empty() && fields.size() == 1);
        if (!quote) {
            out_.write(field.data(), static_cast<std::streamsize>(field.size()));
            continue;
        }
        out_.put('"');
        std::size_t start = 0;
        for (std::size_t q = field.find('"'); q != std::string::npos; q = field.find('"', q + 1)) {
            out_.write(field.data() + start, static_cast<std::streamsize>(q + 1 - start));
            out_.put('"');  // the quote written above, doubled
            start = q + 1;
        }
        out_.write(field.data() + start, static_cast<std::streamsize>(field.size() - start));
        out_.put('"');
    }
    out_.write("\r\n", 2);
}

}  // namespace keel::csv
