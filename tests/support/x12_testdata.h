#pragma once
// The real X12 interchanges of ../shared/testdata/x12 (valid/ and invalid/, see SOURCES.md), for the EDI tests.
// KEEL_TESTDATA_DIR is set by tests/CMakeLists.txt; the files are read in place, never copied.

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace keel::test {

inline const std::string kX12Dir = std::string(KEEL_TESTDATA_DIR) + "/x12";

/// The file names in kX12Dir/folder ("valid", "invalid"), sorted, so data-driven cases run in a stable order.
inline std::vector<std::string> x12FilesIn(const std::string& folder) {
    if (!std::filesystem::is_directory(kX12Dir + "/" + folder)) {
        // The shared test data sits beside the clone (../shared/testdata), as on CI: a clone elsewhere lacks it.
        throw std::runtime_error("the X12 test data is missing: no directory " + kX12Dir + "/" + folder +
                                 " (clone Keel next to shared/)");
    }
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(kX12Dir + "/" + folder)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace keel::test
