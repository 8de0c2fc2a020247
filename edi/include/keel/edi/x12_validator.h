#pragma once
// Dictionary validation of X12 transaction sets: segment order, loops and repeat counts, mandatory segments and
// elements, lengths, types, code lists and syntax notes, segment by segment (streaming, memory bounded). Each
// error carries the X12 code a 997 (AK304/AK403) or 999 (IK304/IK403) reports it with.

#include "keel/edi/x12_dictionary.h"
#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_reader.h"

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace keel::edi {

/// AK304/IK304 segment syntax error codes (values are the X12 codes).
enum class SegmentErrorCode {
    None = 0,
    UnrecognizedSegment = 1,  ///< no such segment in the version
    UnexpectedSegment = 2,    ///< a segment of the set where it cannot be
    MandatoryMissing = 3,
    LoopOverMaximum = 4,
    ExceedsMaximumUse = 5,
    NotInTransactionSet = 6,  ///< a known segment that the set does not define
    OutOfSequence = 7,        ///< a segment of the set earlier in the table than where the set is
    ElementErrors = 8,
};

/// AK403/IK403 element syntax error codes (values are the X12 codes).
enum class ElementErrorCode {
    None = 0,
    MandatoryMissing = 1,
    ConditionalMissing = 2,  ///< required by a syntax note (P, R, C, L)
    TooManyElements = 3,
    TooShort = 4,
    TooLong = 5,
    InvalidCharacter = 6,  ///< not a number where the type is N or R
    InvalidCode = 7,
    InvalidDate = 8,
    InvalidTime = 9,
    ExclusionViolated = 10,  ///< E note: more than one present
    TooManyRepetitions = 12,
    TooManyComponents = 13,
};

std::string_view segmentErrorName(SegmentErrorCode code);
std::string_view elementErrorName(ElementErrorCode code);

/// One dictionary finding. Element findings also carry SegmentErrorCode::ElementErrors.
struct DictionaryFinding {
    Severity severity = Severity::Error;
    std::uint64_t offset = 0;          ///< byte offset of the segment in the input
    std::uint64_t segment_number = 0;  ///< ordinal of the segment in the input
    std::uint64_t position = 0;        ///< ordinal in the transaction set, ST = 1 (AK302/IK302)
    std::string set_id;                ///< ST01
    std::string set_control_number;    ///< ST02
    std::string segment_id;            ///< AK301/IK301 (the missing one for MandatoryMissing)
    std::string loop_id;               ///< AK303/IK303: the loop the segment is in, empty at the top level
    SegmentErrorCode segment_code = SegmentErrorCode::None;
    unsigned element = 0;    ///< 1-based, 0 when about the segment
    unsigned component = 0;  ///< 1-based within a composite, 0 when not
    std::string reference;   ///< data element number (AK402/IK402)
    ElementErrorCode element_code = ElementErrorCode::None;
    std::string bad_value;           ///< a copy of the bad data (AK404/IK404), at most 99 characters
    bool set_not_supported = false;  ///< no dictionary for the set (with reject_unknown_sets): AK5/IK5 code 1
    std::string message;
};

/// A transaction set of a version without a dictionary: its envelope is validated, its content is not.
struct UnknownSet {
    std::string set_id;
    std::string version;
    std::uint64_t segment_number = 0;
    std::uint64_t offset = 0;
};

struct DictionaryOptions {
    const Dictionary* dictionary = &Dictionary::builtIn();  ///< not owned
    bool reject_unknown_sets = false;                       ///< a set without a dictionary is an error (AK5 code 1)
    std::size_t max_findings = 1000;  ///< further findings are counted, not kept (but the first error of each set)
    std::size_t max_unknown_sets = 100;
};

/// Streaming dictionary validation: feed every segment in order (the same ones as EnvelopeValidator), then
/// finish(). State: the open loops of the current set and their counts, nothing of earlier sets.
class DictionaryValidator {
public:
    explicit DictionaryValidator(DictionaryOptions options = {});
    ~DictionaryValidator();
    DictionaryValidator(const DictionaryValidator&) = delete;
    DictionaryValidator& operator=(const DictionaryValidator&) = delete;

    void onSegment(const Segment& segment);
    void finish();

    const std::vector<DictionaryFinding>& findings() const { return findings_; }
    const std::vector<UnknownSet>& unknownSets() const { return unknown_; }
    std::size_t errorCount() const { return errors_; }
    std::size_t warningCount() const { return warnings_; }
    std::size_t droppedFindings() const { return dropped_; }
    std::size_t validatedSets() const { return validated_sets_; }
    std::size_t unknownSetCount() const { return unknown_total_; }

private:
    struct State;
    void add(DictionaryFinding finding);
    DictionaryOptions options_;
    std::unique_ptr<State> state_;
    std::vector<DictionaryFinding> findings_;
    std::vector<UnknownSet> unknown_;
    std::size_t errors_ = 0;
    std::size_t warnings_ = 0;
    std::size_t dropped_ = 0;
    std::size_t validated_sets_ = 0;
    std::size_t unknown_total_ = 0;
};

/// Envelope and dictionary validation of a whole input.
struct FullValidationReport {
    ValidationReport envelope;
    std::vector<DictionaryFinding> findings;
    std::vector<UnknownSet> unknown_sets;
    std::size_t errors = 0;  ///< dictionary errors
    std::size_t warnings = 0;
    std::size_t validated_sets = 0;
    std::size_t unknown_set_count = 0;
    bool valid() const { return envelope.valid() && errors == 0; }
};

FullValidationReport validateX12(std::istream& in, const EnvelopeOptions& envelope, const DictionaryOptions& dictionary,
                                 const ReaderOptions& reader = {});

}  // namespace keel::edi
