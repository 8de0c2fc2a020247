#pragma once
// Build identity of this Keel binary, shown by `keel version`, `keel db status` and keeld's logs.

#include <string_view>

namespace keel {

std::string_view versionString();  ///< "0.1.0"
std::string_view gitDescribe();     ///< `git describe` of the source tree at configure time, or "unknown"

}  // namespace keel
