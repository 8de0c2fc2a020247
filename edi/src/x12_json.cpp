#include "keel/edi/x12_json.h"

#include <Poco/JSON/Array.h>

namespace keel::edi {

namespace {
std::string showDelimiter(char c) {
    return c == '\0' ? std::string() : std::string(1, c);
}
}  // namespace

Poco::JSON::Object::Ptr segmentToJson(const Segment& segment) {
    Poco::JSON::Object::Ptr json = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    json->set("id", std::string(segment.id()));
    json->set("number", static_cast<Poco::UInt64>(segment.number()));
    json->set("offset", static_cast<Poco::UInt64>(segment.offset()));
    Poco::JSON::Array::Ptr elements = new Poco::JSON::Array;
    for (std::size_t p = 1; p <= segment.elementCount(); ++p) elements->add(std::string(segment.element(p)));
    json->set("elements", elements);
    return json;
}

JsonTree x12ToJson(std::istream& in, const ReaderOptions& options) {
    JsonTree result;
    result.tree = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Array::Ptr interchanges = new Poco::JSON::Array;
    result.tree->set("interchanges", interchanges);
    Poco::JSON::Object::Ptr interchange;
    Poco::JSON::Object::Ptr group;
    Poco::JSON::Object::Ptr set;
    auto container = [](Poco::JSON::Object::Ptr parent, const std::string& key) {
        if (!parent->has(key)) parent->set(key, Poco::JSON::Array::Ptr(new Poco::JSON::Array));
        return parent->getArray(key);
    };
    X12Reader reader(in, options);
    for (;;) {
        const auto status = reader.next();
        if (status == X12Reader::Status::Error) {
            result.error = reader.error();
            break;
        }
        if (status == X12Reader::Status::End) break;
        const Segment& s = reader.segment();
        const auto json = segmentToJson(s);
        const std::string_view id = s.id();
        if (id == "ISA") {
            interchange = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            Poco::JSON::Object::Ptr delimiters = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            delimiters->set("element", showDelimiter(s.delimiters().element));
            delimiters->set("component", showDelimiter(s.delimiters().component));
            delimiters->set("repetition", showDelimiter(s.delimiters().repetition));
            delimiters->set("segment", showDelimiter(s.delimiters().segment));
            interchange->set("delimiters", delimiters);
            interchange->set("header", json);
            interchange->set("groups", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
            interchanges->add(interchange);
            group = set = nullptr;
        } else if (id == "GS" && interchange) {
            group = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            group->set("header", json);
            group->set("transaction_sets", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
            interchange->getArray("groups")->add(group);
            set = nullptr;
        } else if (id == "ST" && group) {
            set = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            set->set("header", json);
            set->set("segments", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
            group->getArray("transaction_sets")->add(set);
        } else if (id == "SE" && set) {
            set->set("trailer", json);
            set = nullptr;
        } else if (id == "GE" && group) {
            group->set("trailer", json);
            group = set = nullptr;
        } else if (id == "IEA" && interchange) {
            interchange->set("trailer", json);
            interchange = group = set = nullptr;
        } else if (set) {
            set->getArray("segments")->add(json);
        } else {
            // Outside the envelope that should hold it: kept where it was found (validate reports it).
            Poco::JSON::Object::Ptr parent = group ? group : interchange ? interchange : result.tree;
            container(parent, "stray_segments")->add(json);
        }
    }
    return result;
}

}  // namespace keel::edi
