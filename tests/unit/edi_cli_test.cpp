#define BOOST_TEST_MODULE edi_cli
#include <boost/test/unit_test.hpp>

#include "keel/cli/cli.h"

#include <Poco/JSON/Parser.h>

#include <sstream>

namespace {

struct Run {
    int code = 0;
    std::string out;
    std::string err;
};

Run runKeel(const std::vector<std::string>& args) {
    std::ostringstream out;
    std::ostringstream err;
    const int code = keel::cli::run(args, out, err, {}, "/nonexistent/etc/keel");
    return {code, out.str(), err.str()};
}

const std::string kX12 = std::string(KEEL_TESTDATA_DIR) + "/x12/";

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_CASE(validate_exits_0_for_a_valid_file_and_2_for_an_invalid_one) {
    const auto ok = runKeel({"edi", "validate", kX12 + "valid/nodex12_850.edi"});
    BOOST_TEST(ok.code == 0, ok.out << ok.err);
    BOOST_TEST(contains(ok.out, ": valid (1 interchange(s)"));
    const auto bad = runKeel({"edi", "validate", kX12 + "invalid/edienginge_940_Failed_SE01.edi"});
    BOOST_TEST(bad.code == 2);
    BOOST_TEST(contains(bad.out, "error [count_mismatch]: segment 11 (SE, byte 307), SE01 '12'"), bad.out);
    BOOST_TEST(runKeel({"edi", "validate", kX12 + "nonexistent.edi"}).code == 3);
    BOOST_TEST(runKeel({"edi", "validate"}).code == 1);
}

BOOST_AUTO_TEST_CASE(strict_rejects_what_tolerant_warns_about) {
    const std::string file = kX12 + "valid/x12types_940_test1.edi";
    const auto tolerant = runKeel({"edi", "validate", file});
    BOOST_TEST(tolerant.code == 0);
    BOOST_TEST(contains(tolerant.out, "warning [padded_control_number]"));
    BOOST_TEST(runKeel({"edi", "validate", "--strict", file}).code == 2);
}

BOOST_AUTO_TEST_CASE(validate_json_names_the_parse_error) {
    const auto r = runKeel({"--json", "edi", "validate", kX12 + "invalid/staedi_ts214_ellipses_segterm.edi"});
    BOOST_TEST(r.code == 2);
    const auto body = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(!body->getValue<bool>("valid"));
    const auto error = body->getObject("parse_error");
    BOOST_TEST_REQUIRE(!error.isNull());
    BOOST_TEST(error->getValue<std::string>("kind") == "multi_byte_terminator");
    BOOST_TEST(error->getValue<int>("offset") == 105);
}

BOOST_AUTO_TEST_CASE(parse_prints_the_json_tree) {
    const auto r = runKeel({"--json", "edi", "parse", kX12 + "valid/staedi_invoice810_po850_dual.edi"});
    BOOST_TEST(r.code == 0, r.err);
    const auto tree = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    const auto interchanges = tree->getArray("interchanges");
    BOOST_TEST_REQUIRE(interchanges->size() == 1u);
    const auto groups = interchanges->getObject(0)->getArray("groups");
    BOOST_TEST(groups->size() == 2u);
    const auto rejected = runKeel({"edi", "parse", kX12 + "invalid/stupidedi_004010_PR855_fail_2.edi"});
    BOOST_TEST(rejected.code == 2);
    BOOST_TEST(contains(rejected.err, "split_isa: line break at byte 57"));
}

BOOST_AUTO_TEST_CASE(ack_prints_the_acknowledgment_and_exits_2_when_anything_is_rejected) {
    const auto ok = runKeel({"edi", "ack", kX12 + "valid/nodex12_850.edi"});
    BOOST_TEST(ok.code == 0, ok.out << ok.err);
    BOOST_TEST(contains(ok.out, "AK9*A*1*1*1"), ok.out);
    const auto bad = runKeel({"edi", "ack", "--control-number", "42", kX12 + "invalid/edienginge_940_Failed_SE01.edi"});
    BOOST_TEST(bad.code == 2, bad.err);
    BOOST_TEST(contains(bad.out, "ST*997*0042"), bad.out);
    BOOST_TEST(contains(bad.out, "AK5*R*4"), bad.out);
    BOOST_TEST(contains(bad.out, "AK9*R*1*1*0"), bad.out);
    const auto strict = runKeel({"edi", "ack", "--strict", kX12 + "invalid/edienginge_ControlNumbersMismatch.edi"});
    BOOST_TEST(strict.code == 2);
    BOOST_TEST(contains(strict.out, "TA1*000003438*101127*1719*R*001"), strict.out);
    BOOST_TEST(runKeel({"edi", "ack", "--control-number", "0", kX12 + "valid/nodex12_850.edi"}).code == 1);
    BOOST_TEST(runKeel({"edi", "ack", kX12 + "invalid/staedi_ts214_ellipses_segterm.edi"}).code == 2);
}

BOOST_AUTO_TEST_CASE(ack_json_holds_the_ack_and_its_tree) {
    const auto r = runKeel({"--json", "edi", "ack", kX12 + "valid/staedi_invoice810_po850_dual.edi"});
    BOOST_TEST(r.code == 0, r.err);
    const auto body = Poco::JSON::Parser().parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getValue<bool>("accepted"));
    BOOST_TEST(contains(body->getValue<std::string>("ack"), "AK1*PO*165"));
    const auto interchanges = body->getArray("interchanges");
    BOOST_TEST_REQUIRE(interchanges->size() == 1u);
    BOOST_TEST(interchanges->getObject(0)->getArray("groups")->size() == 2u);
}

BOOST_AUTO_TEST_CASE(validate_reports_dictionary_errors_and_exits_2) {
    const std::string file = kX12 + "invalid/edienginge_850.SyntaxNotes.ERR.edi";
    const auto r = runKeel({"edi", "validate", file});
    BOOST_TEST(r.code == 2, r.out << r.err);
    BOOST_TEST(contains(r.out,
                        "error [segment_has_element_errors/conditional_element_missing]: transaction set 850 "
                        "000000010, segment 13 (PO1 at byte "),
               r.out);
    BOOST_TEST(contains(r.out, "P0607"), r.out);
    const auto json = runKeel({"--json", "edi", "validate", file});
    BOOST_TEST(json.code == 2);
    const auto body = Poco::JSON::Parser().parse(json.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(!body->getValue<bool>("valid"));
    BOOST_TEST(body->getValue<int>("validated_sets") == 1);
    const auto first = body->getArray("findings")->getObject(0);
    BOOST_TEST(first->getValue<std::string>("element") == "PO107");
    BOOST_TEST(first->getValue<int>("segment_code") == 8);
    BOOST_TEST(first->getValue<int>("element_code") == 2);
    BOOST_TEST(first->getValue<int>("position") == 13);
}

BOOST_AUTO_TEST_CASE(sets_without_a_dictionary_are_noted_and_rejected_only_when_strict) {
    const std::string file = kX12 + "valid/nodex12_856.edi";  // version 004060: no dictionary
    const auto tolerant = runKeel({"edi", "validate", file});
    BOOST_TEST(tolerant.code == 0, tolerant.out);
    BOOST_TEST(contains(tolerant.out, "note: transaction set 856 (segment 3) of version '004060' has no dictionary"),
               tolerant.out);
    BOOST_TEST(runKeel({"edi", "validate", "--strict", file}).code == 2);
    const auto ack = runKeel({"edi", "ack", "--strict", file});
    BOOST_TEST(ack.code == 2);
    BOOST_TEST(contains(ack.out, "AK5*R*1"), ack.out);
}

BOOST_AUTO_TEST_CASE(ack_reflects_dictionary_errors) {
    const auto r = runKeel({"edi", "ack", kX12 + "invalid/edienginge_850.SyntaxNotes.ERR.edi"});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(contains(r.out, "AK3*PO1*13**8"), r.out);
    BOOST_TEST(contains(r.out, "AK4*7*234*2"), r.out);
    BOOST_TEST(contains(r.out, "AK5*R*5"), r.out);
}

BOOST_AUTO_TEST_CASE(dictionaries_option_reads_a_directory_instead) {
    const std::string file = kX12 + "valid/nodex12_850.edi";
    const auto same =
        runKeel({"edi", "validate", "--dictionaries", std::string(KEEL_SOURCE_DIR) + "/edi/dictionaries", file});
    BOOST_TEST(same.code == 0, same.out << same.err);
    const auto missing = runKeel({"edi", "validate", "--dictionaries", "/nonexistent/dictionaries", file});
    BOOST_TEST(missing.code == 1);
    BOOST_TEST(contains(missing.err, "--dictionaries: dictionary directory '/nonexistent/dictionaries' does not exist"),
               missing.err);
    // The same from the configuration key; the option wins over it.
    const auto configured = runKeel({"-D", "edi.dictionaries=/nonexistent/from-config", "edi", "validate", file});
    BOOST_TEST(configured.code == 1);
    BOOST_TEST(contains(configured.err, "edi.dictionaries: dictionary directory '/nonexistent/from-config'"),
               configured.err);
    const auto overridden = runKeel({"-D", "edi.dictionaries=/nonexistent/from-config", "edi", "validate",
                                     "--dictionaries", std::string(KEEL_SOURCE_DIR) + "/edi/dictionaries", file});
    BOOST_TEST(overridden.code == 0, overridden.err);
}
