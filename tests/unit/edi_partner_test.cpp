// Trading-partner profiles (keel::edi::parseProfile), read alike by the edi-x12 plugin and by Keel's host, which keeps
// them in its database: every key with its default, and a malformed one refused naming where it came from and the key.
#define BOOST_TEST_MODULE unit_edi_partner
#include <boost/test/unit_test.hpp>

#include "keel/edi/partner_profile.h"

#include <string>

using keel::edi::parseProfile;
using keel::edi::ProfileError;

namespace {

const std::string kMinimal =
    "isa.qualifier = ZZ\nisa.id = ACMEBUYER\nour.isa.qualifier = ZZ\nour.isa.id = KEELSELLER\ncustomer = ACME\n";

std::string refusal(const std::string& name, const std::string& text) {
    try {
        parseProfile(name, "/etc/keel/partners/" + name + ".properties", text);
    } catch (const ProfileError& e) {
        return e.what();
    }
    return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_minimal_profile_gets_every_default) {
    const auto p = parseProfile("acme", "acme.properties", kMinimal);
    BOOST_TEST(p.name == "acme");
    BOOST_TEST(p.file == "acme.properties");
    BOOST_TEST(p.gs_id == "ACMEBUYER");
    BOOST_TEST(p.our_gs_id == "KEELSELLER");
    BOOST_TEST(p.channel == "edi.acme");
    BOOST_TEST(p.version == "004010");
    BOOST_TEST(p.ack == "997");
    BOOST_TEST(p.ack_deadline_hours == 24);
    BOOST_TEST(p.po_ack_change_purpose == "19");  // seller initiated change
    BOOST_TEST(p.transport_inbound.empty());
    BOOST_TEST(p.transport_settle_ms == 0);
}

BOOST_AUTO_TEST_CASE(the_file_drop_and_the_855_change_code_are_read) {
    const auto p = parseProfile("acme", "acme.properties",
                                kMinimal +
                                    "transport.inbound = /var/in \ntransport.outbound = /var/out\n"
                                    "transport.archive = /var/archive\ntransport.error = /var/error\n"
                                    "transport.settle_ms = 5000\npo_ack.change_purpose = 04\n");
    BOOST_TEST(p.transport_inbound == "/var/in");
    BOOST_TEST(p.transport_outbound == "/var/out");
    BOOST_TEST(p.transport_archive == "/var/archive");
    BOOST_TEST(p.transport_error == "/var/error");
    BOOST_TEST(p.transport_settle_ms == 5000);
    BOOST_TEST(p.po_ack_change_purpose == "04");
}

BOOST_AUTO_TEST_CASE(a_malformed_profile_is_refused_naming_its_source_and_the_key) {
    BOOST_TEST(refusal("acme", kMinimal + "po_ack.change_purpose = 00\n") ==
               "/etc/keel/partners/acme.properties: po_ack.change_purpose = '00': use 19 (seller initiated change), 04 "
               "(change), 05 (replace) or 06 (confirmation)");
    BOOST_TEST(refusal("acme", kMinimal + "transport.settle_ms = soon\n") ==
               "/etc/keel/partners/acme.properties: transport.settle_ms: milliseconds");
    BOOST_TEST(refusal("acme", kMinimal + "transport.settle_ms = -1\n") ==
               "/etc/keel/partners/acme.properties: transport.settle_ms: milliseconds");
    BOOST_TEST(refusal("acme", "isa.qualifier = ZZ\n") == "/etc/keel/partners/acme.properties: isa.id is required");
    BOOST_TEST(refusal("ac me", kMinimal).find("'ac me' cannot name a partner") != std::string::npos);
    BOOST_TEST(refusal(std::string(65, 'a'), kMinimal).find("cannot name a partner") != std::string::npos);
}
