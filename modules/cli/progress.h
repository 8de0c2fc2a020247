#pragma once
// Progress of long imports on a terminal: a line on stderr rewritten in place, at most a few times a second,
// and nothing at all when stderr is not a terminal (logs and pipes stay clean).

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace keel::cli {

class Progress {
public:
    /// `label` e.g. "items.csv"; `total_bytes` of the input, 0 when unknown.
    Progress(std::ostream& err, std::string label, std::uint64_t total_bytes);
    ~Progress();
    /// Reports rows done and bytes consumed; cheap to call for every row.
    void update(std::uint64_t rows, std::uint64_t bytes);
    /// Clears the line.
    void finish();

private:
    std::ostream& err_;
    std::string label_;
    std::uint64_t total_bytes_;
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point last_;
};

}  // namespace keel::cli
