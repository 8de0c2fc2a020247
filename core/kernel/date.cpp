#include "keel/kernel/date.h"

#include <Poco/DateTime.h>
#include <Poco/Timespan.h>

#include <cstdio>

namespace keel {

namespace {

bool isValid(int year, int month, int day) {
    return year >= 1900 && year <= 9999 && Poco::DateTime::isValid(year, month, day);
}

}  // namespace

Result<Date> Date::parse(std::string_view text) {
    const auto digits = [&](std::size_t from, std::size_t count, int& out) {
        out = 0;
        for (std::size_t i = from; i < from + count; ++i) {
            if (text[i] < '0' || text[i] > '9') return false;
            out = out * 10 + (text[i] - '0');
        }
        return true;
    };
    int year = 0;
    int month = 0;
    int day = 0;
    if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !digits(0, 4, year) || !digits(5, 2, month) ||
        !digits(8, 2, day)) {
        return reject("'" + std::string(text) + "' is not a date in the form YYYY-MM-DD");
    }
    if (!isValid(year, month, day)) return reject("'" + std::string(text) + "' is not a day of the calendar");
    return Date(year * 10000 + month * 100 + day);
}

Date Date::fromYmd(int ymd) {
    if (!isValid(ymd / 10000, ymd / 100 % 100, ymd % 100)) {
        throw RejectedError(std::to_string(ymd) + " is not a date (expected YYYYMMDD)");
    }
    return Date(ymd);
}

Date Date::today(const Clock& clock) {
    const Poco::DateTime now{Poco::Timestamp(clock.nowMicros())};
    return Date(now.year() * 10000 + now.month() * 100 + now.day());
}

std::string Date::toString() const {
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d", year(), month(), day());
    return text;
}

Date Date::plusDays(int days) const {
    Poco::DateTime moved(year(), month(), day());
    moved += Poco::Timespan(days, 0, 0, 0, 0);
    return fromYmd(moved.year() * 10000 + moved.month() * 100 + moved.day());
}

int Date::daysUntil(const Date& later) const {
    const Poco::DateTime from(year(), month(), day());
    const Poco::DateTime to(later.year(), later.month(), later.day());
    return (to - from).days();
}

}  // namespace keel
