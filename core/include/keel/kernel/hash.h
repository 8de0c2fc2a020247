#pragma once
// Content hashes for idempotency checks (a re-sent order or event with other content is a conflict), the audit
// chain of events, and message authentication of webhooks.

#include <cstddef>
#include <string>
#include <string_view>

namespace keel {

/// SHA-256 of `text` as 64 lowercase hex digits.
std::string sha256Hex(std::string_view text);

/// HMAC-SHA256 of `message` under `key` as 64 lowercase hex digits (OpenSSL).
std::string hmacSha256Hex(std::string_view key, std::string_view message);

/// `bytes` bytes from OpenSSL's random generator as lowercase hex (secrets, tokens). Throws InfrastructureError
/// when the generator fails.
std::string randomHex(std::size_t bytes);

/// Compares two strings in time that depends only on their lengths (signatures, tokens).
bool constantTimeEquals(std::string_view a, std::string_view b);

}  // namespace keel
