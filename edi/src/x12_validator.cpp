#include "keel/edi/x12_validator.h"

#include <algorithm>
#include <array>
#include <istream>

namespace keel::edi {

std::string_view segmentErrorName(SegmentErrorCode code) {
    switch (code) {
        case SegmentErrorCode::None:
            return "none";
        case SegmentErrorCode::UnrecognizedSegment:
            return "unrecognized_segment";
        case SegmentErrorCode::UnexpectedSegment:
            return "unexpected_segment";
        case SegmentErrorCode::MandatoryMissing:
            return "mandatory_segment_missing";
        case SegmentErrorCode::LoopOverMaximum:
            return "loop_over_maximum";
        case SegmentErrorCode::ExceedsMaximumUse:
            return "segment_exceeds_maximum_use";
        case SegmentErrorCode::NotInTransactionSet:
            return "segment_not_in_transaction_set";
        case SegmentErrorCode::OutOfSequence:
            return "segment_out_of_sequence";
        case SegmentErrorCode::ElementErrors:
            return "segment_has_element_errors";
    }
    return "unknown";
}

std::string_view elementErrorName(ElementErrorCode code) {
    switch (code) {
        case ElementErrorCode::None:
            return "none";
        case ElementErrorCode::MandatoryMissing:
            return "mandatory_element_missing";
        case ElementErrorCode::ConditionalMissing:
            return "conditional_element_missing";
        case ElementErrorCode::TooManyElements:
            return "too_many_elements";
        case ElementErrorCode::TooShort:
            return "element_too_short";
        case ElementErrorCode::TooLong:
            return "element_too_long";
        case ElementErrorCode::InvalidCharacter:
            return "invalid_character";
        case ElementErrorCode::InvalidCode:
            return "invalid_code_value";
        case ElementErrorCode::InvalidDate:
            return "invalid_date";
        case ElementErrorCode::InvalidTime:
            return "invalid_time";
        case ElementErrorCode::ExclusionViolated:
            return "exclusion_violated";
        case ElementErrorCode::TooManyRepetitions:
            return "too_many_repetitions";
        case ElementErrorCode::TooManyComponents:
            return "too_many_components";
    }
    return "unknown";
}

namespace {

bool isDigit(char c) {
    return c >= '0' && c <= '9';
}

bool allDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), isDigit);
}

unsigned number(std::string_view s) {
    unsigned n = 0;
    for (char c : s) n = n * 10 + static_cast<unsigned>(c - '0');
    return n;
}

bool validDate(std::string_view s) {
    if (!allDigits(s) || (s.size() != 6 && s.size() != 8)) return false;
    const std::size_t y = s.size() - 6;
    const unsigned year = s.size() == 8 ? number(s.substr(0, 4)) : 2000 + number(s.substr(0, 2));
    const unsigned month = number(s.substr(y + 2, 2));
    const unsigned day = number(s.substr(y + 4, 2));
    if (month < 1 || month > 12 || day < 1) return false;
    static constexpr std::array<unsigned, 12> kDays{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (day > kDays[month - 1]) return false;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

bool validTime(std::string_view s) {
    if (!allDigits(s) || s.size() < 4 || s.size() == 5 || s.size() > 8) return false;
    if (number(s.substr(0, 2)) > 23 || number(s.substr(2, 2)) > 59) return false;
    return s.size() < 6 || number(s.substr(4, 2)) <= 59;
}

// The value's length as X12 counts it: a sign and a decimal point are not counted for N and R.
std::size_t lengthOf(const ElementDef& e, std::string_view v) {
    if (e.type != ElementType::N && e.type != ElementType::R) return v.size();
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](char c) { return c != '-' && c != '.'; }));
}

bool validNumber(const ElementDef& e, std::string_view v) {
    if (!v.empty() && v.front() == '-') v.remove_prefix(1);
    if (v.empty()) return false;
    if (e.type == ElementType::N) return allDigits(v);
    bool point = false;
    bool digit = false;
    for (char c : v) {
        if (c == '.') {
            if (point) return false;
            point = true;
        } else if (isDigit(c)) {
            digit = true;
        } else {
            return false;
        }
    }
    return digit;
}

std::string twoDigits(unsigned n) {
    return std::string(1, static_cast<char>('0' + n / 10 % 10)) + static_cast<char>('0' + n % 10);
}

std::string_view typeName(ElementType t) {
    switch (t) {
        case ElementType::AN:
            return "AN";
        case ElementType::ID:
            return "ID";
        case ElementType::N:
            return "N";
        case ElementType::R:
            return "R";
        case ElementType::DT:
            return "DT";
        case ElementType::TM:
            return "TM";
        case ElementType::B:
            return "B";
    }
    return "?";
}

// Calls on_part(index, value) for each part of `v` split on `separator` (no allocation, unlike
// Segment::components); returns the number of parts.
template <typename OnPart>
std::size_t forEachPart(std::string_view v, char separator, OnPart on_part) {
    std::size_t index = 0;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = v.find(separator, start);
        on_part(++index, v.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return index;
        start = end + 1;
    }
}

}  // namespace

struct DictionaryValidator::State {
    // One open loop (or the set itself) of the current transaction set: where in its children the set is and how
    // often each child occurred in this iteration.
    struct Frame {
        const TableEntry* entry = nullptr;
        std::size_t index = 0;
        std::vector<std::uint32_t> counts;
    };

    std::string version;  // GS08 of the open group
    const TransactionSetDef* set = nullptr;
    bool in_set = false;
    std::string set_id;
    std::string set_control;
    std::uint64_t position = 0;  // ordinal of the current segment in the set, ST = 1
    std::vector<Frame> frames;   // reused between sets and loop iterations: no allocation per segment
    std::size_t depth = 0;       // frames in use
    std::uint64_t last_hl = 0;
    bool hl_broken = false;
    bool set_error_kept = false;  // an error of the current set is among the findings  // a non-numeric HL01 stops the
                                  // hierarchy checks of this set (one error, not one per HL)

    Frame& push(const TableEntry& entry) {
        if (frames.size() <= depth) frames.emplace_back();
        Frame& f = frames[depth++];
        f.entry = &entry;
        f.index = 0;
        f.counts.assign(entry.children.size(), 0);
        f.counts[0] = 1;
        return f;
    }
};

DictionaryValidator::DictionaryValidator(DictionaryOptions options)
    : options_(options), state_(std::make_unique<State>()) {}

DictionaryValidator::~DictionaryValidator() = default;

void DictionaryValidator::add(DictionaryFinding finding) {
    const bool error = finding.severity == Severity::Error;
    if (error) {
        ++errors_;
    } else {
        ++warnings_;
    }
    const bool first_error_of_set = error && !state_->set_error_kept;
    if (error) state_->set_error_kept = true;
    if (findings_.size() >= options_.max_findings) {
        ++dropped_;
        // The first error of each set is kept all the same (without its message), so an acknowledgment built from
        // the findings still rejects every set in error: memory then follows the number of sets, as the ack does.
        if (!first_error_of_set) return;
        finding.message.clear();
    }
    findings_.push_back(std::move(finding));
}

namespace {

// Everything the checks of one segment need to describe what they find.
struct Context {
    const Segment& segment;
    std::uint64_t position;
    const std::string& set_id;
    const std::string& set_control;
    std::string_view loop_id;

    DictionaryFinding finding(SegmentErrorCode code, std::string segment_id, std::string message) const {
        DictionaryFinding f;
        f.offset = segment.offset();
        f.segment_number = segment.number();
        f.position = position;
        f.set_id = set_id;
        f.set_control_number = set_control;
        f.segment_id = std::move(segment_id);
        f.loop_id = std::string(loop_id);
        f.segment_code = code;
        f.message = "transaction set " + set_id + " " + set_control + ", segment " + std::to_string(position) + " (" +
                    std::string(segment.id()) + " at byte " + std::to_string(segment.offset()) + ", segment " +
                    std::to_string(segment.number()) + " of the input): " + message;
        return f;
    }
};

std::string reference(std::string_view segment_id, unsigned element, unsigned component) {
    std::string r(segment_id);
    r += twoDigits(element);
    if (component > 0) r += "-" + twoDigits(component);
    return r;
}

}  // namespace

namespace {

class ElementChecker {
public:
    ElementChecker(const Context& context, const SegmentDef& def, std::vector<DictionaryFinding>& out)
        : c_(context), def_(def), out_(out) {}

    void run() {
        const Segment& s = c_.segment;
        const std::size_t defined = def_.elements.size();
        const std::size_t written = s.elementCount();
        for (std::size_t i = defined + 1; i <= written; ++i) {
            if (!s.element(i).empty()) {
                ElementDef extra;
                extra.reference = reference(def_.id, static_cast<unsigned>(i), 0);
                report(extra, static_cast<unsigned>(i), 0, ElementErrorCode::TooManyElements, s.element(i),
                       "element " + std::to_string(i) + " is beyond the " + std::to_string(defined) + " that " +
                           def_.id + " defines; remove it");
                break;
            }
        }
        const std::size_t n = std::min(defined, written);
        std::uint64_t present = 0;  // bit i-1: element i has a value (syntax notes)
        for (std::size_t i = 1; i <= defined; ++i) {
            const ElementDef& e = def_.elements[i - 1];
            const std::string_view v = i <= n ? s.element(i) : std::string_view();
            if (v.empty()) {
                if (e.usage == 'M') {
                    report(e, static_cast<unsigned>(i), 0, ElementErrorCode::MandatoryMissing, {},
                           "mandatory element " + e.reference + " (" + e.name + ") is missing");
                }
                continue;
            }
            if (i <= 64) present |= std::uint64_t{1} << (i - 1);
            const auto position = static_cast<unsigned>(i);
            auto one = [&](std::size_t, std::string_view r) {
                if (r.empty()) return;
                if (e.composite != nullptr) {
                    composite(e, position, r);
                } else {
                    value(e, position, 0, r);
                }
            };
            // Repetitions are split only where the dictionary defines them (docs/edi.md, "Elements are raw").
            if (e.repeat > 1 && s.delimiters().hasRepetition()) {
                const std::size_t count = forEachPart(v, s.delimiters().repetition, one);
                if (count > e.repeat) {
                    report(e, position, 0, ElementErrorCode::TooManyRepetitions, {},
                           e.reference + " repeats " + std::to_string(count) + " times; at most " +
                               std::to_string(e.repeat) + " are allowed");
                }
            } else {
                one(1, v);
            }
        }
        notes(def_.notes, present, def_.elements, 0);
    }

private:
    void composite(const ElementDef& e, unsigned position, std::string_view v) {
        const CompositeDef& def = *e.composite;
        std::uint64_t present = 0;
        const char separator = c_.segment.delimiters().component;
        const std::size_t parts = forEachPart(v, separator, [&](std::size_t k, std::string_view part) {
            if (k > def.components.size() || part.empty()) return;
            if (k <= 64) present |= std::uint64_t{1} << (k - 1);
            value(def.components[k - 1], position, static_cast<unsigned>(k), part);
        });
        if (parts > def.components.size()) {
            report(e, position, 0, ElementErrorCode::TooManyComponents, {},
                   e.reference + " (" + def.id + ") has " + std::to_string(parts) + " components; " + def.id +
                       " defines " + std::to_string(def.components.size()));
        }
        for (std::size_t k = 1; k <= def.components.size(); ++k) {
            const ElementDef& component = def.components[k - 1];
            if (component.usage == 'M' && (k > 64 || (present & (std::uint64_t{1} << (k - 1))) == 0)) {
                report(component, position, static_cast<unsigned>(k), ElementErrorCode::MandatoryMissing, {},
                       "mandatory component " + reference(def_.id, position, static_cast<unsigned>(k)) + " (" +
                           component.name + ") of " + e.reference + " is missing");
            }
        }
        notes(def.notes, present, def.components, position);
    }

    void value(const ElementDef& e, unsigned position, unsigned component, std::string_view v) {
        // Built only when there is something to report: this runs for every element of every segment.
        auto where = [&] { return reference(def_.id, position, component) + " (" + e.number + " " + e.name + ")"; };
        if (e.type == ElementType::ID && e.codes != nullptr) {
            if (!e.codes->contains(v)) {
                report(e, position, component, ElementErrorCode::InvalidCode, v,
                       where() + " '" + std::string(v) + "' is not in the code list of element " + e.number +
                           (e.codes->partial ? " (as far as the dictionary lists it: a warning)" : ""),
                       e.codes->partial ? Severity::Warning : Severity::Error);
                // A closed list says it all; outside a partial one the value may still break its length.
                if (!e.codes->partial) return;
            }
        }
        switch (e.type) {
            case ElementType::N:
            case ElementType::R:
                if (!validNumber(e, v)) {
                    report(e, position, component, ElementErrorCode::InvalidCharacter, v,
                           where() + " '" + std::string(v) + "' is not " +
                               (e.type == ElementType::N ? "an integer" : "a decimal number") + " (type " +
                               std::string(typeName(e.type)) + ")");
                    return;
                }
                break;
            case ElementType::DT:
                if (!validDate(v)) {
                    report(e, position, component, ElementErrorCode::InvalidDate, v,
                           where() + " '" + std::string(v) + "' is not a date; expected " +
                               (e.min_length == 6 ? "YYMMDD" : "CCYYMMDD"));
                    return;
                }
                break;
            case ElementType::TM:
                if (!validTime(v)) {
                    report(e, position, component, ElementErrorCode::InvalidTime, v,
                           where() + " '" + std::string(v) + "' is not a time; expected HHMM[SS[d..]]");
                    return;
                }
                break;
            default:
                break;
        }
        const std::size_t length = lengthOf(e, v);
        if (length < e.min_length || length > e.max_length) {
            const bool longer = length > e.max_length;
            report(e, position, component, longer ? ElementErrorCode::TooLong : ElementErrorCode::TooShort, v,
                   where() + " '" + std::string(v) + "' has " + std::to_string(length) + " characters; expected " +
                       std::to_string(e.min_length) + " to " + std::to_string(e.max_length));
        }
    }

    // X12 syntax notes on the presence of elements (or components when `composite_position` is set).
    void notes(const std::vector<SyntaxNote>& list, std::uint64_t present, const std::vector<ElementDef>& defs,
               unsigned composite_position) {
        for (const auto& note : list) {
            auto has = [&](unsigned p) { return p <= 64 && (present & (std::uint64_t{1} << (p - 1))) != 0; };
            const auto& ps = note.positions;
            const auto count =
                static_cast<std::size_t>(std::count_if(ps.begin(), ps.end(), [&](unsigned p) { return has(p); }));
            auto missing = [&](unsigned p, const std::string& why) {
                const unsigned element = composite_position == 0 ? p : composite_position;
                const unsigned component = composite_position == 0 ? 0 : p;
                report(defs[p - 1], element, component, ElementErrorCode::ConditionalMissing, {},
                       reference(def_.id, element, component) + " (" + defs[p - 1].name + ") is missing: " + why +
                           " (syntax note " + note.text + ")");
            };
            auto names = [&](std::size_t from) {
                std::string s;
                for (std::size_t i = from; i < ps.size(); ++i) {
                    if (!s.empty()) s += ", ";
                    s += composite_position == 0 ? reference(def_.id, ps[i], 0)
                                                 : reference(def_.id, composite_position, ps[i]);
                }
                return s;
            };
            switch (note.kind) {
                case 'P':  // all or none
                    if (count > 0 && count < ps.size()) {
                        for (unsigned p : ps) {
                            if (!has(p)) missing(p, "when any of " + names(0) + " is present, all are required");
                        }
                    }
                    break;
                case 'R':  // at least one
                    if (count == 0) missing(ps.front(), "at least one of " + names(0) + " is required");
                    break;
                case 'E':  // at most one
                    if (count > 1) {
                        bool first = true;
                        for (unsigned p : ps) {
                            if (!has(p)) continue;
                            if (!first) {
                                const unsigned element = composite_position == 0 ? p : composite_position;
                                const unsigned component = composite_position == 0 ? 0 : p;
                                report(defs[p - 1], element, component, ElementErrorCode::ExclusionViolated, {},
                                       reference(def_.id, element, component) +
                                           " must not be present with another of " + names(0) + " (syntax note " +
                                           note.text + ")");
                            }
                            first = false;
                        }
                    }
                    break;
                case 'C':  // if the first, then all the others
                    if (has(ps.front())) {
                        for (std::size_t i = 1; i < ps.size(); ++i) {
                            if (!has(ps[i])) missing(ps[i], "required when the first element of the note is present");
                        }
                    }
                    break;
                case 'L':  // if the first, then at least one of the others
                    if (has(ps.front()) && count == 1) {
                        missing(ps[1],
                                "when the first element of the note is present, one of " + names(1) + " is required");
                    }
                    break;
                default:
                    break;
            }
        }
    }

    void report(const ElementDef& e, unsigned element, unsigned component, ElementErrorCode code, std::string_view bad,
                std::string message, Severity severity = Severity::Error) {
        DictionaryFinding f = c_.finding(SegmentErrorCode::ElementErrors, def_.id, std::move(message));
        f.severity = severity;
        f.element = element;
        f.component = component;
        f.reference = allDigits(e.number) ? e.number : std::string();
        f.element_code = code;
        f.bad_value = std::string(bad.substr(0, 99));
        out_.push_back(std::move(f));
    }

    const Context& c_;
    const SegmentDef& def_;
    std::vector<DictionaryFinding>& out_;
};

bool matches(const TableEntry& e, std::string_view id) {
    return e.id == id;  // a loop's id is its trigger segment's id
}

// True when `id` occurs anywhere in the table below `entry`.
bool occursIn(const TableEntry& entry, std::string_view id) {
    for (const auto& c : entry.children) {
        if (matches(c, id) || (c.loop && occursIn(c, id))) return true;
    }
    return false;
}

}  // namespace

void DictionaryValidator::onSegment(const Segment& segment) {
    State& st = *state_;
    const std::string_view id = segment.id();
    if (id == "ISA" || id == "IEA" || id == "GE" || id == "GS") {
        st.in_set = false;  // a set without its SE: the envelope validator reports it
        st.set = nullptr;
        if (id == "GS") st.version = std::string(segment.element(8));
        return;
    }
    if (id == "ST") {
        st.in_set = true;
        st.position = 1;
        st.set_id = std::string(segment.element(1));
        st.set_control = std::string(segment.element(2));
        st.set = options_.dictionary == nullptr ? nullptr : options_.dictionary->find(st.version, st.set_id);
        st.depth = 0;
        st.last_hl = 0;
        st.hl_broken = false;
        st.set_error_kept = false;
        if (st.set == nullptr) {
            ++unknown_total_;
            if (unknown_.size() < options_.max_unknown_sets) {
                unknown_.push_back({st.set_id, st.version, segment.number(), segment.offset()});
            }
            if (options_.reject_unknown_sets) {
                const Context c{segment, st.position, st.set_id, st.set_control, {}};
                DictionaryFinding f = c.finding(SegmentErrorCode::None, "ST",
                                                "no dictionary for transaction set " + st.set_id + " of version '" +
                                                    st.version + "'; only its envelope could be validated");
                f.set_not_supported = true;
                add(std::move(f));
            }
            return;
        }
        ++validated_sets_;
        st.push(st.set->table);
        const SegmentDef* def = st.set->table.children.front().segment;
        const Context c{segment, st.position, st.set_id, st.set_control, {}};
        std::vector<DictionaryFinding> found;
        ElementChecker(c, *def, found).run();
        for (auto& f : found) add(std::move(f));
        return;
    }
    if (!st.in_set) return;
    ++st.position;
    if (st.set == nullptr) {
        if (id == "SE") st.in_set = false;
        return;
    }
    const bool is_trailer = id == "SE";

    // Where does the segment fit: the innermost open loop that has it at or after its current position (a loop's
    // trigger at index 0 starts a new iteration, which its parent sees).
    std::size_t level = st.depth;
    std::size_t index = 0;
    bool found = false;
    while (level > 0 && !found) {
        --level;
        const State::Frame& f = st.frames[level];
        const auto& children = f.entry->children;
        for (std::size_t j = std::max<std::size_t>(f.index, level > 0 ? 1 : 0); j < children.size(); ++j) {
            if (matches(children[j], id)) {
                index = j;
                found = true;
                break;
            }
        }
    }
    Context c{segment, st.position, st.set_id, st.set_control,
              st.depth > 1 ? std::string_view(st.frames[st.depth - 1].entry->id) : std::string_view()};
    std::vector<DictionaryFinding> out;
    if (!found) {
        const SegmentDef* def = options_.dictionary->segment(st.version, id);
        SegmentErrorCode code = SegmentErrorCode::NotInTransactionSet;
        std::string why = "segment " + std::string(id) + " is not part of transaction set " + st.set_id;
        if (def == nullptr) {
            code = SegmentErrorCode::UnrecognizedSegment;
            why = "segment " + std::string(id) + " is not defined in version " + st.version.substr(0, 6);
        } else if (occursIn(st.set->table, id)) {
            code = SegmentErrorCode::OutOfSequence;
            why = "segment " + std::string(id) + " is not allowed here: it belongs elsewhere in the " + st.set_id +
                  " (out of sequence, or in a loop that is not open)";
            for (std::size_t l = 0; l < st.depth; ++l) {
                const State::Frame& f = st.frames[l];
                if (std::none_of(f.entry->children.begin(), f.entry->children.end(),
                                 [&](const TableEntry& e) { return matches(e, id); })) {
                    continue;
                }
                why = "segment " + std::string(id) + " is out of sequence: it comes earlier in its loop than the " +
                      f.entry->children[f.index].id + " before it";
            }
        }
        out.push_back(c.finding(code, std::string(id), why + "; expected the order of the " + st.set_id + " table"));
        if (def != nullptr) ElementChecker(c, *def, out).run();
    } else {
        // Leaving inner loops, and skipping positions, reports the mandatory segments never seen.
        auto check_missing = [&](const State::Frame& f, std::size_t from, std::size_t to) {
            for (std::size_t j = from; j < to; ++j) {
                const TableEntry& e = f.entry->children[j];
                if (e.mandatory && f.counts[j] == 0) {
                    out.push_back(c.finding(SegmentErrorCode::MandatoryMissing, e.id,
                                            std::string(e.loop ? "loop " : "segment ") + e.id +
                                                " is mandatory and missing before this " + std::string(id) +
                                                (f.entry == &st.set->table ? "" : " (in loop " + f.entry->id + ")")));
                }
            }
        };
        for (std::size_t l = st.depth - 1; l > level; --l) {
            const State::Frame& f = st.frames[l];
            check_missing(f, f.index + 1, f.entry->children.size());
        }
        st.depth = level + 1;
        State::Frame& f = st.frames[level];
        check_missing(f, f.index + 1, index);
        f.index = index;
        const std::uint32_t uses = ++f.counts[index];
        const TableEntry& entry = f.entry->children[index];
        c.loop_id =
            entry.loop ? std::string_view(entry.id) : (level > 0 ? std::string_view(f.entry->id) : std::string_view());
        if (entry.max_use != 0 && uses == entry.max_use + 1) {
            out.push_back(c.finding(
                entry.loop ? SegmentErrorCode::LoopOverMaximum : SegmentErrorCode::ExceedsMaximumUse, std::string(id),
                std::string(entry.loop ? "loop " : "segment ") + std::string(id) + " occurs more than its maximum of " +
                    std::to_string(entry.max_use) + (entry.loop ? " repeats" : " uses") +
                    (level > 0 ? " in loop " + f.entry->id : std::string())));
        }
        if (entry.loop) st.push(entry);
        ElementChecker(c, *entry.segment, out).run();

        if (id == "HL" && st.set->hierarchical && !st.hl_broken) {
            const std::string_view hl01 = segment.element(1);
            const std::string_view hl02 = segment.element(2);
            auto hl_error = [&](unsigned element, std::string_view value, std::string message) {
                DictionaryFinding e = c.finding(SegmentErrorCode::ElementErrors, "HL", std::move(message));
                e.element = element;
                e.reference = element == 1 ? "628" : "734";
                e.element_code = ElementErrorCode::InvalidCode;
                e.bad_value = std::string(value.substr(0, 99));
                out.push_back(std::move(e));
            };
            if (!allDigits(hl01) || hl01.size() > 9) {
                st.hl_broken = true;
            } else if (number(hl01) != st.last_hl + 1) {
                hl_error(1, hl01,
                         "HL01 '" + std::string(hl01) + "' breaks the hierarchy's sequence: expected " +
                             std::to_string(st.last_hl + 1) + " (HL01 counts the HL segments of the set from 1)");
                st.hl_broken = true;
            } else {
                st.last_hl = number(hl01);
                if (!hl02.empty() &&
                    (!allDigits(hl02) || hl02.size() > 9 || number(hl02) == 0 || number(hl02) >= st.last_hl)) {
                    hl_error(2, hl02,
                             "HL02 '" + std::string(hl02) + "' names no earlier HL as the parent of HL " +
                                 std::string(hl01) + "; expected the HL01 of an HL before it (1 to " +
                                 std::to_string(st.last_hl - 1) + ")");
                }
            }
        }
    }
    for (auto& f : out) add(std::move(f));
    if (is_trailer) {
        st.in_set = false;
        st.set = nullptr;
    }
}

void DictionaryValidator::finish() {
    state_->in_set = false;
    state_->set = nullptr;
}

FullValidationReport validateX12(std::istream& in, const EnvelopeOptions& envelope, const DictionaryOptions& dictionary,
                                 const ReaderOptions& reader_options) {
    X12Reader reader(in, reader_options);
    EnvelopeValidator validator(envelope);
    DictionaryValidator sets(dictionary);
    FullValidationReport report;
    for (;;) {
        const auto status = reader.next();
        if (status == X12Reader::Status::Segment) {
            ++report.envelope.segments;
            validator.onSegment(reader.segment());
            sets.onSegment(reader.segment());
            continue;
        }
        if (status == X12Reader::Status::Error) report.envelope.parse_error = reader.error();
        break;
    }
    if (!report.envelope.parse_error) {
        validator.finish(reader.offset());
        sets.finish();
    }
    report.envelope.reader_warnings = reader.warnings();
    report.envelope.findings = validator.findings();
    report.envelope.errors = validator.errorCount();
    report.envelope.warnings = validator.warningCount();
    report.envelope.interchanges = validator.interchanges();
    report.envelope.groups = validator.groups();
    report.envelope.transaction_sets = validator.transactionSets();
    report.findings = sets.findings();
    report.unknown_sets = sets.unknownSets();
    report.errors = sets.errorCount();
    report.warnings = sets.warningCount();
    report.validated_sets = sets.validatedSets();
    report.unknown_set_count = sets.unknownSetCount();
    return report;
}

}  // namespace keel::edi
