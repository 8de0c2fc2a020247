#include "keel/edi/x12_dictionary.h"

#include "dictionaries_embedded.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace keel::edi {

bool CodeList::contains(std::string_view code) const {
    return std::binary_search(codes.begin(), codes.end(), code,
                              [](std::string_view a, std::string_view b) { return a < b; });
}

namespace {

std::vector<std::string_view> tokens(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

// The words from token `from` on, as written (names keep their spacing collapsed to one blank).
std::string rest(const std::vector<std::string_view>& t, std::size_t from) {
    std::string s;
    for (std::size_t i = from; i < t.size(); ++i) {
        if (!s.empty()) s += ' ';
        s += t[i];
    }
    return s;
}

bool digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool isCompositeId(std::string_view s) {
    return s.size() == 4 && s[0] == 'C' && digits(s.substr(1));
}

class Parser {
public:
    Parser(std::string file, std::string_view text) : file_(std::move(file)), text_(text) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw DictionaryError(file_ + ":" + std::to_string(line_) + ": " + what);
    }
    std::string where() const { return file_ + ":" + std::to_string(line_); }

    template <typename OnLine>
    void forEachLine(OnLine on_line) {
        std::size_t pos = 0;
        while (pos <= text_.size()) {
            std::size_t end = text_.find('\n', pos);
            if (end == std::string_view::npos) end = text_.size();
            std::string_view line = text_.substr(pos, end - pos);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            ++line_;
            const auto t = tokens(line);
            if (!t.empty() && t[0][0] != '#') on_line(t);
            pos = end + 1;
        }
    }

    unsigned line() const { return line_; }

    ElementDef element(const std::vector<std::string_view>& t) const {
        // REF NUMBER USAGE TYPE MIN/MAX NAME...   or   REF Cnnn USAGE NAME... (a composite)
        if (t.size() < 3) fail("expected 'REF NUMBER USAGE TYPE MIN/MAX NAME' or 'REF Cnnn USAGE NAME'");
        ElementDef e;
        e.reference = std::string(t[0]);
        e.number = std::string(t[1]);
        const std::string_view usage = t[2];
        if (usage.empty() || (usage[0] != 'M' && usage[0] != 'O' && usage[0] != 'X') ||
            (usage.size() > 1 && (usage[1] != '/' || !digits(usage.substr(2)) || usage.size() > 6))) {
            fail("usage '" + std::string(usage) + "' is not M, O or X, optionally with /REPEAT");
        }
        e.usage = usage[0];
        if (usage.size() > 1) e.repeat = static_cast<unsigned>(std::stoul(std::string(usage.substr(2))));
        if (e.repeat == 0) fail("repeat 0");
        if (isCompositeId(t[1])) {
            e.name = rest(t, 3);
            return e;
        }
        if (t.size() < 5) fail("element " + e.reference + ": expected TYPE and MIN/MAX after the usage");
        const std::string_view type = t[3];
        if (type == "AN") {
            e.type = ElementType::AN;
        } else if (type == "ID") {
            e.type = ElementType::ID;
        } else if (type == "R") {
            e.type = ElementType::R;
        } else if (type == "DT") {
            e.type = ElementType::DT;
        } else if (type == "TM") {
            e.type = ElementType::TM;
        } else if (type == "B") {
            e.type = ElementType::B;
        } else if (type.size() == 2 && type[0] == 'N' && digits(type.substr(1))) {
            e.type = ElementType::N;
            e.decimals = type[1] - '0';
        } else {
            fail("element " + e.reference + ": type '" + std::string(type) + "' is not AN, ID, R, DT, TM, B or N0-N9");
        }
        const std::string_view length = t[4];
        const auto slash = length.find('/');
        if (slash == std::string_view::npos || !digits(length.substr(0, slash)) || !digits(length.substr(slash + 1))) {
            fail("element " + e.reference + ": length '" + std::string(length) + "' is not MIN/MAX");
        }
        e.min_length = static_cast<unsigned>(std::stoul(std::string(length.substr(0, slash))));
        e.max_length = static_cast<unsigned>(std::stoul(std::string(length.substr(slash + 1))));
        if (e.min_length == 0 || e.min_length > e.max_length) fail("element " + e.reference + ": bad MIN/MAX");
        e.name = rest(t, 5);
        return e;
    }

    std::vector<SyntaxNote> notes(const std::vector<std::string_view>& t, std::size_t count) const {
        std::vector<SyntaxNote> out;
        for (std::size_t i = 1; i < t.size(); ++i) {
            const std::string_view n = t[i];
            SyntaxNote note;
            note.text = std::string(n);
            note.kind = n.empty() ? '?' : n[0];
            if (std::string_view("PRECL").find(note.kind) == std::string_view::npos || n.size() < 5 ||
                (n.size() - 1) % 2 != 0 || !digits(n.substr(1))) {
                fail("syntax note '" + std::string(n) + "': expected P, R, E, C or L and two-digit positions");
            }
            for (std::size_t p = 1; p < n.size(); p += 2) {
                const auto position = static_cast<unsigned>((n[p] - '0') * 10 + (n[p + 1] - '0'));
                if (position == 0 || position > count) {
                    fail("syntax note " + note.text + ": position " + std::to_string(position) + " is not defined");
                }
                note.positions.push_back(position);
            }
            out.push_back(std::move(note));
        }
        return out;
    }

private:
    std::string file_;
    std::string_view text_;
    unsigned line_ = 0;
};

void checkReference(const Parser& p, const ElementDef& e, std::string_view owner, std::size_t position) {
    std::string expected(owner);
    if (position < 10) expected += '0';
    expected += std::to_string(position);
    if (e.reference != expected) p.fail("expected element " + expected + ", found " + e.reference);
}

}  // namespace

void Dictionary::addText(const std::string& version, const std::string& file_name, std::string_view text) {
    if (version.size() != 6 || !digits(version)) {
        throw DictionaryError(file_name + ": version '" + version + "' is not six digits (e.g. 004010)");
    }
    auto& slot = versions_[version];
    if (!slot) slot = std::make_unique<Version>();
    Version& v = *slot;
    Parser p(file_name, text);

    enum class Block { None, Segment, Composite, Set };
    Block block = Block::None;
    SegmentDef* segment = nullptr;
    CompositeDef* composite = nullptr;
    TransactionSetDef* set = nullptr;
    std::vector<TableEntry*> loops;  // open loops of the current set, the set's pseudo loop first

    auto closeSet = [&] {
        if (block == Block::Set && loops.size() > 1) p.fail("loop " + loops.back()->id + " lacks its 'end'");
    };
    p.forEachLine([&](const std::vector<std::string_view>& t) {
        const std::string_view word = t[0];
        if (word == "segment" || word == "composite" || word == "set" || word == "codes") {
            closeSet();
            block = Block::None;
            if (t.size() < 2) p.fail("'" + std::string(word) + "' needs an id");
            const std::string id(t[1]);
            if (word == "segment") {
                if (v.segments.count(id) != 0)
                    p.fail("segment " + id + " defined twice (first at " + v.origin[id] + ")");
                segment = &v.segments[id];
                segment->id = id;
                segment->name = rest(t, 2);
                v.origin[id] = p.where();
                block = Block::Segment;
            } else if (word == "composite") {
                if (!isCompositeId(id)) p.fail("composite id '" + id + "' is not Cnnn");
                composite = &v.composites[id];
                *composite = CompositeDef{};
                composite->id = id;
                composite->name = rest(t, 2);
                block = Block::Composite;
            } else if (word == "set") {
                if (v.sets.count(id) != 0) p.fail("set " + id + " defined twice");
                set = &v.sets[id];
                set->id = id;
                set->version = version;
                set->name = rest(t, 2);
                set->table.loop = true;
                set->table.id = id;
                set->table.mandatory = true;
                set->table.line = p.line();
                loops.assign(1, &set->table);
                block = Block::Set;
            } else {
                // codes NUMBER [partial] CODE...; several lines for one element append
                auto& list = v.codes[id];
                std::size_t from = 2;
                if (t.size() > 2 && t[2] == "partial") {
                    list.partial = true;
                    from = 3;
                }
                for (std::size_t i = from; i < t.size(); ++i) list.codes.emplace_back(t[i]);
                std::sort(list.codes.begin(), list.codes.end());
                list.codes.erase(std::unique(list.codes.begin(), list.codes.end()), list.codes.end());
            }
            return;
        }
        switch (block) {
            case Block::None:
                p.fail("'" + std::string(word) + "' outside a segment, composite or set");
            case Block::Segment:
                if (word == "syntax") {
                    auto n = p.notes(t, segment->elements.size());
                    segment->notes.insert(segment->notes.end(), n.begin(), n.end());
                } else {
                    segment->elements.push_back(p.element(t));
                    checkReference(p, segment->elements.back(), segment->id, segment->elements.size());
                }
                return;
            case Block::Composite:
                if (word == "syntax") {
                    auto n = p.notes(t, composite->components.size());
                    composite->notes.insert(composite->notes.end(), n.begin(), n.end());
                } else {
                    composite->components.push_back(p.element(t));
                    if (isCompositeId(composite->components.back().number)) p.fail("a composite inside a composite");
                    checkReference(p, composite->components.back(), composite->id, composite->components.size());
                }
                return;
            case Block::Set: {
                if (word == "end") {
                    if (loops.size() < 2) p.fail("'end' without an open loop");
                    loops.pop_back();
                    return;
                }
                const bool is_loop = word == "loop";
                const std::size_t at = is_loop ? 1 : 0;
                if (t.size() != at + 3) p.fail(is_loop ? "expected 'loop ID M|O MAX'" : "expected 'SEGMENT M|O MAX'");
                TableEntry e;
                e.loop = is_loop;
                e.id = std::string(t[at]);
                if (t[at + 1] != "M" && t[at + 1] != "O")
                    p.fail("requirement '" + std::string(t[at + 1]) + "' is not M or O");
                e.mandatory = t[at + 1] == "M";
                const std::string_view max = t[at + 2];
                if (max == ">1") {
                    e.max_use = 0;
                } else if (digits(max) && max.size() < 9) {
                    e.max_use = static_cast<std::uint32_t>(std::stoul(std::string(max)));
                    if (e.max_use == 0) p.fail("max use 0");
                } else {
                    p.fail("max use '" + std::string(max) + "' is not a number or >1");
                }
                e.line = p.line();
                if (is_loop && e.id == "HL") set->hierarchical = true;
                TableEntry& parent = *loops.back();
                if (parent.loop && parent.children.empty() && &parent != &set->table &&
                    (is_loop || e.id != parent.id)) {
                    p.fail("loop " + parent.id + " must start with its trigger segment " + parent.id);
                }
                parent.children.push_back(std::move(e));
                if (is_loop) loops.push_back(&parent.children.back());
                return;
            }
        }
    });
    closeSet();
}

namespace {

void linkElements(std::vector<ElementDef>& elements, std::map<std::string, CompositeDef, std::less<>>& composites,
                  const std::map<std::string, CodeList, std::less<>>& codes, const std::string& owner) {
    for (auto& e : elements) {
        if (isCompositeId(e.number)) {
            const auto c = composites.find(e.number);
            if (c == composites.end()) {
                throw DictionaryError(owner + " " + e.reference + ": composite " + e.number + " is not defined");
            }
            e.composite = &c->second;
            continue;
        }
        const auto l = codes.find(e.number);
        if (l != codes.end()) e.codes = &l->second;
    }
}

void linkTable(TableEntry& entry, const std::map<std::string, SegmentDef, std::less<>>& segments,
               const TransactionSetDef& set) {
    if (!entry.loop || &entry != &set.table) {
        const auto s = segments.find(entry.id);
        if (s == segments.end()) {
            throw DictionaryError(set.version + "/" + set.id + " line " + std::to_string(entry.line) + ": segment " +
                                  entry.id + " is not defined in version " + set.version);
        }
        entry.segment = &s->second;
    }
    for (auto& child : entry.children) linkTable(child, segments, set);
}

}  // namespace

void Dictionary::link() {
    for (auto& [name, v] : versions_) {
        for (auto& [id, c] : v->composites) linkElements(c.components, v->composites, v->codes, name + " " + id);
        for (auto& [id, s] : v->segments) linkElements(s.elements, v->composites, v->codes, name + " " + id);
        for (auto& [id, set] : v->sets) {
            if (set.table.children.empty() || set.table.children.front().id != "ST" ||
                set.table.children.back().id != "SE") {
                throw DictionaryError(name + "/" + id + ": a set's table must start with ST and end with SE");
            }
            linkTable(set.table, v->segments, set);
        }
    }
}

const Dictionary::Version* Dictionary::version(std::string_view v) const {
    const auto it = versions_.find(v.substr(0, 6));
    return it == versions_.end() ? nullptr : it->second.get();
}

const TransactionSetDef* Dictionary::find(std::string_view v, std::string_view set_id) const {
    const Version* ver = version(v);
    if (ver == nullptr) return nullptr;
    const auto it = ver->sets.find(set_id);
    return it == ver->sets.end() ? nullptr : &it->second;
}

const SegmentDef* Dictionary::segment(std::string_view v, std::string_view id) const {
    const Version* ver = version(v);
    if (ver == nullptr) return nullptr;
    const auto it = ver->segments.find(id);
    return it == ver->segments.end() ? nullptr : &it->second;
}

std::vector<std::string> Dictionary::versions() const {
    std::vector<std::string> out;
    for (const auto& [name, v] : versions_) out.push_back(name);
    return out;
}

std::vector<std::string> Dictionary::sets(std::string_view v) const {
    std::vector<std::string> out;
    if (const Version* ver = version(v)) {
        for (const auto& [id, s] : ver->sets) out.push_back(id);
    }
    return out;
}

const Dictionary& Dictionary::builtIn() {
    static const Dictionary dictionary = [] {
        Dictionary d;
        for (std::size_t i = 0; i < detail::kEmbeddedDictionaryCount; ++i) {
            const auto& f = detail::kEmbeddedDictionaries[i];
            d.addText(f.version, std::string("edi/dictionaries/") + f.version + "/" + f.name, f.text);
        }
        d.link();
        return d;
    }();
    return dictionary;
}

Dictionary Dictionary::load(const std::filesystem::path& directory) {
    if (!std::filesystem::is_directory(directory)) {
        throw DictionaryError("dictionary directory '" + directory.string() +
                              "' does not exist; expected VERSION/*.x12d files below it (e.g. 004010/850.x12d)");
    }
    Dictionary d;
    std::vector<std::filesystem::path> files;
    for (const auto& version : std::filesystem::directory_iterator(directory)) {
        if (!version.is_directory()) continue;
        for (const auto& file : std::filesystem::directory_iterator(version.path())) {
            if (file.path().extension() == ".x12d") files.push_back(file.path());
        }
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
        throw DictionaryError("no VERSION/*.x12d file below '" + directory.string() + "' (e.g. 004010/850.x12d)");
    }
    for (const auto& path : files) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw DictionaryError("cannot read dictionary file '" + path.string() + "'");
        std::ostringstream text;
        text << in.rdbuf();
        d.addText(path.parent_path().filename().string(), path.string(), text.str());
    }
    d.link();
    return d;
}

}  // namespace keel::edi
