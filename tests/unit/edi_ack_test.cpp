#define BOOST_TEST_MODULE edi_ack
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "x12_testdata.h"

#include "keel/edi/x12_ack.h"
#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_reader.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bdata = boost::unit_test::data;
using namespace keel::edi;
namespace test = keel::test;

namespace {

using test::kX12Dir;
const auto& filesIn = test::x12FilesIn;

// 2026-11-26 22:10 UTC: acks carry "261126" / "20261126" and "2210".
const ManualClock kClock(std::chrono::sys_days(std::chrono::year(2026) / 11 / 26) + std::chrono::hours(22) +
                         std::chrono::minutes(10));

AckReport ackOf(std::istream& in, Strictness strictness, const AckOptions& options) {
    EnvelopeOptions envelope;
    envelope.strictness = strictness;
    return acknowledgeX12(in, envelope, options);
}

AckReport ackFile(const std::string& path, Strictness strictness = Strictness::Tolerant,
                  const AckOptions& options = {}) {
    std::ifstream in(kX12Dir + "/" + path, std::ios::binary);
    BOOST_TEST_REQUIRE(in.good(), path);
    return ackOf(in, strictness, options);
}

AckReport ackText(const std::string& text, Strictness strictness = Strictness::Tolerant,
                  const AckOptions& options = {}) {
    std::istringstream in(text);
    return ackOf(in, strictness, options);
}

std::string write(const AckReport& report, std::uint64_t first = 1, const AckOptions& options = {}) {
    BOOST_TEST_REQUIRE(!report.parse_error.has_value());
    SequentialControlNumbers numbers(first);
    std::ostringstream out;
    writeAcks(out, report.interchanges, numbers, kClock, options);
    return out.str();
}

// The ack's segments as text with '*' between elements and nothing else, whatever its delimiters.
std::vector<std::string> segmentsOf(const std::string& ack) {
    std::istringstream in(ack);
    X12Reader reader(in);
    std::vector<std::string> out;
    while (reader.next() == X12Reader::Status::Segment) {
        const Segment& s = reader.segment();
        std::string text(s.id());
        for (std::size_t p = 1; p <= s.elementCount(); ++p) text += "*" + std::string(s.element(p));
        out.push_back(text);
    }
    BOOST_TEST(!reader.error().has_value(), ack);
    return out;
}

// Every ack Keel sends must pass Keel's own reader and strict envelope validation without a single finding.
void expectValidAck(const std::string& ack) {
    std::istringstream in(ack);
    EnvelopeOptions options;
    options.strictness = Strictness::Strict;
    const auto report = validateX12(in, options);
    BOOST_TEST(report.valid(), ack);
    BOOST_TEST(report.warnings == 0u, ack);
    BOOST_TEST(report.reader_warnings.empty(), ack);
}

std::vector<std::string> withPrefix(const std::vector<std::string>& segments, const std::string& prefix) {
    std::vector<std::string> out;
    for (const auto& s : segments) {
        if (s.rfind(prefix, 0) == 0) out.push_back(s);
    }
    return out;
}

const std::string kIsaBlank = "00*          *00*          ";

// A 005010 claim group (not an FA group), which must get a 999.
const std::string k837 =
    "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *261120*1200*^*00501*000000101*0*T*:~\n"
    "GS*HC*SUBMITTER*RECEIVER*20261120*1200*101*X*005010X222A1~\n"
    "ST*837*0001*005010X222A1~\n"
    "BHT*0019*00*1*20261120*1200*CH~\n"
    "SE*3*0001~\n"
    "ST*837*0002*005010X222A1~\n"
    "BHT*0019*00*2*20261120*1200*CH~\n"
    "SE*9*0002~\n"
    "GE*2*101~\n"
    "IEA*1*000000101~\n";

}  // namespace

BOOST_DATA_TEST_CASE(valid_file_gets_an_accepting_ack_that_keel_itself_accepts, bdata::make(filesIn("valid")), name) {
    const auto report = ackFile("valid/" + name);
    BOOST_TEST_REQUIRE(!report.parse_error.has_value(), name);
    BOOST_TEST(report.accepted(), name);
    std::size_t acknowledged = 0;
    for (const auto& x : report.interchanges) {
        BOOST_TEST(x.ta1_status == 'A', name);
        for (const auto& g : x.groups) {
            if (!g.acknowledged) {
                BOOST_TEST(g.functional_id == "FA", name);
                continue;
            }
            ++acknowledged;
            BOOST_TEST(g.status == 'A', name << " GS06 " << g.control_number);
            for (const auto& s : g.sets) BOOST_TEST(s.status == 'A', name << " ST02 " << s.control_number);
        }
    }
    const std::string ack = write(report);
    if (ack.empty()) {
        // Only FA groups and no TA1 asked for: nothing is sent.
        BOOST_TEST(acknowledged == 0u, name);
        return;
    }
    expectValidAck(ack);
    const auto segments = segmentsOf(ack);
    BOOST_TEST(withPrefix(segments, "AK1*").size() == acknowledged, name);
    BOOST_TEST(withPrefix(segments, "AK1*FA*").empty(), name);
    for (const auto& s : withPrefix(segments, "AK9*")) BOOST_TEST(s.rfind("AK9*A*", 0) == 0u, name << ": " << s);
    for (const auto& s : withPrefix(segments, "AK5*")) BOOST_TEST(s == "AK5*A", name);
    for (const auto& s : withPrefix(segments, "IK5*")) BOOST_TEST(s == "IK5*A", name);
    for (const auto& s : withPrefix(segments, "TA1*")) BOOST_TEST(s.substr(s.size() - 6) == "*A*000", name);
}

BOOST_AUTO_TEST_CASE(wrong_se01_rejects_the_set_with_code_4_and_the_group) {
    const auto report = ackFile("invalid/edienginge_940_Failed_SE01.edi");
    BOOST_TEST(!report.accepted());
    const std::string ack = write(report);
    expectValidAck(ack);
    const std::vector<std::string> expected{
        "ISA*" + kIsaBlank + "*ZZ*WAREHOUSE      *ZZ*VENDOR         *261126*2210*U*00401*000000001*0*P*>",
        "GS*FA*WAREHOUSE*VENDOR*20261126*2210*1*X*004010",
        "ST*997*0001",
        "AK1*OW*9221",
        "AK2*940*20066",
        "AK5*R*4",
        "AK9*R*1*1*0",
        "SE*6*0001",
        "GE*1*1",
        "IEA*1*000000001",
    };
    BOOST_TEST(segmentsOf(ack) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_rejected_set_among_accepted_ones_makes_the_group_partially_accepted) {
    const auto report = ackText(k837);  // the second set's SE01 is 9 for 3 segments
    BOOST_TEST(!report.accepted());
    const std::string ack = write(report, 7);
    expectValidAck(ack);
    const std::vector<std::string> expected{
        "ISA*" + kIsaBlank + "*ZZ*RECEIVER       *ZZ*SUBMITTER      *261126*2210*^*00501*000000007*0*T*:",
        "GS*FA*RECEIVER*SUBMITTER*20261126*2210*7*X*005010X231A1",
        "ST*999*0007*005010X231A1",
        "AK1*HC*101*005010X222A1",
        "AK2*837*0001*005010X222A1",
        "IK5*A",
        "AK2*837*0002*005010X222A1",
        "IK5*R*4",
        "AK9*P*2*2*1",
        "SE*8*0007",
        "GE*1*7",
        "IEA*1*000000007",
    };
    BOOST_TEST(segmentsOf(ack) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_accepted_005010_group_gets_a_999) {
    std::string text = k837;
    text.replace(text.find("SE*9*0002"), 9, "SE*3*0002");
    const auto report = ackText(text);
    BOOST_TEST(report.accepted());
    const auto segments = segmentsOf(write(report));
    BOOST_TEST(withPrefix(segments, "ST*") == std::vector<std::string>{"ST*999*0001*005010X231A1"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "IK5*") == (std::vector<std::string>{"IK5*A", "IK5*A"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK9*") == std::vector<std::string>{"AK9*A*2*2*2"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK5*").empty());
}

BOOST_AUTO_TEST_CASE(control_number_mismatches_reject_the_set_and_get_a_ta1_in_strict_mode) {
    const auto strict = ackFile("invalid/edienginge_ControlNumbersMismatch.edi", Strictness::Strict);
    BOOST_TEST(!strict.accepted());
    const std::string ack = write(strict);
    expectValidAck(ack);
    const std::vector<std::string> expected{
        "ISA*" + kIsaBlank + "*ZZ*123456789012345*ZZ*ABCDEFGHIJKLMNO*261126*2210*U*00400*000000001*0*P*>",
        "TA1*000003438*101127*1719*R*001",
        "GS*FA*3111350000*7705551212*20261126*2210*1*X*004010",
        "ST*997*0001",
        "AK1*OW*3314",
        "AK2*940*0001",
        "AK5*R*3",
        "AK9*R*1*1*0*4",
        "SE*6*0001",
        "GE*1*1",
        "IEA*1*000000001",
    };
    BOOST_TEST(segmentsOf(ack) == expected, boost::test_tools::per_element());

    // Tolerant: the IEA02 and GE02 mismatches are tolerated, so not reported (no TA1, no AK905); the SE02
    // mismatch is never tolerated and still rejects the set.
    const auto tolerant = segmentsOf(write(ackFile("invalid/edienginge_ControlNumbersMismatch.edi")));
    BOOST_TEST(withPrefix(tolerant, "TA1*").empty());
    BOOST_TEST(withPrefix(tolerant, "AK5*") == std::vector<std::string>{"AK5*R*3"}, boost::test_tools::per_element());
    BOOST_TEST(withPrefix(tolerant, "AK9*") == std::vector<std::string>{"AK9*R*1*1*0"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(wrong_group_and_set_counts_give_ak9_code_5_and_ta1_021) {
    const auto report = ackFile("invalid/edienginge_WrongGroupsAndTranCount.edi");
    BOOST_TEST(!report.accepted());
    const std::string ack = write(report);
    expectValidAck(ack);
    const auto segments = segmentsOf(ack);
    BOOST_TEST(withPrefix(segments, "TA1*") == std::vector<std::string>{"TA1*000003438*101127*1719*R*021"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK5*") == std::vector<std::string>{"AK5*A"}, boost::test_tools::per_element());
    // AK902 is what GE01 claimed, AK903 what was received; a rejected group accepts nothing.
    BOOST_TEST(withPrefix(segments, "AK9*") == std::vector<std::string>{"AK9*R*2*1*0*5"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(two_groups_of_different_versions_get_one_ack_each_in_their_version) {
    const auto report = ackFile("valid/staedi_invoice810_po850_dual.edi");
    BOOST_TEST(report.accepted());
    const std::string ack = write(report);
    expectValidAck(ack);
    const auto segments = segmentsOf(ack);
    BOOST_TEST(
        withPrefix(segments, "GS*") == (std::vector<std::string>{"GS*FA*007326879*SENDERDEPT*20261126*2210*1*X*004010",
                                                                 "GS*FA*5566778899*9994935230*261126*2210*2*X*003010"}),
        boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "ST*") == (std::vector<std::string>{"ST*997*0001", "ST*997*0002"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK1*") == (std::vector<std::string>{"AK1*IN*1", "AK1*PO*165"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK9*") == (std::vector<std::string>{"AK9*A*2*2*2", "AK9*A*1*1*1"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "IEA*") == std::vector<std::string>{"IEA*2*000000001"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fa_groups_are_never_acknowledged) {
    for (const std::string name :
         {"valid/staedi_simple999.edi", "valid/staedi_simple997.edi", "valid/stupidedi_004010_FA997_pass_1.edi"}) {
        const auto report = ackFile(name);
        BOOST_TEST(report.accepted(), name);
        BOOST_TEST(write(report).empty(), name);
    }
    // Asked for a TA1, the interchange gets one but still no ack of its FA group.
    AckOptions always;
    always.ta1 = Ta1Policy::Always;
    const auto segments = segmentsOf(write(ackFile("valid/staedi_simple999.edi", Strictness::Tolerant, always)));
    BOOST_TEST(withPrefix(segments, "TA1*") == std::vector<std::string>{"TA1*000000286*041117*1024*A*000"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "GS*").empty());
    BOOST_TEST(withPrefix(segments, "IEA*") == std::vector<std::string>{"IEA*0*000000001"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(options_override_version_and_delimiters) {
    AckOptions options;
    options.version = "004010";
    Delimiters delimiters;
    delimiters.element = '|';
    delimiters.component = '>';
    delimiters.repetition = '^';
    delimiters.segment = '~';
    options.delimiters = delimiters;
    std::string text = k837;
    text.replace(text.find("SE*9*0002"), 9, "SE*3*0002");
    const std::string ack = write(ackText(text, Strictness::Tolerant, options), 1, options);
    BOOST_TEST(ack.find("ST|997|0001~") != std::string::npos, ack);
    expectValidAck(ack);
    const auto segments = segmentsOf(ack);
    BOOST_TEST(
        withPrefix(segments, "GS*") == std::vector<std::string>{"GS*FA*RECEIVER*SUBMITTER*20261126*2210*1*X*004010"},
        boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK1*") == std::vector<std::string>{"AK1*HC*101"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(control_numbers_come_from_the_caller_and_are_checked) {
    const auto report = ackFile("valid/staedi_invoice810_po850_dual.edi");
    const auto segments = segmentsOf(write(report, 999999998));
    BOOST_TEST(segments.front().substr(segments.front().size() - 15) == "999999998*0*T*>");
    BOOST_TEST(withPrefix(segments, "ST*") == (std::vector<std::string>{"ST*997*999999998", "ST*997*999999999"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "GE*") == (std::vector<std::string>{"GE*1*999999998", "GE*1*999999999"}),
               boost::test_tools::per_element());
    // The second group would need 1000000000: refused, not wrapped or truncated.
    SequentialControlNumbers numbers(999999999);
    std::ostringstream out;
    BOOST_CHECK_THROW(writeAcks(out, report.interchanges, numbers, kClock), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(dictionary_findings_are_written_as_ak3_ak4_and_ik3_ik4) {
    for (const bool is999 : {false, true}) {
        std::string text = k837;
        text.replace(text.find("SE*9*0002"), 9, "SE*3*0002");
        AckOptions options;
        if (!is999) options.version = "004010";
        auto report = ackText(text, Strictness::Tolerant, options);
        // What dictionary validation will add: a segment note with one element note, rejecting the set.
        SetAck& set = report.interchanges.at(0).groups.at(0).sets.at(1);
        set.segment_notes.push_back({"BHT", 2, "", "8", {{"3", "127", "7", "2"}}});
        set.status = 'R';
        set.codes.push_back("5");
        const std::string ack = write(report);
        expectValidAck(ack);
        const auto segments = segmentsOf(ack);
        const std::string p = is999 ? "IK" : "AK";
        const auto at = std::find(segments.begin(), segments.end(), p + "3*BHT*2**8");
        BOOST_TEST_REQUIRE((at != segments.end()), ack);
        BOOST_TEST(*(at + 1) == p + "4*3*127*7*2");
        BOOST_TEST(*(at + 2) == p + "5*R*5");
    }
}

BOOST_AUTO_TEST_CASE(missing_trailers_reject_set_group_and_interchange) {
    // Cut after the BHT of the first set: no SE, GE or IEA.
    const std::string text = k837.substr(0, k837.find("SE*3*0001"));
    const auto report = ackText(text);
    BOOST_TEST(!report.accepted());
    const std::string ack = write(report);
    expectValidAck(ack);
    const auto segments = segmentsOf(ack);
    BOOST_TEST(withPrefix(segments, "TA1*") == std::vector<std::string>{"TA1*000000101*261120*1200*R*023"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "IK5*") == std::vector<std::string>{"IK5*R*2"}, boost::test_tools::per_element());
    // No GE: AK902 falls back to the sets received.
    BOOST_TEST(withPrefix(segments, "AK9*") == std::vector<std::string>{"AK9*R*1*1*0*3"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_interchange_that_cannot_be_read_to_its_end_gets_a_rejecting_ta1_and_nothing_else) {
    // Two interchanges; the second breaks inside a segment (a line break in the BHT) after its ISA was read.
    std::string second = k837;
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"000000101", "000000102"}}) {
        for (auto at = second.find(from); at != std::string::npos; at = second.find(from, at + to.size()))
            second.replace(at, from.size(), to);
    }
    second.replace(second.find("BHT*0019*00*1"), 13, "BHT*0019*00\n*1");
    const auto report = ackText(k837 + second);
    BOOST_TEST_REQUIRE(report.parse_error.has_value());
    BOOST_TEST(!report.accepted());
    BOOST_TEST_REQUIRE(report.interchanges.size() == 2u);
    BOOST_TEST(report.interchanges[1].groups.empty());  // nothing of the broken one is acknowledged as read
    SequentialControlNumbers numbers(1);
    std::ostringstream out;
    writeAcks(out, report.interchanges, numbers, kClock);
    expectValidAck(out.str());
    const auto segments = segmentsOf(out.str());
    // The first keeps its 999; the second gets TA105 024 (invalid interchange content).
    BOOST_TEST(withPrefix(segments, "TA1*") == std::vector<std::string>{"TA1*000000102*261120*1200*R*024"},
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK9*").size() == 1u);

    // The input ends inside a segment: 023, premature end of file.
    const auto cut = ackText(k837.substr(0, k837.find("BHT*0019*00*2") + 6));
    BOOST_TEST_REQUIRE(cut.parse_error.has_value());
    BOOST_TEST(cut.parse_error->kind == ParseErrorKind::UnterminatedSegment);
    BOOST_TEST_REQUIRE(cut.interchanges.size() == 1u);
    BOOST_TEST(cut.interchanges[0].ta1_status == 'R');
    BOOST_TEST(cut.interchanges[0].ta1_note == "023");

    // No ISA read at all: there is no envelope to answer.
    const auto not_x12 = ackText("hello, this is not X12\n");
    BOOST_TEST(not_x12.parse_error.has_value());
    BOOST_TEST(not_x12.interchanges.empty());
}

BOOST_AUTO_TEST_CASE(a_duplicate_st02_rejects_the_second_set_with_code_23) {
    std::string text = k837;
    text.replace(text.find("SE*9*0002"), 9, "SE*3*0001");
    text.replace(text.find("ST*837*0002"), 11, "ST*837*0001");
    const auto segments = segmentsOf(write(ackText(text)));
    BOOST_TEST(withPrefix(segments, "IK5*") == (std::vector<std::string>{"IK5*A", "IK5*R*23"}),
               boost::test_tools::per_element());
    BOOST_TEST(withPrefix(segments, "AK9*") == std::vector<std::string>{"AK9*P*2*2*1"},
               boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ta1_is_valid_only_before_the_first_group) {
    const std::string isa =
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *261126*2210*U*00401*000000001*0*P*>~\n";
    const std::string group = "GS*FA*A*B*20261126*2210*1*X*004010~\nGE*0*1~\n";
    const std::string ta1 = "TA1*000000009*261126*2200*A*000~\n";
    std::istringstream before(isa + ta1 + group + "IEA*1*000000001~\n");
    BOOST_TEST(validateX12(before).valid());
    std::istringstream after(isa + group + ta1 + "IEA*1*000000001~\n");
    const auto report = validateX12(after);
    BOOST_TEST(!report.valid());
    BOOST_TEST_REQUIRE(report.findings.size() == 1u);
    BOOST_TEST(report.findings[0].code == FindingCode::UnexpectedSegment);
}

BOOST_AUTO_TEST_CASE(isa14_1_asks_for_a_ta1_unless_the_policy_is_on_error_only) {
    std::string text = k837;
    text.replace(text.find("SE*9*0002"), 9, "SE*3*0002");
    text.replace(text.find("*000000101*0*T*"), 15, "*000000101*1*T*");
    const auto requested = segmentsOf(write(ackText(text)));
    BOOST_TEST(withPrefix(requested, "TA1*") == std::vector<std::string>{"TA1*000000101*261120*1200*A*000"},
               boost::test_tools::per_element());
    AckOptions on_error;
    on_error.ta1 = Ta1Policy::OnError;
    BOOST_TEST(withPrefix(segmentsOf(write(ackText(text, Strictness::Tolerant, on_error))), "TA1*").empty());
}
