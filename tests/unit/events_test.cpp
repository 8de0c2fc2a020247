// Pure logic of core/events: type patterns, the canonical bytes and hash chain, webhook signatures and the
// subscriber configuration.
#define BOOST_TEST_MODULE events
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "keel/events/dispatcher.h"
#include "keel/events/log.h"
#include "keel/kernel/error.h"
#include "keel/kernel/hash.h"

#include <Poco/AutoPtr.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/TemporaryFile.h>
#include <Poco/Util/MapConfiguration.h>

#include <cstdlib>
#include <fstream>

using namespace keel;
using namespace keel::events;

namespace {

struct PatternCase {
    std::vector<std::string> patterns;
    std::string type;
    bool matches;
};

std::ostream& operator<<(std::ostream& out, const PatternCase& c) {
    for (const auto& p : c.patterns) out << p << ",";
    return out << " ~ " << c.type;
}

const std::vector<PatternCase> kPatterns = {
    {{}, "order.allocated", true},
    {{"*"}, "order.allocated", true},
    {{"order.allocated"}, "order.allocated", true},
    {{"order.allocated"}, "order.allocated_partly", false},
    {{"order.*"}, "order.allocated", true},
    {{"order.*"}, "orders.allocated", false},
    {{"order.*"}, "order", false},
    {{"shipment.*", "order.cancelled"}, "order.cancelled", true},
    {{"shipment.*", "order.cancelled"}, "return.received", false},
};

EventRecord sample() {
    EventRecord e;
    e.seq = 7;
    e.id = "01a2";
    e.type = "order.allocated";
    e.aggregate_type = "order";
    e.aggregate_id = "O-1";
    e.payload = R"({"lines":2})";
    e.actor = "ann";
    e.created_at = 1'700'000'000'000'000;
    return e;
}

Poco::AutoPtr<Poco::Util::MapConfiguration> config(const std::map<std::string, std::string>& values) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> c(new Poco::Util::MapConfiguration);
    for (const auto& [k, v] : values) c->setString(k, v);
    return c;
}

template <typename F>
std::string usageErrorOf(F&& f) {
    try {
        f();
    } catch (const UsageError& e) {
        return e.what();
    }
    return "(no UsageError)";
}

}  // namespace

BOOST_DATA_TEST_CASE(type_patterns, boost::unit_test::data::make(kPatterns), c) {
    BOOST_TEST(typeMatches(c.patterns, c.type) == c.matches);
}

BOOST_AUTO_TEST_CASE(canonical_bytes_keep_fields_apart) {
    EventRecord a = sample();
    EventRecord b = sample();
    a.id = "ab";
    a.type = "c";
    b.id = "a";
    b.type = "bc";
    BOOST_TEST(canonicalBytes(a) != canonicalBytes(b));
    BOOST_TEST(chainHash(kGenesisHash, a) != chainHash(kGenesisHash, b));
}

BOOST_AUTO_TEST_CASE(chain_hash_covers_every_field_and_the_previous_hash) {
    const EventRecord e = sample();
    const std::string h = chainHash(kGenesisHash, e);
    BOOST_TEST(h.size() == 64u);
    BOOST_TEST(h == chainHash(kGenesisHash, e));
    BOOST_TEST(h == sha256Hex(std::string(kGenesisHash) + canonicalBytes(e)));
    BOOST_TEST(chainHash(h, e) != h);
    for (int field = 0; field < 8; ++field) {
        EventRecord changed = e;
        switch (field) {
            case 0:
                changed.seq += 1;
                break;
            case 1:
                changed.id += "x";
                break;
            case 2:
                changed.type += "x";
                break;
            case 3:
                changed.aggregate_type += "x";
                break;
            case 4:
                changed.aggregate_id += "x";
                break;
            case 5:
                changed.actor += "x";
                break;
            case 6:
                changed.created_at += 1;
                break;
            default:
                changed.payload = R"({"lines":3})";
                break;
        }
        BOOST_TEST(chainHash(kGenesisHash, changed) != h, "field " << field);
    }
}

BOOST_AUTO_TEST_CASE(event_json_embeds_the_payload) {
    const auto parsed = Poco::JSON::Parser().parse(sample().toJson()).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(parsed->getValue<std::string>("id") == "01a2");
    BOOST_TEST(parsed->getValue<Poco::Int64>("seq") == 7);
    BOOST_TEST(parsed->getValue<std::string>("created_at") == "2023-11-14T22:13:20.000000Z");
    BOOST_TEST(parsed->getObject("payload")->getValue<int>("lines") == 2);
}

BOOST_AUTO_TEST_CASE(hmac_sha256_matches_rfc_4231) {
    // RFC 4231 test case 2.
    BOOST_TEST(hmacSha256Hex("Jefe", "what do ya want for nothing?") ==
               "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    BOOST_TEST(constantTimeEquals("abc", "abc"));
    BOOST_TEST(!constantTimeEquals("abc", "abd"));
    BOOST_TEST(!constantTimeEquals("abc", "abcd"));
}

BOOST_AUTO_TEST_CASE(webhook_signature_is_timestamp_and_hmac_of_timestamp_dot_body) {
    const std::string body = R"({"id":"x"})";
    BOOST_TEST(webhookSignature("s3cret", 1700000000, body) ==
               "t=1700000000,v1=" + hmacSha256Hex("s3cret", "1700000000." + body));
}

BOOST_AUTO_TEST_CASE(subscribers_from_configuration) {
    ::setenv("KEEL_TEST_HOOK_SECRET", "from-env", 1);
    Poco::TemporaryFile file;
    std::ofstream(file.path()) << "from-file\n";
    const auto c = config({{"events.subscriber.crm.url", "https://crm.example.com/hooks/keel"},
                           {"events.subscriber.crm.secret", "env:KEEL_TEST_HOOK_SECRET"},
                           {"events.subscriber.crm.types", "order.*, shipment.shipped"},
                           {"events.subscriber.crm.max_attempts", "4"},
                           {"events.subscriber.crm.start", "earliest"},
                           {"events.subscriber.wms.url", "http://127.0.0.1:9000/"},
                           {"events.subscriber.wms.secret", "file:" + file.path()},
                           {"events.subscriber.stock-push.type", "plugin"},
                           {"events.subscriber.stock-push.instance", "shop-1"}});
    const auto subscribers = readSubscribers(*c);
    BOOST_TEST_REQUIRE(subscribers.size() == 3u);
    BOOST_TEST(subscribers[0].name == "crm");
    BOOST_TEST(subscribers[0].secret == "from-env");
    BOOST_TEST(subscribers[0].types == (std::vector<std::string>{"order.*", "shipment.shipped"}));
    BOOST_TEST(subscribers[0].max_attempts == 4);
    BOOST_TEST(subscribers[0].from_earliest);
    BOOST_TEST(subscribers[1].name == "stock-push");
    BOOST_TEST((subscribers[1].kind == SubscriberKind::kPlugin));
    BOOST_TEST(subscribers[1].instance == "shop-1");
    BOOST_TEST(subscribers[2].secret == "from-file");
    BOOST_TEST(!subscribers[2].from_earliest);
    BOOST_TEST(subscribers[2].backoff_initial.count() == 1000);
}

BOOST_AUTO_TEST_CASE(bad_subscriber_settings_name_the_key) {
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.a.url", "http://x/"}}));
               }).find("events.subscriber.a.secret is required") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(
                       *config({{"events.subscriber.a.url", "ftp://x/"}, {"events.subscriber.a.secret", "env:HOME"}}));
               }).find("events.subscriber.a.url must be an http") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(
                       *config({{"events.subscriber.a.url", "http://x/"}, {"events.subscriber.a.secret", "hunter2"}}));
               }).find("must be file:PATH or env:VARIABLE") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.a.url", "http://x/"},
                                            {"events.subscriber.a.secret", "env:KEEL_NO_SUCH_VARIABLE_SET"}}));
               }).find("KEEL_NO_SUCH_VARIABLE_SET, which is not set") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.a.url", "http://x/"},
                                            {"events.subscriber.a.secret", "env:HOME"},
                                            {"events.subscriber.a.max_attempts", "0"}}));
               }).find("events.subscriber.a.max_attempts = \"0\"") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.a.type", "carrier-pigeon"}}));
               }).find("must be webhook, plugin or tax_commit") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.p.type", "plugin"}}));
               }).find("events.subscriber.p.instance is required") != std::string::npos);
    BOOST_TEST(usageErrorOf([] {
                   readSubscribers(*config({{"events.subscriber.a.url", "http://x/"},
                                            {"events.subscriber.a.secret", "env:HOME"},
                                            {"events.subscriber.a.start", "yesterday"}}));
               }).find("must be latest or earliest") != std::string::npos);
}
