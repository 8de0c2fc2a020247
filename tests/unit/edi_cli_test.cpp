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
