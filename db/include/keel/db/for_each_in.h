#pragma once
// Looking up many keys at once: `WHERE key IN (?, ..., ?)` in chunks of up to 256 bound values.

#include "keel/db/database.h"

#include <functional>
#include <string>
#include <vector>

namespace keel::db {

/// Runs `before + "(?, ..., ?)" + after` over `values` in chunks, so a lookup of thousands of keys takes a few
/// round trips instead of one per key; calls `on_row` for every result row. Chunk sizes are powers of two and
/// the last chunk is padded with its last value, so a handful of prepared statements serve every call.
/// `leading` values are bound before the list in every chunk, for markers in `before` (`WHERE channel = ? AND
/// item_id IN `).
void forEachIn(UnitOfWork& uow, const std::string& before, const std::string& after,
               const std::vector<std::string>& values, const std::function<void(const Statement&)>& on_row,
               const std::vector<std::string>& leading = {});

}  // namespace keel::db
