#include "keel/edi/x12_writer.h"

#include <ostream>

namespace keel::edi {

std::optional<std::string> X12Writer::write(const Segment& segment) {
    const Delimiters& from = segment.delimiters();
    const Delimiters& to = options_.delimiters;
    const bool isa = segment.id() == "ISA";
    scratch_.clear();
    if (wrote_) scratch_ += options_.line_ending;
    scratch_.append(segment.id());
    for (std::size_t p = 1; p <= segment.elementCount(); ++p) {
        scratch_ += to.element;
        std::string_view value = segment.element(p);
        if (isa && p == 16) {
            scratch_ += to.component;
            continue;
        }
        if (isa && p == 11) {
            // ISA11 is a delimiter only from 00402 on; before that it is data ("U") and stays.
            if (segment.element(12) >= "00402" && to.hasRepetition()) {
                scratch_ += to.repetition;
            } else {
                scratch_.append(value);
            }
            continue;
        }
        for (const char c : value) {
            char out = c;
            if (c == from.component) {
                out = to.component;
            } else if (options_.translate_repetitions && from.hasRepetition() && c == from.repetition) {
                out = to.hasRepetition() ? to.repetition : c;
            } else if (c == to.element || c == to.segment || c == to.component ||
                       (to.hasRepetition() && c == to.repetition && c != from.repetition)) {
                return "segment " + std::to_string(segment.number()) + " (" + std::string(segment.id()) +
                       "), element " + std::to_string(p) + " holds '" + std::string(1, c) +
                       "' as data, which is one of the output delimiters; choose other delimiters";
            }
            scratch_ += out;
        }
    }
    scratch_ += to.segment;
    out_.write(scratch_.data(), static_cast<std::streamsize>(scratch_.size()));
    wrote_ = true;
    return std::nullopt;
}

void X12Writer::finish() {
    if (wrote_ && options_.final_line_ending) out_ << options_.line_ending;
}

}  // namespace keel::edi
