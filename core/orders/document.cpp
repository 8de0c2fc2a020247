#include "keel/orders/document.h"

#include "keel/kernel/utf8.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/ParseHandler.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <map>
#include <set>
#include <span>
#include <utility>

namespace keel::orders {

std::string_view toString(CustomerKind kind) {
    switch (kind) {
        case CustomerKind::kB2C:
            return "b2c";
        case CustomerKind::kB2B:
            return "b2b";
    }
    return "unknown";
}

std::string_view toString(PaymentStatus status) {
    switch (status) {
        case PaymentStatus::kPending:
            return "pending";
        case PaymentStatus::kAuthorized:
            return "authorized";
        case PaymentStatus::kCaptured:
            return "captured";
    }
    return "unknown";
}

namespace {

using Poco::Dynamic::Var;
using Poco::JSON::Object;

// Limits of version 1 of the document. docs/order.schema.json states the same numbers; change both together.
constexpr std::size_t kMaxDocumentBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxLines = 1000;
constexpr std::int64_t kMaxQuantity = 1'000'000'000;
constexpr std::int64_t kMaxPriority = 1000;
constexpr std::size_t kMaxIdLength = 64;      // channel, external_id, customer.id, line_id, shipping.service
constexpr std::size_t kMaxSkuLength = 128;    // a SKU, a channel's alias or a GTIN (catalog's channel SKU limit)
constexpr std::size_t kMaxEmailLength = 254;  // RFC 5321 path limit
constexpr std::size_t kMaxUomLength = 16;     // catalog's unit names
constexpr std::size_t kMaxAmountLength = 40;  // more than any int64 amount needs, bounds the work per amount
constexpr std::size_t kMaxNotesLength = 2000;
// The document is three levels deep; extensions get some room, but not enough to exhaust the stack while Poco
// builds and destroys nested values.
constexpr std::size_t kMaxJsonDepth = 32;
// A 4 MiB document of typos could otherwise produce hundreds of thousands of problems.
constexpr std::size_t kMaxProblems = 1000;
// How much of an offending value a message quotes.
constexpr std::size_t kQuoteLimit = 40;

// ----------------------------------------------------------------------------------------------------------------
// UTF-8 and characters

// Code points of valid UTF-8, which is what JSON Schema's maxLength counts.
std::size_t characterCount(std::string_view text) {
    return static_cast<std::size_t>(
        std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

// C0, DEL and C1: the schema's [\u0000-\u001f\u007f-\u009f].
using utf8::isControl;

// The non-control members of ECMAScript's \s, so that the schema's patterns mean exactly what this file checks.
bool isSpace(char32_t c) {
    return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
           c == 0x202f || c == 0x205f || c == 0x3000 || c == 0xfeff;
}

std::string hexByte(unsigned char byte) {
    static constexpr char kHex[] = "0123456789abcdef";
    return {kHex[byte >> 4], kHex[byte & 0xf]};
}

// The value between single quotes for a message: escaped so that control characters and broken bytes stay
// visible, and cut after kQuoteLimit characters so a megabyte of garbage does not become a megabyte of message.
std::string quote(std::string_view text) {
    std::string out = "'";
    std::size_t characters = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (characters == kQuoteLimit) break;
        ++characters;
        const utf8::Decoded decoded = utf8::decode(text, pos);
        if (decoded.length == 0) {
            out += "\\x" + hexByte(static_cast<unsigned char>(text[pos]));
            ++pos;
            continue;
        }
        const char32_t c = decoded.code_point;
        if (c == '\'' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (isControl(c) || (isSpace(c) && c != ' ') || (c >= 0x200b && c <= 0x200f) || c == 0x2060) {
            // Invisible characters are the usual culprits, so the message shows them.
            out += "\\u" + hexByte(static_cast<unsigned char>(c >> 8)) + hexByte(static_cast<unsigned char>(c & 0xff));
        } else {
            out.append(text.substr(pos, decoded.length));
        }
        pos += decoded.length;
    }
    if (pos < text.size()) out += "...";
    out += '\'';
    return out;
}

std::string trimSpaces(std::string_view text) {
    const auto first = text.find_first_not_of(' ');
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(' ');
    return std::string(text.substr(first, last - first + 1));
}

enum class TextKind {
    kIdentifier,  ///< no control characters, no whitespace at either end (ids are compared byte for byte)
    kLine,        ///< no control characters
    kMultiLine,   ///< no control characters except tab, line feed and carriage return
};

// Why `text` breaks the character rules of `kind`, or nullopt.
std::optional<std::string> characterProblem(std::string_view text, TextKind kind) {
    std::size_t position = 0;
    char32_t first = 0;
    char32_t last = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        const utf8::Decoded decoded = utf8::decode(text, pos);
        if (decoded.length == 0)
            return "is not valid UTF-8 (byte 0x" + hexByte(static_cast<unsigned char>(text[pos])) + ")";
        ++position;
        const char32_t c = decoded.code_point;
        const bool allowed_break = kind == TextKind::kMultiLine && (c == '\t' || c == '\n' || c == '\r');
        if (isControl(c) && !allowed_break) {
            return "contains a control character (U+00" + hexByte(static_cast<unsigned char>(c)) + ") at character " +
                   std::to_string(position);
        }
        if (position == 1) first = c;
        last = c;
        pos += decoded.length;
    }
    if (kind == TextKind::kIdentifier && position > 0 && (isSpace(first) || isSpace(last))) {
        return std::string("starts or ends with whitespace; identifiers are compared exactly, so remove it");
    }
    return std::nullopt;
}

// The first byte of `text` that is not UTF-8, as "line L, column C", or nullopt.
std::optional<std::string> invalidUtf8Position(std::string_view text) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t pos = 0; pos < text.size();) {
        const utf8::Decoded decoded = utf8::decode(text, pos);
        if (decoded.length == 0) {
            return "byte 0x" + hexByte(static_cast<unsigned char>(text[pos])) + " at line " + std::to_string(line) +
                   ", column " + std::to_string(column) + " (byte offset " + std::to_string(pos) + ")";
        }
        if (decoded.code_point == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
        pos += decoded.length;
    }
    return std::nullopt;
}

// ----------------------------------------------------------------------------------------------------------------
// JSON paths and values

std::string memberPath(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string elementPath(const std::string& parent, std::size_t index) {
    return parent + "[" + std::to_string(index) + "]";
}

bool isExtensionKey(std::string_view key) {
    return key.starts_with("x_");
}

bool isObject(const Var& value) {
    return value.type() == typeid(Object::Ptr);
}
bool isArray(const Var& value) {
    return value.type() == typeid(Poco::JSON::Array::Ptr);
}
// Poco reports fractions and exponents (2.5, 2.0, 1e2) as double; that type is only ever inspected, never read.
bool isFractionalNumber(const Var& value) {
    return value.type() == typeid(double) || value.type() == typeid(float);
}

// Integers exactly as Poco read them (Int64, or UInt64 above the Int64 range); nullopt for every other type.
// Poco also calls a boolean an integer, hence the first test.
std::optional<Int128> integerValue(const Var& value) {
    if (value.isEmpty() || value.isBoolean() || !value.isInteger()) return std::nullopt;
    if (value.isSigned()) return static_cast<Int128>(value.convert<Poco::Int64>());
    return static_cast<Int128>(value.convert<Poco::UInt64>());
}

std::string integerText(Int128 value) {
    if (value < 0) return std::to_string(static_cast<std::int64_t>(value));
    return std::to_string(static_cast<std::uint64_t>(value));
}

// What a value is, for "must be a string, got ..." messages.
std::string describe(const Var& value) {
    if (value.isEmpty()) return "null";
    if (value.isBoolean()) return value.extract<bool>() ? "true" : "false";
    if (const auto integer = integerValue(value)) return "the number " + integerText(*integer);
    if (isFractionalNumber(value)) return "a number with a fraction or exponent";
    if (value.isString()) return "the string " + quote(value.extract<std::string>());
    if (isObject(value)) return "an object";
    if (isArray(value)) return "an array";
    return "a value of an unexpected type";
}

// Poco's ParseHandler, plus what Poco forgets: where in the document it is (for a useful message when the JSON
// turns out to be malformed) and repeated keys, which Poco silently resolves to the last value. A document with
// two "unit_price" keys means different things to different readers, so it is refused rather than guessed at.
class TrackingHandler : public Poco::JSON::ParseHandler {
public:
    struct Duplicate {
        std::string path;
        std::string key;
    };

    void reset() override {
        ParseHandler::reset();
        frames_.clear();
        duplicates_.clear();
        last_path_.clear();
    }
    void startObject() override {
        pushFrame(false);
        ParseHandler::startObject();
    }
    void endObject() override {
        frames_.pop_back();
        ParseHandler::endObject();
    }
    void startArray() override {
        pushFrame(true);
        ParseHandler::startArray();
    }
    void endArray() override {
        frames_.pop_back();
        ParseHandler::endArray();
    }
    void key(const std::string& k) override {
        Frame& frame = frames_.back();
        // Extensions are opaque to Keel, so how a channel repeats keys inside them is its own business.
        if (!frame.extension && !isExtensionKey(k) && !frame.keys.insert(k).second) {
            duplicates_.push_back({memberPath(frame.path, k), k});
        }
        frame.key = k;
        last_path_ = memberPath(frame.path, k);
        ParseHandler::key(k);
    }
    void null() override {
        beginValue();
        ParseHandler::null();
    }
    void value(int v) override {
        beginValue();
        ParseHandler::value(v);
    }
    void value(unsigned v) override {
        beginValue();
        ParseHandler::value(v);
    }
    void value(Poco::Int64 v) override {
        beginValue();
        ParseHandler::value(v);
    }
    void value(Poco::UInt64 v) override {
        beginValue();
        ParseHandler::value(v);
    }
    void value(const std::string& s) override {
        beginValue();
        ParseHandler::value(s);
    }
    void value(double d) override {
        beginValue();
        ParseHandler::value(d);
    }
    void value(bool b) override {
        beginValue();
        ParseHandler::value(b);
    }

    const std::vector<Duplicate>& duplicates() const { return duplicates_; }
    /// The path of the last key or value read: where a syntax error is.
    const std::string& lastPath() const { return last_path_; }

private:
    struct Frame {
        bool array = false;
        bool extension = false;  ///< inside the value of an x_ key
        std::string path;
        std::size_t next_index = 0;
        std::string key;
        std::set<std::string> keys;
    };

    // Advances the enclosing array and returns the path of the value that starts now.
    std::string beginValue() {
        if (frames_.empty()) {
            last_path_.clear();
        } else {
            Frame& parent = frames_.back();
            last_path_ =
                parent.array ? elementPath(parent.path, parent.next_index++) : memberPath(parent.path, parent.key);
        }
        return last_path_;
    }

    void pushFrame(bool array) {
        Frame frame;
        frame.array = array;
        if (!frames_.empty()) {
            const Frame& parent = frames_.back();
            frame.extension = parent.extension || (!parent.array && isExtensionKey(parent.key));
        }
        frame.path = beginValue();
        frames_.push_back(std::move(frame));
    }

    std::vector<Frame> frames_;
    std::vector<Duplicate> duplicates_;
    std::string last_path_;
};

// ----------------------------------------------------------------------------------------------------------------
// The reader: walks the parsed JSON, fills the document and collects every problem on the way.

enum class Presence { kOptional, kRequired };

constexpr std::array<std::string_view, 16> kTopLevelKeys = {
    "type",  "version",  "channel", "external_id", "currency",     "customer",      "ship_to",         "bill_to",
    "lines", "shipping", "payment", "priority",    "promise_date", "ship_complete", "allow_backorder", "notes"};
constexpr std::array<std::string_view, 4> kCustomerKeys = {"id", "email", "name", "type"};
constexpr std::array<std::string_view, 8> kAddressKeys = {"name",   "line1",       "line2",   "city",
                                                          "region", "postal_code", "country", "phone"};
constexpr std::array<std::string_view, 6> kLineKeys = {"line_id", "sku", "quantity", "uom", "unit_price", "discount"};
constexpr std::array<std::string_view, 2> kShippingKeys = {"amount", "service"};
constexpr std::array<std::string_view, 1> kPaymentKeys = {"status"};

class Reader {
public:
    explicit Reader(std::vector<Problem>& problems) : problems_(problems) {}

    void add(const std::string& field, std::string message) {
        if (problems_.size() < kMaxProblems) {
            problems_.push_back(reject(std::move(message), field));
        } else {
            ++unlisted_;
        }
    }

    void finish() {
        if (unlisted_ > 0) {
            problems_.push_back(
                reject("and " + std::to_string(unlisted_) + " more problems not listed; fix these first", ""));
        }
    }

    bool hasProblems() const { return !problems_.empty(); }

    // Refuses keys this version does not define: a misspelt optional field would otherwise be silently ignored.
    void checkKeys(const Object& object, const std::string& path, std::span<const std::string_view> known) {
        for (auto it = object.begin(); it != object.end(); ++it) {
            const std::string& key = it->first;
            if (isExtensionKey(key) || std::find(known.begin(), known.end(), key) != known.end()) continue;
            add(memberPath(path, key),
                "unknown field " + quote(key) + " (a typo? channel extensions must start with \"x_\")");
        }
    }

    // The member `key`, or nullopt when it is absent (a problem when required) or null (always a problem).
    std::optional<Var> member(const Object& object, const std::string& path, std::string_view key, Presence presence,
                              std::string_view missing_hint = {}) {
        const std::string name(key);
        const std::string field = memberPath(path, key);
        if (!object.has(name)) {
            if (presence == Presence::kRequired) {
                add(field, missing_hint.empty() ? "is missing" : "is missing; " + std::string(missing_hint));
            }
            return std::nullopt;
        }
        Var value = object.get(name);
        if (value.isEmpty()) {
            add(field, presence == Presence::kRequired ? "is null; it must have a value"
                                                       : "is null; omit the field when it has no value");
            return std::nullopt;
        }
        return value;
    }

    std::optional<std::string> asString(const Var& value, const std::string& field) {
        if (!value.isString()) {
            add(field, "must be a string, got " + describe(value));
            return std::nullopt;
        }
        return value.extract<std::string>();
    }

    std::optional<std::int64_t> asInteger(const Var& value, const std::string& field, std::int64_t min,
                                          std::int64_t max) {
        const std::string range = "from " + std::to_string(min) + " to " + std::to_string(max);
        const auto integer = integerValue(value);
        if (!integer) {
            if (isFractionalNumber(value)) {
                add(field, "must be a whole number " + range + ", not a number with a fraction or exponent");
            } else {
                add(field, "must be a JSON integer " + range + ", got " + describe(value));
            }
            return std::nullopt;
        }
        if (*integer < min || *integer > max) {
            add(field, integerText(*integer) + " is out of range; it must be " + range);
            return std::nullopt;
        }
        return static_cast<std::int64_t>(*integer);
    }

    std::optional<bool> asBoolean(const Var& value, const std::string& field) {
        if (!value.isBoolean()) {
            add(field, "must be true or false (a JSON boolean), got " + describe(value));
            return std::nullopt;
        }
        return value.extract<bool>();
    }

    Object::Ptr asObject(const Var& value, const std::string& field) {
        if (!isObject(value)) {
            add(field, "must be an object, got " + describe(value));
            return nullptr;
        }
        return value.extract<Object::Ptr>();
    }

    // A string whose length is counted on the value as written (as the schema's maxLength does), then checked for
    // characters; nullopt after a problem.
    std::optional<std::string> text(const Var& value, const std::string& field, std::size_t min_length,
                                    std::size_t max_length, TextKind kind) {
        auto raw = asString(value, field);
        if (!raw) return std::nullopt;
        if (auto problem = characterProblem(*raw, kind)) {
            add(field, quote(*raw) + " " + *problem);
            return std::nullopt;
        }
        const std::size_t length = characterCount(*raw);
        if (length < min_length) {
            add(field, "is empty");
            return std::nullopt;
        }
        if (length > max_length) {
            add(field, quote(*raw) + " is too long: " + std::to_string(length) + " characters, at most " +
                           std::to_string(max_length));
            return std::nullopt;
        }
        return raw;
    }

    // An optional free-text member: trimmed of spaces, "" when absent or after a problem.
    std::string freeText(const Object& object, const std::string& path, std::string_view key, std::size_t max_length,
                         TextKind kind = TextKind::kLine) {
        const auto value = member(object, path, key, Presence::kOptional);
        if (!value) return {};
        const auto raw = text(*value, memberPath(path, key), 0, max_length, kind);
        return raw ? trimSpaces(*raw) : std::string();
    }

    // An identifier member, "" when absent or after a problem.
    std::string identifier(const Object& object, const std::string& path, std::string_view key, Presence presence,
                           std::size_t max_length, std::string_view missing_hint = {}) {
        const auto value = member(object, path, key, presence, missing_hint);
        if (!value) return {};
        return text(*value, memberPath(path, key), 1, max_length, TextKind::kIdentifier).value_or("");
    }

    // An amount: a JSON string holding a non-negative decimal, exact in `currency` (nullptr when the document's
    // currency is unusable: then only the syntax can be checked).
    std::optional<Money> amount(const Var& value, const std::string& field, const Currency* currency) {
        if (!value.isString()) {
            if (value.isInteger() && !value.isBoolean()) {
                add(field, "must be a string like \"19.99\", not the number " + integerText(*integerValue(value)) +
                               ", so it is exact");
            } else if (isFractionalNumber(value)) {
                add(field, "must be a string like \"19.99\", not a number, so it is exact");
            } else {
                add(field, "must be a string like \"19.99\", got " + describe(value));
            }
            return std::nullopt;
        }
        const std::string& raw = value.extract<std::string>();
        if (raw.size() > kMaxAmountLength) {
            add(field, quote(raw) + " is too long for an amount (at most " + std::to_string(kMaxAmountLength) +
                           " characters)");
            return std::nullopt;
        }
        if (raw.starts_with('-')) {
            add(field, quote(raw) + " is negative; it must be zero or more");
            return std::nullopt;
        }
        try {
            if (currency == nullptr) {
                static_cast<void>(Decimal::parse(raw));
                return std::nullopt;
            }
            // The rounding parse only fails on syntax and range; once it passed, a failure of the exact parse can
            // only mean digits the currency does not have, which deserves words a channel developer understands.
            static_cast<void>(Money::parse(raw, *currency, RoundingMode::kDown));
            try {
                return Money::parse(raw, *currency);
            } catch (const RejectedError&) {
                add(field, quote(raw) + " has more decimal places than " + std::string(currency->code()) +
                               " allows (at most " + std::to_string(currency->exponent()) + ")");
                return std::nullopt;
            }
        } catch (const RejectedError& error) {
            add(field, error.what());
            return std::nullopt;
        }
    }

    Address address(const Object& object, const std::string& path) {
        checkKeys(object, path, kAddressKeys);
        Address result;
        result.name = freeText(object, path, "name", 200);
        result.line1 = freeText(object, path, "line1", 200);
        result.line2 = freeText(object, path, "line2", 200);
        result.city = freeText(object, path, "city", 100);
        result.region = freeText(object, path, "region", 64);
        result.postal_code = freeText(object, path, "postal_code", 32);
        result.phone = freeText(object, path, "phone", 32);
        // Completeness is intake's business (it holds the order); here only the form: two letters, any case.
        if (const auto value = member(object, path, "country", Presence::kOptional)) {
            const std::string field = memberPath(path, "country");
            if (const auto raw = asString(*value, field)) {
                std::string country = trimSpaces(*raw);
                const bool letters = std::all_of(country.begin(), country.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
                });
                if (!country.empty() && (country.size() != 2 || !letters)) {
                    add(field, quote(*raw) +
                                   " is not a country code; use the two letters of ISO 3166-1 alpha-2, e.g. US or DE");
                } else {
                    std::transform(country.begin(), country.end(), country.begin(),
                                   [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
                    result.country = std::move(country);
                }
            }
        }
        return result;
    }

    CustomerRef customer(const Object& object, const std::string& path) {
        checkKeys(object, path, kCustomerKeys);
        CustomerRef result;
        result.id = identifier(object, path, "id", Presence::kOptional, kMaxIdLength);
        if (const auto value = member(object, path, "email", Presence::kOptional)) {
            const std::string field = memberPath(path, "email");
            if (const auto raw = text(*value, field, 0, kMaxEmailLength, TextKind::kLine)) {
                std::string email = trimSpaces(*raw);
                const auto at = email.find('@');
                bool has_space = false;
                for (std::size_t pos = 0; pos < email.size();) {
                    const utf8::Decoded decoded = utf8::decode(email, pos);
                    has_space = has_space || isSpace(decoded.code_point);
                    pos += decoded.length;
                }
                if (at == std::string::npos || at == 0 || at + 1 == email.size() ||
                    email.find('@', at + 1) != std::string::npos) {
                    add(field,
                        quote(*raw) + " is not an email address: it needs exactly one '@' with text on both sides");
                } else if (has_space) {
                    add(field, quote(*raw) + " is not an email address: it contains whitespace");
                } else {
                    result.email = std::move(email);
                }
            }
        }
        result.name = freeText(object, path, "name", 200);
        if (const auto value = member(object, path, "type", Presence::kOptional)) {
            const std::string field = memberPath(path, "type");
            if (const auto raw = asString(*value, field)) {
                if (*raw == "b2c") {
                    result.kind = CustomerKind::kB2C;
                } else if (*raw == "b2b") {
                    result.kind = CustomerKind::kB2B;
                } else {
                    add(field, quote(*raw) + " is not a customer type; use \"b2c\" (the default) or \"b2b\"");
                }
            }
        }
        if (!object.has("id") && !object.has("email")) {
            add(path, "has neither an id nor an email; give at least one so the order can be linked to a customer");
        }
        return result;
    }

    OrderLineDoc line(const Object& object, const std::string& path, const Currency* currency) {
        checkKeys(object, path, kLineKeys);
        OrderLineDoc result;
        if (currency != nullptr) result.discount = Money::zero(*currency);
        result.line_id = identifier(object, path, "line_id", Presence::kOptional, kMaxIdLength);
        result.sku = identifier(object, path, "sku", Presence::kRequired, kMaxSkuLength,
                                "every line names its item by SKU, channel alias or GTIN");
        if (const auto value = member(object, path, "quantity", Presence::kRequired, "every line has a quantity")) {
            result.quantity = asInteger(*value, memberPath(path, "quantity"), 1, kMaxQuantity).value_or(0);
        }
        if (const auto value = member(object, path, "uom", Presence::kOptional)) {
            const std::string field = memberPath(path, "uom");
            if (const auto raw = asString(*value, field)) {
                const bool word = !raw->empty() && raw->size() <= kMaxUomLength && raw->front() >= 'a' &&
                                  raw->front() <= 'z' && std::all_of(raw->begin(), raw->end(), [](char c) {
                                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                                  });
                if (word) {
                    result.uom = *raw;
                } else {
                    add(field, quote(*raw) + " is not a unit name; use a lowercase word of at most " +
                                   std::to_string(kMaxUomLength) +
                                   " letters, digits and '_' starting with a letter (each, case, kg), or omit it "
                                   "for the base unit");
                }
            }
        }
        std::optional<Money> discount;
        if (const auto value = member(object, path, "unit_price", Presence::kOptional)) {
            result.unit_price = amount(*value, memberPath(path, "unit_price"), currency);
        }
        if (const auto value = member(object, path, "discount", Presence::kOptional)) {
            discount = amount(*value, memberPath(path, "discount"), currency);
            if (discount) result.discount = *discount;
        }
        if (discount && result.unit_price && result.quantity > 0) {
            // 128 bits: price x quantity cannot overflow before the comparison.
            const Int128 total = static_cast<Int128>(result.unit_price->minor()) * result.quantity;
            if (static_cast<Int128>(discount->minor()) > total) {
                // total < discount <= INT64_MAX, so it fits.
                const Money line_total(static_cast<std::int64_t>(total), *currency);
                add(memberPath(path, "discount"), quote(discount->toString()) + " exceeds the line's total " +
                                                      result.unit_price->toString() + " x " +
                                                      std::to_string(result.quantity) + " = " + line_total.toString());
            }
        }
        return result;
    }

private:
    std::vector<Problem>& problems_;
    std::size_t unlisted_ = 0;
};

// Reads type and version first. Returns false when the document is something this keel does not read, in which
// case its other fields follow other rules and checking them would only bury the one problem that matters.
bool readPreamble(Reader& reader, const Object& root) {
    bool readable = true;
    if (const auto value = reader.member(root, "", "type", Presence::kRequired, "it must be \"order\"")) {
        if (const auto type = reader.asString(*value, "type"); type && *type != "order") {
            reader.add("type", quote(*type) + " is not an order document; \"type\" must be \"order\"");
            readable = false;
        }
    }
    if (const auto value = reader.member(root, "", "version", Presence::kRequired, "this keel reads version 1")) {
        const auto version = integerValue(*value);
        if (!version) {
            reader.add("version", "must be the integer 1, got " + describe(*value));
        } else if (*version != 1) {
            reader.add("version", "version " + integerText(*version) + " is not supported; this keel reads version 1");
            readable = false;
        }
    }
    return readable;
}

std::optional<OrderDocument> readDocument(Reader& reader, const Object& root) {
    if (!readPreamble(reader, root)) return std::nullopt;
    reader.checkKeys(root, "", kTopLevelKeys);

    OrderDocument document;
    if (const auto value =
            reader.member(root, "", "channel", Presence::kRequired, "name the sales channel, e.g. web")) {
        if (const auto channel = reader.asString(*value, "channel")) {
            const bool valid = !channel->empty() && channel->size() <= kMaxIdLength &&
                               std::all_of(channel->begin(), channel->end(), [](char c) {
                                   return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                          c == '_' || c == '.' || c == '-';
                               });
            if (valid) {
                document.channel = *channel;
            } else {
                reader.add("channel", quote(*channel) + " is not a channel name; use 1 to " +
                                          std::to_string(kMaxIdLength) + " letters, digits, '_', '.' or '-'");
            }
        }
    }
    document.external_id = reader.identifier(root, "", "external_id", Presence::kRequired, kMaxIdLength,
                                             "give the channel's order number, which identifies re-sends");

    const Currency* currency = nullptr;
    if (const auto value =
            reader.member(root, "", "currency", Presence::kRequired, "give an ISO 4217 code, e.g. USD")) {
        if (const auto code = reader.asString(*value, "currency")) {
            if (Currency::find(*code)) {
                currency = &Currency::of(*code);
            } else {
                std::string upper = *code;
                std::transform(upper.begin(), upper.end(), upper.begin(),
                               [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; });
                const std::string hint =
                    upper != *code && Currency::find(upper) ? " (did you mean " + quote(upper) + "?)" : "";
                reader.add("currency", quote(*code) + " is not an ISO 4217 currency code Keel knows" + hint);
            }
        }
    }
    document.currency = currency;
    if (currency != nullptr) document.shipping_amount = Money::zero(*currency);

    if (const auto value =
            reader.member(root, "", "customer", Presence::kRequired, "give the customer's id or email")) {
        if (const auto object = reader.asObject(*value, "customer"))
            document.customer = reader.customer(*object, "customer");
    }
    if (const auto value =
            reader.member(root, "", "ship_to", Presence::kRequired,
                          "give the shipping address (an incomplete one is held by intake, not refused)")) {
        if (const auto object = reader.asObject(*value, "ship_to"))
            document.ship_to = reader.address(*object, "ship_to");
    }
    if (const auto value = reader.member(root, "", "bill_to", Presence::kOptional)) {
        if (const auto object = reader.asObject(*value, "bill_to"))
            document.bill_to = reader.address(*object, "bill_to");
    }

    if (const auto value = reader.member(root, "", "lines", Presence::kRequired, "an order has at least one line")) {
        if (!isArray(*value)) {
            reader.add("lines", "must be an array of line objects, got " + describe(*value));
        } else {
            const auto lines = value->extract<Poco::JSON::Array::Ptr>();
            if (lines->size() == 0) reader.add("lines", "is empty; an order has at least one line");
            if (lines->size() > kMaxLines) {
                reader.add("lines", "has " + std::to_string(lines->size()) + " lines; at most " +
                                        std::to_string(kMaxLines) + " fit in one order, split it");
            }
            // Lines without a line_id get their position; refused lines keep their place so paths stay right.
            std::vector<std::size_t> unnamed;
            for (std::size_t i = 0; i < lines->size(); ++i) {
                const std::string path = elementPath("lines", i);
                const auto object = reader.asObject(lines->get(static_cast<unsigned>(i)), path);
                document.lines.push_back(object ? reader.line(*object, path, currency) : OrderLineDoc{});
                if (object && !object->has("line_id")) unnamed.push_back(i);
            }
            // Explicit ids first, so that a position-assigned id that collides is the one reported.
            std::map<std::string, std::size_t> owners;
            for (std::size_t i = 0; i < document.lines.size(); ++i) {
                const auto& line = document.lines[i];
                if (line.line_id.empty()) continue;  // absent (assigned below) or refused (already reported)
                const auto [owner, inserted] = owners.emplace(line.line_id, i);
                if (!inserted) {
                    reader.add(elementPath("lines", i) + ".line_id", quote(line.line_id) + " is also the line_id of " +
                                                                         elementPath("lines", owner->second) +
                                                                         "; line ids must be unique");
                }
            }
            for (const std::size_t i : unnamed) {
                auto& line = document.lines[i];
                line.line_id = std::to_string(i + 1);
                const auto [owner, inserted] = owners.emplace(line.line_id, i);
                if (!inserted) {
                    reader.add(elementPath("lines", i) + ".line_id",
                               "this line has no line_id, and " + quote(line.line_id) +
                                   ", which it gets from its position, is the line_id of " +
                                   elementPath("lines", owner->second) + "; give every line a unique line_id");
                }
            }
        }
    }

    document.shipping_service = "ground";
    if (const auto value = reader.member(root, "", "shipping", Presence::kOptional)) {
        if (const auto object = reader.asObject(*value, "shipping")) {
            reader.checkKeys(*object, "shipping", kShippingKeys);
            if (const auto amount = reader.member(*object, "shipping", "amount", Presence::kOptional)) {
                if (auto money = reader.amount(*amount, "shipping.amount", currency)) document.shipping_amount = *money;
            }
            if (object->has("service")) {
                document.shipping_service =
                    reader.identifier(*object, "shipping", "service", Presence::kOptional, kMaxIdLength);
            }
        }
    }
    if (const auto value = reader.member(root, "", "payment", Presence::kOptional)) {
        if (const auto object = reader.asObject(*value, "payment")) {
            reader.checkKeys(*object, "payment", kPaymentKeys);
            if (const auto status = reader.member(*object, "payment", "status", Presence::kOptional)) {
                if (const auto raw = reader.asString(*status, "payment.status")) {
                    if (*raw == "pending") {
                        document.payment_status = PaymentStatus::kPending;
                    } else if (*raw == "authorized") {
                        document.payment_status = PaymentStatus::kAuthorized;
                    } else if (*raw == "captured") {
                        document.payment_status = PaymentStatus::kCaptured;
                    } else {
                        reader.add("payment.status", quote(*raw) +
                                                         " is not a payment status; use \"pending\" (the default), "
                                                         "\"authorized\" or \"captured\"");
                    }
                }
            }
        }
    }
    if (const auto value = reader.member(root, "", "priority", Presence::kOptional)) {
        document.priority =
            static_cast<int>(reader.asInteger(*value, "priority", -kMaxPriority, kMaxPriority).value_or(0));
    }
    if (const auto value = reader.member(root, "", "promise_date", Presence::kOptional)) {
        if (const auto raw = reader.asString(*value, "promise_date")) {
            // Date::parse quotes its whole input; a long string is refused here with a bounded quote.
            if (raw->size() != 10) {
                reader.add("promise_date", quote(*raw) + " is not a date in the form YYYY-MM-DD");
            } else if (auto date = Date::parse(*raw)) {
                document.promise_date = std::move(date).value();
            } else {
                reader.add("promise_date", date.problem().message);
            }
        }
    }
    if (const auto value = reader.member(root, "", "ship_complete", Presence::kOptional)) {
        document.ship_complete = reader.asBoolean(*value, "ship_complete").value_or(false);
    }
    if (const auto value = reader.member(root, "", "allow_backorder", Presence::kOptional)) {
        document.allow_backorder = reader.asBoolean(*value, "allow_backorder");
    }
    document.notes = reader.freeText(root, "", "notes", kMaxNotesLength, TextKind::kMultiLine);
    return document;
}

// ----------------------------------------------------------------------------------------------------------------
// Canonical JSON

void appendJsonString(std::string& out, std::string_view text) {
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (byte < 0x20 || byte == 0x7f) {
                    out += "\\u00" + hexByte(byte);
                } else {
                    out += c;  // UTF-8 passes through as it is
                }
        }
    }
    out += '"';
}

// A compact JSON writer that emits keys in the order it is called, which is what makes the output canonical.
class CanonicalWriter {
public:
    void beginObject(std::string_view key = {}) { open(key, '{'); }
    void endObject() { close('}'); }
    void beginArray(std::string_view key) { open(key, '['); }
    void endArray() { close(']'); }

    void string(std::string_view key, std::string_view value) {
        name(key);
        appendJsonString(out_, value);
    }
    // Optional texts: empty means absent, and absent fields are omitted.
    void optionalString(std::string_view key, std::string_view value) {
        if (!value.empty()) string(key, value);
    }
    void integer(std::string_view key, std::int64_t value) {
        name(key);
        out_ += std::to_string(value);
    }
    void boolean(std::string_view key, bool value) {
        name(key);
        out_ += value ? "true" : "false";
    }

    std::string take() { return std::move(out_); }

private:
    void name(std::string_view key) {
        if (!first_.empty()) {
            if (!first_.back()) out_ += ',';
            first_.back() = false;
        }
        if (!key.empty()) {
            appendJsonString(out_, key);
            out_ += ':';
        }
    }
    void open(std::string_view key, char bracket) {
        name(key);
        out_ += bracket;
        first_.push_back(true);
    }
    void close(char bracket) {
        out_ += bracket;
        first_.pop_back();
    }

    std::string out_;
    std::vector<bool> first_;
};

void writeAddress(CanonicalWriter& writer, std::string_view key, const Address& address) {
    writer.beginObject(key);
    writer.optionalString("name", address.name);
    writer.optionalString("line1", address.line1);
    writer.optionalString("line2", address.line2);
    writer.optionalString("city", address.city);
    writer.optionalString("region", address.region);
    writer.optionalString("postal_code", address.postal_code);
    writer.optionalString("country", address.country);
    writer.optionalString("phone", address.phone);
    writer.endObject();
}

// The amount with the order currency's decimals. Zero is zero in every currency, which matters because Money
// members default to USD; any other amount in a foreign currency is a programming error, not something to print.
std::string amountText(const Money& amount, const Currency& currency, std::string_view field) {
    if (amount.isZero()) return Money::zero(currency).toString();
    if (amount.currency() != currency) {
        throw RejectedError("canonicalJson: " + std::string(field) + " is in " + std::string(amount.currency().code()) +
                            " but the order is in " + std::string(currency.code()));
    }
    return amount.toString();
}

}  // namespace

ParsedDocument parseOrderDocument(std::string_view json) {
    ParsedDocument result;
    if (json.size() > kMaxDocumentBytes) {
        result.problems.push_back(reject("the document has " + std::to_string(json.size()) + " bytes; at most " +
                                             std::to_string(kMaxDocumentBytes) + " (4 MiB) are accepted",
                                         ""));
        return result;
    }
    // RFC 8259 lets a parser ignore a byte order mark; Windows tools write one and Poco refuses it.
    if (json.starts_with("\xEF\xBB\xBF")) json.remove_prefix(3);
    // Poco refuses most broken UTF-8, but with messages such as "unterminated string literal" and no position.
    if (const auto where = invalidUtf8Position(json)) {
        result.problems.push_back(reject("the document is not valid UTF-8: " + *where, ""));
        return result;
    }

    // Poco 1.11 cannot take a scalar as the whole document ("Attempt to set value on an empty stack").
    const auto start = json.find_first_not_of(" \t\r\n");
    if (start != std::string_view::npos && json[start] != '{' && json[start] != '[') {
        result.problems.push_back(
            reject("the document must be a JSON object, but it starts with " + quote(json.substr(start)), ""));
        return result;
    }

    auto* handler = new TrackingHandler;
    Poco::JSON::Parser parser{Poco::JSON::Handler::Ptr(handler)};
    parser.setDepth(kMaxJsonDepth);
    Var root;
    try {
        root = parser.parse(std::string(json));
    } catch (const Poco::Exception& error) {
        // Poco 1.11 reports no line or column; the last field it read is the best "where" there is.
        const std::string& what = error.message().empty() ? error.displayText() : error.message();
        const std::string& near = handler->lastPath();
        result.problems.push_back(
            reject("malformed JSON: " + what +
                       (near.empty() ? std::string(" (at the start of the document)") : " (after " + near + ")"),
                   ""));
        return result;
    }
    if (!isObject(root)) {
        result.problems.push_back(reject("the document must be a JSON object, got " + describe(root), ""));
        return result;
    }

    Reader reader(result.problems);
    for (const auto& duplicate : handler->duplicates()) {
        reader.add(duplicate.path, "the field " + quote(duplicate.key) +
                                       " appears more than once; give it once (readers disagree about which wins)");
    }
    auto document = readDocument(reader, *root.extract<Object::Ptr>());
    reader.finish();
    if (!reader.hasProblems()) result.document = std::move(document);
    return result;
}

std::string canonicalJson(const OrderDocument& document) {
    if (document.currency == nullptr) throw RejectedError("canonicalJson: the order document has no currency");
    const Currency& currency = *document.currency;

    CanonicalWriter writer;
    writer.beginObject();
    writer.string("type", "order");
    writer.integer("version", document.version);
    writer.string("channel", document.channel);
    writer.string("external_id", document.external_id);
    writer.string("currency", currency.code());

    writer.beginObject("customer");
    writer.optionalString("id", document.customer.id);
    writer.optionalString("email", document.customer.email);
    writer.optionalString("name", document.customer.name);
    writer.string("type", toString(document.customer.kind));
    writer.endObject();

    writeAddress(writer, "ship_to", document.ship_to);
    if (document.bill_to) writeAddress(writer, "bill_to", *document.bill_to);

    writer.beginArray("lines");
    for (std::size_t i = 0; i < document.lines.size(); ++i) {
        const OrderLineDoc& line = document.lines[i];
        const std::string path = elementPath("lines", i);
        writer.beginObject();
        writer.string("line_id", line.line_id);
        writer.string("sku", line.sku);
        writer.integer("quantity", line.quantity);
        writer.optionalString("uom", line.uom);
        if (line.unit_price) writer.string("unit_price", amountText(*line.unit_price, currency, path + ".unit_price"));
        writer.string("discount", amountText(line.discount, currency, path + ".discount"));
        writer.endObject();
    }
    writer.endArray();

    writer.beginObject("shipping");
    writer.string("amount", amountText(document.shipping_amount, currency, "shipping.amount"));
    // Empty means "ground" (document.h); omitting it lets the parser supply exactly that.
    writer.optionalString("service", document.shipping_service);
    writer.endObject();

    writer.beginObject("payment");
    writer.string("status", toString(document.payment_status));
    writer.endObject();

    writer.integer("priority", document.priority);
    if (document.promise_date) writer.string("promise_date", document.promise_date->toString());
    writer.boolean("ship_complete", document.ship_complete);
    if (document.allow_backorder) writer.boolean("allow_backorder", *document.allow_backorder);
    writer.optionalString("notes", document.notes);
    writer.endObject();
    return writer.take();
}

}  // namespace keel::orders
