#include "keel/edi/x12_ack.h"

#include "keel/edi/x12_writer.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <ostream>
#include <stdexcept>

namespace keel::edi {

namespace {

bool allDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void addCode(std::vector<std::string>& codes, const std::string& code) {
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
}

// A status from the worst severity seen: an error rejects, a warning only notes (E).
void worsen(char& status, Severity severity) {
    if (severity == Severity::Error) {
        status = 'R';
    } else if (status == 'A') {
        status = 'E';
    }
}

// 999 from 005010 on: the 999 replaced the 997 for 005010 implementation guides; older groups get a 997.
bool needs999(std::string_view version) {
    return version.size() >= 3 && version.substr(0, 3) >= "005";
}

// X12 code lists used below (997 AK502/AK905 and 999 IK502/AK905 agree on these values; TA105 from the TA1
// list): see docs/edi.md, "Acknowledgments".
std::string setCode(const Finding& f) {
    switch (f.code) {
        case FindingCode::MissingTrailer:
            return "2";  // Transaction Set Trailer Missing
        case FindingCode::PaddedControlNumber:
        case FindingCode::ControlNumberMismatch:
            return "3";  // Transaction Set Control Number in Header and Trailer Do Not Match
        case FindingCode::CountMismatch:
            return "4";  // Number of Included Segments Does Not Match Actual Count
        case FindingCode::BadControlNumber:
            return "7";  // Missing or Invalid Transaction Set Control Number
        case FindingCode::DuplicateTransactionSet:
            return "23";  // Transaction Set Control Number Not Unique within the Functional Group
        default:
            return "";
    }
}

std::string groupCode(const Finding& f) {
    switch (f.code) {
        case FindingCode::MissingTrailer:
            return "3";  // Functional Group Trailer Missing
        case FindingCode::PaddedControlNumber:
        case FindingCode::ControlNumberMismatch:
            return "4";  // Group Control Number in the Functional Group Header and Trailer Do Not Agree
        case FindingCode::CountMismatch:
            return "5";  // Number of Included Transaction Sets Does Not Match Actual Count
        case FindingCode::BadControlNumber:
            return "6";  // Group Control Number Violates Syntax
        case FindingCode::DuplicateGroup:
            return "19";  // Functional Group Control Number not Unique within Interchange
        default:
            return "";  // GS04/GS05 and stray segments: rejected without a specific AK9 code (none exists)
    }
}

std::string interchangeNote(const Finding& f) {
    switch (f.code) {
        case FindingCode::MissingTrailer:
            return "023";  // Improper (Premature) End-of-File (Transmission)
        case FindingCode::PaddedControlNumber:
        case FindingCode::ControlNumberMismatch:
            return "001";  // The Interchange Control Number in the Header and Trailer Do Not Match
        case FindingCode::CountMismatch:
            return "021";  // Invalid Number of Included Groups Value
        case FindingCode::BadControlNumber:
            return "018";  // Invalid Interchange Control Number Value
        case FindingCode::DuplicateInterchange:
            return "025";  // Duplicate Interchange Control Number
        default:
            return "024";  // Invalid Interchange Content (a segment outside any group)
    }
}

std::string level(std::string_view element) {
    const std::string_view prefix = element.substr(0, element.size() >= 3 && element[2] == 'A' ? 3 : 2);
    if (prefix == "ISA" || prefix == "IEA") return "interchange";
    if (prefix == "GS" || prefix == "GE") return "group";
    if (prefix == "ST" || prefix == "SE") return "set";
    return "";
}

void noteInterchange(InterchangeAck& x, const Finding& f) {
    const char before = x.ta1_status;
    worsen(x.ta1_status, f.severity);
    if (x.ta1_note == "000" || (before != 'R' && x.ta1_status == 'R')) x.ta1_note = interchangeNote(f);
}

// The envelope of `items` (sorted by first segment, as read) whose segment range holds `n`, if any. Binary search:
// a large file has many sets, and every finding is placed.
template <typename T, typename First>
T* containing(std::vector<T>& items, std::uint64_t n, First first) {
    auto it = std::upper_bound(items.begin(), items.end(), n,
                               [&](std::uint64_t value, const T& item) { return value < first(item); });
    if (it == items.begin()) return nullptr;
    --it;
    return n <= it->last_segment ? &*it : nullptr;
}

void applyFinding(std::vector<InterchangeAck>& acks, const Finding& f) {
    const std::uint64_t n = f.segment_number;
    if (n == 0) return;  // end of input: missing trailers, already known from the structure
    auto* x = containing(acks, n, [](const InterchangeAck& a) { return a.isa_segment; });
    if (x == nullptr) return;  // outside any interchange: nothing to acknowledge it in
    const std::string where = level(f.element);
    auto* g =
        where == "interchange" ? nullptr : containing(x->groups, n, [](const GroupAck& a) { return a.gs_segment; });
    if (g == nullptr) {
        noteInterchange(*x, f);
        return;
    }
    auto* t = where == "group" ? nullptr : containing(g->sets, n, [](const SetAck& a) { return a.st_segment; });
    if (t == nullptr) {
        worsen(g->status, f.severity);
        if (const auto code = groupCode(f); !code.empty()) addCode(g->codes, code);
        return;
    }
    worsen(t->status, f.severity);
    if (const auto code = setCode(f); !code.empty()) addCode(t->codes, code);
}

// Notes kept per set: a 997 has no limit, but memory must stay bounded whatever a partner sends.
constexpr std::size_t kMaxSegmentNotes = 100;
constexpr std::size_t kMaxElementNotes = 99;  // AK4/IK4 per AK3/IK3 (the standard's maximum use)

bool holdsDelimiter(std::string_view value, const Delimiters& d) {
    return std::any_of(value.begin(), value.end(), [&](char c) { return d.isDelimiter(c); });
}

void applyDictionaryFinding(std::vector<InterchangeAck>& acks, const DictionaryFinding& f,
                            const std::optional<Delimiters>& output) {
    auto* x = containing(acks, f.segment_number, [](const InterchangeAck& a) { return a.isa_segment; });
    if (x == nullptr) return;
    auto* g = containing(x->groups, f.segment_number, [](const GroupAck& a) { return a.gs_segment; });
    if (g == nullptr) return;
    auto* t = containing(g->sets, f.segment_number, [](const SetAck& a) { return a.st_segment; });
    if (t == nullptr) return;
    t->status = 'R';
    if (f.set_not_supported) {
        addCode(t->codes, "1");  // Transaction Set Not Supported
        return;
    }
    addCode(t->codes, "5");  // One or More Segments in Error
    const bool element = f.element_code != ElementErrorCode::None;
    SegmentNote* note = nullptr;
    if (!t->segment_notes.empty()) {
        SegmentNote& last = t->segment_notes.back();
        // Element errors of a segment go under one AK3/IK3 (also under a segment-level note of the same segment).
        if (element && last.position == f.position && last.segment_id == f.segment_id) note = &last;
    }
    if (note == nullptr) {
        if (t->segment_notes.size() >= kMaxSegmentNotes) return;
        SegmentNote n;
        n.segment_id = f.segment_id;
        n.position = f.position;
        n.code = std::to_string(static_cast<int>(f.segment_code));
        t->segment_notes.push_back(std::move(n));
        note = &t->segment_notes.back();
    }
    if (!element || note->elements.size() >= kMaxElementNotes) return;
    std::string position = std::to_string(f.element);
    if (f.component > 0) position += x->delimiters.component + std::to_string(f.component);
    // One AK4/IK4 per element position: the first error found there.
    for (const auto& e : note->elements) {
        if (e.position == position) return;
    }
    ElementNote e;
    e.position = position;
    e.reference = f.reference;
    e.code = std::to_string(static_cast<int>(f.element_code));
    // The copy of the bad data must not hold a delimiter of the ack (it would be refused or mis-split).
    if (!holdsDelimiter(f.bad_value, x->delimiters) && !(output && holdsDelimiter(f.bad_value, *output))) {
        e.bad_value = f.bad_value;
    }
    note->elements.push_back(std::move(e));
}

std::string padded(std::uint64_t value, std::size_t width, const char* what) {
    if (value == 0 || value > 999999999) {
        throw std::invalid_argument(std::string(what) + " " + std::to_string(value) +
                                    " is out of range; expected 1 to 999999999");
    }
    std::string s = std::to_string(value);
    if (s.size() < width) s.insert(0, width - s.size(), '0');
    return s;
}

// ISA06/ISA08 are fixed at 15 characters; a partner's 16-character ISA08 (the reader warns about it) must not
// become our ISA06.
std::string isaId(std::string_view id) {
    while (!id.empty() && id.back() == ' ') id.remove_suffix(1);
    std::string s(id);
    if (s.size() < 15) s.append(15 - s.size(), ' ');
    return s;
}

std::string twoDigits(unsigned v) {
    return std::string(1, static_cast<char>('0' + v / 10 % 10)) + static_cast<char>('0' + v % 10);
}

// Collects the segments of one ack interchange with the inbound delimiters (its values were parsed with those,
// so they cannot hold one), then X12Writer translates them to the ack's delimiters and refuses a conflict.
class AckWriter {
public:
    AckWriter(X12Writer& writer, const Delimiters& inbound) : writer_(writer), inbound_(inbound) {}

    void add(const std::vector<std::string>& elements) {
        std::string text;
        for (std::size_t i = 0; i < elements.size(); ++i) {
            if (i > 0) text += inbound_.element;
            text += elements[i];
        }
        // Trailing empty optional elements are not written (X12 syntax).
        while (!text.empty() && text.back() == inbound_.element) text.pop_back();
        if (auto error = writer_.write(Segment(text, inbound_))) {
            throw std::invalid_argument("acknowledgment segment " + elements.front() + ": " + *error);
        }
        ++count_;
    }
    std::uint64_t count() const { return count_; }

private:
    X12Writer& writer_;
    Delimiters inbound_;
    std::uint64_t count_ = 0;
};

void writeSetNotes(AckWriter& w, const SetAck& s, bool is999) {
    for (const auto& note : s.segment_notes) {
        w.add({is999 ? "IK3" : "AK3", note.segment_id, std::to_string(note.position), note.loop_id, note.code});
        for (const auto& e : note.elements) {
            w.add({is999 ? "IK4" : "AK4", e.position, e.reference, e.code, e.bad_value});
        }
    }
}

}  // namespace

void AckBuilder::closeSet() {
    in_set_ = false;
}
void AckBuilder::closeGroup() {
    closeSet();
    in_group_ = false;
}
void AckBuilder::closeInterchange() {
    closeGroup();
    in_interchange_ = false;
}

void AckBuilder::onSegment(const Segment& s) {
    const std::string_view id = s.id();
    const std::uint64_t n = s.number();
    // A header closes what it cannot be inside of; what it closes lacks its trailer (has_trailer stays false).
    if (id == "ISA") closeInterchange();
    if (id == "GS" || id == "IEA") closeGroup();
    if (id == "ST" || id == "GE") closeSet();

    if (id == "ISA") {
        InterchangeAck x;
        x.sender_qualifier = std::string(s.element(5));
        x.sender_id = std::string(s.element(6));
        x.receiver_qualifier = std::string(s.element(7));
        x.receiver_id = std::string(s.element(8));
        x.date = std::string(s.element(9));
        x.time = std::string(s.element(10));
        x.version = std::string(s.element(12));
        x.control_number = std::string(s.element(13));
        x.ack_requested = std::string(s.element(14));
        x.usage = std::string(s.element(15));
        x.delimiters = s.delimiters();
        x.isa_segment = n;
        interchanges_.push_back(std::move(x));
        in_interchange_ = true;
    } else if (id == "GS" && in_interchange_) {
        GroupAck g;
        g.functional_id = std::string(s.element(1));
        g.sender = std::string(s.element(2));
        g.receiver = std::string(s.element(3));
        g.control_number = std::string(s.element(6));
        g.version = std::string(s.element(8));
        g.gs_segment = n;
        g.acknowledged = g.functional_id != "FA";
        const std::string& version = options_.version.empty() ? g.version : options_.version;
        g.uses_999 = needs999(version);
        if (!options_.version.empty()) {
            g.ack_version = options_.version;
        } else {
            // A 997 answers in the version of the group; a 999 is defined only by the X231 guide of its version.
            g.ack_version = g.uses_999 ? g.version.substr(0, 6) + "X231A1" : g.version;
        }
        interchanges_.back().groups.push_back(std::move(g));
        in_group_ = true;
    } else if (id == "ST" && in_group_) {
        SetAck t;
        t.id = std::string(s.element(1));
        t.control_number = std::string(s.element(2));
        t.convention = std::string(s.element(3));
        t.st_segment = n;
        interchanges_.back().groups.back().sets.push_back(std::move(t));
        in_set_ = true;
    }

    if (in_interchange_) interchanges_.back().last_segment = n;
    if (in_group_) interchanges_.back().groups.back().last_segment = n;
    if (in_set_) interchanges_.back().groups.back().sets.back().last_segment = n;

    if (id == "SE" && in_set_) {
        interchanges_.back().groups.back().sets.back().has_trailer = true;
        closeSet();
    } else if (id == "GE" && in_group_) {
        auto& g = interchanges_.back().groups.back();
        g.has_trailer = true;
        g.included = std::string(s.element(1));
        closeGroup();
    } else if (id == "IEA" && in_interchange_) {
        interchanges_.back().has_trailer = true;
        closeInterchange();
    }
}

void AckBuilder::finish() {
    closeInterchange();
}

std::vector<InterchangeAck> AckBuilder::evaluate(const std::vector<Finding>& findings,
                                                 const std::vector<DictionaryFinding>& dictionary) {
    // Missing trailers come from the structure, so each is counted once whatever the validator reported.
    Finding missing;
    missing.code = FindingCode::MissingTrailer;
    for (auto& x : interchanges_) {
        if (!x.has_trailer) noteInterchange(x, missing);
        for (auto& g : x.groups) {
            if (!g.has_trailer) {
                g.status = 'R';
                addCode(g.codes, "3");
            }
            for (auto& s : g.sets) {
                if (!s.has_trailer) {
                    s.status = 'R';
                    addCode(s.codes, "2");
                }
            }
        }
    }
    // Warnings are deviations the validator was told to tolerate (Strictness::Tolerant): accepted as sent, so
    // the partner is not told about them.
    for (const auto& f : findings) {
        if (f.code != FindingCode::MissingTrailer && f.severity == Severity::Error) applyFinding(interchanges_, f);
    }
    // Dictionary warnings (a code outside a partial list) are not errors of the sender: not reported.
    for (const auto& f : dictionary) {
        if (f.severity == Severity::Error) applyDictionaryFinding(interchanges_, f, options_.delimiters);
    }
    for (auto& x : interchanges_) {
        const bool has_findings = x.ta1_status != 'A';
        x.ta1 = options_.ta1 == Ta1Policy::Always || has_findings ||
                (options_.ta1 == Ta1Policy::OnErrorOrRequested && x.ack_requested == "1");
        for (auto& g : x.groups) {
            std::uint64_t accepted = 0;
            bool noted = false;
            for (auto& s : g.sets) {
                if (s.status != 'R') ++accepted;
                noted = noted || s.status == 'E';
            }
            const char group_status = g.status;  // from findings about the GS/GE envelope itself
            if (group_status == 'R') {
                g.status = 'R';
                g.accepted = 0;  // a rejected group is not processed, whatever its sets
                continue;
            }
            g.accepted = accepted;
            if (!g.sets.empty() && accepted == 0) {
                g.status = 'R';
            } else if (accepted < g.sets.size()) {
                g.status = 'P';
            } else {
                g.status = (noted || group_status == 'E') ? 'E' : 'A';
            }
        }
    }
    return std::move(interchanges_);
}

bool allAccepted(const std::vector<InterchangeAck>& acks) {
    for (const auto& x : acks) {
        if (x.ta1_status == 'R') return false;
        for (const auto& g : x.groups) {
            if (!g.acknowledged) continue;
            if (g.status != 'A' && g.status != 'E') return false;
            for (const auto& s : g.sets) {
                if (s.status == 'R') return false;
            }
        }
    }
    return true;
}

void writeAcks(std::ostream& out, const std::vector<InterchangeAck>& acks, ControlNumberSource& numbers,
               const Clock& clock, const AckOptions& options) {
    const auto now = std::chrono::floor<std::chrono::minutes>(clock.now());
    const auto day = std::chrono::floor<std::chrono::days>(now);
    const std::chrono::year_month_day ymd(day);
    const std::chrono::hh_mm_ss hms(now - day);
    const auto year = static_cast<unsigned>(static_cast<int>(ymd.year()));
    const std::string yymmdd = twoDigits(year % 100) + twoDigits(static_cast<unsigned>(ymd.month())) +
                               twoDigits(static_cast<unsigned>(ymd.day()));
    const std::string ccyymmdd = twoDigits(year / 100) + yymmdd;
    const std::string hhmm =
        twoDigits(static_cast<unsigned>(hms.hours().count())) + twoDigits(static_cast<unsigned>(hms.minutes().count()));

    for (const auto& x : acks) {
        const bool any_group =
            std::any_of(x.groups.begin(), x.groups.end(), [](const GroupAck& g) { return g.acknowledged; });
        if (!x.ta1 && !any_group) continue;
        WriterOptions writer_options;
        writer_options.delimiters = options.delimiters.value_or(x.delimiters);
        // A line break as the terminator already ends the line (edienginge files); another would be an empty
        // segment.
        const char terminator = writer_options.delimiters.segment;
        writer_options.line_ending = terminator == '\n' || terminator == '\r' ? "" : options.line_ending;
        X12Writer writer(out, writer_options);
        AckWriter w(writer, x.delimiters);
        const std::string isa13 = padded(numbers.nextInterchange(), 9, "interchange control number");
        const std::string repetition =
            x.delimiters.hasRepetition() ? std::string(1, x.delimiters.repetition) : std::string("U");
        // ISA06/ISA08 keep their 15-character padding, so the swapped ISA has the fixed layout too.
        w.add({"ISA", "00", std::string(10, ' '), "00", std::string(10, ' '), x.receiver_qualifier,
               isaId(x.receiver_id), x.sender_qualifier, isaId(x.sender_id), yymmdd, hhmm, repetition, x.version, isa13,
               "0", x.usage, std::string(1, x.delimiters.component)});
        if (x.ta1) w.add({"TA1", x.control_number, x.date, x.time, std::string(1, x.ta1_status), x.ta1_note});
        std::uint64_t groups = 0;
        for (const auto& g : x.groups) {
            if (!g.acknowledged) continue;
            ++groups;
            const std::string gs06 = padded(numbers.nextGroup(), 1, "group control number");
            const std::string st02 = padded(numbers.nextTransactionSet(), 4, "transaction set control number");
            const std::string set_id = g.uses_999 ? "999" : "997";
            // GS04 is YYMMDD before 004010 (a 003010 group gets a 003010 ack).
            const std::string& gs04 = g.ack_version.substr(0, 6) < "004010" ? yymmdd : ccyymmdd;
            w.add({"GS", "FA", g.receiver, g.sender, gs04, hhmm, gs06, "X", g.ack_version});
            const std::uint64_t before = w.count();
            if (g.uses_999) {
                w.add({"ST", set_id, st02, g.ack_version});
                w.add({"AK1", g.functional_id, g.control_number, g.version});
            } else {
                w.add({"ST", set_id, st02});
                w.add({"AK1", g.functional_id, g.control_number});
            }
            for (const auto& s : g.sets) {
                if (g.uses_999) {
                    w.add({"AK2", s.id, s.control_number, s.convention});
                } else {
                    w.add({"AK2", s.id, s.control_number});
                }
                writeSetNotes(w, s, g.uses_999);
                std::vector<std::string> ak5{g.uses_999 ? "IK5" : "AK5", std::string(1, s.status)};
                for (std::size_t i = 0; i < s.codes.size() && i < 5; ++i) ak5.push_back(s.codes[i]);
                w.add(ak5);
            }
            const std::string received = std::to_string(g.sets.size());
            std::vector<std::string> ak9{
                "AK9", std::string(1, g.status),
                allDigits(g.included) && g.included.size() <= 9 ? std::to_string(std::stoull(g.included)) : received,
                received, std::to_string(g.accepted)};
            for (std::size_t i = 0; i < g.codes.size() && i < 5; ++i) ak9.push_back(g.codes[i]);
            w.add(ak9);
            w.add({"SE", std::to_string(w.count() - before + 1), st02});
            w.add({"GE", "1", gs06});
        }
        w.add({"IEA", std::to_string(groups), isa13});
        writer.finish();
    }
}

namespace {

AckReport acknowledge(std::istream& in, const EnvelopeOptions& envelope, const DictionaryOptions* dictionary,
                      const AckOptions& options, const ReaderOptions& reader_options) {
    X12Reader reader(in, reader_options);
    EnvelopeValidator validator(envelope);
    AckBuilder builder(options);
    std::optional<DictionaryValidator> sets;
    if (dictionary != nullptr) sets.emplace(*dictionary);
    AckReport report;
    for (;;) {
        const auto status = reader.next();
        if (status == X12Reader::Status::Segment) {
            validator.onSegment(reader.segment());
            builder.onSegment(reader.segment());
            if (sets) sets->onSegment(reader.segment());
            continue;
        }
        if (status == X12Reader::Status::Error) {
            report.parse_error = reader.error();
            break;
        }
        break;
    }
    const bool broken_interchange = report.parse_error && builder.inInterchange();
    validator.finish(reader.offset());
    builder.finish();
    if (sets) {
        sets->finish();
        report.interchanges = builder.evaluate(validator.findings(), sets->findings());
    } else {
        report.interchanges = builder.evaluate(validator.findings());
    }
    if (broken_interchange && !report.interchanges.empty()) {
        InterchangeAck& broken = report.interchanges.back();
        broken.groups.clear();
        broken.ta1 = true;
        broken.ta1_status = 'R';
        broken.ta1_note = report.parse_error->kind == ParseErrorKind::UnterminatedSegment ? "023" : "024";
    }
    return report;
}

}  // namespace

AckReport acknowledgeX12(std::istream& in, const EnvelopeOptions& envelope, const AckOptions& options,
                         const ReaderOptions& reader) {
    return acknowledge(in, envelope, nullptr, options, reader);
}

AckReport acknowledgeX12(std::istream& in, const EnvelopeOptions& envelope, const DictionaryOptions& dictionary,
                         const AckOptions& options, const ReaderOptions& reader) {
    return acknowledge(in, envelope, &dictionary, options, reader);
}

}  // namespace keel::edi
