#pragma once
// The pure rules of availability, kept apart from the database so they can be tested exhaustively:
// available-to-promise after safety stock, channel exposure, kit availability and FEFO lot choice.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace keel::inventory {

/// How much of the available stock a channel may see and take: a percentage (rounded down) and/or a cap.
struct ChannelRule {
    std::optional<int> percent;         ///< 0..100
    std::optional<std::int64_t> cap;    ///< >= 0
};

/// Sellable stock that is not allocated, minus safety stock, never below zero.
std::int64_t availableToPromise(std::int64_t on_hand, std::int64_t allocated, std::int64_t safety_stock);

/// What a channel may see of `atp` under `rule` (all of it without a rule).
std::int64_t channelAvailable(std::int64_t atp, const std::optional<ChannelRule>& rule);

/// One component of a kit: its own available quantity and how many units a kit needs.
struct KitPart {
    std::int64_t available = 0;
    std::int64_t per_kit = 1;
};

/// Complete kits that can be made from the parts: the minimum over parts of available / per_kit; 0 without parts.
std::int64_t kitAvailable(const std::vector<KitPart>& parts);

/// A lot's stock at one location, as FEFO sees it.
struct LotStock {
    std::string lot_id;
    std::string lot_code;
    std::optional<int> expiry;     ///< YYYYMMDD; none for lots that do not expire
    std::int64_t available = 0;    ///< on hand minus allocated
    bool released = true;          ///< false while quarantined
};

/// A quantity taken from one lot.
struct LotTake {
    std::string lot_id;
    std::int64_t quantity = 0;
};

/// First-expired-first-out: takes `quantity` from released lots that have not expired on `today` (an expiry
/// date is the last sellable day), earliest expiry first, lots without expiry last, ties by lot code. Returns
/// what was taken; the sum is less than `quantity` only when the lots do not hold enough.
std::vector<LotTake> chooseFefo(std::vector<LotStock> lots, std::int64_t quantity, int today);

/// Whether a lot with this expiry is sellable on `today`.
bool isSellable(const std::optional<int>& expiry, int today);

/// One of several reservations of the same balance row, made one after another: the quantity it takes and the
/// unallocated stock (safety stock) it must leave behind.
struct Claim {
    std::int64_t quantity = 0;  ///< > 0
    std::int64_t protect = 0;   ///< >= 0
};

/// The unallocated stock a row must have for every claim to succeed when they are made in order: the largest
/// of (the quantities up to and including a claim + that claim's protect). None when that exceeds the 64-bit
/// range (no row can hold it). With this number one guarded update makes all the claims at once.
std::optional<std::int64_t> freeNeeded(std::span<const Claim> claims);

/// The first claim that `free` unallocated stock cannot satisfy when the claims are made in order, and what was
/// available to it (after the claims before it and its own protect, never below zero).
struct Shortfall {
    std::size_t index = 0;
    std::int64_t available = 0;
};
std::optional<Shortfall> firstShortfall(std::int64_t free, std::span<const Claim> claims);

}  // namespace keel::inventory
