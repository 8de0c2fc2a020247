// Trading-partner exchange on every backend: a partner's file is stored before anything else, its 850s become
// orders through the common intake (a re-sent PO is not doubled), its acknowledgment is stored with control
// numbers that are never reused, a refused set leaves an integration exception until reprocess takes it in, a
// translator that cannot run keeps the bytes, and the file drop reads only complete files. An interchange received
// before is recognised across files, commands and processes (edi_interchange), partner profiles live in the database
// (edi_partner), an order's 855 follows its changes and an unchanged 846 is not repeated. With a 3PL: a shipment
// released at its location goes out once as a 940, its 945 ships the shipment (once), its 944 receives stock (once).
#define BOOST_TEST_MODULE integration_edi_exchange
#include <boost/test/unit_test.hpp>

#include "test_database.h"

#include "keel/app/edi_exchange.h"
#include "keel/app/interchange_registry.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"

#include <Poco/Base64Decoder.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Util/MapConfiguration.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <tuple>

using namespace keel;
namespace fs = std::filesystem;

namespace {

const std::string kX12 = std::string(KEEL_TESTDATA_DIR) + "/x12/valid/";
const std::string kFixtures = std::string(KEEL_EDI_FIXTURES_DIR) + "/";

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

// The customer partner's items (its part numbers A-1 and B-2 are aliases of its channel) at Keel's warehouse WH1.
const std::string kItems = "sku,name\nWIDGET,Widget\nGADGET,Gadget\n";
const std::string kWarehouse = "code,name,country\nWH1,Main,US\n";
const std::string kAliases = "channel,channel_sku,sku\nedi.xyz,A-1,WIDGET\nedi.xyz,B-2,GADGET\n";

// A copy of nodex12_850 (ISA13 000003438) as another interchange: the same PO under a new control number.
std::string withControlNumber(const std::string& isa13) {
    std::string text = readFile(kX12 + "nodex12_850.edi");
    for (auto at = text.find("000003438"); at != std::string::npos; at = text.find("000003438", at)) {
        text.replace(at, 9, isa13);
    }
    return text;
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
    // A 3PL (role = 3pl) running location 3PL-EAST, with folders of its own; its item ids are aliases of its channel.
    void threePlProfile(const std::string& extra = "") {
        for (const char* d : {"3pl-in", "3pl-out", "3pl-archive", "3pl-error"}) fs::create_directories(root / d);
        write(root / "partners" / "3pl-east.properties",
              "role = 3pl\nisa.qualifier = ZZ\nisa.id = 3PLEAST\nour.isa.qualifier = ZZ\nour.isa.id = KEELSELLER\n"
              "locations = 3PL-EAST\nwarehouse.0614141000012 = 3PL-EAST\nitems = VN\n"
              "transport.inbound = " +
                  (root / "3pl-in").string() + "\ntransport.outbound = " + (root / "3pl-out").string() +
                  "\ntransport.archive = " + (root / "3pl-archive").string() +
                  "\ntransport.error = " + (root / "3pl-error").string() + "\n" + extra);
    }
    void run(const std::vector<std::string>& args) {
        const auto [code, out, err] = keel(args);
        BOOST_TEST_REQUIRE(code == 0, args.front() << " " << args.at(1) << ": " << out << err);
    }
    // The books started, the items, locations and aliases of these CSV texts imported, and each (SKU, LOCATION, QTY)
    // received.
    void catalog(const std::string& items, const std::string& locations, const std::string& aliases,
                 const std::vector<std::vector<std::string>>& receipts) {
        write(root / "items.csv", items);
        write(root / "locations.csv", locations);
        write(root / "aliases.csv", aliases);
        for (const std::vector<std::string>& args : {std::vector<std::string>{"ledger", "init"},
                                                     {"item", "import", (root / "items.csv").string()},
                                                     {"location", "import", (root / "locations.csv").string()},
                                                     {"alias", "import", (root / "aliases.csv").string()}}) {
            run(args);
        }
        for (const auto& receipt : receipts) run({"stock", "receive", receipt.at(0), receipt.at(1), receipt.at(2)});
    }
    // Items, the 3PL's location with 10 of WIDGET and GADGET (its A-1 and B-2), and Keel's own warehouse with SPROCKET.
    void threePlStock() {
        threePlProfile();
        catalog("sku,name\nWIDGET,Widget\nGADGET,Gadget\nSPROCKET,Sprocket\n",
                "code,name,type,country\n3PL-EAST,East Fulfillment,3pl,US\nWH1,Main,warehouse,US\n",
                "channel,channel_sku,sku\nedi.3pl-east,A-1,WIDGET\nedi.3pl-east,B-2,GADGET\n",
                {{"WIDGET", "3PL-EAST", "10"}, {"GADGET", "3PL-EAST", "10"}, {"SPROCKET", "WH1", "5"}});
    }
    // A web order of `lines` (SKU, quantity), allocated and released to fulfillment: its one shipment.
    std::string releasedShipment(const std::string& external_id,
                                 const std::vector<std::pair<std::string, int>>& lines) {
        std::string items;
        for (const auto& [sku, quantity] : lines) {
            items += std::string(items.empty() ? "" : ", ") + R"({"sku": ")" + sku + R"(", "quantity": )" +
                     std::to_string(quantity) + R"(, "unit_price": "4.00"})";
        }
        write(root / "order.json",
              R"({"type": "order", "version": 1, "channel": "web", "external_id": ")" + external_id +
                  R"(", "currency": "USD", "customer": {"email": "ann@example.com"}, "ship_to": {"name": "Ann Lee", )"
                  R"("line1": "1 Main St", "city": "Springfield", "region": "IL", "postal_code": "62701", )"
                  R"("country": "US"}, "payment": {"status": "captured"}, "lines": [)" +
                  items + "]}");
        run({"order", "import", (root / "order.json").string()});
        run({"order", "allocate", "web/" + external_id});
        auto [code, out, err] = keel({"--json", "shipment", "release", "web/" + external_id});
        BOOST_TEST_REQUIRE(code == 0, out << err);
        return json(out)->getArray("shipments")->getElement<std::string>(0);
    }
    // The 945 fixture for a shipment: W0602 is the shipment's id without dashes, cut to 22 (what Keel's 940 says). Each
    // is a new interchange (ISA13 501, 502, ...), as a 3PL sends them: the same interchange twice is a duplicate.
    int advices_ = 0;
    std::string shippingAdvice(const std::string& shipment,
                               const std::vector<std::pair<std::string, std::string>>& edits = {}) {
        std::string text = readFile(kFixtures + "945_shipping_advice.edi");
        const std::string isa13 = std::to_string(1'000'000'501 + advices_++).substr(1);
        for (const std::string envelope : {"*000000501*0*P*", "IEA*1*000000501"}) {
            std::string fresh = envelope;
            fresh.replace(fresh.find("000000501"), 9, isa13);
            text.replace(text.find(envelope), envelope.size(), fresh);
        }
        std::string depositor = shipment;
        depositor.erase(std::remove(depositor.begin(), depositor.end(), '-'), depositor.end());
        const std::string zeros(22, '0');
        if (!shipment.empty()) text.replace(text.find(zeros), zeros.size(), depositor.substr(0, 22));
        for (const auto& [from, to] : edits) {
            BOOST_TEST_REQUIRE(text.find(from) != std::string::npos, from);
            text.replace(text.find(from), from.size(), to);
        }
        return text;
    }
    // Three 945s in one interchange, sets 0001 to 0003: for `first`, for no shipment of Keel's, for `second`.
    std::string threeAdvices(const std::string& first, const std::string& second) {
        const std::string one = shippingAdvice(first);
        const auto setOf = [](const std::string& text, const std::string& control) {
            const auto st = text.find("ST*945*");
            std::string set = text.substr(st, text.find("GE*1*") - st);
            for (const std::string segment : {"ST*945*0001~", "SE*15*0001~"}) {
                set.replace(set.find(segment) + segment.size() - 5, 4, control);
            }
            return set;
        };
        std::string text = one.substr(0, one.find("ST*945*")) + setOf(one, "0001") + setOf(shippingAdvice(""), "0002") +
                           setOf(shippingAdvice(second), "0003") + one.substr(one.find("GE*1*"));
        text.replace(text.find("GE*1*"), 5, "GE*3*");
        return text;
    }
    std::tuple<int, std::string, std::string> receive(const std::string& partner, const std::string& name,
                                                      const std::string& text) {
        write(root / name, text);
        return keel({"--json", "edi", "receive", (root / name).string(), "--partner", partner});
    }
    std::int64_t number(const std::string& sql, const std::string& parameter = "") {
        std::int64_t value = -1;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(sql);
            if (!parameter.empty()) s.bindAll(parameter);
            s.execute();
            while (s.next()) value = s.isNull(0) ? -1 : s.getInt64(0);
        });
        return value;
    }
    std::string text(const std::string& sql, const std::string& parameter) {
        std::string value;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(sql);
            s.bindAll(parameter).execute();
            while (s.next()) value = s.getString(0);
        });
        return value;
    }
    std::int64_t onHand(const std::string& sku, const std::string& location) {
        std::int64_t value = 0;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(
                "SELECT COALESCE(SUM(b.quantity), 0) FROM stock_balance b JOIN item i ON i.id = b.item_id JOIN "
                "location "
                "l ON l.id = b.location_id WHERE b.state = 'on_hand' AND i.sku = ? AND l.code = ?");
            s.bindAll(sku, location).execute();
            while (s.next()) value = s.getInt64(0);
        });
        return value;
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

    // The same PO in a new interchange (a new ISA13): the same order, reported as already imported; the
    // acknowledgment gets the next control number.
    write(root / "again.edi", withControlNumber("000003439"));
    std::tie(code, out, err) = keel({"--json", "edi", "receive", (root / "again.edi").string(), "--partner", "xyz"});
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

BOOST_AUTO_TEST_CASE(an_interchange_sent_again_is_stored_answered_with_a_ta1_and_not_taken_in_again) {
    auto [code, out, err] = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const std::string first = json(out)->getValue<std::string>("message_id");

    // The same file again (a partner that re-sends, another command, another node): the same sender, receiver and
    // ISA13 within edi.duplicate_window_days.
    std::tie(code, out, err) = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    const auto again = json(out);
    const std::string second = again->getValue<std::string>("message_id");
    BOOST_TEST(again->getValue<std::string>("status") == "rejected");
    BOOST_TEST(again->getArray("orders")->size() == 0u);  // not translated, so not taken in again
    BOOST_TEST(again->getValue<Poco::UInt64>("sets") == 0u);
    const std::string why = again->getArray("errors")->getElement<std::string>(0);
    BOOST_TEST(contains(why,
                        "interchange 000003438 from 12/4405197800 to 01/999999999 was already received in "
                        "message " +
                            first),
               why);
    BOOST_TEST(contains(why, "edi.duplicate_window_days = 365"), why);
    const auto duplicate = again->getArray("duplicates")->getObject(0);
    BOOST_TEST(duplicate->getValue<std::string>("earlier_message_id") == first);
    BOOST_TEST(duplicate->getValue<std::string>("control_number") == "000003438");
    // The answer: a rejecting TA1 with note 025 (duplicate interchange control number) under the next ISA13, and no
    // 997 for the group (the first one was acknowledged already).
    const std::string ack = again->getValue<std::string>("ack");
    BOOST_TEST(contains(ack, "*000000002*0*P*>~\nTA1*000003438*101127*1719*R*025~\nIEA*0*000000002~"), ack);
    BOOST_TEST(!contains(ack, "AK9"), ack);
    // Stored all the same (nothing received is lost), with an exception saying it repeats the earlier message.
    BOOST_TEST(stored(second) == readFile(kX12 + "nodex12_850.edi"));
    BOOST_TEST(openExceptions(second) == 1);
    BOOST_TEST(number("SELECT COUNT(*) FROM integration_exception WHERE reference = ? AND code = 'edi_duplicate'",
                      second) == 1);
    BOOST_TEST(number("SELECT COUNT(*) FROM sales_order") == 1);

    // Processing the first message again is not a duplicate of itself; the second stays one.
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", first});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(json(out)->getArray("duplicates")->size() == 0u);
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", second});
    BOOST_TEST(code == 2, out << err);
    BOOST_TEST(json(out)->getArray("duplicates")->getObject(0)->getValue<std::string>("earlier_message_id") == first);
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_interchange WHERE message_id = ?", first) == 1);

    // The file drop: the re-sent file goes to the error folder, its TA1 to the outbound folder.
    write(root / "in" / "po-again.edi", readFile(kX12 + "nodex12_850.edi"));
    std::tie(code, out, err) = keel({"--json", "edi", "poll", "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    BOOST_TEST(fs::exists(root / "error" / "po-again.edi"));
    const auto polled = json(out)->getArray("received")->getObject(0);
    BOOST_TEST(contains(readFile(root / "out" / ("ack-" + polled->getValue<std::string>("message_id") + ".edi")),
                        "TA1*000003438*101127*1719*R*025~"));

    // A file holding one interchange twice: the first is taken in, the second answered with a TA1.
    write(root / "twice.edi", withControlNumber("000000777") + withControlNumber("000000777"));
    std::tie(code, out, err) = keel({"--json", "edi", "receive", (root / "twice.edi").string(), "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    const auto twice = json(out);
    BOOST_TEST(twice->getValue<Poco::UInt64>("sets") == 1u);
    BOOST_TEST(twice->getArray("orders")->size() == 1u);
    BOOST_TEST(contains(twice->getArray("errors")->getElement<std::string>(0), "occurs twice in this file"));
    BOOST_TEST(contains(twice->getValue<std::string>("ack"), "AK9*A*1*1*1"));
    BOOST_TEST(contains(twice->getValue<std::string>("ack"), "TA1*000000777*101127*1719*R*025~"));

    // Past the window the partner's numbers may come round again: the interchange is taken in and its row taken
    // over. With a window of 0 days there is no check at all.
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE edi_interchange SET seen_at = seen_at - ?")
            .bindAll(static_cast<std::int64_t>(366) * 24 * 3600 * 1'000'000)
            .execute();
    });
    std::tie(code, out, err) = keel({"--json", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(code == 0, out << err);
    const std::string later = json(out)->getValue<std::string>("message_id");
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_interchange WHERE control_number = '000003438' AND message_id = ?",
                      later) == 1);
    std::tie(code, out, err) =
        keel({"-D", "edi.duplicate_window_days=0", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(code == 0, out << err);
    std::tie(code, out, err) =
        keel({"-D", "edi.duplicate_window_days=-1", "edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(code == 5);
    BOOST_TEST(contains(err, "edi.duplicate_window_days must be 0 (off) to 36500 days"), err);
}

BOOST_AUTO_TEST_CASE(two_processes_receiving_one_interchange_at_once_take_it_in_once) {
    // keeld's request threads share the services; each upload has its exchange. Both look the interchange up before
    // either registered it: the unique key decides, and the loser is decided again as the duplicate.
    Poco::AutoPtr<Poco::Util::MapConfiguration> config = new Poco::Util::MapConfiguration;
    config->setString("plugins.directory", KEEL_PLUGIN_DIR);
    config->setString("plugins.instances", (root / "plugins.d").string());
    config->setString("plugins.allow_unsigned", "true");
    config->setString("edi.partners", (root / "partners").string());
    app::Services services(*config);
    services.attachDatabase(db);
    services.pluginHost();  // loaded once, before the threads
    for (int round = 1; round <= 4; ++round) {
        const std::string isa13 = "000000" + std::to_string(500 + round);
        const std::string bytes = withControlNumber(isa13);
        std::vector<app::EdiReceipt> receipts(2);
        std::vector<std::string> failures(2);
        std::vector<std::thread> threads;
        for (std::size_t t = 0; t < 2; ++t) {
            threads.emplace_back([&, t] {
                try {
                    app::EdiExchange exchange(services, db, *config);
                    receipts[t] = exchange.receive("xyz", "race.edi", bytes, orders::Actor{"test"});
                } catch (const std::exception& e) {
                    failures[t] = e.what();
                }
            });
        }
        for (auto& thread : threads) thread.join();
        BOOST_TEST_REQUIRE(failures[0].empty(), failures[0]);
        BOOST_TEST_REQUIRE(failures[1].empty(), failures[1]);
        const int processed = (receipts[0].status == "processed") + (receipts[1].status == "processed");
        BOOST_TEST(processed == 1, "round " << round << ": " << receipts[0].status << ", " << receipts[1].status);
        const auto& loser = receipts[0].status == "processed" ? receipts[1] : receipts[0];
        const auto& winner = receipts[0].status == "processed" ? receipts[0] : receipts[1];
        BOOST_TEST_REQUIRE(loser.duplicates.size() == 1u, loser.status);
        BOOST_TEST(loser.duplicates[0].earlier_message == winner.message_id);
        BOOST_TEST(number("SELECT COUNT(*) FROM edi_interchange WHERE control_number = ?", isa13) == 1);
    }
    BOOST_TEST(number("SELECT COUNT(*) FROM sales_order") == 1);
}

BOOST_AUTO_TEST_CASE(a_registration_that_lost_the_race_is_refused_and_the_window_is_kept) {
    const edi::ManualClock clock(std::chrono::system_clock::now());
    const edi::InterchangeKey key{"ZZ", "SENDER", "ZZ", "KEEL", "000000042"};
    app::DatabaseInterchangeRegistry a(db, "message-a", "xyz", std::chrono::hours(24), clock);
    app::DatabaseInterchangeRegistry b(db, "message-b", "xyz", std::chrono::hours(24), clock);
    BOOST_TEST(!a.recordAndCheck(key));  // both look it up before either registered it
    BOOST_TEST(!b.recordAndCheck(key));
    db.run([&](db::UnitOfWork& uow) { a.record(uow); });
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { b.record(uow); }), app::InterchangeTaken);
    db.run([&](db::UnitOfWork& uow) { a.record(uow); });  // the holder registering again changes nothing
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_interchange WHERE message_id = 'message-a'") == 1);
    // A third message now finds it, with who had it first.
    app::DatabaseInterchangeRegistry c(db, "message-c", "xyz", std::chrono::hours(24), clock);
    BOOST_TEST(c.recordAndCheck(key).has_value());
    BOOST_TEST(c.earlier().message_id == "message-a");
    // A row from before the window belongs to whoever registers the key next, once.
    const edi::InterchangeKey other{"ZZ", "SENDER", "ZZ", "KEEL", "000000043"};
    app::DatabaseInterchangeRegistry d(db, "message-d", "xyz", std::chrono::hours(24), clock);
    app::DatabaseInterchangeRegistry e(db, "message-e", "xyz", std::chrono::hours(24), clock);
    BOOST_TEST(!d.recordAndCheck(other));
    BOOST_TEST(!e.recordAndCheck(other));
    db.run([&](db::UnitOfWork& uow) {
        uow.statement(
               "INSERT INTO edi_interchange (sender_qualifier, sender_id, receiver_qualifier, receiver_id, "
               "control_number, partner, message_id, seen_at) VALUES ('ZZ', 'SENDER', 'ZZ', 'KEEL', '000000043', "
               "'xyz', "
               "'message-d', ?)")
            .bindAll(static_cast<std::int64_t>(1))
            .execute();
    });
    // message-d's row is older than the window: message-e takes it over, and message-d cannot take it back.
    db.run([&](db::UnitOfWork& uow) { e.record(uow); });
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_interchange WHERE message_id = 'message-e'") == 1);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { d.record(uow); }), app::InterchangeTaken);
}

// nodex12_850 as three sets in one group: PO BATCH-A, BATCH-A again with its first line changed (a changed re-send),
// and BATCH-B.
std::string threeOrders() {
    const std::string text = readFile(kX12 + "nodex12_850.edi");
    const auto st = text.find("ST*850*");
    const auto ge = text.find("GE*1*");
    const std::string head = text.substr(0, st);
    const std::string set = text.substr(st, ge - st);
    std::string tail = text.substr(ge);
    tail.replace(0, 5, "GE*3*");
    auto variant = [&](const std::string& po, const std::string& control, bool changed) {
        std::string one = set;
        one.replace(one.find("08292233294"), 11, po);
        for (auto at = one.find("000000010"); at != std::string::npos; at = one.find("000000010", at)) {
            one.replace(at, 9, control);
        }
        if (changed) one.replace(one.find("PO1*1*120*"), 10, "PO1*1*121*");
        return one;
    };
    return head + variant("BATCH-A", "000000011", false) + variant("BATCH-A", "000000012", true) +
           variant("BATCH-B", "000000013", false) + tail;
}

BOOST_AUTO_TEST_CASE(the_orders_of_one_interchange_are_each_taken_in_or_refused_in_their_order) {
    // The three 850s are taken in together (on SQLite in one shared commit, Orders::importEach): the first BATCH-A is
    // created, the changed re-send after it is the one refused, and BATCH-B is created all the same.
    write(root / "three.edi", threeOrders());
    auto [code, out, err] = keel({"--json", "edi", "receive", (root / "three.edi").string(), "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);  // a set was refused
    const auto received = json(out);
    const auto orders = received->getArray("orders");
    BOOST_TEST_REQUIRE(orders->size() == 2u, out);
    BOOST_TEST(orders->getObject(0)->getValue<std::string>("external_id") == "BATCH-A");
    BOOST_TEST(orders->getObject(0)->getValue<std::string>("status") == "created");
    BOOST_TEST(orders->getObject(1)->getValue<std::string>("external_id") == "BATCH-B");
    BOOST_TEST(orders->getObject(1)->getValue<std::string>("status") == "created");
    const auto errors = received->getArray("errors");
    BOOST_TEST_REQUIRE(errors->size() == 1u, out);
    BOOST_TEST(contains(errors->getElement<std::string>(0), "set 000000012: PO BATCH-A"), out);
    // The acknowledgment accepts the first and third sets and rejects the second, the group partly accepted.
    const std::string ack = received->getValue<std::string>("ack");
    BOOST_TEST(contains(ack, "AK2*850*000000011~\nAK5*A~\nAK2*850*000000012~\nAK5*R*5~\nAK2*850*000000013~\nAK5*A~"),
               ack);
    BOOST_TEST(contains(ack, "AK9*P*3*3*2~"), ack);
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

BOOST_AUTO_TEST_CASE(a_file_that_breaks_after_its_isa_gets_a_rejecting_ta1_and_an_exception) {
    // A line break inside the BEG: the reader stops there rather than mis-split the rest.
    std::string broken = readFile(kX12 + "nodex12_850.edi");
    broken.replace(broken.find("BEG*00*SA"), 9, "BEG*00\n*SA");
    write(root / "broken.edi", broken);
    auto [code, out, err] = keel({"--json", "edi", "receive", (root / "broken.edi").string(), "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    const auto refused = json(out);
    const std::string id = refused->getValue<std::string>("message_id");
    BOOST_TEST(refused->getValue<std::string>("status") == "rejected");
    BOOST_TEST(refused->getArray("orders")->size() == 0u);
    // TA101 the interchange's ISA13, TA104 R, TA105 024 (invalid interchange content); no 997 for what was not read.
    const std::string ack = refused->getValue<std::string>("ack");
    BOOST_TEST(contains(ack, "TA1*000003438*101127*1719*R*024"), ack);
    BOOST_TEST(!contains(ack, "AK1*"), ack);
    BOOST_TEST(stored(id) == broken);
    BOOST_TEST(openExceptions(id) == 1);
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

BOOST_AUTO_TEST_CASE(an_850_in_the_inbound_folder_ships_and_is_invoiced_back_as_an_856_and_an_810) {
    catalog(kItems, kWarehouse, kAliases, {{"WIDGET", "WH1", "10"}, {"GADGET", "WH1", "10"}});
    write(root / "in" / "po-777.edi",
          "ISA*00*          *00*          *12*4405197800     *01*999999999      *261126*1200*U*00401*000000101*0*P*>~\n"
          "GS*PO*4405197800*999999999*20261126*1200*101*X*004010~\nST*850*0001~\nBEG*00*SA*PO-777**20261126~\n"
          "N1*ST*Store 12~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*2*EA*3.50**VN*A-1~\n"
          "PO1*2*1*EA*10**VN*B-2~\nCTT*2~\nSE*9*0001~\nGE*1*101~\nIEA*1*000000101~\n");
    auto [code, out, err] = keel({"--json", "edi", "poll", "--partner", "xyz"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto order = json(out)->getArray("received")->getObject(0)->getArray("orders")->getObject(0);
    BOOST_TEST(order->getValue<std::string>("state") == "validated");  // on terms: not held for payment
    const std::string id = order->getValue<std::string>("order_id");
    std::tie(code, out, err) = keel({"order", "allocate", id});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    std::tie(code, out, err) = keel({"--json", "shipment", "release", id});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const std::string shipment = json(out)->getArray("shipments")->getElement<std::string>(0);
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"shipment", "pick", shipment},
          {"shipment", "pack", shipment, "--packages", "1"},
          {"shipment", "confirm", shipment, "--carrier", "UPSN", "--tracking", "1Z999AA10123456784"}}) {
        std::tie(code, out, err) = keel(args);
        BOOST_TEST_REQUIRE(code == 0, args[1] << ": " << out << err);
    }
    for (const auto& entry : fs::directory_iterator(root / "out")) fs::remove(entry.path());  // the 997 of the poll

    std::tie(code, out, err) =
        keel({"-D", "edi.gs1.company_prefix=0614141", "--json", "edi", "send", "--partner", "xyz"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto sent = json(out)->getArray("sent");
    BOOST_TEST_REQUIRE(sent->size() == 3u, out);
    std::map<std::string, std::string> files;
    for (std::size_t i = 0; i < sent->size(); ++i) {
        const auto s = sent->getObject(static_cast<unsigned>(i));
        files[s->getValue<std::string>("transaction_set")] = s->getValue<std::string>("file");
    }
    const std::string asn = readFile(files.at("856"));
    const std::string invoice = readFile(files.at("810"));
    const std::string po_ack = readFile(files.at("855"));
    // The 855: accepted as sent, each line acknowledged with its quantity.
    for (const char* part : {"ST*855*0001~", "BAK*00*AD*PO-777*", "PO1*1*2*EA***VN*A-1~", "ACK*IA*2*EA~",
                             "PO1*2*1*EA***VN*B-2~", "ACK*IA*1*EA~", "CTT*2~"}) {
        BOOST_TEST(contains(po_ack, part), part << " in\n" << po_ack);
    }
    // The hierarchy: shipment, order (the partner's PO), pack with its SSCC-18, items with the partner's ids.
    for (const char* part :
         {"ST*856*0001~", "HL*1**S*1~", "TD5**2*UPSN~", "REF*CN*1Z999AA10123456784~", "N1*ST*Store 12~", "HL*2*1*O*1~",
          "PRF*PO-777~", "HL*3*2*P*1~", "MAN*GM*006141410000000012~", "HL*4*3*I*0~", "LIN*1*VN*A-1~", "SN1**2*EA~",
          "LIN*2*VN*B-2~", "SN1**1*EA~", "CTT*5~", "SE*22*0001~"}) {
        BOOST_TEST(contains(asn, part), part << " in\n" << asn);
    }
    for (const char* part : {"ST*810*0001~", "**PO-777~", "IT1*1*2*EA*3.50**VN*A-1~", "IT1*2*1*EA*10.00**VN*B-2~",
                             "TDS*1700~", "CTT*2~"}) {
        BOOST_TEST(contains(invoice, part), part << " in\n" << invoice);
    }
    // Keel's own validator accepts both against the 004010 dictionaries, without a warning.
    for (const auto& [set, file] : files) {
        std::tie(code, out, err) = keel({"edi", "validate", file});
        BOOST_TEST(code == 0, set << ": " << out << err);
        BOOST_TEST(contains(out, "0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"),
                   set << ": " << out);
    }
    // Interchange control numbers continue the partner's sequence (the poll's 997 took 1): never reused.
    BOOST_TEST(contains(po_ack, "*U*00401*000000002*"));
    BOOST_TEST(contains(asn, "*U*00401*000000003*"));
    BOOST_TEST(contains(invoice, "*U*00401*000000004*"));
    // Sent once: a second send has nothing to do.
    std::tie(code, out, err) = keel({"edi", "send", "--partner", "xyz"});
    BOOST_TEST(code == 0);
    BOOST_TEST(contains(out, "nothing to send to xyz"), out);

    // The inventory advice: available-to-promise of the items the partner knows (its aliases), by its part numbers.
    std::tie(code, out, err) = keel({"--json", "edi", "send", "--partner", "xyz", "--inventory"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto advised = json(out)->getArray("sent");
    BOOST_TEST_REQUIRE(advised->size() == 1u, out);
    BOOST_TEST(advised->getObject(0)->getValue<std::string>("transaction_set") == "846");
    const std::string inventory = readFile(advised->getObject(0)->getValue<std::string>("file"));
    for (const char* part : {"ST*846*0001~", "BIA*00*DD*", "LIN*1*VN*A-1~", "QTY*33*8*EA~", "QTY*17*8*EA~",
                             "LIN*2*VN*B-2~", "QTY*33*9*EA~", "CTT*2~"}) {
        BOOST_TEST(contains(inventory, part), part << " in\n" << inventory);
    }
    std::tie(code, out, err) = keel({"edi", "validate", advised->getObject(0)->getValue<std::string>("file")});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(contains(out, "0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"), out);
    db.run([&](db::UnitOfWork& uow) {  // the 846 is not part of the acknowledgment story below
        uow.statement("DELETE FROM edi_message WHERE kind = '846'").execute();
    });

    // A day passes without the partner's 997s: past ack.deadline_hours (24) each document raises one exception.
    db.run([&](db::UnitOfWork& uow) {
        uow.statement("UPDATE edi_message SET received_at = received_at - ? WHERE direction = 'out' AND kind <> 'ack'")
            .bindAll(static_cast<std::int64_t>(25) * 3600 * 1'000'000)
            .execute();
    });
    const auto overdueCount = [&] {
        std::int64_t count = 0;
        db.run([&](db::UnitOfWork& uow) {
            db::Statement& q = uow.statement(
                "SELECT COUNT(*) FROM integration_exception WHERE code = 'edi_ack_overdue' AND resolved_at IS NULL");
            q.execute();
            while (q.next()) count = q.getInt64(0);
        });
        return count;
    };
    keel({"edi", "send", "--partner", "xyz"});
    keel({"edi", "send", "--partner", "xyz"});  // raised once, not per check
    BOOST_TEST(overdueCount() == 3);

    // Then the 997s arrive: the 855's (2) and the 856's (3) groups accepted, the 810's (4) rejected, and one for a
    // group never sent.
    const std::string fa =
        "ISA*00*          *00*          *12*4405197800     *01*999999999      *261127*0900*U*00401*000000102*0*P*>~"
        "GS*FA*4405197800*999999999*20261127*0900*102*X*004010~"
        "ST*997*0001~AK1*SH*3~AK9*A*1*1*1~SE*4*0001~"
        "ST*997*0002~AK1*IN*4~AK2*810*0001~AK5*R*5~AK9*R*1*1*0~SE*6*0002~"
        "ST*997*0003~AK1*SH*99~AK9*A*1*1*1~SE*4*0003~"
        "ST*997*0004~AK1*PR*2~AK9*A*1*1*1~SE*4*0004~"
        "GE*4*102~IEA*1*000000102~";
    write(root / "997.edi", fa);
    std::tie(code, out, err) = keel({"--json", "edi", "receive", (root / "997.edi").string(), "--partner", "xyz"});
    BOOST_TEST(code == 2, out << err);
    const auto acked = json(out);
    BOOST_TEST(acked->getValue<std::string>("ack").empty());  // an acknowledgment is never acknowledged
    const auto errors = acked->getArray("errors");
    BOOST_TEST_REQUIRE(errors->size() == 2u, out);
    BOOST_TEST(contains(errors->getElement<std::string>(0), "the partner rejected group 4 (IN"), out);
    BOOST_TEST(contains(errors->getElement<std::string>(1), "acknowledgment of group 99, which Keel did not send"),
               out);
    BOOST_TEST(overdueCount() == 0);
    std::map<std::string, std::string> status;
    db.run([&](db::UnitOfWork& uow) {
        db::Statement& q = uow.statement(
            "SELECT kind, ack_status FROM edi_message WHERE direction = 'out' AND kind <> 'ack' AND acknowledged_at "
            "IS NOT NULL");
        q.execute();
        while (q.next()) status[q.getString(0)] = q.getString(1);
    });
    BOOST_TEST(status["855"] == "A");
    BOOST_TEST(status["856"] == "A");
    BOOST_TEST(status["810"] == "R");
}

BOOST_AUTO_TEST_CASE(partner_profiles_live_in_the_database_and_serve_a_node_without_the_files) {
    auto [code, out, err] = keel({"--json", "edi", "partners", "load"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    auto loaded = json(out)->getArray("profiles")->getObject(0);
    BOOST_TEST(loaded->getValue<std::string>("partner") == "xyz");
    BOOST_TEST(loaded->getValue<std::string>("outcome") == "added");
    const std::string first_sha = loaded->getValue<std::string>("sha256");
    std::tie(code, out, err) = keel({"edi", "partners", "load"});
    BOOST_TEST(contains(out, "xyz: unchanged"), out);

    const auto listed = [&] {
        const auto [c, o, e] = keel({"--json", "edi", "partners", "list"});
        BOOST_TEST_REQUIRE(c == 0, o << e);
        const auto all = Poco::JSON::Parser().parse(o).extract<Poco::JSON::Array::Ptr>();
        BOOST_TEST_REQUIRE(all->size() == 1u, o);
        return all->getObject(0);
    };
    auto row = listed();
    BOOST_TEST(row->getValue<std::string>("isa_qualifier") == "12");
    BOOST_TEST(row->getValue<std::string>("isa_id") == "4405197800");
    BOOST_TEST(row->getValue<std::string>("our_isa_id") == "999999999");
    BOOST_TEST(row->getValue<std::string>("channel") == "edi.xyz");
    BOOST_TEST(row->getValue<std::string>("customer") == "XYZ-RETAIL");
    BOOST_TEST(row->getValue<std::string>("role") == "customer");
    BOOST_TEST(row->getValue<std::string>("ack") == "997");
    BOOST_TEST(row->getObject("transport")->getValue<std::string>("inbound") == (root / "in").string());
    BOOST_TEST(row->getValue<std::string>("source") == (root / "partners" / "xyz.properties").string());
    BOOST_TEST(row->getValue<std::string>("sha256") == first_sha);

    // A changed file replaces the row, and says so.
    profile("ack.deadline_hours = 48\n");
    std::tie(code, out, err) = keel({"--json", "edi", "partners", "load"});
    BOOST_TEST(code == 0, out << err);
    loaded = json(out)->getArray("profiles")->getObject(0);
    BOOST_TEST(loaded->getValue<std::string>("outcome") == "updated");
    BOOST_TEST(loaded->getValue<std::string>("previous_sha256") == first_sha);
    BOOST_TEST(listed()->getValue<int>("ack_deadline_hours") == 48);

    // A malformed one is refused with the file and the key, and the row stays as it was; nothing is received for the
    // partner while its file is broken.
    profile("ack = 998\n");
    std::tie(code, out, err) = keel({"edi", "partners", "load"});
    BOOST_TEST(code == 2, out << err);
    BOOST_TEST(contains(out, "xyz: refused: " + (root / "partners" / "xyz.properties").string() +
                                 ": ack = '998': use 997, 999 or none (the database keeps the profile loaded before)"),
               out);
    row = listed();
    BOOST_TEST(row->getValue<std::string>("ack") == "997");
    BOOST_TEST(row->getValue<int>("ack_deadline_hours") == 48);
    std::tie(code, out, err) = keel({"edi", "receive", kX12 + "nodex12_850.edi", "--partner", "xyz"});
    BOOST_TEST(code == 5, out << err);
    BOOST_TEST(contains(err, "xyz.properties: ack = '998'"), err);
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_message") == 0);
    // So is a value that the plugin accepts but that does not fit where Keel keeps it (a channel has 64 characters).
    profile("channel = " + std::string(65, 'c') + "\n");
    std::tie(code, out, err) = keel({"edi", "partners", "load"});
    BOOST_TEST(code == 2, out << err);
    BOOST_TEST(contains(out, "xyz.properties: channel = 'ccc"), out);
    BOOST_TEST(contains(out, "' is longer than 64 characters"), out);
    BOOST_TEST(listed()->getValue<std::string>("channel") == "edi.xyz");
    profile("");

    // A node without the files (edi.partners and the plugin instance's partners both empty) works from the rows: the
    // translator gets the database's copy of the profile.
    write(root / "empty" / "edi.properties", "plugin = edi-x12\npartners = " + (root / "empty").string() + "\n");
    fs::create_directories(root / "bare.d");
    fs::rename(root / "empty" / "edi.properties", root / "bare.d" / "edi.properties");
    std::tie(code, out, err) = keel({"-D", "edi.partners=" + (root / "empty").string(), "--json", "edi", "receive",
                                     kX12 + "nodex12_850.edi", "--partner", "xyz"},
                                    "bare.d");
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(json(out)->getArray("orders")->getObject(0)->getValue<std::string>("external_id") == "08292233294");
    // ... and finds the partner of a file by its sender and receiver ids.
    write(root / "again.edi", withControlNumber("000003440"));
    std::tie(code, out, err) = keel(
        {"-D", "edi.partners=" + (root / "empty").string(), "--json", "edi", "receive", (root / "again.edi").string()},
        "bare.d");
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(json(out)->getValue<std::string>("partner") == "xyz");
    std::string stranger = withControlNumber("000003441");
    stranger.replace(stranger.find("*12*4405197800     *"), 20, "*ZZ*STRANGER       *");
    write(root / "stranger.edi", stranger);
    std::tie(code, out, err) = keel({"edi", "receive", (root / "stranger.edi").string()});
    BOOST_TEST(code == 3, out << err);
    BOOST_TEST(contains(err, "no partner profile in the database sends as ZZ/STRANGER to 01/999999999"), err);
    std::tie(code, out, err) = keel({"edi", "receive", kX12 + "nodex12_850.edi", "--partner", "nobody"});
    BOOST_TEST(code == 3, out << err);
    BOOST_TEST(contains(err, "partner 'nobody' has no profile"), err);
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_message WHERE partner = 'nobody'") == 0);
}

BOOST_AUTO_TEST_CASE(an_order_that_changes_after_its_855_gets_one_further_855_per_change) {
    catalog(kItems, kWarehouse, kAliases, {{"GADGET", "WH1", "10"}});
    // Four widgets, none in stock, and a gadget.
    write(root / "po.edi",
          "ISA*00*          *00*          *12*4405197800     *01*999999999      *261126*1200*U*00401*000000201*0*P*>~\n"
          "GS*PO*4405197800*999999999*20261126*1200*201*X*004010~\nST*850*0001~\nBEG*00*SA*PO-888**20261126~\n"
          "N1*ST*Store 12~\nN3*1 Main St~\nN4*Springfield*IL*62701*US~\nPO1*1*4*EA*3.50**VN*A-1~\n"
          "PO1*2*1*EA*10**VN*B-2~\nCTT*2~\nSE*9*0001~\nGE*1*201~\nIEA*1*000000201~\n");
    auto [code, out, err] = keel({"--json", "edi", "receive", (root / "po.edi").string(), "--partner", "xyz"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const std::string id = json(out)->getArray("orders")->getObject(0)->getValue<std::string>("order_id");
    std::tie(code, out, err) = keel({"order", "allocate", id});
    BOOST_TEST_REQUIRE(code == 0, out << err);

    const auto send = [&](std::size_t expected) {
        const auto [c, o, e] = keel({"--json", "edi", "send", "--partner", "xyz"});
        BOOST_TEST_REQUIRE(c == 0, o << e);
        const auto sent = json(o)->getArray("sent");
        BOOST_TEST_REQUIRE(sent->size() == expected, o);
        if (expected == 0) return std::string();
        BOOST_TEST(sent->getObject(0)->getValue<std::string>("transaction_set") == "855");
        const std::string file = sent->getObject(0)->getValue<std::string>("file");
        const auto [vc, vo, ve] = keel({"edi", "validate", file});  // the 004010 dictionary, BAK01 code list included
        BOOST_TEST(vc == 0, vo << ve);
        BOOST_TEST(contains(vo, "0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"), vo);
        return readFile(file);
    };
    // Backordered: accepted with changes, the widgets backordered.
    std::string po_ack = send(1);
    for (const char* part : {"BAK*00*AC*PO-888*", "PO1*1*4*EA***VN*A-1~", "ACK*IB*4*EA~", "ACK*IA*1*EA~"}) {
        BOOST_TEST(contains(po_ack, part), part << " in\n" << po_ack);
    }
    // The widgets arrive and fill the backorder: a further 855, a seller initiated change, every line accepted.
    std::tie(code, out, err) = keel({"stock", "receive", "WIDGET", "WH1", "10"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    po_ack = send(1);
    for (const char* part : {"BAK*19*AD*PO-888*", "ACK*IA*4*EA~", "ACK*IA*1*EA~"}) {
        BOOST_TEST(contains(po_ack, part), part << " in\n" << po_ack);
    }
    BOOST_TEST(!contains(po_ack, "ACK*IB"), po_ack);
    // Nothing changed: nothing more, however often it runs; a change that does not touch the acknowledgment (a hold
    // and its release) neither.
    send(0);
    std::tie(code, out, err) = keel({"order", "hold", id, "--reason", "check the address"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    send(0);
    std::tie(code, out, err) = keel({"order", "release", id});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    send(0);
    // A line cancelled, then the order: one further 855 each; the partner's profile may ask for another BAK01.
    std::tie(code, out, err) = keel({"order", "cancel", id, "--line", "2", "--reason", "discontinued"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    profile("po_ack.change_purpose = 04\n");
    po_ack = send(1);
    for (const char* part : {"BAK*04*AC*PO-888*", "ACK*IA*4*EA~", "PO1*2*1*EA***VN*B-2~", "ACK*IR*1*EA~"}) {
        BOOST_TEST(contains(po_ack, part), part << " in\n" << po_ack);
    }
    std::tie(code, out, err) = keel({"order", "cancel", id, "--reason", "customer changed their mind"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    po_ack = send(1);
    for (const char* part : {"BAK*04*RD*PO-888*", "ACK*IR*4*EA~", "ACK*IR*1*EA~"}) {
        BOOST_TEST(contains(po_ack, part), part << " in\n" << po_ack);
    }
    send(0);
    BOOST_TEST(number("SELECT COUNT(*) FROM edi_message WHERE kind = '855' AND related_id = ?", id) == 4);
}

BOOST_AUTO_TEST_CASE(an_846_if_changed_is_sent_only_when_the_inventory_moved) {
    catalog(kItems, kWarehouse, kAliases, {{"WIDGET", "WH1", "5"}});
    const auto advise = [&] {
        const auto [c, o, e] = keel({"--json", "edi", "send", "--partner", "xyz", "--inventory", "--if-changed"});
        BOOST_TEST_REQUIRE(c == 0, o << e);
        return json(o);
    };
    auto first = advise();
    BOOST_TEST_REQUIRE(first->getArray("sent")->size() == 1u);
    BOOST_TEST(contains(readFile(first->getArray("sent")->getObject(0)->getValue<std::string>("file")),
                        "LIN*1*VN*A-1~\nQTY*33*5*EA~"));
    auto again = advise();
    BOOST_TEST(again->getArray("sent")->size() == 0u);
    BOOST_TEST(contains(again->getArray("skipped")->getElement<std::string>(0),
                        "846: the inventory of channel edi.xyz is what the last 846 said"));
    auto [code, out, err] = keel({"stock", "receive", "WIDGET", "WH1", "2"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    auto moved = advise();
    BOOST_TEST_REQUIRE(moved->getArray("sent")->size() == 1u);
    BOOST_TEST(contains(readFile(moved->getArray("sent")->getObject(0)->getValue<std::string>("file")),
                        "LIN*1*VN*A-1~\nQTY*33*7*EA~"));
    // Asked for by hand without --if-changed, it goes whatever the last one said.
    std::tie(code, out, err) = keel({"--json", "edi", "send", "--partner", "xyz", "--inventory"});
    BOOST_TEST(json(out)->getArray("sent")->size() == 1u);
    std::tie(code, out, err) = keel({"edi", "send", "--partner", "xyz", "--if-changed"});
    BOOST_TEST(code == 1);
}

BOOST_AUTO_TEST_CASE(a_shipment_released_at_the_3pl_location_goes_out_once_as_a_940_that_keel_validates) {
    threePlStock();
    const std::string shipment = releasedShipment("W-3PL-1", {{"WIDGET", 3}, {"GADGET", 2}});
    releasedShipment("W-OWN-1", {{"SPROCKET", 1}});  // at Keel's own warehouse: no 940
    auto [code, out, err] = keel({"--json", "edi", "send", "--partner", "3pl-east"});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto sent = json(out)->getArray("sent");
    BOOST_TEST_REQUIRE(sent->size() == 1u, out);
    BOOST_TEST(sent->getObject(0)->getValue<std::string>("transaction_set") == "940");
    BOOST_TEST(sent->getObject(0)->getValue<std::string>("document_id") == shipment);
    const std::string file = sent->getObject(0)->getValue<std::string>("file");
    const std::string order = readFile(file);
    std::string depositor = shipment;
    depositor.erase(std::remove(depositor.begin(), depositor.end(), '-'), depositor.end());
    depositor.resize(22);
    for (const std::string& part : std::vector<std::string>{
             "*ZZ*KEELSELLER     *ZZ*3PLEAST        *", "GS*OW*KEELSELLER*3PLEAST*", "ST*940*0001~",
             "W05*N*" + depositor + "*W-3PL-1~", "N1*ST*Ann Lee~", "N3*1 Main St~", "N4*Springfield*IL*62701*US~",
             "N1*WH*East Fulfillment*91*0614141000012~", "W66*PP*M***ground~", "LX*1~", "W01*3*EA**VN*A-1~",
             "G69*Widget~", "LX*2~", "W01*2*EA**VN*B-2~", "G69*Gadget~", "W76*5~", "SE*15*0001~"}) {
        BOOST_TEST(contains(order, part), part << " in\n" << order);
    }
    // Keel's own validator accepts it against the 004010 940 dictionary, without a warning.
    std::tie(code, out, err) = keel({"edi", "validate", file});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(contains(out, "0 error(s), 0 warning(s); 1 set(s) checked against a dictionary"), out);
    // Sent once: a second send has nothing to do; a customer's documents are not for a 3PL.
    std::tie(code, out, err) = keel({"edi", "send", "--partner", "3pl-east"});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(contains(out, "nothing to send to 3pl-east"), out);
    std::tie(code, out, err) = keel({"edi", "send", "--partner", "3pl-east", "--inventory"});
    BOOST_TEST(code == 2);
    BOOST_TEST(contains(out, "is a 3PL (role = 3pl); inventory advice goes to customers"), out);
}

BOOST_AUTO_TEST_CASE(a_945_ships_the_shipment_with_its_tracking_and_a_resent_one_changes_nothing) {
    threePlStock();
    const std::string shipment = releasedShipment("W-3PL-1", {{"WIDGET", 3}, {"GADGET", 2}});
    run({"edi", "send", "--partner", "3pl-east"});
    auto [code, out, err] = receive("3pl-east", "945.edi", shippingAdvice(shipment));
    BOOST_TEST_REQUIRE(code == 0, out << err);
    auto body = json(out);
    BOOST_TEST(body->getValue<std::string>("status") == "processed");
    auto advice = body->getArray("advices")->getObject(0);
    BOOST_TEST(advice->getValue<std::string>("transaction_set") == "945");
    BOOST_TEST(advice->getValue<std::string>("target") == shipment);
    BOOST_TEST(advice->getValue<std::string>("outcome") == "shipped");
    // The 997 accepts the group (GS01 SW, GS06 501) and its set.
    const std::string ack = body->getValue<std::string>("ack");
    for (const char* part : {"GS*FA*KEELSELLER*3PLEAST*", "AK1*SW*501~", "AK9*A*1*1*1~"}) {
        BOOST_TEST(contains(ack, part), part << " in\n" << ack);
    }
    // Shipped with the 3PL's carrier and tracking, on the 945's day; the allocations left the location as moves.
    const std::string where = "SELECT state FROM shipment WHERE id = ?";
    BOOST_TEST(text(where, shipment) == "shipped");
    BOOST_TEST(text("SELECT tracking FROM shipment WHERE id = ?", shipment) == "1Z999AA10123456784");
    BOOST_TEST(text("SELECT carrier FROM shipment WHERE id = ?", shipment) == "UPSN");
    BOOST_TEST(text("SELECT service FROM shipment WHERE id = ?", shipment) == "UPS GROUND");
    BOOST_TEST(number("SELECT shipped_at FROM shipment WHERE id = ?", shipment) ==
               1'795'651'200'000'000);  // 2026-11-26
    const std::string moves = "SELECT COUNT(*) FROM stock_move WHERE source_type = 'shipment' AND source_id = ?";
    BOOST_TEST(number(moves, shipment) == 2);
    BOOST_TEST(onHand("WIDGET", "3PL-EAST") == 7);
    BOOST_TEST(onHand("GADGET", "3PL-EAST") == 8);
    std::tie(code, out, err) = keel({"--json", "order", "show", "web/W-3PL-1"});
    BOOST_TEST(json(out)->getValue<std::string>("state") == "shipped", out);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out << err);

    // The same 945 again (in a new interchange: the same file again is a duplicate interchange, not translated at
    // all): nothing moves, and it says so; the 997 still accepts it.
    std::tie(code, out, err) = receive("3pl-east", "945-again.edi", shippingAdvice(shipment));
    BOOST_TEST_REQUIRE(code == 0, out << err);
    body = json(out);
    advice = body->getArray("advices")->getObject(0);
    BOOST_TEST(advice->getValue<std::string>("outcome") == "already_shipped");
    BOOST_TEST(contains(advice->getValue<std::string>("note"), "nothing changed"));
    BOOST_TEST(contains(body->getValue<std::string>("ack"), "AK9*A*1*1*1~"));
    BOOST_TEST(number(moves, shipment) == 2);
    BOOST_TEST(onHand("WIDGET", "3PL-EAST") == 7);
    std::tie(code, out, err) = keel({"edi", "reprocess", body->getValue<std::string>("message_id")});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(number(moves, shipment) == 2);
}

BOOST_AUTO_TEST_CASE(the_945s_of_one_interchange_each_ship_their_shipment_or_are_refused_in_their_order) {
    // The three 945s are applied together (on SQLite in one shared commit, db::CommitGroup::runEach): the one that
    // names no shipment is refused, and the shipments of the two around it ship all the same.
    threePlStock();
    const std::string first = releasedShipment("W-3PL-1", {{"WIDGET", 3}, {"GADGET", 2}});
    const std::string second = releasedShipment("W-3PL-2", {{"WIDGET", 3}, {"GADGET", 2}});
    run({"edi", "send", "--partner", "3pl-east"});
    auto [code, out, err] = receive("3pl-east", "three-945.edi", threeAdvices(first, second));
    BOOST_TEST(code == 2, out << err);  // a set was refused
    const auto body = json(out);
    const auto advices = body->getArray("advices");
    BOOST_TEST_REQUIRE(advices->size() == 2u, out);
    BOOST_TEST(advices->getObject(0)->getValue<std::string>("target") == first);
    BOOST_TEST(advices->getObject(0)->getValue<std::string>("outcome") == "shipped");
    BOOST_TEST(advices->getObject(1)->getValue<std::string>("target") == second);
    BOOST_TEST(advices->getObject(1)->getValue<std::string>("outcome") == "shipped");
    const auto errors = body->getArray("errors");
    BOOST_TEST_REQUIRE(errors->size() == 1u, out);
    BOOST_TEST(contains(errors->getElement<std::string>(0),
                        "set 0002: 945 for depositor order '0000000000000000000000': no shipment of Keel's"),
               out);
    // The acknowledgment accepts the first and third sets and rejects the second, the group partly accepted.
    const std::string ack = body->getValue<std::string>("ack");
    BOOST_TEST(contains(ack, "AK2*945*0001~\nAK5*A~\nAK2*945*0002~\nAK5*R*5~\nAK2*945*0003~\nAK5*A~"), ack);
    BOOST_TEST(contains(ack, "AK9*P*3*3*2~"), ack);
    for (const auto& shipment : {first, second}) {
        BOOST_TEST(text("SELECT state FROM shipment WHERE id = ?", shipment) == "shipped");
        BOOST_TEST(text("SELECT tracking FROM shipment WHERE id = ?", shipment) == "1Z999AA10123456784");
    }
    BOOST_TEST(onHand("WIDGET", "3PL-EAST") == 4);
    BOOST_TEST(onHand("GADGET", "3PL-EAST") == 6);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out << err);
}

BOOST_AUTO_TEST_CASE(a_945_that_names_no_shipment_of_the_3pl_or_an_unknown_item_is_rejected_with_ak5_r) {
    threePlStock();
    const std::string shipment = releasedShipment("W-3PL-1", {{"WIDGET", 3}, {"GADGET", 2}});
    const std::string own = releasedShipment("W-OWN-1", {{"SPROCKET", 1}});
    const std::map<std::string, std::pair<std::string, std::string>> cases = {
        // name: (945 text, the reason Keel gives)
        {"unknown", {shippingAdvice(""), "no shipment of Keel's has this depositor order number"}},
        {"elsewhere", {shippingAdvice(own), "is at location WH1, which partner 3pl-east does not run"}},
        {"item", {shippingAdvice(shipment, {{"VN*B-2~", "VN*Z-9~"}}), "item 'Z-9' is not known to Keel"}},
        {"over",
         {shippingAdvice(shipment, {{"W12*CC*3*3**EA", "W12*CC*3*4**EA"}, {"W03*5*", "W03*6*"}}),
          "4 of WIDGET shipped, 3 were released"}},
    };
    for (const auto& [name, c] : cases) {
        auto [code, out, err] = receive("3pl-east", name + ".edi", c.first);
        BOOST_TEST(code == 2, name << ": " << out << err);
        const auto body = json(out);
        BOOST_TEST(body->getValue<std::string>("status") == "rejected", name);
        BOOST_TEST_REQUIRE(body->getArray("errors")->size() == 1u, name << ": " << out);
        BOOST_TEST(contains(body->getArray("errors")->getElement<std::string>(0), c.second), name << ": " << out);
        const std::string ack = body->getValue<std::string>("ack");
        BOOST_TEST(contains(ack, "AK2*945*0001~\nAK5*R*5~\nAK9*R*1*1*0~"), name << ": " << ack);
        BOOST_TEST(openExceptions(body->getValue<std::string>("message_id")) == 1, name);
    }
    BOOST_TEST(text("SELECT state FROM shipment WHERE id = ?", shipment) == "released");
    BOOST_TEST(text("SELECT state FROM shipment WHERE id = ?", own) == "released");
    BOOST_TEST(onHand("WIDGET", "3PL-EAST") == 10);
}

BOOST_AUTO_TEST_CASE(a_short_945_ships_what_shipped_cancels_the_rest_and_raises_an_exception) {
    threePlStock();
    const std::string shipment = releasedShipment("W-3PL-2", {{"WIDGET", 3}, {"GADGET", 2}});
    // 2 of the 3 WIDGETs shipped; the GADGET line is not in the 945 at all.
    const std::string advice = shippingAdvice(shipment, {{"W12*CC*3*3**EA", "W12*CP*3*2*1*EA"},
                                                         {"LX*2~\nW12*CC*2*2**EA**VN*B-2~\n", ""},
                                                         {"W03*5*", "W03*2*"},
                                                         {"SE*15*", "SE*13*"}});
    auto [code, out, err] = receive("3pl-east", "short.edi", advice);
    BOOST_TEST_REQUIRE(code == 0, out << err);
    const auto body = json(out);
    const auto result = body->getArray("advices")->getObject(0);
    BOOST_TEST(result->getValue<std::string>("outcome") == "short_shipped");
    BOOST_TEST(contains(result->getValue<std::string>("note"), "short: WIDGET 2 of 3, GADGET 0 of 2"), out);
    BOOST_TEST(contains(body->getValue<std::string>("ack"), "AK9*A*1*1*1~"));
    BOOST_TEST(text("SELECT state FROM shipment WHERE id = ?", shipment) == "shipped");
    BOOST_TEST(onHand("WIDGET", "3PL-EAST") == 8);
    BOOST_TEST(onHand("GADGET", "3PL-EAST") == 10);  // still on Keel's books at the 3PL: the exception says check
    BOOST_TEST(number("SELECT COUNT(*) FROM integration_exception WHERE reference = ? AND code = 'edi_short_shipment' "
                      "AND resolved_at IS NULL",
                      shipment) == 1);
    std::tie(code, out, err) = keel({"--json", "order", "show", "web/W-3PL-2"});
    const auto order = json(out);
    BOOST_TEST(order->getValue<std::string>("state") == "shipped", out);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out << err);
    // The cancelled GADGETs are no longer allocated.
    BOOST_TEST(number("SELECT COALESCE(SUM(b.allocated), 0) FROM stock_balance b JOIN item i ON i.id = b.item_id WHERE "
                      "i.sku = ?",
                      "GADGET") == 0);
}

BOOST_AUTO_TEST_CASE(a_944_receives_stock_at_the_3pl_location_once_even_when_sent_again) {
    // stupidedi's 944 comes from ZZ:SENDER, warehouse 1234567890001, item ITEM123 (UK) with warehouse lot LOT456.
    write(root / "partners" / "acme-wh.properties",
          "role = 3pl\nisa.qualifier = ZZ\nisa.id = SENDER\nour.isa.qualifier = ZZ\nour.isa.id = RECEIVER\n"
          "locations = 3PL-ACME\nwarehouse.1234567890001 = 3PL-ACME\nitems = UK, VN\n");
    write(root / "items.csv", "sku,name,lot_tracked\nWIDGET,Widget,false\nTEA,Tea,true\n");
    write(root / "locations.csv", "code,name,type,country\n3PL-ACME,Acme Warehouse,3pl,US\n");
    run({"item", "import", (root / "items.csv").string()});
    run({"location", "import", (root / "locations.csv").string()});
    const std::string file = kX12 + "stupidedi_004010_RE944_pass_1.edi";

    // Its item is not known yet: the set is rejected, and says which item and how to make it known.
    auto [code, out, err] = keel({"--json", "edi", "receive", file, "--partner", "acme-wh"});
    BOOST_TEST(code == 2, out << err);
    auto body = json(out);
    const std::string first = body->getValue<std::string>("message_id");
    BOOST_TEST(contains(body->getArray("errors")->getElement<std::string>(0),
                        "set 0001: 944 receipt WR12345: line 1: item 'ITEM123' is not known to Keel (a SKU, an alias "
                        "of channel edi.acme-wh or a GTIN; keel alias import)"),
               out);
    BOOST_TEST(contains(body->getValue<std::string>("ack"), "AK1*RE*1~\nAK2*944*0001~\nAK5*R*5~\nAK9*R*1*1*0~"));
    BOOST_TEST(openExceptions(first) == 1);
    BOOST_TEST(onHand("TEA", "3PL-ACME") == 0);

    // The operator maps the 3PL's id to a lot-tracked item and reprocesses: 100 received, in the 3PL's lot.
    write(root / "aliases.csv", "channel,channel_sku,sku\nedi.acme-wh,ITEM123,TEA\n");
    run({"alias", "import", (root / "aliases.csv").string()});
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", first});
    BOOST_TEST_REQUIRE(code == 0, out << err);
    body = json(out);
    BOOST_TEST(body->getValue<std::string>("status") == "processed");
    const auto advice = body->getArray("advices")->getObject(0);
    BOOST_TEST(advice->getValue<std::string>("outcome") == "received");
    BOOST_TEST(advice->getValue<std::string>("target") == "3PL-ACME");
    BOOST_TEST(contains(body->getValue<std::string>("ack"), "AK9*A*1*1*1~"));
    BOOST_TEST(openExceptions(first) == 0);
    BOOST_TEST(onHand("TEA", "3PL-ACME") == 100);
    BOOST_TEST(text("SELECT l.lot_code FROM lot l JOIN item i ON i.id = l.item_id WHERE i.sku = ?", "TEA") == "LOT456");
    BOOST_TEST(number("SELECT COUNT(*) FROM stock_move WHERE source_type = 'edi_944' AND source_id = ?", first) == 1);

    // Sent again: the same interchange is a duplicate (a TA1, nothing translated); the same 944 in a new interchange,
    // and the first message reprocessed again: no second receipt.
    std::tie(code, out, err) = keel({"--json", "edi", "receive", file, "--partner", "acme-wh"});
    BOOST_TEST(code == 2, out << err);
    BOOST_TEST(json(out)->getArray("duplicates")->getObject(0)->getValue<std::string>("earlier_message_id") == first);
    BOOST_TEST(json(out)->getArray("advices")->size() == 0u);
    std::string again = readFile(file);
    for (const std::string envelope : {"*000000001*0*T*", "IEA*1*000000001"}) {
        std::string fresh = envelope;
        fresh.replace(fresh.find("000000001"), 9, "000000002");
        again.replace(again.find(envelope), envelope.size(), fresh);
    }
    std::tie(code, out, err) = receive("acme-wh", "944-again.edi", again);
    BOOST_TEST_REQUIRE(code == 0, out << err);
    body = json(out);
    BOOST_TEST(body->getArray("advices")->getObject(0)->getValue<std::string>("outcome") == "already_received");
    BOOST_TEST(contains(body->getArray("advices")->getObject(0)->getValue<std::string>("note"),
                        "was received by message " + first + ": nothing changed"));
    std::tie(code, out, err) = keel({"--json", "edi", "reprocess", first});
    BOOST_TEST(code == 0, out << err);
    BOOST_TEST(onHand("TEA", "3PL-ACME") == 100);
    std::tie(code, out, err) = keel({"stock", "verify"});
    BOOST_TEST(code == 0, out << err);
}

BOOST_AUTO_TEST_SUITE_END()
