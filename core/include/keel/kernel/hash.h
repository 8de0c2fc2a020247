#pragma once
// Content hashes for idempotency checks (a re-sent order or event with other content is a conflict).

#include <string>
#include <string_view>

namespace keel {

/// SHA-256 of `text` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view text);

}  // namespace keel
