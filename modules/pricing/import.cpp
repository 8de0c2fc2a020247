#include "keel/pricing/import.h"

#include "keel/catalog/csv_import.h"
#include "keel/db/batch_insert.h"
#include "keel/db/error.h"
#include "keel/db/for_each_in.h"
#include "keel/kernel/csv.h"
#include "keel/pricing/customers.h"
#include "keel/pricing/rules.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

namespace keel::pricing {

namespace {

using db::forEachIn;

const std::vector<std::string> kPriceColumns = {"price_list", "sku",      "unit_price", "min_quantity",
                                                "valid_from", "valid_to", "currency"};
const std::vector<std::string> kContractColumns = {"customer",     "sku",        "unit_price", "currency",
                                                   "min_quantity", "valid_from", "valid_to"};
const std::vector<std::string> kCustomerColumns = {"code",         "name",     "email",     "kind",
                                                   "credit_limit", "currency", "price_list"};

using catalog::csv_import::columnsOf;
using catalog::csv_import::readFile;
using catalog::csv_import::RowCheck;
using catalog::csv_import::sortProblems;

std::optional<Date> dateField(const csv::Row& row, const std::string& column) {
    const auto text = row.optionalText(column);
    if (!text) return std::nullopt;
    auto date = Date::parse(*text);
    if (!date) row.fail(column, date.problem().message);
    return date.value();
}

std::string codeOf(const Currency& currency) {
    return std::string(currency.code());
}

std::string describeValidFrom(const Validity& validity) {
    return validity.from ? validity.from->toString() : "(none)";
}

template <typename Set>
std::vector<std::string> listOf(const Set& set) {
    return std::vector<std::string>(set.begin(), set.end());
}

// A unique key refused a row that did not exist when this import looked: another import (or order intake, for
// customers) wrote it meanwhile. The unit rolls back and runs again, reading the stored rows afresh, so it
// updates them instead; only when that keeps happening (db.retry.attempts) is the import refused.
template <typename Work>
ImportReport runWrites(db::Database& database, const std::string& source, const std::string& what, Work&& work) {
    try {
        db::RunOptions options;
        options.retry_unique_violation = true;
        return database.run(std::forward<Work>(work), options);
    } catch (const db::DbError& e) {
        if (e.kind() != db::ErrorKind::kUniqueViolation) throw;
        throw ConflictError(source + ": " + what +
                            " of this file were written by someone else at the same moment, so nothing of the file "
                            "was imported; import it again (" +
                            e.what() + ")");
    }
}

// --- prices and contract prices -------------------------------------------------------------------------------

// One row of a price list or contract file. `owner` is the price list code or the customer code.
struct PriceRow {
    std::size_t line = 0;
    std::string owner;
    std::string sku;
    std::string unit_price_text;
    std::int64_t min_quantity = 1;
    Validity validity;
    const Currency* currency = nullptr;  ///< from the currency column, when given and valid
    std::set<std::string> bad;
    bool ok(const std::string& column) const { return bad.count(column) == 0; }
};

// What both price files share: sku, unit_price (syntax and sign; the decimals need the currency), min_quantity,
// valid_from, valid_to and currency. `owner_column` is price_list or customer.
PriceRow readPriceRow(const csv::Row& row, const std::string& source, const std::string& owner_column,
                      const std::function<std::optional<std::string>(std::string_view)>& owner_problem,
                      bool currency_required, std::vector<csv::ParseError>& problems) {
    PriceRow result;
    result.line = row.line();
    RowCheck check(source, row.line(), problems, result.bad);
    check.field([&] {
        result.owner = row.text(owner_column);
        if (auto problem = owner_problem(result.owner)) row.fail(owner_column, *problem);
    });
    check.field([&] { result.sku = row.text("sku"); });
    check.field([&] {
        result.unit_price_text = row.text("unit_price");
        auto syntax = parseAmountSyntax(result.unit_price_text);
        if (!syntax) row.fail("unit_price", syntax.problem().message);
    });
    check.field([&] {
        const auto quantity = row.optionalInteger("min_quantity");
        if (!quantity) return;
        auto checked = checkMinQuantity(*quantity);
        if (!checked) row.fail("min_quantity", checked.problem().message);
        result.min_quantity = *quantity;
    });
    std::optional<Date> from;
    std::optional<Date> to;
    check.field([&] { from = dateField(row, "valid_from"); });
    check.field([&] { to = dateField(row, "valid_to"); });
    if (result.ok("valid_from") && result.ok("valid_to")) {
        auto validity = makeValidity(from, to);
        if (validity) {
            result.validity = validity.value();
        } else {
            check.add(validity.problem().field, validity.problem().message);
        }
    }
    check.field([&] {
        const auto code = row.optionalText("currency");
        if (!code && currency_required) row.fail("currency", "is empty; give the currency of the price, e.g. USD");
        if (!code) return;
        auto currency = parseCurrency(*code);
        if (!currency) row.fail("currency", currency.problem().message);
        result.currency = currency.value();
    });
    return result;
}

// Each identity once per file: the second row naming it gets a problem that names the first.
template <typename Key>
void checkDuplicates(const std::vector<PriceRow>& rows, const std::string& source, const std::string& column,
                     const std::function<std::optional<Key>(const PriceRow&)>& key_of,
                     const std::function<std::string(const PriceRow&)>& describe,
                     std::vector<csv::ParseError>& problems) {
    std::map<Key, std::size_t> line_of;
    for (const auto& row : rows) {
        const auto key = key_of(row);
        if (!key) continue;
        const auto [it, inserted] = line_of.emplace(*key, row.line);
        if (!inserted) {
            problems.emplace_back(source, row.line, column,
                                  describe(row) + " is also on line " + std::to_string(it->second) +
                                      "; each price may appear once per file");
        }
    }
}

// Item ids of the SKUs of `rows`; a SKU not in the item master is a problem of its row.
std::map<std::string, std::string> resolveItems(db::UnitOfWork& uow, std::vector<PriceRow>& rows,
                                                const std::string& source, std::vector<csv::ParseError>& problems) {
    std::set<std::string> skus;
    for (const auto& row : rows) {
        if (row.ok("sku")) skus.insert(row.sku);
    }
    std::map<std::string, std::string> id_of_sku;
    forEachIn(uow, "SELECT sku, id FROM item WHERE sku IN ", "", listOf(skus),
              [&](const db::Statement& s) { id_of_sku[s.getString(0)] = s.getString(1); });
    for (auto& row : rows) {
        if (row.ok("sku") && id_of_sku.count(row.sku) == 0) {
            RowCheck(source, row.line, problems, row.bad)
                .add("sku", "'" + row.sku + "' is not in the item master; import the item first (keel item import)");
        }
    }
    return id_of_sku;
}

// The stored price of an identity, to tell created, updated and unchanged apart.
struct StoredPrice {
    std::string id;
    std::int64_t unit_price = 0;
    std::optional<std::int64_t> valid_to;
};

// (owner id or code, item id, currency ("" for list entries), min_quantity, valid_from)
using PriceKey = std::tuple<std::string, std::string, std::string, std::int64_t, std::int64_t>;

// A row ready to be written.
struct PriceWrite {
    std::string owner;  ///< price list code or customer id
    std::string item_id;
    std::string currency;  ///< contracts only
    std::int64_t min_quantity = 1;
    std::int64_t unit_price = 0;
    Validity validity;
    std::optional<std::string> existing_id;
};

// Counts and splits the rows into inserts and updates against what is stored.
void classify(const std::vector<PriceWrite>& writes, const std::map<PriceKey, StoredPrice>& stored,
              ImportReport& report, std::vector<const PriceWrite*>& inserts,
              std::vector<std::pair<const PriceWrite*, std::string>>& updates) {
    for (const auto& write : writes) {
        const auto found =
            stored.find({write.owner, write.item_id, write.currency, write.min_quantity, write.validity.fromYmd()});
        if (found == stored.end()) {
            ++report.created;
            inserts.push_back(&write);
        } else if (found->second.unit_price == write.unit_price && found->second.valid_to == write.validity.toYmd()) {
            ++report.unchanged;
        } else {
            ++report.updated;
            updates.emplace_back(&write, found->second.id);
        }
    }
}

// Inserts the new rows and updates the changed ones of price_entry (owner: the list) or contract_price (owner:
// the customer, with the currency), reporting progress.
void writePrices(db::UnitOfWork& uow, IdGenerator& ids, const std::string& table,
                 const std::vector<const PriceWrite*>& inserts,
                 const std::vector<std::pair<const PriceWrite*, std::string>>& updates, std::int64_t now,
                 const ImportOptions& options) {
    const bool contract = table == "contract_price";
    const std::uint64_t total = inserts.size() + updates.size();
    std::uint64_t done = 0;
    std::vector<std::string> columns = {"id", contract ? "customer_id" : "price_list_code", "item_id"};
    if (contract) columns.push_back("currency");
    columns.insert(columns.end(), {"min_quantity", "unit_price", "valid_from", "valid_to", "created_at", "updated_at"});
    db::BatchInsert rows(uow, table, columns);
    for (const PriceWrite* write : inserts) {
        std::vector<db::Field> row = {ids.next(), write->owner, write->item_id};
        if (contract) row.emplace_back(write->currency);
        row.insert(row.end(),
                   {write->min_quantity, write->unit_price, static_cast<std::int64_t>(write->validity.fromYmd()),
                    write->validity.toYmd(), now, now});
        rows.addRow(row);
        if (options.on_write) options.on_write(++done, total);
    }
    rows.flush();
    const std::string update = "UPDATE " + table + " SET unit_price = ?, valid_to = ?, updated_at = ? WHERE id = ?";
    for (const auto& [write, id] : updates) {
        uow.statement(update).bindAll(write->unit_price, write->validity.toYmd(), now, id).execute();
        if (options.on_write) options.on_write(++done, total);
    }
}

// --- customers ------------------------------------------------------------------------------------------------

struct CustomerRow {
    std::size_t line = 0;
    Customer customer;
    std::optional<std::string> credit_limit_text;  ///< parsed once the currency is known
    bool currency_given = false;                   ///< a currency cell that is not empty
    std::set<std::string> bad;
    bool ok(const std::string& column) const { return bad.count(column) == 0; }
};

bool sameCustomer(const Customer& a, const Customer& b) {
    auto minor = [](const Customer& c) {
        return c.credit_limit ? std::optional<std::int64_t>(c.credit_limit->minor()) : std::nullopt;
    };
    return std::tie(a.name, a.email, a.kind, a.price_list) == std::tie(b.name, b.email, b.kind, b.price_list) &&
           *a.currency == *b.currency && minor(a) == minor(b);
}

}  // namespace

const std::vector<std::string>& priceCsvColumns() {
    return kPriceColumns;
}
const std::vector<std::string>& contractCsvColumns() {
    return kContractColumns;
}
const std::vector<std::string>& customerCsvColumns() {
    return kCustomerColumns;
}

ImportReport PricingCsv::importPrices(db::Database& database, std::istream& in, const std::string& source,
                                      const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;
    std::vector<PriceRow> parsed;
    std::set<std::string> present;
    readFile(
        in, source, kPriceColumns, {"price_list", "sku", "unit_price"}, options, report, present,
        [&](const csv::Row& row) {
            parsed.push_back(readPriceRow(row, source, "price_list", priceListCodeProblem, false, report.problems));
        });
    checkDuplicates<std::tuple<std::string, std::string, std::int64_t, int>>(
        parsed, source, "sku",
        [](const PriceRow& row) -> std::optional<std::tuple<std::string, std::string, std::int64_t, int>> {
            if (!row.ok("price_list") || !row.ok("sku") || !row.ok("min_quantity") || !row.ok("valid_from")) {
                return std::nullopt;
            }
            return std::make_tuple(row.owner, row.sku, row.min_quantity, row.validity.fromYmd());
        },
        [](const PriceRow& row) {
            return "the price of '" + row.sku + "' in list '" + row.owner + "' from quantity " +
                   std::to_string(row.min_quantity) + " and valid_from " + describeValidFrom(row.validity);
        },
        report.problems);

    // Everything that needs the database is checked in the unit of work that writes, so what was checked is what
    // is written; a retried attempt starts afresh.
    return runWrites(database, source, "prices", [&](db::UnitOfWork& uow) {
        ImportReport result = report;
        std::vector<PriceRow> rows = parsed;
        const auto id_of_sku = resolveItems(uow, rows, source, result.problems);

        std::set<std::string> codes;
        for (const auto& row : rows) {
            if (row.ok("price_list")) codes.insert(row.owner);
        }
        std::map<std::string, const Currency*> stored_lists;
        forEachIn(uow, "SELECT code, currency FROM price_list WHERE code IN ", "", listOf(codes),
                  [&](const db::Statement& s) {
                      const auto currency = Currency::find(s.getString(1));
                      stored_lists[s.getString(0)] = currency ? &Currency::of(currency->code()) : nullptr;
                  });

        // The currency of every list: the stored one, or for a new list the first one its rows name.
        std::map<std::string, const Currency*> list_currency = stored_lists;
        std::map<std::string, std::size_t> line_of_currency;  // new list -> the line that set its currency
        std::map<std::string, std::size_t> first_line;        // new list -> its first row
        std::set<std::string> unsure;                         // new lists with a bad currency cell
        for (auto& row : rows) {
            if (!row.ok("price_list")) continue;
            const auto stored = stored_lists.find(row.owner);
            if (stored != stored_lists.end()) {
                if (stored->second == nullptr) {
                    RowCheck(source, row.line, result.problems, row.bad)
                        .add("price_list", "price list '" + row.owner +
                                               "' is stored with a currency this keel does not know; upgrade keel");
                } else if (row.ok("currency") && row.currency != nullptr && *row.currency != *stored->second) {
                    RowCheck(source, row.line, result.problems, row.bad)
                        .add("currency", "price list '" + row.owner + "' is in " + codeOf(*stored->second) +
                                             ", and a list's currency never changes; put " + codeOf(*row.currency) +
                                             " prices in a list of their own");
                }
                continue;
            }
            first_line.emplace(row.owner, row.line);
            if (!row.ok("currency")) {
                unsure.insert(row.owner);
                continue;
            }
            if (row.currency == nullptr) continue;
            const auto [it, inserted] = list_currency.emplace(row.owner, row.currency);
            if (inserted) {
                line_of_currency[row.owner] = row.line;
            } else if (*it->second != *row.currency) {
                RowCheck(source, row.line, result.problems, row.bad)
                    .add("currency", "new price list '" + row.owner + "' is created in " + codeOf(*it->second) +
                                         " by line " + std::to_string(line_of_currency[row.owner]) +
                                         ", and a list has one currency; put " + codeOf(*row.currency) +
                                         " prices in a list of their own");
            }
        }
        for (const auto& [code, line] : first_line) {
            if (list_currency.count(code) != 0 || unsure.count(code) != 0) continue;
            result.problems.emplace_back(source, line, "currency",
                                         "price list '" + code +
                                             "' does not exist yet: give its currency (e.g. USD) in column 'currency' "
                                             "of at least one of its rows");
        }

        // Amounts, exact in the list's currency.
        std::vector<PriceWrite> writes;
        for (auto& row : rows) {
            const auto currency = row.ok("price_list") ? list_currency.find(row.owner) : list_currency.end();
            if (currency == list_currency.end() || currency->second == nullptr || !row.ok("unit_price")) continue;
            auto amount = parseAmount(row.unit_price_text, *currency->second);
            if (!amount) {
                RowCheck(source, row.line, result.problems, row.bad).add("unit_price", amount.problem().message);
                continue;
            }
            if (!row.bad.empty()) continue;
            writes.push_back(PriceWrite{row.owner, id_of_sku.at(row.sku), "", row.min_quantity, amount.value().minor(),
                                        row.validity, std::nullopt});
        }
        sortProblems(result.problems, kPriceColumns);
        if (!result.ok()) return result;

        std::set<std::string> item_ids;
        for (const auto& write : writes) item_ids.insert(write.item_id);
        std::map<PriceKey, StoredPrice> stored;
        forEachIn(
            uow,
            "SELECT id, price_list_code, item_id, min_quantity, valid_from, unit_price, valid_to FROM price_entry "
            "WHERE item_id IN ",
            "", listOf(item_ids), [&](const db::Statement& s) {
                stored[{s.getString(1), s.getString(2), "", s.getInt64(3), s.getInt64(4)}] =
                    StoredPrice{s.getString(0), s.getInt64(5), s.getOptionalInt64(6)};
            });
        std::vector<const PriceWrite*> inserts;
        std::vector<std::pair<const PriceWrite*, std::string>> updates;
        classify(writes, stored, result, inserts, updates);
        if (options.dry_run) return result;

        const std::int64_t now = clock_.nowMicros();
        db::BatchInsert lists(uow, "price_list", {"code", "name", "currency", "created_at", "updated_at"});
        for (const auto& [code, currency] : list_currency) {
            if (stored_lists.count(code) == 0) lists.add(code, code, std::string(currency->code()), now, now);
        }
        lists.flush();
        writePrices(uow, ids_, "price_entry", inserts, updates, now, options);
        return result;
    });
}

ImportReport PricingCsv::importContracts(db::Database& database, std::istream& in, const std::string& source,
                                         const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;
    std::vector<PriceRow> parsed;
    std::set<std::string> present;
    readFile(in, source, kContractColumns, {"customer", "sku", "unit_price", "currency"}, options, report, present,
             [&](const csv::Row& row) {
                 parsed.push_back(readPriceRow(row, source, "customer", customerCodeProblem, true, report.problems));
             });
    using Key = std::tuple<std::string, std::string, std::string, std::int64_t, int>;
    checkDuplicates<Key>(
        parsed, source, "sku",
        [](const PriceRow& row) -> std::optional<Key> {
            if (!row.ok("customer") || !row.ok("sku") || !row.ok("currency") || !row.ok("min_quantity") ||
                !row.ok("valid_from")) {
                return std::nullopt;
            }
            return std::make_tuple(row.owner, row.sku, std::string(row.currency->code()), row.min_quantity,
                                   row.validity.fromYmd());
        },
        [](const PriceRow& row) {
            return "the " + std::string(row.currency->code()) + " contract price of '" + row.sku + "' for customer '" +
                   row.owner + "' from quantity " + std::to_string(row.min_quantity) + " and valid_from " +
                   describeValidFrom(row.validity);
        },
        report.problems);

    return runWrites(database, source, "contract prices", [&](db::UnitOfWork& uow) {
        ImportReport result = report;
        std::vector<PriceRow> rows = parsed;
        const auto id_of_sku = resolveItems(uow, rows, source, result.problems);

        std::set<std::string> codes;
        for (const auto& row : rows) {
            if (row.ok("customer")) codes.insert(row.owner);
        }
        std::map<std::string, std::string> id_of_customer;
        forEachIn(uow, "SELECT code, id FROM customer WHERE code IN ", "", listOf(codes),
                  [&](const db::Statement& s) { id_of_customer[s.getString(0)] = s.getString(1); });

        std::vector<PriceWrite> writes;
        for (auto& row : rows) {
            RowCheck check(source, row.line, result.problems, row.bad);
            if (row.ok("customer") && id_of_customer.count(row.owner) == 0) {
                check.add("customer", "'" + row.owner + "' is not a customer; import it first (keel customer import)");
            }
            if (!row.ok("currency") || !row.ok("unit_price")) continue;
            auto amount = parseAmount(row.unit_price_text, *row.currency);
            if (!amount) {
                check.add("unit_price", amount.problem().message);
                continue;
            }
            if (!row.bad.empty()) continue;
            writes.push_back(PriceWrite{id_of_customer.at(row.owner), id_of_sku.at(row.sku),
                                        std::string(row.currency->code()), row.min_quantity, amount.value().minor(),
                                        row.validity, std::nullopt});
        }
        sortProblems(result.problems, kContractColumns);
        if (!result.ok()) return result;

        std::set<std::string> item_ids;
        for (const auto& write : writes) item_ids.insert(write.item_id);
        std::map<PriceKey, StoredPrice> stored;
        forEachIn(uow,
                  "SELECT id, customer_id, item_id, currency, min_quantity, valid_from, unit_price, valid_to "
                  "FROM contract_price WHERE item_id IN ",
                  "", listOf(item_ids), [&](const db::Statement& s) {
                      stored[{s.getString(1), s.getString(2), s.getString(3), s.getInt64(4), s.getInt64(5)}] =
                          StoredPrice{s.getString(0), s.getInt64(6), s.getOptionalInt64(7)};
                  });
        std::vector<const PriceWrite*> inserts;
        std::vector<std::pair<const PriceWrite*, std::string>> updates;
        classify(writes, stored, result, inserts, updates);
        if (options.dry_run) return result;

        const std::int64_t now = clock_.nowMicros();
        writePrices(uow, ids_, "contract_price", inserts, updates, now, options);
        return result;
    });
}

ImportReport PricingCsv::importCustomers(db::Database& database, std::istream& in, const std::string& source,
                                         const Currency& default_currency, const ImportOptions& options) const {
    ImportReport report;
    report.source = source;
    report.dry_run = options.dry_run;
    std::vector<CustomerRow> parsed;
    std::set<std::string> present;
    readFile(in, source, kCustomerColumns, {"code", "name"}, options, report, present, [&](const csv::Row& row) {
        CustomerRow result;
        result.line = row.line();
        Customer& customer = result.customer;
        customer.currency = &default_currency;
        RowCheck check(source, row.line(), report.problems, result.bad);
        check.field([&] {
            customer.code = row.text("code");
            if (auto problem = customerCodeProblem(customer.code)) row.fail("code", *problem);
        });
        check.field([&] {
            customer.name = row.text("name");
            if (auto problem = customerNameProblem(customer.name)) row.fail("name", *problem);
        });
        check.field([&] {
            customer.email = row.optionalText("email").value_or("");
            if (auto problem = emailProblem(customer.email)) row.fail("email", *problem);
        });
        check.field([&] {
            const auto text = row.optionalText("kind");
            if (!text) return;
            const auto kind = customerKindFrom(*text);
            if (!kind) row.fail("kind", "'" + *text + "' is not a customer kind; use b2c or b2b");
            customer.kind = *kind;
        });
        check.field([&] {
            result.credit_limit_text = row.optionalText("credit_limit");
            if (!result.credit_limit_text) return;
            auto syntax = parseAmountSyntax(*result.credit_limit_text);
            if (!syntax) row.fail("credit_limit", syntax.problem().message);
        });
        check.field([&] {
            const auto code = row.optionalText("currency");
            if (!code) return;
            auto currency = parseCurrency(*code);
            if (!currency) row.fail("currency", currency.problem().message);
            customer.currency = currency.value();
            result.currency_given = true;
        });
        check.field([&] {
            customer.price_list = row.optionalText("price_list").value_or("");
            if (customer.price_list.empty()) return;
            if (auto problem = priceListCodeProblem(customer.price_list)) row.fail("price_list", *problem);
        });
        parsed.push_back(std::move(result));
    });

    std::map<std::string, std::size_t> line_of_code;
    for (const auto& row : parsed) {
        if (!row.ok("code")) continue;
        const auto [it, inserted] = line_of_code.emplace(row.customer.code, row.line);
        if (!inserted) {
            report.problems.emplace_back(source, row.line, "code",
                                         "'" + row.customer.code + "' is also on line " + std::to_string(it->second) +
                                             "; each customer code may appear once per file");
        }
    }

    auto absent = [&](const char* column) { return present.count(column) == 0; };
    return runWrites(database, source, "customers", [&](db::UnitOfWork& uow) {
        ImportReport result = report;
        std::vector<CustomerRow> rows = parsed;

        std::set<std::string> codes;
        std::set<std::string> lists;
        for (const auto& row : rows) {
            if (row.ok("code")) codes.insert(row.customer.code);
            if (row.ok("price_list") && !row.customer.price_list.empty()) lists.insert(row.customer.price_list);
        }
        const std::map<std::string, Customer> existing = Customers(clock_, ids_).findByCodes(uow, listOf(codes));
        std::set<std::string> stored_lists;
        forEachIn(uow, "SELECT code FROM price_list WHERE code IN ", "", listOf(lists),
                  [&](const db::Statement& s) { stored_lists.insert(s.getString(0)); });

        std::vector<std::pair<const CustomerRow*, bool>> writes;  // row, is new
        for (auto& row : rows) {
            RowCheck check(source, row.line, result.problems, row.bad);
            Customer& customer = row.customer;
            const auto old = row.ok("code") ? existing.find(customer.code) : existing.end();
            if (old != existing.end()) {
                // A column the file does not have leaves the field as it is.
                customer.id = old->second.id;
                if (absent("email")) customer.email = old->second.email;
                if (absent("kind")) customer.kind = old->second.kind;
                if (absent("currency")) customer.currency = old->second.currency;
                if (absent("price_list")) customer.price_list = old->second.price_list;
                if (absent("credit_limit")) {
                    if (old->second.credit_limit && *customer.currency != *old->second.currency && row.ok("currency")) {
                        check.add("currency",
                                  "changes the currency of customer '" + customer.code + "' from " +
                                      std::string(old->second.currency->code()) + " to " +
                                      std::string(customer.currency->code()) + ", and its credit limit of " +
                                      old->second.credit_limit->toString() + " " +
                                      std::string(old->second.currency->code()) +
                                      " would then mean something else; give the new limit in a credit_limit column");
                    } else if (old->second.credit_limit) {
                        customer.credit_limit = old->second.credit_limit;
                    }
                }
            }
            if (row.ok("price_list") && !customer.price_list.empty() && !absent("price_list") &&
                stored_lists.count(customer.price_list) == 0) {
                check.add("price_list", "price list '" + customer.price_list +
                                            "' does not exist; import its prices first (keel price import) or leave "
                                            "the cell empty for the default list");
            }
            if (row.credit_limit_text && row.ok("credit_limit") && row.ok("currency")) {
                auto limit = parseAmount(*row.credit_limit_text, *customer.currency);
                if (limit) {
                    customer.credit_limit = limit.value();
                } else {
                    check.add("credit_limit", limit.problem().message);
                }
            }
            if (!row.bad.empty()) continue;
            if (old == existing.end()) {
                ++result.created;
                writes.emplace_back(&row, true);
            } else if (sameCustomer(customer, old->second)) {
                ++result.unchanged;
            } else {
                ++result.updated;
                writes.emplace_back(&row, false);
            }
        }
        sortProblems(result.problems, kCustomerColumns);
        if (!result.ok()) {
            result.created = result.updated = result.unchanged = 0;
            return result;
        }
        if (options.dry_run) return result;

        const std::int64_t now = clock_.nowMicros();
        std::uint64_t done = 0;
        db::BatchInsert inserts(uow, "customer",
                                {"id", "code", "name", "email", "kind", "credit_limit", "currency", "price_list",
                                 "created_at", "updated_at"});
        auto limitOf = [](const Customer& c) {
            return c.credit_limit ? std::optional<std::int64_t>(c.credit_limit->minor()) : std::nullopt;
        };
        for (const auto& [row, is_new] : writes) {
            const Customer& c = row->customer;
            if (is_new) {
                inserts.add(ids_.next(), c.code, c.name, c.email, std::string(customerKindName(c.kind)), limitOf(c),
                            std::string(c.currency->code()), c.price_list, now, now);
            } else {
                uow.statement(
                       "UPDATE customer SET name = ?, email = ?, kind = ?, credit_limit = ?, currency = ?, "
                       "price_list = ?, updated_at = ? WHERE id = ?")
                    .bindAll(c.name, c.email, customerKindName(c.kind), limitOf(c), c.currency->code(), c.price_list,
                             now, c.id)
                    .execute();
            }
            if (options.on_write) options.on_write(++done, writes.size());
        }
        inserts.flush();
        return result;
    });
}

}  // namespace keel::pricing
