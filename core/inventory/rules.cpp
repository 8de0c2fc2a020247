#include "keel/inventory/rules.h"

#include "keel/kernel/money.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace keel::inventory {

std::int64_t availableToPromise(std::int64_t on_hand, std::int64_t allocated, std::int64_t safety_stock) {
    // Stored balances satisfy 0 <= allocated <= on_hand, so the subtractions cannot overflow.
    const std::int64_t free = on_hand - allocated;
    return free > safety_stock ? free - safety_stock : 0;
}

std::int64_t channelAvailable(std::int64_t atp, const std::optional<ChannelRule>& rule) {
    if (atp <= 0) return 0;
    if (!rule) return atp;
    std::int64_t exposed = atp;
    if (rule->percent) {
        // floor(atp * percent / 100) without overflow: atp < 2^63 and percent <= 100.
        const auto product = static_cast<Int128>(atp) * *rule->percent;
        exposed = static_cast<std::int64_t>(product / 100);
    }
    if (rule->cap) exposed = std::min(exposed, *rule->cap);
    return std::max<std::int64_t>(exposed, 0);
}

std::int64_t kitAvailable(const std::vector<KitPart>& parts) {
    if (parts.empty()) return 0;
    std::int64_t kits = std::numeric_limits<std::int64_t>::max();
    for (const auto& part : parts) {
        if (part.per_kit <= 0) throw std::invalid_argument("a kit part needs a positive quantity per kit");
        kits = std::min(kits, std::max<std::int64_t>(part.available, 0) / part.per_kit);
    }
    return kits;
}

bool isSellable(const std::optional<int>& expiry, int today) { return !expiry || *expiry >= today; }

std::vector<LotTake> chooseFefo(std::vector<LotStock> lots, std::int64_t quantity, int today) {
    std::erase_if(lots, [&](const LotStock& lot) {
        return !lot.released || lot.available <= 0 || !isSellable(lot.expiry, today);
    });
    std::sort(lots.begin(), lots.end(), [](const LotStock& a, const LotStock& b) {
        if (a.expiry.has_value() != b.expiry.has_value()) return a.expiry.has_value();  // expiring lots first
        if (a.expiry != b.expiry) return *a.expiry < *b.expiry;
        if (a.lot_code != b.lot_code) return a.lot_code < b.lot_code;
        return a.lot_id < b.lot_id;
    });
    std::vector<LotTake> taken;
    for (const auto& lot : lots) {
        if (quantity <= 0) break;
        const std::int64_t take = std::min(quantity, lot.available);
        taken.push_back(LotTake{lot.lot_id, take});
        quantity -= take;
    }
    return taken;
}

std::optional<std::int64_t> freeNeeded(std::span<const Claim> claims) {
    std::int64_t taken = 0;
    std::int64_t needed = 0;
    for (const auto& claim : claims) {
        std::int64_t with_protect = 0;
        if (__builtin_add_overflow(taken, claim.quantity, &taken) ||
            __builtin_add_overflow(taken, claim.protect, &with_protect)) {
            return std::nullopt;
        }
        needed = std::max(needed, with_protect);
    }
    return needed;
}

std::optional<Shortfall> firstShortfall(std::int64_t free, std::span<const Claim> claims) {
    for (std::size_t i = 0; i < claims.size(); ++i) {
        // `free` only shrinks by claims that fitted, so it stays >= 0 and nothing here can overflow.
        const std::int64_t available = free > claims[i].protect ? free - claims[i].protect : 0;
        if (available < claims[i].quantity) return Shortfall{i, available};
        free -= claims[i].quantity;
    }
    return std::nullopt;
}

}  // namespace keel::inventory
