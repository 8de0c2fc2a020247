// keel item import|export|show, keel location import|list, keel alias import.
#include "csv_import.h"
#include "keel/cli/cli.h"

#include "keel/catalog/aliases.h"
#include "keel/catalog/catalog.h"
#include "keel/catalog/import.h"
#include "keel/db/migrations.h"
#include "keel/kernel/error.h"

#include <Poco/File.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/Path.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

namespace keel::cli {

namespace {

// The catalog commands need the catalog tables.
void requireCatalogSchema(db::Database& database) {
    requireMigration(database, "catalog", "the item master needs");
}

int runImport(Context& context, const std::vector<std::string>& args, const std::string& command,
              catalog::ImportReport (catalog::CatalogCsv::*import)(db::Database&, std::istream&, const std::string&,
                                                                   const catalog::ImportOptions&) const) {
    return runCsvImport(
        context, args, command,
        [import](db::Database& database, std::istream& in, const std::string& source,
                 const catalog::ImportOptions& options) {
            return (catalog::CatalogCsv().*import)(database, in, source, options);
        },
        "row", "catalog", "the item master needs");
}

int itemImportCommand(Context& context, const std::vector<std::string>& args) {
    return runImport(context, args, "item import", &catalog::CatalogCsv::importItems);
}

int locationImportCommand(Context& context, const std::vector<std::string>& args) {
    return runImport(context, args, "location import", &catalog::CatalogCsv::importLocations);
}

int aliasImportCommand(Context& context, const std::vector<std::string>& args) {
    return runImport(context, args, "alias import", &catalog::CatalogCsv::importAliases);
}

int itemExportCommand(Context& context, const std::vector<std::string>& args) {
    const Arguments arguments(args, "item export", {"output"});
    arguments.expectPositional(0, 0, "[--output FILE]");
    db::Database& database = context.database();
    requireCatalogSchema(database);
    db::RunOptions snapshot;  // one consistent view of items, units and components
    snapshot.isolation = db::Isolation::kRepeatableRead;
    snapshot.read_only = true;  // on SQLite a snapshot instead of the writer lock

    // Gathered first: a retried unit of work must not write part of the output twice.
    std::ostringstream csv;
    const std::size_t count = database.run(
        [&](db::UnitOfWork& uow) {
            csv.str("");
            return catalog::CatalogCsv().exportItems(uow, csv);
        },
        snapshot);
    const auto output = arguments.value("output");
    if (!output) {
        context.out() << csv.str() << std::flush;
        return 0;
    }
    // Written beside the target and renamed, so a failed export never leaves a half-written file behind.
    const std::string temporary = *output + ".partial";
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        if (!file) {
            throw InfrastructureError("cannot write " + temporary + " (" + std::strerror(errno) +
                                      "); check that the directory exists and is writable");
        }
        file << csv.str();
        file.close();
        if (!file) {
            Poco::File(temporary).remove();
            throw InfrastructureError("cannot write " + temporary + ": the disk may be full");
        }
    }
    Poco::File(temporary).renameTo(*output);
    if (context.json()) {
        Poco::JSON::Object body;
        body.set("output", *output);
        body.set("items", static_cast<Poco::UInt64>(count));
        context.writeJson(body);
    } else {
        context.out() << "wrote " << count << (count == 1 ? " item" : " items") << " to " << *output << "\n";
    }
    return 0;
}

Poco::Dynamic::Var optionalJson(const std::optional<std::int64_t>& value) {
    return value ? Poco::Dynamic::Var(static_cast<Poco::Int64>(*value)) : Poco::Dynamic::Var();
}

std::string optionalText(const std::optional<std::int64_t>& value, const std::string& unit) {
    return value ? std::to_string(*value) + " " + unit : "-";
}

int itemShowCommand(Context& context, const std::vector<std::string>& args) {
    const Arguments arguments(args, "item show", {"channel"});
    arguments.expectPositional(1, 1, "SKU [--channel CHANNEL]");
    const std::string channel = arguments.value("channel").value_or("");
    db::Database& database = context.database();
    requireCatalogSchema(database);
    const catalog::Catalog catalog;
    const auto [item, aliases] = database.run([&](db::UnitOfWork& uow) {
        catalog::Item found = catalog.requireItem(uow, arguments.positional().front(), channel);
        return std::make_pair(found, catalog::aliasesOfItem(uow, found.id));
    });

    if (context.json()) {
        Poco::JSON::Object o;
        o.set("id", item.id);
        o.set("sku", item.sku);
        o.set("name", item.name);
        o.set("description", item.description);
        o.set("base_uom", item.base_uom);
        o.set("gtin", item.gtin ? Poco::Dynamic::Var(*item.gtin) : Poco::Dynamic::Var());
        o.set("weight_mg", optionalJson(item.weight_mg));
        o.set("length_mm", optionalJson(item.length_mm));
        o.set("width_mm", optionalJson(item.width_mm));
        o.set("height_mm", optionalJson(item.height_mm));
        o.set("lot_tracked", item.lot_tracked);
        o.set("expiry_tracked", item.expiry_tracked);
        o.set("shelf_life_days",
              item.shelf_life_days ? Poco::Dynamic::Var(*item.shelf_life_days) : Poco::Dynamic::Var());
        o.set("tax_class", item.tax_class);
        o.set("cost_method", std::string(catalog::toString(item.cost_method)));
        o.set("status", std::string(catalog::toString(item.status)));
        o.set("is_kit", item.is_kit);
        o.set("safety_stock", static_cast<Poco::Int64>(item.safety_stock));
        Poco::JSON::Array units;
        for (const auto& unit : item.units) {
            Poco::JSON::Object u;
            u.set("uom", unit.uom);
            u.set("factor", static_cast<Poco::Int64>(unit.factor));
            u.set("gtin", unit.gtin ? Poco::Dynamic::Var(*unit.gtin) : Poco::Dynamic::Var());
            units.add(u);
        }
        o.set("units", units);
        Poco::JSON::Array components;
        for (const auto& component : item.components) {
            Poco::JSON::Object c;
            c.set("sku", component.sku);
            c.set("quantity", static_cast<Poco::Int64>(component.quantity));
            components.add(c);
        }
        o.set("components", components);
        Poco::JSON::Array alias_list;
        for (const auto& alias : aliases) {
            Poco::JSON::Object a;
            a.set("channel", alias.channel);
            a.set("channel_sku", alias.channel_sku);
            alias_list.add(a);
        }
        o.set("aliases", alias_list);
        context.writeJson(o);
        return 0;
    }

    std::ostream& out = context.out();
    auto line = [&](const std::string& key, const std::string& value) {
        out << key << std::string(key.size() < 16 ? 16 - key.size() : 1, ' ') << value << "\n";
    };
    line("sku", item.sku);
    line("id", item.id);
    line("name", item.name);
    if (!item.description.empty()) line("description", item.description);
    line("base unit", item.base_uom);
    line("gtin", item.gtin.value_or("-"));
    line("weight", optionalText(item.weight_mg, "mg"));
    line("length", optionalText(item.length_mm, "mm"));
    line("width", optionalText(item.width_mm, "mm"));
    line("height", optionalText(item.height_mm, "mm"));
    line("lot tracked", item.lot_tracked ? "yes" : "no");
    line("expiry tracked", item.expiry_tracked ? "yes" : "no");
    line("shelf life", item.shelf_life_days ? std::to_string(*item.shelf_life_days) + " days" : "-");
    line("tax class", item.tax_class);
    line("cost method", std::string(catalog::toString(item.cost_method)));
    line("status", std::string(catalog::toString(item.status)));
    line("safety stock", std::to_string(item.safety_stock) + " " + item.base_uom);
    line("kit", item.is_kit ? "yes" : "no");
    for (const auto& unit : item.units) {
        line("unit", unit.uom + " = " + std::to_string(unit.factor) + " " + item.base_uom +
                         (unit.gtin ? " (GTIN " + *unit.gtin + ")" : ""));
    }
    for (const auto& component : item.components) {
        line("component", component.sku + " x " + std::to_string(component.quantity));
    }
    for (const auto& alias : aliases) line("alias", alias.channel + ": " + alias.channel_sku);
    return 0;
}

int locationListCommand(Context& context, const std::vector<std::string>& args) {
    expectNoArguments(args, "location list");
    db::Database& database = context.database();
    requireCatalogSchema(database);
    const auto locations = database.run([&](db::UnitOfWork& uow) { return catalog::Catalog().locations(uow); });
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& location : locations) {
            Poco::JSON::Object o;
            o.set("id", location.id);
            o.set("code", location.code);
            o.set("name", location.name);
            o.set("type", std::string(catalog::toString(location.type)));
            o.set("priority", location.priority);
            o.set("country", location.country);
            o.set("region", location.region);
            o.set("ships_to_customers", location.ships_to_customers);
            o.set("active", location.active);
            list.add(o);
        }
        Poco::JSON::Object body;
        body.set("locations", list);
        context.writeJson(body);
        return 0;
    }
    if (locations.empty()) {
        context.out() << "no locations; add them with `keel location import FILE.csv`\n";
        return 0;
    }
    const std::vector<std::string> headings = {"CODE",    "NAME",   "TYPE",  "PRIORITY",
                                               "COUNTRY", "REGION", "SHIPS", "ACTIVE"};
    std::vector<std::vector<std::string>> table{headings};
    for (const auto& l : locations) {
        table.push_back({l.code, l.name, std::string(catalog::toString(l.type)), std::to_string(l.priority), l.country,
                         l.region.empty() ? "-" : l.region, l.ships_to_customers ? "yes" : "no",
                         l.active ? "yes" : "no"});
    }
    std::vector<std::size_t> widths(headings.size(), 0);
    for (const auto& row : table) {
        for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
    }
    for (const auto& row : table) {
        std::string text;
        for (std::size_t i = 0; i < row.size(); ++i) {
            text += row[i];
            if (i + 1 < row.size()) text += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        context.out() << text << "\n";
    }
    return 0;
}

const char* const kImportPolicy =
    "A file is imported completely or not at all. Every row is checked first; if any row is bad, keel lists\n"
    "every problem (file:line: column 'name': reason) on standard error, or as JSON with --json, imports\n"
    "nothing and exits 2. Otherwise all rows are written in one transaction and keel reports how many were\n"
    "created, updated and unchanged. --dry-run checks the file and writes nothing. The file is UTF-8 CSV\n"
    "(RFC 4180) with a header line; unknown columns are refused.";

}  // namespace

void addCatalogCommands(std::vector<Command>& table) {
    table.push_back(
        {{"item", "import"},
         "FILE.csv [--dry-run]",
         "add or update items from a CSV file (all or nothing)",
         std::string(kImportPolicy) +
             "\n\nColumns (only sku and name are required; the rest default as shown):\n"
             "  sku              up to 64 characters, no spaces, control characters or ';'; rows update by SKU\n"
             "  name             up to 200 characters\n"
             "  description      (empty)\n"
             "  base_uom         each; a lowercase word such as each, g, ml\n"
             "  gtin             (none); 8, 12, 13 or 14 digits with a valid GS1 check digit\n"
             "  weight_mg, length_mm, width_mm, height_mm   (none); whole numbers >= 0\n"
             "  lot_tracked, expiry_tracked   false; true/false, yes/no or 1/0 (expiry needs lot tracking)\n"
             "  shelf_life_days  (none); 1-36500, only for expiry-tracked items\n"
             "  tax_class        standard\n"
             "  cost_method      moving_average; or fifo\n"
             "  status           active; or discontinued\n"
             "  safety_stock     0; in base units\n"
             "  units            (none); UOM=FACTOR[:GTIN];... e.g. case=12;pallet=480:10012345678902\n"
             "  components       (none); SKU=QUANTITY;... makes the item a kit, e.g. SKU-1=2;SKU-2=1.\n"
             "                   Components must be in the file or the item master and not be kits; kits\n"
             "                   are never lot-tracked.\n"
             "A column the file does not have leaves that field of existing items as it is (new items get the\n"
             "default); an empty cell in a column it has means the default. Units and components given for an\n"
             "item replace its old ones. `keel item export` writes every column, so an export can be edited and\n"
             "imported again.",
         itemImportCommand});
    table.push_back({{"item", "export"},
                     "[--output FILE]",
                     "write every item as CSV, in the columns of item import",
                     "Writes to standard output, or to FILE (replaced only when the export is complete). Items\n"
                     "are ordered by SKU; importing the output again changes nothing.",
                     itemExportCommand});
    table.push_back({{"item", "show"},
                     "SKU [--channel CHANNEL]",
                     "show one item with its units, components and aliases",
                     "Finds the item by SKU, then by CHANNEL's alias (with --channel), then by GTIN in any of its\n"
                     "8, 12, 13 or 14 digit forms (the item's or one of its units'); never by name. Exit 3 when\n"
                     "nothing matches.",
                     itemShowCommand});
    table.push_back({{"location", "import"},
                     "FILE.csv [--dry-run]",
                     "add or update locations from a CSV file (all or nothing)",
                     std::string(kImportPolicy) +
                         "\n\nColumns: code (required; up to 32 characters, no spaces), name (required), country\n"
                         "(required; two uppercase letters, e.g. US), type (warehouse; store, 3pl, transit or\n"
                         "virtual), priority (100; lower is preferred), region (empty), ships_to_customers (true),\n"
                         "active (true). Rows update by code; a column the file does not have leaves that field of\n"
                         "existing locations as it is.",
                     locationImportCommand});
    table.push_back({{"location", "list"},
                     "",
                     "list the locations by priority, then code",
                     "Shows code, name, type, priority, country, region and the flags of every location.",
                     locationListCommand});
    table.push_back({{"alias", "import"},
                     "FILE.csv [--dry-run]",
                     "add or move channel SKU aliases from a CSV file",
                     std::string(kImportPolicy) +
                         "\n\nColumns, all required: channel (e.g. amazon), channel_sku (what the channel calls the\n"
                         "item), sku (Keel's SKU, which must be in the item master). An existing alias moves to the\n"
                         "item named in the file.",
                     aliasImportCommand});
}

}  // namespace keel::cli
