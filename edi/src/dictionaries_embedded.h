#pragma once
// The files of edi/dictionaries, compiled in by edi/cmake/embed_dictionaries.cmake (generated at build time), so
// the library validates without an installed data directory.

#include <cstddef>

namespace keel::edi::detail {

struct EmbeddedDictionary {
    const char* version;  ///< the folder: "004010"
    const char* name;     ///< the file name: "850.x12d"
    const char* text;
};

extern const EmbeddedDictionary kEmbeddedDictionaries[];
extern const std::size_t kEmbeddedDictionaryCount;

}  // namespace keel::edi::detail
