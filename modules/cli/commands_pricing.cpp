// keel price import|contract-import|show, keel customer import|show.
#include "commands_pricing.h"
#include "csv_import.h"

#include "keel/catalog/catalog.h"
#include "keel/db/migrations.h"
#include "keel/kernel/error.h"
#include "keel/pricing/customers.h"
#include "keel/pricing/import.h"
#include "keel/pricing/price_book.h"
#include "keel/pricing/rules.h"

#include <Poco/JSON/Object.h>

#include <optional>
#include <ostream>

namespace keel::cli {

namespace {

// The pricing commands need the pricing tables.
void requirePricingSchema(db::Database& database) {
    requireMigration(database, "pricing", "pricing and customers need");
}

const Currency& ledgerCurrency(Context& context) {
    const std::string code = context.config().getString("ledger.currency", "USD");
    auto currency = pricing::parseCurrency(code);
    if (!currency) throw UsageError("configuration key ledger.currency: " + currency.problem().message);
    return *currency.value();
}

int runImport(Context& context, const std::vector<std::string>& args, const std::string& command,
              const CsvImport& import, const std::string& noun) {
    return runCsvImport(context, args, command, import, noun, "pricing", "pricing and customers need");
}

int priceImportCommand(Context& context, const std::vector<std::string>& args) {
    return runImport(
        context, args, "price import",
        [](db::Database& database, std::istream& in, const std::string& source, const pricing::ImportOptions& o) {
            return pricing::PricingCsv().importPrices(database, in, source, o);
        },
        "price");
}

int contractImportCommand(Context& context, const std::vector<std::string>& args) {
    return runImport(
        context, args, "price contract-import",
        [](db::Database& database, std::istream& in, const std::string& source, const pricing::ImportOptions& o) {
            return pricing::PricingCsv().importContracts(database, in, source, o);
        },
        "contract price");
}

int customerImportCommand(Context& context, const std::vector<std::string>& args) {
    const Currency& currency = ledgerCurrency(context);
    return runImport(
        context, args, "customer import",
        [&currency](db::Database& database, std::istream& in, const std::string& source,
                    const pricing::ImportOptions& o) {
            return pricing::PricingCsv().importCustomers(database, in, source, currency, o);
        },
        "customer");
}

// Two-column text output: "key             value".
void printLine(std::ostream& out, const std::string& key, const std::string& value) {
    out << key << std::string(key.size() < 16 ? 16 - key.size() : 1, ' ') << value << "\n";
}

int priceShowCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "price show", {"customer", "quantity", "date", "currency"});
    args.expectPositional(1, 1, "SKU [--customer CODE] [--quantity N] [--date YYYY-MM-DD] [--currency C]");
    const std::int64_t quantity = args.integerValue("quantity").value_or(1);
    if (quantity < 1) {
        throw RejectedError("--quantity " + std::to_string(quantity) +
                            ": give a positive whole number of base units (the line quantity to price)");
    }
    Date date = Date::today(Clock::system());
    if (const auto text = args.value("date")) {
        auto parsed = Date::parse(*text);
        if (!parsed) throw RejectedError("--date: " + parsed.problem().message);
        date = parsed.value();
    }
    const Currency* wanted = nullptr;
    if (const auto code = args.value("currency")) {
        auto currency = pricing::parseCurrency(*code);
        if (!currency) throw RejectedError("--currency: " + currency.problem().message);
        wanted = currency.value();
    }
    const Currency& fallback = ledgerCurrency(context);
    const auto customer_code = args.value("customer");

    db::Database& database = context.database();
    requirePricingSchema(database);
    const pricing::PriceBook book(pricing::defaultPriceList(context.config()));
    struct Shown {
        catalog::Item item;
        std::optional<pricing::Customer> customer;
        orders::PriceQuery query;
        std::optional<pricing::PriceMatch> match;
    };
    const Shown shown = database.run([&](db::UnitOfWork& uow) {
        Shown s;
        s.item = catalog::Catalog().requireItem(uow, args.positional().front());
        if (customer_code) s.customer = pricing::Customers().requireByCode(uow, *customer_code);
        s.query.item_id = s.item.id;
        s.query.sku = s.item.sku;
        s.query.quantity = quantity;
        s.query.date = date;
        if (s.customer) {
            s.query.customer_id = s.customer->id;
            s.query.customer_code = s.customer->code;
            s.query.price_list = s.customer->price_list;
        }
        // The order currency: as asked, else the customer's, else the list's, else ledger.currency.
        s.query.currency = wanted != nullptr ? wanted : s.customer ? s.customer->currency : nullptr;
        const std::string& list = book.listFor(s.query);
        if (s.query.currency == nullptr && !list.empty()) {
            db::Statement& select = uow.statement("SELECT currency FROM price_list WHERE code = ?");
            select.bind(list).execute();
            while (select.next()) {
                if (auto currency = pricing::parseCurrency(select.getString(0))) s.query.currency = currency.value();
            }
        }
        if (s.query.currency == nullptr) s.query.currency = &fallback;
        s.match = book.find(uow, s.query);
        return s;
    });

    const orders::PriceQuery& query = shown.query;
    const std::string currency(query.currency->code());
    const std::string& list = book.listFor(query);
    if (!shown.match) {
        std::string why;
        if (shown.customer) why = "no contract price of customer " + shown.customer->code + " applies, and ";
        why += list.empty() ? std::string(
                                  "no price list applies (the customer has none and pricing.default_list is "
                                  "not set)")
                            : "price list " + list + " has no " + currency + " price for it";
        throw NotFoundError("no price for " + shown.item.sku + " x " + std::to_string(quantity) + " in " + currency +
                            " on " + date.toString() + ": " + why +
                            "; an order would be held for a missing price. Import prices with `keel price import`.");
    }
    const pricing::PriceMatch& match = *shown.match;
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("sku", shown.item.sku);
        o.set("item_id", shown.item.id);
        o.set("customer", shown.customer ? Poco::Dynamic::Var(shown.customer->code) : Poco::Dynamic::Var());
        o.set("quantity", static_cast<Poco::Int64>(quantity));
        o.set("date", date.toString());
        o.set("currency", currency);
        o.set("unit_price", match.price.unit_price.toString());
        o.set("unit_price_minor", static_cast<Poco::Int64>(match.price.unit_price.minor()));
        o.set("source", match.price.source);
        o.set("price_list", match.price_list.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(match.price_list));
        o.set("min_quantity", static_cast<Poco::Int64>(match.min_quantity));
        o.set("valid_from",
              match.validity.from ? Poco::Dynamic::Var(match.validity.from->toString()) : Poco::Dynamic::Var());
        o.set("valid_to", match.validity.to ? Poco::Dynamic::Var(match.validity.to->toString()) : Poco::Dynamic::Var());
        context.writeJson(o);
        return 0;
    }
    std::ostream& out = context.out();
    printLine(out, "sku", shown.item.sku);
    if (shown.customer) printLine(out, "customer", shown.customer->code);
    printLine(out, "quantity", std::to_string(quantity) + " " + shown.item.base_uom);
    printLine(out, "date", date.toString());
    printLine(out, "unit price", match.price.unit_price.toString() + " " + currency);
    printLine(out, "source", match.price.source);
    printLine(out, "break", "from " + std::to_string(match.min_quantity) + " " + shown.item.base_uom);
    printLine(out, "valid", match.validity.toString());
    return 0;
}

int customerShowCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "customer show", {});
    args.expectPositional(1, 1, "CODE");
    db::Database& database = context.database();
    requirePricingSchema(database);
    const pricing::Customer customer = database.run(
        [&](db::UnitOfWork& uow) { return pricing::Customers().requireByCode(uow, args.positional().front()); });
    const std::string default_list = pricing::defaultPriceList(context.config());
    const std::string currency(customer.currency->code());
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("id", customer.id);
        o.set("code", customer.code);
        o.set("name", customer.name);
        o.set("email", customer.email);
        o.set("kind", std::string(pricing::customerKindName(customer.kind)));
        o.set("currency", currency);
        o.set("credit_limit",
              customer.credit_limit ? Poco::Dynamic::Var(customer.credit_limit->toString()) : Poco::Dynamic::Var());
        o.set("price_list",
              customer.price_list.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(customer.price_list));
        o.set("created_at", formatIso8601(customer.created_at));
        o.set("updated_at", formatIso8601(customer.updated_at));
        context.writeJson(o);
        return 0;
    }
    std::ostream& out = context.out();
    printLine(out, "code", customer.code);
    printLine(out, "id", customer.id);
    printLine(out, "name", customer.name);
    printLine(out, "email", customer.email.empty() ? "-" : customer.email);
    printLine(out, "kind", std::string(pricing::customerKindName(customer.kind)));
    printLine(out, "currency", currency);
    printLine(out, "credit limit", customer.credit_limit ? customer.credit_limit->toString() + " " + currency : "none");
    printLine(out, "price list",
              !customer.price_list.empty() ? customer.price_list
              : default_list.empty()       ? std::string("none (pricing.default_list is not set)")
                                           : default_list + " (the default list)");
    printLine(out, "created", formatIso8601(customer.created_at));
    printLine(out, "updated", formatIso8601(customer.updated_at));
    return 0;
}

const char* const kImportPolicy =
    "A file is imported completely or not at all. Every row is checked first; if any row is bad, keel lists\n"
    "every problem (file:line: column 'name': reason) on standard error, or as JSON with --json, imports\n"
    "nothing and exits 2. Otherwise all rows are written in one transaction and keel reports how many were\n"
    "created, updated and unchanged. --dry-run checks the file and writes nothing. The file is UTF-8 CSV\n"
    "(RFC 4180) with a header line; unknown columns are refused. Amounts are decimal strings with '.' and are\n"
    "exact: more decimal places than the currency has (19.995 USD) is a problem, never rounded. Dates are\n"
    "YYYY-MM-DD and both ends of a validity are included.";

}  // namespace

void addPricingCommands(std::vector<Command>& table) {
    table.push_back(
        {{"price", "import"},
         "FILE.csv [--dry-run]",
         "add or update price list entries from a CSV file (all or nothing)",
         std::string(kImportPolicy) +
             "\n\nColumns (price_list, sku and unit_price are required):\n"
             "  price_list    the list's code (letters, digits, '-', '_', '.'; at most 32), e.g. RETAIL\n"
             "  sku           an item of the item master\n"
             "  unit_price    the price of one base unit in the list's currency, e.g. 19.99\n"
             "  min_quantity  1; the quantity (base units) from which this price applies: quantity breaks\n"
             "  valid_from    (no start); YYYY-MM-DD\n"
             "  valid_to      (no end); YYYY-MM-DD, not before valid_from\n"
             "  currency      the list's currency; needed for a list that does not exist yet (it is then\n"
             "                created). A list's currency never changes.\n"
             "A price is identified by price_list, sku, min_quantity and valid_from: importing it again replaces\n"
             "its unit_price and valid_to.",
         priceImportCommand});
    table.push_back(
        {{"price", "contract-import"},
         "FILE.csv [--dry-run]",
         "add or update customer contract prices from a CSV file (all or nothing)",
         std::string(kImportPolicy) +
             "\n\nColumns: customer (a customer code), sku, unit_price and currency are required; min_quantity\n"
             "(1), valid_from and valid_to are optional, as in `keel price import`. A contract price comes before\n"
             "any price list, in the order's currency only. It is identified by customer, sku, currency,\n"
             "min_quantity and valid_from: importing it again replaces its unit_price and valid_to.",
         contractImportCommand});
    table.push_back(
        {{"price", "show"},
         "SKU [--customer CODE] [--quantity N] [--date YYYY-MM-DD] [--currency C]",
         "show the unit price an order line would get, and where it comes from",
         "The rule order intake applies: a contract price of the customer valid on the date in the currency,\n"
         "with the highest min_quantity not above the quantity; else the same from the customer's price list\n"
         "(or pricing.default_list); else no price (exit 3: an order would be held for a missing price).\n"
         "Among entries with the same min_quantity the one starting latest wins, so a promotion overrides a\n"
         "standing price for its days. A list in another currency never matches: there is no conversion.\n"
         "Defaults: quantity 1, today (UTC), the customer's currency, else the list's, else ledger.currency.\n"
         "The source is `contract` or `price_list:CODE`.",
         priceShowCommand});
    table.push_back(
        {{"customer", "import"},
         "FILE.csv [--dry-run]",
         "add or update customers from a CSV file (all or nothing)",
         std::string(kImportPolicy) +
             "\n\nColumns (code and name are required):\n"
             "  code          up to 64 characters without spaces; rows update by code\n"
             "  name          up to 200 characters\n"
             "  email         (empty)\n"
             "  kind          b2c; or b2b\n"
             "  credit_limit  (none); an amount in the customer's currency, e.g. 5000.00\n"
             "  currency      ledger.currency (USD)\n"
             "  price_list    (the default list, pricing.default_list); an existing price list\n"
             "A column the file does not have leaves that field of existing customers as it is; an empty cell\n"
             "means the default. Changing a customer's currency needs its credit_limit in the same file.",
         customerImportCommand});
    table.push_back({{"customer", "show"},
                     "CODE",
                     "show one customer",
                     "Shows the customer's name, email, kind, currency, credit limit and price list. Exit 3 when\n"
                     "there is no customer with CODE.",
                     customerShowCommand});
}

}  // namespace keel::cli
