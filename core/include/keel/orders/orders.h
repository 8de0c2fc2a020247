#pragma once
// The order lifecycle: one intake for every channel, validation and holds, pricing and tax through their
// interfaces, routing and allocation, shipments from release to delivery, cancellation, backorders filled as
// stock arrives. Every change of state is recorded (who, when, why) and writes an event to the outbox in the
// same transaction as the change.

#include "keel/catalog/catalog.h"
#include "keel/db/database.h"
#include "keel/events/outbox.h"
#include "keel/inventory/inventory.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"
#include "keel/orders/customers.h"
#include "keel/orders/document.h"
#include "keel/orders/pricing.h"
#include "keel/orders/routing.h"
#include "keel/orders/state.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace keel::orders {

class Billing;

/// Configurable fraud review rules (orders.fraud.*). A rule without a value is off. Thresholds apply to orders
/// in their own currency only (there is no currency conversion yet).
struct FraudRules {
    std::optional<Money> max_order_value;          ///< orders.fraud.max_value = 5000.00 USD
    bool country_mismatch = false;                 ///< orders.fraud.country_mismatch = true
    std::optional<Money> new_customer_max_value;   ///< orders.fraud.new_customer_max = 500.00 USD
    int address_max_orders = 0;                    ///< orders.fraud.address_max_orders = 5 (0: off)
    std::int64_t address_window_micros = 86'400'000'000;  ///< orders.fraud.address_window_hours = 24
};

/// Channel settings (orders.channel.<name>.allow_backorder = true).
struct ChannelPolicy {
    bool allow_backorder = true;
};

/// How an import ended: a new order, the same order again, or a different document under the same id.
enum class ImportStatus { kCreated, kAlreadyImported, kConflict };

struct ImportOutcome {
    ImportStatus status = ImportStatus::kCreated;
    std::string order_id;
    OrderState state = OrderState::kReceived;
    std::vector<std::string> holds;  ///< hold reasons, when it went on hold
};

/// A jurisdiction's part of an order line's tax (line_no 0: the shipping's), as quoted.
struct TaxShare {
    int line_no = 0;
    std::string jurisdiction;
    std::int64_t tax = 0;
};

struct OrderLine {
    int line_no = 0;
    std::string external_line;
    std::string item_id;  ///< empty for an unknown SKU (the order is on hold)
    std::string sku;
    std::int64_t quantity = 0;
    std::optional<std::int64_t> unit_price;  ///< minor units per document unit
    std::string price_source;
    std::int64_t discount = 0;
    std::int64_t tax = 0;
    std::int64_t line_total = 0;
    std::int64_t allocated = 0;
    std::int64_t shipped = 0;
    std::int64_t cancelled = 0;
    std::int64_t backordered = 0;
    std::string tax_class;  ///< the item's tax class when the line was resolved (for the tax quote; not stored)
    std::int64_t open() const { return quantity - allocated - shipped - cancelled; }
};

struct Order {
    std::string id;
    std::string channel;
    std::string external_id;
    std::string customer_id;
    std::string email;
    const Currency* currency = nullptr;
    OrderState state = OrderState::kReceived;
    std::vector<std::string> holds;
    int priority = 0;
    std::optional<Date> promise_date;
    bool ship_complete = false;
    bool allow_backorder = true;
    PaymentStatus payment_status = PaymentStatus::kPending;
    Address ship_to;
    std::string bill_country;
    std::string shipping_service;
    std::int64_t shipping_amount = 0;
    std::int64_t subtotal = 0;
    std::int64_t discount_total = 0;
    std::int64_t tax_total = 0;
    std::int64_t total = 0;
    std::string notes;
    std::int64_t created_at = 0;
    std::int64_t version = 0;  ///< bumped by every change; a change made from a stale read is refused
    std::vector<OrderLine> lines;
    /// The tax engine's breakdown by jurisdiction (line_no 0: shipping), when it gave one; stored in order_tax.
    std::vector<TaxShare> tax_breakdown;
};

struct ShipmentLine {
    int line_no = 0;
    int order_line_no = 0;
    std::string item_id;
    std::string lot_id;
    std::string reservation_id;
    std::int64_t quantity = 0;  ///< base units of `item_id`
    std::int64_t units = 0;     ///< units of the order line it ships (a kit's count sits on its first component)
};

struct Shipment {
    std::string id;
    std::string order_id;
    std::string location_id;
    ShipmentState state = ShipmentState::kReleased;
    std::string carrier;
    std::string service;
    std::string tracking;
    int packages = 0;
    std::optional<std::int64_t> weight_mg;
    std::vector<ShipmentLine> lines;
};

/// What a fulfiller reports about a shipment it shipped (a 3PL's 945); empty: everything as released, now.
struct ShipmentReport {
    std::optional<std::int64_t> shipped_at;  ///< epoch micros; now when absent
    /// Base units shipped per shipment line (line_no); a line not named shipped in full. Less than released is a short
    /// shipment: the rest of the line's allocation is released and cancelled on its order line (never backordered
    /// behind the customer's back; the caller reports it). More than released, a short kit component, or nothing
    /// shipped at all is refused.
    std::map<int, std::int64_t> shipped;
};

/// An entry of the exception queue: an order that needs a person.
struct Exception {
    std::string order_id;
    std::string channel;
    std::string external_id;
    OrderState state = OrderState::kOnHold;
    std::vector<std::string> reasons;
    std::int64_t age_micros = 0;
};

/// What allocating one order did.
struct AllocationOutcome {
    OrderState state = OrderState::kValidated;
    std::int64_t allocated = 0;    ///< units reserved now
    std::int64_t backordered = 0;  ///< units waiting for stock
    int locations = 0;
};

/// Which orders Orders::list returns: a page, oldest first.
struct OrderQuery {
    std::optional<OrderState> state;
    std::string channel;  ///< empty: every channel
    std::size_t limit = 100;
    std::size_t offset = 0;
};

/// Who acts: the operator or integration, for the transition record and events.
struct Actor {
    std::string name = "system";
};

class Orders {
public:
    Orders(catalog::Catalog& catalog, inventory::Inventory& inventory, PriceSource& prices, TaxQuoter& tax,
           const RoutingStrategy& routing, const Clock& clock = Clock::system(),
           IdGenerator& ids = IdGenerator::global());

    void setFraudRules(FraudRules rules) { fraud_ = std::move(rules); }
    void setChannelPolicy(const std::string& channel, ChannelPolicy policy);
    /// Invoices and credit notes (billing.h); nullptr: none.
    void setBilling(Billing* billing) { billing_ = billing; }
    Billing* billing() const { return billing_; }

    /// Takes an order document in: stores it (validated, or on hold with every reason), or says it was
    /// already imported, or that a different document already uses its (channel, external_id).
    Result<ImportOutcome> import(db::UnitOfWork& uow, const OrderDocument& document, const Actor& actor);

    /// import() in its own unit of work, retried when a concurrent import of the same order wins the race
    /// (the retry then reports it as already imported). The entry point of every intake path.
    Result<ImportOutcome> importDocument(db::Database& database, const OrderDocument& document, const Actor& actor);
    /// importDocument for each document, in the order given, each in its own unit of work, with each one's outcome in
    /// that order. On SQLite up to kImportsPerCommit share a transaction and its commit (db::CommitGroup::runEach: one
    /// that fails runs again alone, after the ones before it committed); elsewhere each commits alone.
    std::vector<Result<ImportOutcome>> importEach(db::Database& database, const std::vector<OrderDocument>& documents,
                                                  const Actor& actor);
    static constexpr std::size_t kImportsPerCommit = 32;

    std::optional<Order> find(db::UnitOfWork& uow, std::string_view order_id);
    std::optional<Order> findByExternal(db::UnitOfWork& uow, std::string_view channel, std::string_view external_id);
    /// Orders in a state (all when empty), oldest first, at most `limit`.
    std::vector<Order> list(db::UnitOfWork& uow, std::optional<OrderState> state, std::size_t limit = 1000);
    /// A page of orders by state and channel, oldest first (the REST API's listing).
    std::vector<Order> list(db::UnitOfWork& uow, const OrderQuery& query);
    /// Held orders, and allocated ones past their promise date: what an operator must look at.
    std::vector<Exception> exceptions(db::UnitOfWork& uow);
    std::vector<Shipment> shipments(db::UnitOfWork& uow, std::string_view order_id);

    /// Reserves what can be reserved of an order's open lines by the routing strategy; backorders the rest when
    /// the channel allows it, holds the order otherwise (or when ship-complete would need a split).
    Result<AllocationOutcome> allocate(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor);
    /// Ids of orders waiting for allocation, highest priority and earliest promise date first, then oldest: new
    /// (validated) orders and, unless `with_backorders` is false, backordered and partially allocated ones.
    std::vector<std::string> allocationQueue(db::UnitOfWork& uow, std::size_t limit = 1000, bool with_backorders = true);
    /// Ids of backordered orders that wait for any of these items (or for a kit one of them is part of), in
    /// priority, then age order.
    std::vector<std::string> backordersFor(db::UnitOfWork& uow, const std::vector<std::string>& item_ids);

    /// Allocates each order in its own unit of work, in the order given, and returns each one's outcome in that
    /// order. On SQLite up to kAllocationsPerCommit of them share a transaction and its commit
    /// (db::CommitGroup::runEach: one that fails runs again alone and costs the others nothing), which allocates a
    /// sweep's orders about twice as fast; elsewhere each commits alone.
    std::vector<Result<AllocationOutcome>> allocateEach(db::Database& database,
                                                        const std::vector<std::string>& order_ids, const Actor& actor);
    static constexpr std::size_t kAllocationsPerCommit = 32;

    /// Allocates waiting backorders for these items (all items when empty), each order in its own unit of work
    /// (allocateEach), in priority then age order; returns the ids of orders that received stock.
    std::vector<std::string> fillBackorders(db::Database& database, const std::vector<std::string>& item_ids,
                                            const Actor& actor);

    Result<OrderState> hold(db::UnitOfWork& uow, std::string_view order_id, const std::string& reason, const Actor& actor);
    /// Releases an operator's or review hold: validation runs again, overriding fraud, credit and payment holds.
    Result<OrderState> release(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor);
    Result<OrderState> reject(db::UnitOfWork& uow, std::string_view order_id, const std::string& reason, const Actor& actor);
    /// Cancels the whole order (or one line): releases its reservations and cancels unshipped shipments.
    Result<OrderState> cancel(db::UnitOfWork& uow, std::string_view order_id, std::optional<int> line_no,
                              const std::string& reason, const Actor& actor);

    /// Hands what is allocated and not yet on a shipment to fulfillment: one shipment per location.
    Result<std::vector<std::string>> releaseToFulfillment(db::UnitOfWork& uow, std::string_view order_id,
                                                          const Actor& actor);
    Result<ShipmentState> pick(db::UnitOfWork& uow, std::string_view shipment_id, const Actor& actor);
    Result<ShipmentState> pack(db::UnitOfWork& uow, std::string_view shipment_id, int packages,
                               std::optional<std::int64_t> weight_mg, const Actor& actor);
    /// Confirms a shipment shipped: its allocations leave the location as stock moves. `report` says what a fulfiller
    /// shipped when it is not everything that was released (see ShipmentReport).
    Result<ShipmentState> confirmShipment(db::UnitOfWork& uow, std::string_view shipment_id, const std::string& carrier,
                                          const std::string& service, const std::string& tracking, const Actor& actor,
                                          const ShipmentReport& report = {});
    Result<ShipmentState> recordDelivery(db::UnitOfWork& uow, std::string_view shipment_id, const std::string& proof,
                                         const Actor& actor);

    /// Invoiced (set by delivery once the billing says every shipped unit is invoiced, or by hand) and closed.
    Result<OrderState> markInvoiced(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor);
    Result<OrderState> close(db::UnitOfWork& uow, std::string_view order_id, const Actor& actor);

private:
    /// The order, with its lines or (for a state change that does not touch them) without.
    std::optional<Order> load(db::UnitOfWork& uow, std::string_view order_id, bool with_lines);
    /// Moves the order to `to` (checked against the transition table, recorded, with an event) and writes its
    /// header; `to == order.state` only writes the header. Refuses a change made from a stale read.
    Result<OrderState> transition(db::UnitOfWork& uow, Order& order, OrderState to, const std::string& reason,
                                  const Actor& actor);
    /// A change of state and its reason.
    using Steps = std::vector<std::pair<OrderState, std::string>>;
    /// transition() through several states in turn (delivered, then invoiced): each change is checked and recorded
    /// with its event, and the header is written once, in the last state. No steps: nothing is written.
    Result<OrderState> advance(db::UnitOfWork& uow, Order& order, const Steps& steps, const Actor& actor);
    /// The record of a change from `from` to `to` that is already written: its transition row and its event.
    void recordTransition(db::UnitOfWork& uow, const Order& order, OrderState from, OrderState to,
                          const std::string& reason, const Actor& actor, std::int64_t now);
    /// Resolves a line's item (among `items`, from itemsOf) and price (import, and release of a data hold);
    /// returns the hold reason, if any.
    std::optional<std::string> resolveLine(db::UnitOfWork& uow, const Order& order, const Customer& customer,
                                           const std::map<std::string, catalog::Item>& items, OrderLine& line,
                                           const std::string& uom);
    /// The items the unresolved lines of an order name, looked up together.
    std::map<std::string, catalog::Item> itemsOf(db::UnitOfWork& uow, const Order& order);
    /// Data holds (unknown item, missing price, address) of a stored order.
    std::vector<std::string> dataHolds(const Order& order) const;
    /// Prices, taxes and totals of an order from its lines. A failed tax quote is a Problem, or, when `tax_hold` is
    /// given, a hold reason put there with the tax left at zero (intake keeps the order instead of refusing it).
    std::optional<Problem> computeTotals(Order& order, std::string* tax_hold = nullptr);
    void writeEvent(db::UnitOfWork& uow, const std::string& type, const std::string& aggregate_type,
                    const std::string& aggregate_id, const std::string& payload, const Actor& actor);
    void saveLines(db::UnitOfWork& uow, const Order& order);
    /// Replaces the order's stored tax breakdown (order_tax) with order.tax_breakdown.
    void saveTaxBreakdown(db::UnitOfWork& uow, const Order& order, bool replace);
    std::vector<std::string> reviewHolds(db::UnitOfWork& uow, const Order& order, const Customer& customer);
    std::optional<Shipment> findShipment(db::UnitOfWork& uow, std::string_view shipment_id, bool with_lines = true);
    /// Columns of the shipment written together with its new state (one UPDATE): fixed column names, bound values.
    using ShipmentColumns = std::vector<std::pair<const char*, std::variant<std::optional<std::int64_t>, std::string>>>;
    Result<ShipmentState> moveShipment(db::UnitOfWork& uow, Shipment& shipment, ShipmentState to, const Actor& actor,
                                       const ShipmentColumns& also = {});
    /// Releases the reservations of an order (or one line) and drops them from unshipped shipments; a shipment
    /// left empty is cancelled.
    std::optional<Problem> releaseStock(db::UnitOfWork& uow, const Order& order, std::optional<int> line_no);
    /// After shipments changed: the states the order passes through, from its lines and shipments (none when it
    /// stays where it is). Nothing is written.
    Steps shippingSteps(db::UnitOfWork& uow, const Order& order);

    catalog::Catalog& catalog_;
    inventory::Inventory& inventory_;
    PriceSource& prices_;
    TaxQuoter& tax_;
    const RoutingStrategy& routing_;
    const Clock& clock_;
    IdGenerator& ids_;
    events::Outbox outbox_;
    FraudRules fraud_;
    std::map<std::string, ChannelPolicy> channels_;
    Billing* billing_ = nullptr;
};

}  // namespace keel::orders
