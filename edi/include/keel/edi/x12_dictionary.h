#pragma once
// Transaction-set dictionaries: what each X12 version says a transaction set may contain (segments in order with
// their use and repeat counts, loops, elements with type and length, code lists, syntax notes). Read from the
// text files of edi/dictionaries (compiled into the library, or loaded from a directory that overrides them);
// the format is described in docs/edi.md.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace keel::edi {

/// A dictionary file that cannot be used: the message names the file and line and what was expected.
class DictionaryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// X12 data element types. N carries its implied decimals (N0, N2) in ElementDef::decimals.
enum class ElementType { AN, ID, N, R, DT, TM, B };

/// A code list of one data element. A partial list holds the codes in common use of a list too long to
/// transcribe (REF01, DTM01, N101): a value outside it is a warning, not an error.
struct CodeList {
    std::vector<std::string> codes;  ///< sorted
    bool partial = false;
    bool contains(std::string_view code) const;
};

struct CompositeDef;

/// One element (or component) position of a segment (or composite).
struct ElementDef {
    std::string reference;  ///< e.g. "BEG01" or "C00101"
    std::string number;     ///< data element number ("353") or composite id ("C001")
    char usage = 'O';       ///< M mandatory, O optional, X conditional (the syntax notes decide)
    unsigned repeat = 1;    ///< maximum repetitions (005010 repeating elements, "M/10" in the files)
    ElementType type = ElementType::AN;
    int decimals = 0;  ///< implied decimals of an N type
    unsigned min_length = 1;
    unsigned max_length = 1;
    std::string name;
    const CodeList* codes = nullptr;          ///< set when the dictionary has a list for `number`
    const CompositeDef* composite = nullptr;  ///< set when `number` is a composite
};

/// A syntax note: P paired, R at least one, E at most one, C if the first then all others, L if the first then
/// at least one of the others. Positions are 1-based element (or component) positions.
struct SyntaxNote {
    char kind = 'P';
    std::vector<unsigned> positions;
    std::string text;  ///< as written, e.g. "P0607"
};

struct CompositeDef {
    std::string id;
    std::string name;
    std::vector<ElementDef> components;
    std::vector<SyntaxNote> notes;
};

struct SegmentDef {
    std::string id;
    std::string name;
    std::vector<ElementDef> elements;
    std::vector<SyntaxNote> notes;
};

/// A position of a transaction-set table: a segment, or a loop whose first child is its trigger segment.
struct TableEntry {
    bool loop = false;
    std::string id;                       ///< segment id, or the loop id (its trigger segment's id)
    bool mandatory = false;               ///< M (else O)
    std::uint32_t max_use = 1;            ///< segment max use or loop repeat; 0 is unbounded (">1")
    const SegmentDef* segment = nullptr;  ///< for a segment; for a loop, its trigger segment
    std::vector<TableEntry> children;     ///< loop contents, trigger first
    unsigned line = 0;
};

struct TransactionSetDef {
    std::string id;       ///< "850"
    std::string version;  ///< "004010"
    std::string name;
    TableEntry table;           ///< a pseudo loop holding the whole set, ST first and SE last
    bool hierarchical = false;  ///< has an HL loop: HL01 sequence and HL02 parents are checked
};

/// All versions' dictionaries. Immutable once loaded; share one between validators (it is read-only).
class Dictionary {
public:
    /// The dictionaries compiled into the library from edi/dictionaries.
    static const Dictionary& builtIn();
    /// Reads every VERSION/*.x12d below `directory` (e.g. 004010/850.x12d). Throws DictionaryError.
    static Dictionary load(const std::filesystem::path& directory);

    Dictionary() = default;
    Dictionary(Dictionary&&) = default;
    Dictionary& operator=(Dictionary&&) = default;
    Dictionary(const Dictionary&) = delete;
    Dictionary& operator=(const Dictionary&) = delete;

    /// Adds one file's text for `version` (segments, composites, codes and sets may be in any of them).
    void addText(const std::string& version, const std::string& file_name, std::string_view text);
    /// Resolves references between files (segments of tables, composites, code lists); throws DictionaryError.
    void link();

    /// The set of `version` ("004010"; a GS08 such as "004010VICS" is matched by its first six characters).
    const TransactionSetDef* find(std::string_view version, std::string_view set_id) const;
    const SegmentDef* segment(std::string_view version, std::string_view id) const;
    std::vector<std::string> versions() const;
    std::vector<std::string> sets(std::string_view version) const;

private:
    struct Version {
        std::map<std::string, SegmentDef, std::less<>> segments;
        std::map<std::string, CompositeDef, std::less<>> composites;
        std::map<std::string, CodeList, std::less<>> codes;
        std::map<std::string, TransactionSetDef, std::less<>> sets;
        std::map<std::string, std::string, std::less<>> origin;  // segment/set id -> file:line, for errors
    };
    const Version* version(std::string_view v) const;
    std::map<std::string, std::unique_ptr<Version>, std::less<>> versions_;
};

}  // namespace keel::edi
