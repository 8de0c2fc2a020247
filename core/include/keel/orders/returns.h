#pragma once
// Customer returns (RMA): authorization against shipped quantities with a reason and a refund policy, receipt
// into the `returned` stock state, inspection that decides each unit's disposition (restock, refurbish, dispose),
// and the refund amount handed to the ledger as an event. Every step runs in the caller's unit of work and writes
// its event to the outbox in the same transaction. docs/returns.md describes the flow and the refund rules.

#include "keel/db/database.h"
#include "keel/events/outbox.h"
#include "keel/inventory/inventory.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"
#include "keel/orders/orders.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::orders {

/// Why the customer sends it back.
enum class ReturnReason { kDamaged, kDefective, kWrongItem, kNotAsDescribed, kUnwanted, kLate, kOther };
std::string_view toString(ReturnReason reason);  ///< "damaged", "defective", "wrong_item", "not_as_described", ...
std::optional<ReturnReason> returnReasonFrom(std::string_view text);
const std::vector<std::string>& returnReasons();  ///< every reason code, for messages and help

/// What the customer gets back for the returned units: their goods and tax (full), plus their share of shipping
/// and its tax (full_with_shipping), or a whole-number percentage of goods and tax (partial, e.g. a restocking fee).
struct RefundPolicy {
    enum class Kind { kFull, kFullWithShipping, kPartial };
    Kind kind = Kind::kFull;
    int percent = 100;  ///< kPartial only: 0..100

    /// "full", "full_with_shipping" or "partial:P" (P a whole number 0..100); nullopt for anything else.
    static std::optional<RefundPolicy> parse(std::string_view text);
    /// The stored form, as parse() reads it.
    std::string toString() const;
};

/// The refund of some returned units, by part. All amounts are minor units of the order's currency.
struct RefundBreakdown {
    std::int64_t goods = 0;         ///< line totals (after discounts) of the units
    std::int64_t tax = 0;           ///< their line tax
    std::int64_t shipping = 0;      ///< their share of the order's shipping (full_with_shipping only)
    std::int64_t shipping_tax = 0;  ///< their share of the tax on shipping (full_with_shipping only)
    std::int64_t total = 0;         ///< what is refunded under the policy
};

/// Units of one order line in a refund: the line's units number `first_unit` .. `first_unit + units - 1`, counted
/// over every return of the order in the order they were authorized. Fixing each unit's share this way makes the
/// refunds of several returns of one line add up exactly to the line (and the whole order's shipping, when
/// everything came back under full_with_shipping).
struct RefundUnits {
    int order_line_no = 0;
    std::int64_t first_unit = 0;
    std::int64_t units = 0;
};

/// The exact refund of `units` of `order` under `policy` (docs/returns.md, "Refund"). Line totals, line tax,
/// shipping and shipping tax are split into per-unit shares by largest-remainder allocation (Money::allocate), so
/// shares of one amount always sum to it; partial percentages round half up, once, on the return's total.
RefundBreakdown computeRefund(const Order& order, const std::vector<RefundUnits>& units, const RefundPolicy& policy);

enum class ReturnState { kAuthorized, kReceived, kInspected, kClosed, kCancelled };
std::string_view toString(ReturnState state);
std::optional<ReturnState> returnStateFrom(std::string_view text);

/// What inspection decides for returned units: back to sellable stock, into quarantine for refurbishment, or off
/// the books.
enum class Disposition { kRestock, kRefurbish, kDispose };
std::string_view toString(Disposition disposition);
std::optional<Disposition> dispositionFrom(std::string_view text);

/// One line of a return: a quantity of one item from one lot that shipped from one location. An order line that
/// shipped from several lots or locations (or a kit, one line per component) becomes several return lines.
struct ReturnLine {
    int line_no = 0;
    int order_line_no = 0;
    std::string item_id;
    std::string sku;
    std::string lot_id;       ///< "" for items without lots
    std::string lot_code;     ///< "" for items without lots
    std::string location_id;  ///< where it is (or will be) received
    std::string location_code;
    std::int64_t expected = 0;  ///< base units
    std::int64_t received = 0;
    std::int64_t restocked = 0;
    std::int64_t refurbished = 0;
    std::int64_t disposed = 0;
    /// Received units still waiting for a disposition.
    std::int64_t uninspected() const { return received - restocked - refurbished - disposed; }
};

struct ReturnAuthorization {
    std::string id;
    std::string order_id;
    std::string order_reference;  ///< CHANNEL/EXTERNAL_ID of the order
    ReturnState state = ReturnState::kAuthorized;
    ReturnReason reason = ReturnReason::kOther;
    RefundPolicy policy;
    /// The refund of the expected units while the return is open; when closed, of the units that arrived.
    std::int64_t refund_amount = 0;
    const Currency* currency = nullptr;
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::vector<ReturnLine> lines;
};

/// A quantity of one order line to authorize, in the line's units (kits count as kits).
struct ReturnRequestLine {
    int order_line_no = 0;
    std::int64_t quantity = 0;
};

/// A quantity received or inspected on one return line, in base units.
struct ReturnQuantity {
    int line_no = 0;
    std::int64_t quantity = 0;
};

/// The returns service. Holds no state of its own beyond its collaborators; cheap to construct.
class Returns {
public:
    Returns(Orders& orders, inventory::Inventory& inventory, const Clock& clock = Clock::system(),
            IdGenerator& ids = IdGenerator::global());

    /// Authorizes a return of shipped units of an order; returns the RMA id. Refused (rollback-only) for an
    /// unknown order or line, a line that has not shipped, or more than shipped minus what other open or closed
    /// returns already cover.
    Result<std::string> authorize(db::UnitOfWork& uow, std::string_view order_id,
                                  const std::vector<ReturnRequestLine>& lines, ReturnReason reason,
                                  const RefundPolicy& policy, const Actor& actor);

    /// Receives returned units into the `returned` state at each line's location (or `location_id`, for every
    /// line received now). `quantities` empty: everything still expected. The return becomes `received` when all
    /// expected units arrived.
    Result<ReturnState> receive(db::UnitOfWork& uow, std::string_view return_id,
                                const std::vector<ReturnQuantity>& quantities,
                                const std::optional<std::string>& location_id, const Actor& actor);

    /// Decides what happens to received units of one line (all its uninspected units when `quantity` is empty).
    /// The return becomes `inspected` when every expected unit arrived and has a disposition.
    Result<ReturnState> inspect(db::UnitOfWork& uow, std::string_view return_id, int line_no, Disposition disposition,
                                std::optional<std::int64_t> quantity, const Actor& actor);

    /// Closes a return whose received units all have a disposition; units that never arrived are given up (they
    /// may be authorized again). The refund of the units that arrived is due: return.refund_due carries it.
    Result<ReturnState> close(db::UnitOfWork& uow, std::string_view return_id, const Actor& actor);

    /// Cancels a return of which nothing arrived; its units may be authorized again.
    Result<ReturnState> cancel(db::UnitOfWork& uow, std::string_view return_id, const std::string& reason,
                               const Actor& actor);

    std::optional<ReturnAuthorization> find(db::UnitOfWork& uow, std::string_view return_id);
    /// Returns of an order, oldest first.
    std::vector<ReturnAuthorization> forOrder(db::UnitOfWork& uow, std::string_view order_id);

private:
    void writeEvent(db::UnitOfWork& uow, const std::string& type, const std::string& return_id,
                    const std::string& payload, const Actor& actor);
    /// The return, read for a change: its row locked where the backend locks rows.
    std::optional<ReturnAuthorization> load(db::UnitOfWork& uow, std::string_view return_id, bool lock);
    /// Moves the return to `to` unless another unit of work moved it first.
    std::optional<Problem> setState(db::UnitOfWork& uow, ReturnAuthorization& rma, ReturnState to);

    Orders& orders_;
    inventory::Inventory& inventory_;
    const Clock& clock_;
    IdGenerator& ids_;
    events::Outbox outbox_;
};

}  // namespace keel::orders
