#pragma once
// UTF-8 of text that arrived from outside (files, documents): one character at a time, strictly (no overlong
// forms, no UTF-16 surrogates, nothing beyond U+10FFFF), so every check sees the characters a reader sees.

#include <cstddef>
#include <string_view>

namespace keel::utf8 {

struct Decoded {
    char32_t code_point = 0;
    std::size_t length = 0;  ///< bytes of the character; 0 when the bytes at the position are not UTF-8
};

/// The character that starts at byte `pos` (< text.size()) of `text`.
Decoded decode(std::string_view text, std::size_t pos);

/// C0 controls, DEL and C1 controls: [\u0000-\u001f\u007f-\u009f].
inline bool isControl(char32_t c) {
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

}  // namespace keel::utf8
