// keel edi translate through the edi-x12 plugin: the real 850s of ../shared/testdata become order documents that
// Keel's own order parser accepts, and what cannot be taken in is named (segment, element, reason) and rejected in
// the 997. A 3PL's 945 (tests/edi/data) and 944 (stupidedi's) become a shipment confirmation and a stock receipt.
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

// A 3PL's profiles: 3pl-east sends the hand-made 945 of tests/edi/data, acme-wh stupidedi's 944.
void threePlProfiles(const Setup& setup) {
    write(setup.root / "partners" / "east.properties",
          "role = 3pl\nisa.qualifier = ZZ\nisa.id = 3PLEAST\nour.isa.qualifier = ZZ\nour.isa.id = KEELSELLER\n"
          "locations = 3PL-EAST\nwarehouse.0614141000012 = 3PL-EAST\nitems = VN\n");
    write(setup.root / "partners" / "acme-wh.properties",
          "role = 3pl\nisa.qualifier = ZZ\nisa.id = SENDER\nour.isa.qualifier = ZZ\nour.isa.id = RECEIVER\n"
          "locations = 3PL-ACME, 3PL-WEST\nwarehouse.1234567890001 = 3PL-ACME\nitems = UK, VN\n");
}

BOOST_AUTO_TEST_CASE(a_3pls_945_becomes_a_shipment_confirmation_of_the_depositor_order) {
    Setup setup;
    threePlProfiles(setup);
    const auto r = setup.keel({"--json", "edi", "translate",
                               std::string(KEEL_EDI_FIXTURES_DIR) + "/945_shipping_advice.edi", "--partner", "east"});
    BOOST_TEST_REQUIRE(r.code == 0, r.out << r.err);
    const auto body = parse(r.out);
    const std::string json = stringify(body->getArray("documents")->get(0));
    for (const char* part :
         {R"("type":"shipment_confirmation")", R"("depositor_order":"0000000000000000000000")",
          R"("reference":"SHP88231")", R"("shipped_at":"2026-11-26T00:00:00Z")", R"("location":"3PL-EAST")",
          R"("carrier":{"carrier":"UPSN","service":"UPS GROUND","tracking_number":"1Z999AA10123456784"})",
          R"({"line_id":"1","quantity":3,"sku":"A-1","x_ordered":3,"x_product_ids":{"VN":"A-1"},"x_status":"CC"})",
          R"({"line_id":"2","quantity":2,"sku":"B-2")", R"("x_purchase_order":"W-3PL-1")"}) {
        BOOST_TEST(contains(json, part), part << " in " << json);
    }
    BOOST_TEST(contains(body->getArray("acknowledgments")->getObject(0)->getValue<std::string>("text"), "AK9*A*1*1*1"));
    // The fixture follows the 004010 dictionary to the letter (JSON keys print in alphabetical order).
    const auto valid = setup.keel({"edi", "validate", std::string(KEEL_EDI_FIXTURES_DIR) + "/945_shipping_advice.edi"});
    BOOST_TEST(valid.code == 0, valid.out << valid.err);
    BOOST_TEST(contains(valid.out, "0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"), valid.out);
}

BOOST_AUTO_TEST_CASE(stupidedis_944_becomes_a_stock_receipt_at_the_warehouse_it_names) {
    Setup setup;
    threePlProfiles(setup);
    const auto r = setup.keel(
        {"--json", "edi", "translate", kX12 + "valid/stupidedi_004010_RE944_pass_1.edi", "--partner", "acme-wh"});
    BOOST_TEST_REQUIRE(r.code == 0, r.out << r.err);
    const std::string json = stringify(parse(r.out)->getArray("documents")->get(0));
    for (const char* part :
         {R"("type":"stock_receipt")", R"("receipt_id":"WR12345")", R"("received_on":"2026-07-14")",
          R"("location":"3PL-ACME")",
          R"({"line_id":"1","lot":"LOT456","quantity":100,"sku":"ITEM123","x_product_ids":{"UK":"ITEM123"},)"
          R"("x_references":{"PO":"REF789"}})",
          R"("x_depositor_order":"DO12345")"}) {
        BOOST_TEST(contains(json, part), part << " in " << json);
    }
}

BOOST_AUTO_TEST_CASE(a_3pl_sends_only_its_sets_and_names_its_own_warehouses) {
    Setup setup;
    threePlProfiles(setup);
    // An 850 from a 3PL is not an order.
    auto r = setup.keel(
        {"--json", "edi", "translate", kX12 + "valid/stupidedi_004010_PO850_pass_1.edi", "--partner", "acme-wh"});
    BOOST_TEST(r.code == 2, r.out << r.err);
    auto error = parse(r.out)->getArray("errors")->getObject(0);
    BOOST_TEST(error->getValue<std::string>("element") == "ST01");
    BOOST_TEST(contains(error->getValue<std::string>("message"),
                        "transaction set 850 is not taken from partner acme-wh (role 3pl: it sends 945 shipping "
                        "advices and 944 receipt advices)"));
    // A 944 from a warehouse the profile does not map, or one that adds up wrong, is refused where it says so.
    std::ifstream in(kX12 + "valid/stupidedi_004010_RE944_pass_1.edi", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("1234567890001"), 13, "9999999999999");
    text.replace(text.find("W14*100~"), 8, "W14*90~");
    r = setup.keel({"--json", "edi", "translate", setup.file("944.edi", text).string(), "--partner", "acme-wh"});
    BOOST_TEST(r.code == 2, r.out << r.err);
    const auto errors = parse(r.out)->getArray("errors");
    BOOST_TEST_REQUIRE(errors->size() == 2u, r.out);
    BOOST_TEST(errors->getObject(0)->getValue<std::string>("element") == "W1401");
    BOOST_TEST(
        contains(errors->getObject(0)->getValue<std::string>("message"), "says 90 units, the 1 line(s) add up to 100"));
    BOOST_TEST(errors->getObject(1)->getValue<std::string>("element") == "N104");
    BOOST_TEST(errors->getObject(1)->getValue<int>("segment") == 5);
    BOOST_TEST(contains(errors->getObject(1)->getValue<std::string>("message"),
                        "warehouse '9999999999999' is none of the locations partner acme-wh runs (locations = "
                        "3PL-ACME, 3PL-WEST; map it with warehouse.9999999999999 = CODE"));
    BOOST_TEST(
        contains(parse(r.out)->getArray("acknowledgments")->getObject(0)->getValue<std::string>("text"), "AK5*R*5"));
}

BOOST_AUTO_TEST_CASE(a_3pl_profile_without_locations_or_a_customer_with_them_is_refused) {
    Setup setup;
    write(setup.root / "partners" / "wh.properties",
          "role = 3pl\nisa.qualifier = ZZ\nisa.id = WH\nour.isa.qualifier = ZZ\nour.isa.id = US\n");
    auto r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(r.code != 0);
    BOOST_TEST(contains(r.err, "wh.properties: locations is required for role = 3pl"), r.err);
    write(setup.root / "partners" / "wh.properties",
          "isa.qualifier = ZZ\nisa.id = WH\nour.isa.qualifier = ZZ\nour.isa.id = US\ncustomer = WH\n"
          "locations = 3PL-EAST\n");
    r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(contains(r.err, "wh.properties: locations and warehouse.* are for a 3PL's profile (role = 3pl)"), r.err);
    write(setup.root / "partners" / "wh.properties",
          "role = 3pl\nisa.qualifier = ZZ\nisa.id = WH\nour.isa.qualifier = ZZ\nour.isa.id = US\n"
          "locations = 3PL-EAST\nwarehouse.77 = 3PL-WEST\n");
    r = setup.keel({"edi", "translate", kX12 + "valid/nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(contains(r.err, "wh.properties: warehouse.77 = '3PL-WEST' is not one of locations"), r.err);
}
