#pragma once
// X12 serializer with partner-chosen delimiters. Writing what X12Reader read, with the same delimiters and the
// same line ending after every terminator, gives back the input byte for byte (for canonical input).

#include "keel/edi/x12_reader.h"

#include <iosfwd>
#include <optional>
#include <string>
#include <utility>

namespace keel::edi {

struct WriterOptions {
    Delimiters delimiters{};
    std::string line_ending;        ///< written between segments, after the terminator: "", "\n" or "\r\n"
    bool final_line_ending = true;  ///< also after the last segment (written by finish())
    /// Translate the source's repetition separator into ours. Off by default: without a dictionary a '-' in a
    /// ZIP+4 code and a '-' repetition separator cannot be told apart (nodex12_856), so it is kept as data.
    bool translate_repetitions = false;
};

class X12Writer {
public:
    X12Writer(std::ostream& out, WriterOptions options) : out_(out), options_(std::move(options)) {}

    /// Writes one segment (translating the component separator, and ISA11/ISA16 of an ISA, to our delimiters).
    /// Returns why it cannot when an element holds one of our delimiters as data; nothing is written then.
    [[nodiscard]] std::optional<std::string> write(const Segment& segment);
    /// Ends the output: the line ending after the last segment, if WriterOptions::final_line_ending.
    void finish();
    /// Delimiters for the segments that follow (a new interchange may use others).
    void setDelimiters(const Delimiters& delimiters) { options_.delimiters = delimiters; }

private:
    std::ostream& out_;
    WriterOptions options_;
    std::string scratch_;
    bool wrote_ = false;  // the line ending goes before each later segment, so the last one can go without
};

}  // namespace keel::edi
