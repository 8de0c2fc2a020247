#pragma once
// Where commerce meets the ledger: every stock move is valued (moving average, or FIFO layers per item) and
// posted by its rule in the unit of work that writes it; shipments (or deliveries) are invoiced; closed returns
// get a credit note; and financial events that come from outside (payment captures, payouts, marketplace fees,
// chargebacks, supplier invoices, landed costs, manual journals) are posted from JSON documents, each once per
// idempotency key. docs/ledger.md lists the rules and the event documents.

#include "keel/inventory/inventory.h"
#include "keel/ledger/ledger.h"
#include "keel/orders/billing.h"

#include <Poco/JSON/Object.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace keel::ledger {

/// When a channel's orders are invoiced (ledger.channel.NAME.invoice_on).
enum class InvoiceOn { kShipment, kDelivery };

struct PostingOptions {
    int payment_terms_days = 30;  ///< ledger.payment_terms_days: invoice date + this = due date
    InvoiceOn invoice_on = InvoiceOn::kShipment;  ///< ledger.invoice_on, the default of every channel
    std::map<std::string, InvoiceOn> channel_invoice_on;
};

/// A customer invoice as stored.
struct Invoice {
    std::string id;
    std::string order_id;
    std::string shipment_id;
    std::string customer_id;
    std::string channel;
    std::string currency;
    std::string jurisdiction;
    Date date = Date::fromYmd(20000101);
    Date due = Date::fromYmd(20000101);
    std::int64_t goods = 0;
    std::int64_t discount = 0;
    std::int64_t shipping = 0;
    std::int64_t tax = 0;
    std::int64_t total = 0;
    std::string entry_id;
};

/// A share of a landed cost: which receipt (a stock move) and how much of the amount it takes.
struct LandedCostShare {
    std::string move_id;
    std::string item_id;
    std::int64_t amount = 0;   ///< functional minor units
    std::int64_t on_hand = 0;  ///< of which raised the cost of stock still held
    std::int64_t sold = 0;     ///< of which went to cost of goods sold
};

/// The tax jurisdiction of an address: "US-CA", or "DE" without a region.
std::string jurisdictionOf(const orders::Address& address);

class Postings final : public inventory::MoveObserver, public orders::Billing {
public:
    explicit Postings(Ledger& ledger, PostingOptions options = {}) : ledger_(ledger), options_(std::move(options)) {}

    // inventory::MoveObserver
    std::optional<Problem> moved(db::UnitOfWork& uow, const inventory::MoveRecord& move) override;
    /// A shipment's moves: issues from stock of moving-average items are valued together (their cost pools read
    /// and locked in one statement, in item order, and updated in one) and posted with Ledger::postMany; any other
    /// mix is posted move by move. Values and entries are those moved() would give, move after move.
    std::optional<Problem> movedMany(db::UnitOfWork& uow, const std::vector<inventory::MoveRecord>& moves) override;

    // orders::Billing
    std::optional<Problem> shipped(db::UnitOfWork& uow, const orders::Order& order, const orders::Shipment& shipment,
                                   const orders::Actor& actor) override;
    std::optional<Problem> delivered(db::UnitOfWork& uow, const orders::Order& order, const orders::Shipment& shipment,
                                     const orders::Actor& actor) override;
    bool invoicedInFull(db::UnitOfWork& uow, const orders::Order& order) override;
    std::optional<Problem> refunded(db::UnitOfWork& uow, const orders::Order& order, const std::string& return_id,
                                    const orders::RefundBreakdown& refund, const orders::Actor& actor) override;

    /// Invoices a shipment now (whatever the channel's setting), unless it already is; returns the invoice.
    Result<Invoice> invoiceShipment(db::UnitOfWork& uow, const orders::Order& order, const orders::Shipment& shipment,
                                    const std::string& actor);
    std::vector<Invoice> invoices(db::UnitOfWork& uow, std::string_view order_id);

    /// Posts a financial event document (docs/ledger.md, "Financial events"): {"type": "payment_capture",
    /// "key": "...", "amount": "10.00", "currency": "USD", ...}. Errors name the field.
    Result<PostResult> postEvent(db::UnitOfWork& uow, const Poco::JSON::Object& event, const std::string& actor);

    /// Allocates a landed cost (freight, duty) over receipts by their value: the share of stock still held raises
    /// its cost, the share of stock already gone goes to cost of goods sold. Shares sum to the amount exactly.
    Result<std::vector<LandedCostShare>> allocateLandedCost(db::UnitOfWork& uow, const std::vector<std::string>& move_ids,
                                                            const Money& amount, const Date& date,
                                                            const std::string& key, const std::string& memo,
                                                            const std::string& actor,
                                                            std::optional<std::string> content_hash = std::nullopt);

    /// Values stock that the cost pools do not hold yet (received before the ledger was initialized): the units the
    /// stock ledger has beyond the item's pools enter them at `unit_cost` (functional currency), posted as an
    /// opening balance (Dr inventory or inventory in transit, Cr opening balance equity). Returns the units valued
    /// (0 when the item's stock is fully valued already).
    Result<std::int64_t> valueUnvaluedStock(db::UnitOfWork& uow, const std::string& item_id, const Money& unit_cost,
                                            const std::string& actor);

    const PostingOptions& options() const { return options_; }

private:
    struct Pool {
        bool exists = false;
        std::int64_t quantity = 0;
        std::int64_t value = 0;
        std::int64_t unit_cost = 0;
    };
    Pool readPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool);
    void addToPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool, std::int64_t quantity,
                   std::int64_t value, bool fifo, const std::string& move_id);
    Result<std::int64_t> issueFromPool(db::UnitOfWork& uow, const std::string& item_id, const char* pool,
                                       std::int64_t quantity, bool fifo);
    bool isFifo(db::UnitOfWork& uow, const std::string& item_id);
    /// Whether each of `items` is valued FIFO: from the cache, the others read in one query (and cached).
    std::map<std::string, bool> costMethods(db::UnitOfWork& uow, const std::vector<std::string>& items);
    /// The entry that posts a valued move.
    EntryRequest entryFor(const inventory::MoveRecord& move, const std::string& kind, const Money& amount,
                          const Date& today) const;
    InvoiceOn invoiceOn(const std::string& channel) const;

    Ledger& ledger_;
    PostingOptions options_;
    std::mutex mutex_;
    std::map<std::string, std::pair<bool, std::int64_t>> cost_methods_;  ///< item id -> (FIFO, read at)
};

}  // namespace keel::ledger
