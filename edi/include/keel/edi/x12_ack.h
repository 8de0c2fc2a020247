#pragma once
// Acknowledgments of inbound X12: a 997 (004010 family and older) or 999 (005010 and later) per functional
// group, and a TA1 per interchange when its ISA/IEA envelope has findings or an acknowledgment is requested.
// Built from the segments as read (AckBuilder::onSegment, streaming) and the envelope findings of the
// EnvelopeValidator fed the same segments, and the findings of the DictionaryValidator (written as AK3/AK4 in a 997,
// IK3/IK4 in a 999).

#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_reader.h"
#include "keel/edi/x12_validator.h"

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keel::edi {

/// An error inside a transaction set (AK3/IK3), with its element errors (AK4/IK4), from dictionary validation.
struct ElementNote {
    std::string position;   ///< AK401/IK401: element position, then component position after the inbound
                            ///< component separator when the error is in a component
    std::string reference;  ///< AK402/IK402: data element reference number, may be empty
    std::string code;       ///< AK403/IK403: syntax error code
    std::string bad_value;  ///< AK404/IK404: copy of the bad data, may be empty
};

struct SegmentNote {
    std::string segment_id;      ///< AK301/IK301
    std::uint64_t position = 0;  ///< AK302/IK302: position in the set, ST = 1
    std::string loop_id;         ///< AK303/IK303, may be empty
    std::string code;            ///< AK304/IK304: segment syntax error code, may be empty
    std::vector<ElementNote> elements;
};

/// The acknowledgment of one transaction set (AK2..AK5 / AK2..IK5).
struct SetAck {
    std::string id;                ///< ST01
    std::string control_number;    ///< ST02
    std::string convention;        ///< ST03 (005010), empty when absent
    std::uint64_t st_segment = 0;  ///< segment number of its ST in the input
    std::uint64_t last_segment = 0;
    bool has_trailer = false;
    char status = 'A';               ///< AK501/IK501: A accepted, E accepted with errors, R rejected
    std::vector<std::string> codes;  ///< AK502../IK502..: at most 5 are written
    std::vector<SegmentNote> segment_notes;
};

/// The acknowledgment of one functional group: a 997 or 999 transaction set, or none for an FA group.
struct GroupAck {
    std::string functional_id;   ///< GS01
    std::string sender;          ///< GS02
    std::string receiver;        ///< GS03
    std::string control_number;  ///< GS06
    std::string version;         ///< GS08
    std::string included;        ///< GE01 as written (AK902 when numeric)
    std::uint64_t gs_segment = 0;
    std::uint64_t last_segment = 0;
    bool has_trailer = false;
    std::vector<SetAck> sets;
    bool acknowledged = true;        ///< false for an FA group: acknowledgments are never acknowledged
    bool uses_999 = false;           ///< the ack is a 999 (a 997 otherwise)
    std::string ack_version;         ///< GS08 of the ack's group
    char status = 'A';               ///< AK901: A, E, P or R
    std::vector<std::string> codes;  ///< AK905..AK909: at most 5 are written
    std::uint64_t accepted = 0;      ///< AK904
};

/// One inbound interchange and what is sent back for it.
struct InterchangeAck {
    std::string sender_qualifier;    ///< ISA05
    std::string sender_id;           ///< ISA06 as written (padded)
    std::string receiver_qualifier;  ///< ISA07
    std::string receiver_id;         ///< ISA08 as written (padded)
    std::string date;                ///< ISA09
    std::string time;                ///< ISA10
    std::string version;             ///< ISA12
    std::string control_number;      ///< ISA13
    std::string ack_requested;       ///< ISA14
    std::string usage;               ///< ISA15
    Delimiters delimiters{};
    std::uint64_t isa_segment = 0;
    std::uint64_t last_segment = 0;
    bool has_trailer = false;
    std::vector<GroupAck> groups;
    bool ta1 = false;              ///< a TA1 is sent
    char ta1_status = 'A';         ///< TA104: A, E or R
    std::string ta1_note = "000";  ///< TA105: the first interchange-level note code, 000 when none
};

/// Where acknowledgments get their control numbers. The caller persists what was used (a partner's sequences
/// must never be reused), so this is an interface; SequentialControlNumbers serves tests and the CLI.
class ControlNumberSource {
public:
    virtual ~ControlNumberSource() = default;
    virtual std::uint64_t nextInterchange() = 0;     ///< ISA13/IEA02, 1..999999999
    virtual std::uint64_t nextGroup() = 0;           ///< GS06/GE02, 1..999999999
    virtual std::uint64_t nextTransactionSet() = 0;  ///< ST02/SE02, 1..999999999 (written with 4 digits at least)
};

class SequentialControlNumbers final : public ControlNumberSource {
public:
    explicit SequentialControlNumbers(std::uint64_t first = 1) : interchange_(first), group_(first), set_(first) {}
    std::uint64_t nextInterchange() override { return interchange_++; }
    std::uint64_t nextGroup() override { return group_++; }
    std::uint64_t nextTransactionSet() override { return set_++; }

private:
    std::uint64_t interchange_;
    std::uint64_t group_;
    std::uint64_t set_;
};

enum class Ta1Policy {
    OnErrorOrRequested,  ///< when the ISA/IEA envelope has errors or ISA14 = 1
    OnError,             ///< only when the ISA/IEA envelope has errors
    Always,
};

/// version and ta1 decide what is acknowledged (AckBuilder, acknowledgeX12); delimiters and line_ending how it is
/// written (writeAcks). Pass the same options to both.
struct AckOptions {
    /// The acks' GS08 (and so 997 vs 999) for every group; empty: follow each inbound GS08.
    std::string version;
    /// Delimiters of the ack; empty: those of the inbound interchange.
    std::optional<Delimiters> delimiters;
    Ta1Policy ta1 = Ta1Policy::OnErrorOrRequested;
    std::string line_ending = "\n";  ///< after each segment terminator of the ack
};

/// Collects the envelope structure of the segments fed, then turns it and the envelope findings into acks.
class AckBuilder {
public:
    explicit AckBuilder(AckOptions options = {}) : options_(std::move(options)) {}

    /// Feed every segment in input order (the same segments as EnvelopeValidator::onSegment).
    void onSegment(const Segment& segment);
    /// End of input: envelopes still open lack their trailer.
    void finish();
    /// Applies the validator's findings (matched to envelopes by segment number and element) and the dictionary
    /// findings (AK3/AK4, IK3/IK4; a set with an error is rejected with AK502/IK502 5, or 1 when its dictionary is
    /// missing and unknown sets are rejected) and decides every status and code. Call once, after finish().
    std::vector<InterchangeAck> evaluate(const std::vector<Finding>& findings,
                                         const std::vector<DictionaryFinding>& dictionary = {});
    /// True between an ISA and its IEA (before finish()).
    bool inInterchange() const { return in_interchange_; }

private:
    void closeSet();
    void closeGroup();
    void closeInterchange();

    AckOptions options_;
    std::vector<InterchangeAck> interchanges_;
    bool in_interchange_ = false;
    bool in_group_ = false;
    bool in_set_ = false;
};

/// True when nothing in `acks` rejects: every TA1 A or E, every AK9 A or E, every AK5/IK5 A or E.
bool allAccepted(const std::vector<InterchangeAck>& acks);

/// Writes one ack interchange per inbound interchange that has something to send (a TA1 or a non-FA group),
/// sender and receiver swapped, with new control numbers from `numbers` and the date and time of `clock`
/// (UTC). Throws std::invalid_argument when a control number is out of range or a value holds an ack delimiter.
void writeAcks(std::ostream& out, const std::vector<InterchangeAck>& acks, ControlNumberSource& numbers,
               const Clock& clock, const AckOptions& options = {});

/// Everything `keel edi ack` needs: reads `in` (streaming), validates its envelopes and builds the acks.
struct AckReport {
    /// Set when the input could not be read to its end. Interchanges read whole before the error keep their acks;
    /// the one the error fell in, when its ISA was read, gets only a rejecting TA1 (TA105 023 when the input ended
    /// inside a segment, 024 invalid interchange content otherwise): nothing of it can be trusted to acknowledge.
    std::optional<ParseError> parse_error;
    std::vector<InterchangeAck> interchanges;
    bool accepted() const { return !parse_error && allAccepted(interchanges); }
};

AckReport acknowledgeX12(std::istream& in, const EnvelopeOptions& envelope = {}, const AckOptions& options = {},
                         const ReaderOptions& reader = {});

/// The same with dictionary validation of every transaction set: its errors reject the set with AK3/AK4 (997) or
/// IK3/IK4 (999) notes.
AckReport acknowledgeX12(std::istream& in, const EnvelopeOptions& envelope, const DictionaryOptions& dictionary,
                         const AckOptions& options = {}, const ReaderOptions& reader = {});

}  // namespace keel::edi
