#include "keel/edi/x12_reader.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <istream>
#include <ostream>

namespace keel::edi {

namespace {

bool isAlnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
bool isLineBreak(char c) {
    return c == '\r' || c == '\n';
}

// How a delimiter is shown in messages: printable as itself, the others by name or code.
std::string show(char c) {
    if (c == '\n') return "LF (0x0A)";
    if (c == '\r') return "CR (0x0D)";
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
        static constexpr char kHex[] = "0123456789ABCDEF";
        return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 0xf];
    }
    return std::string("'") + c + "'";
}

std::string isaName(std::size_t position) {
    return std::string("ISA") + (position < 10 ? "0" : "") + std::to_string(position);
}

// Column widths that editors and mail gateways wrap at: a line break exactly there is a wrapped file.
bool isWrapWidth(std::uint64_t length) {
    static constexpr std::array<std::uint64_t, 6> kWidths{64, 72, 76, 80, 128, 132};
    return std::find(kWidths.begin(), kWidths.end(), length) != kWidths.end();
}

// The fixed widths of ISA01..ISA16 (X12.5, every version since 00200 uses the same layout).
constexpr std::array<std::size_t, 17> kIsaWidths{0, 2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1};

}  // namespace

Segment::Segment(std::string text, const Delimiters& delimiters, std::uint64_t offset, std::uint64_t number)
    : text_(std::move(text)), delimiters_(delimiters), offset_(offset), number_(number) {
    split();
}

void Segment::reset(std::uint64_t offset, std::uint64_t number, const Delimiters& delimiters) {
    text_.clear();  // keeps its capacity: one allocation serves every segment of a file
    starts_.clear();
    offset_ = offset;
    number_ = number;
    delimiters_ = delimiters;
    terminated_ = true;
}

void Segment::split() {
    starts_.clear();
    starts_.push_back(0);
    for (std::size_t i = 0; i < text_.size(); ++i) {
        if (text_[i] == delimiters_.element) starts_.push_back(static_cast<std::uint32_t>(i + 1));
    }
}

std::string_view Segment::element(std::size_t position) const {
    if (position >= starts_.size()) return {};
    const std::size_t begin = starts_[position];
    const std::size_t end = position + 1 < starts_.size() ? starts_[position + 1] - 1 : text_.size();
    return std::string_view(text_).substr(begin, end - begin);
}

namespace {
std::vector<std::string_view> splitOn(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    std::size_t begin = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == separator) {
            parts.push_back(text.substr(begin, i - begin));
            begin = i + 1;
        }
    }
    return parts;
}
}  // namespace

std::vector<std::string_view> Segment::components(std::size_t position) const {
    return splitOn(element(position), delimiters_.component);
}

std::vector<std::string_view> Segment::repetitions(std::size_t position) const {
    if (!delimiters_.hasRepetition()) return {element(position)};
    return splitOn(element(position), delimiters_.repetition);
}

std::string_view parseErrorKindName(ParseErrorKind kind) {
    switch (kind) {
        case ParseErrorKind::NotX12:
            return "not_x12";
        case ParseErrorKind::ExpectedIsa:
            return "expected_isa";
        case ParseErrorKind::SplitIsa:
            return "split_isa";
        case ParseErrorKind::HardWrapped:
            return "hard_wrapped";
        case ParseErrorKind::MixedTerminators:
            return "mixed_terminators";
        case ParseErrorKind::LineBreakInSegment:
            return "line_break_in_segment";
        case ParseErrorKind::MultiByteTerminator:
            return "multi_byte_terminator";
        case ParseErrorKind::BadIsa:
            return "bad_isa";
        case ParseErrorKind::ShortIsa:
            return "short_isa";
        case ParseErrorKind::BadSegmentId:
            return "bad_segment_id";
        case ParseErrorKind::SegmentTooLong:
            return "segment_too_long";
        case ParseErrorKind::UnterminatedSegment:
            return "unterminated_segment";
        case ParseErrorKind::Io:
            return "io";
    }
    return "unknown";
}

std::ostream& operator<<(std::ostream& out, ParseErrorKind kind) {
    return out << parseErrorKindName(kind);
}

X12Reader::X12Reader(std::istream& in, ReaderOptions options)
    : in_(in), options_(options), buffer_(std::max<std::size_t>(options.chunk_bytes, 1)) {}

bool X12Reader::ensure(std::size_t n) {
    if (available() >= n) return true;
    if (eof_) return false;
    // Look-ahead (an ISA is at most ~210 bytes) may exceed a tiny chunk: grow to what is asked, never more.
    if (buffer_.size() < n) buffer_.resize(n);
    if (pos_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + pos_, available());
        end_ -= pos_;
        pos_ = 0;
    }
    while (available() < n && !eof_) {
        in_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
        end_ += static_cast<std::size_t>(in_.gcount());
        if (!in_) eof_ = true;  // eof, or bad(): next() tells the two apart
    }
    return available() >= n;
}

void X12Reader::advance(std::size_t n) {
    pos_ += n;
    consumed_ += n;
}

void X12Reader::warn(std::uint64_t offset, std::string element, std::string message) {
    if (warnings_.size() < 100) warnings_.push_back({offset, segment_count_, std::move(element), std::move(message)});
}

X12Reader::Status X12Reader::fail(ParseErrorKind kind, std::uint64_t offset, std::string element, std::string message) {
    error_ = ParseError{kind, offset, segment_count_, std::move(element), std::move(message)};
    return Status::Error;
}

X12Reader::Status X12Reader::next() {
    if (error_) return Status::Error;
    if (!started_) {
        started_ = true;
        // A UTF-8 byte-order mark written by Windows editors is not part of the interchange.
        if (ensure(3) && std::memcmp(buffer_.data() + pos_, "\xEF\xBB\xBF", 3) == 0) {
            advance(3);
            line_start_ = consumed_;
        }
    }
    // Line breaks after a terminator (or blank lines when the terminator is a newline) are layout, not data.
    while (ensure(1) && isLineBreak(peekAt(0))) {
        advance(1);
        line_start_ = consumed_;
    }
    if (!ensure(1)) {
        if (in_.bad())
            return fail(ParseErrorKind::Io, consumed_, "", "read error at byte " + std::to_string(consumed_));
        if (segment_count_ == 0) {
            return fail(ParseErrorKind::NotX12, 0, "", "empty input: expected an X12 interchange starting with 'ISA'");
        }
        return Status::End;
    }
    const bool isa_next = ensure(4) && std::memcmp(buffer_.data() + pos_, "ISA", 3) == 0 && !isAlnum(peekAt(3));
    if (isa_next) return readIsa();
    if (!in_interchange_) {
        const std::string found(buffer_.data() + pos_, std::min<std::size_t>(available(), 3));
        if (segment_count_ == 0) {
            return fail(ParseErrorKind::NotX12, consumed_, "",
                        "not an X12 interchange: expected 'ISA' at byte " + std::to_string(consumed_) + ", found '" +
                            found + "'");
        }
        return fail(ParseErrorKind::ExpectedIsa, consumed_, "",
                    "after IEA (segment " + std::to_string(segment_count_) +
                        ") expected 'ISA' or end of input at byte " + std::to_string(consumed_) + ", found '" + found +
                        "'");
    }
    return readSegment();
}

X12Reader::Status X12Reader::readIsa() {
    const std::uint64_t start = consumed_;
    ++segment_count_;
    const char separator = peekAt(3);
    const std::string at = " at byte " + std::to_string(start);
    if (isLineBreak(separator) || separator == ' ') {
        return fail(ParseErrorKind::BadIsa, start + 3, "ISA01",
                    "ISA" + at + ": byte 3 is " + show(separator) + ", expected the element separator");
    }
    // Find the 16 element separators instead of trusting fixed offsets: ISA06/ISA08 of the wrong width exist
    // in the wild (stupidedi_004010_PO850_pass_1 has a 16-character ISA08).
    constexpr std::size_t kMaxIsa = 4 + 200;
    std::size_t separators = 1;
    std::size_t i = 4;
    for (; separators < 16; ++i) {
        if (i >= kMaxIsa) {
            return fail(ParseErrorKind::BadIsa, start, "",
                        "ISA" + at + ": only " + std::to_string(separators) + " of 16 element separators " +
                            show(separator) + " within " + std::to_string(kMaxIsa) + " bytes");
        }
        if (!ensure(i + 1)) {
            return fail(ParseErrorKind::UnterminatedSegment, start + i, "",
                        "end of input at byte " + std::to_string(start + i) + " inside the ISA" + at + " (" +
                            std::to_string(separators) + " of 16 element separators " + show(separator) + " seen)");
        }
        const char c = peekAt(i);
        if (isLineBreak(c)) {
            const std::uint64_t line_length = start + i - line_start_;
            const std::string where =
                isaName(separators) + " (after " + std::to_string(separators) + " of 16 element separators)";
            if (isWrapWidth(line_length)) {
                return fail(ParseErrorKind::HardWrapped, start + i, isaName(separators),
                            "line break at byte " + std::to_string(start + i) + " inside " + where + " of the ISA" +
                                at + ", after a line of exactly " + std::to_string(line_length) +
                                " characters: the file is hard-wrapped; expected each segment whole (unwrap it)");
            }
            return fail(ParseErrorKind::SplitIsa, start + i, isaName(separators),
                        "line break at byte " + std::to_string(start + i) + " inside " + where + " of the ISA" + at +
                            ": the ISA is split across lines; expected all 16 ISA elements before the terminator");
        }
        if (c == separator) ++separators;
    }
    // i is now the index of ISA16; the terminator follows it.
    if (!ensure(i + 2)) {
        return fail(ParseErrorKind::UnterminatedSegment, start + i, "ISA16",
                    "end of input after the 16th element separator of the ISA" + at +
                        ": expected ISA16 (component separator) and the segment terminator");
    }
    const char component = peekAt(i);
    const char terminator = peekAt(i + 1);
    const std::uint64_t term_offset = start + i + 1;
    if (isLineBreak(component) || component == separator) {
        return fail(ParseErrorKind::BadIsa, start + i, "ISA16",
                    "ISA16" + at + " is " + show(component) + " at byte " + std::to_string(start + i) +
                        ": expected a one-character component separator");
    }
    if (static_cast<unsigned char>(terminator) >= 0x80) {
        const auto lead = static_cast<unsigned char>(terminator);
        const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        std::string character =
            "byte 0x" + std::string(1, "0123456789ABCDEF"[lead >> 4]) + "0123456789ABCDEF"[lead & 0xf];
        if (length > 1 && ensure(i + 1 + length)) {
            std::uint32_t cp = lead & (0x7F >> length);
            for (std::size_t k = 1; k < length; ++k)
                cp = (cp << 6) | (static_cast<unsigned char>(peekAt(i + 1 + k)) & 0x3F);
            char hex[16];
            std::snprintf(hex, sizeof hex, "U+%04X", static_cast<unsigned>(cp));
            character = std::string("the ") + std::to_string(length) + "-byte UTF-8 character " + hex;
        }
        return fail(ParseErrorKind::MultiByteTerminator, term_offset, "",
                    "segment terminator of the ISA" + at + " (byte " + std::to_string(term_offset) +
                        ", after ISA16) is " + character +
                        ": expected a single-byte terminator; a multi-byte terminator cannot be read safely");
    }
    if (terminator == separator) {
        return fail(ParseErrorKind::BadIsa, term_offset, "ISA16",
                    "ISA" + at + " has more than 16 elements: expected the segment terminator at byte " +
                        std::to_string(term_offset) + " after ISA16, found the element separator " + show(separator));
    }
    if (isAlnum(terminator) || terminator == ' ') {
        return fail(ParseErrorKind::BadIsa, term_offset, "ISA16",
                    "ISA16" + at + " is longer than one character (" + show(component) + show(terminator) +
                        "...): expected one component separator followed by the segment terminator at byte " +
                        std::to_string(term_offset));
    }

    Delimiters d;
    d.element = separator;
    d.component = component;
    d.segment = terminator;
    segment_.reset(start, segment_count_, d);
    segment_.text_.assign(buffer_.data() + pos_, i + 1);
    segment_.split();

    // Fixed-width fields: identifiers (ISA06, ISA08) of the wrong width are common and harmless, since the
    // separators were located; any other field of the wrong width means a layout we do not know.
    const std::string version(segment_.element(12));
    for (std::size_t p = 1; p <= 16; ++p) {
        const std::size_t width = segment_.element(p).size();
        if (width == kIsaWidths[p]) continue;
        const std::uint64_t field_offset = start + segment_.starts_[p];
        const std::string what = isaName(p) + " at byte " + std::to_string(field_offset) + " is " +
                                 std::to_string(width) + " character(s), expected " + std::to_string(kIsaWidths[p]);
        if (p == 6 || p == 8) {
            if (width == 0)
                return fail(ParseErrorKind::BadIsa, field_offset, isaName(p), what + " (an id is required)");
            warn(field_offset, isaName(p), what + " (accepted: the delimiters were located, not assumed)");
            continue;
        }
        if (width < kIsaWidths[p]) {
            return fail(ParseErrorKind::ShortIsa, field_offset, isaName(p),
                        what + ": a short ISA (interchange version ISA12 '" + version +
                            "'; pre-00401 senders left fixed-width fields unpadded); expected every ISA field "
                            "padded to its fixed width");
        }
        return fail(ParseErrorKind::BadIsa, field_offset, isaName(p), what);
    }

    // ISA11 became the repetition separator in 00402; before that it is the standards identifier ("U").
    const char isa11 = segment_.element(11)[0];
    if (version >= "00402" && !isAlnum(isa11)) d.repetition = isa11;
    const std::array<std::pair<char, const char*>, 4> delimiters{{{d.element, "element separator"},
                                                                  {d.component, "component separator (ISA16)"},
                                                                  {d.segment, "segment terminator"},
                                                                  {d.repetition, "repetition separator (ISA11)"}}};
    for (std::size_t a = 0; a < delimiters.size(); ++a) {
        for (std::size_t b = a + 1; b < delimiters.size(); ++b) {
            if (delimiters[a].first != '\0' && delimiters[a].first == delimiters[b].first) {
                return fail(ParseErrorKind::BadIsa, start, "",
                            "ISA" + at + ": the " + delimiters[a].second + " and the " + delimiters[b].second +
                                " are both " + show(delimiters[a].first) + "; expected four distinct delimiters");
            }
        }
    }
    if (isAlnum(d.component)) {
        return fail(ParseErrorKind::BadIsa, start + i, "ISA16",
                    "ISA16" + at + " is " + show(d.component) + ": expected a non-alphanumeric component separator");
    }
    segment_.delimiters_ = d;
    delimiters_ = d;
    in_interchange_ = true;
    advance(i + 2);
    return Status::Segment;
}

X12Reader::Status X12Reader::readSegment() {
    const std::uint64_t start = consumed_;
    ++segment_count_;
    segment_.reset(start, segment_count_, delimiters_);
    std::string& text = segment_.text_;
    const char terminator = delimiters_.segment;
    for (;;) {
        if (!ensure(1)) {
            if (in_.bad())
                return fail(ParseErrorKind::Io, consumed_, "", "read error at byte " + std::to_string(consumed_));
            if (isLineBreak(terminator)) {
                // A newline-terminated file whose last newline was stripped (edienginge_940.W05.Only).
                segment_.terminated_ = false;
                warn(start, "",
                     "segment " + std::to_string(segment_count_) + " at byte " + std::to_string(start) +
                         " ends at end of input without its terminator " + show(terminator));
                break;
            }
            return fail(ParseErrorKind::UnterminatedSegment, consumed_, "",
                        "end of input at byte " + std::to_string(consumed_) + " inside segment " +
                            std::to_string(segment_count_) + " (byte " + std::to_string(start) +
                            "): expected the segment terminator " + show(terminator));
        }
        // Copy the run of ordinary bytes at once; stop at the terminator or a line break.
        const char* begin = buffer_.data() + pos_;
        const char* stop = begin;
        const char* const last = buffer_.data() + end_;
        while (stop != last && *stop != terminator && !isLineBreak(*stop)) ++stop;
        const auto run = static_cast<std::size_t>(stop - begin);
        if (text.size() + run > options_.max_segment_bytes) {
            return fail(ParseErrorKind::SegmentTooLong, start, "",
                        "segment " + std::to_string(segment_count_) + " at byte " + std::to_string(start) +
                            " is longer than " + std::to_string(options_.max_segment_bytes) +
                            " bytes without a terminator " + show(terminator) + "; expected shorter segments");
        }
        text.append(begin, run);
        advance(run);
        if (stop == last) continue;
        if (*stop == terminator) {
            advance(1);
            break;
        }
        // A line break inside a segment, while the terminator is something else.
        const std::uint64_t break_offset = consumed_;
        const std::uint64_t line_length = break_offset - line_start_;
        const std::string id = text.substr(0, text.find(delimiters_.element));
        const std::string where =
            "segment " + std::to_string(segment_count_) + " ('" + id + "', byte " + std::to_string(start) + ")";
        // Look past the line break(s): does a segment id and an element separator follow?
        std::size_t k = 0;
        while (ensure(k + 1) && isLineBreak(peekAt(k)) && k < 8) ++k;
        std::size_t id_length = 0;
        while (ensure(k + id_length + 1) && id_length < 4 && isAlnum(peekAt(k + id_length))) ++id_length;
        const bool segment_follows = id_length >= 2 && id_length <= 3 && ensure(k + id_length + 1) &&
                                     peekAt(k + id_length) == delimiters_.element;
        const char before = text.empty() ? '\0' : text.back();
        if (segment_follows && before != '\0' && !isAlnum(before) && before != ' ' &&
            !delimiters_.isDelimiter(before)) {
            return fail(ParseErrorKind::MixedTerminators, break_offset - 1, "",
                        where + " ends with " + show(before) + " and a line break at byte " +
                            std::to_string(break_offset) +
                            ", but the interchange's segment terminator (from its ISA) is " + show(terminator) +
                            ": mixed segment terminators; expected every segment to end with " + show(terminator));
        }
        if (isWrapWidth(line_length)) {
            return fail(ParseErrorKind::HardWrapped, break_offset, "",
                        "line break at byte " + std::to_string(break_offset) + " inside " + where +
                            " after a line of exactly " + std::to_string(line_length) +
                            " characters: the file is hard-wrapped; expected each segment whole, ended by " +
                            show(terminator));
        }
        return fail(ParseErrorKind::LineBreakInSegment, break_offset, "",
                    "line break at byte " + std::to_string(break_offset) + " inside " + where +
                        ": expected the segment terminator " + show(terminator) + " before any line break");
    }
    segment_.split();
    const std::string_view id = segment_.id();
    const bool id_ok = id.size() >= 2 && id.size() <= 3 && std::all_of(id.begin(), id.end(), [](char c) {
                           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                       });
    if (!id_ok) {
        return fail(ParseErrorKind::BadSegmentId, start, "",
                    "segment " + std::to_string(segment_count_) + " at byte " + std::to_string(start) +
                        ": identifier '" + std::string(id.substr(0, 16)) +
                        "' is not 2-3 upper-case letters or digits; expected a segment id followed by " +
                        show(delimiters_.element));
    }
    if (id == "IEA") in_interchange_ = false;
    return Status::Segment;
}

}  // namespace keel::edi
