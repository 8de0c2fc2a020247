// The tax-table plugin, loaded from its built library through the C ABI exactly as the host loads it (dlopen of
// the entry symbol, a keel_host_api with the instance's configuration), quoting against the repository's
// config/tax tables.
#define BOOST_TEST_MODULE tax_table
#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <dlfcn.h>

#include <keel/plugin_abi.h>
#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace bdata = boost::unit_test::data;

namespace {

const std::string kTables = std::string(KEEL_SOURCE_DIR) + "/config/tax";

/// The library, opened once and never closed (the host never unloads a plugin either).
const keel_plugin_api& pluginApi() {
    static const keel_plugin_api* api = [] {
        void* handle = dlopen(KEEL_TAX_TABLE_PLUGIN, RTLD_NOW | RTLD_LOCAL);
        BOOST_TEST_REQUIRE(handle != nullptr, "dlopen " << KEEL_TAX_TABLE_PLUGIN << ": " << dlerror());
        auto entry = reinterpret_cast<keel_plugin_entry_fn>(dlsym(handle, KEEL_PLUGIN_ENTRY_NAME));
        BOOST_TEST_REQUIRE(entry != nullptr, "no " << KEEL_PLUGIN_ENTRY_NAME << " in " << KEEL_TAX_TABLE_PLUGIN);
        return entry();
    }();
    return *api;
}

void assignString(void* opaque, const char* data, uint64_t size) {
    static_cast<std::string*>(opaque)->assign(data, static_cast<std::size_t>(size));
}

keel_str str(const std::string& text) {
    return keel_str{text.data(), text.size()};
}

/// A host that offers only configuration and logging: all the tax-table plugin uses.
class FakeHost {
public:
    explicit FakeHost(std::map<std::string, std::string> config) : config_(std::move(config)) {
        api_.size = sizeof(keel_host_api);
        api_.abi_major = KEEL_PLUGIN_ABI_MAJOR;
        api_.abi_minor = KEEL_PLUGIN_ABI_MINOR;
        api_.ctx = this;
        api_.log = [](void* ctx, int32_t, keel_str message) {
            static_cast<FakeHost*>(ctx)->log_.emplace_back(message.data, static_cast<std::size_t>(message.size));
        };
        api_.config_get = [](void* ctx, keel_str key, keel_buffer* value) -> keel_status {
            const auto& settings = static_cast<FakeHost*>(ctx)->config_;
            const auto found = settings.find(std::string(key.data, static_cast<std::size_t>(key.size)));
            if (found == settings.end()) return KEEL_E_NOT_FOUND;
            value->assign(value->opaque, found->second.data(), found->second.size());
            return KEEL_OK;
        };
    }
    const keel_host_api* api() const { return &api_; }
    const std::vector<std::string>& log() const { return log_; }

private:
    std::map<std::string, std::string> config_;
    std::vector<std::string> log_{};
    keel_host_api api_{};
};

struct Outcome {
    keel_status status = KEEL_OK;
    std::string text{};
};

/// One instance of the plugin, created and destroyed through the ABI.
class Instance {
public:
    explicit Instance(std::map<std::string, std::string> config = {{"tables", kTables}}) : host_(std::move(config)) {
        std::string error;
        keel_buffer buffer{&error, &assignString};
        status_ = pluginApi().create(host_.api(), &instance_, &buffer);
        error_ = error;
    }
    ~Instance() {
        if (instance_ != nullptr) pluginApi().destroy(instance_);
    }
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    keel_status createStatus() const { return status_; }
    const std::string& createError() const { return error_; }

    Outcome call(keel_operation operation, const std::string& request) const {
        BOOST_TEST_REQUIRE(instance_ != nullptr, "the instance was not created: " << error_);
        Outcome outcome;
        keel_buffer buffer{&outcome.text, &assignString};
        outcome.status = operation(instance_, str(request), &buffer);
        return outcome;
    }
    Outcome quote(const std::string& request) const { return call(pluginApi().tax->quote, request); }

private:
    FakeHost host_;
    keel_plugin_instance* instance_ = nullptr;
    keel_status status_ = KEEL_OK;
    std::string error_{};
};

const Instance& shared() {
    static const Instance instance;
    BOOST_TEST_REQUIRE(instance.createStatus() == KEEL_OK, instance.createError());
    return instance;
}

struct Line {
    std::string tax_class{};
    std::string amount{};
};

struct Request {
    std::string country = "US";
    std::string region{};
    std::string postal_code{};
    std::vector<Line> lines{};
    std::string shipping{};  // empty: no shipping
    std::string customer{};
    std::string date = "2026-11-26";
    std::string currency = "USD";

    std::string json() const {
        std::ostringstream out;
        out << R"({"type":"tax_request","version":1,"document_id":"ORDER-1","date":")" << date << R"(","currency":")"
            << currency << R"(","currency_exponent":2,)";
        if (!customer.empty()) out << R"("customer":{"id":")" << customer << R"("},)";
        out << R"("ship_to":{"country":")" << country << R"(","region":")" << region << R"(","postal_code":")"
            << postal_code << R"("},"lines":[)";
        for (std::size_t i = 0; i < lines.size(); ++i) {
            out << (i ? "," : "") << R"({"line_id":")" << i + 1 << R"(","sku":"SKU-)" << i + 1 << R"(","tax_class":")"
                << lines[i].tax_class << R"(","quantity":1,"amount":")" << lines[i].amount << R"("})";
        }
        out << "]";
        if (!shipping.empty()) out << R"(,"shipping":{"amount":")" << shipping << R"("})";
        out << "}";
        return out.str();
    }
};

Poco::JSON::Object::Ptr parse(const std::string& json) {
    Poco::JSON::Parser parser;
    return parser.parse(json).extract<Poco::JSON::Object::Ptr>();
}

/// "CODE=tax,CODE=tax" of one part (a line or the shipping), for compact expectations.
std::string levies(const Poco::JSON::Object::Ptr& part) {
    std::string out;
    const auto list = part->getArray("jurisdictions");
    for (std::size_t i = 0; i < list->size(); ++i) {
        const auto j = list->getObject(static_cast<unsigned>(i));
        out += (i ? "," : "") + j->getValue<std::string>("code") + "=" + j->getValue<std::string>("tax");
    }
    return out;
}

/// Quotes `request` and checks the result's invariants: one line per request line in order, each line's tax the
/// sum of its jurisdictions, the total the sum of lines and shipping.
Poco::JSON::Object::Ptr quoteOk(const Request& request) {
    const auto outcome = shared().quote(request.json());
    BOOST_TEST_REQUIRE(outcome.status == KEEL_OK, outcome.text);
    const auto result = parse(outcome.text);
    BOOST_TEST(result->getValue<std::string>("type") == "tax_result");
    const auto lines = result->getArray("lines");
    BOOST_TEST_REQUIRE(lines->size() == request.lines.size());
    auto cents = [](const std::string& amount) {
        const auto dot = amount.find('.');
        return std::stoll(amount.substr(0, dot)) * 100 + std::stoll(amount.substr(dot + 1));
    };
    long long total = 0;
    auto check = [&](const Poco::JSON::Object::Ptr& part) {
        long long sum = 0;
        const auto list = part->getArray("jurisdictions");
        for (std::size_t i = 0; i < list->size(); ++i) {
            sum += cents(list->getObject(static_cast<unsigned>(i))->getValue<std::string>("tax"));
        }
        BOOST_TEST(cents(part->getValue<std::string>("tax")) == sum);
        total += sum;
    };
    for (std::size_t i = 0; i < lines->size(); ++i) {
        BOOST_TEST(lines->getObject(static_cast<unsigned>(i))->getValue<std::string>("line_id") ==
                   std::to_string(i + 1));
        check(lines->getObject(static_cast<unsigned>(i)));
    }
    check(result->getObject("shipping"));
    BOOST_TEST(cents(result->getValue<std::string>("total_tax")) == total);
    return result;
}

std::string lineLevies(const Poco::JSON::Object::Ptr& result, unsigned line) {
    return levies(result->getArray("lines")->getObject(line));
}

struct Case {
    std::string name{};
    Request request{};
    std::string levies{};  // of the first line
    std::string total{};
};

std::ostream& operator<<(std::ostream& out, const Case& c) {
    return out << c.name;
}

Request us(std::string region, std::string zip, std::string amount, std::string tax_class = "") {
    Request r;
    r.region = std::move(region);
    r.postal_code = std::move(zip);
    r.lines = {{std::move(tax_class), std::move(amount)}};
    return r;
}

Request eu(std::string country, std::string amount, std::string tax_class) {
    Request r;
    r.country = std::move(country);
    r.currency = "EUR";
    r.lines = {{std::move(tax_class), std::move(amount)}};
    return r;
}

const std::vector<Case> kUsCases = {
    {"state only (no ZIP)", us("IL", "", "100.00"), "US-IL=6.25", "6.25"},
    {"ZIP with county, city and special", us("IL", "60601", "100.00"),
     "US-IL=6.25,US-IL-COOK=1.75,US-IL-CHICAGO=1.25,US-IL-RTA=1.00", "10.25"},
    {"ZIP+4", us("IL", "60601-1234", "39.98"), "US-IL=2.50,US-IL-COOK=0.70,US-IL-CHICAGO=0.50,US-IL-RTA=0.40", "4.10"},
    {"ZIP without region", us("", "62701", "10.00"), "US-IL=0.63,US-IL-SANGAMON=0.10,US-IL-SPRINGFIELD=0.25", "0.98"},
    {"unknown ZIP falls back to the state", us("IL", "60999", "100.00"), "US-IL=6.25", "6.25"},
    {"Oregon has no sales tax", us("OR", "97201", "100.00"), "US-OR=0.00", "0.00"},
    {"California county", us("CA", "94103", "39.98"), "US-CA=2.90,US-CA-SF=0.55", "3.45"},
    {"New York City", us("NY", "10001", "100.00"), "US-NY=4.00,US-NY-NYC=4.50,US-NY-MCTD=0.38", "8.88"},
    {"Illinois reduced (class_rates.csv)", us("IL", "", "100.00", "reduced"), "US-IL=1.00", "1.00"},
    {"reduced without a reduced rate pays standard", us("TX", "78701", "100.00", "reduced"),
     "US-TX=6.25,US-TX-AUSTIN=1.00,US-TX-CMTA=1.00", "8.25"},
    {"a class of class_rates.csv", us("NY", "10001", "50.00", "clothing"), "US-NY=0.00,US-NY-NYC=0.00,US-NY-MCTD=0.19",
     "0.19"},
    {"exempt class", us("IL", "60601", "100.00", "exempt"), "", "0.00"},
};

const std::vector<Case> kEuCases = {
    {"DE standard", eu("DE", "100.00", "standard"), "DE=19.00", "19.00"},
    {"DE empty class is standard", eu("DE", "100.00", ""), "DE=19.00", "19.00"},
    {"DE reduced", eu("DE", "100.00", "reduced"), "DE=7.00", "7.00"},
    {"FR reduced 5.5%", eu("FR", "100.00", "reduced"), "FR=5.50", "5.50"},
    {"FI standard 25.5%", eu("FI", "10.00", "standard"), "FI=2.55", "2.55"},
    {"DK has no reduced rate", eu("DK", "100.00", "reduced"), "DK=25.00", "25.00"},
    {"IE reduced 13.5% rounds half up", eu("IE", "0.10", "reduced"), "IE=0.01", "0.01"},
    {"DE exempt", eu("DE", "100.00", "exempt"), "", "0.00"},
};

}  // namespace

BOOST_AUTO_TEST_CASE(entry_describes_a_tax_plugin) {
    const auto& api = pluginApi();
    BOOST_TEST(api.size == sizeof(keel_plugin_api));
    BOOST_TEST(api.abi_major == KEEL_PLUGIN_ABI_MAJOR);
    BOOST_TEST(std::string(api.name) == "tax-table");
    BOOST_TEST(api.capabilities == KEEL_CAP_TAX);
    BOOST_TEST_REQUIRE(api.tax != nullptr);
    BOOST_TEST(api.tax->size == sizeof(keel_tax_v1));
    BOOST_TEST(api.marketplace == nullptr);
    BOOST_TEST(api.subscriber == nullptr);
}

BOOST_DATA_TEST_CASE(us_sales_tax, bdata::make(kUsCases), c) {
    const Poco::JSON::Object::Ptr result = quoteOk(c.request);
    BOOST_TEST(lineLevies(result, 0) == c.levies);
    BOOST_TEST(result->getValue<std::string>("total_tax") == c.total);
}

BOOST_DATA_TEST_CASE(eu_vat, bdata::make(kEuCases), c) {
    const Poco::JSON::Object::Ptr result = quoteOk(c.request);
    BOOST_TEST(lineLevies(result, 0) == c.levies);
    BOOST_TEST(result->getValue<std::string>("total_tax") == c.total);
    BOOST_TEST(result->getValue<std::string>("currency") == "EUR");
}

BOOST_AUTO_TEST_CASE(rates_are_exact_decimal_strings) {
    const auto result = quoteOk(us("IL", "60601", "39.98"));
    const auto j = result->getArray("lines")->getObject(0)->getArray("jurisdictions");
    BOOST_TEST(j->getObject(0)->getValue<std::string>("rate") == "0.0625");
    BOOST_TEST(j->getObject(0)->getValue<std::string>("name") == "Illinois");
    BOOST_TEST(j->getObject(1)->getValue<std::string>("rate") == "0.0175");
    BOOST_TEST(j->getObject(1)->getValue<std::string>("name") == "Cook County");
    BOOST_TEST(result->isNull("exemption"));
}

BOOST_AUTO_TEST_CASE(shipping_is_taxed_where_the_jurisdiction_says_so) {
    auto ny = us("NY", "10001", "100.00");
    ny.shipping = "10.00";
    const auto taxed = quoteOk(ny);
    BOOST_TEST(levies(taxed->getObject("shipping")) == "US-NY=0.40,US-NY-NYC=0.45,US-NY-MCTD=0.04");
    BOOST_TEST(taxed->getObject("shipping")->getValue<std::string>("tax") == "0.89");
    // Document rounding per jurisdiction: 4.40 + 4.95 + 0.41 (0.4125); the MCTD's cent goes to the shipping, whose
    // remainder (0.0375 -> .75) is larger than the line's (0.375 -> .5).
    BOOST_TEST(taxed->getValue<std::string>("total_tax") == "9.76");
    BOOST_TEST(lineLevies(taxed, 0) == "US-NY=4.00,US-NY-NYC=4.50,US-NY-MCTD=0.37");

    auto il = us("IL", "60601", "100.00");
    il.shipping = "10.00";
    il.lines.push_back({"shipping", "5.00"});  // a shipping line follows the same rule
    const auto untaxed = quoteOk(il);
    BOOST_TEST(levies(untaxed->getObject("shipping")) == "");
    BOOST_TEST(untaxed->getObject("shipping")->getValue<std::string>("tax") == "0.00");
    BOOST_TEST(lineLevies(untaxed, 1) == "");
    BOOST_TEST(untaxed->getValue<std::string>("total_tax") == "10.25");

    auto de = eu("DE", "100.00", "standard");
    de.shipping = "4.90";
    BOOST_TEST(levies(quoteOk(de)->getObject("shipping")) == "DE=0.93");
}

BOOST_AUTO_TEST_CASE(exemption_certificates_apply_within_their_validity) {
    auto request = us("IL", "60601", "100.00");
    request.customer = "C-RESALE-IL";
    const auto exempt = quoteOk(request);
    BOOST_TEST(exempt->getValue<std::string>("total_tax") == "0.00");
    BOOST_TEST(lineLevies(exempt, 0) == "");  // US-IL covers Cook County, Chicago and the RTA too
    BOOST_TEST_REQUIRE(!exempt->isNull("exemption"));
    BOOST_TEST(exempt->getObject("exemption")->getValue<std::string>("certificate") == "IL-RESALE-2026-0042");
    BOOST_TEST(exempt->getObject("exemption")->getValue<std::string>("jurisdiction") == "US-IL");

    request.date = "2027-01-01";  // the day after valid_to
    const auto after = quoteOk(request);
    BOOST_TEST(after->getValue<std::string>("total_tax") == "10.25");
    BOOST_TEST(after->isNull("exemption"));

    request.date = "2026-12-31";  // valid_to is inclusive
    BOOST_TEST(quoteOk(request)->getValue<std::string>("total_tax") == "0.00");

    auto expired = us("IL", "", "100.00");
    expired.customer = "C-EXPIRED";
    BOOST_TEST(quoteOk(expired)->getValue<std::string>("total_tax") == "6.25");
    BOOST_TEST(quoteOk(expired)->isNull("exemption"));

    auto elsewhere = us("NY", "10001", "100.00");  // an Illinois certificate does not cover New York
    elsewhere.customer = "C-RESALE-IL";
    BOOST_TEST(quoteOk(elsewhere)->getValue<std::string>("total_tax") == "8.88");

    auto country_wide = us("TX", "78701", "100.00");
    country_wide.customer = "C-RESALE-US";
    const auto us_exempt = quoteOk(country_wide);
    BOOST_TEST(us_exempt->getValue<std::string>("total_tax") == "0.00");
    BOOST_TEST(us_exempt->getObject("exemption")->getValue<std::string>("jurisdiction") == "US");
}

BOOST_AUTO_TEST_CASE(line_and_document_rounding_differ) {
    // Three lines of 0.10 at 6.25%: 0.00625 each. Illinois rounds each line (0.01 x 3 = 0.03); Texas rounds the
    // document (0.01875 -> 0.02) and spreads it by largest remainder, ties to the earlier line.
    auto il = us("IL", "", "0.10");
    il.lines = {{"", "0.10"}, {"", "0.10"}, {"", "0.10"}};
    const auto line = quoteOk(il);
    BOOST_TEST(line->getValue<std::string>("total_tax") == "0.03");

    auto tx = il;
    tx.region = "TX";
    const auto document = quoteOk(tx);
    BOOST_TEST(document->getValue<std::string>("total_tax") == "0.02");
    BOOST_TEST(lineLevies(document, 0) == "US-TX=0.01");
    BOOST_TEST(lineLevies(document, 1) == "US-TX=0.01");
    BOOST_TEST(lineLevies(document, 2) == "US-TX=0.00");

    // Largest remainder, not request order: 0.0625 x (0.10, 0.07, 0.09) = 0.625, 0.4375 and 0.5625 cents; the
    // document's 1.625 cents round to 2, which go to the two largest remainders (the first and the third line).
    tx.lines = {{"", "0.10"}, {"", "0.07"}, {"", "0.09"}};
    const auto spread = quoteOk(tx);
    BOOST_TEST(spread->getValue<std::string>("total_tax") == "0.02");
    BOOST_TEST(lineLevies(spread, 0) == "US-TX=0.01");
    BOOST_TEST(lineLevies(spread, 1) == "US-TX=0.00");
    BOOST_TEST(lineLevies(spread, 2) == "US-TX=0.01");
}

struct BadRequest {
    std::string name{};
    std::string json{};
    keel_status status = KEEL_E_INVALID;
    std::string message{};
};

std::ostream& operator<<(std::ostream& out, const BadRequest& b) {
    return out << b.name;
}

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, from);
    return text.replace(at, from.size(), to);
}

Request twoLines() {
    auto r = us("IL", "60601", "10.00");
    r.lines.push_back({"", "20.00"});
    return r;
}

const std::vector<BadRequest> kBadRequests = {
    {"not JSON", "{\"type\":", KEEL_E_INVALID, "request: is not JSON"},
    {"bad amount", replaced(twoLines().json(), "\"20.00\"", "\"12.3x\""), KEEL_E_INVALID,
     "lines[1].amount: \"12.3x\" is not a decimal amount"},
    {"too many decimals", replaced(twoLines().json(), "\"20.00\"", "\"1.234\""), KEEL_E_INVALID,
     "lines[1].amount: \"1.234\" is not a decimal amount (has more than 2 decimals)"},
    {"negative amount", replaced(twoLines().json(), "\"10.00\"", "\"-1.00\""), KEEL_E_INVALID, "lines[0].amount:"},
    {"amount as a number", replaced(twoLines().json(), "\"10.00\"", "10.0"), KEEL_E_INVALID,
     "lines[0].amount: must be a string"},
    {"missing amount", replaced(twoLines().json(), ",\"amount\":\"10.00\"", ""), KEEL_E_INVALID,
     "lines[0].amount: is required"},
    {"wrong type", replaced(twoLines().json(), "tax_request", "order"), KEEL_E_INVALID, "type: must be"},
    {"bad date", replaced(twoLines().json(), "2026-11-26", "2026-02-30"), KEEL_E_INVALID,
     "date: \"2026-02-30\" is not a date"},
    {"unknown tax class", replaced(twoLines().json(), "\"tax_class\":\"\"", "\"tax_class\":\"luxury\""), KEEL_E_INVALID,
     "lines[0].tax_class: \"luxury\" is not a tax class"},
    {"duplicate line id", replaced(twoLines().json(), "\"line_id\":\"2\"", "\"line_id\":\"1\""), KEEL_E_INVALID,
     "lines[1].line_id: \"1\" is used twice"},
    {"no exponent", replaced(twoLines().json(), "\"currency_exponent\":2,", ""), KEEL_E_INVALID,
     "currency_exponent: is required"},
    {"no ship_to", replaced(replaced(twoLines().json(), "\"ship_to\"", "\"shipto\""), "", ""), KEEL_E_INVALID,
     "ship_to: is required"},
    {"ZIP in another state", replaced(twoLines().json(), "\"region\":\"IL\"", "\"region\":\"CA\""), KEEL_E_INVALID,
     "ship_to.postal_code: ZIP 60601 is in IL but ship_to.region is CA"},
    {"not a ZIP", replaced(twoLines().json(), "60601", "6060A"), KEEL_E_INVALID,
     "ship_to.postal_code: \"6060A\" is not a US ZIP code"},
    {"no region and unknown ZIP", us("", "60999", "1.00").json(), KEEL_E_INVALID, "ship_to.region: is required"},
    {"state without a table", us("WA", "", "1.00").json(), KEEL_E_NOT_FOUND, "ship_to.region: \"WA\""},
    {"country without a table", eu("JP", "1.00", "").json(), KEEL_E_NOT_FOUND, "ship_to.country: \"JP\""},
    {"bad shipping", replaced(twoLines().json(), "]}", "],\"shipping\":{\"amount\":\"x\"}}"), KEEL_E_INVALID,
     "shipping.amount: \"x\" is not a decimal amount"},
};

}  // namespace

BOOST_DATA_TEST_CASE(malformed_requests_name_the_field, bdata::make(kBadRequests), bad) {
    const auto outcome = shared().quote(bad.json);
    BOOST_TEST(outcome.status == bad.status, bad.name << ": " << outcome.text);
    BOOST_TEST(outcome.text.find(bad.message) != std::string::npos,
               "'" << outcome.text << "' lacks '" << bad.message << "'");
}

BOOST_AUTO_TEST_CASE(a_broken_table_stops_the_instance_naming_file_line_and_column) {
    keel::test::TempDir dir;
    Poco::File(kTables + "/jurisdictions.csv").copyTo(dir.path);
    {
        std::ofstream zip(dir.path + "/us_states.csv");
        zip << "# comment\nstate,rate\nIL,0.0625\nTX,0.06x5\n";
    }
    const Instance broken({{"tables", dir.path}});
    BOOST_TEST(broken.createStatus() == KEEL_E_INVALID);
    BOOST_TEST(broken.createError().find(dir.path + "/us_states.csv:4: column 'rate': \"0.06x5\"") != std::string::npos,
               broken.createError());

    {
        std::ofstream zip(dir.path + "/us_states.csv");
        zip << "state,rate\nWA,0.065\n";
    }
    const Instance undeclared({{"tables", dir.path}});
    BOOST_TEST(undeclared.createError().find(
                   "us_states.csv:2: column 'state': jurisdiction \"US-WA\" is not declared") != std::string::npos,
               undeclared.createError());

    const Instance missing({{"tables", dir.path + "/nowhere"}});
    BOOST_TEST(missing.createStatus() == KEEL_E_INVALID);
    BOOST_TEST(missing.createError().find("nowhere: the tax table directory does not exist") != std::string::npos,
               missing.createError());
}

BOOST_AUTO_TEST_CASE(commit_and_void_are_journaled_when_configured) {
    keel::test::TempDir dir;
    const Instance journaled({{"tables", kTables}, {"journal", dir.path}});
    const auto& tax = *pluginApi().tax;
    const auto quoted = journaled.quote(us("IL", "60601", "100.00").json());
    BOOST_TEST_REQUIRE(quoted.status == KEEL_OK);
    BOOST_TEST(journaled.call(tax.commit, R"({"document_id":"INV-1","tax_result":)" + quoted.text + "}").status ==
               KEEL_OK);
    BOOST_TEST(journaled.call(tax.void_, R"({"document_id":"INV-1"})").status == KEEL_OK);
    const auto bad = journaled.call(tax.commit, R"({"tax_result":{}})");
    BOOST_TEST(bad.status == KEEL_E_INVALID);
    BOOST_TEST(bad.text.find("document_id: is required") != std::string::npos, bad.text);

    std::ifstream in(dir.path + "/tax-journal.csv");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    BOOST_TEST_REQUIRE(lines.size() == 3u);
    BOOST_TEST(lines[0] == "recorded_at,action,document_id,total_tax");
    BOOST_TEST(lines[1].find(",commit,INV-1,10.25") != std::string::npos, lines[1]);
    BOOST_TEST(lines[2].find(",void,INV-1,") != std::string::npos, lines[2]);

    // Without a journal, commit and void succeed and record nothing.
    BOOST_TEST(shared().call(tax.commit, R"({"document_id":"INV-2","tax_result":{}})").status == KEEL_OK);
}
