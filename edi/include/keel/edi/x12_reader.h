#pragma once
// Streaming X12 reader: a pull tokenizer that yields one segment at a time from a std::istream, with the
// delimiters of each interchange read from its ISA and verified, never trusted from fixed offsets.
// Memory stays bounded whatever the input size: one read chunk plus the current segment.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::edi {

/// The separators of one interchange. `repetition` is '\0' when the interchange has none (ISA12 before
/// 00402, or an alphanumeric ISA11, which is then the standards identifier "U").
struct Delimiters {
    char element = '*';
    char component = ':';
    char repetition = '\0';
    char segment = '~';

    bool hasRepetition() const { return repetition != '\0'; }
    /// True when `c` is one of the four delimiters.
    bool isDelimiter(char c) const {
        return c == element || c == component || c == segment || (hasRepetition() && c == repetition);
    }
};

/// One segment as read: the raw text (without terminator) and where it was found. Elements keep their raw
/// text: composites and repetitions are NOT split at parse time, because without a dictionary the reader
/// cannot know which elements are composite or repeatable (nodex12_856 has its repetition separator '-'
/// inside a ZIP+4 code). components() and repetitions() split on request, where the caller knows it is defined.
class Segment {
public:
    Segment() = default;
    /// Builds a segment from its text, splitting on `delimiters.element` only (for writers and tests).
    Segment(std::string text, const Delimiters& delimiters, std::uint64_t offset = 0, std::uint64_t number = 0);

    std::string_view id() const { return element(0); }
    /// The raw text between the start of the segment and its terminator.
    std::string_view text() const { return text_; }
    /// Number of data elements after the id (trailing empty elements included as written).
    std::size_t elementCount() const { return starts_.empty() ? 0 : starts_.size() - 1; }
    /// Raw text of element `position` (1-based; 0 is the id); empty when absent.
    std::string_view element(std::size_t position) const;
    /// Element `position` split on the component separator (one part when it has none).
    std::vector<std::string_view> components(std::size_t position) const;
    /// Element `position` split on the repetition separator (one part when the interchange has none).
    std::vector<std::string_view> repetitions(std::size_t position) const;

    const Delimiters& delimiters() const { return delimiters_; }
    /// Byte offset of the segment's first byte in the input (a byte-order mark counts).
    std::uint64_t offset() const { return offset_; }
    /// 1-based ordinal of the segment in the input (every interchange of a file counted in sequence).
    std::uint64_t number() const { return number_; }
    /// False only for a last segment that ended at end of input without its (newline) terminator.
    bool terminated() const { return terminated_; }

private:
    friend class X12Reader;
    void reset(std::uint64_t offset, std::uint64_t number, const Delimiters& delimiters);
    void split();

    std::string text_;
    std::vector<std::uint32_t> starts_;  // start of each element in text_, id included; ends are implied
    Delimiters delimiters_{};
    std::uint64_t offset_ = 0;
    std::uint64_t number_ = 0;
    bool terminated_ = true;
};

/// Why input could not be read safely. Each kind is a distinct cause so callers and tests can tell them apart.
enum class ParseErrorKind {
    NotX12,               ///< the input does not start with an ISA segment
    ExpectedIsa,          ///< something other than ISA after an IEA
    SplitIsa,             ///< a line break inside the ISA segment
    HardWrapped,          ///< line breaks at a fixed column inside segments (a file wrapped for display)
    MixedTerminators,     ///< a segment ends with a character other than the ISA's terminator
    LineBreakInSegment,   ///< any other line break inside a segment
    MultiByteTerminator,  ///< the byte after ISA16 starts a multi-byte UTF-8 character
    BadIsa,               ///< ISA element count, lengths or delimiters not usable
    ShortIsa,             ///< fixed-width ISA fields shortened (a pre-00401 layout)
    BadSegmentId,         ///< a segment identifier that is not 2-3 upper-case letters/digits
    SegmentTooLong,       ///< a segment longer than ReaderOptions::max_segment_bytes
    UnterminatedSegment,  ///< end of input inside a segment
    Io,                   ///< the stream failed
};

std::string_view parseErrorKindName(ParseErrorKind kind);
std::ostream& operator<<(std::ostream& out, ParseErrorKind kind);

/// A reading failure: what, where (byte offset, segment number, element) and what was expected, in `message`.
struct ParseError {
    ParseErrorKind kind = ParseErrorKind::NotX12;
    std::uint64_t offset = 0;          ///< byte offset in the input
    std::uint64_t segment_number = 0;  ///< the segment being read (1-based), 0 before the first
    std::string element;               ///< e.g. "ISA02", empty when not about one element
    std::string message;               ///< the full, self-contained description
};

/// A non-fatal observation of the reader (an ISA08 of 16 characters, a missing final newline).
struct ReaderWarning {
    std::uint64_t offset = 0;
    std::uint64_t segment_number = 0;
    std::string element;
    std::string message;
};

struct ReaderOptions {
    std::size_t chunk_bytes = 64 * 1024;      ///< read buffer size
    std::size_t max_segment_bytes = 1 << 20;  ///< a longer segment is an error, which bounds memory
};

/// Pull reader: `while (reader.next() == X12Reader::Status::Segment) use(reader.segment());`
/// On Status::Error, error() says why; the reader stops there (it never guesses past an unsafe spot).
class X12Reader {
public:
    enum class Status { Segment, End, Error };

    explicit X12Reader(std::istream& in, ReaderOptions options = {});

    [[nodiscard]] Status next();
    /// The segment of the last Status::Segment; valid until the next call to next().
    const Segment& segment() const { return segment_; }
    const std::optional<ParseError>& error() const { return error_; }
    /// Warnings so far (bounded: at most 100 are kept).
    const std::vector<ReaderWarning>& warnings() const { return warnings_; }
    /// Delimiters of the current interchange.
    const Delimiters& delimiters() const { return delimiters_; }
    /// Bytes consumed so far (a byte-order mark included).
    std::uint64_t offset() const { return consumed_; }
    /// Bytes of input held in memory right now (read buffer + current segment): the memory bound, for tests.
    std::size_t bufferedBytes() const { return buffer_.capacity() + segment_.text_.capacity(); }

private:
    bool ensure(std::size_t n);  // at least n unread bytes available, unless end of input
    std::size_t available() const { return end_ - pos_; }
    char peekAt(std::size_t i) const { return buffer_[pos_ + i]; }
    void advance(std::size_t n);
    Status fail(ParseErrorKind kind, std::uint64_t offset, std::string element, std::string message);
    Status readIsa();
    Status readSegment();
    void warn(std::uint64_t offset, std::string element, std::string message);

    std::istream& in_;
    ReaderOptions options_;
    std::vector<char> buffer_;
    std::size_t pos_ = 0;
    std::size_t end_ = 0;
    bool eof_ = false;
    std::uint64_t consumed_ = 0;
    std::uint64_t line_start_ = 0;  // offset of the first byte after the last line break
    std::uint64_t segment_count_ = 0;
    bool started_ = false;
    bool in_interchange_ = false;
    Delimiters delimiters_{};
    Segment segment_;
    std::optional<ParseError> error_;
    std::vector<ReaderWarning> warnings_;
};

}  // namespace keel::edi
