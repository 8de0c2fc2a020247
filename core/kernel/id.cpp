#include "keel/kernel/id.h"

#include "keel/kernel/error.h"

#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <cstring>

namespace keel {

namespace {

// Random bytes for ids come from OpenSSL's generator a kilobyte at a time, one call per 64 ids instead of one per id
// (each call takes the generator's lock and runs its DRBG: 3 % of an order's time end to end in bench_orders). A child
// of fork() must not hand out the bytes its parent holds too: the fork handler makes every thread's pool stale there.
std::atomic<unsigned> fork_generation{0};

struct RandomPool {
    std::array<unsigned char, 1024> bytes{};
    std::size_t used = 1024;  // empty
    unsigned generation = 0;
};
thread_local RandomPool pool;

void randomBytes(unsigned char* out, std::size_t size) {
    static const int registered =
        pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1, std::memory_order_relaxed); });
    if (registered != 0) throw InfrastructureError("id generation: cannot register the fork handler");
    const unsigned generation = fork_generation.load(std::memory_order_relaxed);
    if (pool.used + size > pool.bytes.size() || pool.generation != generation) {
        if (RAND_bytes(pool.bytes.data(), static_cast<int>(pool.bytes.size())) != 1) {
            throw InfrastructureError("id generation: the OpenSSL random generator failed");
        }
        pool.used = 0;
        pool.generation = generation;
    }
    std::memcpy(out, pool.bytes.data() + pool.used, size);
    pool.used += size;
}

}  // namespace

std::string IdGenerator::next() {
    std::array<unsigned char, 16> b{};
    randomBytes(b.data(), b.size());

    std::int64_t millis = clock_.nowMicros() / 1000;
    std::uint16_t counter = 0;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (millis <= last_millis_) {
            // Same millisecond (or the clock stepped back): keep ordering with the counter, borrowing the
            // next millisecond when the 12 bits run out.
            millis = last_millis_;
            if (++counter_ >= 0x1000) {
                counter_ = 0;
                ++millis;
            }
        } else {
            // Start each millisecond at a random point in the lower half so ids are not guessable in sequence.
            counter_ = static_cast<std::uint16_t>(((b[6] << 8) | b[7]) & 0x07ff);
        }
        last_millis_ = millis;
        counter = counter_;
    }

    const auto ms = static_cast<std::uint64_t>(millis);
    for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    b[6] = static_cast<unsigned char>(0x70 | ((counter >> 8) & 0x0f));
    b[7] = static_cast<unsigned char>(counter & 0xff);
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant

    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0f]);
    }
    return out;
}

IdGenerator& IdGenerator::global() {
    static IdGenerator generator;
    return generator;
}

bool isUuid(const std::string& text) {
    if (text.size() != 36) return false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

}  // namespace keel
