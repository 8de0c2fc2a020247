#define BOOST_TEST_MODULE catalog
#include <boost/test/unit_test.hpp>

#include "temp_dir.h"
#include "test_database.h"

#include "keel/catalog/aliases.h"
#include "keel/catalog/catalog.h"
#include "keel/catalog/gtin.h"
#include "keel/catalog/import.h"
#include "keel/cli/cli.h"
#include "keel/db/migrations.h"
#include "keel/kernel/error.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

using namespace keel;
using catalog::Item;
using catalog::KitComponent;
using catalog::Location;
using catalog::UnitConversion;

// Every case runs on the backend named by KEEL_TEST_BACKEND; CTest registers this executable once per backend.
namespace {

struct Run {
    int code;
    std::string out;
    std::string err;
};

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string itemHeader() {
    std::string header;
    for (const auto& column : catalog::itemCsvColumns()) header += (header.empty() ? "" : ",") + column;
    return header;
}

// One item CSV line in the full column set from the named values (others empty), quoted as the writer does.
std::string itemLine(const std::map<std::string, std::string>& values) {
    std::vector<std::string> fields;
    for (const auto& column : catalog::itemCsvColumns()) {
        const auto it = values.find(column);
        fields.push_back(it == values.end() ? "" : it->second);
    }
    std::ostringstream out;
    csv::Writer(out).write(fields);
    return out.str();
}

// A good item file: plain items, units with and without GTINs, an expiry-tracked item, a kit.
std::string goodItems() {
    return itemHeader() + "\n" +
           itemLine({{"sku", "SKU-1"},
                     {"name", "Widget"},
                     {"description", "A small, blue widget"},
                     {"gtin", "036000291452"},
                     {"weight_mg", "1500"},
                     {"length_mm", "100"},
                     {"width_mm", "50"},
                     {"height_mm", "20"},
                     {"safety_stock", "10"},
                     {"units", "pallet=480;case=12:10012345678902"}}) +
           itemLine({{"sku", "SKU-2"},
                     {"name", "Milk 1l"},
                     {"base_uom", "ml"},
                     {"gtin", "4006381333931"},
                     {"weight_mg", "1030000"},
                     {"lot_tracked", "yes"},
                     {"expiry_tracked", "yes"},
                     {"shelf_life_days", "14"},
                     {"tax_class", "food"},
                     {"cost_method", "fifo"}}) +
           itemLine({{"sku", "SKU-3"}, {"name", "Old gadget"}, {"status", "discontinued"}}) +
           itemLine({{"sku", "KIT-1"},
                     {"name", "Gift set"},
                     {"description", "Widget and gadget"},
                     {"components", "SKU-3=1;SKU-1=2"}});
}

// What `keel item export` writes after importing goodItems(): sorted by SKU, GTIN-14, units by factor.
const std::string kGoodExport =
    "sku,name,description,base_uom,gtin,weight_mg,length_mm,width_mm,height_mm,lot_tracked,expiry_tracked,"
    "shelf_life_days,tax_class,cost_method,status,safety_stock,units,components\r\n"
    "KIT-1,Gift set,Widget and gadget,each,,,,,,false,false,,standard,moving_average,active,0,,SKU-1=2;SKU-3=1\r\n"
    "SKU-1,Widget,\"A small, blue widget\",each,00036000291452,1500,100,50,20,false,false,,standard,"
    "moving_average,active,10,case=12:10012345678902;pallet=480,\r\n"
    "SKU-2,Milk 1l,,ml,04006381333931,1030000,,,,true,true,14,food,fifo,active,0,,\r\n"
    "SKU-3,Old gadget,,each,,,,,,false,false,,standard,moving_average,discontinued,0,,\r\n";

struct Fresh {
    test::TestDatabase test;
    db::Database& db = test.database();
    ManualClock clock{1'700'000'000'000'000};
    IdGenerator ids{clock};
    catalog::Catalog catalog{clock, ids};
    test::TempDir dir;

    Fresh() { db::Migrator(db).migrate(); }

    std::string save(const Item& item) {
        return db.run([&](db::UnitOfWork& uow) { return catalog.saveItem(uow, item); });
    }
    std::optional<Item> find(const std::string& identifier, const std::string& channel = "") {
        return db.run([&](db::UnitOfWork& uow) { return catalog.findItem(uow, identifier, channel); });
    }
    std::int64_t count(const std::string& table) {
        return db.run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement("SELECT COUNT(*) FROM " + table);
            s.execute();
            BOOST_TEST_REQUIRE(s.next());
            const std::int64_t n = s.getInt64(0);
            // Read to the end: sqlite3odbc returns no rows on the next execution of a statement whose
            // previous result was left unfinished.
            while (s.next()) {
            }
            return n;
        });
    }
    std::string file(const std::string& name, const std::string& content) {
        const std::string path = dir.path + "/" + name;
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }
    static std::string read(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), {});
    }
    Run keel(std::vector<std::string> args) {
        args.insert(args.begin(), {"--db", test.connectionString()});
        std::ostringstream out;
        std::ostringstream err;
        const int code = cli::run(args, out, err, {}, "/nonexistent/etc/keel");
        return {code, out.str(), err.str()};
    }
    // Everything the catalog holds, including the update times, to prove that a refused import wrote nothing.
    std::string snapshot() {
        return db.run([&](db::UnitOfWork& uow) {
            std::ostringstream out;
            catalog::CatalogCsv csv;
            csv.exportItems(uow, out);
            csv.exportLocations(uow, out);
            db::Statement& aliases = uow.statement("SELECT channel, channel_sku, item_id FROM item_alias");
            aliases.execute();
            std::vector<std::string> rows;
            while (aliases.next())
                rows.push_back(aliases.getString(0) + "|" + aliases.getString(1) + "|" + aliases.getString(2));
            std::sort(rows.begin(), rows.end());
            for (const auto& row : rows) out << row << "\n";
            for (const std::string table : {"item", "location"}) {
                db::Statement& s = uow.statement("SELECT COUNT(*), MAX(updated_at) FROM " + table);
                s.execute();
                BOOST_TEST_REQUIRE(s.next());
                out << table << " " << s.getInt64(0) << " " << s.getOptionalInt64(1).value_or(0) << "\n";
                while (s.next()) {
                }
            }
            return out.str();
        });
    }
    void importGood() {
        const Run r = keel({"item", "import", file("good.csv", goodItems())});
        BOOST_TEST_REQUIRE(r.code == 0, r.err);
    }
};

Item widget() {
    Item item;
    item.sku = "SKU-1";
    item.name = "Widget";
    item.description = "A small, blue widget";
    item.gtin = "036000291452";
    item.weight_mg = 1500;
    item.length_mm = 100;
    item.width_mm = 50;
    item.height_mm = 20;
    item.safety_stock = 10;
    item.units = {{"pallet", 480, std::nullopt}, {"case", 12, "10012345678902"}};
    return item;
}

Item plain(const std::string& sku, std::optional<std::string> gtin = std::nullopt) {
    Item item;
    item.sku = sku;
    item.name = "Item " + sku;
    item.gtin = std::move(gtin);
    return item;
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

BOOST_AUTO_TEST_SUITE(items)

BOOST_FIXTURE_TEST_CASE(save_and_find_by_sku_with_every_field, Fresh) {
    Item milk = plain("SKU-2", "4006381333931");
    milk.base_uom = "ml";
    milk.lot_tracked = milk.expiry_tracked = true;
    milk.shelf_life_days = 14;
    milk.tax_class = "food";
    milk.cost_method = catalog::CostMethod::kFifo;
    milk.status = catalog::ItemStatus::kDiscontinued;
    const std::string milk_id = save(milk);
    const std::string id = save(widget());
    BOOST_TEST(isUuid(id));
    BOOST_TEST(id != milk_id);

    const auto found = find("SKU-1");
    BOOST_TEST_REQUIRE(found.has_value());
    BOOST_TEST(found->id == id);
    BOOST_TEST(found->name == "Widget");
    BOOST_TEST(found->description == "A small, blue widget");
    BOOST_TEST(found->base_uom == "each");
    BOOST_TEST(found->gtin.value() == "00036000291452");
    BOOST_TEST(found->weight_mg.value() == 1500);
    BOOST_TEST(found->length_mm.value() == 100);
    BOOST_TEST(found->width_mm.value() == 50);
    BOOST_TEST(found->height_mm.value() == 20);
    BOOST_TEST(!found->lot_tracked);
    BOOST_TEST(!found->shelf_life_days.has_value());
    BOOST_TEST(found->safety_stock == 10);
    BOOST_TEST(!found->is_kit);
    BOOST_TEST_REQUIRE(found->units.size() == 2u);
    BOOST_TEST(found->units[0].uom == "case");
    BOOST_TEST(found->units[0].factor == 12);
    BOOST_TEST(found->units[0].gtin.value() == "10012345678902");
    BOOST_TEST(found->units[1].uom == "pallet");
    BOOST_TEST(found->units[1].factor == 480);
    BOOST_TEST(!found->units[1].gtin.has_value());

    const auto m = find("SKU-2");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->base_uom == "ml");
    BOOST_TEST(m->lot_tracked);
    BOOST_TEST(m->expiry_tracked);
    BOOST_TEST(m->shelf_life_days.value() == 14);
    BOOST_TEST(m->tax_class == "food");
    BOOST_TEST((m->cost_method == catalog::CostMethod::kFifo));
    BOOST_TEST((m->status == catalog::ItemStatus::kDiscontinued));
    BOOST_TEST(!m->weight_mg.has_value());

    BOOST_TEST(!find("sku-1").has_value());   // SKUs are exact
    BOOST_TEST(!find("Widget").has_value());  // never by name
    BOOST_TEST(!find("").has_value());
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return catalog.findItemById(uow, id); })->sku == "SKU-1");
}

BOOST_FIXTURE_TEST_CASE(update_by_sku_keeps_the_id_and_replaces_units_and_components, Fresh) {
    const std::string id = save(widget());
    save(plain("SKU-3"));
    save(plain("SKU-4"));
    clock.advance(1'000'000);
    Item changed = widget();
    changed.name = "Widget v2";
    changed.gtin.reset();
    changed.units = {{"box", 6, "10012345678902"}};  // the GTIN moves from the case to the new box
    BOOST_TEST(save(changed) == id);
    const auto found = find("SKU-1");
    BOOST_TEST(found->id == id);
    BOOST_TEST(found->name == "Widget v2");
    BOOST_TEST(!found->gtin.has_value());
    BOOST_TEST_REQUIRE(found->units.size() == 1u);
    BOOST_TEST(found->units[0].uom == "box");
    BOOST_TEST(count("item") == 3);
    BOOST_TEST(count("item_uom") == 1);

    Item kit = plain("KIT-1");
    kit.is_kit = true;
    kit.components = {{"", "SKU-3", 2}, {"", "SKU-4", 1}};
    const std::string kit_id = save(kit);
    kit.components = {{"", "SKU-4", 5}};
    BOOST_TEST(save(kit) == kit_id);
    const auto k = find("KIT-1");
    BOOST_TEST_REQUIRE(k->components.size() == 1u);
    BOOST_TEST(k->components[0].sku == "SKU-4");
    BOOST_TEST(k->components[0].quantity == 5);
    BOOST_TEST(count("kit_component") == 1);
}

BOOST_FIXTURE_TEST_CASE(find_by_alias_and_by_gtin_in_every_form, Fresh) {
    const std::string id = save(widget());
    const std::string short_id = save(plain("SKU-8", "96385074"));
    db.run([&](db::UnitOfWork& uow) { catalog.saveAlias(uow, "amazon", "B00WIDGET", id); });

    BOOST_TEST(find("B00WIDGET", "amazon")->id == id);
    BOOST_TEST(!find("B00WIDGET").has_value());          // aliases need their channel
    BOOST_TEST(!find("B00WIDGET", "ebay").has_value());  // and only that channel's
    for (const std::string form : {"036000291452", "0036000291452", "00036000291452"}) {
        const auto found = find(form);
        BOOST_TEST_REQUIRE(found.has_value(), form);
        BOOST_TEST(found->id == id);
    }
    BOOST_TEST(find("10012345678902")->id == id);  // the case's GTIN finds the item
    BOOST_TEST(find("96385074")->id == short_id);
    BOOST_TEST(find("00000096385074")->id == short_id);
    BOOST_TEST(!find("036000291450").has_value());  // wrong check digit: no match, no error
    BOOST_TEST(find("036000291452", "amazon")->id == id);

    // An alias moves when saved again for another item.
    db.run([&](db::UnitOfWork& uow) { catalog.saveAlias(uow, "amazon", "B00WIDGET", short_id); });
    BOOST_TEST(find("B00WIDGET", "amazon")->id == short_id);
    BOOST_TEST(count("item_alias") == 1);
    const auto aliases = db.run([&](db::UnitOfWork& uow) { return catalog::aliasesOfItem(uow, short_id); });
    BOOST_TEST_REQUIRE(aliases.size() == 1u);
    BOOST_TEST(aliases[0].channel == "amazon");

    // SKU first, then alias, then GTIN.
    const std::string digits_sku = save(plain("4006381333931"));
    const std::string gtin_owner = save(plain("SKU-9", "4006381333931"));
    BOOST_TEST(find("4006381333931")->id == digits_sku);
    BOOST_TEST(find("04006381333931")->id == gtin_owner);
    db.run([&](db::UnitOfWork& uow) { catalog.saveAlias(uow, "shop", "04006381333931", id); });
    BOOST_TEST(find("04006381333931", "shop")->id == id);

    // Many at once (an order's lines) find what one at a time finds, units included.
    const auto many = db.run([&](db::UnitOfWork& uow) {
        return catalog.findItems(uow, {"SKU-1", "04006381333931", "NOPE", "SKU-8", "SKU-1", "", "10012345678902"},
                                 "shop");
    });
    BOOST_TEST(many.size() == 4u);
    BOOST_TEST(many.at("SKU-1").id == id);
    BOOST_TEST(many.at("SKU-1").units.size() == 2u);
    BOOST_TEST(many.at("04006381333931").id == id);  // the shop's alias
    BOOST_TEST(many.at("SKU-8").id == short_id);
    BOOST_TEST(many.at("10012345678902").id == id);  // a unit's GTIN
    BOOST_TEST(many.count("NOPE") == 0u);

    BOOST_TEST(messageOf([&] { db.run([&](db::UnitOfWork& uow) { catalog.requireItem(uow, "NOPE", "ebay"); }); }) ==
               "unknown item 'NOPE' on channel 'ebay': no SKU, alias of that channel or GTIN matches it");
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { catalog.requireItem(uow, "NOPE"); }), NotFoundError);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { catalog.saveAlias(uow, "amazon", "X", "no-such-id"); }),
                      NotFoundError);
    BOOST_CHECK_THROW(db.run([&](db::UnitOfWork& uow) { catalog.saveAlias(uow, "", "X", id); }), RejectedError);
}

BOOST_FIXTURE_TEST_CASE(gtins_are_unique_across_items_and_units, Fresh) {
    save(widget());
    const std::string before = snapshot();

    BOOST_TEST(messageOf([&] { save(plain("SKU-2", "00036000291452")); }) ==
               "GTIN 00036000291452 of item 'SKU-2' is already the GTIN of item 'SKU-1'; each GTIN identifies one "
               "item or unit: correct one of them");
    BOOST_CHECK_THROW(save(plain("SKU-2", "036000291452")), ConflictError);
    BOOST_TEST(messageOf([&] { save(plain("SKU-2", "10012345678902")); }) ==
               "GTIN 10012345678902 of item 'SKU-2' is already the GTIN of unit 'case' of item 'SKU-1'; each GTIN "
               "identifies one item or unit: correct one of them");
    Item with_unit = plain("SKU-2");
    with_unit.units = {{"tray", 6, "00036000291452"}};
    BOOST_TEST(messageOf([&] { save(with_unit); }) ==
               "GTIN 00036000291452 of unit 'tray' of item 'SKU-2' is already the GTIN of item 'SKU-1'; each GTIN "
               "identifies one item or unit: correct one of them");
    BOOST_TEST(snapshot() == before);

    // The item's own GTIN may move to one of its units.
    Item moved = widget();
    moved.gtin.reset();
    moved.units = {{"case", 12, "036000291452"}};
    save(moved);
    BOOST_TEST(find("036000291452")->units[0].uom == "case");
}

BOOST_FIXTURE_TEST_CASE(invalid_items_are_refused_naming_the_field, Fresh) {
    Item item = plain("SKU-1", "5901234123453");
    BOOST_TEST(messageOf([&] { save(item); }) == "item 'SKU-1': gtin: check digit is 3, expected 7");
    item.gtin.reset();
    item.expiry_tracked = true;
    BOOST_CHECK_THROW(save(item), RejectedError);
    BOOST_TEST(count("item") == 0);
}

BOOST_FIXTURE_TEST_CASE(kits_are_made_of_plain_items, Fresh) {
    save(plain("SKU-1"));
    save(plain("SKU-2"));
    Item kit = plain("KIT-1");
    kit.is_kit = true;
    kit.components = {{"", "SKU-2", 1}, {"", "SKU-1", 2}};
    const std::string kit_id = save(kit);
    const auto found = find("KIT-1");
    BOOST_TEST(found->is_kit);
    BOOST_TEST_REQUIRE(found->components.size() == 2u);
    BOOST_TEST(found->components[0].sku == "SKU-1");
    BOOST_TEST(found->components[0].quantity == 2);
    BOOST_TEST(found->components[0].item_id == find("SKU-1")->id);
    BOOST_TEST(found->components[1].sku == "SKU-2");

    // Only kits have components, so items that are not kits are found without reading them: an order's lines cost
    // the items and their units, and a kit among them one more statement.
    auto findMany = [&](const std::vector<std::string>& skus) {
        return db.run([&](db::UnitOfWork& uow) {
            const std::uint64_t before = db::statementsExecuted();
            auto items = catalog.findItems(uow, skus);
            return std::pair{items, db::statementsExecuted() - before};
        });
    };
    const auto [plain_items, plain_statements] = findMany({"SKU-1", "SKU-2"});
    BOOST_TEST(plain_items.size() == 2u);
    BOOST_TEST(plain_statements == 2u);
    const auto [with_kit, kit_statements] = findMany({"SKU-1", "KIT-1"});
    BOOST_TEST(kit_statements == 3u);
    BOOST_TEST_REQUIRE(with_kit.at("KIT-1").components.size() == 2u);
    BOOST_TEST(with_kit.at("KIT-1").components[1].sku == "SKU-2");
    BOOST_TEST(with_kit.at("SKU-1").components.empty());

    Item outer = plain("KIT-2");
    outer.is_kit = true;
    outer.components = {{"", "KIT-1", 1}};
    BOOST_TEST(messageOf([&] { save(outer); }) ==
               "item 'KIT-2': components: 'KIT-1' is itself a kit, and a kit cannot contain another kit; list its "
               "components instead");
    outer.components = {{kit_id, "", 1}};  // by id as well
    BOOST_CHECK_THROW(save(outer), RejectedError);
    outer.components = {{"", "SKU-404", 1}};
    BOOST_TEST(messageOf([&] { save(outer); }) ==
               "item 'KIT-2': components: 'SKU-404' is not in the item master; save the component before the kit");

    Item component_as_kit = plain("SKU-1");
    component_as_kit.is_kit = true;
    component_as_kit.components = {{"", "SKU-2", 1}};
    BOOST_TEST(messageOf([&] { save(component_as_kit); }) ==
               "item 'SKU-1' cannot become a kit: it is a component of kit 'KIT-1', and a kit cannot contain another "
               "kit; remove it from 'KIT-1' first");
    BOOST_TEST(count("item") == 3);
    BOOST_TEST(count("kit_component") == 2);

    kit.lot_tracked = true;
    BOOST_TEST(
        messageOf([&] { save(kit); }) ==
        "item 'KIT-1': lot_tracked: kits are never lot-tracked (their components are): set lot_tracked to false");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(locations)

BOOST_FIXTURE_TEST_CASE(save_find_update_and_list, Fresh) {
    Location wh;
    wh.code = "WH1";
    wh.name = "Main warehouse";
    wh.country = "US";
    wh.region = "IL";
    wh.priority = 10;
    Location store;
    store.code = "ST1";
    store.name = "Store";
    store.type = catalog::LocationType::kStore;
    store.country = "DE";
    store.ships_to_customers = false;
    Location tpl;
    tpl.code = "3PL-A";
    tpl.name = "Partner";
    tpl.type = catalog::LocationType::kThirdParty;
    tpl.country = "US";
    tpl.priority = 10;
    const std::string id = db.run([&](db::UnitOfWork& uow) {
        catalog.saveLocation(uow, store);
        catalog.saveLocation(uow, tpl);
        return catalog.saveLocation(uow, wh);
    });
    wh.name = "Main warehouse (north)";
    wh.active = false;
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return catalog.saveLocation(uow, wh); }) == id);

    const auto found = db.run([&](db::UnitOfWork& uow) { return catalog.requireLocation(uow, "WH1"); });
    BOOST_TEST(found.id == id);
    BOOST_TEST(found.name == "Main warehouse (north)");
    BOOST_TEST(found.region == "IL");
    BOOST_TEST(found.priority == 10);
    BOOST_TEST(!found.active);
    BOOST_TEST(found.ships_to_customers);
    BOOST_TEST(db.run([&](db::UnitOfWork& uow) { return catalog.findLocationById(uow, id); })->code == "WH1");

    const auto list = db.run([&](db::UnitOfWork& uow) { return catalog.locations(uow); });
    BOOST_TEST_REQUIRE(list.size() == 3u);
    BOOST_TEST(list[0].code == "3PL-A");  // priority 10, then code
    BOOST_TEST(list[1].code == "WH1");
    BOOST_TEST(list[2].code == "ST1");  // priority 100
    BOOST_TEST((list[2].type == catalog::LocationType::kStore));
    BOOST_TEST(!list[2].ships_to_customers);

    BOOST_TEST(messageOf([&] { db.run([&](db::UnitOfWork& uow) { catalog.requireLocation(uow, "NOPE"); }); }) ==
               "unknown location 'NOPE'; `keel location list` shows the locations");
    Location bad = wh;
    bad.country = "usa";
    BOOST_TEST(messageOf([&] { db.run([&](db::UnitOfWork& uow) { catalog.saveLocation(uow, bad); }); }) ==
               "location 'WH1': country: must be two uppercase letters (ISO 3166-1 alpha-2, e.g. US or DE), got 'usa'");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(csv_import)

BOOST_FIXTURE_TEST_CASE(a_good_item_file_imports_and_shows, Fresh) {
    const std::string path = file("items.csv", goodItems());
    Run r = keel({"item", "import", path});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == path + ": 4 rows: 4 created, 0 updated, 0 unchanged\n");
    BOOST_TEST(count("item") == 4);
    BOOST_TEST(count("item_uom") == 2);
    BOOST_TEST(count("kit_component") == 2);

    r = keel({"item", "show", "SKU-1"});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(contains(r.out, "sku             SKU-1\n"));
    BOOST_TEST(contains(r.out, "gtin            00036000291452\n"));
    BOOST_TEST(contains(r.out, "weight          1500 mg\n"));
    BOOST_TEST(
        contains(r.out, "unit            case = 12 each (GTIN 10012345678902)\nunit            pallet = 480 each\n"));

    r = keel({"item", "show", "KIT-1"});
    BOOST_TEST(contains(r.out, "component       SKU-1 x 2\ncomponent       SKU-3 x 1\n"), r.out);

    // By GTIN (an item's or a unit's, any form) and by alias with --channel, as text and JSON.
    BOOST_TEST(keel({"item", "show", "10012345678902"}).out == keel({"item", "show", "SKU-1"}).out);
    BOOST_TEST(keel({"item", "show", "4006381333931"}).code == 0);
    r = keel({"alias", "import", file("aliases.csv", "channel,channel_sku,sku\namazon,B00MILK,SKU-2\n")});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(contains(r.out, ": 1 row: 1 created, 0 updated, 0 unchanged"));
    r = keel({"--json", "item", "show", "B00MILK", "--channel", "amazon"});
    BOOST_TEST(r.code == 0, r.err);
    Poco::JSON::Parser parser;
    const auto body = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(body->getValue<std::string>("sku") == "SKU-2");
    BOOST_TEST(body->getValue<std::string>("gtin") == "04006381333931");
    BOOST_TEST(body->getValue<std::string>("cost_method") == "fifo");
    BOOST_TEST(body->getValue<int>("shelf_life_days") == 14);
    BOOST_TEST(body->getValue<bool>("expiry_tracked"));
    BOOST_TEST(body->isNull("length_mm"));
    BOOST_TEST(body->getArray("aliases")->getObject(0)->getValue<std::string>("channel_sku") == "B00MILK");

    r = keel({"item", "show", "B00MILK"});
    BOOST_TEST(r.code == 3);
    BOOST_TEST(r.err == "keel: unknown item 'B00MILK': no SKU or GTIN matches it (channel aliases need a channel)\n");
}

BOOST_FIXTURE_TEST_CASE(export_then_import_round_trips_exactly, Fresh) {
    importGood();
    Run r = keel({"item", "export"});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == kGoodExport);

    const std::string exported = dir.path + "/export.csv";
    r = keel({"item", "export", "--output", exported});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == "wrote 4 items to " + exported + "\n");
    BOOST_TEST(read(exported) == kGoodExport);

    // Importing the export again changes nothing, not even the update times.
    const std::string before = snapshot();
    r = keel({"item", "import", exported});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == exported + ": 4 rows: 0 created, 0 updated, 4 unchanged\n");
    BOOST_TEST(snapshot() == before);

    // Into another empty database: the same export, byte for byte.
    test::TestDatabase other;
    db::Migrator(other.database()).migrate();
    std::ostringstream out;
    std::ostringstream err;
    BOOST_TEST(
        cli::run({"--db", other.connectionString(), "item", "import", exported}, out, err, {}, "/nonexistent") == 0,
        err.str());
    const std::string again = other.database().run([&](db::UnitOfWork& uow) {
        std::ostringstream csv;
        catalog::CatalogCsv().exportItems(uow, csv);
        return csv.str();
    });
    BOOST_TEST(again == kGoodExport);
}

BOOST_FIXTURE_TEST_CASE(reimport_updates_changed_rows_and_moves_gtins_between_rows, Fresh) {
    importGood();
    const std::string id = find("SKU-1")->id;
    // SKU-1's GTIN moves to SKU-3 while SKU-1 takes a new one; the case GTIN moves to SKU-3's box.
    const std::string path = file("update.csv",
                                  "sku,name,gtin,units,components\n"
                                  "SKU-1,Widget,5901234123457,case=12,\n"
                                  "SKU-3,Old gadget,036000291452,box=4:10012345678902,\n"
                                  "SKU-4,New thing,,,\n"
                                  "KIT-1,Gift set,,,SKU-1=3\n");
    Run r = keel({"item", "import", path});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == path + ": 4 rows: 1 created, 3 updated, 0 unchanged\n");
    BOOST_TEST(find("SKU-1")->id == id);
    BOOST_TEST(find("036000291452")->sku == "SKU-3");
    BOOST_TEST(find("10012345678902")->sku == "SKU-3");
    BOOST_TEST(find("5901234123457")->sku == "SKU-1");
    // Columns the file does not have keep their values; present columns replace them, empty cells included.
    const auto widget = find("SKU-1");
    BOOST_TEST(widget->description == "A small, blue widget");
    BOOST_TEST(widget->weight_mg.value() == 1500);
    BOOST_TEST(widget->safety_stock == 10);
    BOOST_TEST_REQUIRE(widget->units.size() == 1u);
    BOOST_TEST(widget->units[0].uom == "case");
    BOOST_TEST(!widget->units[0].gtin.has_value());
    BOOST_TEST((find("SKU-3")->status == catalog::ItemStatus::kDiscontinued));
    const auto kit = find("KIT-1");
    BOOST_TEST_REQUIRE(kit->components.size() == 1u);
    BOOST_TEST(kit->components[0].quantity == 3);
    BOOST_TEST(count("kit_component") == 1);
    BOOST_TEST(count("item_uom") == 2);
}

// Each malformed file gives exact problems and leaves the database as it was.
struct Malformed {
    std::string name;
    std::string content;
    std::vector<std::string> problems;  // after "keel: <path>"
    bool append_good_row = true;        // a valid row after the bad ones, which must not be written either
};

BOOST_FIXTURE_TEST_CASE(malformed_files_are_refused_precisely_and_change_nothing, Fresh) {
    importGood();
    const std::string before = snapshot();
    const std::vector<Malformed> cases = {
        {"missing columns", "sku,description\nSKU-9,x\n", {":1: missing required column: name"}},
        {"missing both columns", "description,gtin\nx,\n", {":1: missing required columns: sku, name"}},
        {"unknown column",
         "sku,name,colour\nSKU-9,X,red\n",
         {":1: unknown column 'colour' (expected one of: sku, name, description, base_uom, gtin, weight_mg, "
          "length_mm, width_mm, height_mm, lot_tracked, expiry_tracked, shelf_life_days, tax_class, cost_method, "
          "status, safety_stock, units, components)"}},
        {"bad check digit",
         "sku,name,gtin\nSKU-9,Nine,\nSKU-10,Ten,5901234123453\n",
         {":3: column 'gtin': check digit is 3, expected 7"}},
        {"duplicate sku",
         "sku,name\nSKU-9,Nine\nSKU-10,Ten\nSKU-9,Nine again\n",
         {":4: column 'sku': 'SKU-9' is also on line 2; each SKU may appear once per file"}},
        {"negative weight and quantity",
         "sku,name,weight_mg,components\nSKU-9,Nine,-5,\nKIT-9,Kit,,SKU-1=-2\n",
         {":2: column 'weight_mg': must not be negative, got -5",
          ":3: column 'components': quantity of 'SKU-1' must be positive, got -2"}},
        {"invalid utf-8",
         "sku,name\nSKU-9,Nine\nSKU-10,caf\xe9,\n",
         {":3: column 11: invalid UTF-8: truncated sequence starting with byte 0xE9 (save the file as UTF-8); the "
          "rest of the file was not read"}},
        {"wrong field count",
         "sku,name\nSKU-9,Nine\nSKU-10,Ten,extra\nSKU-11\n",
         {":3: the row has 3 fields, the header has 2", ":4: the row has 1 field, the header has 2"}},
        {"unknown component",
         "sku,name,components\nKIT-9,Kit,SKU-1=1;NOPE=2\n",
         {":2: column 'components': 'NOPE' is neither in this file nor in the item master; add it to the file or "
          "import it first"}},
        {"kit in a kit",
         "sku,name,components\nKIT-9,Kit,KIT-1=1\n",
         {":2: column 'components': 'KIT-1' is a kit in the item master, and a kit cannot contain another kit; list "
          "its components instead"}},
        {"gtin of another item",
         "sku,name,gtin\nSKU-9,Nine,4006381333931\n",
         {":2: column 'gtin': GTIN 04006381333931 of item 'SKU-9' is already the GTIN of item 'SKU-2' in the item "
          "master; each GTIN identifies one item or unit"}},
        {"gtin twice in the file",
         "sku,name,gtin,units\nSKU-9,Nine,5901234123457,\nSKU-10,Ten,,case=6:5901234123457\n",
         {":3: column 'units': GTIN 05901234123457 of unit 'case' of item 'SKU-10' is also the GTIN of item 'SKU-9' "
          "on line 2; each GTIN identifies one item or unit"}},
        {"several problems in one row",
         "sku,name,safety_stock,cost_method,lot_tracked\nbad sku,,-1,lifo,maybe\n",
         {":2: column 'sku': contains a space at character 4; SKUs cannot contain whitespace",
          ":2: column 'name': is empty",
          ":2: column 'lot_tracked': 'maybe' is not a yes/no value (expected true/false, yes/no or 1/0)",
          ":2: column 'cost_method': 'lifo' is not a cost method; use moving_average or fifo",
          ":2: column 'safety_stock': must not be negative, got -1"}},
        {"empty file", "", {": the file is empty; its first line must name the columns, e.g. " + itemHeader()}, false},
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.name) {
            // The extra row has as many fields as the header.
            std::string content = c.content;
            if (c.append_good_row) {
                const std::string header = content.substr(0, content.find('\n'));
                const auto fields = static_cast<std::size_t>(std::count(header.begin(), header.end(), ',')) + 1;
                content += "SKU-NEW,Should not be written" + std::string(fields - 2, ',') + "\n";
            }
            const std::string path = file("bad.csv", content);
            const Run r = keel({"item", "import", path});
            BOOST_TEST(r.code == 2);
            std::string expected;
            for (const auto& problem : c.problems) expected += "keel: " + path + problem + "\n";
            expected += "keel: " + path + ": " + std::to_string(c.problems.size()) +
                        (c.problems.size() == 1 ? " problem" : " problems") +
                        "; nothing was imported. Fix the file and import it again.\n";
            BOOST_TEST(r.err == expected);
            BOOST_TEST(r.out.empty());
            BOOST_TEST(snapshot() == before);
        }
    }
    BOOST_TEST(!find("SKU-NEW").has_value());
}

BOOST_FIXTURE_TEST_CASE(problems_as_json_and_missing_files, Fresh) {
    const std::string path = file("bad.csv", "sku,name,gtin\nA,Alpha,123\nB,Beta,5901234123453\n");
    Run r = keel({"--json", "item", "import", path});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err.empty());
    Poco::JSON::Parser parser;
    const auto error = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>()->getObject("error");
    BOOST_TEST(error->getValue<std::string>("code") == "rejected");
    const auto problems = error->getArray("problems");
    BOOST_TEST_REQUIRE(problems->size() == 2u);
    BOOST_TEST(problems->getObject(0)->getValue<int>("line") == 2);
    BOOST_TEST(problems->getObject(0)->getValue<std::string>("column") == "gtin");
    BOOST_TEST(problems->getObject(0)->getValue<std::string>("reason") == "has 3 digits; a GTIN has 8, 12, 13 or 14");
    BOOST_TEST(problems->getObject(1)->getValue<std::string>("message") ==
               path + ":3: column 'gtin': check digit is 3, expected 7");
    BOOST_TEST(count("item") == 0);

    r = keel({"item", "import", dir.path + "/nope.csv"});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err == "keel: " + dir.path + "/nope.csv: no such file; check the path and try again\n");
    BOOST_TEST(keel({"item", "import"}).code == 1);
    BOOST_TEST(keel({"item", "show"}).code == 1);

    // --dry-run checks and counts but writes nothing.
    r = keel({"item", "import", "--dry-run", file("good.csv", goodItems())});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(contains(r.out, ": 4 rows: 4 created, 0 updated, 0 unchanged (dry run: nothing was written)"));
    BOOST_TEST(count("item") == 0);
}

BOOST_FIXTURE_TEST_CASE(items_becoming_kits_must_not_be_components, Fresh) {
    importGood();
    const std::string before = snapshot();
    Run r = keel({"item", "import", file("kit.csv", "sku,name,components\nSKU-3,Old gadget,SKU-2=1\n")});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(contains(r.err,
                        ":2: column 'components': 'SKU-3' is a component of kit 'KIT-1' in the item master, "
                        "and a kit cannot contain another kit; remove it from 'KIT-1' first\n"),
               r.err);
    BOOST_TEST(snapshot() == before);
    // Fine when the same file changes KIT-1 so it no longer contains SKU-3.
    r = keel({"item", "import",
              file("kit2.csv", "sku,name,components\nSKU-3,Old gadget,SKU-2=1\nKIT-1,Gift set,SKU-1=1\n")});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(find("SKU-3")->is_kit);
}

BOOST_FIXTURE_TEST_CASE(locations_and_aliases_import, Fresh) {
    importGood();
    const std::string locations = file("locations.csv",
                                       "code,name,type,priority,country,region,ships_to_customers,active\n"
                                       "WH1,Main warehouse,warehouse,10,US,IL,true,true\n"
                                       "ST1,Downtown store,store,,DE,,no,yes\n"
                                       "3PL-A,Partner,3pl,10,US,,,\n");
    Run r = keel({"location", "import", locations});
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == locations + ": 3 rows: 3 created, 0 updated, 0 unchanged\n");
    r = keel({"location", "list"});
    BOOST_TEST(r.out ==
               "CODE   NAME            TYPE       PRIORITY  COUNTRY  REGION  SHIPS  ACTIVE\n"
               "3PL-A  Partner         3pl        10        US       -       yes    yes\n"
               "WH1    Main warehouse  warehouse  10        US       IL      yes    yes\n"
               "ST1    Downtown store  store      100       DE       -       no     yes\n");
    r = keel({"--json", "location", "list"});
    Poco::JSON::Parser parser;
    const auto list = parser.parse(r.out).extract<Poco::JSON::Object::Ptr>()->getArray("locations");
    BOOST_TEST_REQUIRE(list->size() == 3u);
    BOOST_TEST(list->getObject(2)->getValue<std::string>("code") == "ST1");
    BOOST_TEST(!list->getObject(2)->getValue<bool>("ships_to_customers"));

    r = keel({"location", "import", locations});
    BOOST_TEST(r.out == locations + ": 3 rows: 0 created, 0 updated, 3 unchanged\n");
    // Columns the file does not have keep their values.
    const std::string renamed = file("renamed.csv", "code,name,country\nWH1,Main warehouse,US\nST1,City store,DE\n");
    r = keel({"location", "import", renamed});
    BOOST_TEST(r.out == renamed + ": 2 rows: 0 created, 1 updated, 1 unchanged\n");
    const auto store = db.run([&](db::UnitOfWork& uow) { return catalog.requireLocation(uow, "ST1"); });
    BOOST_TEST(store.name == "City store");
    BOOST_TEST((store.type == catalog::LocationType::kStore));
    BOOST_TEST(!store.ships_to_customers);

    const std::string before = snapshot();
    const std::string bad_locations = file("bad-locations.csv",
                                           "code,name,type,country\nWH2,Second,depot,US\nWH3,Third,,usa\n"
                                           "WH2,Again,,US\n");
    r = keel({"location", "import", bad_locations});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(
        r.err ==
        "keel: " + bad_locations +
            ":2: column 'type': 'depot' is not a location type; use warehouse, store, 3pl, transit or virtual\n"
            "keel: " +
            bad_locations +
            ":3: column 'country': must be two uppercase letters (ISO 3166-1 alpha-2, e.g. US or DE), got 'usa'\n"
            "keel: " +
            bad_locations +
            ":4: column 'code': 'WH2' is also on line 2; each location code may appear once per file\n"
            "keel: " +
            bad_locations + ": 3 problems; nothing was imported. Fix the file and import it again.\n");

    const std::string bad_aliases =
        file("bad-aliases.csv", "channel,channel_sku,sku\namazon,B1,SKU-1\namazon,B2,NOPE\namazon,B1,SKU-2\n");
    r = keel({"alias", "import", bad_aliases});
    BOOST_TEST(r.code == 2);
    BOOST_TEST(r.err == "keel: " + bad_aliases +
                            ":3: column 'sku': 'NOPE' is not in the item master; import the item first\n"
                            "keel: " +
                            bad_aliases +
                            ":4: column 'channel_sku': 'B1' of channel 'amazon' is also on line 2; "
                            "each channel SKU may appear once per channel and file\n"
                            "keel: " +
                            bad_aliases + ": 2 problems; nothing was imported. Fix the file and import it again.\n");
    BOOST_TEST(snapshot() == before);

    r = keel({"alias", "import", file("aliases.csv", "channel,channel_sku,sku\namazon,B1,SKU-1\nebay,E1,SKU-1\n")});
    BOOST_TEST(r.code == 0, r.err);
    r = keel({"alias", "import", file("aliases2.csv", "channel,channel_sku,sku\namazon,B1,SKU-2\nebay,E1,SKU-1\n")});
    BOOST_TEST(contains(r.out, ": 2 rows: 0 created, 1 updated, 1 unchanged\n"), r.out);
    BOOST_TEST(find("B1", "amazon")->sku == "SKU-2");
}

BOOST_FIXTURE_TEST_CASE(concurrent_imports_of_the_same_new_items_both_succeed, Fresh) {
    // Two sources deliver the same new items at the same moment: the one that loses the race on the unique SKU
    // imports again, finds the rows, and reports them unchanged (or updated) instead of failing.
    std::string content = "sku,name,units\n";
    for (int i = 0; i < 200; ++i) content += "RACE-" + std::to_string(i) + ",Race item " + std::to_string(i) + ",case=6\n";
    std::atomic<int> created{0};
    std::atomic<int> unchanged{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
        threads.emplace_back([&] {
            try {
                std::istringstream in(content);
                const auto report = catalog::CatalogCsv().importItems(db, in, "race.csv", {});
                if (!report.ok()) ++failures;
                created += static_cast<int>(report.created);
                unchanged += static_cast<int>(report.unchanged);
            } catch (const std::exception& e) {
                BOOST_TEST_MESSAGE("import failed: " << e.what());
                ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    BOOST_TEST(failures.load() == 0);
    BOOST_TEST(created.load() == 200);
    BOOST_TEST(unchanged.load() == 400);
    BOOST_TEST(count("item") == 200);
    BOOST_TEST(count("item_uom") == 200);
}

BOOST_FIXTURE_TEST_CASE(thousands_of_generated_rows_import_in_one_go, Fresh) {
    constexpr int kRows = 5000;
    std::string content = "sku,name,gtin,weight_mg,units,components\n";
    for (int i = 0; i < kRows; ++i) {
        const std::string number = std::to_string(100000 + i);
        const std::string body = "200000" + number;  // 12 digits, then the check digit: an EAN-13
        const std::string gtin = body + std::to_string(catalog::gtin::checkDigit(body));
        std::string units = i % 3 == 0 ? "case=12" : "";
        std::string components =
            i % 100 == 99 ? "GEN-" + std::to_string(i - 1) + "=2;GEN-" + std::to_string(i - 2) + "=1" : "";
        content += "GEN-" + std::to_string(i) + ",Generated item " + std::to_string(i) + "," +
                   (components.empty() ? gtin : "") + "," + std::to_string(i) + "," + units + "," + components + "\n";
    }
    const std::string path = file("generated.csv", content);
    const auto start = std::chrono::steady_clock::now();
    Run r = keel({"item", "import", path});
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    BOOST_TEST_MESSAGE("imported " << kRows << " items in " << elapsed.count() << " ms");
    BOOST_TEST(r.code == 0, r.err);
    BOOST_TEST(r.out == path + ": 5000 rows: 5000 created, 0 updated, 0 unchanged\n");
    BOOST_TEST(count("item") == kRows);
    BOOST_TEST(count("item_uom") == 1667);
    BOOST_TEST(count("kit_component") == 100);
    BOOST_TEST(find("GEN-199")->components.size() == 2u);
    BOOST_TEST(find("GEN-4321")->weight_mg.value() == 4321);

    r = keel({"item", "import", path});
    BOOST_TEST(r.out == path + ": 5000 rows: 0 created, 0 updated, 5000 unchanged\n");

    const std::string exported = db.run([&](db::UnitOfWork& uow) {
        std::ostringstream out;
        catalog::CatalogCsv().exportItems(uow, out);
        return out.str();
    });
    BOOST_TEST(std::count(exported.begin(), exported.end(), '\n') == kRows + 1);
}

BOOST_AUTO_TEST_SUITE_END()
