#include "keel/pricing/price_book.h"

#include <vector>

namespace keel::pricing {

namespace {

// Both queries narrow by the same conditions the rule checks (break reached, window open on the date), so only
// rows that could apply travel; the rule in choosePrice() still decides among them. The unique keys
// (customer_id, item_id, currency, ...) and (price_list_code, item_id, ...) serve them as indexes.
const std::string kContractQuery =
    "SELECT currency, min_quantity, unit_price, valid_from, valid_to FROM contract_price "
    "WHERE customer_id = ? AND item_id = ? AND currency = ? AND min_quantity <= ? AND valid_from <= ? "
    "AND (valid_to IS NULL OR valid_to >= ?)";
const std::string kListQuery =
    "SELECT l.currency, e.min_quantity, e.unit_price, e.valid_from, e.valid_to FROM price_entry e "
    "JOIN price_list l ON l.code = e.price_list_code "
    "WHERE e.price_list_code = ? AND e.item_id = ? AND e.min_quantity <= ? AND e.valid_from <= ? "
    "AND (e.valid_to IS NULL OR e.valid_to >= ?)";

std::vector<PriceEntry> readEntries(db::Statement& statement) {
    std::vector<PriceEntry> entries;
    while (statement.next()) {
        PriceEntry entry;
        // A list stored in a currency this build does not know can never match an order currency.
        const auto currency = Currency::find(statement.getString(0));
        entry.currency = currency ? &Currency::of(currency->code()) : nullptr;
        entry.min_quantity = statement.getInt64(1);
        entry.unit_price = statement.getInt64(2);
        entry.validity = Validity::fromStored(statement.getInt64(3), statement.getOptionalInt64(4));
        entries.push_back(entry);
    }
    return entries;
}

}  // namespace

std::string defaultPriceList(const Poco::Util::AbstractConfiguration& config) {
    return config.getString(kDefaultListKey, "");
}

std::optional<orders::Price> PriceBook::price(db::UnitOfWork& uow, const orders::PriceQuery& query) {
    auto match = find(uow, query);
    if (!match) return std::nullopt;
    return std::move(match->price);
}

std::optional<PriceMatch> PriceBook::find(db::UnitOfWork& uow, const orders::PriceQuery& query) const {
    if (query.currency == nullptr) {
        throw RejectedError("cannot price " + query.sku + ": the price query has no currency");
    }
    if (query.item_id.empty() || query.quantity < 1) return std::nullopt;
    const Currency& currency = *query.currency;
    const std::int64_t quantity = query.quantity;
    const std::int64_t day = query.date.ymd();

    if (!query.customer_id.empty()) {
        db::Statement& contract = uow.statement(kContractQuery);
        contract.bindAll(query.customer_id, query.item_id, std::string(currency.code()), quantity, day, day).execute();
        const auto entries = readEntries(contract);
        if (auto match = choosePrice(entries, {}, "", quantity, currency, query.date)) return match;
    }

    const std::string& list = listFor(query);
    if (list.empty()) return std::nullopt;
    db::Statement& entries_of_list = uow.statement(kListQuery);
    entries_of_list.bindAll(list, query.item_id, quantity, day, day).execute();
    const auto entries = readEntries(entries_of_list);
    return choosePrice({}, entries, list, quantity, currency, query.date);
}

}  // namespace keel::pricing
