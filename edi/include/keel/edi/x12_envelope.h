#pragma once
// Envelope validation of X12 interchanges: ISA/IEA, GS/GE and ST/SE pairing, counts, control-number matches
// and duplicates. It consumes segments one at a time (streaming), so it works with X12Reader on any size.

#include "keel/edi/x12_reader.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace keel::edi {

enum class Severity { Warning, Error };

/// What an envelope finding is about; stable names for JSON output and tests (findingCodeName).
enum class FindingCode {
    NoInterchange,            ///< input without any ISA
    UnexpectedSegment,        ///< a segment outside the envelope that must hold it (GS outside ISA, data outside ST/SE)
    MissingTrailer,           ///< an ISA, GS or ST not closed by its IEA, GE or SE
    BadControlNumber,         ///< a control number of the wrong form (ISA13 not 9 digits, GS06 not 1-9 digits, ...)
    PaddedControlNumber,      ///< a trailer control number with blanks (x12types_940_test1's IEA02)
    ControlNumberMismatch,    ///< IEA02 != ISA13, GE02 != GS06, SE02 != ST02
    CountMismatch,            ///< IEA01, GE01 or SE01 not the actual count
    DuplicateInterchange,     ///< ISA13 seen before for the same sender and receiver within the window
    DuplicateGroup,           ///< GS06 twice in one interchange
    DuplicateTransactionSet,  ///< ST02 twice in one group
    BadDate,                  ///< GS04 not a CCYYMMDD date
    BadTime,                  ///< GS05 not a HHMM[SS[dd]] time
};

std::string_view findingCodeName(FindingCode code);
std::string_view severityName(Severity severity);
std::ostream& operator<<(std::ostream& out, FindingCode code);
std::ostream& operator<<(std::ostream& out, Severity severity);

/// One envelope problem: what, where (byte offset, segment number, element) and what was expected.
struct Finding {
    Severity severity = Severity::Error;
    FindingCode code = FindingCode::UnexpectedSegment;
    std::uint64_t offset = 0;
    std::uint64_t segment_number = 0;
    std::string element;  ///< e.g. "GE02"
    std::string message;
};

/// Strict rejects any control-number deviation; Tolerant accepts a blank-padded or mismatching IEA02/GE02 with
/// a warning (seen in the wild: x12types_940_test1). SE02 != ST02 and every count stays an error in both.
enum class Strictness { Strict, Tolerant };

/// Time source for duplicate windows, so tests advance time instead of sleeping.
class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told (tests).
class ManualClock final : public Clock {
public:
    explicit ManualClock(std::chrono::system_clock::time_point start = {}) : now_(start) {}
    std::chrono::system_clock::time_point now() const override { return now_; }
    void advance(std::chrono::system_clock::duration by) { now_ += by; }

private:
    std::chrono::system_clock::time_point now_;
};

/// Who sent an interchange to whom, and its control number: the key of duplicate-interchange detection.
struct InterchangeKey {
    std::string sender_qualifier;    ///< ISA05
    std::string sender_id;           ///< ISA06, trailing blanks removed
    std::string receiver_qualifier;  ///< ISA07
    std::string receiver_id;         ///< ISA08, trailing blanks removed
    std::string control_number;      ///< ISA13

    auto operator<=>(const InterchangeKey&) const = default;
};

/// Remembers interchanges seen, to detect a partner resending one (ISA13 per sender/receiver within a window).
/// The in-memory store below serves tests and one-shot CLI runs; a database-backed store implements the same
/// interface so that every keeld node shares what was seen.
class InterchangeRegistry {
public:
    virtual ~InterchangeRegistry() = default;
    /// Records `key` as seen now; returns when it was first seen if that is within the window (a duplicate).
    virtual std::optional<std::chrono::system_clock::time_point> recordAndCheck(const InterchangeKey& key) = 0;
};

class InMemoryInterchangeRegistry final : public InterchangeRegistry {
public:
    InMemoryInterchangeRegistry(const Clock& clock, std::chrono::system_clock::duration window)
        : clock_(clock), window_(window) {}
    std::optional<std::chrono::system_clock::time_point> recordAndCheck(const InterchangeKey& key) override;
    std::size_t size() const { return seen_.size(); }

private:
    const Clock& clock_;
    std::chrono::system_clock::duration window_;
    std::map<InterchangeKey, std::chrono::system_clock::time_point> seen_;
    std::deque<std::pair<std::chrono::system_clock::time_point, InterchangeKey>> order_;  // for expiry
};

struct EnvelopeOptions {
    Strictness strictness = Strictness::Tolerant;
    InterchangeRegistry* registry = nullptr;  ///< not owned; null: no duplicate-interchange check
    std::size_t max_findings = 1000;          ///< further findings are counted, not kept (bounded memory)
};

/// Streaming envelope checks: feed every segment in order, then finish().
class EnvelopeValidator {
public:
    explicit EnvelopeValidator(EnvelopeOptions options = {}) : options_(options) {}

    void onSegment(const Segment& segment);
    /// Reports envelopes left open at end of input (`end_offset` = bytes read).
    void finish(std::uint64_t end_offset);

    const std::vector<Finding>& findings() const { return findings_; }
    std::size_t errorCount() const { return errors_; }
    std::size_t warningCount() const { return warnings_; }
    std::size_t droppedFindings() const { return dropped_; }
    std::size_t interchanges() const { return interchange_total_; }
    std::size_t groups() const { return group_total_; }
    std::size_t transactionSets() const { return set_total_; }

private:
    void add(Severity severity, FindingCode code, const Segment& segment, std::string element, std::string message);
    void checkControlTrailer(const Segment& segment, const std::string& element, std::string_view value,
                             const std::string& header_element, const std::string& header_value,
                             std::uint64_t header_number, bool tolerable);

    EnvelopeOptions options_;
    std::vector<Finding> findings_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
    std::size_t dropped_ = 0;
    std::size_t interchange_total_ = 0;
    std::size_t group_total_ = 0;
    std::size_t set_total_ = 0;

    // Open envelopes (the only state kept: control numbers of this interchange's groups and this group's sets).
    bool in_interchange_ = false;
    std::string isa13_;
    std::uint64_t isa_number_ = 0;
    std::uint64_t groups_in_interchange_ = 0;
    std::set<std::string> group_numbers_;
    bool in_group_ = false;
    std::string gs06_;
    std::uint64_t gs_number_ = 0;
    std::uint64_t sets_in_group_ = 0;
    std::set<std::string> set_numbers_;
    bool in_set_ = false;
    std::string st02_;
    std::uint64_t st_number_ = 0;
    std::uint64_t segments_in_set_ = 0;
};

/// The outcome of reading and validating a whole input.
struct ValidationReport {
    std::optional<ParseError> parse_error;  ///< set when the input could not be read safely
    std::vector<ReaderWarning> reader_warnings;
    std::vector<Finding> findings;
    std::size_t errors = 0;  ///< envelope errors
    std::size_t warnings = 0;
    std::size_t interchanges = 0;
    std::size_t groups = 0;
    std::size_t transaction_sets = 0;
    std::uint64_t segments = 0;

    bool valid() const { return !parse_error && errors == 0; }
};

/// Reads `in` to the end (streaming) and validates every envelope.
ValidationReport validateX12(std::istream& in, const EnvelopeOptions& options = {}, const ReaderOptions& reader = {});

}  // namespace keel::edi
