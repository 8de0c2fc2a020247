#define BOOST_TEST_MODULE kernel
#include <boost/test/unit_test.hpp>

#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/utf8.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <thread>
#include <vector>

using namespace keel;

BOOST_AUTO_TEST_SUITE(ids)

BOOST_AUTO_TEST_CASE(uuid_v7_layout) {
    ManualClock clock(1'700'000'000'123'000);  // 2023-11-14T22:13:20.123Z
    IdGenerator generator(clock);
    const std::string id = generator.next();
    BOOST_TEST(isUuid(id));
    BOOST_TEST(id[14] == '7');                                          // version
    BOOST_TEST(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 9562 variant
    // The first 48 bits are the Unix milliseconds.
    BOOST_TEST(id.substr(0, 8) + id.substr(9, 4) == "018bcfe5687b");
}

BOOST_AUTO_TEST_CASE(strictly_increasing_within_one_millisecond) {
    ManualClock clock(1'700'000'000'000'000);
    IdGenerator generator(clock);
    std::string previous = generator.next();
    for (int i = 0; i < 10000; ++i) {  // more than the 12-bit counter holds: borrows the next millisecond
        const std::string next = generator.next();
        BOOST_TEST_REQUIRE(next > previous);
        previous = next;
    }
}

BOOST_AUTO_TEST_CASE(clock_stepping_back_keeps_order) {
    ManualClock clock(1'700'000'000'000'000);
    IdGenerator generator(clock);
    const std::string a = generator.next();
    clock.set(1'600'000'000'000'000);
    const std::string b = generator.next();
    BOOST_TEST(b > a);
}

BOOST_AUTO_TEST_CASE(unique_across_threads) {
    IdGenerator generator;
    std::vector<std::vector<std::string>> per_thread(4);
    std::vector<std::thread> threads;
    for (auto& out : per_thread) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5000; ++i) out.push_back(generator.next());
        });
    }
    for (auto& t : threads) t.join();
    std::set<std::string> all;
    for (const auto& out : per_thread) all.insert(out.begin(), out.end());
    BOOST_TEST(all.size() == 20000u);
}

// Ids take their randomness from a pool filled ahead: a forked child must not reuse what its parent will use too (two
// processes with the same clock would make the same ids).
BOOST_AUTO_TEST_CASE(a_forked_child_does_not_repeat_its_parents_ids) {
    (void)IdGenerator::global().next();  // this thread's pool now holds bytes for the ids to come
    int out[2];
    BOOST_TEST_REQUIRE(pipe(out) == 0);
    const pid_t child = fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        ManualClock clock(1'700'000'000'000'000);
        const std::string id = IdGenerator(clock).next();
        const bool written = write(out[1], id.data(), id.size()) == static_cast<ssize_t>(id.size());
        _exit(written ? 0 : 1);
    }
    close(out[1]);
    ManualClock clock(1'700'000'000'000'000);
    const std::string mine = IdGenerator(clock).next();
    std::array<char, 36> theirs{};
    BOOST_TEST_REQUIRE(read(out[0], theirs.data(), theirs.size()) == static_cast<ssize_t>(theirs.size()));
    close(out[0]);
    int status = 0;
    BOOST_TEST_REQUIRE(waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(mine != std::string(theirs.data(), theirs.size()));
}

BOOST_AUTO_TEST_CASE(is_uuid_rejects_malformed) {
    BOOST_TEST(!isUuid(""));
    BOOST_TEST(!isUuid("018bcfe5-687b-7000-8000-00000000000"));   // 35 characters
    BOOST_TEST(!isUuid("018BCFE5-687B-7000-8000-000000000000"));  // uppercase
    BOOST_TEST(!isUuid("018bcfe5x687b-7000-8000-000000000000"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(clocks)

BOOST_AUTO_TEST_CASE(manual_clock_moves_only_when_told) {
    ManualClock clock(1000);
    BOOST_TEST(clock.nowMicros() == 1000);
    clock.advance(500);
    BOOST_TEST(clock.nowMicros() == 1500);
    clock.set(42);
    BOOST_TEST(clock.nowMicros() == 42);
}

BOOST_AUTO_TEST_CASE(iso8601_is_utc_with_microseconds) {
    BOOST_TEST(formatIso8601(0) == "1970-01-01T00:00:00.000000Z");
    BOOST_TEST(formatIso8601(1'700'000'000'123'456) == "2023-11-14T22:13:20.123456Z");
}

BOOST_AUTO_TEST_CASE(system_clock_is_recent) {
    BOOST_TEST(Clock::system().nowMicros() > 1'700'000'000'000'000);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(utf8_text)

BOOST_AUTO_TEST_CASE(decodes_each_length_and_refuses_what_is_not_utf8) {
    struct Case {
        std::string text;
        char32_t code_point;
        std::size_t length;
    };
    const std::vector<Case> cases = {
        {"A", U'A', 1},
        {"\xc3\xa9", 0xe9, 2},             // e acute
        {"\xe2\x82\xac", 0x20ac, 3},       // euro sign
        {"\xf0\x9f\x93\xa6", 0x1f4e6, 4},  // package
        {"\xc0\xaf", 0, 0},                // overlong '/'
        {"\xe0\x80\xaf", 0, 0},            // overlong, three bytes
        {"\xed\xa0\x80", 0, 0},            // UTF-16 surrogate
        {"\xf4\x90\x80\x80", 0, 0},        // beyond U+10FFFF
        {"\xe2\x82", 0, 0},                // cut short
        {"\x80", 0, 0},                    // a continuation byte alone
        {"\xc3"
         "A",
         0, 0},  // a lead byte without its continuation
        {"\xff", 0, 0},
    };
    for (const auto& c : cases) {
        const auto decoded = utf8::decode(c.text, 0);
        BOOST_TEST(decoded.length == c.length, c.text);
        if (c.length != 0)
            BOOST_TEST(static_cast<std::uint32_t>(decoded.code_point) == static_cast<std::uint32_t>(c.code_point));
    }
    BOOST_TEST(utf8::decode("x\xc3\xa9", 1).length == 2u);  // from a position inside the text
    BOOST_TEST(utf8::isControl(0x7f));
    BOOST_TEST(utf8::isControl(0x85));
    BOOST_TEST(!utf8::isControl(0xa0));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

Result<int> half(int value) {
    if (value % 2 != 0) return reject("must be even, got " + std::to_string(value), "lines[0].quantity");
    return value / 2;
}

BOOST_AUTO_TEST_CASE(result_carries_value_or_problem) {
    const auto ok = half(4);
    BOOST_TEST(ok.ok());
    BOOST_TEST(ok.value() == 2);
    const auto bad = half(3);
    BOOST_TEST(!bad.ok());
    BOOST_TEST(bad.problem().field == "lines[0].quantity");
    BOOST_TEST(static_cast<int>(bad.problem().code) == 2);
}

BOOST_AUTO_TEST_CASE(value_of_a_problem_throws_the_matching_error) {
    const auto bad = half(3);
    try {
        (void)bad.value();
        BOOST_FAIL("value() of a Problem must throw");
    } catch (const RejectedError& e) {
        BOOST_TEST(std::string(e.what()) == "lines[0].quantity: must be even, got 3");
        BOOST_TEST(static_cast<int>(e.code()) == 2);
    }
    const Result<int> missing = Problem{ExitCode::kNotFound, "no order W-1", ""};
    BOOST_CHECK_THROW((void)missing.value(), NotFoundError);
}

BOOST_AUTO_TEST_CASE(exit_codes_follow_the_contract) {
    BOOST_TEST(static_cast<int>(UsageError("x").code()) == 1);
    BOOST_TEST(static_cast<int>(RejectedError("x").code()) == 2);
    BOOST_TEST(static_cast<int>(NotFoundError("x").code()) == 3);
    BOOST_TEST(static_cast<int>(ConflictError("x").code()) == 4);
    BOOST_TEST(static_cast<int>(InfrastructureError("x").code()) == 5);
    BOOST_TEST(exitCodeName(ExitCode::kNotFound) == "not_found");
}

BOOST_AUTO_TEST_SUITE_END()
