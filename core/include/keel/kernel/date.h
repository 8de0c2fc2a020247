#pragma once
// Calendar dates (expiry dates, periods, promise dates) as exact integers YYYYMMDD: sortable, comparable and
// stored the same way on every backend. Dates are UTC calendar days.

#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"

#include <compare>
#include <string>
#include <string_view>

namespace keel {

/// A valid Gregorian calendar date.
class Date {
public:
    /// Parses "YYYY-MM-DD" (years 1900 to 9999); the Problem says what is wrong ("2027-02-30 is not a day").
    static Result<Date> parse(std::string_view text);
    /// From the stored form 20271231; throws RejectedError for a value that is not a valid date.
    static Date fromYmd(int ymd);
    /// The UTC calendar day of `clock`'s now.
    static Date today(const Clock& clock);

    int ymd() const { return ymd_; }
    int year() const { return ymd_ / 10000; }
    int month() const { return ymd_ / 100 % 100; }
    int day() const { return ymd_ % 100; }
    std::string toString() const;  ///< "2027-12-31"
    Date plusDays(int days) const;
    /// Whole days from this date to `later` (negative when `later` is earlier).
    int daysUntil(const Date& later) const;

    friend bool operator==(const Date&, const Date&) = default;
    friend auto operator<=>(const Date&, const Date&) = default;

private:
    explicit Date(int ymd) : ymd_(ymd) {}
    int ymd_;
};

}  // namespace keel
