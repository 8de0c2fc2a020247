#include "progress.h"

#include <ostream>
#include <unistd.h>

namespace keel::cli {

Progress::Progress(std::ostream& err, std::string label, std::uint64_t total_bytes)
    : err_(err), label_(std::move(label)), total_bytes_(total_bytes), enabled_(::isatty(STDERR_FILENO) == 1),
      last_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { finish(); }

void Progress::update(std::uint64_t rows, std::uint64_t bytes) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    err_ << "\r" << label_ << ": " << rows << " rows";
    if (total_bytes_ > 0) err_ << " (" << (bytes * 100 / total_bytes_) << "%)";
    err_ << "\x1b[K" << std::flush;
    shown_ = true;
}

void Progress::finish() {
    if (shown_) err_ << "\r\x1b[K" << std::flush;
    shown_ = false;
}

}  // namespace keel::cli
