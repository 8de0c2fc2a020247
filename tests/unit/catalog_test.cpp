#define BOOST_TEST_MODULE catalog
#include <boost/test/unit_test.hpp>

#include "keel/catalog/catalog.h"
#include "keel/catalog/gtin.h"
#include "keel/catalog/import.h"
#include "keel/catalog/validation.h"
#include "keel/kernel/error.h"

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>

#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

namespace data = boost::unit_test::data;
namespace gtin = keel::catalog::gtin;

using keel::catalog::Catalog;
using keel::catalog::CostMethod;
using keel::catalog::Item;
using keel::catalog::ItemStatus;
using keel::catalog::KitComponent;
using keel::catalog::Location;
using keel::catalog::LocationType;
using keel::catalog::UnitConversion;

namespace {

struct GtinCase {
    std::string input;
    std::string normalized;
};
std::ostream& operator<<(std::ostream& out, const GtinCase& c) {
    return out << c.input;
}

struct BadGtin {
    std::string input;
    std::string message;
};
std::ostream& operator<<(std::ostream& out, const BadGtin& c) {
    return out << "'" << c.input << "'";
}

// One rule broken on purpose: the item change, and the column and message it must produce.
struct RuleCase {
    std::string name;
    void (*change)(Item&);
    std::string field;
    std::string message;
};
std::ostream& operator<<(std::ostream& out, const RuleCase& c) {
    return out << c.name;
}

Item validItem() {
    Item item;
    item.sku = "SKU-1";
    item.name = "Widget";
    return item;
}

Item kit() {
    Item item = validItem();
    item.sku = "KIT-1";
    item.is_kit = true;
    item.components = {{"", "SKU-2", 2}, {"", "SKU-1", 1}};
    return item;
}

std::vector<keel::Problem> problemsOf(Item item) {
    return keel::catalog::prepareItem(item);
}

std::string messageOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gtins)

BOOST_DATA_TEST_CASE(valid_gtins_normalize_to_gtin_14,
                     data::make(std::vector<GtinCase>{
                         {"96385074", "00000096385074"},        // GTIN-8
                         {"12345670", "00000012345670"},        // GTIN-8
                         {"036000291452", "00036000291452"},    // UPC-A / GTIN-12
                         {"073500538502", "00073500538502"},    // GTIN-12
                         {"4006381333931", "04006381333931"},   // EAN-13
                         {"5901234123457", "05901234123457"},   // EAN-13
                         {"10012345678902", "10012345678902"},  // GTIN-14
                         {"10614141000415", "10614141000415"},  // GTIN-14
                         {"00036000291452", "00036000291452"},  // already GTIN-14
                     }),
                     sample) {
    const auto result = gtin::normalize(sample.input);
    BOOST_TEST_REQUIRE(result.ok());
    BOOST_TEST(result.value() == sample.normalized);
}

BOOST_AUTO_TEST_CASE(the_forms_of_one_gtin_normalize_alike) {
    BOOST_TEST(gtin::normalize("036000291452").value() == gtin::normalize("0036000291452").value());
    BOOST_TEST(gtin::normalize("036000291452").value() == gtin::normalize("00036000291452").value());
}

BOOST_DATA_TEST_CASE(invalid_gtins_say_precisely_why,
                     data::make(std::vector<BadGtin>{
                         {"5901234123453", "check digit is 3, expected 7"},
                         {"4006381333932", "check digit is 2, expected 1"},
                         {"96385070", "check digit is 0, expected 4"},
                         {"036000291450", "check digit is 0, expected 2"},
                         {"10012345678901", "check digit is 1, expected 2"},
                         {"12345", "has 5 digits; a GTIN has 8, 12, 13 or 14"},
                         {"1234567", "has 7 digits; a GTIN has 8, 12, 13 or 14"},
                         {"03600029145", "has 11 digits; a GTIN has 8, 12, 13 or 14"},
                         {"100123456789023", "has 15 digits; a GTIN has 8, 12, 13 or 14"},
                         {"40063813339A1", "not a number: character 12 is 'A'; a GTIN has digits only"},
                         {"4006 381333931", "not a number: character 5 is a space; a GTIN has digits only"},
                         {"-4006381333931", "not a number: character 1 is '-'; a GTIN has digits only"},
                         {"", "is empty; a GTIN has 8, 12, 13 or 14 digits"},
                         {"00000000", "is all zeros, which GS1 never assigns"},
                     }),
                     sample) {
    const auto result = gtin::normalize(sample.input);
    BOOST_TEST_REQUIRE(!result.ok());
    BOOST_TEST(result.problem().message == sample.message);
    BOOST_TEST(result.problem().field == "gtin");
    BOOST_TEST(static_cast<int>(result.problem().code) == 2);
}

BOOST_AUTO_TEST_CASE(check_digits) {
    BOOST_TEST(gtin::checkDigit("400638133393") == 1);
    BOOST_TEST(gtin::checkDigit("9638507") == 4);
    BOOST_TEST(gtin::checkDigit("03600029145") == 2);
    BOOST_TEST(gtin::checkDigit("1001234567890") == 2);
    BOOST_TEST(gtin::checkDigit("1234567") == 0);
    BOOST_CHECK_THROW(gtin::checkDigit("12a4"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(enums)

BOOST_AUTO_TEST_CASE(cost_methods_round_trip) {
    BOOST_TEST(keel::catalog::toString(CostMethod::kMovingAverage) == "moving_average");
    BOOST_TEST(keel::catalog::toString(CostMethod::kFifo) == "fifo");
    for (auto value : {CostMethod::kMovingAverage, CostMethod::kFifo}) {
        BOOST_TEST((keel::catalog::costMethodFrom(keel::catalog::toString(value)) == value));
    }
    BOOST_TEST(!keel::catalog::costMethodFrom("FIFO").has_value());
    BOOST_TEST(!keel::catalog::costMethodFrom("lifo").has_value());
    BOOST_TEST(!keel::catalog::costMethodFrom("").has_value());
}

BOOST_AUTO_TEST_CASE(item_statuses_round_trip) {
    BOOST_TEST(keel::catalog::toString(ItemStatus::kActive) == "active");
    BOOST_TEST(keel::catalog::toString(ItemStatus::kDiscontinued) == "discontinued");
    for (auto value : {ItemStatus::kActive, ItemStatus::kDiscontinued}) {
        BOOST_TEST((keel::catalog::itemStatusFrom(keel::catalog::toString(value)) == value));
    }
    BOOST_TEST(!keel::catalog::itemStatusFrom("Active").has_value());
    BOOST_TEST(!keel::catalog::itemStatusFrom("deleted").has_value());
}

BOOST_AUTO_TEST_CASE(location_types_round_trip) {
    const std::vector<std::pair<LocationType, std::string>> names = {{LocationType::kWarehouse, "warehouse"},
                                                                     {LocationType::kStore, "store"},
                                                                     {LocationType::kThirdParty, "3pl"},
                                                                     {LocationType::kTransit, "transit"},
                                                                     {LocationType::kVirtual, "virtual"}};
    for (const auto& [type, name] : names) {
        BOOST_TEST(keel::catalog::toString(type) == name);
        BOOST_TEST((keel::catalog::locationTypeFrom(name) == type));
    }
    BOOST_TEST(!keel::catalog::locationTypeFrom("3PL").has_value());
    BOOST_TEST(!keel::catalog::locationTypeFrom("depot").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(units_of_measure)

BOOST_AUTO_TEST_CASE(to_base_units_multiplies_by_the_factor) {
    Item item = validItem();
    item.units = {{"case", 12, std::nullopt}, {"pallet", 480, std::nullopt}};
    const Catalog catalog;
    BOOST_TEST(catalog.toBaseUnits(item, 3, "case") == 36);
    BOOST_TEST(catalog.toBaseUnits(item, 2, "pallet") == 960);
    BOOST_TEST(catalog.toBaseUnits(item, -2, "case") == -24);
    BOOST_TEST(catalog.toBaseUnits(item, 0, "case") == 0);
    BOOST_TEST(catalog.toBaseUnits(item, 7, "each") == 7);
    BOOST_TEST(catalog.toBaseUnits(item, 7, "") == 7);
}

BOOST_AUTO_TEST_CASE(to_base_units_refuses_unknown_units_naming_the_known_ones) {
    Item item = validItem();
    item.units = {{"case", 12, std::nullopt}};
    const Catalog catalog;
    BOOST_CHECK_THROW(catalog.toBaseUnits(item, 1, "box"), keel::RejectedError);
    BOOST_TEST(messageOf([&] { catalog.toBaseUnits(item, 1, "box"); }) ==
               "item 'SKU-1' has no unit 'box'; its units are each, case (12 each)");
}

BOOST_AUTO_TEST_CASE(to_base_units_checks_overflow) {
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    Item item = validItem();
    item.units = {{"case", 12, std::nullopt}};
    const Catalog catalog;
    BOOST_TEST(catalog.toBaseUnits(item, kMax / 12, "case") == (kMax / 12) * 12);
    BOOST_CHECK_THROW(catalog.toBaseUnits(item, kMax / 12 + 1, "case"), keel::RejectedError);
    BOOST_CHECK_THROW(catalog.toBaseUnits(item, std::numeric_limits<std::int64_t>::min() / 12 - 1, "case"),
                      keel::RejectedError);
    BOOST_TEST(messageOf([&] { catalog.toBaseUnits(item, kMax / 12 + 1, "case"); }) ==
               "item 'SKU-1': 768614336404564651 case of 12 each is beyond the largest quantity Keel can count "
               "(9223372036854775807 each)");
}

BOOST_AUTO_TEST_CASE(unit_texts_parse_and_format) {
    const auto units = keel::catalog::parseUnits(" case=12 ; pallet = 480:10012345678902;");
    BOOST_TEST_REQUIRE(units.ok());
    BOOST_TEST_REQUIRE(units.value().size() == 2u);
    BOOST_TEST(units.value()[0].uom == "case");
    BOOST_TEST(units.value()[0].factor == 12);
    BOOST_TEST(!units.value()[0].gtin.has_value());
    BOOST_TEST(units.value()[1].uom == "pallet");
    BOOST_TEST(units.value()[1].factor == 480);
    BOOST_TEST(units.value()[1].gtin.value() == "10012345678902");
    BOOST_TEST(keel::catalog::formatUnits(units.value()) == "case=12;pallet=480:10012345678902");
    BOOST_TEST(keel::catalog::parseUnits("").value().empty());

    BOOST_TEST(keel::catalog::parseUnits("case").problem().message ==
               "'case' has no '=': write UOM=FACTOR, e.g. case=12 (or case=12:GTIN)");
    BOOST_TEST(keel::catalog::parseUnits("case=twelve").problem().message ==
               "unit 'case': factor 'twelve' is not a whole number (how many base units one case holds)");
}

BOOST_AUTO_TEST_CASE(component_texts_parse_and_format) {
    const auto components = keel::catalog::parseComponents("SKU-1=2; A=B=3");
    BOOST_TEST_REQUIRE(components.ok());
    BOOST_TEST_REQUIRE(components.value().size() == 2u);
    BOOST_TEST(components.value()[0].sku == "SKU-1");
    BOOST_TEST(components.value()[0].quantity == 2);
    BOOST_TEST(components.value()[1].sku == "A=B");  // the SKU is everything before the last '='
    BOOST_TEST(components.value()[1].quantity == 3);
    BOOST_TEST(keel::catalog::formatComponents(components.value()) == "SKU-1=2;A=B=3");
    BOOST_TEST(keel::catalog::parseComponents("SKU-1=-2").value()[0].quantity == -2);  // refused by prepareItem
    BOOST_TEST(keel::catalog::parseComponents("SKU-1").problem().message ==
               "'SKU-1' has no '=': write SKU=QUANTITY, e.g. SKU-1=2");
    BOOST_TEST(keel::catalog::parseComponents("SKU-1=two").problem().message ==
               "quantity of 'SKU-1', 'two', is not a whole number");
    BOOST_TEST(keel::catalog::parseComponents("=2").problem().message == "'=2' has no SKU before '='");
    BOOST_TEST(keel::catalog::parseComponents("SKU-1=1234567890123456789").problem().message ==
               "quantity of 'SKU-1', '1234567890123456789', is too large");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(item_rules)

BOOST_AUTO_TEST_CASE(a_valid_item_is_canonicalized) {
    Item item = validItem();
    item.name = "  Widget \t";
    item.gtin = "036000291452";
    item.units = {{"pallet", 480, std::nullopt}, {"case", 12, "10012345678902"}, {"box", 12, std::nullopt}};
    const auto problems = keel::catalog::prepareItem(item);
    BOOST_TEST(problems.empty(), keel::catalog::joinProblems(problems));
    BOOST_TEST(item.name == "Widget");
    BOOST_TEST(item.gtin.value() == "00036000291452");
    BOOST_TEST_REQUIRE(item.units.size() == 3u);
    BOOST_TEST(item.units[0].uom == "box");  // by factor, then name
    BOOST_TEST(item.units[1].uom == "case");
    BOOST_TEST(item.units[2].uom == "pallet");

    Item k = kit();
    BOOST_TEST(keel::catalog::prepareItem(k).empty());
    BOOST_TEST(k.components[0].sku == "SKU-1");  // sorted by SKU
    BOOST_TEST(k.components[1].sku == "SKU-2");
}

BOOST_DATA_TEST_CASE(
    each_rule_names_its_column,
    data::make(std::vector<RuleCase>{
        {"empty sku", [](Item& i) { i.sku = ""; }, "sku", "is empty; every item needs a SKU"},
        {"sku with a space", [](Item& i) { i.sku = "SKU 1"; }, "sku",
         "contains a space at character 4; SKUs cannot contain whitespace"},
        {"sku with a tab", [](Item& i) { i.sku = "SKU\t1"; }, "sku",
         "contains a control character at character 4; SKUs cannot contain control characters"},
        {"sku with a no-break space",
         [](Item& i) {
             i.sku =
                 "SKU\xc2\xa0"
                 "1";
         },
         "sku", "contains a space at character 4; SKUs cannot contain whitespace"},
        {"sku too long", [](Item& i) { i.sku = std::string(65, 'A'); }, "sku",
         "has 65 characters; a SKU has at most 64"},
        {"sku with a semicolon", [](Item& i) { i.sku = "A;B"; }, "sku",
         "contains ';', which separates kit components in CSV files; choose another character"},
        {"empty name", [](Item& i) { i.name = "  "; }, "name", "is empty; every item needs a name"},
        {"name too long", [](Item& i) { i.name = std::string(201, 'n'); }, "name",
         "has 201 characters; at most 200 are allowed"},
        {"name not UTF-8", [](Item& i) { i.name = "caf\xe9"; }, "name", "is not valid UTF-8"},
        {"bad base unit", [](Item& i) { i.base_uom = "Each"; }, "base_uom",
         "'Each' is not a unit name; use a lowercase word of letters, digits and '_' starting with a letter (each, "
         "g, ml, case)"},
        {"bad gtin", [](Item& i) { i.gtin = "5901234123453"; }, "gtin", "check digit is 3, expected 7"},
        {"negative weight", [](Item& i) { i.weight_mg = -5; }, "weight_mg", "must not be negative, got -5"},
        {"negative length", [](Item& i) { i.length_mm = -1; }, "length_mm", "must not be negative, got -1"},
        {"expiry without lot", [](Item& i) { i.expiry_tracked = true; }, "expiry_tracked",
         "expiry tracking needs lot tracking: set lot_tracked to true as well, or expiry_tracked to false"},
        {"shelf life without expiry",
         [](Item& i) {
             i.lot_tracked = true;
             i.shelf_life_days = 30;
         },
         "shelf_life_days",
         "applies only to expiry-tracked items: set expiry_tracked to true or leave shelf_life_days empty"},
        {"shelf life zero",
         [](Item& i) {
             i.lot_tracked = i.expiry_tracked = true;
             i.shelf_life_days = 0;
         },
         "shelf_life_days", "must be between 1 and 36500 days, got 0"},
        {"empty tax class", [](Item& i) { i.tax_class = ""; }, "tax_class",
         "is empty; use 'standard' unless your tax setup names another class"},
        {"negative safety stock", [](Item& i) { i.safety_stock = -3; }, "safety_stock", "must not be negative, got -3"},
        {"unit factor 1",
         [](Item& i) {
             i.units = {{"case", 1, std::nullopt}};
         },
         "units", "unit 'case': factor must be a whole number greater than 1 (each per case), got 1"},
        {"unit factor negative",
         [](Item& i) {
             i.units = {{"case", -12, std::nullopt}};
         },
         "units", "unit 'case': factor must be a whole number greater than 1 (each per case), got -12"},
        {"unit is the base unit",
         [](Item& i) {
             i.units = {{"each", 2, std::nullopt}};
         },
         "units", "unit 'each': is the base unit; list only units larger than 'each'"},
        {"unit twice",
         [](Item& i) {
             i.units = {{"case", 12, std::nullopt}, {"case", 24, std::nullopt}};
         },
         "units", "unit 'case': is listed twice"},
        {"unit gtin bad",
         [](Item& i) {
             i.units = {{"case", 12, "10012345678901"}};
         },
         "units", "unit 'case': GTIN check digit is 1, expected 2"},
        {"unit gtin is the item's",
         [](Item& i) {
             i.gtin = "10012345678902";
             i.units = {{"case", 12, "10012345678902"}};
         },
         "units", "unit 'case': GTIN 10012345678902 is also the item's own GTIN"},
        {"kit without components",
         [](Item& i) {
             i.is_kit = true;
             i.components.clear();
         },
         "components", "a kit needs at least one component (SKU=QUANTITY)"},
        {"components on a non-kit", [](Item& i) { i.is_kit = false; }, "components",
         "only kits have components: mark the item as a kit or remove its components"},
        {"kit contains itself",
         [](Item& i) {
             i.components.push_back({"", "KIT-1", 1});
         },
         "components", "a kit cannot contain itself ('KIT-1')"},
        {"component twice",
         [](Item& i) {
             i.components.push_back({"", "SKU-1", 3});
         },
         "components", "'SKU-1' is listed twice; give it once with the total quantity"},
        {"component quantity zero", [](Item& i) { i.components[0].quantity = 0; }, "components",
         "quantity of 'SKU-2' must be positive, got 0"},
        {"component quantity negative", [](Item& i) { i.components[0].quantity = -2; }, "components",
         "quantity of 'SKU-2' must be positive, got -2"},
        {"lot-tracked kit", [](Item& i) { i.lot_tracked = true; }, "lot_tracked",
         "kits are never lot-tracked (their components are): set lot_tracked to false"},
    }),
    rule) {
    // Kit rules start from a valid kit, the others from a valid plain item.
    Item item = rule.field == "components" || rule.field == "lot_tracked" ? kit() : validItem();
    rule.change(item);
    const auto problems = problemsOf(item);
    BOOST_TEST_REQUIRE(problems.size() == 1u, keel::catalog::joinProblems(problems));
    BOOST_TEST(problems[0].field == rule.field);
    BOOST_TEST(problems[0].message == rule.message);
}

BOOST_AUTO_TEST_CASE(every_problem_of_an_item_is_reported_in_column_order) {
    Item item;
    item.sku = "bad sku";
    item.gtin = "123";
    item.weight_mg = -1;
    item.safety_stock = -1;
    const auto problems = problemsOf(item);
    BOOST_TEST_REQUIRE(problems.size() == 5u);
    BOOST_TEST(problems[0].field == "sku");
    BOOST_TEST(problems[1].field == "name");
    BOOST_TEST(problems[2].field == "gtin");
    BOOST_TEST(problems[3].field == "weight_mg");
    BOOST_TEST(problems[4].field == "safety_stock");
    BOOST_TEST(keel::catalog::joinProblems(problems).starts_with("sku: contains a space at character 4"));
}

BOOST_AUTO_TEST_CASE(save_item_refuses_invalid_items_before_touching_the_database) {
    // No database is needed to refuse an invalid item: the rules run first. The unit of work is never used.
    Item item = kit();
    item.components.push_back({"", "KIT-1", 1});
    const auto problems = problemsOf(item);
    BOOST_TEST(keel::catalog::joinProblems(problems) == "components: a kit cannot contain itself ('KIT-1')");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(location_rules)

BOOST_AUTO_TEST_CASE(location_rules_name_their_column) {
    Location location;
    location.code = "WH1";
    location.name = " Main warehouse ";
    location.country = "US";
    BOOST_TEST(keel::catalog::prepareLocation(location).empty());
    BOOST_TEST(location.name == "Main warehouse");

    Location bad;
    bad.code = "WH 1";
    bad.name = "";
    bad.country = "usa";
    const auto problems = keel::catalog::prepareLocation(bad);
    BOOST_TEST_REQUIRE(problems.size() == 3u);
    BOOST_TEST(problems[0].field == "code");
    BOOST_TEST(problems[0].message == "contains a space at character 3; location codes cannot contain whitespace");
    BOOST_TEST(problems[1].field == "name");
    BOOST_TEST(problems[2].field == "country");
    BOOST_TEST(problems[2].message == "must be two uppercase letters (ISO 3166-1 alpha-2, e.g. US or DE), got 'usa'");

    BOOST_TEST(keel::catalog::locationCodeProblem(std::string(33, 'C')).value() ==
               "has 33 characters; a location code has at most 32");
    BOOST_TEST(!keel::catalog::locationCodeProblem(std::string(32, 'C')).has_value());
}

BOOST_AUTO_TEST_CASE(identifier_rules) {
    BOOST_TEST(!keel::catalog::skuProblem(std::string(64, 'S')).has_value());
    BOOST_TEST(!keel::catalog::skuProblem("ÄRM-€-1").has_value());  // any printable UTF-8
    BOOST_TEST(!keel::catalog::uomProblem("each").has_value());
    BOOST_TEST(!keel::catalog::uomProblem("ml").has_value());
    BOOST_TEST(!keel::catalog::uomProblem("case_of_6").has_value());
    BOOST_TEST(keel::catalog::uomProblem("6pack").has_value());
    BOOST_TEST(keel::catalog::uomProblem("").value() == "is empty; use a unit such as each, g, ml or case");
    BOOST_TEST(keel::catalog::uomProblem("abcdefghijklmnopq").value() ==
               "'abcdefghijklmnopq' has 17 characters; at most 16");
    BOOST_TEST(keel::catalog::channelProblem("").value() == "is empty; name the sales channel, e.g. amazon");
    BOOST_TEST(!keel::catalog::channelSkuProblem("B00 X1").has_value());
    BOOST_TEST(keel::catalog::channelSkuProblem(" B00").value() == "starts or ends with whitespace");
}

BOOST_AUTO_TEST_SUITE_END()
