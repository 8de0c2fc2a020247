#pragma once
// The JSON tree of an X12 input (interchanges > groups > transaction sets > segments with raw elements), for
// `keel edi parse` and for people reading a partner's file. Building a tree holds the whole input in memory
// as JSON: use X12Reader directly for large files.

#include "keel/edi/x12_reader.h"

#include <Poco/JSON/Object.h>

#include <iosfwd>
#include <optional>

namespace keel::edi {

struct JsonTree {
    Poco::JSON::Object::Ptr tree;     ///< {"interchanges": [...]}: everything read before any error
    std::optional<ParseError> error;  ///< why reading stopped early, if it did
};

/// One segment as JSON: {"id", "number", "offset", "elements": [raw text...]} (elements are not split).
Poco::JSON::Object::Ptr segmentToJson(const Segment& segment);

JsonTree x12ToJson(std::istream& in, const ReaderOptions& options = {});

}  // namespace keel::edi
