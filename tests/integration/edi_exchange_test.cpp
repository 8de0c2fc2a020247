// Trading-partner exchange on every backend: a partner's file is stored before anything else, its 850s become
// orders through the common intake (a re-sent PO is not doubled), its acknowledgment is stored with control
// numbers that are never reused, a refused set leaves an integration exception until reprocess takes it in, a
// translator that cannot run keeps the bytes, and the file drop reads only complete files.
#define BOOST_TEST_MODULE integration_edi_exchange
#include <boost/test/unit_test.hpp>

#include "test_database.h"

#include "keel/cli/cli.h"
#include "keel/db/migrations.h"

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

using namespace keel;
namespace fs = std::filesystem;

namespace {

const std::string kX12 = std::string(KEEL_TESTDATA_DIR) + "/x12/valid/";

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// nodex12_850 with its one PO1 in cases (CA) and the PO number changed, so that a profile without uom.CA refuses it.
std::string casesOrder() {
    std::string text = readFile(kX12 + "nodex12_850.edi");
    const std::string po1 = "PO1*1*120*EA*";
    text.replace(text.find(po1), po1.size(), "PO1*1*120*CA*");
    const std::string beg = "08292233294";
    text.replace(text.find(beg), beg.size(), "CASES-1");
    return text;
}

struct Fixture {
    test::TestDatabase test;
    db::Database& db = test.database();
    Poco::TemporaryFile temp;
    fs::path root{temp.path()};
    Fixture() {
        db::Migrator(db).migrate();
        for (const char* d : {"plugins.d", "partners", "in", "out", "archive", "error", "empty"}) {
            fs::create_directories(root / d);
        }
        write(root / "plugins.d" / "edi.properties",
              "plugin = edi-x12\npartners = " + (root / "partners").string() + "\n");
        profile("");
    }
    void profile(const std::string& extra) {
        write(root / "partners" / "xyz.properties",
              "isa.qualifier = 12\nisa.id = 4405197800\nour.isa.qualifier = 01\nour.isa.id = 999999999\n"
              "customer = XYZ-RETAIL\nitems = VN\n"
              "transport.inbound = " +
                  (root / "in").string() + "\ntransport.outbound = " + (root / "out").string() +
                  "\ntransport.archive = " + (root / "archive").string() +
                  "\ntransport.error = " + (root / "error").string() + "\n" + extra);
    }
    std::tuple<int, std::string, std::string> keel(std::vector<std::string> args,
                                                   const std::string& instances = "plugins.d") {
        const std::vector<std::string> global = {"--db", test.connectionString(),
                                                 "-D",   "plugins.directory=" + std::string(KEEL_PLUGIN_DIR),
                                                 "-D",   "plugins.instances=" + (root / instances).string(),
                                                 "-D",   "plugins.allow_unsigned=true",
                                                 "-D",   "edi.partners=" + (root / "partners").string()};
        args.insert(args.begin(), global.begin(), global.end());
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return {code, out.str(), err.str()};
    }
    Poco::JSON::Object::Ptr json(const std::string& text) {
        return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
    }
    std::string stored(const std::string& id) {
        std::string body;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement("SELECT body FROM edi_message WHERE id = ?");
            s.bindAll(id).execute();
            while (s.next()) body = s.getString(0);
        });
        std::istringstream in(body);
        Poco::Base64Decoder decoder(in);
        return std::string((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>());
    }
    int openExceptions(const std::string& reference) {
        int count = 0;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& s =
                uow.statement("SELECT COUNT(*) FROM integration_exception WHERE reference = ? AND resolved_at IS NULL");
            s.bindAll(reference).execute();
            while (s.next()) count = static_cast<int>(s.getInt64(0));
        });
        return count;
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(edi_exchange, Fixture)

BOOST_AUTO_TEST_CASE(a_received_850_is_stored_becomes_one_order_and_is_acknowledged_with_fresh_control_numbers) {
    auto [code, out, err] = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz", "--ack",
                                  (root / "ack.edi").string()});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto first = json(out);
    BOOST_TEST(first->getValue<std::string>("status") == "processed");
    const auto order = first->getArray("orders")->getObject(0);
    BOOST_TEST(order->getValue<std::string>("external_id") == "08292233294");
    BOOST_TEST(order->getValue<std::string>("status") == "created");
    // The bytes in the database are the file's, byte for byte.
    BOOST_TEST(stored(first->getValue<std::string>("message_id")) == readFile(kX12 + "nodex12_850.edi"));
    const std::string ack = readFile(root / "ack.edi");
    BOOST_TEST(contains(ack, "*000000001*0*P*>"), ack);
    BOOST_TEST(contains(ack, "AK9*A*1*1*1"), ack);
    BOOST_TEST(stored(first->getValue<std::string>("ack_message_id")) == ack);

    // Re-sent: the same order, reported as already imported; the acknowledgment gets the next control number.
    std::tie(code, out, err) = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto second = json(out);
    BOOST_TEST(second->getArray("orders")->getObject(0)->getValue<std::string>("order_id") ==
               order->getValue<std::string>("order_id"));
    BOOST_TEST(second->getArray("orders")->getObject(0)->getValue<std::string>("status") == "already_imported");
    BOOST_TEST(contains(second->getValue<std::string>("ack"), "*000000002*0*P*>"));

    std::tie(code, out, err) = keel({"edi", "messages", "--partner", "xyz"});
    BOOST_TEST(code == 0);
    BOOST_TEST(contains(out, "in  interchange  processed  1114 bytes  nodex12_850.edi"), out);
    BOOST_TEST(contains(out, "out  ack  sent"), out);
}

BOOST_AUTO_TEST_CASE(a_refused_set_stays_as_an_exception_until_reprocess_takes_it_in) {
    write(root / "cases.edi", casesOrder());
    auto [code, out, err] = keel({"--json", "edi", "receive", (root / "cases.edi").string(), "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    const auto refused = json(out);
    const std::string id = refused->getValue<std::string>("message_id");
    BOOST_TEST(refused->getValue<std::string>("status") == "rejected");
    BOOST_TEST(contains(refused->getArray("errors")->getElement<std::string>(0), "PO103: unit 'CA' has no Keel unit"));
    BOOST_TEST(contains(refused->getValue<std::string>("ack"), "AK5*R*5"));
    BOOST_TEST(refused->getArray("orders")->size() == 0u);
    BOOST_TEST(openExceptions(id) == 1);

    profile("uom.CA = case\n");  // the operator fixes the profile
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", id});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto taken = json(out);
    BOOST_TEST(taken->getValue<std::string>("status") == "processed");
    BOOST_TEST(taken->getArray("orders")->getObject(0)->getValue<std::string>("external_id") == "CASES-1");
    BOOST_TEST(openExceptions(id) == 0);
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", id});  // again: nothing doubles
    BOOST_TEST(json(out)->getArray("orders")->getObject(0)->getValue<std::string>("status") == "already_imported");
    std::tie(code, out, err) = keel({"edi", "reprocess", "01a00000-0000-7000-8000-000000000000"});
    BOOST_TEST(code == 3);
}

BOOST_AUTO_TEST_CASE(a_translator_that_cannot_run_keeps_the_bytes_for_later) {
    auto [code, out, err] = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"}, "empty");
    BOOST_TEST(code == 5, out << err);
    const auto failed = json(out);
    BOOST_TEST(failed->getValue<std::string>("status") == "failed");
    BOOST_TEST(
        contains(failed->getArray("errors")->getElement<std::string>(0), "no plugin instance can translate EDI"));
    const std::string id = failed->getValue<std::string>("message_id");
    BOOST_TEST(stored(id) == readFile(kX12 + "nodex12_850.edi"));
    BOOST_TEST(openExceptions(id) == 1);
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", id});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(openExceptions(id) == 0);
}

BOOST_AUTO_TEST_CASE(the_file_drop_reads_complete_files_archives_or_parks_them_and_writes_the_ack) {
    write(root / "in" / "po.edi", readFile(kX12 + "nodex12_850.edi"));
    write(root / "in" / "garbage.edi", "this is not X12\n");
    write(root / "in" / "arriving.edi.part", "ISA*00*");
    auto [code, out, err] = keel({"--json", "edi", "poll", "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);  // garbage.edi was refused
    const auto body = json(out);
    BOOST_TEST(body->getArray("received")->size() == 2u);
    BOOST_TEST(body->getArray("skipped")->getElement<std::string>(0) == "arriving.edi.part");
    BOOST_TEST(fs::exists(root / "archive" / "po.edi"));
    BOOST_TEST(fs::exists(root / "error" / "garbage.edi"));
    BOOST_TEST(fs::exists(root / "in" / "arriving.edi.part"));
    BOOST_TEST(!fs::exists(root / "in" / "po.edi"));
    int acks = 0;
    for (const auto& entry : fs::directory_iterator(root / "out")) {
        BOOST_TEST(entry.path().extension() == ".edi");  // never a half-written .tmp
        BOOST_TEST(contains(readFile(entry.path()), "AK9*A*1*1*1"));
        ++acks;
    }
    BOOST_TEST(acks == 1);
    // A second poll finds nothing new; the half-written file is still waiting.
    std::tie(code, out, err) = keel({"edi", "poll", "--partner", "xyz"});
    BOOST_TEST(code == 0);
    BOOST_TEST(contains(out, "not complete yet, left for the next poll: arriving.edi.part"), out);
    // A partner without folders is named with the key that is missing.
    write(root / "partners" / "bare.properties",
          "isa.qualifier = ZZ\nisa.id = BARE\nour.isa.qualifier = ZZ\nour.isa.id = US\ncustomer = BARE\n");
    std::tie(code, out, err) = keel({"edi", "poll", "--partner", "bare"});
    BOOST_TEST(code == 5);
    BOOST_TEST(contains(err, "bare.properties: transport.inbound is required for the file drop"), err);
}

BOOST_AUTO_TEST_SUITE_END()
