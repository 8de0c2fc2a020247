#pragma once
// Interchange bytes cross the plugin ABI as base64 in JSON (edi.to_documents, edi.from_document) and are stored as
// base64 text (edi_message.body): one encoding for the host, the CLI and the edi-x12 plugin.

#include <string>
#include <string_view>

namespace keel::edi {

/// Standard base64 (RFC 4648) without line breaks.
std::string toBase64(std::string_view bytes);
/// The bytes of standard base64; throws Poco::DataFormatException on a character outside the alphabet.
std::string fromBase64(std::string_view text);

}  // namespace keel::edi
