#define BOOST_TEST_MODULE pricing
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include "test_database.h"

#include "../../modules/cli/commands_pricing.h"
#include "keel/catalog/catalog.h"
#include "keel/db/migrations.h"
#include "keel/kernel/config.h"
#include "keel/kernel/error.h"
#include "keel/pricing/customers.h"
#include "keel/pricing/import.h"
#include "keel/pricing/price_book.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

using namespace keel;
using namespace keel::pricing;

// Every case runs on the backend named by KEEL_TEST_BACKEND; CTest registers this executable once per backend.
namespace {

constexpr std::int64_t kNow = 1'795'651'200'000'000;  // 2026-11-26T00:00:00Z

struct Run {
    int code;
    std::string out;
    std::string err;
};

const std::string kPriceHeader = "price_list,sku,unit_price,min_quantity,valid_from,valid_to,currency\n";
const std::string kContractHeader = "customer,sku,unit_price,currency,min_quantity,valid_from,valid_to\n";
const std::string kCustomerHeader = "code,name,email,kind,credit_limit,currency,price_list\n";

// A migrated database with two items and a frozen clock. Same body on every backend.
struct Prices {
    test::TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{kNow};
    catalog::Catalog catalog{clock};
    PricingCsv csv{clock};
    Customers customers{clock};
    std::string sku1;
    std::string sku2;

    Prices() {
        db::Migrator(db).migrate();
        sku1 = item("SKU-1");
        sku2 = item("SKU-2");
    }

    std::string item(const std::string& sku) {
        catalog::Item i;
        i.sku = sku;
        i.name = "Item " + sku;
        return db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, i); });
    }

    ImportReport prices(const std::string& text, bool dry_run = false) {
        std::istringstream in(text);
        ImportOptions options;
        options.dry_run = dry_run;
        return csv.importPrices(db, in, "prices.csv", options);
    }
    ImportReport contracts(const std::string& text) {
        std::istringstream in(text);
        return csv.importContracts(db, in, "contracts.csv");
    }
    ImportReport customerFile(const std::string& text, const Currency& fallback = Currency::of("EUR")) {
        std::istringstream in(text);
        return csv.importCustomers(db, in, "customers.csv", fallback);
    }

    std::int64_t count(const std::string& table) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement("SELECT COUNT(*) FROM " + table);
            s.execute();
            std::int64_t n = -1;
            while (s.next()) n = s.getInt64(0);
            return n;
        });
    }

    // Every row of the pricing tables, to prove that a refused import wrote nothing.
    std::string snapshot() {
        return db.run([&](db::UnitOfWork& uow) {
            std::vector<std::string> rows;
            auto dump = [&](const std::string& sql) {
                db::Statement& s = uow.statement(sql);
                s.execute();
                while (s.next()) {
                    std::string row;
                    for (std::size_t c = 0; c < s.columnCount(); ++c) {
                        row += (s.isNull(c) ? std::string("NULL") : s.getString(c)) + "|";
                    }
                    rows.push_back(row);
                }
            };
            dump("SELECT code, currency, updated_at FROM price_list");
            dump(
                "SELECT id, price_list_code, item_id, min_quantity, unit_price, valid_from, valid_to, updated_at "
                "FROM price_entry");
            dump(
                "SELECT id, customer_id, item_id, currency, min_quantity, unit_price, valid_from, valid_to, "
                "updated_at FROM contract_price");
            dump("SELECT id, code, name, email, kind, credit_limit, currency, price_list, updated_at FROM customer");
            std::sort(rows.begin(), rows.end());
            std::string all;
            for (const auto& row : rows) all += row + "\n";
            return all;
        });
    }

    // The stored entry of a list for SKU-1/SKU-2: "unit_price min_quantity valid_from valid_to".
    std::vector<std::string> entries(const std::string& list, const std::string& item_id) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement(
                "SELECT unit_price, min_quantity, valid_from, valid_to FROM price_entry WHERE price_list_code = ? "
                "AND item_id = ? ORDER BY min_quantity, valid_from");
            s.bindAll(list, item_id).execute();
            std::vector<std::string> rows;
            while (s.next()) {
                rows.push_back(std::to_string(s.getInt64(0)) + " " + std::to_string(s.getInt64(1)) + " " +
                               std::to_string(s.getInt64(2)) + " " +
                               (s.isNull(3) ? std::string("open") : std::to_string(s.getInt64(3))));
            }
            return rows;
        });
    }

    std::optional<PriceMatch> price(const std::string& item_id, std::int64_t quantity, int ymd,
                                    const std::string& customer_code = "", const std::string& currency = "USD",
                                    const std::string& default_list = "RETAIL") {
        const PriceBook book(default_list);
        return db.run([&](db::UnitOfWork& uow) {
            orders::PriceQuery query;
            query.item_id = item_id;
            query.quantity = quantity;
            query.date = Date::fromYmd(ymd);
            query.currency = &Currency::of(currency);
            if (!customer_code.empty()) {
                const Customer customer = customers.requireByCode(uow, customer_code);
                query.customer_id = customer.id;
                query.customer_code = customer.code;
                query.price_list = customer.price_list;
            }
            return book.find(uow, query);
        });
    }

    // "19.99 USD price_list:RETAIL" or "none".
    std::string priced(const std::string& item_id, std::int64_t quantity, int ymd,
                       const std::string& customer_code = "", const std::string& currency = "USD",
                       const std::string& default_list = "RETAIL") {
        const auto match = price(item_id, quantity, ymd, customer_code, currency, default_list);
        if (!match) return "none";
        return match->price.unit_price.toString() + " " + std::string(match->price.unit_price.currency().code()) + " " +
               match->price.source;
    }

    // The price lists, contract prices and customers the lookup tests use.
    void loadScenario() {
        const auto lists = prices(kPriceHeader +
                                  "RETAIL,SKU-1,19.99,,,,USD\n"
                                  "RETAIL,SKU-1,17.50,10,,,\n"
                                  "RETAIL,SKU-1,15.00,1,2027-12-01,2027-12-31,\n"
                                  "WHOLESALE,SKU-1,12.00,,,,USD\n"
                                  "EU,SKU-1,18.00,,,,EUR\n");
        BOOST_TEST_REQUIRE(lists.ok(), problemsOf(lists));
        const auto people = customerFile(kCustomerHeader +
                                         "ACME,Acme Corp,buyer@acme.example,b2b,5000.00,USD,WHOLESALE\n"
                                         "ANN,Ann Lee,ann@example.com,b2c,,USD,\n");
        BOOST_TEST_REQUIRE(people.ok(), problemsOf(people));
        const auto deals = contracts(kContractHeader +
                                     "ACME,SKU-1,9.00,USD,50,2027-01-01,2027-06-30\n"
                                     "ACME,SKU-1,8.00,EUR,,,\n");
        BOOST_TEST_REQUIRE(deals.ok(), problemsOf(deals));
    }

    static std::string problemsOf(const ImportReport& report) {
        std::string text;
        for (const auto& p : report.problems) text += std::string(p.what()) + "\n";
        return text;
    }

    // Runs one pricing command (the table of commands_pricing.cpp) as `keel --db ... ARGS` would.
    Run keel(const std::vector<std::string>& args, bool json = false) {
        std::vector<cli::Command> table;
        cli::addPricingCommands(table);
        const cli::Command* command = nullptr;
        for (const auto& c : table) {
            if (args.size() >= c.words.size() && std::equal(c.words.begin(), c.words.end(), args.begin())) {
                command = &c;
            }
        }
        BOOST_TEST_REQUIRE(command != nullptr, "no pricing command " << args.front());
        config::Sources sources;
        sources.system_dir = "/nonexistent/etc/keel";
        sources.overrides = {{"db.connection", test.connectionString()}, {"pricing.default_list", "RETAIL"}};
        std::ostringstream out;
        std::ostringstream err;
        cli::Context context(config::load(sources), json, out, err);
        int code = 0;
        try {
            code = command->run(
                context, std::vector<std::string>(args.begin() + static_cast<std::ptrdiff_t>(command->words.size()),
                                                  args.end()));
        } catch (const Error& e) {  // what cli::run does with it
            code = static_cast<int>(e.code());
            err << "keel: " << e.what() << "\n";
        }
        return {code, out.str(), err.str()};
    }

    test::TempDir dir;
    std::string file(const std::string& name, const std::string& content) {
        const std::string path = dir.path + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
};

// "line column" pairs of a report's problems, in order.
std::vector<std::string> placesOf(const ImportReport& report) {
    std::vector<std::string> places;
    for (const auto& p : report.problems) places.push_back(std::to_string(p.line()) + " " + p.column());
    return places;
}

Poco::JSON::Object::Ptr json(const std::string& text) {
    return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(price_lists, Prices)

BOOST_AUTO_TEST_CASE(a_good_file_creates_lists_and_entries_in_their_currencies) {
    const auto report = prices(kPriceHeader +
                               "RETAIL,SKU-1,19.99,,,,USD\n"
                               "RETAIL,SKU-1,17.50,10,,,\n"
                               "RETAIL,SKU-2,5.00,1,2027-01-01,2027-12-31,USD\n"
                               "EU,SKU-1,18.00,,,,EUR\n"
                               "JP,SKU-1,2500,,,,JPY\n"
                               "KW,SKU-1,1.234,,,,KWD\n");
    BOOST_TEST_REQUIRE(report.ok(), problemsOf(report));
    BOOST_TEST(report.rows == 6u);
    BOOST_TEST(report.created == 6u);
    BOOST_TEST(report.updated == 0u);
    BOOST_TEST(count("price_list") == 4);
    BOOST_TEST(count("price_entry") == 6);
    BOOST_TEST(entries("RETAIL", sku1) == (std::vector<std::string>{"1999 1 19000101 open", "1750 10 19000101 open"}));
    BOOST_TEST(entries("RETAIL", sku2) == (std::vector<std::string>{"500 1 20270101 20271231"}));
    BOOST_TEST(entries("JP", sku1) == (std::vector<std::string>{"2500 1 19000101 open"}));
    BOOST_TEST(entries("KW", sku1) == (std::vector<std::string>{"1234 1 19000101 open"}));
    const std::string currencies = db.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT code, currency, name FROM price_list ORDER BY code");
        s.execute();
        std::string text;
        while (s.next()) text += s.getString(0) + "=" + s.getString(1) + "(" + s.getString(2) + ") ";
        return text;
    });
    BOOST_TEST(currencies == "EU=EUR(EU) JP=JPY(JP) KW=KWD(KW) RETAIL=USD(RETAIL) ");
}

BOOST_AUTO_TEST_CASE(importing_again_replaces_prices_by_their_identity) {
    BOOST_TEST_REQUIRE(prices(kPriceHeader + "RETAIL,SKU-1,19.99,,,,USD\nRETAIL,SKU-1,17.50,10,,,\n").ok());
    const auto same = prices(kPriceHeader + "RETAIL,SKU-1,19.99,,,,USD\nRETAIL,SKU-1,17.50,10,,,\n");
    BOOST_TEST(same.unchanged == 2u);
    BOOST_TEST(same.created + same.updated == 0u);

    // Same (list, sku, min_quantity, valid_from): the price and valid_to change in place. Another valid_from is
    // another price. The list's currency may be repeated, never changed.
    const auto changed = prices(kPriceHeader +
                                "RETAIL,SKU-1,21.00,1,,,USD\n"
                                "RETAIL,SKU-1,17.50,10,,2027-06-30,\n"
                                "RETAIL,SKU-1,16.00,10,2027-07-01,,\n");
    BOOST_TEST_REQUIRE(changed.ok(), problemsOf(changed));
    BOOST_TEST(changed.updated == 2u);
    BOOST_TEST(changed.created == 1u);
    BOOST_TEST(changed.unchanged == 0u);
    BOOST_TEST(entries("RETAIL", sku1) == (std::vector<std::string>{"2100 1 19000101 open", "1750 10 19000101 20270630",
                                                                    "1600 10 20270701 open"}));
    BOOST_TEST(count("price_entry") == 3);
}

BOOST_AUTO_TEST_CASE(a_dry_run_checks_and_counts_but_writes_nothing) {
    const auto report = prices(kPriceHeader + "RETAIL,SKU-1,19.99,,,,USD\n", true);
    BOOST_TEST_REQUIRE(report.ok());
    BOOST_TEST(report.dry_run);
    BOOST_TEST(report.created == 1u);
    BOOST_TEST(count("price_list") == 0);
    BOOST_TEST(count("price_entry") == 0);
}

BOOST_AUTO_TEST_CASE(a_bad_file_reports_every_problem_with_line_and_column_and_writes_nothing) {
    BOOST_TEST_REQUIRE(prices(kPriceHeader + "RETAIL,SKU-1,19.99,,,,USD\n").ok());
    const std::string before = snapshot();
    const auto report = prices(kPriceHeader +
                               "RETAIL,SKU-2,4.99,,,,\n"                       // 2 good
                               "RETAIL,NOPE,1.00,,,,\n"                        // 3 unknown SKU
                               "RETAIL,SKU-2,\"12,50\",2,,,\n"                 // 4 bad decimal
                               "RETAIL,SKU-2,19.995,3,,,\n"                    // 5 too many decimals for USD
                               "RETAIL,SKU-2,-1.00,4,,,\n"                     // 6 negative
                               "RETAIL,SKU-2,1.00,0,,,\n"                      // 7 min_quantity 0
                               "RETAIL,SKU-2,1.00,5,2027-02-01,2027-01-31,\n"  // 8 valid_from after valid_to
                               "NEW,SKU-2,1.00,,,,XYZ\n"                       // 9 unknown currency
                               "RETAIL,SKU-2,1.00,6,,,EUR\n"                   // 10 the list's currency changes
                               "RETAIL,SKU-2,4.99,,,,\n"                       // 11 the same price as line 2
                               "NOCUR,SKU-1,1.00,,,,\n"                        // 12 a new list without currency
                               "RETAIL,SKU-2,1.00,7,2027-02-30,,\n"            // 13 not a day
                               "JP,SKU-1,10.5,,,,JPY\n"                        // 14 yen have no decimals
                               "BAD LIST,SKU-1,1.00,,,,USD\n"                  // 15 a code with a space
                               "RETAIL,SKU-2,1.00,abc,,,\n");                  // 16 min_quantity not a number
    BOOST_TEST(!report.ok());
    BOOST_TEST(report.rows == 15u);
    BOOST_TEST(placesOf(report) ==
                   (std::vector<std::string>{"3 sku", "4 unit_price", "5 unit_price", "6 unit_price", "7 min_quantity",
                                             "8 valid_to", "9 currency", "10 currency", "11 sku", "12 currency",
                                             "13 valid_from", "14 unit_price", "15 price_list", "16 min_quantity"}),
               problemsOf(report));
    const std::vector<std::string> expected = {
        "prices.csv:3: column 'sku': 'NOPE' is not in the item master; import the item first (keel item import)",
        "prices.csv:4: column 'unit_price': invalid decimal '12,50': unexpected character ',' at position 3; "
        "expected [+|-]digits[.digits] without spaces, separators or exponent",
        "prices.csv:5: column 'unit_price': '19.995' has 3 decimal places, but USD amounts have 2 decimal places; "
        "write the exact amount (Keel never rounds a price)",
        "prices.csv:6: column 'unit_price': '-1.00' is negative; prices and credit limits are amounts of 0 or more",
        "prices.csv:7: column 'min_quantity': 0 is less than 1; min_quantity is the quantity in base units from "
        "which the price applies (1 for the price of a single unit)",
        "prices.csv:8: column 'valid_to': 2027-01-31 is before valid_from 2027-02-01; a price must be valid for at "
        "least one day (both dates are included)",
        "prices.csv:9: column 'currency': 'XYZ' is not an ISO 4217 currency code; write three capital letters such "
        "as USD, EUR or JPY",
        "prices.csv:10: column 'currency': price list 'RETAIL' is in USD, and a list's currency never changes; put "
        "EUR prices in a list of their own",
        "prices.csv:11: column 'sku': the price of 'SKU-2' in list 'RETAIL' from quantity 1 and valid_from (none) "
        "is also on line 2; each price may appear once per file",
        "prices.csv:12: column 'currency': price list 'NOCUR' does not exist yet: give its currency (e.g. USD) in "
        "column 'currency' of at least one of its rows",
        "prices.csv:13: column 'valid_from': '2027-02-30' is not a day of the calendar",
        "prices.csv:14: column 'unit_price': '10.5' has 1 decimal place, but JPY amounts have 0 decimal places; "
        "write the exact amount (Keel never rounds a price)",
    };
    for (std::size_t i = 0; i < expected.size() && i < report.problems.size(); ++i) {
        BOOST_TEST(std::string(report.problems[i].what()) == expected[i]);
    }
    BOOST_TEST(report.problems[12].reason().find("at position 4") != std::string::npos, report.problems[12].what());
    BOOST_TEST(report.created + report.updated + report.unchanged == 0u);
    BOOST_TEST(snapshot() == before);
    BOOST_TEST(count("price_list") == 1);
}

BOOST_AUTO_TEST_CASE(structural_problems_and_headers) {
    auto only = [&](const std::string& text) {
        const auto report = prices(text);
        BOOST_TEST_REQUIRE(report.problems.size() == 1u, problemsOf(report));
        return std::string(report.problems.front().what());
    };
    BOOST_TEST(only("").find("the file is empty") != std::string::npos);
    BOOST_TEST(only("price_list,sku\n").find("unit_price") != std::string::npos);
    BOOST_TEST(only("price_list,sku,unit_price,colour\n").find("colour") != std::string::npos);
    BOOST_TEST(only(kPriceHeader + "RETAIL,SKU-1\n") == "prices.csv:2: the row has 2 fields, the header has 7");
    BOOST_TEST(count("price_list") == 0);
}

BOOST_AUTO_TEST_CASE(new_lists_take_one_currency_from_the_file) {
    // The currency of a new list may be given once; a second, different one is a problem naming the first line.
    const auto report = prices(kPriceHeader +
                               "NEW,SKU-1,1.00,,,,\n"
                               "NEW,SKU-2,2.00,,,,GBP\n"
                               "NEW,SKU-1,0.90,10,,,USD\n");
    BOOST_TEST_REQUIRE(report.problems.size() == 1u, problemsOf(report));
    BOOST_TEST(std::string(report.problems[0].what()) ==
               "prices.csv:4: column 'currency': new price list 'NEW' is created in GBP by line 3, and a list has one "
               "currency; put USD prices in a list of their own");
    const auto good = prices(kPriceHeader + "NEW,SKU-1,1.00,,,,\nNEW,SKU-2,2.00,,,,GBP\n");
    BOOST_TEST_REQUIRE(good.ok(), problemsOf(good));
    BOOST_TEST(entries("NEW", sku1) == (std::vector<std::string>{"100 1 19000101 open"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(contracts_and_customers, Prices)

BOOST_AUTO_TEST_CASE(customers_are_imported_with_defaults_and_exact_credit_limits) {
    const auto report = customerFile(kCustomerHeader +
                                     "ACME,Acme Corp,buyer@acme.example,b2b,5000.00,USD,\n"
                                     "ANN,Ann Lee,ann@example.com,,,,\n"
                                     "JPCO,Nippon KK,,b2b,1000000,JPY,\n");
    BOOST_TEST_REQUIRE(report.ok(), problemsOf(report));
    BOOST_TEST(report.created == 3u);
    db.run([&](db::UnitOfWork& uow) {
        const Customer acme = customers.requireByCode(uow, "ACME");
        BOOST_TEST(acme.name == "Acme Corp");
        BOOST_TEST(acme.email == "buyer@acme.example");
        BOOST_TEST((acme.kind == orders::CustomerKind::kB2B));
        BOOST_TEST(*acme.currency == Currency::of("USD"));
        BOOST_TEST_REQUIRE(acme.credit_limit.has_value());
        BOOST_TEST(acme.credit_limit->minor() == 500000);
        BOOST_TEST(acme.price_list.empty());
        BOOST_TEST(acme.created_at == kNow);
        const Customer ann = customers.requireByCode(uow, "ANN");
        BOOST_TEST((ann.kind == orders::CustomerKind::kB2C));
        BOOST_TEST(*ann.currency == Currency::of("EUR"));  // the importer's default
        BOOST_TEST(!ann.credit_limit.has_value());
        const Customer jp = customers.requireByCode(uow, "JPCO");
        BOOST_TEST((jp.credit_limit == Money(1000000, Currency::of("JPY"))));
        BOOST_TEST(jp.email.empty());
        BOOST_TEST(!customers.findByCode(uow, "NOBODY").has_value());
        BOOST_CHECK_THROW(customers.requireByCode(uow, "NOBODY"), NotFoundError);
    });

    // Unchanged rows are counted as such; a file without some columns leaves those fields alone.
    BOOST_TEST(customerFile(kCustomerHeader + "ACME,Acme Corp,buyer@acme.example,b2b,5000.00,USD,\n"
                                              "ANN,Ann Lee,ann@example.com,,,,\n")
                   .unchanged == 2u);
    clock.advance(1'000'000);
    const auto renamed = customerFile("code,name\nACME,Acme Corporation\n");
    BOOST_TEST_REQUIRE(renamed.ok(), problemsOf(renamed));
    BOOST_TEST(renamed.updated == 1u);
    db.run([&](db::UnitOfWork& uow) {
        const Customer acme = customers.requireByCode(uow, "ACME");
        BOOST_TEST(acme.name == "Acme Corporation");
        BOOST_TEST(acme.email == "buyer@acme.example");
        BOOST_TEST((acme.kind == orders::CustomerKind::kB2B));
        BOOST_TEST(acme.credit_limit->minor() == 500000);
        BOOST_TEST(acme.updated_at == kNow + 1'000'000);
        BOOST_TEST(acme.created_at == kNow);
    });
    BOOST_TEST(count("customer") == 3);
}

BOOST_AUTO_TEST_CASE(a_bad_customer_file_writes_nothing) {
    BOOST_TEST_REQUIRE(prices(kPriceHeader + "WHOLESALE,SKU-1,12.00,,,,USD\n").ok());
    BOOST_TEST_REQUIRE(customerFile(kCustomerHeader + "ACME,Acme Corp,,b2b,5000.00,USD,WHOLESALE\n").ok());
    const std::string before = snapshot();
    const auto report = customerFile(kCustomerHeader +
                                     "NEW1,New One,,b2b,100.00,USD,WHOLESALE\n"  // 2 good
                                     "NEW2,New Two,,retail,,,\n"                 // 3 bad kind
                                     "NEW3,New Three,not-an-address,,,,\n"       // 4 bad email
                                     "NEW4,New Four,,,,,NOPE\n"                  // 5 unknown price list
                                     "NEW5,New Five,,,1000.5,JPY,\n"             // 6 decimals for yen
                                     "NEW6,New Six,,,-5,,\n"                     // 7 negative limit
                                     "NEW1,Again,,,,,\n"                         // 8 duplicate code
                                     "NEW7,New Seven,,,,ABC,\n"                  // 9 unknown currency
                                     "NEW 8,New Eight,,,,,\n"                    // 10 a code with a space
                                     "NEW9,,,,,,\n");                            // 11 no name
    BOOST_TEST(
        placesOf(report) == (std::vector<std::string>{"3 kind", "4 email", "5 price_list", "6 credit_limit",
                                                      "7 credit_limit", "8 code", "9 currency", "10 code", "11 name"}),
        problemsOf(report));
    BOOST_TEST(std::string(report.problems[0].what()) ==
               "customers.csv:3: column 'kind': 'retail' is not a customer kind; use b2c or b2b");
    BOOST_TEST(std::string(report.problems[2].what()) ==
               "customers.csv:5: column 'price_list': price list 'NOPE' does not exist; import its prices first (keel "
               "price import) or leave the cell empty for the default list");
    BOOST_TEST(std::string(report.problems[3].what()) ==
               "customers.csv:6: column 'credit_limit': '1000.5' has 1 decimal place, but JPY amounts have 0 decimal "
               "places; write the exact amount (Keel never rounds a price)");
    BOOST_TEST(std::string(report.problems[5].what()) ==
               "customers.csv:8: column 'code': 'NEW1' is also on line 2; each customer code may appear once per file");
    BOOST_TEST(report.created + report.updated + report.unchanged == 0u);
    BOOST_TEST(snapshot() == before);

    // A new currency would change what the stored credit limit means: the file must give the limit too.
    const auto currency_only = customerFile("code,name,currency\nACME,Acme Corp,EUR\n");
    BOOST_TEST_REQUIRE(currency_only.problems.size() == 1u, problemsOf(currency_only));
    BOOST_TEST(currency_only.problems[0].column() == "currency");
    BOOST_TEST(currency_only.problems[0].reason().find("credit limit of 5000.00 USD") != std::string::npos);
    BOOST_TEST(snapshot() == before);
    const auto with_limit = customerFile("code,name,currency,credit_limit\nACME,Acme Corp,EUR,4600.00\n");
    BOOST_TEST_REQUIRE(with_limit.ok(), problemsOf(with_limit));
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return *customers.requireByCode(uow, "ACME").credit_limit; }) ==
               Money(460000, Currency::of("EUR")));
}

BOOST_AUTO_TEST_CASE(contract_prices_need_known_customers_and_an_exact_currency) {
    BOOST_TEST_REQUIRE(customerFile(kCustomerHeader + "ACME,Acme Corp,,b2b,,USD,\n").ok());
    const auto good = contracts(kContractHeader +
                                "ACME,SKU-1,9.00,USD,50,2027-01-01,2027-06-30\n"
                                "ACME,SKU-1,8.00,EUR,,,\n"
                                "ACME,SKU-2,700,JPY,,,\n");
    BOOST_TEST_REQUIRE(good.ok(), problemsOf(good));
    BOOST_TEST(good.created == 3u);
    BOOST_TEST(count("contract_price") == 3);
    const auto again = contracts(kContractHeader + "ACME,SKU-1,8.50,EUR,,,\nACME,SKU-2,700,JPY,,,\n");
    BOOST_TEST(again.updated == 1u);
    BOOST_TEST(again.unchanged == 1u);
    BOOST_TEST(count("contract_price") == 3);

    const std::string before = snapshot();
    const auto bad = contracts(kContractHeader +
                               "ACME,SKU-2,1.00,USD,,,\n"                       // 2 good
                               "NOBODY,SKU-1,1.00,USD,,,\n"                     // 3 unknown customer
                               "ACME,SKU-1,1.00,,,,\n"                          // 4 no currency
                               "ACME,SKU-1,1.00,US,,,\n"                        // 5 unknown currency
                               "ACME,NOPE,1.00,USD,,,\n"                        // 6 unknown SKU
                               "ACME,SKU-1,1.001,USD,,,\n"                      // 7 too many decimals
                               "ACME,SKU-1,1.00,USD,0,,\n"                      // 8 min_quantity 0
                               "ACME,SKU-1,1.00,USD,2,2027-05-01,2027-04-30\n"  // 9 reversed window
                               "ACME,SKU-2,1.00,USD,,,\n");                     // 10 the same price as line 2
    BOOST_TEST(placesOf(bad) == (std::vector<std::string>{"3 customer", "4 currency", "5 currency", "6 sku",
                                                          "7 unit_price", "8 min_quantity", "9 valid_to", "10 sku"}),
               problemsOf(bad));
    BOOST_TEST(
        std::string(bad.problems[0].what()) ==
        "contracts.csv:3: column 'customer': 'NOBODY' is not a customer; import it first (keel customer import)");
    BOOST_TEST(std::string(bad.problems[1].what()) ==
               "contracts.csv:4: column 'currency': is empty; give the currency of the price, e.g. USD");
    BOOST_TEST(snapshot() == before);
}

BOOST_AUTO_TEST_CASE(ensure_customer_is_idempotent_and_keeps_existing_customers) {
    const std::string id = db.run([&](db::UnitOfWork& uow) {
        return customers
            .ensureCustomer(uow, "web-42", "ann@example.com", "Ann Lee", orders::CustomerKind::kB2C,
                            Currency::of("USD"))
            .id;
    });
    BOOST_TEST(isUuid(id));
    const Customer again = db.run([&](db::UnitOfWork& uow) {
        return customers.ensureCustomer(uow, "web-42", "other@example.com", "Someone Else", orders::CustomerKind::kB2B,
                                        Currency::of("EUR"));
    });
    // The customer as stored, not as this call described it.
    BOOST_TEST(again.id == id);
    BOOST_TEST(again.name == "Ann Lee");
    BOOST_TEST(again.email == "ann@example.com");
    BOOST_TEST(again.currency->code() == "USD");
    BOOST_TEST(count("customer") == 1);
    db.run([&](db::UnitOfWork& uow) {
        const Customer c = customers.requireByCode(uow, "web-42");
        BOOST_TEST(c.id == id);
        BOOST_TEST(c.name == "Ann Lee");
        BOOST_TEST(c.email == "ann@example.com");
        BOOST_TEST((c.kind == orders::CustomerKind::kB2C));
        BOOST_TEST(c.currency->code() == "USD");
        BOOST_TEST(!c.credit_limit.has_value());
        BOOST_TEST(c.price_list.empty());
        BOOST_TEST(customers.findById(uow, id)->code == "web-42");
    });
    // An imported account is found, not duplicated.
    BOOST_TEST_REQUIRE(customerFile(kCustomerHeader + "ACME,Acme Corp,,b2b,,USD,\n").ok());
    const std::string acme = db.run([&](db::UnitOfWork& uow) {
        return customers.ensureCustomer(uow, "ACME", "", "", orders::CustomerKind::kB2B, Currency::of("USD")).id;
    });
    BOOST_TEST(acme == db.run([&](db::UnitOfWork& uow) { return customers.requireByCode(uow, "ACME").id; }));
    BOOST_TEST(count("customer") == 2);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) {
        return customers.ensureCustomer(uow, "has space", "", "", orders::CustomerKind::kB2C, Currency::of("USD"));
    }),
                      RejectedError);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) {
        return customers.ensureCustomer(uow, "C-9", "not-an-email", "", orders::CustomerKind::kB2C,
                                        Currency::of("USD"));
    }),
                      RejectedError);
    BOOST_TEST(count("customer") == 2);
}

BOOST_AUTO_TEST_CASE(ensure_customer_from_two_connections_at_once_gives_one_customer) {
    // Two nodes see the same new customer's first orders at the same moment: both must get the one id.
    auto other = test.open();
    for (int round = 0; round < 5; ++round) {
        const std::string code = "race-" + std::to_string(round);
        std::atomic<int> ready{0};
        std::string first;
        std::string second;
        auto ensure = [&](db::Database& database, std::string& out) {
            ready.fetch_add(1);
            while (ready.load() < 2) {
            }
            out = database.run([&](db::UnitOfWork& uow) {
                return customers.ensureCustomer(uow, code, "", "", orders::CustomerKind::kB2C, Currency::of("USD")).id;
            });
        };
        std::thread a([&] { ensure(db, first); });
        std::thread b([&] { ensure(*other, second); });
        a.join();
        b.join();
        BOOST_TEST(first == second);
    }
    BOOST_TEST(count("customer") == 5);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(lookup, Prices)

BOOST_AUTO_TEST_CASE(the_default_list_prices_customers_without_a_list_with_breaks_and_dates) {
    loadScenario();
    BOOST_TEST(priced(sku1, 1, 20270301, "ANN") == "19.99 USD price_list:RETAIL");
    BOOST_TEST(priced(sku1, 9, 20270301, "ANN") == "19.99 USD price_list:RETAIL");
    BOOST_TEST(priced(sku1, 10, 20270301, "ANN") == "17.50 USD price_list:RETAIL");
    BOOST_TEST(priced(sku1, 1, 20271130, "ANN") == "19.99 USD price_list:RETAIL");
    BOOST_TEST(priced(sku1, 1, 20271201, "ANN") == "15.00 USD price_list:RETAIL");  // the promotion starts
    BOOST_TEST(priced(sku1, 1, 20271231, "ANN") == "15.00 USD price_list:RETAIL");  // and ends, inclusive
    BOOST_TEST(priced(sku1, 1, 20280101, "ANN") == "19.99 USD price_list:RETAIL");
    BOOST_TEST(priced(sku1, 10, 20271215, "ANN") == "17.50 USD price_list:RETAIL");  // the higher break wins
    BOOST_TEST(priced(sku1, 1, 20270301) == "19.99 USD price_list:RETAIL");          // no customer at all
    const auto match = price(sku1, 10, 20270301, "ANN");
    BOOST_TEST_REQUIRE(match.has_value());
    BOOST_TEST(match->min_quantity == 10);
    BOOST_TEST(match->price_list == "RETAIL");
}

BOOST_AUTO_TEST_CASE(a_contract_comes_before_the_customers_list_within_its_window_and_break) {
    loadScenario();
    BOOST_TEST(priced(sku1, 49, 20270301, "ACME") == "12.00 USD price_list:WHOLESALE");
    BOOST_TEST(priced(sku1, 50, 20270301, "ACME") == "9.00 USD contract");
    BOOST_TEST(priced(sku1, 500, 20270101, "ACME") == "9.00 USD contract");
    BOOST_TEST(priced(sku1, 50, 20270630, "ACME") == "9.00 USD contract");
    BOOST_TEST(priced(sku1, 50, 20270701, "ACME") == "12.00 USD price_list:WHOLESALE");
    BOOST_TEST(priced(sku1, 50, 20261231, "ACME") == "12.00 USD price_list:WHOLESALE");
    BOOST_TEST(priced(sku1, 1, 20270301, "ACME", "EUR") == "8.00 EUR contract");
    const auto match = price(sku1, 50, 20270301, "ACME");
    BOOST_TEST_REQUIRE(match.has_value());
    BOOST_TEST(match->validity.toString() == "from 2027-01-01 to 2027-06-30");
    BOOST_TEST(match->min_quantity == 50);
}

BOOST_AUTO_TEST_CASE(no_price_is_none_never_zero_and_currencies_are_not_converted) {
    loadScenario();
    BOOST_TEST(priced(sku1, 1, 20270301, "ANN", "EUR") == "none");  // RETAIL is in USD
    BOOST_TEST(priced(sku1, 1, 20270301, "ANN", "GBP") == "none");
    BOOST_TEST(priced(sku2, 1, 20270301, "ACME") == "none");            // nothing for SKU-2 anywhere
    BOOST_TEST(priced(sku1, 1, 20270301, "ANN", "USD", "") == "none");  // no default list configured
    BOOST_TEST(priced(sku1, 1, 20270301, "ANN", "USD", "NOPE") == "none");
    BOOST_TEST(priced(sku1, 1, 20270301, "", "EUR", "EU") == "18.00 EUR price_list:EU");
    BOOST_TEST(priced(sku1, 0, 20270301, "ANN") == "none");

    // Through the interface order intake uses.
    PriceBook book("RETAIL");
    orders::PriceSource& source = book;
    db.run([&](db::UnitOfWork& uow) {
        orders::PriceQuery query;
        query.item_id = sku1;
        query.sku = "SKU-1";
        query.quantity = 2;
        query.currency = &Currency::of("USD");
        query.date = Date::fromYmd(20270301);
        const auto found = source.price(uow, query);
        BOOST_TEST_REQUIRE(found.has_value());
        BOOST_TEST(found->unit_price == Money(1999, Currency::of("USD")));
        BOOST_TEST(found->source == "price_list:RETAIL");
        query.currency = nullptr;
        BOOST_CHECK_THROW(source.price(uow, query), RejectedError);
    });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(commands, Prices)

BOOST_AUTO_TEST_CASE(keel_price_and_customer_commands) {
    const Run imported = keel({"price", "import",
                               file("prices.csv", kPriceHeader + "RETAIL,SKU-1,19.99,,,,USD\n"
                                                                 "RETAIL,SKU-1,17.50,10,,,\n"
                                                                 "WHOLESALE,SKU-1,12.00,,,,USD\n")});
    BOOST_TEST_REQUIRE(imported.code == 0, imported.err);
    BOOST_TEST(imported.out.find(": 3 prices: 3 created, 0 updated, 0 unchanged") != std::string::npos, imported.out);

    const Run people = keel(
        {"customer", "import", file("customers.csv", kCustomerHeader + "ACME,Acme Corp,,b2b,5000.00,,WHOLESALE\n")});
    BOOST_TEST_REQUIRE(people.code == 0, people.err);
    const Run deals =
        keel({"price", "contract-import", file("contracts.csv", kContractHeader + "ACME,SKU-1,9.00,USD,50,,\n")}, true);
    BOOST_TEST_REQUIRE(deals.code == 0, deals.err);
    BOOST_TEST(json(deals.out)->getValue<int>("created") == 1);

    const Run shown =
        keel({"price", "show", "SKU-1", "--customer", "ACME", "--quantity", "50", "--date", "2027-03-01"}, true);
    BOOST_TEST_REQUIRE(shown.code == 0, shown.err);
    const auto o = json(shown.out);
    BOOST_TEST(o->getValue<std::string>("unit_price") == "9.00");
    BOOST_TEST(o->getValue<std::string>("currency") == "USD");  // the customer's (ledger.currency is USD too)
    BOOST_TEST(o->getValue<std::string>("source") == "contract");
    BOOST_TEST(o->getValue<Poco::Int64>("unit_price_minor") == 900);

    const Run listed = keel({"price", "show", "SKU-1", "--quantity", "12"});
    BOOST_TEST_REQUIRE(listed.code == 0, listed.err);
    BOOST_TEST(listed.out.find("unit price      17.50 USD\n") != std::string::npos, listed.out);
    BOOST_TEST(listed.out.find("source          price_list:RETAIL\n") != std::string::npos, listed.out);

    const Run missing = keel({"price", "show", "SKU-1", "--currency", "EUR"});
    BOOST_TEST(missing.code == 3);
    BOOST_TEST(missing.err.find("no price for SKU-1 x 1 in EUR") != std::string::npos, missing.err);

    const Run customer = keel({"customer", "show", "ACME"}, true);
    BOOST_TEST_REQUIRE(customer.code == 0, customer.err);
    const auto c = json(customer.out);
    BOOST_TEST(c->getValue<std::string>("kind") == "b2b");
    BOOST_TEST(c->getValue<std::string>("credit_limit") == "5000.00");
    BOOST_TEST(c->getValue<std::string>("currency") == "USD");  // ledger.currency's default
    BOOST_TEST(c->getValue<std::string>("price_list") == "WHOLESALE");
    BOOST_TEST(keel({"customer", "show", "NOBODY"}).code == 3);

    const Run bad = keel({"price", "import", file("bad.csv", kPriceHeader + "RETAIL,SKU-1,1.001,,,,\n")}, true);
    BOOST_TEST(bad.code == 2);
    const auto error = json(bad.out)->getObject("error");
    BOOST_TEST_REQUIRE(error->getArray("problems")->size() == 1u);
    const auto problem = error->getArray("problems")->getObject(0);
    BOOST_TEST(problem->getValue<int>("line") == 2);
    BOOST_TEST(problem->getValue<std::string>("column") == "unit_price");
    BOOST_TEST(keel({"price", "import", dir.path + "/nope.csv"}).code == 2);
    BOOST_TEST(keel({"price", "show", "NOPE"}).code == 3);
    BOOST_TEST(keel({"price", "show", "SKU-1", "--date", "2027-02-30"}).code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
