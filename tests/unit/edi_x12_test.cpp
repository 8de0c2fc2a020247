#define BOOST_TEST_MODULE edi_x12
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "x12_testdata.h"

#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_json.h"
#include "keel/edi/x12_reader.h"
#include "keel/edi/x12_writer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <sstream>
#include <streambuf>

namespace bdata = boost::unit_test::data;
using namespace keel::edi;
namespace test = keel::test;

namespace {

using test::kX12Dir;
const auto& filesIn = test::x12FilesIn;

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

ValidationReport validateText(const std::string& text, Strictness strictness = Strictness::Tolerant,
                              InterchangeRegistry* registry = nullptr) {
    std::istringstream in(text);
    EnvelopeOptions options;
    options.strictness = strictness;
    options.registry = registry;
    return validateX12(in, options);
}

ValidationReport validateFile(const std::string& path, Strictness strictness = Strictness::Tolerant) {
    std::ifstream in(path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), path);
    EnvelopeOptions options;
    options.strictness = strictness;
    return validateX12(in, options);
}

std::vector<Segment> readAll(const std::string& text, ReaderOptions options = {},
                             std::optional<ParseError>* error = nullptr) {
    std::istringstream in(text);
    X12Reader reader(in, options);
    std::vector<Segment> segments;
    for (;;) {
        const auto status = reader.next();
        if (status == X12Reader::Status::Segment) {
            segments.push_back(reader.segment());
            continue;
        }
        if (error != nullptr) *error = reader.error();
        break;
    }
    return segments;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// A well-formed ISA of 106 bytes with the given delimiters and version.
std::string isa(char e = '*', char rep = 'U', const std::string& version = "00401", char comp = ':', char term = '~',
                const std::string& control = "000000001") {
    std::string s = "ISA" + std::string(1, e) + "00" + e + "          " + e + "00" + e + "          " + e + "ZZ" + e +
                    "SENDER         " + e + "ZZ" + e + "RECEIVER       " + e + "260101" + e + "1200" + e + rep + e +
                    version + e + control + e + "0" + e + "P" + e + comp + term;
    return s;
}

std::string smallInterchange(const std::string& control = "000000001", const std::string& gs06 = "1") {
    return isa('*', 'U', "00401", ':', '~', control) + "GS*PO*S*R*20260101*1200*" + gs06 +
           "*X*004010~ST*850*0001~BEG*00*SA*PO1**20260101~SE*3*0001~GE*1*" + gs06 + "~IEA*1*" + control + "~";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(real_interchanges)

BOOST_AUTO_TEST_CASE(the_shared_test_data_is_there) {
    BOOST_TEST(filesIn("valid").size() >= 30u);
    BOOST_TEST(filesIn("invalid").size() >= 12u);
}

// Every valid file parses and its envelopes validate (tolerant mode, the default).
BOOST_DATA_TEST_CASE(valid_file_parses_and_validates, bdata::make(filesIn("valid")), name) {
    const auto report = validateFile(kX12Dir + "/valid/" + name);
    BOOST_TEST(!report.parse_error.has_value(),
               name << ": " << (report.parse_error ? report.parse_error->message : ""));
    BOOST_TEST(report.errors == 0u, name);
    for (const auto& f : report.findings) BOOST_TEST_MESSAGE(name << ": " << f.message);
    BOOST_TEST(report.interchanges >= 1u);
    BOOST_TEST(report.transaction_sets >= 1u);
}

// The same segments whatever the chunk size: buffering across chunk boundaries never changes a split.
BOOST_DATA_TEST_CASE(chunk_size_does_not_change_the_segments, bdata::make(filesIn("valid")), name) {
    const std::string text = slurp(kX12Dir + "/valid/" + name);
    const auto whole = readAll(text);
    for (std::size_t chunk : {1u, 7u, 64u}) {
        ReaderOptions options;
        options.chunk_bytes = chunk;
        const auto pieces = readAll(text, options);
        BOOST_TEST_REQUIRE(pieces.size() == whole.size(), name << " chunk " << chunk);
        for (std::size_t i = 0; i < whole.size(); ++i) {
            BOOST_TEST(pieces[i].text() == whole[i].text());
            BOOST_TEST(pieces[i].offset() == whole[i].offset());
        }
    }
}

struct InvalidCase {
    std::string file;
    std::optional<ParseErrorKind> parse_error;                  // rejected by the reader
    std::uint64_t offset = 0;                                   // ... at this byte
    std::vector<std::pair<FindingCode, std::uint64_t>> errors;  // or envelope errors (code, segment number)
    std::string message_part;
};

std::ostream& operator<<(std::ostream& out, const InvalidCase& c) {
    return out << c.file;
}

const std::vector<InvalidCase> kInvalid{
    {"edienginge_940_Failed_SE01.edi", std::nullopt, 0, {{FindingCode::CountMismatch, 11}}, "expected SE01 = 9"},
    {"edienginge_ControlNumbersMismatch.edi",
     std::nullopt,
     0,
     {{FindingCode::ControlNumberMismatch, 7}},
     "SE02 '0002' does not match ST02 '0001' of segment 3"},
    {"edienginge_NonEdi.edi", ParseErrorKind::NotX12, 0, {}, "expected 'ISA' at byte 0, found 'Tk9'"},
    {"edienginge_WrongGroupsAndTranCount.edi",
     std::nullopt,
     0,
     {{FindingCode::CountMismatch, 8}, {FindingCode::CountMismatch, 9}},
     "expected IEA01 = 1"},
    {"staedi_invalid997_min.edi",
     std::nullopt,
     0,
     {{FindingCode::BadDate, 2}, {FindingCode::BadTime, 2}, {FindingCode::BadControlNumber, 7}},
     "GE02 '<TOO_LONG_AND_NOT_NUMERIC>': expected a group control number of 1 to 9 digits"},
    {"staedi_ts210_80char.edi", ParseErrorKind::HardWrapped, 80, {}, "after a line of exactly 80 characters"},
    {"staedi_ts214_ellipses_segterm.edi",
     ParseErrorKind::MultiByteTerminator,
     105,
     {},
     "3-byte UTF-8 character U+2026"},
    {"stupidedi_003010_PC860_fail_1.edi",
     ParseErrorKind::ShortIsa,
     7,
     {},
     "ISA02 at byte 7 is 1 character(s), expected 10"},
    {"stupidedi_003010_PO850_fail_1.edi", ParseErrorKind::ShortIsa, 7, {}, "version ISA12 '00200'"},
    {"stupidedi_004010_PR855_fail_2.edi", ParseErrorKind::SplitIsa, 57, {}, "the ISA is split across lines"},
    {"stupidedi_004010_SH856_fail_2.edi",
     ParseErrorKind::MixedTerminators,
     399,
     {},
     "segment 13 ('N1', byte 357) ends with '~'"},
};

// Invalid only by rules that need the transaction-set dictionaries (a later part of issue #7): their
// envelopes are sound, and this test says so, so that it changes when the dictionaries arrive.
const std::vector<std::string> kNeedDictionaries{"edienginge_850.SyntaxNotes.ERR.edi"};

BOOST_DATA_TEST_CASE(invalid_file_is_rejected_with_its_specific_error, bdata::make(kInvalid), c) {
    const auto report = validateFile(kX12Dir + "/invalid/" + c.file);
    BOOST_TEST(!report.valid());
    std::string messages;
    if (c.parse_error) {
        BOOST_TEST_REQUIRE(report.parse_error.has_value());
        BOOST_TEST(parseErrorKindName(report.parse_error->kind) == parseErrorKindName(*c.parse_error));
        BOOST_TEST(report.parse_error->offset == c.offset);
        messages = report.parse_error->message;
    } else {
        BOOST_TEST_REQUIRE(!report.parse_error.has_value());
        for (const auto& [code, segment] : c.errors) {
            const bool found = std::any_of(report.findings.begin(), report.findings.end(), [&](const Finding& f) {
                return f.severity == Severity::Error && f.code == code && f.segment_number == segment;
            });
            BOOST_TEST(found, c.file << ": no " << findingCodeName(code) << " at segment " << segment);
        }
        for (const auto& f : report.findings) messages += f.message + "\n";
    }
    BOOST_TEST(contains(messages, c.message_part), messages);
}

BOOST_AUTO_TEST_CASE(every_invalid_file_is_covered) {
    for (const auto& name : filesIn("invalid")) {
        const bool tabled =
            std::any_of(kInvalid.begin(), kInvalid.end(), [&](const auto& c) { return c.file == name; });
        const bool pending =
            std::find(kNeedDictionaries.begin(), kNeedDictionaries.end(), name) != kNeedDictionaries.end();
        BOOST_TEST((tabled || pending), name << " has no expectation");
        if (pending) BOOST_TEST(validateFile(kX12Dir + "/invalid/" + name).valid(), name);
    }
}

BOOST_AUTO_TEST_CASE(control_number_mismatches_are_all_errors_in_strict_mode) {
    const auto report = validateFile(kX12Dir + "/invalid/edienginge_ControlNumbersMismatch.edi", Strictness::Strict);
    std::vector<std::string> elements;
    for (const auto& f : report.findings) {
        if (f.severity == Severity::Error && f.code == FindingCode::ControlNumberMismatch)
            elements.push_back(f.element);
    }
    BOOST_TEST(elements == (std::vector<std::string>{"SE02", "GE02", "IEA02"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(blank_padded_iea02_is_a_warning_when_tolerant_and_an_error_when_strict) {
    const std::string path = kX12Dir + "/valid/x12types_940_test1.edi";
    const auto tolerant = validateFile(path, Strictness::Tolerant);
    BOOST_TEST(tolerant.valid());
    const auto padded = std::find_if(tolerant.findings.begin(), tolerant.findings.end(),
                                     [](const Finding& f) { return f.code == FindingCode::PaddedControlNumber; });
    BOOST_TEST_REQUIRE((padded != tolerant.findings.end()));
    BOOST_TEST((padded->severity == Severity::Warning));
    BOOST_TEST(padded->element == "IEA02");
    BOOST_TEST(padded->segment_number == 33u);
    const auto strict = validateFile(path, Strictness::Strict);
    BOOST_TEST(!strict.valid());
    BOOST_TEST(strict.errors == 3u);  // GE02 mismatch, IEA02 padded, IEA02 mismatch
}

BOOST_AUTO_TEST_CASE(several_interchanges_and_groups_of_different_versions) {
    const auto fat = validateFile(kX12Dir + "/valid/nodex12_850_fat.edi");
    BOOST_TEST(fat.interchanges == 2u);
    const auto multi = validateFile(kX12Dir + "/valid/edienginge_MultipleInterchangesAndGroups.edi");
    BOOST_TEST(multi.interchanges == 2u);
    BOOST_TEST(multi.groups >= 3u);
    const auto dual = readAll(slurp(kX12Dir + "/valid/staedi_invoice810_po850_dual.edi"));
    std::vector<std::string> versions;
    for (const auto& s : dual) {
        if (s.id() == "GS") versions.emplace_back(s.element(8));
    }
    BOOST_TEST(versions == (std::vector<std::string>{"004010", "003010"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(delimiters)

BOOST_AUTO_TEST_CASE(separators_are_located_not_assumed) {
    // ISA08 of 16 characters: a fixed-offset reader would take 'T' as ISA16.
    const auto po = readAll(slurp(kX12Dir + "/valid/stupidedi_004010_PO850_pass_1.edi"));
    BOOST_TEST_REQUIRE(po.size() > 2u);
    BOOST_TEST(po[0].delimiters().component == '>');
    BOOST_TEST(po[0].delimiters().segment == '~');
    BOOST_TEST(po[0].element(8) == "RECEIVER        ");
    BOOST_TEST(po[1].id() == "GS");
    const auto in810 = readAll(slurp(kX12Dir + "/valid/stupidedi_004010_IN810_pass_1.edi"));
    BOOST_TEST(in810[0].delimiters().element == '|');
    const auto pr855 = readAll(slurp(kX12Dir + "/valid/stupidedi_004010_PR855_pass_1.edi"));
    BOOST_TEST(pr855[0].delimiters().component == '{');
}

BOOST_AUTO_TEST_CASE(isa11_is_a_repetition_separator_only_from_00402_and_only_if_not_alphanumeric) {
    const auto at00501 = readAll(isa('*', '^', "00501") + "IEA*0*000000001~");
    BOOST_TEST(at00501[0].delimiters().repetition == '^');
    const auto at00401 = readAll(isa('*', '^', "00401") + "IEA*0*000000001~");
    BOOST_TEST(!at00401[0].delimiters().hasRepetition());
    const auto letter = readAll(isa('*', 'U', "00501") + "IEA*0*000000001~");
    BOOST_TEST(!letter[0].delimiters().hasRepetition());
    // nodex12_856: '-' repeats from 00406 and also occurs in a ZIP+4 code; nothing is split at parse time.
    const auto asn = readAll(slurp(kX12Dir + "/valid/nodex12_856.edi"));
    BOOST_TEST(asn[0].delimiters().repetition == '-');
    const auto n4 = std::find_if(asn.begin(), asn.end(), [](const Segment& s) {
        return s.id() == "N4" && s.element(3).find('-') != std::string_view::npos;
    });
    BOOST_TEST_REQUIRE((n4 != asn.end()));
    BOOST_TEST(n4->repetitions(3).size() == 2u);  // only when the caller asks for it
}

BOOST_AUTO_TEST_CASE(components_are_split_on_request) {
    const auto s = readAll(isa() + "ST*850*0001~SLN*1**I*2*EA:12*9.25~");
    BOOST_TEST(s[2].element(5) == "EA:12");
    const auto parts = s[2].components(5);
    BOOST_TEST_REQUIRE(parts.size() == 2u);
    BOOST_TEST(parts[1] == "12");
    BOOST_TEST(s[2].element(9).empty());  // absent elements are empty, never an error
}

BOOST_AUTO_TEST_CASE(byte_order_mark_is_stripped_and_offsets_count_it) {
    const auto s = readAll("\xEF\xBB\xBF" + smallInterchange());
    BOOST_TEST_REQUIRE(s.size() == 7u);
    BOOST_TEST(s[0].id() == "ISA");
    BOOST_TEST(s[0].offset() == 3u);
    BOOST_TEST(validateText("\xEF\xBB\xBF" + smallInterchange()).valid());
}

BOOST_AUTO_TEST_CASE(crlf_after_terminators_and_newline_as_terminator) {
    std::string crlf = smallInterchange();
    std::string with_breaks;
    for (char c : crlf) {
        with_breaks += c;
        if (c == '~') with_breaks += "\r\n";
    }
    BOOST_TEST(validateText(with_breaks).valid());
    std::string newline = smallInterchange();
    std::replace(newline.begin(), newline.end(), '~', '\n');
    const auto segments = readAll(newline);
    BOOST_TEST(segments.size() == 7u);
    BOOST_TEST(segments[0].delimiters().segment == '\n');
    BOOST_TEST(validateText(newline).valid());
}

BOOST_AUTO_TEST_CASE(crlf_as_the_terminator_and_delimiters_changing_between_interchanges) {
    // CR is the terminator (the byte after ISA16); the LF after each CR is layout.
    std::string crlf = smallInterchange();
    std::string terminated_by_crlf;
    for (char c : crlf) terminated_by_crlf += c == '~' ? std::string("\r\n") : std::string(1, c);
    const auto segments = readAll(terminated_by_crlf);
    BOOST_TEST_REQUIRE(segments.size() == 7u);
    BOOST_TEST(segments[0].delimiters().segment == '\r');
    BOOST_TEST(segments[6].text() == "IEA*1*000000001");
    BOOST_TEST(validateText(terminated_by_crlf).valid());

    // A second interchange with other delimiters: each ISA sets its own.
    std::string second = smallInterchange("000000002", "2");
    std::replace(second.begin(), second.end(), '*', '|');
    const auto both = readAll(smallInterchange() + "\n" + second);
    BOOST_TEST_REQUIRE(both.size() == 14u);
    BOOST_TEST(both[7].delimiters().element == '|');
    BOOST_TEST(both[9].element(2) == "0001");
    BOOST_TEST(validateText(smallInterchange() + "\n" + second).valid());
}

BOOST_AUTO_TEST_CASE(bad_isas_are_rejected_with_what_was_expected) {
    std::optional<ParseError> error;
    readAll(isa().substr(0, 104) + ":*~IEA*0*000000001~", {}, &error);  // a 17th element
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::BadIsa);
    BOOST_TEST(contains(error->message, "more than 16 elements"));

    readAll(isa().substr(0, 104) + "AB~", {}, &error);  // ISA16 of two characters
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(contains(error->message, "longer than one character"));

    readAll(isa('*', 'U', "00401", '~', '~'), {}, &error);  // component separator = terminator
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(contains(error->message, "expected four distinct delimiters"));

    readAll(isa().substr(0, 60), {}, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::UnterminatedSegment);

    readAll("", {}, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::NotX12);
}

BOOST_AUTO_TEST_CASE(segment_errors_name_the_segment_and_byte) {
    std::optional<ParseError> error;
    readAll(smallInterchange() + "GARBAGE", {}, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::ExpectedIsa);

    readAll(isa() + "GS*PO*S*R", {}, &error);  // end of input inside a segment
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::UnterminatedSegment);
    BOOST_TEST(error->segment_number == 2u);

    readAll(isa() + "gs*PO~", {}, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::BadSegmentId);
    BOOST_TEST(error->offset == 106u);

    ReaderOptions small;
    small.max_segment_bytes = 32;
    readAll(isa() + "MSG*" + std::string(100, 'A') + "~", small, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::SegmentTooLong);

    readAll(isa() + "GS*PO*S\n*R~", {}, &error);
    BOOST_TEST_REQUIRE(error.has_value());
    BOOST_TEST(error->kind == ParseErrorKind::LineBreakInSegment);
    BOOST_TEST(error->offset == 113u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(envelopes)

BOOST_AUTO_TEST_CASE(duplicate_group_and_transaction_set_control_numbers) {
    const std::string text = isa() +
                             "GS*PO*S*R*20260101*1200*7*X*004010~ST*850*0001~SE*2*0001~ST*850*0001~SE*2*0001~GE*2*7~"
                             "GS*PO*S*R*20260101*1200*7*X*004010~ST*850*0001~SE*2*0001~GE*1*7~IEA*2*000000001~";
    const auto report = validateText(text);
    BOOST_TEST(!report.valid());
    std::vector<std::pair<FindingCode, std::uint64_t>> got;
    for (const auto& f : report.findings) got.emplace_back(f.code, f.segment_number);
    const std::vector<std::pair<FindingCode, std::uint64_t>> expected{{FindingCode::DuplicateTransactionSet, 5},
                                                                      {FindingCode::DuplicateGroup, 8}};
    BOOST_TEST((got == expected));
    // The same ST02 in another group is fine: uniqueness is per group.
    BOOST_TEST(report.errors == 2u);
}

BOOST_AUTO_TEST_CASE(huge_counts_are_mismatches_not_overflows) {
    // Found by fuzz.x12: a twenty-digit count overflowed the parse of IEA01/GE01/SE01.
    std::string text = smallInterchange();
    text.replace(text.find("SE*3*"), 5, "SE*99999999999999999999*");
    text.replace(text.find("GE*1*"), 5, "GE*18446744073709551617*");
    const auto report = validateText(text);
    BOOST_TEST(!report.valid());
    std::size_t count_mismatches = 0;
    for (const auto& f : report.findings) count_mismatches += f.code == FindingCode::CountMismatch ? 1 : 0;
    BOOST_TEST(count_mismatches == 2u);
}

BOOST_AUTO_TEST_CASE(duplicate_interchange_within_the_window_only) {
    ManualClock clock;
    InMemoryInterchangeRegistry registry(clock, std::chrono::hours(24));
    BOOST_TEST(validateText(smallInterchange("000000042"), Strictness::Tolerant, &registry).valid());
    clock.advance(std::chrono::hours(1));
    const auto again = validateText(smallInterchange("000000042"), Strictness::Tolerant, &registry);
    BOOST_TEST_REQUIRE(again.findings.size() == 1u);
    BOOST_TEST((again.findings[0].code == FindingCode::DuplicateInterchange));
    BOOST_TEST(again.findings[0].element == "ISA13");
    BOOST_TEST(validateText(smallInterchange("000000043"), Strictness::Tolerant, &registry).valid());
    clock.advance(std::chrono::hours(48));
    BOOST_TEST(validateText(smallInterchange("000000042"), Strictness::Tolerant, &registry).valid());
}

BOOST_AUTO_TEST_CASE(open_envelopes_and_stray_segments) {
    const auto unclosed = validateText(isa() + "GS*PO*S*R*20260101*1200*1*X*004010~ST*850*0001~BEG*00~");
    std::vector<std::string> trailers;
    for (const auto& f : unclosed.findings) {
        if (f.code == FindingCode::MissingTrailer) trailers.push_back(f.element);
    }
    BOOST_TEST(trailers == (std::vector<std::string>{"SE", "GE", "IEA"}), boost::test_tools::per_element());
    const auto stray = validateText(isa() + "BEG*00~IEA*0*000000001~");
    BOOST_TEST_REQUIRE(stray.findings.size() == 1u);
    BOOST_TEST((stray.findings[0].code == FindingCode::UnexpectedSegment));
    BOOST_TEST(stray.findings[0].segment_number == 2u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(serializer)

// Files whose layout is not canonical (the same line ending after every terminator, no byte-order mark, a
// terminated last segment): a writer with one line ending cannot reproduce them byte for byte.
const std::vector<std::string> kNotCanonical{
    // Newline as the terminator and no newline after the last segment (IEA ends the file): the reader accepts it
    // (with a warning); the writer always terminates.
    "edienginge_940.2.OK.edi",
    "edienginge_940.OK.edi",
    "edienginge_940.W05.Only.edi",
    "edienginge_AckTest.edi",
    "edienginge_MultipleInterchangesAndGroups.edi",
    // An extra blank line at the end of the file.
    "stupidedi_004010_FA997_pass_1.edi",
    // Line breaks after the envelope segments only; the transaction set is on one line.
    "stupidedi_X348_810_basic-invoice.edi",
    "stupidedi_X357_850_basic-po.edi",
    "stupidedi_X358_855_rejected.edi",
};

std::string roundTrip(const std::string& text, const std::string& line_ending, bool final_line_ending) {
    std::ostringstream out;
    std::istringstream in(text);
    X12Reader reader(in);
    X12Writer writer(out, WriterOptions{.delimiters = Delimiters{},
                                        .line_ending = line_ending,
                                        .final_line_ending = final_line_ending,
                                        .translate_repetitions = false});
    while (reader.next() == X12Reader::Status::Segment) {
        const Segment& s = reader.segment();
        if (s.id() == "ISA") writer.setDelimiters(s.delimiters());
        BOOST_TEST_REQUIRE(!writer.write(s).has_value());
    }
    BOOST_TEST_REQUIRE(!reader.error().has_value());
    writer.finish();
    return out.str();
}

std::string lineEndingOf(const std::string& text) {
    std::istringstream in(text);
    X12Reader reader(in);
    if (reader.next() != X12Reader::Status::Segment) return "";
    const std::size_t after = reader.offset();
    std::string ending;
    for (std::size_t i = after; i < text.size() && (text[i] == '\r' || text[i] == '\n') && ending.size() < 2; ++i) {
        ending += text[i];
    }
    return ending;
}

BOOST_DATA_TEST_CASE(parse_then_serialize_is_byte_identical_for_canonical_files, bdata::make(filesIn("valid")), name) {
    const std::string text = slurp(kX12Dir + "/valid/" + name);
    const std::string ending = lineEndingOf(text);
    const bool final_line_ending = !ending.empty() && text.ends_with(ending);
    const std::string written = roundTrip(text, ending, final_line_ending);
    const bool canonical = std::find(kNotCanonical.begin(), kNotCanonical.end(), name) == kNotCanonical.end();
    if (canonical) {
        BOOST_TEST(written == text, name);
    } else {
        BOOST_TEST(written != text, name << " is canonical now: take it off the list");
        // Still the same segments.
        const auto a = readAll(text);
        const auto b = readAll(written);
        BOOST_TEST_REQUIRE(a.size() == b.size());
        for (std::size_t i = 0; i < a.size(); ++i) BOOST_TEST(a[i].text() == b[i].text());
    }
}

BOOST_AUTO_TEST_CASE(other_delimiters_translate_components_and_the_isa) {
    const std::string text = isa() + "ST*850*0001~SLN*1**I*2*EA:12~SE*3*0001~";
    std::istringstream in(text);
    X12Reader reader(in);
    std::ostringstream out;
    X12Writer writer(out, WriterOptions{.delimiters = Delimiters{'|', '^', '\0', '\''},
                                        .line_ending = "\n",
                                        .final_line_ending = true,
                                        .translate_repetitions = false});
    while (reader.next() == X12Reader::Status::Segment) BOOST_TEST(!writer.write(reader.segment()).has_value());
    writer.finish();
    const std::string written = out.str();
    BOOST_TEST(contains(written, "SLN|1||I|2|EA^12'\n"));
    BOOST_TEST(contains(written, "|P|^'\n"));
    const auto back = readAll(written);
    BOOST_TEST_REQUIRE(back.size() == 4u);
    BOOST_TEST(back[0].delimiters().element == '|');
    BOOST_TEST(back[2].components(5)[1] == "12");

    // Data holding an output delimiter cannot be written safely.
    std::ostringstream sink;
    X12Writer clash(sink, WriterOptions{.delimiters = Delimiters{'*', ':', '\0', '.'},
                                        .line_ending = "",
                                        .final_line_ending = false,
                                        .translate_repetitions = false});
    const Segment price("CTP*1*9.25", Delimiters{});
    const auto problem = clash.write(price);
    BOOST_TEST_REQUIRE(problem.has_value());
    BOOST_TEST(contains(*problem, "element 2 holds '.'"));
    BOOST_TEST(sink.str().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(streaming)

// Produces an interchange stream of at least `target` bytes segment by segment, never holding more than one.
class GeneratedInterchanges : public std::streambuf {
public:
    explicit GeneratedInterchanges(std::uint64_t target) : target_(target) {}
    std::uint64_t produced() const { return produced_; }
    std::uint64_t interchanges() const { return interchange_; }

protected:
    int_type underflow() override {
        if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
        if (!nextSegment()) return traits_type::eof();
        setg(current_.data(), current_.data(), current_.data() + current_.size());
        produced_ += current_.size();
        return traits_type::to_int_type(*gptr());
    }

private:
    static constexpr int kLinesPerSet = 1000;

    bool nextSegment() {
        char control[16];
        std::snprintf(control, sizeof control, "%09llu", static_cast<unsigned long long>(interchange_));
        switch (step_) {
            case 0:
                if (produced_ >= target_) return false;
                ++interchange_;
                std::snprintf(control, sizeof control, "%09llu", static_cast<unsigned long long>(interchange_));
                current_ = isa('*', '^', "00501", ':', '~', control) + "\n";
                step_ = 1;
                return true;
            case 1:
                current_ = "GS*PO*S*R*20260101*1200*1*X*005010\nST*850*0001\n";
                break;
            case 2:
                current_ = "BEG*00*SA*PO-1**20260101\n";
                break;
            default:
                if (line_ < kLinesPerSet) {
                    ++line_;
                    current_ = "PO1*" + std::to_string(line_) + "*10*EA*925*PE*VP*SKU-" + std::to_string(line_) + "~";
                    return true;
                }
                current_ =
                    "SE*" + std::to_string(kLinesPerSet + 3) + "*0001~GE*1*1~IEA*1*" + std::string(control) + "~\n";
                line_ = 0;
                step_ = 0;
                return true;
        }
        std::replace(current_.begin(), current_.end(), '\n', '~');
        ++step_;
        return true;
    }

    std::uint64_t target_;
    std::uint64_t produced_ = 0;
    std::uint64_t interchange_ = 0;
    int step_ = 0;
    int line_ = 0;
    std::string current_;
};

BOOST_AUTO_TEST_CASE(fifty_megabytes_parse_in_bounded_memory) {
    GeneratedInterchanges generator(50ull * 1024 * 1024);
    std::istream in(&generator);
    ReaderOptions options;
    options.chunk_bytes = 16 * 1024;
    X12Reader reader(in, options);
    EnvelopeValidator validator;
    std::uint64_t segments = 0;
    std::size_t most_buffered = 0;
    while (reader.next() == X12Reader::Status::Segment) {
        ++segments;
        validator.onSegment(reader.segment());
        most_buffered = std::max(most_buffered, reader.bufferedBytes());
    }
    BOOST_TEST_REQUIRE(!reader.error().has_value(), reader.error()->message);
    validator.finish(reader.offset());
    BOOST_TEST(reader.offset() >= 50ull * 1024 * 1024);
    BOOST_TEST(reader.offset() == generator.produced());
    BOOST_TEST(validator.errorCount() == 0u);
    BOOST_TEST(validator.interchanges() == generator.interchanges());
    BOOST_TEST(segments > 1'000'000u);
    // One read chunk and one segment's worth, whatever the input size.
    BOOST_TEST(most_buffered <= options.chunk_bytes + 1024);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_tree)

BOOST_AUTO_TEST_CASE(tree_of_interchanges_groups_sets_and_segments) {
    std::istringstream in(smallInterchange());
    const auto json = x12ToJson(in);
    BOOST_TEST(!json.error.has_value());
    std::ostringstream out;
    json.tree->stringify(out);
    const std::string text = out.str();
    BOOST_TEST(contains(text, R"("groups":[{"header":{"id":"GS")"), text);
    BOOST_TEST(contains(text, R"("segments":[{"id":"BEG","number":4,"offset":)"), text);
    BOOST_TEST(contains(text, R"("elements":["00","SA","PO1","","20260101"])"), text);
}

BOOST_AUTO_TEST_SUITE_END()
