// libFuzzer target for the X12 reader, envelope validator, dictionary validator and writer (edi/): any bytes must
// end in segments, a clean end or a ParseError, never a crash, a hang or unbounded memory; and what the reader
// accepted must write back through X12Writer with the same delimiters. Built with clang
// (-fsanitize=fuzzer,address,undefined) by tests/CMakeLists.txt; `make check` runs it for a bounded time over the test
// data as seed corpus (fuzz.x12).
#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_reader.h"
#include "keel/edi/x12_validator.h"
#include "keel/edi/x12_writer.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    keel::edi::ReaderOptions options;
    options.chunk_bytes = 64;  // small chunks, so segment and ISA boundaries fall across reads
    keel::edi::X12Reader reader(in, options);
    keel::edi::EnvelopeValidator envelopes;
    keel::edi::DictionaryOptions dictionary_options;
    dictionary_options.reject_unknown_sets = true;
    keel::edi::DictionaryValidator sets(dictionary_options);
    std::ostringstream out;
    std::optional<keel::edi::X12Writer> writer;
    std::uint64_t segments = 0;
    for (;;) {
        const auto status = reader.next();
        if (status != keel::edi::X12Reader::Status::Segment) break;
        ++segments;
        const auto& segment = reader.segment();
        envelopes.onSegment(segment);
        sets.onSegment(segment);
        if (!writer) {
            keel::edi::WriterOptions w;
            w.delimiters = segment.delimiters();
            writer.emplace(out, w);
        }
        (void)writer->write(segment);
        // Touch every element the way callers do, splitting composites and repetitions on request.
        for (std::size_t e = 1; e <= segment.elementCount(); ++e) {
            (void)segment.components(e);
            (void)segment.repetitions(e);
        }
        if (segments > 1'000'000) __builtin_trap();  // more segments than bytes could make: a loop
    }
    envelopes.finish(reader.offset());
    sets.finish();
    if (sets.findings().size() > 1000 + sets.validatedSets() + sets.unknownSetCount()) __builtin_trap();  // bounded
    if (reader.bufferedBytes() > 2 * 1024 * 1024) __builtin_trap();  // memory must stay bounded
    return 0;
}
