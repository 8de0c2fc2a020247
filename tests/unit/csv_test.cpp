#define BOOST_TEST_MODULE csv
#include <boost/test/unit_test.hpp>

#include "keel/kernel/csv.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

using keel::csv::Columns;
using keel::csv::Header;
using keel::csv::ParseError;
using keel::csv::Reader;
using keel::csv::Record;
using keel::csv::Row;
using keel::csv::Writer;

namespace {

// CR and LF made visible, so that expected values fit on one line.
std::string visible(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else {
            out += c;
        }
    }
    return out;
}

// "LINE:field|field / LINE:field": records with the line each starts on.
std::string show(const std::vector<Record>& records) {
    std::string out;
    for (const auto& record : records) {
        if (!out.empty()) out += " / ";
        out += std::to_string(record.line) + ":";
        for (std::size_t i = 0; i < record.fields.size(); ++i) out += (i > 0 ? "|" : "") + visible(record.fields[i]);
    }
    return out;
}

std::vector<Record> readAll(const std::string& text, char separator = ',') {
    std::istringstream in(text);
    Reader reader(in, "test.csv", separator);
    std::vector<Record> records;
    Record record;
    while (reader.next(record)) records.push_back(record);
    return records;
}

std::string parsed(const std::string& text, char separator = ',') {
    return show(readAll(text, separator));
}

// The message of the ParseError `action` throws; a marker that fails every comparison when it throws none.
template <typename Action>
std::string errorOf(Action&& action) {
    try {
        action();
    } catch (const ParseError& e) {
        return e.what();
    }
    return "(no ParseError)";
}

std::string readError(const std::string& text) {
    return errorOf([&] { readAll(text); });
}

std::string show(const std::optional<std::string>& value) {
    return value ? "'" + *value + "'" : "nullopt";
}
std::string show(const std::optional<std::int64_t>& value) {
    return value ? std::to_string(*value) : "nullopt";
}

std::string written(const std::vector<std::vector<std::string>>& records, char separator = ',') {
    std::ostringstream out;
    Writer writer(out, separator);
    for (const auto& record : records) writer.write(record);
    return out.str();
}

// Line breaks as the reader counts them: LF, CR LF and a lone CR are one each.
std::size_t lineBreaks(const std::string& text) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))) ++count;
    }
    return count;
}

const Columns kItemColumns{{"sku", "name", "qty"}, {"active", "note", "discontinued"}};

Record rec(std::size_t line, std::vector<std::string> fields) {
    return Record{line, std::move(fields)};
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(parse_error)

BOOST_AUTO_TEST_CASE(message_with_column_name) {
    const ParseError e("items.csv", 12, "gtin", "check digit is 3, expected 7");
    BOOST_TEST(std::string(e.what()) == "items.csv:12: column 'gtin': check digit is 3, expected 7");
    BOOST_TEST(e.source() == "items.csv");
    BOOST_TEST(e.line() == 12u);
    BOOST_TEST(e.column() == "gtin");
    BOOST_TEST(e.reason() == "check digit is 3, expected 7");
}

BOOST_AUTO_TEST_CASE(message_with_column_position) {
    BOOST_TEST(std::string(ParseError("a.csv", 3, "column 7", "bad").what()) == "a.csv:3: column 7: bad");
    // Only "column" and digits is a position; anything else is a name.
    BOOST_TEST(std::string(ParseError("a.csv", 3, "column x", "bad").what()) == "a.csv:3: column 'column x': bad");
    BOOST_TEST(std::string(ParseError("a.csv", 3, "column ", "bad").what()) == "a.csv:3: column 'column ': bad");
}

BOOST_AUTO_TEST_CASE(message_without_column_or_line) {
    BOOST_TEST(std::string(ParseError("a.csv", 3, "", "bad").what()) == "a.csv:3: bad");
    BOOST_TEST(std::string(ParseError("a.csv", 0, "", "cannot be read").what()) == "a.csv: cannot be read");
}

BOOST_AUTO_TEST_CASE(is_a_std_exception) {
    try {
        throw ParseError("a.csv", 1, "", "x");
    } catch (const std::exception& e) {
        BOOST_TEST(std::string(e.what()) == "a.csv:1: x");
        return;
    }
    BOOST_FAIL("not caught as std::exception");
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(reader)

BOOST_AUTO_TEST_CASE(plain_records_and_bytes_read) {
    std::istringstream in("sku,name\nA1,Widget\nB2,Gadget\n");
    Reader reader(in, "items.csv");
    BOOST_TEST(reader.source() == "items.csv");
    BOOST_TEST(reader.bytesRead() == 0u);
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "1:sku|name");
    BOOST_TEST(reader.bytesRead() == 9u);
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "2:A1|Widget");
    BOOST_TEST(reader.bytesRead() == 19u);
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "3:B2|Gadget");
    BOOST_TEST(reader.bytesRead() == 29u);
    BOOST_TEST(!reader.next(r));
    BOOST_TEST(r.fields.empty());
    BOOST_TEST(!reader.next(r));  // stays at the end
    BOOST_TEST(reader.bytesRead() == 29u);
}

BOOST_AUTO_TEST_CASE(empty_input) {
    BOOST_TEST(parsed("") == "");
    BOOST_TEST(parsed("\n\r\n\r") == "");
}

BOOST_AUTO_TEST_CASE(configurable_separator) {
    BOOST_TEST(parsed("a;b,c;d\n", ';') == "1:a|b,c|d");
    BOOST_TEST(parsed("\"x;y\";\"1,5\"\n", ';') == "1:x;y|1,5");
    BOOST_TEST(parsed("a\tb c\t\n", '\t') == "1:a|b c|");
    BOOST_TEST(parsed("a,b\n", ';') == "1:a,b");
}

BOOST_AUTO_TEST_CASE(invalid_separators_are_refused) {
    std::istringstream in("a");
    BOOST_CHECK_THROW(Reader(in, "x", '"'), std::invalid_argument);
    BOOST_CHECK_THROW(Reader(in, "x", '\n'), std::invalid_argument);
    BOOST_CHECK_THROW(Reader(in, "x", '\r'), std::invalid_argument);
    BOOST_CHECK_THROW(Reader(in, "x", '\0'), std::invalid_argument);
    BOOST_CHECK_THROW(Reader(in, "x", '\xC3'), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(unquoted_fields_keep_their_spaces) {
    BOOST_TEST(parsed(" a , b \t\n") == "1: a | b \t");
    BOOST_TEST(parsed("   \n") == "1:   ");  // not completely empty: one field of spaces
}

BOOST_AUTO_TEST_CASE(crlf_line_ends) {
    BOOST_TEST(parsed("a,b\r\nc,d\r\n\r\ne,f") == "1:a|b / 2:c|d / 4:e|f");
    BOOST_TEST(parsed("\"q\"\r\nx\r\n") == "1:q / 2:x");
    std::istringstream in("a\r\nb\r\n");
    Reader reader(in, "t");
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(reader.bytesRead() == 3u);
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(reader.bytesRead() == 6u);
}

BOOST_AUTO_TEST_CASE(lone_cr_ends_a_line) {
    BOOST_TEST(parsed("a,b\rc,d\r\re,f\r") == "1:a|b / 2:c|d / 4:e|f");
    BOOST_TEST(parsed("a\r\nb\nc\rd") == "1:a / 2:b / 3:c / 4:d");
    BOOST_TEST(parsed("\"q\"\rx") == "1:q / 2:x");
    std::istringstream in("a\rb");
    Reader reader(in, "t");
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(reader.bytesRead() == 2u);  // the 'b' after the CR is looked at, not consumed
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "2:b");
}

BOOST_AUTO_TEST_CASE(quoted_fields) {
    BOOST_TEST(parsed("\"a \"\"quoted\"\" word\",\"x,y\",\"\"\n") == "1:a \"quoted\" word|x,y|");
    BOOST_TEST(parsed("\"\"\"\"") == "1:\"");
    BOOST_TEST(parsed("\"\"\"\"\"\"") == "1:\"\"");
    BOOST_TEST(parsed("\" spaced \",\"\"") == "1: spaced |");
    BOOST_TEST(parsed("\"x\",y") == "1:x|y");
}

BOOST_AUTO_TEST_CASE(line_breaks_inside_quotes_are_kept_and_counted) {
    const std::string text =
        "id,note\n"
        "1,\"first\nsecond\r\nthird\"\n"
        "2,\"x\"\n"
        "\"\n\",3\n"
        "\"a\rb\",c\r\n"
        "4,end";
    BOOST_TEST(parsed(text) == "1:id|note / 2:1|first\\nsecond\\r\\nthird / 5:2|x / 6:\\n|3 / 8:a\\rb|c / 10:4|end");
}

BOOST_AUTO_TEST_CASE(errors_after_multi_line_fields_name_the_right_line) {
    BOOST_TEST(readError("id\n\"a\nb\r\nc\"\nx\"y\n") ==
               "test.csv:5: column 2: quote inside an unquoted field (enclose the field in quotes and write each "
               "quote twice)");
    // Columns restart on each physical line, also inside a quoted field.
    BOOST_TEST(readError("a,\"x\nyy\xC3(\"") ==
               "test.csv:2: column 3: invalid UTF-8: truncated sequence starting with byte 0xC3 (save the file "
               "as UTF-8)");
}

BOOST_AUTO_TEST_CASE(final_line_without_line_break) {
    BOOST_TEST(parsed("a,b") == "1:a|b");
    BOOST_TEST(parsed("a,b\nc") == "1:a|b / 2:c");
    BOOST_TEST(parsed("\"x\"") == "1:x");
    BOOST_TEST(parsed("x,\"\"") == "1:x|");
}

BOOST_AUTO_TEST_CASE(empty_fields) {
    BOOST_TEST(parsed("a,\n") == "1:a|");
    BOOST_TEST(parsed("a,") == "1:a|");
    BOOST_TEST(parsed(",,\n") == "1:||");
    const auto records = readAll("\"\"\n,\n");
    BOOST_TEST_REQUIRE(records.size() == 2u);
    BOOST_TEST(records[0].fields.size() == 1u);  // a quoted empty field is a record, not an empty line
    BOOST_TEST(records[0].fields[0] == "");
    BOOST_TEST(records[1].fields.size() == 2u);
}

BOOST_AUTO_TEST_CASE(completely_empty_lines_are_skipped) {
    BOOST_TEST(parsed("\n\na\n\n\nb\n\n") == "3:a / 6:b");
    BOOST_TEST(parsed("\r\n\r\na\r\n\r\n") == "3:a");
    BOOST_TEST(parsed("a\n\n\"x\ny\"\n\nb") == "1:a / 3:x\\ny / 6:b");
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_skipped_at_the_start_only) {
    std::istringstream in("\xEF\xBB\xBFsku,name\n1,2\n");
    Reader reader(in, "t");
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "1:sku|name");
    BOOST_TEST_REQUIRE(reader.next(r));
    BOOST_TEST(show({r}) == "2:1|2");
    BOOST_TEST(reader.bytesRead() == 16u);  // the mark is consumed, so it counts

    BOOST_TEST(parsed("\xEF\xBB\xBF\"a,b\",c") == "1:a,b|c");
    BOOST_TEST(parsed("\xEF\xBB\xBF\na") == "2:a");
    BOOST_TEST(parsed("\xEF\xBB\xBF") == "");
    BOOST_TEST(parsed("a\n\xEF\xBB\xBF"
                      "b") ==
               "1:a / 2:\xEF\xBB\xBF"
               "b");
    BOOST_TEST(parsed("\xEF\xBB\xBF\xEF\xBB\xBF"
                      "a") ==
               "1:\xEF\xBB\xBF"
               "a");
    BOOST_TEST(parsed("\xEF\xBB\x80") == "1:\xEF\xBB\x80");  // U+FEC0, not a mark
    // The mark takes no column.
    BOOST_TEST(readError("\xEF\xBB\xBF"
                         "ab\"c") ==
               "test.csv:1: column 3: quote inside an unquoted field (enclose the field in quotes and write each "
               "quote twice)");
}

BOOST_AUTO_TEST_CASE(quote_inside_unquoted_field) {
    const std::string reason = "quote inside an unquoted field (enclose the field in quotes and write each quote twice)";
    BOOST_TEST(readError("sku,name\nA1,Wid\"get\n") == "test.csv:2: column 7: " + reason);
    BOOST_TEST(readError("a, \"b\"") == "test.csv:1: column 4: " + reason);  // a space first makes it unquoted
    try {
        readAll("x\ny\"");
        BOOST_FAIL("no error");
    } catch (const ParseError& e) {
        BOOST_TEST(e.source() == "test.csv");
        BOOST_TEST(e.line() == 2u);
        BOOST_TEST(e.column() == "column 2");
        BOOST_TEST(e.reason() == reason);
    }
}

BOOST_AUTO_TEST_CASE(text_after_closing_quote) {
    const std::string reason = "text after the closing quote (a quote inside a quoted field is written \"\")";
    BOOST_TEST(readError("\"5\" screen\",x") == "test.csv:1: column 4: " + reason);
    BOOST_TEST(readError("ok\n\"a\" ,b") == "test.csv:2: column 4: " + reason);  // not even a space
    BOOST_TEST(readError("\"a\"\xE2\x82\xAC") == "test.csv:1: column 4: " + reason);
}

BOOST_AUTO_TEST_CASE(unterminated_quoted_field_names_where_it_opened) {
    BOOST_TEST(readError("a,b\nc,\"open\nmore\nstill") ==
               "test.csv:2: column 3: quoted field is not closed: the input ends inside it");
    BOOST_TEST(readError("\"") == "test.csv:1: column 1: quoted field is not closed: the input ends inside it");
    BOOST_TEST(readError("\"a\"\"") == "test.csv:1: column 1: quoted field is not closed: the input ends inside it");
}

BOOST_AUTO_TEST_CASE(nul_byte) {
    BOOST_TEST(readError(std::string("ab\ncd\0e", 7)) ==
               "test.csv:2: column 3: NUL byte (the file may be UTF-16 or binary; save it as UTF-8 text)");
    BOOST_TEST(readError(std::string("\"a\0\"", 4)) ==
               "test.csv:1: column 3: NUL byte (the file may be UTF-16 or binary; save it as UTF-8 text)");
}

BOOST_AUTO_TEST_CASE(valid_utf8_boundaries_are_accepted) {
    const std::string text =
        "\xC2\x80,\xDF\xBF,\xE0\xA0\x80,\xED\x9F\xBF,\xEE\x80\x80,\xEF\xBF\xBF,\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF,"
        "\"\xE2\x82\xAC \xF0\x9F\x98\x80\"";
    const auto records = readAll(text);
    BOOST_TEST_REQUIRE(records.size() == 1u);
    BOOST_TEST_REQUIRE(records[0].fields.size() == 9u);
    BOOST_TEST(records[0].fields[0] == "\xC2\x80");
    BOOST_TEST(records[0].fields[7] == "\xF4\x8F\xBF\xBF");  // U+10FFFF, the last code point
    BOOST_TEST(records[0].fields[8] == "€ 😀");
}

struct BadUtf8 {
    std::string bytes;
    std::string problem;
};

BOOST_AUTO_TEST_CASE(invalid_utf8_is_reported_with_line_and_character_column) {
    const std::vector<BadUtf8> cases{
        {"\x80", "byte 0x80 cannot start a character"},
        {"\xBF", "byte 0xBF cannot start a character"},
        {"\xC0\xAF", "overlong encoding (byte 0xC0)"},
        {"\xC1\xBF", "overlong encoding (byte 0xC1)"},
        {"\xE0\x9F\xBF", "overlong encoding of U+07FF"},
        {"\xE0\x80\xAF", "overlong encoding of U+002F"},
        {"\xF0\x8F\xBF\xBF", "overlong encoding of U+FFFF"},
        {"\xED\xA0\x80", "encoded surrogate U+D800"},
        {"\xED\xBF\xBF", "encoded surrogate U+DFFF"},
        {"\xF4\x90\x80\x80", "code point U+110000 is beyond U+10FFFF"},
        {"\xF5\x80\x80\x80", "byte 0xF5 never occurs in UTF-8"},
        {"\xF8\x88\x80\x80\x80", "byte 0xF8 never occurs in UTF-8"},
        {"\xFF", "byte 0xFF never occurs in UTF-8"},
        {"\xE2\x82", "truncated sequence starting with byte 0xE2"},
        {"\xE9", "truncated sequence starting with byte 0xE9"},  // Windows-1252 'é' followed by 'y'
        {"\xF0\x9F\x98", "truncated sequence starting with byte 0xF0"},
        {"\xC3\xC3\xA9", "truncated sequence starting with byte 0xC3"},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("problem " << c.problem) {
            // "€😀x" takes three columns whatever its eight bytes: the bad sequence is in column 4 of line 2.
            BOOST_TEST(readError("ok\n€😀x" + c.bytes + "y\n") ==
                       "test.csv:2: column 4: invalid UTF-8: " + c.problem + " (save the file as UTF-8)");
        }
    }
    BOOST_TEST(readError("abc\xE2\x82") ==
               "test.csv:1: column 4: invalid UTF-8: truncated sequence starting with byte 0xE2 (save the file as "
               "UTF-8)");
}

BOOST_AUTO_TEST_CASE(utf16_file_is_refused) {
    BOOST_TEST(readError(std::string("\xFF\xFEs\0k\0u\0", 8)) ==
               "test.csv:1: column 1: invalid UTF-8: byte 0xFF never occurs in UTF-8 (save the file as UTF-8)");
}

BOOST_AUTO_TEST_CASE(columns_count_characters_not_bytes) {
    BOOST_TEST(readError("\xC3\xA9,€,😀,\"x\"y") ==
               "test.csv:1: column 10: text after the closing quote (a quote inside a quoted field is written \"\")");
}

BOOST_AUTO_TEST_CASE(stream_that_failed_to_open) {
    std::ifstream missing("/nonexistent/keel-csv-test/items.csv");
    Reader reader(missing, "items.csv");
    Record r;
    try {
        reader.next(r);
        BOOST_FAIL("no error");
    } catch (const ParseError& e) {
        BOOST_TEST(std::string(e.what()) == "items.csv: cannot be read");
        BOOST_TEST(e.line() == 0u);
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(header)

BOOST_AUTO_TEST_CASE(maps_trimmed_names_to_positions) {
    const Header header(rec(1, {" sku ", "name", "\tqty", "active"}), kItemColumns, "items.csv");
    BOOST_TEST(header.size() == 4u);
    BOOST_TEST(header.source() == "items.csv");
    BOOST_TEST(header.position("sku").value() == 0u);
    BOOST_TEST(header.position("name").value() == 1u);
    BOOST_TEST(header.position("qty").value() == 2u);
    BOOST_TEST(header.position("active").value() == 3u);
    BOOST_TEST(!header.position("note").has_value());  // optional and absent
    BOOST_CHECK_THROW(static_cast<void>(header.position("colour")), std::logic_error);
    BOOST_CHECK_THROW(static_cast<void>(header.position("Sku")), std::logic_error);  // names are exact
}

BOOST_AUTO_TEST_CASE(order_in_the_file_is_free) {
    const Header header(rec(1, {"qty", "note", "sku", "name"}), kItemColumns, "items.csv");
    BOOST_TEST(header.position("sku").value() == 2u);
    BOOST_TEST(header.position("note").value() == 1u);
}

BOOST_AUTO_TEST_CASE(lists_every_missing_required_column) {
    BOOST_TEST(errorOf([] { Header(rec(1, {"name"}), kItemColumns, "items.csv"); }) ==
               "items.csv:1: missing required columns: sku, qty");
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"name", "sku", "note"}), kItemColumns, "items.csv");
               }) == "items.csv:1: missing required column: qty");
    BOOST_TEST(errorOf([] { Header(rec(2, {"active"}), kItemColumns, "items.csv"); }) ==
               "items.csv:2: missing required columns: sku, name, qty");
}

BOOST_AUTO_TEST_CASE(unknown_columns_name_the_accepted_ones) {
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"sku", "name", "qty", "colour"}), kItemColumns, "items.csv");
               }) ==
               "items.csv:1: unknown column 'colour' (expected one of: sku, name, qty, active, note, discontinued)");
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"sku", "size", "name", "qty", "colour"}), kItemColumns, "items.csv");
               }) ==
               "items.csv:1: unknown columns 'size', 'colour' (expected one of: sku, name, qty, active, note, "
               "discontinued)");
}

BOOST_AUTO_TEST_CASE(duplicate_columns) {
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"sku", "name", "sku", "qty"}), kItemColumns, "items.csv");
               }) == "items.csv:1: duplicate column 'sku' (columns 1 and 3)");
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"sku", "name", " sku", "qty", "sku "}), kItemColumns, "i.csv");
               }) == "i.csv:1: duplicate column 'sku' (columns 1, 3 and 5)");
}

BOOST_AUTO_TEST_CASE(every_problem_in_one_error) {
    try {
        Header(rec(4, {"skuu", "name", "name", "", "colour", " "}), kItemColumns, "items.csv");
        BOOST_FAIL("no error");
    } catch (const ParseError& e) {
        BOOST_TEST(std::string(e.what()) ==
                   "items.csv:4: missing required columns: sku, qty; unknown columns 'skuu', 'colour' (expected one "
                   "of: sku, name, qty, active, note, discontinued); duplicate column 'name' (columns 2 and 3); "
                   "columns 4 and 6 have no name");
        BOOST_TEST(e.line() == 4u);
        BOOST_TEST(e.column() == "");
    }
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {"sku", "name", "qty", ""}), kItemColumns, "items.csv");
               }) == "items.csv:1: column 4 has no name");
}

BOOST_AUTO_TEST_CASE(empty_header_line) {
    BOOST_TEST(errorOf([] { Header(rec(3, {""}), kItemColumns, "items.csv"); }) ==
               "items.csv:3: the header line is empty");
    BOOST_TEST(errorOf([] {
                   Header(rec(1, {" ", "\t"}), kItemColumns, "items.csv");
               }) == "items.csv:1: the header line is empty");
    BOOST_TEST(errorOf([] { Header(Record{}, kItemColumns, "items.csv"); }) == "items.csv: the header line is empty");
}

BOOST_AUTO_TEST_CASE(header_read_from_a_file_with_a_byte_order_mark) {
    std::istringstream in("\xEF\xBB\xBF\n\nsku,name,qty\r\n");
    Reader reader(in, "items.csv");
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    const Header header(r, kItemColumns, reader.source());
    BOOST_TEST(header.position("sku").value() == 0u);
    std::istringstream in2("\n\nname,qty\n");
    Reader reader2(in2, "items.csv");
    BOOST_TEST_REQUIRE(reader2.next(r));
    BOOST_TEST(errorOf([&] { Header(r, kItemColumns, reader2.source()); }) ==
               "items.csv:3: missing required column: sku");
}

BOOST_AUTO_TEST_CASE(flawed_column_specification_is_a_programming_error) {
    const Record r = rec(1, {"sku"});
    BOOST_CHECK_THROW(Header(r, Columns{{"sku", "sku"}, {}}, "x"), std::logic_error);
    BOOST_CHECK_THROW(Header(r, Columns{{"sku"}, {"sku"}}, "x"), std::logic_error);
    BOOST_CHECK_THROW(Header(r, Columns{{"sku"}, {""}}, "x"), std::logic_error);
    BOOST_CHECK_THROW(Header(r, Columns{{"sku "}, {}}, "x"), std::logic_error);
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(row)

namespace {

// sku, name, qty, active; the optional note and discontinued are absent.
const Header& itemHeader() {
    static const Header header(rec(1, {"sku", "name", "qty", "active"}), kItemColumns, "items.csv");
    return header;
}

}  // namespace

BOOST_AUTO_TEST_CASE(field_count_must_match_the_header) {
    BOOST_TEST(errorOf([] {
                   const Record r = rec(5, {"a", "b"});
                   Row(itemHeader(), r);
               }) == "items.csv:5: the row has 2 fields, the header has 4");
    BOOST_TEST(errorOf([] {
                   const Record r = rec(6, {"a"});
                   Row(itemHeader(), r);
               }) ==
               "items.csv:6: the row has 1 field, the header has 4");
    BOOST_TEST(errorOf([] {
                   const Record r = rec(7, {"a", "b", "c", "d", ""});
                   Row(itemHeader(), r);
               }) == "items.csv:7: the row has 5 fields, the header has 4");
    const Header one(rec(1, {"sku"}), Columns{{"sku"}, {}}, "one.csv");
    BOOST_TEST(errorOf([&] {
                   const Record r = rec(2, {"a", "b"});
                   Row(one, r);
               }) == "one.csv:2: the row has 2 fields, the header has 1");
}

BOOST_AUTO_TEST_CASE(text_is_trimmed_and_required) {
    const Record r = rec(7, {" A1\t", "", " \t ", "yes"});
    const Row row(itemHeader(), r);
    BOOST_TEST(row.line() == 7u);
    BOOST_TEST(row.text("sku") == "A1");
    BOOST_TEST(errorOf([&] { row.text("name"); }) == "items.csv:7: column 'name': is empty");
    BOOST_TEST(errorOf([&] { row.text("qty"); }) == "items.csv:7: column 'qty': is empty");
    BOOST_TEST(errorOf([&] { row.text("note"); }) ==
               "items.csv:7: column 'note': is required here, but the file has no such column");
    BOOST_CHECK_THROW(row.text("colour"), std::logic_error);
}

BOOST_AUTO_TEST_CASE(text_keeps_inner_spaces_and_utf8) {
    const Record r = rec(2, {"  a  b  ", "€ 😀", "1", "no"});
    const Row row(itemHeader(), r);
    BOOST_TEST(row.text("sku") == "a  b");
    BOOST_TEST(row.text("name") == "€ 😀");
}

BOOST_AUTO_TEST_CASE(optional_text) {
    const Record r = rec(3, {" A1 ", "", "1", "  "});
    const Row row(itemHeader(), r);
    BOOST_TEST(show(row.optionalText("sku")) == "'A1'");
    BOOST_TEST(show(row.optionalText("name")) == "nullopt");
    BOOST_TEST(show(row.optionalText("active")) == "nullopt");
    BOOST_TEST(show(row.optionalText("note")) == "nullopt");  // absent
    BOOST_CHECK_THROW(static_cast<void>(row.optionalText("colour")), std::logic_error);
}

struct IntegerCase {
    std::string text;
    std::int64_t value;
};

BOOST_AUTO_TEST_CASE(integer_accepts_whole_numbers) {
    const std::vector<IntegerCase> cases{
        {"0", 0},
        {"-0", 0},
        {"007", 7},
        {" 42 ", 42},
        {"\t-17", -17},
        {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
        {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
        {"000000000000000000000000009223372036854775807", std::numeric_limits<std::int64_t>::max()},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("text '" << c.text << "'") {
            const Record r = rec(9, {"A1", "n", c.text, ""});
            BOOST_TEST(Row(itemHeader(), r).integer("qty") == c.value);
        }
    }
}

BOOST_AUTO_TEST_CASE(integer_refuses_anything_else) {
    const std::vector<std::pair<std::string, std::string>> cases{
        {"12x", "'12x' is not a whole number"},
        {"+5", "'+5' is not a whole number"},
        {"1 000", "'1 000' is not a whole number"},
        {"1,000", "'1,000' is not a whole number"},
        {"1.5", "'1.5' is not a whole number"},
        {"1e3", "'1e3' is not a whole number"},
        {"0x10", "'0x10' is not a whole number"},
        {"-", "'-' is not a whole number"},
        {"--1", "'--1' is not a whole number"},
        {"- 1", "'- 1' is not a whole number"},
        {"\xEF\xBC\x91", "'\xEF\xBC\x91' is not a whole number"},  // FULLWIDTH DIGIT ONE
        {"99999999999999999999x", "'99999999999999999999x' is not a whole number"},
        {"9223372036854775808", "'9223372036854775808' is out of range"},
        {"-9223372036854775809", "'-9223372036854775809' is out of range"},
        {"99999999999999999999", "'99999999999999999999' is out of range"},
        {"", "is empty"},
        {"  ", "is empty"},
    };
    for (const auto& [text, reason] : cases) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            const Record r = rec(9, {"A1", "n", text, ""});
            const Row row(itemHeader(), r);
            BOOST_TEST(errorOf([&] { row.integer("qty"); }) == "items.csv:9: column 'qty': " + reason);
        }
    }
}

BOOST_AUTO_TEST_CASE(optional_integer) {
    const Header header(rec(1, {"sku", "name", "qty", "note"}), kItemColumns, "items.csv");
    const Record r = rec(4, {" 5 ", "n", "", "x"});
    const Row row(header, r);
    BOOST_TEST(show(row.optionalInteger("sku")) == "5");
    BOOST_TEST(show(row.optionalInteger("qty")) == "nullopt");     // empty
    BOOST_TEST(show(row.optionalInteger("active")) == "nullopt");  // absent
    BOOST_TEST(errorOf([&] { row.optionalInteger("note"); }) ==
               "items.csv:4: column 'note': 'x' is not a whole number");
    BOOST_CHECK_THROW(static_cast<void>(row.optionalInteger("colour")), std::logic_error);
}

BOOST_AUTO_TEST_CASE(boolean_values) {
    const std::vector<std::pair<std::string, bool>> cases{
        {"true", true},  {"TRUE", true},   {"True", true},   {"yes", true}, {"YES", true}, {"1", true},
        {" yEs ", true}, {"false", false}, {"FALSE", false}, {"no", false}, {"No", false}, {"0", false},
    };
    for (const auto& [text, value] : cases) {
        BOOST_TEST_CONTEXT("text '" << text << "'") {
            const Record r = rec(2, {"A1", "n", "1", text});
            BOOST_TEST(Row(itemHeader(), r).boolean("active") == value);
            BOOST_TEST(Row(itemHeader(), r).boolean("active", !value) == value);  // a value beats the fallback
        }
    }
}

BOOST_AUTO_TEST_CASE(boolean_fallback_and_errors) {
    const Record empty = rec(3, {"A1", "n", "1", " "});
    const Row row(itemHeader(), empty);
    BOOST_TEST(row.boolean("active", true) == true);
    BOOST_TEST(row.boolean("active", false) == false);
    BOOST_TEST(row.boolean("discontinued", true) == true);  // absent
    BOOST_TEST(row.boolean("discontinued", false) == false);
    BOOST_TEST(errorOf([&] { row.boolean("active"); }) == "items.csv:3: column 'active': is empty");
    BOOST_TEST(errorOf([&] { row.boolean("discontinued"); }) ==
               "items.csv:3: column 'discontinued': is required here, but the file has no such column");
    BOOST_CHECK_THROW(static_cast<void>(row.boolean("colour", true)), std::logic_error);

    for (const std::string text : {"maybe", "2", "on", "y", "t", "-1"}) {
        const Record r = rec(4, {"A1", "n", "1", text});
        BOOST_TEST(errorOf([&] { Row(itemHeader(), r).boolean("active", true); }) ==
                   "items.csv:4: column 'active': '" + text +
                       "' is not a yes/no value (expected true/false, yes/no or 1/0)");
    }
}

BOOST_AUTO_TEST_CASE(fail_reports_row_and_column) {
    const Record r = rec(11, {"A1", "n", "-3", "yes"});
    const Row row(itemHeader(), r);
    try {
        row.fail("qty", "must be positive");
    } catch (const ParseError& e) {
        BOOST_TEST(std::string(e.what()) == "items.csv:11: column 'qty': must be positive");
        BOOST_TEST(e.source() == "items.csv");
        BOOST_TEST(e.line() == 11u);
        BOOST_TEST(e.column() == "qty");
        BOOST_TEST(e.reason() == "must be positive");
    }
    BOOST_TEST(errorOf([&] { row.fail("", "a kit needs components"); }) == "items.csv:11: a kit needs components");
    BOOST_TEST(errorOf([&] { row.fail("note", "is required for kits"); }) ==
               "items.csv:11: column 'note': is required for kits");  // specified, though absent
    BOOST_CHECK_THROW(row.fail("colour", "x"), std::logic_error);
}

BOOST_AUTO_TEST_CASE(long_values_are_shortened_in_messages) {
    const Record r = rec(2, {"A1", "n", std::string(100, 'x'), std::string(59, 'a') + "€"});
    const Row row(itemHeader(), r);
    BOOST_TEST(errorOf([&] { row.integer("qty"); }) ==
               "items.csv:2: column 'qty': '" + std::string(60, 'x') + "...' is not a whole number");
    // Cut before the euro sign that straddles byte 60, never inside it.
    BOOST_TEST(errorOf([&] { row.boolean("active"); }) ==
               "items.csv:2: column 'active': '" + std::string(59, 'a') +
                   "...' is not a yes/no value (expected true/false, yes/no or 1/0)");
}

BOOST_AUTO_TEST_CASE(import_loop_reports_the_line_a_record_starts_on) {
    std::istringstream in(
        "sku,name,qty\n"
        "A1,\"Widget\nwith a long description\",3\n"
        "\n"
        "B2,Gadget,many\n");
    Reader reader(in, "items.csv");
    Record r;
    BOOST_TEST_REQUIRE(reader.next(r));
    const Header header(r, kItemColumns, reader.source());
    BOOST_TEST_REQUIRE(reader.next(r));
    const Row first(header, r);
    BOOST_TEST(first.text("name") == "Widget\nwith a long description");
    BOOST_TEST(first.integer("qty") == 3);
    BOOST_TEST_REQUIRE(reader.next(r));
    const Row second(header, r);
    BOOST_TEST(errorOf([&] { second.integer("qty"); }) == "items.csv:5: column 'qty': 'many' is not a whole number");
    BOOST_TEST(!reader.next(r));
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(writer)

BOOST_AUTO_TEST_CASE(plain_fields_are_not_quoted) {
    BOOST_TEST(written({{"A1", "Widget", "12"}, {"in side", "€ 😀", "a'b"}}) == "A1,Widget,12\r\nin side,€ 😀,a'b\r\n");
}

BOOST_AUTO_TEST_CASE(quotes_only_where_needed) {
    BOOST_TEST(visible(written({{"a,b"}})) == "\"a,b\"\\r\\n");
    BOOST_TEST(visible(written({{"say \"hi\""}})) == "\"say \"\"hi\"\"\"\\r\\n");
    BOOST_TEST(visible(written({{"\""}})) == "\"\"\"\"\\r\\n");
    BOOST_TEST(visible(written({{"x\ny"}})) == "\"x\\ny\"\\r\\n");
    BOOST_TEST(visible(written({{"x\ry"}})) == "\"x\\ry\"\\r\\n");
    BOOST_TEST(visible(written({{" lead"}})) == "\" lead\"\\r\\n");
    BOOST_TEST(visible(written({{"trail "}})) == "\"trail \"\\r\\n");
    BOOST_TEST(visible(written({{"\ttab"}})) == "\"\ttab\"\\r\\n");
    BOOST_TEST(visible(written({{" "}})) == "\" \"\\r\\n");
}

BOOST_AUTO_TEST_CASE(empty_fields_are_written_as_nothing) {
    BOOST_TEST(visible(written({{"", "b", ""}})) == ",b,\\r\\n");
    BOOST_TEST(visible(written({{"", ""}})) == ",\\r\\n");
    // Alone, an empty field would make an empty line, which readers skip.
    BOOST_TEST(visible(written({{""}})) == "\"\"\\r\\n");
}

BOOST_AUTO_TEST_CASE(separator_decides_what_needs_quotes) {
    BOOST_TEST(visible(written({{"a,b", "c;d", "1,5"}}, ';')) == "a,b;\"c;d\";1,5\\r\\n");
    BOOST_TEST(visible(written({{"a b", "c\td"}}, '\t')) == "a b\t\"c\td\"\\r\\n");
}

BOOST_AUTO_TEST_CASE(refuses_what_it_cannot_write) {
    std::ostringstream out;
    Writer writer(out);
    BOOST_CHECK_THROW(writer.write({}), std::logic_error);
    Writer bad(out, '"');
    BOOST_CHECK_THROW(bad.write({"a"}), std::invalid_argument);
    BOOST_TEST(out.str() == "");
}

BOOST_AUTO_TEST_CASE(round_trip_of_awkward_values) {
    const std::vector<std::vector<std::string>> records{
        {"sku", "name", "note"},
        {"A1", "plain", ""},
        {"A2", "comma, inside", "quote \" inside"},
        {"A3", "multi\nline", "crlf\r\nline"},
        {"A4", "lone\rcr", "\n"},
        {"A5", "€ 😀", " leading and trailing "},
        {"A6", "\"", "\"\""},
        {"A7", "x\n\ny", "tab\tinside"},
        {""},
        {"", "", ""},
        {"A8", "end", "\"quoted\", then more\r\n"},
    };
    for (const char separator : {',', ';', '\t'}) {
        BOOST_TEST_CONTEXT("separator '" << separator << "'") {
            const std::string text = written(records, separator);
            const auto read = readAll(text, separator);
            BOOST_TEST_REQUIRE(read.size() == records.size());
            std::size_t line = 1;
            for (std::size_t i = 0; i < records.size(); ++i) {
                BOOST_TEST_CONTEXT("record " << i) {
                    BOOST_TEST(read[i].line == line);
                    BOOST_TEST(read[i].fields == records[i]);
                }
                for (const auto& field : records[i]) line += lineBreaks(field);
                ++line;
            }
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()

// ---------------------------------------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(streaming)

namespace {

// Makes records on demand and hands them out in chunks of at most kChunk bytes, so the input never exists as a
// whole and the test can see how far ahead of the reader the source has been drained.
class GeneratedCsv : public std::streambuf {
public:
    static constexpr std::size_t kChunk = 4096;

    explicit GeneratedCsv(std::size_t records) : records_(records) {}
    std::uint64_t produced() const { return produced_; }

    // Every thousandth record has a quoted two-line note; the others are plain.
    static std::string text(std::size_t i) {
        const std::string id = std::to_string(i);
        if (i % 1000 == 0) return id + ",\"note \"\"" + id + "\"\"\r\nsecond line\",€\r\n";
        return id + ",item " + id + ",\xF0\x9F\x98\x80\n";
    }

protected:
    int_type underflow() override {
        if (gptr() != nullptr && gptr() < egptr()) return traits_type::to_int_type(*gptr());
        while (pending_.size() < kChunk && next_ < records_) pending_ += text(next_++);
        if (pending_.empty()) return traits_type::eof();
        const std::size_t size = std::min(kChunk, pending_.size());
        chunk_.assign(pending_, 0, size);
        pending_.erase(0, size);
        produced_ += size;
        setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
        return traits_type::to_int_type(*gptr());
    }

private:
    std::size_t records_;
    std::size_t next_ = 0;
    std::string pending_;
    std::string chunk_;
    std::uint64_t produced_ = 0;
};

}  // namespace

BOOST_AUTO_TEST_CASE(reads_200k_records_incrementally) {
    constexpr std::size_t kRecords = 200'000;
    GeneratedCsv source(kRecords);
    std::istream in(&source);
    Reader reader(in, "generated.csv");
    Record r;
    std::uint64_t expected_bytes = 0;
    std::size_t expected_line = 1;
    std::size_t count = 0;
    std::size_t mismatches = 0;
    std::uint64_t most_ahead = 0;
    while (reader.next(r)) {
        const std::size_t i = count++;
        const std::string id = std::to_string(i);
        expected_bytes += GeneratedCsv::text(i).size();
        const bool multi_line = i % 1000 == 0;
        const std::vector<std::string> expected =
            multi_line ? std::vector<std::string>{id, "note \"" + id + "\"\r\nsecond line", "€"}
                       : std::vector<std::string>{id, "item " + id, "😀"};
        // One BOOST_TEST per record would drown a failure in 200,000 lines: count, then report the first.
        if (r.line != expected_line || r.fields != expected || reader.bytesRead() != expected_bytes) {
            if (mismatches++ == 0) {
                BOOST_TEST(r.line == expected_line);
                BOOST_TEST(r.fields == expected);
                BOOST_TEST(reader.bytesRead() == expected_bytes);
            }
        }
        most_ahead = std::max(most_ahead, source.produced() - reader.bytesRead());
        expected_line += multi_line ? 2 : 1;
    }
    BOOST_TEST(mismatches == 0u);
    BOOST_TEST(count == kRecords);
    BOOST_TEST(reader.bytesRead() == source.produced());
    BOOST_TEST(expected_line == kRecords + kRecords / 1000 + 1);
    // The reader never held more than one chunk of input it had not yet turned into records.
    BOOST_TEST(most_ahead <= GeneratedCsv::kChunk);
    BOOST_TEST(source.produced() > 50 * GeneratedCsv::kChunk);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(an_unclosed_quote_cannot_swallow_the_whole_file) {
    const std::string text = "sku,name\nA,\"never closed\n" + std::string(keel::csv::Reader::kMaxFieldBytes + 10, 'x');
    std::istringstream in(text);
    keel::csv::Reader reader(in, "big.csv");
    keel::csv::Record record;
    BOOST_TEST_REQUIRE(reader.next(record));
    try {
        reader.next(record);
        BOOST_FAIL("a field over the limit was accepted");
    } catch (const keel::csv::ParseError& e) {
        BOOST_TEST(e.line() == 2u);
        BOOST_TEST(std::string(e.what()).find("closing quote missing") != std::string::npos, e.what());
        BOOST_TEST(static_cast<int>(e.code()) == 2);  // a RejectedError: exit code 2 when uncaught
    }
}
