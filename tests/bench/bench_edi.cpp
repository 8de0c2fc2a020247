// EDI benchmark (issue #7): a generated interchange file of at least 100 MB of 850 purchase orders (several groups
// of 1,000 sets), read from disk by the streaming X12 reader with envelope validation on one core. Targets: at least
// 200 MB/s, peak memory under 64 MB whatever the size. Beside it, the same file through node-x12 (installed from
// npm into a temporary folder) as a ratio in the same run. Then full dictionary validation (envelope and every set
// against the built-in 004010 850 dictionary) of the same file: target at least 50 MB/s, peak memory under 64 MB.
// Run with `make bench`; KEEL_BENCH_EDI_MB changes the size.

#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_validator.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

double seconds(const std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

long peakRssKb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

std::string padded(std::uint64_t n, std::size_t width) {
    std::string s = std::to_string(n);
    return std::string(width > s.size() ? width - s.size() : 0, '0') + s;
}

// Writes interchanges of 10 groups x 1,000 purchase orders (4 lines each) until `bytes` are written.
std::uint64_t generate(const std::string& path, std::uint64_t bytes) {
    std::ofstream out(path, std::ios::binary);
    std::uint64_t written = 0;
    std::uint64_t interchange = 0;
    std::uint64_t po = 0;
    while (written < bytes) {
        ++interchange;
        std::string text =
            "ISA*00*          *00*          *ZZ*RETAILER       *ZZ*KEELSUPPLIER   *261126*1200*U*00401*" +
            padded(interchange, 9) + "*0*P*>~\n";
        for (int g = 1; g <= 10; ++g) {
            text += "GS*PO*RETAILER*KEELSUPPLIER*20261126*1200*" + std::to_string(g) + "*X*004010~\n";
            for (int st = 1; st <= 1000; ++st) {
                ++po;
                const std::string control = padded(static_cast<std::uint64_t>(st), 4);
                text += "ST*850*" + control + "~\nBEG*00*SA*PO" + std::to_string(po) + "**20261126~\n" +
                        "REF*DP*042~\nDTM*002*20261210~\nN1*ST*STORE 1042*92*1042~\n";
                for (int line = 1; line <= 4; ++line) {
                    text += "PO1*" + std::to_string(line) + "*12*EA*4.25**UP*0123456789" + std::to_string(line % 10) +
                            "*VN*SKU-" + std::to_string(line * 7) + "~\n";
                }
                text += "CTT*4~\nSE*" + std::to_string(5 + 4 + 2) + "*" + control + "~\n";
            }
            text += "GE*1000*" + std::to_string(g) + "~\n";
        }
        text += "IEA*10*" + padded(interchange, 9) + "~\n";
        out << text;
        written += text.size();
    }
    return written;
}

}  // namespace

int main() {
    const char* configured = std::getenv("KEEL_BENCH_EDI_MB");
    const std::uint64_t megabytes = configured ? std::strtoull(configured, nullptr, 10) : 100;
    const std::string path = "/tmp/keel-bench-edi-" + std::to_string(::getpid()) + ".edi";
    const std::uint64_t bytes = generate(path, megabytes * 1024 * 1024);
    const double mb = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::printf(
        "EDI: %.0f MB of 850s (10 groups x 1,000 sets per interchange), streaming reader + envelope "
        "validation\n",
        mb);

    const long rss_before = peakRssKb();
    const auto start = std::chrono::steady_clock::now();
    std::ifstream in(path, std::ios::binary);
    keel::edi::EnvelopeOptions options;
    options.strictness = keel::edi::Strictness::Strict;
    const auto report = keel::edi::validateX12(in, options);
    const double keel_seconds = seconds(start);
    const long rss_after = peakRssKb();
    std::printf("  keel      %8.2f s  %7.1f MB/s (target >= 200: %s)  %llu segments, %zu sets, valid: %s\n",
                keel_seconds, mb / keel_seconds, mb / keel_seconds >= 200 ? "met" : "NOT met",
                static_cast<unsigned long long>(report.segments), report.transaction_sets,
                report.valid() ? "yes" : "NO");
    std::printf("  keel      peak resident memory %ld MB (before reading %ld MB; target < 64 MB: %s)\n",
                rss_after / 1024, rss_before / 1024, rss_after < 64 * 1024 ? "met" : "NOT met");

    // Full dictionary validation of the same file, on one core. The dictionary is loaded before the clock starts
    // (it is loaded once per process).
    const auto& dictionary = keel::edi::Dictionary::builtIn();
    const auto full_start = std::chrono::steady_clock::now();
    std::ifstream again(path, std::ios::binary);
    keel::edi::DictionaryOptions dictionary_options;
    dictionary_options.dictionary = &dictionary;
    const auto full = keel::edi::validateX12(again, options, dictionary_options);
    const double full_seconds = seconds(full_start);
    const long rss_full = peakRssKb();
    std::printf(
        "  keel+dict %8.2f s  %7.1f MB/s (target >= 50: %s)  %zu sets checked against a dictionary, %zu "
        "dictionary errors, valid: %s\n",
        full_seconds, mb / full_seconds, mb / full_seconds >= 50 ? "met" : "NOT met", full.validated_sets, full.errors,
        full.valid() ? "yes" : "NO");
    std::printf("  keel+dict peak resident memory %ld MB (target < 64 MB: %s)\n", rss_full / 1024,
                rss_full < 64 * 1024 ? "met" : "NOT met");

    // node-x12 on the same file, for the ratio (it holds the whole parse tree in memory).
    const std::string dir = "/tmp/keel-bench-edi-node-" + std::to_string(::getpid());
    const std::string install = "mkdir -p " + dir + " && npm install --silent --no-audit --no-fund --prefix " + dir +
                                " node-x12@1.7.1 >/dev/null 2>&1";
    if (std::system(install.c_str()) == 0) {
        const std::string script = dir + "/run.js";
        std::ofstream(script) << "const { X12Parser } = require('" << dir << "/node_modules/node-x12');\n"
                              << "const fs = require('fs');\n"
                              << "new X12Parser(true).parse(fs.readFileSync(process.argv[2], 'utf8'));\n";
        const auto node_start = std::chrono::steady_clock::now();
        const int status = std::system(("timeout 600 node --max-old-space-size=16384 " + script + " " + path).c_str());
        const double node_seconds = seconds(node_start);
        if (status == 0) {
            std::printf("  node-x12  %8.2f s  %7.1f MB/s  (Keel %.1fx faster, same file)\n", node_seconds,
                        mb / node_seconds, node_seconds / keel_seconds);
        } else {
            std::printf("  node-x12  failed or timed out on the same file after %.0f s (exit %d)\n", node_seconds,
                        status);
        }
    } else {
        std::printf("  node-x12  not installed (npm unavailable): no ratio\n");
    }
    std::system(("rm -rf " + dir).c_str());
    std::remove(path.c_str());
    return 0;
}
