#pragma once
// What order intake asks of pricing and tax. core/orders defines the interfaces; modules/pricing implements
// PriceSource from price lists and contract prices; TableTax implements TaxQuoter from configured rates until
// a tax plugin is configured (keel::plugin_host::PluginTax). Intake keeps prices the channel fixed and only asks for
// the others.

#include "keel/db/database.h"
#include "keel/kernel/date.h"
#include "keel/kernel/money.h"
#include "keel/orders/document.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace keel::orders {

/// One line to price: the item, its quantity in base units, for whom, in which currency, on which day.
struct PriceQuery {
    std::string item_id;
    std::string sku;
    std::int64_t quantity = 0;
    std::string customer_id;        ///< Keel's customer id
    std::string customer_code;
    std::string price_list;         ///< the customer's price list code; empty: the default list
    std::string channel;
    const Currency* currency = nullptr;
    Date date = Date::fromYmd(20000101);
};

/// A unit price and where it came from ("contract", "price_list:RETAIL", ...), for the order's record.
struct Price {
    Money unit_price = Money::zero(Currency::of("USD"));
    std::string source;
};

/// Finds the unit price of an item for a customer; nullopt when there is none (the order is then held for a
/// missing price, never priced at zero by accident).
class PriceSource {
public:
    virtual ~PriceSource() = default;
    virtual std::optional<Price> price(db::UnitOfWork& uow, const PriceQuery& query) = 0;
};

/// A line as the tax engine sees it.
struct TaxLine {
    std::string line_id;
    std::string item_id;
    std::string tax_class;
    std::int64_t quantity = 0;
    Money net_amount = Money::zero(Currency::of("USD"));  ///< unit price x quantity - discount
    std::string sku;                                      ///< as the order named the item
};

struct TaxRequest {
    std::string order_id;
    std::string customer_id;  ///< Keel's customer id (a tax engine keeps exemption certificates per customer)
    Date date = Date::fromYmd(20000101);  ///< the document date the rates apply on
    const Currency* currency = nullptr;
    Address ship_to;
    std::vector<TaxLine> lines;
    Money shipping = Money::zero(Currency::of("USD"));
};

/// Tax per line (same order as the request) and on shipping.
/// One jurisdiction's part of a line's (or the shipping's) tax, as the tax engine broke it down.
struct JurisdictionTax {
    std::string code;  ///< "US-NY", "US-NY-NYC", "DE"
    Money tax = Money::zero(Currency::of("USD"));
};

struct TaxResult {
    std::vector<Money> line_tax;
    Money shipping_tax = Money::zero(Currency::of("USD"));
    /// Per line (request order) and for shipping, the jurisdictions' parts, adding up to the line's tax. Empty when
    /// the engine gives none (the rate table): tax payable then goes to the ship-to jurisdiction.
    std::vector<std::vector<JurisdictionTax>> line_jurisdictions = {};
    std::vector<JurisdictionTax> shipping_jurisdictions = {};
};

class TaxQuoter {
public:
    virtual ~TaxQuoter() = default;
    virtual Result<TaxResult> quote(const TaxRequest& request) = 0;
};

/// No tax at all: the stand-in until a tax plugin is configured.
class ZeroTax final : public TaxQuoter {
public:
    Result<TaxResult> quote(const TaxRequest& request) override;
};

/// Tax from a rate table (tax.rate.US-IL = 0.0825, tax.rate.DE = 0.19): the rate of the ship-to address's
/// "COUNTRY-REGION", else of its country, else none; lines of tax class "exempt" pay none. Shipping is taxed at the
/// same rate. Rounding (tax.rounding) is half up either per line (each line's and the shipping's tax rounded on its
/// own) or per document (the whole order's tax rounded once, then split over lines and shipping by largest
/// remainder, so the parts still add up to it). Without rates it is ZeroTax.
class TableTax final : public TaxQuoter {
public:
    enum class Rounding { kLine, kDocument };
    TableTax(std::map<std::string, Decimal> rates = {}, Rounding rounding = Rounding::kLine)
        : rates_(std::move(rates)), rounding_(rounding) {}
    Result<TaxResult> quote(const TaxRequest& request) override;
    /// The rate that applies to an address (0 when none does).
    Decimal rateFor(const Address& address) const;

private:
    std::map<std::string, Decimal> rates_;
    Rounding rounding_;
};

}  // namespace keel::orders
