// GS1 identifiers of the 856: the SSCC-18 and its mod-10 check digit.
#define BOOST_TEST_MODULE edi_gs1
#include <boost/test/unit_test.hpp>

#include "keel/edi/gs1.h"

using namespace keel::edi;

BOOST_AUTO_TEST_CASE(the_check_digit_is_gs1s) {
    // GS1's own example: (00) 1 0614141 234567890 8.
    BOOST_TEST(gs1CheckDigit("10614141234567890").value() == '8');
    BOOST_TEST(isSscc18("106141412345678908"));
    BOOST_TEST(!isSscc18("106141412345678907"));
    BOOST_TEST(!isSscc18("10614141234567890"));  // 17 digits
    BOOST_TEST(!isSscc18("10614141234567890A"));
    BOOST_TEST(!gs1CheckDigit("12a").has_value());
}

BOOST_AUTO_TEST_CASE(an_sscc_is_extension_prefix_serial_and_check_digit) {
    BOOST_TEST(sscc18(0, "0614141", 1).value() == "006141410000000012");
    BOOST_TEST(sscc18(1, "0614141", 234567890).value() == "106141412345678908");
    BOOST_TEST(isSscc18(sscc18(9, "123456789012", 9999).value()));
    BOOST_TEST(!sscc18(0, "0614141", 1000000000).has_value());  // 9 digits of serial for a 7-digit prefix
    BOOST_TEST(!sscc18(0, "12345", 1).has_value());             // prefixes are 6 to 12 digits
    BOOST_TEST(!sscc18(10, "0614141", 1).has_value());
    BOOST_TEST(!sscc18(0, "06141x1", 1).has_value());
}
