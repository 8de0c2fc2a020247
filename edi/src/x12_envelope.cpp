#include "keel/edi/x12_envelope.h"

#include <limits>

#include <algorithm>
#include <ostream>

namespace keel::edi {

namespace {

bool allDigits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string trimRight(std::string_view s) {
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return std::string(s);
}

std::string where(const Segment& s) {
    return "segment " + std::to_string(s.number()) + " (" + std::string(s.id()) + ", byte " +
           std::to_string(s.offset()) + ")";
}

// The value of a run of digits, saturating: a count of twenty digits (found by fuzzing) is just "too many", never
// an overflow. Callers check allDigits first.
std::uint64_t number(std::string_view s) {
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t n = 0;
    for (char c : s) {
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (n > (kMax - digit) / 10) return kMax;
        n = n * 10 + digit;
    }
    return n;
}

bool sameNumber(std::string_view a, std::string_view b) {
    while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
    while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
    return a == b;
}

// GS04 is CCYYMMDD since 004010 and YYMMDD before; a group of an older version may sit in a newer interchange
// (staedi_invoice810_po850_dual), so both forms are dates.
bool validDate(std::string_view d) {
    if ((d.size() != 8 && d.size() != 6) || !allDigits(d)) return false;
    const std::size_t y = d.size() - 6;
    const auto year = static_cast<int>(d.size() == 8 ? number(d.substr(0, 4)) : 2000 + number(d.substr(0, 2)));
    const auto month = static_cast<int>(number(d.substr(2 + y, 2)));
    const auto day = static_cast<int>(number(d.substr(4 + y, 2)));
    static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return false;
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return !(month == 2 && day == 29 && !leap);
}

bool validTime(std::string_view t) {
    if (t.size() < 4 || t.size() > 8 || !allDigits(t)) return false;
    if (number(t.substr(0, 2)) > 23 || number(t.substr(2, 2)) > 59) return false;
    return t.size() < 6 || number(t.substr(4, 2)) <= 59;
}

}  // namespace

std::string_view findingCodeName(FindingCode code) {
    switch (code) {
        case FindingCode::NoInterchange:
            return "no_interchange";
        case FindingCode::UnexpectedSegment:
            return "unexpected_segment";
        case FindingCode::MissingTrailer:
            return "missing_trailer";
        case FindingCode::BadControlNumber:
            return "bad_control_number";
        case FindingCode::PaddedControlNumber:
            return "padded_control_number";
        case FindingCode::ControlNumberMismatch:
            return "control_number_mismatch";
        case FindingCode::CountMismatch:
            return "count_mismatch";
        case FindingCode::DuplicateInterchange:
            return "duplicate_interchange";
        case FindingCode::DuplicateGroup:
            return "duplicate_group";
        case FindingCode::DuplicateTransactionSet:
            return "duplicate_transaction_set";
        case FindingCode::BadDate:
            return "bad_date";
        case FindingCode::BadTime:
            return "bad_time";
    }
    return "unknown";
}

std::string_view severityName(Severity severity) {
    return severity == Severity::Error ? "error" : "warning";
}

std::ostream& operator<<(std::ostream& out, FindingCode code) {
    return out << findingCodeName(code);
}

std::ostream& operator<<(std::ostream& out, Severity severity) {
    return out << severityName(severity);
}

std::optional<std::chrono::system_clock::time_point> InMemoryInterchangeRegistry::recordAndCheck(
    const InterchangeKey& key) {
    const auto now = clock_.now();
    // Forget what fell out of the window, oldest first, so memory follows the window, not the history.
    while (!order_.empty() && order_.front().first + window_ < now) {
        auto it = seen_.find(order_.front().second);
        if (it != seen_.end() && it->second == order_.front().first) seen_.erase(it);
        order_.pop_front();
    }
    auto [it, inserted] = seen_.emplace(key, now);
    if (inserted) {
        order_.emplace_back(now, key);
        return std::nullopt;
    }
    return it->second;
}

void EnvelopeValidator::add(Severity severity, FindingCode code, const Segment& segment, std::string element,
                            std::string message) {
    (severity == Severity::Error ? errors_ : warnings_) += 1;
    if (findings_.size() >= options_.max_findings) {
        ++dropped_;
        return;
    }
    findings_.push_back({severity, code, segment.offset(), segment.number(), std::move(element), std::move(message)});
}

void EnvelopeValidator::checkControlTrailer(const Segment& segment, const std::string& element, std::string_view value,
                                            const std::string& header_element, const std::string& header_value,
                                            std::uint64_t header_number, bool tolerable) {
    const Severity lenient =
        tolerable && options_.strictness == Strictness::Tolerant ? Severity::Warning : Severity::Error;
    const std::string trimmed = trimRight(value);
    if (trimmed.size() != value.size()) {
        add(lenient, FindingCode::PaddedControlNumber, segment, element,
            where(segment) + ", " + element + " '" + std::string(value) + "' is padded with blanks; expected '" +
                trimmed + "' without them");
    }
    // Control numbers are numeric (N0): "3438" and "000003438" are the same number (edienginge files write IEA02
    // unpadded), so numeric values compare by value.
    const bool same =
        trimmed == header_value || (allDigits(trimmed) && allDigits(header_value) && sameNumber(trimmed, header_value));
    if (!same) {
        add(lenient, FindingCode::ControlNumberMismatch, segment, element,
            where(segment) + ", " + element + " '" + trimmed + "' does not match " + header_element + " '" +
                header_value + "' of segment " + std::to_string(header_number) + "; expected " + element + " = " +
                header_element);
    }
}

void EnvelopeValidator::onSegment(const Segment& s) {
    const std::string_view id = s.id();
    if (in_set_ && id != "ISA" && id != "GS" && id != "GE" && id != "IEA") ++segments_in_set_;

    if (id == "ISA") {
        if (in_interchange_) {
            add(Severity::Error, FindingCode::MissingTrailer, s, "",
                "interchange of segment " + std::to_string(isa_number_) + " (ISA13 '" + isa13_ +
                    "') is not closed by an IEA before the ISA of " + where(s));
        }
        in_interchange_ = true;
        in_group_ = in_set_ = false;
        ++interchange_total_;
        isa13_ = std::string(s.element(13));
        isa_number_ = s.number();
        groups_in_interchange_ = 0;
        group_numbers_.clear();
        if (isa13_.size() != 9 || !allDigits(isa13_)) {
            add(Severity::Error, FindingCode::BadControlNumber, s, "ISA13",
                where(s) + ", ISA13 '" + isa13_ + "': expected an interchange control number of exactly 9 digits");
        }
        if (options_.registry != nullptr) {
            InterchangeKey key{std::string(s.element(5)), trimRight(s.element(6)), std::string(s.element(7)),
                               trimRight(s.element(8)), isa13_};
            if (auto first = options_.registry->recordAndCheck(key)) {
                add(Severity::Error, FindingCode::DuplicateInterchange, s, "ISA13",
                    where(s) + ", ISA13 '" + isa13_ + "' from " + key.sender_qualifier + "/" + key.sender_id + " to " +
                        key.receiver_qualifier + "/" + key.receiver_id +
                        " was already received within the duplicate window; expected a new control number");
            }
        }
        return;
    }
    if (!in_interchange_) {
        add(Severity::Error, FindingCode::UnexpectedSegment, s, "",
            where(s) + " is outside an interchange; expected ISA first");
        return;
    }
    if (id == "IEA") {
        if (in_group_) {
            add(Severity::Error, FindingCode::MissingTrailer, s, "",
                "group of segment " + std::to_string(gs_number_) + " (GS06 '" + gs06_ +
                    "') is not closed by a GE before " + where(s));
        }
        const std::string_view count = s.element(1);
        if (!allDigits(count) || number(count) != groups_in_interchange_) {
            add(Severity::Error, FindingCode::CountMismatch, s, "IEA01",
                where(s) + ", IEA01 '" + std::string(count) + "': the interchange of segment " +
                    std::to_string(isa_number_) + " has " + std::to_string(groups_in_interchange_) +
                    " functional group(s); expected IEA01 = " + std::to_string(groups_in_interchange_));
        }
        checkControlTrailer(s, "IEA02", s.element(2), "ISA13", isa13_, isa_number_, true);
        in_interchange_ = in_group_ = in_set_ = false;
        return;
    }
    if (id == "GS") {
        if (in_group_) {
            add(Severity::Error, FindingCode::MissingTrailer, s, "",
                "group of segment " + std::to_string(gs_number_) + " (GS06 '" + gs06_ +
                    "') is not closed by a GE before " + where(s));
        }
        in_group_ = true;
        in_set_ = false;
        ++group_total_;
        ++groups_in_interchange_;
        gs06_ = std::string(s.element(6));
        gs_number_ = s.number();
        sets_in_group_ = 0;
        set_numbers_.clear();
        if (gs06_.empty() || gs06_.size() > 9 || !allDigits(gs06_)) {
            add(Severity::Error, FindingCode::BadControlNumber, s, "GS06",
                where(s) + ", GS06 '" + gs06_ + "': expected a group control number of 1 to 9 digits");
        } else if (!group_numbers_.insert(gs06_).second) {
            add(Severity::Error, FindingCode::DuplicateGroup, s, "GS06",
                where(s) + ", GS06 '" + gs06_ + "' is used by an earlier group of the interchange of segment " +
                    std::to_string(isa_number_) + "; expected a control number unique within the interchange");
        }
        if (!validDate(s.element(4))) {
            add(Severity::Error, FindingCode::BadDate, s, "GS04",
                where(s) + ", GS04 '" + std::string(s.element(4)) +
                    "': expected a date CCYYMMDD (or YYMMDD before 004010)");
        }
        if (!validTime(s.element(5))) {
            add(Severity::Error, FindingCode::BadTime, s, "GS05",
                where(s) + ", GS05 '" + std::string(s.element(5)) + "': expected a time HHMM, HHMMSS or HHMMSSd..d");
        }
        return;
    }
    // TA1 (interchange acknowledgment) segments sit between the ISA and the first GS (X12.56).
    if (id == "TA1" && !in_group_ && groups_in_interchange_ == 0) return;
    if (!in_group_) {
        add(Severity::Error, FindingCode::UnexpectedSegment, s, "",
            where(s) + " is outside a functional group; expected GS first");
        return;
    }
    if (id == "GE") {
        if (in_set_) {
            add(Severity::Error, FindingCode::MissingTrailer, s, "",
                "transaction set of segment " + std::to_string(st_number_) + " (ST02 '" + st02_ +
                    "') is not closed by an SE before " + where(s));
        }
        const std::string_view count = s.element(1);
        if (!allDigits(count) || number(count) != sets_in_group_) {
            add(Severity::Error, FindingCode::CountMismatch, s, "GE01",
                where(s) + ", GE01 '" + std::string(count) + "': the group of segment " + std::to_string(gs_number_) +
                    " has " + std::to_string(sets_in_group_) +
                    " transaction set(s); expected GE01 = " + std::to_string(sets_in_group_));
        }
        const std::string ge02 = trimRight(s.element(2));
        if (ge02.empty() || ge02.size() > 9 || !allDigits(ge02)) {
            add(Severity::Error, FindingCode::BadControlNumber, s, "GE02",
                where(s) + ", GE02 '" + std::string(s.element(2)) +
                    "': expected a group control number of 1 to 9 digits");
        } else {
            checkControlTrailer(s, "GE02", s.element(2), "GS06", gs06_, gs_number_, true);
        }
        in_group_ = in_set_ = false;
        return;
    }
    if (id == "ST") {
        if (in_set_) {
            add(Severity::Error, FindingCode::MissingTrailer, s, "",
                "transaction set of segment " + std::to_string(st_number_) + " (ST02 '" + st02_ +
                    "') is not closed by an SE before " + where(s));
        }
        in_set_ = true;
        ++set_total_;
        ++sets_in_group_;
        segments_in_set_ = 1;
        st02_ = std::string(s.element(2));
        st_number_ = s.number();
        if (st02_.size() < 4 || st02_.size() > 9) {
            add(Severity::Error, FindingCode::BadControlNumber, s, "ST02",
                where(s) + ", ST02 '" + st02_ + "': expected a transaction set control number of 4 to 9 characters");
        } else if (!set_numbers_.insert(st02_).second) {
            add(Severity::Error, FindingCode::DuplicateTransactionSet, s, "ST02",
                where(s) + ", ST02 '" + st02_ + "' is used by an earlier transaction set of the group of segment " +
                    std::to_string(gs_number_) + "; expected a control number unique within the group");
        }
        return;
    }
    if (!in_set_) {
        add(Severity::Error, FindingCode::UnexpectedSegment, s, "",
            where(s) + " is outside a transaction set; expected ST first");
        return;
    }
    if (id == "SE") {
        const std::string_view count = s.element(1);
        if (!allDigits(count) || number(count) != segments_in_set_) {
            add(Severity::Error, FindingCode::CountMismatch, s, "SE01",
                where(s) + ", SE01 '" + std::string(count) + "': the transaction set from segment " +
                    std::to_string(st_number_) + " has " + std::to_string(segments_in_set_) +
                    " segments (ST and SE included); expected SE01 = " + std::to_string(segments_in_set_));
        }
        // SE02 is what a 997 reports per set (AK5 code 3), so it is never tolerated.
        checkControlTrailer(s, "SE02", s.element(2), "ST02", st02_, st_number_, false);
        in_set_ = false;
    }
}

void EnvelopeValidator::finish(std::uint64_t end_offset) {
    const Segment end(std::string(), Delimiters{}, end_offset, 0);
    const std::string at = "end of input (byte " + std::to_string(end_offset) + ")";
    if (in_set_) {
        add(Severity::Error, FindingCode::MissingTrailer, end, "SE",
            "transaction set of segment " + std::to_string(st_number_) + " (ST02 '" + st02_ +
                "') is not closed by an SE at " + at);
    }
    if (in_group_) {
        add(Severity::Error, FindingCode::MissingTrailer, end, "GE",
            "group of segment " + std::to_string(gs_number_) + " (GS06 '" + gs06_ + "') is not closed by a GE at " +
                at);
    }
    if (in_interchange_) {
        add(Severity::Error, FindingCode::MissingTrailer, end, "IEA",
            "interchange of segment " + std::to_string(isa_number_) + " (ISA13 '" + isa13_ +
                "') is not closed by an IEA at " + at);
    }
    if (interchange_total_ == 0) {
        add(Severity::Error, FindingCode::NoInterchange, end, "",
            "no interchange in the input; expected an ISA segment");
    }
    in_set_ = in_group_ = in_interchange_ = false;
}

ValidationReport validateX12(std::istream& in, const EnvelopeOptions& options, const ReaderOptions& reader_options) {
    X12Reader reader(in, reader_options);
    EnvelopeValidator validator(options);
    ValidationReport report;
    for (;;) {
        const auto status = reader.next();
        if (status == X12Reader::Status::Segment) {
            ++report.segments;
            validator.onSegment(reader.segment());
            continue;
        }
        if (status == X12Reader::Status::Error) {
            report.parse_error = reader.error();
        } else {
            validator.finish(reader.offset());
        }
        break;
    }
    report.reader_warnings = reader.warnings();
    report.findings = validator.findings();
    report.errors = validator.errorCount();
    report.warnings = validator.warningCount();
    report.interchanges = validator.interchanges();
    report.groups = validator.groups();
    report.transaction_sets = validator.transactionSets();
    return report;
}

}  // namespace keel::edi
