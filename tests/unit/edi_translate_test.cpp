// keel edi translate through the edi-x12 plugin: the real 850s of ../shared/testdata become order documents that
// Keel's own order parser accepts, and what cannot be taken in is named (segment, element, reason) and rejected in
// the 997.
#define BOOST_TEST_MODULE edi_translate
#include <boost/test/unit_test.hpp>

#include "keel/cli/cli.h"
#include "keel/orders/document.h"

#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

const std::string kX12 = std::string(KEEL_TESTDATA_DIR) + "/x12/";

struct Run {
    int code = 0;
    std::string out;
    std::string err;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

// A plugins.d with one edi-x12 instance and a partners directory with profiles for the test files' senders.
struct Setup {
    Poco::TemporaryFile temp;
    fs::path root;
    Setup() : root(temp.path()) {
        fs::create_directories(root / "plugins.d");
        fs::create_directories(root / "partners");
        write(root / "plugins.d" / "edi.properties",
              "plugin = edi-x12\npartners = " + (root / "partners").string() + "\n");
        // nodex12_850: ISA 12:4405197800, items by vendor part number (VN), then the buyer's catalog number (CB).
        write(root / "partners" / "xyz.properties",
              "isa.qualifier = 12\nisa.id = 4405197800\ngs.id = 4405197800\nour.isa.qualifier = 01\n"
              "our.isa.id = 999999999\ncustomer = XYZ-RETAIL\nitems = VN, CB\nuom.CA = case\n");
        // stupidedi_004010_PO850_pass_1: ZZ:SENDER.
        write(root / "partners" / "sender.properties",
              "isa.qualifier = ZZ\nisa.id = SENDER\nour.isa.qualifier = ZZ\nour.isa.id = RECEIVER\n"
              "customer = SENDER-CO\nitems = VN\nchannel = edi.sender\ncurrency = EUR\n");
    }
    Run keel(std::vector<std::string> args) const {
        std::vector<std::string> all = {"-D", "plugins.directory=" + std::string(KEEL_PLUGIN_DIR),
                                        "-D", "plugins.instances=" + (root / "plugins.d").string(),
                                        "-D", "plugins.allow_unsigned=true"};
        all.insert(all.end(), args.begin(), args.end());
        std::ostringstream out;
        std::ostringstream err;
        const int code = keel::cli::run(all, out, err, {}, "/nonexistent/etc/keel");
        return {code, out.str(), err.str()};
    }
    fs::path file(const std::string& name, const std::string& text) const {
        write(root / name, text);
        return root / name;
    }
};

Poco::JSON::Object::Ptr parse(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

std::string stringify(const Poco::Dynamic::Var& value) {
    std::ostringstream out;
    value.extract<Poco::JSON::Object::Ptr>()->stringify(out);
    return out.str();
}

const char* kSmall850 =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260709*1200*U*00401*000000007*0*T*>~"
    "GS*PO*SENDER*RECEIVER*20260709*1200*7*X*004010~"
    "ST*850*0001~BEG*00*SA*PO-1**20260709~PO1*1*2*EA*5.50**VN*A-1~PO1*2*3*CA*10**VN*B-2~CTT*2~SE*6*0001~"
    "ST*850*0002~BEG*00*SA*PO-2**20260709~PO1*1*1*EA*1**VN*A-1~CTT*3~SE*5*0002~"
    "GE*2*7~IEA*1*000000007~";

}  // namespace

BOOST_AUTO_TEST_CASE(a_real_850_becomes_an_order_document_that_keel_accepts) {
    Setup setup;
    const auto r = setup.keel({"--json", "edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST_REQUIRE(r.code == 0, r.out << r.err);
    const auto body = parse(r.out);
    BOOST_TEST(body->getArray("errors")->size() == 0u);
    const auto documents = body->getArray("documents");
    BOOST_TEST_REQUIRE(documents->size() == 1u);
    const std::string json = stringify(documents->get(0));
    const auto parsed = keel::orders::parseOrderDocument(json);
    BOOST_TEST_REQUIRE(parsed.ok(), json << (parsed.problems.empty() ? "" : parsed.problems.front().message));
    const auto& order = *parsed.document;
    BOOST_TEST(order.channel == "edi.xyz");
    BOOST_TEST(order.external_id == "08292233294");
    BOOST_TEST(order.customer.id == "XYZ-RETAIL");
    BOOST_TEST(order.ship_to.name == "XYZ RETAIL");
    BOOST_TEST(order.ship_to.region == "OH");
    BOOST_TEST(order.ship_to.country == "US");
    BOOST_TEST_REQUIRE(order.lines.size() >= 5u);
    BOOST_TEST(order.lines[0].sku == "AB3542");  // VN before CB
    BOOST_TEST(order.lines[0].quantity == 120);
    BOOST_TEST(order.lines[0].unit_price.has_value());
    BOOST_TEST(contains(json, "\"unit_price\":\"9.25\""), json);
    BOOST_TEST(contains(json, "\"promise_date\":\"2010-12-14\""), json);
    // The 997 accepts the group: AK1 names it, AK9 counts one set received and accepted.
    const auto acks = body->getArray("acknowledgments");
    BOOST_TEST_REQUIRE(acks->size() == 1u);
    const std::string ack = acks->getObject(0)->getValue<std::string>("text");
    BOOST_TEST(contains(ack, "AK1*PO*1421"), ack);
    BOOST_TEST(contains(ack, "AK9*A*1*1*1"), ack);
    BOOST_TEST(acks->getObject(0)->getValue<bool>("accepted"));
}

BOOST_AUTO_TEST_CASE(a_line_without_a_line_number_gets_its_position_and_the_profile_currency) {
    Setup setup;
    const auto r = setup.keel(
        {"--json", "edi", "translate", kX12 + "valid/stupidedi_004010_PO850_pass_1.edi", "--partner", "sender"});
    BOOST_TEST_REQUIRE(r.code == 0, r.out << r.err);
    const auto documents = parse(r.out)->getArray("documents");
    BOOST_TEST_REQUIRE(documents->size() == 1u);
    const auto parsed = keel::orders::parseOrderDocument(stringify(documents->get(0)));
    BOOST_TEST_REQUIRE(parsed.ok());
    BOOST_TEST(parsed.document->external_id == "PO12345");
    BOOST_TEST(parsed.document->lines.at(0).line_id == "1");
    BOOST_TEST(parsed.document->lines.at(0).sku == "VENDORSKU");
    BOOST_TEST(contains(stringify(documents->get(0)), "\"unit_price\":\"10\""));
    BOOST_TEST(contains(stringify(documents->get(0)), "\"currency\":\"EUR\""));
}

BOOST_AUTO_TEST_CASE(an_interchange_from_another_sender_is_refused_whole) {
    Setup setup;
    const auto r = setup.keel({"--json", "edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "sender"});
    BOOST_TEST(r.code == 2);
    const auto body = parse(r.out);
    BOOST_TEST(body->getArray("documents")->size() == 0u);
    const auto error = body->getArray("errors")->getObject(0);
    BOOST_TEST(error->getValue<std::string>("element") == "ISA06");
    BOOST_TEST(contains(error->getValue<std::string>("message"), "is from 12:4405197800, not from partner sender"));
}

BOOST_AUTO_TEST_CASE(a_set_that_cannot_be_mapped_is_named_and_rejected_in_the_997_and_the_others_go_through) {
    Setup setup;
    // Set 0001: CA has no Keel unit for partner "sender". Set 0002: CTT01 says 3 lines, it has 1. Neither goes in.
    const auto file = setup.file("two.edi", kSmall850);
    auto r = setup.keel({"--json", "edi", "translate", file.string(), "--partner", "sender"});
    BOOST_TEST(r.code == 2, r.out << r.err);
    auto body = parse(r.out);
    BOOST_TEST(body->getArray("documents")->size() == 0u);
    const auto errors = body->getArray("errors");
    BOOST_TEST_REQUIRE(errors->size() == 2u, r.out);
    BOOST_TEST(errors->getObject(0)->getValue<std::string>("set") == "0001");
    BOOST_TEST(errors->getObject(0)->getValue<std::string>("element") == "PO103");
    BOOST_TEST(errors->getObject(0)->getValue<int>("segment") == 6);
    BOOST_TEST(contains(errors->getObject(0)->getValue<std::string>("message"), "unit 'CA' has no Keel unit"));
    BOOST_TEST(errors->getObject(1)->getValue<std::string>("set") == "0002");
    BOOST_TEST(errors->getObject(1)->getValue<std::string>("element") == "CTT01");
    const std::string ack = body->getArray("acknowledgments")->getObject(0)->getValue<std::string>("text");
    BOOST_TEST(contains(ack, "AK2*850*0001"), ack);
    BOOST_TEST(contains(ack, "AK5*R*5"), ack);
    BOOST_TEST(contains(ack, "AK9*R*2*2*0"), ack);

    // Partner xyz maps CA to case: set 0001 goes in, 0002 is still refused and the group is partly accepted.
    std::string text = kSmall850;
    for (const auto& [from, to] : {std::pair<std::string, std::string>{"*ZZ*SENDER         *", "*12*4405197800     *"},
                                   {"GS*PO*SENDER*", "GS*PO*4405197800*"}}) {
        text.replace(text.find(from), from.size(), to);
    }
    const auto file2 = setup.file("two-xyz.edi", text);
    r = setup.keel({"--json", "edi", "translate", file2.string(), "--partner", "xyz"});
    BOOST_TEST(r.code == 2, r.out << r.err);
    body = parse(r.out);
    BOOST_TEST_REQUIRE(body->getArray("documents")->size() == 1u);
    BOOST_TEST(contains(stringify(body->getArray("documents")->get(0)), "\"uom\":\"case\""));
    BOOST_TEST(keel::orders::parseOrderDocument(stringify(body->getArray("documents")->get(0))).ok());
    const std::string ack2 = body->getArray("acknowledgments")->getObject(0)->getValue<std::string>("text");
    BOOST_TEST(contains(ack2, "AK9*P*2*2*1"), ack2);
}

BOOST_AUTO_TEST_CASE(an_unknown_partner_and_a_missing_option_are_named) {
    Setup setup;
    auto r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "nobody"});
    BOOST_TEST(r.code == 3);
    BOOST_TEST(contains(r.err, "partner 'nobody' has no profile (known: sender, xyz)"), r.err);
    r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi"});
    BOOST_TEST(r.code == 1);
    BOOST_TEST(contains(r.err, "--partner PARTNER is required"), r.err);
}

BOOST_AUTO_TEST_CASE(a_bad_partner_profile_stops_the_instance_with_the_file_and_key) {
    Setup setup;
    write(setup.root / "partners" / "broken.properties", "isa.qualifier = ZZ\nisa.id = X\nour.isa.qualifier = ZZ\n");
    const auto r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(r.code != 0);
    BOOST_TEST(contains(r.err, "broken.properties: our.isa.id is required"), r.err);
}
