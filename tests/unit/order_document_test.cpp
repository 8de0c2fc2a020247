#define BOOST_TEST_MODULE order_document
#include <boost/test/unit_test.hpp>

#include "keel/kernel/error.h"
#include "keel/kernel/money.h"
#include "keel/orders/document.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace data = boost::unit_test::data;

using keel::Currency;
using keel::Money;
using keel::Problem;
using keel::orders::canonicalJson;
using keel::orders::CustomerKind;
using keel::orders::OrderDocument;
using keel::orders::ParsedDocument;
using keel::orders::parseOrderDocument;
using keel::orders::PaymentStatus;

namespace {

// Every field of the document set, none to its default.
const std::string kFullDocument = R"({
  "type": "order", "version": 1, "channel": "web", "external_id": "W-1001", "currency": "USD",
  "customer": { "id": "C-1", "email": "ann@example.com", "name": "Ann Lee", "type": "b2b" },
  "ship_to": { "name": "Ann Lee", "line1": "1 Main St", "line2": "Suite 5", "city": "Springfield", "region": "IL",
               "postal_code": "62701", "country": "US", "phone": "+1 217 555 0100" },
  "bill_to": { "name": "Lee Holdings", "line1": "9 Elm Rd", "line2": "", "city": "Chicago", "region": "IL",
               "postal_code": "60601", "country": "US", "phone": "" },
  "lines": [ { "line_id": "10", "sku": "SKU-1", "quantity": 2, "uom": "case", "unit_price": "19.99",
               "discount": "1.00" },
             { "line_id": "20", "sku": "SKU-2", "quantity": 1 } ],
  "shipping": { "amount": "5.00", "service": "next_day" },
  "payment": { "status": "authorized" },
  "priority": 5, "promise_date": "2026-12-01", "ship_complete": true, "allow_backorder": false,
  "notes": "Leave at the back door" })";

// Its canonical form: compact, keys in the documented order, amounts with the currency's decimals, "" omitted.
const std::string kFullCanonical =
    R"({"type":"order","version":1,"channel":"web","external_id":"W-1001","currency":"USD",)"
    R"("customer":{"id":"C-1","email":"ann@example.com","name":"Ann Lee","type":"b2b"},)"
    R"("ship_to":{"name":"Ann Lee","line1":"1 Main St","line2":"Suite 5","city":"Springfield","region":"IL",)"
    R"("postal_code":"62701","country":"US","phone":"+1 217 555 0100"},)"
    R"("bill_to":{"name":"Lee Holdings","line1":"9 Elm Rd","city":"Chicago","region":"IL","postal_code":"60601",)"
    R"("country":"US"},)"
    R"("lines":[{"line_id":"10","sku":"SKU-1","quantity":2,"uom":"case","unit_price":"19.99","discount":"1.00"},)"
    R"({"line_id":"20","sku":"SKU-2","quantity":1,"discount":"0.00"}],)"
    R"("shipping":{"amount":"5.00","service":"next_day"},"payment":{"status":"authorized"},)"
    R"("priority":5,"promise_date":"2026-12-01","ship_complete":true,"allow_backorder":false,)"
    R"("notes":"Leave at the back door"})";

// A minimal valid document, built member by member so that one test can change, add or remove one member.
class Doc {
public:
    Doc()
        : members_{{"type", R"("order")"},   {"version", "1"},
                   {"channel", R"("web")"},  {"external_id", R"("W-1001")"},
                   {"currency", R"("USD")"}, {"customer", R"({"id": "C-1"})"},
                   {"ship_to", "{}"},        {"lines", R"([{"sku": "SKU-1", "quantity": 1}])"}} {}

    // Sets a top-level member to raw JSON text, replacing it in place or appending it.
    Doc& set(const std::string& key, const std::string& raw) {
        for (auto& member : members_) {
            if (member.first == key) {
                member.second = raw;
                return *this;
            }
        }
        members_.emplace_back(key, raw);
        return *this;
    }
    // The single line's members (raw JSON inside the braces).
    Doc& line(const std::string& members) { return set("lines", "[{" + members + "}]"); }
    Doc& erase(const std::string& key) {
        std::erase_if(members_, [&](const auto& member) { return member.first == key; });
        return *this;
    }
    std::string json() const {
        std::string out = "{";
        for (const auto& [key, raw] : members_) {
            if (out.size() > 1) out += ", ";
            out += "\"" + key + "\": " + raw;
        }
        return out + "}";
    }

private:
    std::vector<std::pair<std::string, std::string>> members_;
};

std::string listProblems(const ParsedDocument& parsed) {
    std::ostringstream out;
    for (const Problem& problem : parsed.problems) out << "[" << problem.field << "] " << problem.message << "\n";
    return out.str();
}

const OrderDocument& requireDocument(const ParsedDocument& parsed) {
    BOOST_TEST_REQUIRE(parsed.ok(), "unexpected problems:\n" << listProblems(parsed));
    return *parsed.document;
}

// Exactly one problem, on exactly this field, with exactly this message; and no document.
void requireOneProblem(const ParsedDocument& parsed, const std::string& field, const std::string& message) {
    BOOST_TEST(!parsed.ok());
    BOOST_TEST(!parsed.document.has_value());
    BOOST_TEST_REQUIRE(parsed.problems.size() == 1u, "problems:\n" << listProblems(parsed));
    BOOST_TEST(parsed.problems[0].field == field);
    BOOST_TEST(parsed.problems[0].message == message);
    BOOST_TEST(static_cast<int>(parsed.problems[0].code) == static_cast<int>(keel::ExitCode::kRejected));
}

void checkSameAddress(const keel::orders::Address& a, const keel::orders::Address& b) {
    BOOST_TEST(a.name == b.name);
    BOOST_TEST(a.line1 == b.line1);
    BOOST_TEST(a.line2 == b.line2);
    BOOST_TEST(a.city == b.city);
    BOOST_TEST(a.region == b.region);
    BOOST_TEST(a.postal_code == b.postal_code);
    BOOST_TEST(a.country == b.country);
    BOOST_TEST(a.phone == b.phone);
}

// OrderDocument has no operator==, so field by field.
void checkSameDocument(const OrderDocument& a, const OrderDocument& b) {
    BOOST_TEST(a.version == b.version);
    BOOST_TEST(a.channel == b.channel);
    BOOST_TEST(a.external_id == b.external_id);
    BOOST_TEST(a.currency == b.currency);
    BOOST_TEST(a.customer.id == b.customer.id);
    BOOST_TEST(a.customer.email == b.customer.email);
    BOOST_TEST(a.customer.name == b.customer.name);
    BOOST_TEST((a.customer.kind == b.customer.kind));
    checkSameAddress(a.ship_to, b.ship_to);
    BOOST_TEST_REQUIRE(a.bill_to.has_value() == b.bill_to.has_value());
    if (a.bill_to) checkSameAddress(*a.bill_to, *b.bill_to);
    BOOST_TEST_REQUIRE(a.lines.size() == b.lines.size());
    for (std::size_t i = 0; i < a.lines.size(); ++i) {
        BOOST_TEST_CONTEXT("lines[" << i << "]") {
            BOOST_TEST(a.lines[i].line_id == b.lines[i].line_id);
            BOOST_TEST(a.lines[i].sku == b.lines[i].sku);
            BOOST_TEST(a.lines[i].quantity == b.lines[i].quantity);
            BOOST_TEST(a.lines[i].uom == b.lines[i].uom);
            BOOST_TEST((a.lines[i].unit_price == b.lines[i].unit_price));
            BOOST_TEST((a.lines[i].discount == b.lines[i].discount));
        }
    }
    BOOST_TEST((a.shipping_amount == b.shipping_amount));
    BOOST_TEST(a.shipping_service == b.shipping_service);
    BOOST_TEST((a.payment_status == b.payment_status));
    BOOST_TEST(a.priority == b.priority);
    BOOST_TEST((a.promise_date == b.promise_date));
    BOOST_TEST(a.ship_complete == b.ship_complete);
    BOOST_TEST((a.allow_backorder == b.allow_backorder));
    BOOST_TEST(a.notes == b.notes);
}

const Currency& usd() {
    return Currency::of("USD");
}

// One rule broken on purpose: the top-level member changed ("" removes it), the field and the exact message.
struct Refusal {
    std::string name;
    std::string key;
    std::string raw;
    std::string field;
    std::string message;
};
std::ostream& operator<<(std::ostream& out, const Refusal& r) {
    return out << r.name;
}

std::string lineWith(const std::string& members) {
    return R"([{"sku": "SKU-1", "quantity": 1, )" + members + "}]";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(parsing)

BOOST_AUTO_TEST_CASE(full_document_fills_every_field) {
    const ParsedDocument parsed = parseOrderDocument(kFullDocument);
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.version == 1);
    BOOST_TEST(doc.channel == "web");
    BOOST_TEST(doc.external_id == "W-1001");
    BOOST_TEST_REQUIRE(doc.currency != nullptr);
    BOOST_TEST(doc.currency == &Currency::of("USD"));  // points into the table
    BOOST_TEST(doc.customer.id == "C-1");
    BOOST_TEST(doc.customer.email == "ann@example.com");
    BOOST_TEST(doc.customer.name == "Ann Lee");
    BOOST_TEST((doc.customer.kind == CustomerKind::kB2B));
    BOOST_TEST(doc.ship_to.name == "Ann Lee");
    BOOST_TEST(doc.ship_to.line1 == "1 Main St");
    BOOST_TEST(doc.ship_to.line2 == "Suite 5");
    BOOST_TEST(doc.ship_to.city == "Springfield");
    BOOST_TEST(doc.ship_to.region == "IL");
    BOOST_TEST(doc.ship_to.postal_code == "62701");
    BOOST_TEST(doc.ship_to.country == "US");
    BOOST_TEST(doc.ship_to.phone == "+1 217 555 0100");
    BOOST_TEST_REQUIRE(doc.bill_to.has_value());
    BOOST_TEST(doc.bill_to->name == "Lee Holdings");
    BOOST_TEST(doc.bill_to->city == "Chicago");
    BOOST_TEST(doc.bill_to->line2 == "");
    BOOST_TEST_REQUIRE(doc.lines.size() == 2u);
    BOOST_TEST(doc.lines[0].line_id == "10");
    BOOST_TEST(doc.lines[0].sku == "SKU-1");
    BOOST_TEST(doc.lines[0].quantity == 2);
    BOOST_TEST(doc.lines[0].uom == "case");
    BOOST_TEST_REQUIRE(doc.lines[0].unit_price.has_value());
    BOOST_TEST(doc.lines[0].unit_price->minor() == 1999);
    BOOST_TEST((doc.lines[0].unit_price->currency() == usd()));
    BOOST_TEST(doc.lines[0].discount.minor() == 100);
    BOOST_TEST(doc.lines[1].line_id == "20");
    BOOST_TEST(!doc.lines[1].unit_price.has_value());
    BOOST_TEST(doc.lines[1].discount.minor() == 0);
    BOOST_TEST(doc.shipping_amount.minor() == 500);
    BOOST_TEST((doc.shipping_amount.currency() == usd()));
    BOOST_TEST(doc.shipping_service == "next_day");
    BOOST_TEST((doc.payment_status == PaymentStatus::kAuthorized));
    BOOST_TEST(doc.priority == 5);
    BOOST_TEST_REQUIRE(doc.promise_date.has_value());
    BOOST_TEST(doc.promise_date->ymd() == 20261201);
    BOOST_TEST(doc.ship_complete == true);
    BOOST_TEST_REQUIRE(doc.allow_backorder.has_value());
    BOOST_TEST(*doc.allow_backorder == false);
    BOOST_TEST(doc.notes == "Leave at the back door");
}

BOOST_AUTO_TEST_CASE(absent_optional_fields_take_the_documented_defaults) {
    const ParsedDocument parsed = parseOrderDocument(Doc().set("currency", R"("EUR")").json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.customer.id == "C-1");
    BOOST_TEST(doc.customer.email == "");
    BOOST_TEST(doc.customer.name == "");
    BOOST_TEST((doc.customer.kind == CustomerKind::kB2C));
    BOOST_TEST(doc.ship_to.country == "");
    BOOST_TEST(!doc.bill_to.has_value());
    BOOST_TEST_REQUIRE(doc.lines.size() == 1u);
    BOOST_TEST(doc.lines[0].line_id == "1");
    BOOST_TEST(doc.lines[0].uom == "");
    BOOST_TEST(!doc.lines[0].unit_price.has_value());
    // Zero amounts are in the order's currency, not the USD the struct defaults to.
    BOOST_TEST((doc.lines[0].discount == Money::zero(Currency::of("EUR"))));
    BOOST_TEST((doc.shipping_amount == Money::zero(Currency::of("EUR"))));
    BOOST_TEST(doc.shipping_service == "ground");
    BOOST_TEST((doc.payment_status == PaymentStatus::kPending));
    BOOST_TEST(doc.priority == 0);
    BOOST_TEST(!doc.promise_date.has_value());
    BOOST_TEST(doc.ship_complete == false);
    BOOST_TEST(!doc.allow_backorder.has_value());
    BOOST_TEST(doc.notes == "");
}

BOOST_AUTO_TEST_CASE(customer_may_be_known_by_email_alone) {
    const ParsedDocument parsed =
        parseOrderDocument(Doc().set("customer", R"({"email": "  ann@example.com "})").json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.customer.id == "");
    BOOST_TEST(doc.customer.email == "ann@example.com");  // trimmed
}

BOOST_AUTO_TEST_CASE(address_texts_are_trimmed_and_country_upper_cased) {
    const ParsedDocument parsed = parseOrderDocument(
        Doc().set("ship_to", R"({"name": "  Ann Lee ", "city": " Köln ", "country": " de "})").json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.ship_to.name == "Ann Lee");
    BOOST_TEST(doc.ship_to.city == "K\xc3\xb6ln");
    BOOST_TEST(doc.ship_to.country == "DE");
}

BOOST_AUTO_TEST_CASE(incomplete_addresses_are_accepted_for_intake_to_hold) {
    const ParsedDocument parsed =
        parseOrderDocument(Doc().set("ship_to", R"({"name": "Ann Lee", "country": ""})").json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.ship_to.line1 == "");
    BOOST_TEST(doc.ship_to.country == "");
}

BOOST_AUTO_TEST_CASE(lines_without_line_id_are_numbered_by_position) {
    const ParsedDocument parsed = parseOrderDocument(
        Doc()
            .set("lines", R"([{"sku": "A", "quantity": 1}, {"line_id": "x7", "sku": "B", "quantity": 2},
                               {"sku": "C", "quantity": 3}])")
            .json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST_REQUIRE(doc.lines.size() == 3u);
    BOOST_TEST(doc.lines[0].line_id == "1");
    BOOST_TEST(doc.lines[1].line_id == "x7");
    BOOST_TEST(doc.lines[2].line_id == "3");
    BOOST_TEST(doc.lines[2].sku == "C");
    BOOST_TEST(doc.lines[2].quantity == 3);
}

BOOST_AUTO_TEST_CASE(notes_keep_line_breaks_and_tabs) {
    const ParsedDocument parsed = parseOrderDocument(Doc().set("notes", R"("Ring twice\n\tthen wait")").json());
    BOOST_TEST(requireDocument(parsed).notes == "Ring twice\n\tthen wait");
}

BOOST_AUTO_TEST_CASE(a_byte_order_mark_is_ignored) {
    const ParsedDocument parsed = parseOrderDocument("\xEF\xBB\xBF" + Doc().json());
    BOOST_TEST(requireDocument(parsed).external_id == "W-1001");
}

BOOST_AUTO_TEST_CASE(enum_names) {
    BOOST_TEST(keel::orders::toString(CustomerKind::kB2C) == "b2c");
    BOOST_TEST(keel::orders::toString(CustomerKind::kB2B) == "b2b");
    BOOST_TEST(keel::orders::toString(PaymentStatus::kPending) == "pending");
    BOOST_TEST(keel::orders::toString(PaymentStatus::kAuthorized) == "authorized");
    BOOST_TEST(keel::orders::toString(PaymentStatus::kCaptured) == "captured");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(refusals)

BOOST_DATA_TEST_CASE(
    each_rule_names_its_field_and_quotes_the_value,
    data::make(std::vector<Refusal>{
        // Required members.
        {"type missing", "type", "", "type", "is missing; it must be \"order\""},
        {"version missing", "version", "", "version", "is missing; this keel reads version 1"},
        {"channel missing", "channel", "", "channel", "is missing; name the sales channel, e.g. web"},
        {"external_id missing", "external_id", "", "external_id",
         "is missing; give the channel's order number, which identifies re-sends"},
        {"currency missing", "currency", "", "currency", "is missing; give an ISO 4217 code, e.g. USD"},
        {"customer missing", "customer", "", "customer", "is missing; give the customer's id or email"},
        {"ship_to missing", "ship_to", "", "ship_to",
         "is missing; give the shipping address (an incomplete one is held by intake, not refused)"},
        {"lines missing", "lines", "", "lines", "is missing; an order has at least one line"},
        {"sku missing", "lines", R"([{"quantity": 1}])", "lines[0].sku",
         "is missing; every line names its item by SKU, channel alias or GTIN"},
        {"quantity missing", "lines", R"([{"sku": "SKU-1"}])", "lines[0].quantity",
         "is missing; every line has a quantity"},
        {"required null", "channel", "null", "channel", "is null; it must have a value"},
        // Type and version.
        {"type not order", "type", R"("invoice")", "type",
         "'invoice' is not an order document; \"type\" must be \"order\""},
        {"version 2", "version", "2", "version", "version 2 is not supported; this keel reads version 1"},
        {"version as string", "version", R"("1")", "version", "must be the integer 1, got the string '1'"},
        // Channel and external id.
        {"channel with space", "channel", R"("web shop")", "channel",
         "'web shop' is not a channel name; use 1 to 64 letters, digits, '_', '.' or '-'"},
        {"channel empty", "channel", R"("")", "channel",
         "'' is not a channel name; use 1 to 64 letters, digits, '_', '.' or '-'"},
        {"channel too long", "channel", "\"" + std::string(65, 'c') + "\"", "channel",
         "'" + std::string(40, 'c') + "...' is not a channel name; use 1 to 64 letters, digits, '_', '.' or '-'"},
        {"channel number", "channel", "7", "channel", "must be a string, got the number 7"},
        {"external_id empty", "external_id", R"("")", "external_id", "is empty"},
        {"external_id too long", "external_id", "\"" + std::string(65, 'W') + "\"", "external_id",
         "'" + std::string(40, 'W') + "...' is too long: 65 characters, at most 64"},
        {"external_id leading space", "external_id", R"(" W-1")", "external_id",
         "' W-1' starts or ends with whitespace; identifiers are compared exactly, so remove it"},
        {"external_id trailing no-break space", "external_id", R"("W-1\u00a0")", "external_id",
         "'W-1\\u00a0' starts or ends with whitespace; identifiers are compared exactly, so remove it"},
        {"external_id control", "external_id", R"("W\u00011")", "external_id",
         "'W\\u00011' contains a control character (U+0001) at character 2"},
        {"external_id NUL", "external_id", R"("W\u0000")", "external_id",
         "'W\\u0000' contains a control character (U+0000) at character 2"},
        // Currency.
        {"currency lower case", "currency", R"("usd")", "currency",
         "'usd' is not an ISO 4217 currency code Keel knows (did you mean 'USD'?)"},
        {"currency unknown", "currency", R"("XYZ")", "currency", "'XYZ' is not an ISO 4217 currency code Keel knows"},
        {"currency number", "currency", "840", "currency", "must be a string, got the number 840"},
        // Customer.
        {"customer without id or email", "customer", R"({"name": "Ann"})", "customer",
         "has neither an id nor an email; give at least one so the order can be linked to a customer"},
        {"customer not an object", "customer", R"("C-1")", "customer", "must be an object, got the string 'C-1'"},
        {"customer id too long", "customer", "{\"id\": \"" + std::string(65, 'i') + "\"}", "customer.id",
         "'" + std::string(40, 'i') + "...' is too long: 65 characters, at most 64"},
        {"email without @", "customer", R"({"email": "ann.example.com"})", "customer.email",
         "'ann.example.com' is not an email address: it needs exactly one '@' with text on both sides"},
        {"email with two @", "customer", R"({"email": "ann@lee@example.com"})", "customer.email",
         "'ann@lee@example.com' is not an email address: it needs exactly one '@' with text on both sides"},
        {"email with space", "customer", R"({"email": "ann lee@example.com"})", "customer.email",
         "'ann lee@example.com' is not an email address: it contains whitespace"},
        {"email too long", "customer", "{\"email\": \"" + std::string(250, 'a') + "@b.cd\"}", "customer.email",
         "'" + std::string(40, 'a') + "...' is too long: 255 characters, at most 254"},
        {"customer type upper case", "customer", R"({"id": "C-1", "type": "B2B"})", "customer.type",
         "'B2B' is not a customer type; use \"b2c\" (the default) or \"b2b\""},
        // Addresses.
        {"country of three letters", "ship_to", R"({"country": "USA"})", "ship_to.country",
         "'USA' is not a country code; use the two letters of ISO 3166-1 alpha-2, e.g. US or DE"},
        {"country digits", "ship_to", R"({"country": "84"})", "ship_to.country",
         "'84' is not a country code; use the two letters of ISO 3166-1 alpha-2, e.g. US or DE"},
        {"city a number", "ship_to", R"({"city": 12})", "ship_to.city", "must be a string, got the number 12"},
        {"line1 with a line break", "ship_to", R"({"line1": "1 Main St\nApt 2"})", "ship_to.line1",
         "'1 Main St\\nApt 2' contains a control character (U+000a) at character 10"},
        {"name too long", "ship_to", "{\"name\": \"" + std::string(201, 'n') + "\"}", "ship_to.name",
         "'" + std::string(40, 'n') + "...' is too long: 201 characters, at most 200"},
        {"city too long", "ship_to", "{\"city\": \"" + std::string(101, 'c') + "\"}", "ship_to.city",
         "'" + std::string(40, 'c') + "...' is too long: 101 characters, at most 100"},
        {"region too long", "ship_to", "{\"region\": \"" + std::string(65, 'r') + "\"}", "ship_to.region",
         "'" + std::string(40, 'r') + "...' is too long: 65 characters, at most 64"},
        {"bill_to postal code too long", "bill_to", R"({"postal_code": "123456789012345678901234567890123"})",
         "bill_to.postal_code", "'123456789012345678901234567890123' is too long: 33 characters, at most 32"},
        {"phone too long", "bill_to", R"({"phone": "+1 (217) 555-0100 extension 12345"})", "bill_to.phone",
         "'+1 (217) 555-0100 extension 12345' is too long: 33 characters, at most 32"},
        {"ship_to an array", "ship_to", "[]", "ship_to", "must be an object, got an array"},
        // Lines.
        {"lines empty", "lines", "[]", "lines", "is empty; an order has at least one line"},
        {"lines an object", "lines", "{}", "lines", "must be an array of line objects, got an object"},
        {"line not an object", "lines", "[5]", "lines[0]", "must be an object, got the number 5"},
        {"sku empty", "lines", R"([{"sku": "", "quantity": 1}])", "lines[0].sku", "is empty"},
        {"sku with trailing space", "lines", R"([{"sku": "SKU-1 ", "quantity": 1}])", "lines[0].sku",
         "'SKU-1 ' starts or ends with whitespace; identifiers are compared exactly, so remove it"},
        {"sku too long", "lines", "[{\"sku\": \"" + std::string(129, 's') + "\", \"quantity\": 1}]", "lines[0].sku",
         "'" + std::string(40, 's') + "...' is too long: 129 characters, at most 128"},
        {"line_id empty", "lines", lineWith(R"("line_id": "")"), "lines[0].line_id", "is empty"},
        {"quantity zero", "lines", R"([{"sku": "SKU-1", "quantity": 0}])", "lines[0].quantity",
         "0 is out of range; it must be from 1 to 1000000000"},
        {"quantity negative", "lines", R"([{"sku": "SKU-1", "quantity": -3}])", "lines[0].quantity",
         "-3 is out of range; it must be from 1 to 1000000000"},
        {"quantity above a billion", "lines", R"([{"sku": "SKU-1", "quantity": 1000000001}])", "lines[0].quantity",
         "1000000001 is out of range; it must be from 1 to 1000000000"},
        {"quantity above int64", "lines", R"([{"sku": "SKU-1", "quantity": 18446744073709551615}])",
         "lines[0].quantity", "18446744073709551615 is out of range; it must be from 1 to 1000000000"},
        {"quantity fractional", "lines", R"([{"sku": "SKU-1", "quantity": 2.5}])", "lines[0].quantity",
         "must be a whole number from 1 to 1000000000, not a number with a fraction or exponent"},
        {"quantity 2.0", "lines", R"([{"sku": "SKU-1", "quantity": 2.0}])", "lines[0].quantity",
         "must be a whole number from 1 to 1000000000, not a number with a fraction or exponent"},
        {"quantity exponent", "lines", R"([{"sku": "SKU-1", "quantity": 1e3}])", "lines[0].quantity",
         "must be a whole number from 1 to 1000000000, not a number with a fraction or exponent"},
        {"quantity string", "lines", R"([{"sku": "SKU-1", "quantity": "2"}])", "lines[0].quantity",
         "must be a JSON integer from 1 to 1000000000, got the string '2'"},
        {"quantity boolean", "lines", R"([{"sku": "SKU-1", "quantity": true}])", "lines[0].quantity",
         "must be a JSON integer from 1 to 1000000000, got true"},
        {"uom upper case", "lines", lineWith(R"("uom": "Case")"), "lines[0].uom",
         "'Case' is not a unit name; use a lowercase word of at most 16 letters, digits and '_' starting with a "
         "letter (each, case, kg), or omit it for the base unit"},
        {"uom empty", "lines", lineWith(R"("uom": "")"), "lines[0].uom",
         "'' is not a unit name; use a lowercase word of at most 16 letters, digits and '_' starting with a "
         "letter (each, case, kg), or omit it for the base unit"},
        // Amounts.
        {"unit_price a number", "lines", lineWith(R"("unit_price": 19.99)"), "lines[0].unit_price",
         "must be a string like \"19.99\", not a number, so it is exact"},
        {"unit_price an integer", "lines", lineWith(R"("unit_price": 19)"), "lines[0].unit_price",
         "must be a string like \"19.99\", not the number 19, so it is exact"},
        {"unit_price too precise", "lines", lineWith(R"("unit_price": "19.999")"), "lines[0].unit_price",
         "'19.999' has more decimal places than USD allows (at most 2)"},
        {"unit_price negative", "lines", lineWith(R"("unit_price": "-1.00")"), "lines[0].unit_price",
         "'-1.00' is negative; it must be zero or more"},
        {"unit_price negative zero", "lines", lineWith(R"("unit_price": "-0.00")"), "lines[0].unit_price",
         "'-0.00' is negative; it must be zero or more"},
        {"unit_price with a comma", "lines", lineWith(R"("unit_price": "19,99")"), "lines[0].unit_price",
         "invalid amount '19,99' for USD: unexpected character ',' at position 3; expected [+|-]digits[.digits] "
         "without spaces, separators or exponent"},
        {"unit_price overflows", "lines", lineWith(R"("unit_price": "92233720368547758.08")"), "lines[0].unit_price",
         "money overflow: amount '92233720368547758.08' does not fit in 64-bit USD minor units"},
        {"discount negative", "lines", lineWith(R"("discount": "-0.01")"), "lines[0].discount",
         "'-0.01' is negative; it must be zero or more"},
        {"discount above the line total", "lines",
         R"([{"sku": "SKU-1", "quantity": 2, "unit_price": "10.00", "discount": "20.01"}])", "lines[0].discount",
         "'20.01' exceeds the line's total 10.00 x 2 = 20.00"},
        {"shipping amount a number", "shipping", R"({"amount": 5})", "shipping.amount",
         "must be a string like \"19.99\", not the number 5, so it is exact"},
        {"shipping amount negative", "shipping", R"({"amount": "-5.00"})", "shipping.amount",
         "'-5.00' is negative; it must be zero or more"},
        {"shipping service empty", "shipping", R"({"service": ""})", "shipping.service", "is empty"},
        // The rest.
        {"payment status unknown", "payment", R"({"status": "paid"})", "payment.status",
         "'paid' is not a payment status; use \"pending\" (the default), \"authorized\" or \"captured\""},
        {"priority too high", "priority", "1001", "priority", "1001 is out of range; it must be from -1000 to 1000"},
        {"priority too low", "priority", "-1001", "priority", "-1001 is out of range; it must be from -1000 to 1000"},
        {"priority a string", "priority", R"("1")", "priority",
         "must be a JSON integer from -1000 to 1000, got the string '1'"},
        {"promise_date not a day", "promise_date", R"("2026-02-30")", "promise_date",
         "'2026-02-30' is not a day of the calendar"},
        {"promise_date US form", "promise_date", R"("12/01/2026")", "promise_date",
         "'12/01/2026' is not a date in the form YYYY-MM-DD"},
        {"promise_date short", "promise_date", R"("2026-12-1")", "promise_date",
         "'2026-12-1' is not a date in the form YYYY-MM-DD"},
        {"promise_date a number", "promise_date", "20261201", "promise_date",
         "must be a string, got the number 20261201"},
        {"ship_complete a string", "ship_complete", R"("true")", "ship_complete",
         "must be true or false (a JSON boolean), got the string 'true'"},
        {"ship_complete a number", "ship_complete", "1", "ship_complete",
         "must be true or false (a JSON boolean), got the number 1"},
        {"allow_backorder null", "allow_backorder", "null", "allow_backorder",
         "is null; omit the field when it has no value"},
        {"notes too long", "notes", "\"" + std::string(2001, 'n') + "\"", "notes",
         "'" + std::string(40, 'n') + "...' is too long: 2001 characters, at most 2000"},
        {"notes with NUL", "notes", R"("a\u0000b")", "notes",
         "'a\\u0000b' contains a control character (U+0000) at character 2"},
        // Unknown and repeated fields.
        {"unknown top-level field", "colour", R"("red")", "colour",
         "unknown field 'colour' (a typo? channel extensions must start with \"x_\")"},
        {"unknown customer field", "customer", R"({"id": "C-1", "mail": "ann@example.com"})", "customer.mail",
         "unknown field 'mail' (a typo? channel extensions must start with \"x_\")"},
        {"unknown address field", "ship_to", R"({"zip": "62701"})", "ship_to.zip",
         "unknown field 'zip' (a typo? channel extensions must start with \"x_\")"},
        {"unknown line field", "lines", lineWith(R"("price": "1.00")"), "lines[0].price",
         "unknown field 'price' (a typo? channel extensions must start with \"x_\")"},
        {"unknown shipping field", "shipping", R"({"carrier": "ups"})", "shipping.carrier",
         "unknown field 'carrier' (a typo? channel extensions must start with \"x_\")"},
        {"unknown payment field", "payment", R"({"state": "pending"})", "payment.state",
         "unknown field 'state' (a typo? channel extensions must start with \"x_\")"},
        {"upper-case X_ is no extension", "X_note", "1", "X_note",
         "unknown field 'X_note' (a typo? channel extensions must start with \"x_\")"},
        {"repeated field", "lines", R"([{"sku": "SKU-1", "sku": "SKU-2", "quantity": 1}])", "lines[0].sku",
         "the field 'sku' appears more than once; give it once (readers disagree about which wins)"},
    }),
    sample) {
    Doc doc;
    if (sample.raw.empty()) {
        doc.erase(sample.key);
    } else {
        doc.set(sample.key, sample.raw);
    }
    BOOST_TEST_CONTEXT(doc.json().substr(0, 300)) {
        requireOneProblem(parseOrderDocument(doc.json()), sample.field, sample.message);
    }
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_together_with_its_path) {
    const std::string json = Doc()
                                 .set("channel", R"("web shop")")
                                 .set("currency", R"("USD")")
                                 .set("customer", R"({"email": "nobody"})")
                                 .set("ship_to", R"({"country": "USA", "colour": "red"})")
                                 .set("lines", R"([{"sku": "A", "quantity": 1},
                                                   {"sku": "B", "quantity": 0, "unit_price": 3},
                                                   {"sku": "C", "quantity": 1, "unit_price": "1.001"}])")
                                 .set("priority", "5000")
                                 .json();
    const ParsedDocument parsed = parseOrderDocument(json);
    BOOST_TEST(!parsed.document.has_value());
    std::multiset<std::string> fields;
    for (const Problem& problem : parsed.problems) fields.insert(problem.field);
    const std::multiset<std::string> expected = {
        "channel",           "customer.email",      "ship_to.colour",      "ship_to.country",
        "lines[1].quantity", "lines[1].unit_price", "lines[2].unit_price", "priority"};
    BOOST_TEST(fields == expected, "problems:\n" << listProblems(parsed));
}

BOOST_AUTO_TEST_CASE(duplicate_line_ids_are_refused) {
    requireOneProblem(parseOrderDocument(Doc()
                                             .set("lines", R"([{"line_id": "A", "sku": "S1", "quantity": 1},
                                                  {"line_id": "B", "sku": "S2", "quantity": 1},
                                                  {"line_id": "A", "sku": "S3", "quantity": 1}])")
                                             .json()),
                      "lines[2].line_id", "'A' is also the line_id of lines[0]; line ids must be unique");
    // A number given by position that another line already uses explicitly.
    requireOneProblem(
        parseOrderDocument(Doc()
                               .set("lines", R"([{"sku": "S1", "quantity": 1},
                                                  {"line_id": "1", "sku": "S2", "quantity": 1}])")
                               .json()),
        "lines[0].line_id",
        "this line has no line_id, and '1', which it gets from its position, is the line_id of lines[1]; give every "
        "line a unique line_id");
}

BOOST_AUTO_TEST_CASE(too_many_lines) {
    std::string lines = "[";
    for (int i = 0; i < 1001; ++i) lines += std::string(i == 0 ? "" : ",") + R"({"sku":"S","quantity":1})";
    lines += "]";
    requireOneProblem(parseOrderDocument(Doc().set("lines", lines).json()), "lines",
                      "has 1001 lines; at most 1000 fit in one order, split it");
    // 1000 is fine.
    lines = "[";
    for (int i = 0; i < 1000; ++i) lines += std::string(i == 0 ? "" : ",") + R"({"sku":"S","quantity":1})";
    lines += "]";
    const ParsedDocument parsed = parseOrderDocument(Doc().set("lines", lines).json());
    BOOST_TEST(requireDocument(parsed).lines.size() == 1000u);
    BOOST_TEST(parsed.document->lines[999].line_id == "1000");
}

BOOST_AUTO_TEST_CASE(another_version_is_the_only_problem_reported) {
    // Version 2 may well have fields version 1 does not know; listing them as typos would bury the real problem.
    requireOneProblem(parseOrderDocument(Doc().set("version", "2").set("fulfilment", "{}").erase("lines").json()),
                      "version", "version 2 is not supported; this keel reads version 1");
    requireOneProblem(parseOrderDocument(Doc().set("type", R"("invoice")").set("total", R"("1.00")").json()), "type",
                      "'invoice' is not an order document; \"type\" must be \"order\"");
}

BOOST_AUTO_TEST_CASE(problems_are_capped_so_a_huge_document_cannot_flood_the_caller) {
    Doc doc;
    for (int i = 0; i < 1500; ++i) doc.set("bad" + std::to_string(10000 + i), "1");
    const ParsedDocument parsed = parseOrderDocument(doc.json());
    BOOST_TEST_REQUIRE(parsed.problems.size() == 1001u);
    BOOST_TEST(parsed.problems[0].field == "bad10000");
    BOOST_TEST(parsed.problems.back().field == "");
    BOOST_TEST(parsed.problems.back().message == "and 500 more problems not listed; fix these first");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(amounts)

BOOST_AUTO_TEST_CASE(decimal_strings_become_exact_minor_units) {
    const ParsedDocument parsed =
        parseOrderDocument(Doc()
                               .set("lines", R"([{"sku": "A", "quantity": 1, "unit_price": "19.99"},
                               {"sku": "B", "quantity": 1, "unit_price": "0.1"},
                               {"sku": "C", "quantity": 1, "unit_price": "0.2"},
                               {"sku": "D", "quantity": 1, "unit_price": "19.990", "discount": "0"},
                               {"sku": "E", "quantity": 3, "unit_price": "92233720368547758.07"}])")
                               .set("shipping", R"({"amount": "5"})")
                               .json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.lines[0].unit_price->minor() == 1999);
    BOOST_TEST(doc.lines[1].unit_price->minor() == 10);
    BOOST_TEST(doc.lines[2].unit_price->minor() == 20);
    // In binary floating point 0.1 + 0.2 is 0.30000000000000004; here it is 30 cents.
    BOOST_TEST(((*doc.lines[1].unit_price + *doc.lines[2].unit_price) == Money(30, usd())));
    BOOST_TEST(doc.lines[3].unit_price->minor() == 1999);  // trailing zeros beyond the exponent are harmless
    BOOST_TEST(doc.lines[3].discount.minor() == 0);
    BOOST_TEST(doc.lines[4].unit_price->minor() == std::numeric_limits<std::int64_t>::max());
    BOOST_TEST(doc.shipping_amount.minor() == 500);
}

BOOST_AUTO_TEST_CASE(yen_has_no_decimals) {
    const auto with_price = [](const std::string& price) {
        return parseOrderDocument(Doc()
                                      .set("currency", R"("JPY")")
                                      .line(R"("sku": "A", "quantity": 1, "unit_price": ")" + price + "\"")
                                      .json());
    };
    const ParsedDocument whole = with_price("1500");
    BOOST_TEST(requireDocument(whole).lines[0].unit_price->minor() == 1500);
    BOOST_TEST(canonicalJson(*whole.document).find(R"("unit_price":"1500","discount":"0")") != std::string::npos);
    requireOneProblem(with_price("1500.5"), "lines[0].unit_price",
                      "'1500.5' has more decimal places than JPY allows (at most 0)");
}

BOOST_AUTO_TEST_CASE(dinar_has_three_decimals) {
    const auto with_price = [](const std::string& price) {
        return parseOrderDocument(Doc()
                                      .set("currency", R"("KWD")")
                                      .line(R"("sku": "A", "quantity": 1, "unit_price": ")" + price + "\"")
                                      .json());
    };
    const ParsedDocument parsed = with_price("1.234");
    BOOST_TEST(requireDocument(parsed).lines[0].unit_price->minor() == 1234);
    BOOST_TEST(canonicalJson(*parsed.document).find(R"("unit_price":"1.234","discount":"0.000")") != std::string::npos);
    requireOneProblem(with_price("1.2345"), "lines[0].unit_price",
                      "'1.2345' has more decimal places than KWD allows (at most 3)");
}

BOOST_AUTO_TEST_CASE(a_discount_may_equal_the_line_total) {
    const ParsedDocument parsed = parseOrderDocument(
        Doc().line(R"("sku": "A", "quantity": 2, "unit_price": "10.00", "discount": "20.00")").json());
    BOOST_TEST(requireDocument(parsed).lines[0].discount.minor() == 2000);
}

BOOST_AUTO_TEST_CASE(the_discount_check_cannot_overflow) {
    // int64-max cents times a billion does not fit in 64 bits; compared in 128 bits it is simply a large total.
    const ParsedDocument parsed =
        parseOrderDocument(Doc()
                               .line(R"("sku": "A", "quantity": 1000000000, "unit_price": "92233720368547758.07",
                      "discount": "92233720368547758.07")")
                               .json());
    BOOST_TEST(requireDocument(parsed).lines[0].discount.minor() == std::numeric_limits<std::int64_t>::max());
}

BOOST_AUTO_TEST_CASE(amounts_are_still_checked_when_the_currency_is_unknown) {
    const ParsedDocument parsed = parseOrderDocument(
        Doc().set("currency", R"("ABC")").line(R"("sku": "A", "quantity": 1, "unit_price": "1.x")").json());
    BOOST_TEST_REQUIRE(parsed.problems.size() == 2u, listProblems(parsed));
    BOOST_TEST(parsed.problems[0].field == "currency");
    BOOST_TEST(parsed.problems[1].field == "lines[0].unit_price");
    BOOST_TEST(parsed.problems[1].message.find("'1.x'") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(canonical_json)

BOOST_AUTO_TEST_CASE(full_document_has_the_exact_canonical_text) {
    const ParsedDocument parsed = parseOrderDocument(kFullDocument);
    BOOST_TEST(canonicalJson(requireDocument(parsed)) == kFullCanonical);
}

BOOST_AUTO_TEST_CASE(minimal_document_omits_absent_optionals) {
    const ParsedDocument parsed = parseOrderDocument(Doc().json());
    BOOST_TEST(canonicalJson(requireDocument(parsed)) ==
               R"({"type":"order","version":1,"channel":"web","external_id":"W-1001","currency":"USD",)"
               R"("customer":{"id":"C-1","type":"b2c"},"ship_to":{},)"
               R"("lines":[{"line_id":"1","sku":"SKU-1","quantity":1,"discount":"0.00"}],)"
               R"("shipping":{"amount":"0.00","service":"ground"},"payment":{"status":"pending"},)"
               R"("priority":0,"ship_complete":false})");
}

BOOST_AUTO_TEST_CASE(parsing_the_canonical_text_gives_the_same_document) {
    const ParsedDocument first = parseOrderDocument(kFullDocument);
    const std::string canonical = canonicalJson(requireDocument(first));
    const ParsedDocument second = parseOrderDocument(canonical);
    checkSameDocument(requireDocument(first), requireDocument(second));
    BOOST_TEST(canonicalJson(*second.document) == canonical);
}

BOOST_AUTO_TEST_CASE(key_order_whitespace_and_amount_spelling_do_not_change_the_text) {
    const std::string reordered = R"(
        {"notes":"Leave at the back door","allow_backorder":false,"ship_complete":true,"promise_date":"2026-12-01",
         "priority":5,"payment":{"status":"authorized"},"shipping":{"service":"next_day","amount":"5"},
         "lines":[{"discount":"1","unit_price":"19.990","uom":"case","quantity":2,"sku":"SKU-1","line_id":"10"},
                  {"quantity":1,"sku":"SKU-2","line_id":"20","discount":"0.0"}],
         "bill_to":{"phone":"","country":"us","postal_code":"60601","region":"IL","city":"Chicago","line2":"",
                    "line1":"9 Elm Rd","name":" Lee Holdings"},
         "ship_to":{"phone":"+1 217 555 0100","country":"US","postal_code":"62701","region":"IL","city":"Springfield",
                    "line2":"Suite 5","line1":"1 Main St","name":"Ann Lee"},
         "customer":{"type":"b2b","name":"Ann Lee","email":"ann@example.com","id":"C-1"},
         "currency":"USD","external_id":"W-1001","channel":"web","version":1,"type":"order",
         "x_shop":{"order_token":"abc"}}
    )";
    const ParsedDocument parsed = parseOrderDocument(reordered);
    BOOST_TEST(canonicalJson(requireDocument(parsed)) == kFullCanonical);
}

BOOST_AUTO_TEST_CASE(a_changed_field_changes_the_text) {
    const ParsedDocument original = parseOrderDocument(Doc().json());
    const ParsedDocument changed = parseOrderDocument(Doc().line(R"("sku": "SKU-1", "quantity": 2)").json());
    BOOST_TEST(canonicalJson(requireDocument(original)) != canonicalJson(requireDocument(changed)));
}

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_utf8_passes_through) {
    const ParsedDocument parsed =
        parseOrderDocument(Doc()
                               .set("notes", R"("Say \"hi\" \\ wave\n\tZo\u00eb \u2713 \ud83d\ude00")")
                               .set("ship_to", "{\"name\": \"J\xc3\xbcrgen M\xc3\xbcller\"}")
                               .json());
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST(doc.notes == "Say \"hi\" \\ wave\n\tZo\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80");
    const std::string canonical = canonicalJson(doc);
    BOOST_TEST(canonical.find(R"("notes":"Say \"hi\" \\ wave\n\tZo)"
                              "\xc3\xab \xe2\x9c\x93 \xf0\x9f\x98\x80\"}") != std::string::npos,
               canonical);
    BOOST_TEST(canonical.find("\"ship_to\":{\"name\":\"J\xc3\xbcrgen M\xc3\xbcller\"}") != std::string::npos);
    checkSameDocument(doc, requireDocument(parseOrderDocument(canonical)));
}

BOOST_AUTO_TEST_CASE(control_characters_of_built_documents_are_escaped) {
    // Documents built in code are not validated; their canonical text must still be valid JSON.
    OrderDocument doc = *parseOrderDocument(Doc().json()).document;
    doc.ship_to.line2 = std::string("a\x01") + '\0' + "\x1f\x7f";
    BOOST_TEST(canonicalJson(doc).find(R"("line2":"a\u0001\u0000\u001f\u007f")") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(amounts_of_built_documents_must_be_in_the_order_currency) {
    OrderDocument doc = *parseOrderDocument(Doc().set("currency", R"("EUR")").json()).document;
    doc.lines[0].discount = Money(0, usd());  // zero is zero in any currency
    BOOST_TEST(canonicalJson(doc).find(R"("discount":"0.00")") != std::string::npos);
    doc.lines[0].discount = Money(100, usd());
    BOOST_CHECK_THROW(static_cast<void>(canonicalJson(doc)), keel::RejectedError);
    doc.lines[0].discount = Money(0, usd());
    doc.currency = nullptr;
    BOOST_CHECK_THROW(static_cast<void>(canonicalJson(doc)), keel::RejectedError);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(extensions)

BOOST_AUTO_TEST_CASE(x_fields_are_accepted_anywhere_and_left_out_of_the_canonical_text) {
    const std::string json = Doc()
                                 .set("x_shopify", R"({"id": 5, "tags": ["a", "b"], "id": 6, "price": 1.5})")
                                 .set("customer", R"({"id": "C-1", "x_loyalty": "gold"})")
                                 .set("ship_to", R"({"x_geo": [1, 2], "country": "US"})")
                                 .line(R"("sku": "SKU-1", "quantity": 1, "x_gift": true, "x_": null)")
                                 .set("shipping", R"({"amount": "1.00", "x_carrier": "ups"})")
                                 .set("payment", R"({"status": "captured", "x_psp": {"ref": "p1"}})")
                                 .json();
    const ParsedDocument parsed = parseOrderDocument(json);
    const OrderDocument& doc = requireDocument(parsed);
    BOOST_TEST((doc.payment_status == PaymentStatus::kCaptured));
    const std::string canonical = canonicalJson(doc);
    BOOST_TEST(canonical.find("x_") == std::string::npos, canonical);
    BOOST_TEST(canonical ==
               canonicalJson(requireDocument(parseOrderDocument(Doc()
                                                                    .set("ship_to", R"({"country": "US"})")
                                                                    .set("shipping", R"({"amount": "1.00"})")
                                                                    .set("payment", R"({"status": "captured"})")
                                                                    .json()))));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed_input)

BOOST_AUTO_TEST_CASE(invalid_utf8_is_refused_with_its_position) {
    const std::string json = Doc().set("notes", "\"caf\xe9\"").json();
    const std::size_t offset = json.find('\xe9');  // everything before it is ASCII on one line
    requireOneProblem(parseOrderDocument(json), "",
                      "the document is not valid UTF-8: byte 0xe9 at line 1, column " + std::to_string(offset + 1) +
                          " (byte offset " + std::to_string(offset) + ")");
    // The line and column count characters.
    requireOneProblem(parseOrderDocument("{\n  \"notes\": \"\xc3\xa9\xe9\"}"), "",
                      "the document is not valid UTF-8: byte 0xe9 at line 2, column 14 (byte offset 16)");
    // Overlong encodings, encoded surrogates and truncated sequences are not UTF-8 either.
    for (const std::string bad : {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\xff"}) {
        const ParsedDocument parsed = parseOrderDocument(Doc().set("notes", "\"" + bad + "\"").json());
        BOOST_TEST_REQUIRE(parsed.problems.size() == 1u);
        BOOST_TEST(parsed.problems[0].field == "");
        BOOST_TEST(parsed.problems[0].message.starts_with("the document is not valid UTF-8: byte 0x"));
    }
    // Even inside an extension: the text as a whole must be UTF-8.
    BOOST_TEST(!parseOrderDocument(Doc().set("x_raw", "\"\xff\"").json()).ok());
}

BOOST_AUTO_TEST_CASE(utf8_is_counted_in_characters_not_bytes) {
    // 200 two-byte characters are 400 bytes but fit the 200-character name.
    std::string name;
    for (int i = 0; i < 200; ++i) name += "\xc3\xa9";
    const ParsedDocument parsed = parseOrderDocument(Doc().set("ship_to", "{\"name\": \"" + name + "\"}").json());
    BOOST_TEST(requireDocument(parsed).ship_to.name == name);
    requireOneProblem(parseOrderDocument(Doc().set("ship_to", "{\"name\": \"" + name + "\xc3\xa9\"}").json()),
                      "ship_to.name", "'" + name.substr(0, 80) + "...' is too long: 201 characters, at most 200");
}

BOOST_AUTO_TEST_CASE(a_lone_surrogate_escape_is_malformed) {
    const ParsedDocument parsed = parseOrderDocument(Doc().set("notes", R"("\ud800")").json());
    BOOST_TEST_REQUIRE(parsed.problems.size() == 1u);
    BOOST_TEST(parsed.problems[0].field == "");
    BOOST_TEST(parsed.problems[0].message.starts_with("malformed JSON: "), parsed.problems[0].message);
}

BOOST_AUTO_TEST_CASE(syntax_errors_are_one_problem_that_says_where) {
    requireOneProblem(parseOrderDocument(R"({"type": "order", "version": 1, "channel": web})"), "",
                      "malformed JSON: unexpected byte 'w' in value (after channel)");
    requireOneProblem(parseOrderDocument(R"({"type": "order",})"), "",
                      "malformed JSON: unexpected byte '}' in value (after type)");
    requireOneProblem(parseOrderDocument(""), "",
                      "malformed JSON: unexpected end of text (at the start of the document)");
    requireOneProblem(parseOrderDocument(Doc().json() + " {}"), "",
                      "malformed JSON: Excess characters found after JSON end. (after lines[0].quantity)");
    requireOneProblem(parseOrderDocument("[1, 2]"), "", "the document must be a JSON object, got an array");
    requireOneProblem(parseOrderDocument(" \"order\""), "",
                      "the document must be a JSON object, but it starts with '\"order\"'");
    requireOneProblem(parseOrderDocument("42"), "", "the document must be a JSON object, but it starts with '42'");
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused_without_exhausting_the_stack) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    const ParsedDocument parsed = parseOrderDocument(Doc().set("x_deep", deep).json());
    BOOST_TEST_REQUIRE(parsed.problems.size() == 1u);
    BOOST_TEST(parsed.problems[0].field == "");
    BOOST_TEST(parsed.problems[0].message.starts_with("malformed JSON: Maximum depth exceeded"),
               parsed.problems[0].message);
}

BOOST_AUTO_TEST_CASE(documents_over_4_mib_are_refused_before_parsing) {
    constexpr std::size_t kLimit = 4 * 1024 * 1024;
    const std::string base = Doc().json();
    const std::string at_limit = base + std::string(kLimit - base.size(), ' ');
    BOOST_TEST_REQUIRE(at_limit.size() == kLimit);
    BOOST_TEST(parseOrderDocument(at_limit).ok());
    // One byte more, and not even well-formed: the size is all that is looked at.
    const std::string over = at_limit + "{";
    requireOneProblem(parseOrderDocument(over), "",
                      "the document has 4194305 bytes; at most 4194304 (4 MiB) are accepted");
}

BOOST_AUTO_TEST_SUITE_END()
