#pragma once
// Inventory: the append-only stock ledger and the balances projected from it in the same transaction, lots
// and expiry, reservations, available-to-promise, transfers, cycle counts, quarantine, returns, write-offs and
// the verification that balances equal their ledger.
//
// Every operation runs inside the caller's unit of work and either completes or marks the unit rollback-only
// (a failed Result), so an order allocation, its moves and its events can commit together or not at all.
// Stock can never go negative and allocations can never exceed stock: every decrement is one guarded
// conditional UPDATE whose affected-row count is checked, and the table's CHECK constraints back that up.

#include "keel/db/database.h"
#include "keel/inventory/rules.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/date.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace keel::inventory {

/// Physical states of stock at a location. Allocation is not a state: it is a claim on on-hand stock.
enum class StockState { kOnHand, kQuarantined, kInTransit, kReturned, kDamaged };
std::string_view toString(StockState state);  ///< "on_hand", "quarantined", "in_transit", "returned", "damaged"
std::optional<StockState> stockStateFrom(std::string_view text);

/// Reason codes an operator gives for an adjustment (`keel stock adjust --reason`).
const std::vector<std::string>& adjustmentReasons();  ///< found, lost, damaged, shrinkage, correction, sample, expired, other

/// Where a change comes from: a document type and id (order, transfer, count, import, cli), and who made it.
struct Source {
    std::string type = "manual";
    std::string id;
    std::string actor = "system";
    std::string note;
    std::string channel = {};      ///< the sales channel, when an order moved the stock (ledger dimension)
    std::string customer_id = {};  ///< the order's customer, likewise
};

/// A stock move as it was written to the stock ledger: what the general ledger values and posts.
struct MoveRecord {
    std::string id;
    std::string item_id;
    std::string lot_id;
    std::int64_t quantity = 0;
    std::string from_location_id;  ///< "" from outside (a receipt, a return, a gain)
    std::string from_state;        ///< "on_hand", ..., or "" from outside
    std::string to_location_id;    ///< "" to outside (a shipment, a write-off, a loss)
    std::string to_state;
    std::string reason;            ///< "receipt", "shipment", "adjustment:lost", "transfer_ship", ...
    std::optional<Money> unit_cost;
    const Source* source = nullptr;
};

/// Sees every stock move inside the unit of work that writes it, and may refuse it (a Problem rolls the whole
/// operation back). The ledger implements it to value moves and post them in the same transaction.
class MoveObserver {
public:
    virtual ~MoveObserver() = default;
    virtual std::optional<Problem> moved(db::UnitOfWork& uow, const MoveRecord& move) = 0;
    /// Several moves written together (a shipment's lines), in order: by default moved() for each.
    virtual std::optional<Problem> movedMany(db::UnitOfWork& uow, const std::vector<MoveRecord>& moves) {
        for (const auto& move : moves) {
            if (auto problem = moved(uow, move)) return problem;
        }
        return std::nullopt;
    }
};

struct ReceiveRequest {
    std::string item_id;
    std::string location_id;
    std::int64_t quantity = 0;                 ///< base units, > 0
    std::optional<std::string> lot_code;       ///< required for lot-tracked items, refused for others
    std::optional<Date> expiry;                ///< required for expiry-tracked items (or derived from shelf life)
    std::optional<Money> unit_cost;
    std::string reason = "receipt";            ///< "receipt", or "opening_balance" for go-live imports
    Source source;
};

struct ReceiveResult {
    std::string move_id;
    std::string lot_id;        ///< "" for items without lots
    StockState state = StockState::kOnHand;  ///< quarantined when the lot is under quarantine
};

struct AdjustRequest {
    std::string item_id;
    std::string location_id;
    std::optional<std::string> lot_code;
    std::int64_t delta = 0;    ///< + found, - lost; a decrease can never take allocated stock
    std::string reason;        ///< one of adjustmentReasons()
    Source source;
};

enum class ReservationKind { kAllocation, kHold };

struct ReserveRequest {
    std::string item_id;
    std::string location_id;
    std::int64_t quantity = 0;
    ReservationKind kind = ReservationKind::kAllocation;
    std::string order_id;      ///< the order (or cart, quote) the reservation belongs to
    std::string order_line;
    std::string channel;       ///< applies the channel's rule when it has one
    std::optional<std::string> lot_code;  ///< a specific lot; otherwise FEFO
    std::optional<std::int64_t> ttl_micros;  ///< holds expire after this long (required for holds)
    bool allow_partial = false;  ///< reserve what is there instead of refusing
    /// Holds respect safety stock; allocations for orders may dip into it (that is what it is for).
    std::optional<bool> respect_safety_stock;
};

struct Reservation {
    std::string id;
    std::string item_id;
    std::string location_id;
    std::string lot_id;
    ReservationKind kind = ReservationKind::kAllocation;
    std::string status;    ///< active, released, consumed, expired
    std::int64_t quantity = 0;
    std::int64_t remaining = 0;
    std::string order_id;
    std::string order_line;
    std::string channel;
    std::optional<std::int64_t> expires_at;
};

struct ReserveResult {
    std::int64_t reserved = 0;  ///< less than requested only with allow_partial
    std::vector<Reservation> reservations;  ///< one per lot (or per kit component)
};

/// Available-to-promise of an item at one location.
struct AtpLocation {
    std::string location_id;
    std::string location_code;
    std::int64_t on_hand = 0;      ///< sellable: excludes expired and quarantined lots
    std::int64_t allocated = 0;
    std::int64_t safety_stock = 0;
    std::int64_t available = 0;    ///< after safety stock (and the channel rule, when a channel was given)
};

struct Atp {
    std::string item_id;
    std::int64_t available = 0;    ///< over the locations that ship to customers (or the one asked for)
    std::vector<AtpLocation> locations;
    std::optional<ChannelRule> rule;
};

/// A balance row: quantity per (item, location, lot, state), with the allocated part of on-hand stock.
struct Balance {
    std::string item_id;
    std::string location_id;
    std::string lot_id;
    std::string lot_code;
    std::optional<Date> expiry;
    StockState state = StockState::kOnHand;
    std::int64_t quantity = 0;
    std::int64_t allocated = 0;
};

struct TransferLine {
    std::string item_id;
    std::optional<std::string> lot_code;
    std::int64_t quantity = 0;
};

/// Differences `verify` found; empty lists mean the balances are exactly their ledger.
struct VerifyReport {
    struct Drift {
        std::string item_id;
        std::string location_id;
        std::string lot_id;
        std::string state;
        std::int64_t balance = 0;   ///< what the balance says
        std::int64_t expected = 0;  ///< what the ledger (or the active reservations, for allocations) says
        std::string what;           ///< "quantity" or "allocated"
    };
    std::vector<Drift> drifts;
    std::int64_t balances_checked = 0;
    std::int64_t moves_checked = 0;
    std::int64_t reservations_checked = 0;
    bool ok() const { return drifts.empty(); }
};

/// The inventory service. Thread-safe; holds only a small cache of item facts that do not change while
/// stock exists (lot tracking, expiry tracking, kit components).
class Inventory {
public:
    explicit Inventory(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    Result<ReceiveResult> receive(db::UnitOfWork& uow, const ReceiveRequest& request);
    /// Returns the move id.
    Result<std::string> adjust(db::UnitOfWork& uow, const AdjustRequest& request);

    Result<ReserveResult> reserve(db::UnitOfWork& uow, const ReserveRequest& request);
    /// Reserves several lines (an order's) in one go, all or nothing: a line that cannot be reserved fails
    /// the whole call (its field says which line). Results are in the order of the requests.
    Result<std::vector<ReserveResult>> reserveMany(db::UnitOfWork& uow, const std::vector<ReserveRequest>& requests);
    /// Releases all (or `quantity`) of what an active reservation holds; returns the quantity released.
    Result<std::int64_t> release(db::UnitOfWork& uow, std::string_view reservation_id,
                                 std::optional<std::int64_t> quantity = std::nullopt);
    /// Ships `quantity` of an allocation: the stock leaves on-hand and the allocation shrinks. Returns the move id.
    Result<std::string> consume(db::UnitOfWork& uow, std::string_view reservation_id, std::int64_t quantity,
                                const Source& source);
    /// As above, for a caller that already knows the reservation's id, item, location, lot and order (a shipment
    /// line): it is not read again first. It must still be an active allocation of that stock, or nothing changes
    /// and the problem says why.
    Result<std::string> consume(db::UnitOfWork& uow, const Reservation& known, std::int64_t quantity,
                                const Source& source);
    /// One line of consumeMany(): an allocation the caller knows, and how much of it ships (> 0).
    struct Consumption {
        Reservation known;
        std::int64_t quantity = 0;
    };
    /// Ships several allocations (a shipment's lines) as consume() does each, in order, all or nothing: the first
    /// line that cannot ship fails the call with consume()'s problem. The stock moves are written in one INSERT
    /// and handed to the move observer together (MoveObserver::movedMany), so a shipment's valuation and postings
    /// take a few statements whatever its number of lines. Returns the move ids, in the order of the lines.
    Result<std::vector<std::string>> consumeMany(db::UnitOfWork& uow, const std::vector<Consumption>& lines,
                                                 const Source& source);
    std::optional<Reservation> findReservation(db::UnitOfWork& uow, std::string_view reservation_id);
    /// The active reservations of an order (or of one of its lines), in (item, location, lot, id) order.
    std::vector<Reservation> activeReservationsOf(db::UnitOfWork& uow, std::string_view order_id,
                                                  std::optional<std::string_view> order_line = std::nullopt);
    /// Expires up to `limit` holds whose time is up; returns how many were expired.
    std::int64_t sweepExpiredHolds(db::UnitOfWork& uow, std::size_t limit = 500);

    /// Moves stock between states at one location (on_hand <-> quarantined, returned -> on_hand/damaged, ...).
    Result<std::string> changeState(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                    const std::optional<std::string>& lot_code, StockState from, StockState to,
                                    std::int64_t quantity, std::string_view reason, const Source& source);
    /// Puts a lot under quarantine everywhere (recall): its unallocated on-hand stock moves to quarantined and
    /// later receipts of the lot arrive quarantined. Returns the quantity still allocated to orders.
    Result<std::int64_t> quarantineLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                       const Source& source);
    /// Releases a quarantined lot: its quarantined stock returns to on-hand. Returns the quantity released.
    Result<std::int64_t> releaseLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                    const Source& source);
    /// A customer return arrives: outside -> returned, awaiting disposition.
    Result<std::string> receiveReturn(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                      const std::optional<std::string>& lot_code, std::int64_t quantity,
                                      const Source& source);
    /// Stock leaves the books from a state (damaged, quarantined, returned, on_hand).
    Result<std::string> writeOff(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                 const std::optional<std::string>& lot_code, StockState from, std::int64_t quantity,
                                 std::string_view reason, const Source& source);

    /// Ships stock from one location to another: on_hand at `from` -> in_transit at `to`. Returns the transfer id.
    Result<std::string> shipTransfer(db::UnitOfWork& uow, std::string_view from_location_id,
                                     std::string_view to_location_id, const std::vector<TransferLine>& lines,
                                     std::string_view reference, const Source& source);
    /// Receives (part of) a transfer: in_transit -> on_hand at the destination. `quantities` by line number
    /// (1-based); empty means everything still in transit. Returns the quantity received.
    Result<std::int64_t> receiveTransfer(db::UnitOfWork& uow, std::string_view transfer_id,
                                         const std::vector<std::pair<int, std::int64_t>>& quantities,
                                         const Source& source);
    /// Closes a transfer, writing off what never arrived (lost in transit). Returns the quantity written off.
    Result<std::int64_t> closeTransfer(db::UnitOfWork& uow, std::string_view transfer_id, const Source& source);

    /// Records a cycle count against the books; returns the count id. The variance is counted - expected,
    /// where expected is the on-hand quantity (allocated stock is still on the shelf).
    Result<std::string> recordCount(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                                    const std::optional<std::string>& lot_code, std::int64_t counted,
                                    const Source& source);
    /// Posts a count's variance as an adjustment; refuses (conflict) when stock moved since the count.
    /// Returns the variance posted.
    Result<std::int64_t> postCount(db::UnitOfWork& uow, std::string_view count_id, const Source& source);

    /// Sets safety stock for an item at a location, or the item's default when `location_id` is empty.
    void setSafetyStock(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id,
                        std::int64_t quantity);
    /// Sets (or with neither percent nor cap, removes) a channel's rule for an item or, with an empty
    /// item id, for all items.
    void setChannelRule(db::UnitOfWork& uow, std::string_view channel, std::string_view item_id,
                        const ChannelRule& rule);

    /// Available-to-promise of an item (kits from their components), at one location or over all locations
    /// that ship to customers, for a channel or unrestricted.
    Atp atp(db::UnitOfWork& uow, std::string_view item_id, std::optional<std::string_view> location_id = {},
            std::optional<std::string_view> channel = {});

    /// What can be reserved of an item at each location right now: sellable and unallocated, minus safety
    /// stock when `respect_safety`, limited by the channel's rule; kits from their components. Routing plans
    /// with it; the reservation itself still checks the real rows.
    std::map<std::string, std::int64_t> reservable(db::UnitOfWork& uow, std::string_view item_id,
                                                   std::string_view channel, bool respect_safety);
    /// reservable() of several items at once, by item id (unknown items are left out), which is what an order's
    /// allocation plans with: however many items, one statement for their facts (and one for kits' components), one
    /// for the channel's rules and one for their balance rows.
    std::map<std::string, std::map<std::string, std::int64_t>> reservableMany(db::UnitOfWork& uow,
                                                                              const std::vector<std::string>& item_ids,
                                                                              std::string_view channel,
                                                                              bool respect_safety);

    /// Balance rows of an item (all states, lots and locations), or of every item when `item_id` is empty.
    std::vector<Balance> balances(db::UnitOfWork& uow, std::string_view item_id,
                                  std::optional<std::string_view> location_id = {});

    /// Recomputes every balance from the ledger and every allocation from the active reservations.
    VerifyReport verify(db::UnitOfWork& uow);

    /// Forgets cached item facts (after the item master changed them).
    void invalidateCache();

    /// Every move is shown to `observer` (nullptr: none) in the unit of work that writes it.
    void setMoveObserver(MoveObserver* observer) { observer_ = observer; }

private:
    struct ItemFacts {
        std::string sku;
        bool lot_tracked = false;
        bool expiry_tracked = false;
        std::optional<int> shelf_life_days;
        std::int64_t safety_stock = 0;
        bool is_kit = false;
        std::vector<std::pair<std::string, std::int64_t>> components;  ///< (item id, quantity per kit), by id
    };
    struct Bucket {
        std::string location_id;
        StockState state = StockState::kOnHand;
    };
    struct Move {
        std::string item_id;
        std::string lot_id;
        std::int64_t quantity = 0;
        std::optional<Bucket> from;
        std::optional<Bucket> to;
        std::string reason;
        std::optional<Money> unit_cost;
        Source source;
    };

    /// What reserving a call's lines needs besides the rows it changes, read for all of its lines at once.
    struct ReserveContext {
        std::unordered_map<std::string, ItemFacts> facts;  ///< by item id, kit components included
        std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>> rules;  ///< by (channel, item)
        std::map<std::pair<std::string, std::string>, std::int64_t> safety;  ///< by (item, location), where respected
    };
    /// A reservation of the SQLite batch: its line and the claim it makes on its (item, location) row.
    struct PendingClaim {
        std::size_t line = 0;
        Claim claim;
    };

    Result<ItemFacts> facts(db::UnitOfWork& uow, std::string_view item_id);
    /// True when the item's facts are in the cache and fresh (no query).
    bool factsCached(std::string_view item_id) const;
    /// Facts of many items, from the cache or one query per chunk of missing ids (which then fill the cache);
    /// unknown ids are left out.
    void loadFacts(db::UnitOfWork& uow, const std::vector<std::string>& item_ids,
                   std::unordered_map<std::string, ItemFacts>& out);
    /// The facts of an item from the context, or read when the context does not have them (an unknown item).
    Result<ItemFacts> knownFacts(db::UnitOfWork& uow, const ReserveContext& context, const std::string& item_id);
    /// Sellable on-hand stock of an item at a location that is not allocated (as ATP counts it).
    std::int64_t unallocated(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id);
    /// "insufficient stock: SKU at LOCATION has N available, M requested", on the line's quantity.
    Problem shortage(db::UnitOfWork& uow, const ReserveRequest& request, std::int64_t available);
    ReserveContext prepareReserve(db::UnitOfWork& uow, const std::vector<ReserveRequest>& requests);
    /// The safety stock a line must leave (0 unless it respects safety stock), when it is a plain guarded update
    /// of one balance row (no lots, kit, channel rule or partial reservation); none otherwise.
    std::optional<std::int64_t> simpleClaim(const ReserveRequest& request, const ReserveContext& context) const;
    /// Reserves the pending simple lines of a SQLite unit (all or none) with one UPDATE per 50 rows; a failure
    /// names the first line in lock order that lacks stock, as a line-by-line reservation would.
    std::optional<Problem> reservePending(db::UnitOfWork& uow, const std::vector<ReserveRequest>& requests,
                                          std::vector<PendingClaim>& pending);
    /// Applies a move: guarded decrement of the source, increment of the destination (in key order), ledger row.
    Result<std::string> applyMove(db::UnitOfWork& uow, const Move& move);
    /// consume()'s guarded updates of one line: the reservation shrinks and the allocated stock leaves its balance.
    std::optional<Problem> takeAllocation(db::UnitOfWork& uow, const Reservation& known, std::int64_t quantity,
                                          std::int64_t now);
    /// Writes the move's stock.moved event (aggregate: the item) in the same unit of work.
    void announceMove(db::UnitOfWork& uow, const MoveRecord& move);
    /// applyMove for a line of transfer `transfer_id` (ship, receive, write-off), with the transfer as its source.
    Result<std::string> applyTransferMove(db::UnitOfWork& uow, const std::string& transfer_id, const std::string& item_id,
                                          const std::string& lot_id, std::int64_t quantity, std::optional<Bucket> from,
                                          std::optional<Bucket> to, const char* reason, const Source& source);
    /// The lot id for a code, when the item tracks lots; "" for items without lots; a Problem otherwise.
    Result<std::string> lotFor(db::UnitOfWork& uow, const ItemFacts& facts, std::string_view item_id,
                               const std::optional<std::string>& lot_code, bool create, const std::optional<Date>& expiry);
    Result<ReserveResult> reserveOne(db::UnitOfWork& uow, const ReserveRequest& request, const ItemFacts& facts,
                                     const ReserveContext& context);
    /// Safety stock of (item, location) pairs: the location's override, else the item's default. Read fresh (it
    /// changes without the item's other facts changing), one query per chunk of items.
    void loadSafetyStock(db::UnitOfWork& uow, const std::set<std::pair<std::string, std::string>>& keys,
                         std::map<std::pair<std::string, std::string>, std::int64_t>& out);
    std::optional<ChannelRule> channelRule(db::UnitOfWork& uow, std::string_view channel, std::string_view item_id);
    /// The rules of a channel for many items (the item's own, else the channel-wide one), one query per chunk.
    void loadChannelRules(db::UnitOfWork& uow, const std::string& channel, const std::vector<std::string>& item_ids,
                          std::map<std::pair<std::string, std::string>, std::optional<ChannelRule>>& out);
    /// Quarantines (or releases) a lot at every location; returns what stays allocated (or what was released).
    Result<std::int64_t> moveLot(db::UnitOfWork& uow, std::string_view item_id, std::string_view lot_code,
                                 bool quarantine, const Source& source);
    Result<ReserveResult> reserveLine(db::UnitOfWork& uow, const ReserveRequest& request,
                                      const ReserveContext& context);
    Reservation makeReservation(const ReserveRequest& request, const std::string& lot_id, std::int64_t quantity);
    void storeReservations(db::UnitOfWork& uow, const std::vector<const Reservation*>& reservations);
    /// SKU and location code for messages.
    std::string describe(db::UnitOfWork& uow, std::string_view item_id, std::string_view location_id);

    const Clock& clock_;
    IdGenerator& ids_;
    MoveObserver* observer_ = nullptr;
    mutable std::mutex cache_mutex_;
    std::unordered_map<std::string, std::pair<ItemFacts, std::int64_t>> cache_;  ///< facts, loaded at (micros)
};

}  // namespace keel::inventory
