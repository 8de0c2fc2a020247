#include "keel/inventory/stock_import.h"

#include "keel/kernel/csv.h"

#include <istream>
#include <map>

namespace keel::inventory {

namespace {

struct ItemRow {
    std::string id;
    bool lot_tracked = false;
    bool expiry_tracked = false;
    bool is_kit = false;
};

struct Line {
    std::size_t line = 0;
    ReceiveRequest request;
};

constexpr std::size_t kMaxProblems = 200;

}  // namespace

StockImportResult importStockLevels(db::Database& database, Inventory& inventory, std::istream& in,
                                    const std::string& source_name, const Source& source,
                                    const std::string& default_currency, const ImportProgress& progress) {
    StockImportResult result;
    // Identifiers are resolved with one query per table, not one per row.
    std::map<std::string, ItemRow> items;
    std::map<std::string, std::string> locations;
    database.run([&](db::UnitOfWork& uow) {
        items.clear();
        locations.clear();
        db::Statement& item_rows = uow.statement("SELECT sku, id, lot_tracked, expiry_tracked, is_kit FROM item");
        item_rows.execute();
        while (item_rows.next()) {
            items[item_rows.getString(0)] = ItemRow{item_rows.getString(1), item_rows.getInt64(2) != 0,
                                                    item_rows.getInt64(3) != 0, item_rows.getInt64(4) != 0};
        }
        db::Statement& location_rows = uow.statement("SELECT code, id FROM location");
        location_rows.execute();
        while (location_rows.next()) locations[location_rows.getString(0)] = location_rows.getString(1);
    });

    std::vector<Line> lines;
    auto problem = [&](const std::string& text) {
        if (result.problems.size() < kMaxProblems) result.problems.push_back(text);
    };
    try {
        csv::Reader reader(in, source_name);
        csv::Record header_record;
        if (!reader.next(header_record)) {
            problem(source_name + ": the file is empty (expected a header line: sku,location,quantity,...)");
            return result;
        }
        const csv::Header header(header_record,
                                 csv::Columns{{"sku", "location", "quantity"}, {"lot", "expiry", "unit_cost", "currency"}},
                                 source_name);
        csv::Record record;
        while (reader.next(record)) {
            ++result.rows;
            if (progress) progress(static_cast<std::uint64_t>(result.rows), reader.bytesRead());
            try {
                const csv::Row row(header, record);
                Line line;
                line.line = row.line();
                const std::string sku = row.text("sku");
                const auto item = items.find(sku);
                if (item == items.end()) row.fail("sku", "unknown item '" + sku + "' (import the item master first)");
                if (item->second.is_kit) row.fail("sku", sku + " is a kit: load stock of its components");
                const std::string code = row.text("location");
                const auto location = locations.find(code);
                if (location == locations.end()) row.fail("location", "unknown location '" + code + "'");
                line.request.item_id = item->second.id;
                line.request.location_id = location->second;
                line.request.quantity = row.integer("quantity");
                if (line.request.quantity <= 0) row.fail("quantity", "must be a positive whole number of base units");
                line.request.lot_code = row.optionalText("lot");
                if (item->second.lot_tracked && !line.request.lot_code) row.fail("lot", sku + " is lot-tracked: give the lot");
                if (!item->second.lot_tracked && line.request.lot_code) row.fail("lot", sku + " does not track lots");
                if (const auto expiry = row.optionalText("expiry")) {
                    const auto date = Date::parse(*expiry);
                    if (!date) row.fail("expiry", date.problem().message);
                    if (!item->second.expiry_tracked) row.fail("expiry", sku + " does not track expiry");
                    line.request.expiry = date.value();
                }
                if (const auto cost = row.optionalText("unit_cost")) {
                    const std::string currency = row.optionalText("currency").value_or(default_currency);
                    try {
                        line.request.unit_cost = Money::parse(*cost, Currency::of(currency));
                    } catch (const RejectedError& e) {
                        row.fail("unit_cost", e.what());
                    }
                    if (line.request.unit_cost->isNegative()) row.fail("unit_cost", "must not be negative");
                }
                line.request.reason = "opening_balance";
                line.request.source = source;
                line.request.source.type = "stock_import";
                line.request.source.id = source_name + ":" + std::to_string(row.line());
                if (__builtin_add_overflow(result.quantity, line.request.quantity, &result.quantity)) {
                    row.fail("quantity", "the file's total quantity is out of range");
                }
                lines.push_back(std::move(line));
            } catch (const csv::ParseError& e) {
                problem(e.what());
            }
        }
    } catch (const csv::ParseError& e) {
        problem(e.what());  // the file's structure is broken: nothing after this point can be trusted
    }
    if (!result.ok()) return result;

    auto written = database.run([&](db::UnitOfWork& uow) -> Result<std::int64_t> {
        for (const auto& line : lines) {
            auto received = inventory.receive(uow, line.request);
            if (!received) {
                Problem p = received.problem();
                p.message = source_name + ":" + std::to_string(line.line) + ": " + p.message;
                return p;
            }
        }
        return static_cast<std::int64_t>(lines.size());
    });
    if (!written) result.problems.push_back(written.problem().message);
    return result;
}

}  // namespace keel::inventory
