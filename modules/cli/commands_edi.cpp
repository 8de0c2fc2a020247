// keel edi parse|validate|ack FILE: read an X12 file with keel::edi, as a JSON tree, as its envelope errors or as
// the acknowledgments Keel would send for it.
#include "commands_edi.h"
#include "keel/edi/x12_ack.h"
#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_json.h"
#include "keel/edi/x12_validator.h"
#include "keel/kernel/error.h"
#include "keel/plugin_host/plugin_host.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/JSON/Parser.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <ostream>
#include <sstream>

namespace keel::cli {

namespace {

std::ifstream openInput(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw NotFoundError("cannot open '" + path + "': no such readable file");
    return in;
}

std::string describe(const edi::ParseError& e) {
    return std::string(edi::parseErrorKindName(e.kind)) + ": " + e.message;
}

// The dictionaries: those compiled in, or the VERSION/*.x12d files of --dictionaries DIR or the edi.dictionaries key
// (a partner's or a newer transcription) instead. The loaded set lives as long as the command.
struct Dictionaries {
    std::optional<edi::Dictionary> loaded;
    edi::DictionaryOptions options;
};

void chooseDictionaries(const Context& context, const Arguments& args, Dictionaries& d) {
    const auto option = args.value("dictionaries");
    const std::string dir = option.value_or(context.config().getString("edi.dictionaries", ""));
    if (!dir.empty()) {
        try {
            d.loaded.emplace(edi::Dictionary::load(dir));
        } catch (const edi::DictionaryError& e) {
            throw UsageError(std::string(option ? "--dictionaries" : "edi.dictionaries") + ": " + e.what());
        }
        d.options.dictionary = &*d.loaded;
    }
    // --strict: a set Keel has no dictionary for is not validated, so it is not accepted either.
    d.options.reject_unknown_sets = args.flag("strict");
}

std::string describeFinding(const edi::DictionaryFinding& f) {
    if (f.set_not_supported) return "transaction_set_not_supported";
    std::string s = std::string(edi::segmentErrorName(f.segment_code));
    if (f.element_code != edi::ElementErrorCode::None) s += "/" + std::string(edi::elementErrorName(f.element_code));
    return s;
}

int parseCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi parse", {});
    args.expectPositional(1, 1, "FILE");
    const std::string& path = args.positional()[0];
    std::ifstream in = openInput(path);
    const auto result = edi::x12ToJson(in);
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");
    if (result.error) throw RejectedError(path + ": " + describe(*result.error));
    result.tree->stringify(context.out(), context.json() ? 0 : 2);
    context.out() << "\n";
    return 0;
}

int validateCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi validate", {"dictionaries"}, {"strict"});
    args.expectPositional(1, 1, "FILE [--strict] [--dictionaries DIR]");
    Dictionaries dictionaries;
    chooseDictionaries(context, args, dictionaries);
    const std::string& path = args.positional()[0];
    std::ifstream in = openInput(path);
    // Duplicates within this file; a database-backed registry remembers them across files (later).
    const edi::SystemClock clock;
    edi::InMemoryInterchangeRegistry registry(clock, std::chrono::hours(24 * 30));
    edi::EnvelopeOptions options;
    options.strictness = args.flag("strict") ? edi::Strictness::Strict : edi::Strictness::Tolerant;
    options.registry = &registry;
    const auto full = edi::validateX12(in, options, dictionaries.options);
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");
    const auto& report = full.envelope;

    if (context.json()) {
        Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
        body.set("file", path);
        body.set("valid", full.valid());
        body.set("strict", args.flag("strict"));
        body.set("interchanges", static_cast<Poco::UInt64>(report.interchanges));
        body.set("groups", static_cast<Poco::UInt64>(report.groups));
        body.set("transaction_sets", static_cast<Poco::UInt64>(report.transaction_sets));
        body.set("segments", static_cast<Poco::UInt64>(report.segments));
        if (report.parse_error) {
            Poco::JSON::Object e(Poco::JSON_PRESERVE_KEY_ORDER);
            e.set("kind", std::string(edi::parseErrorKindName(report.parse_error->kind)));
            e.set("offset", static_cast<Poco::UInt64>(report.parse_error->offset));
            e.set("segment_number", static_cast<Poco::UInt64>(report.parse_error->segment_number));
            e.set("element", report.parse_error->element);
            e.set("message", report.parse_error->message);
            body.set("parse_error", e);
        } else {
            body.set("parse_error", Poco::Dynamic::Var());
        }
        Poco::JSON::Array findings;
        for (const auto& w : report.reader_warnings) {
            Poco::JSON::Object f(Poco::JSON_PRESERVE_KEY_ORDER);
            f.set("severity", std::string("warning"));
            f.set("code", std::string("reader"));
            f.set("segment_number", static_cast<Poco::UInt64>(w.segment_number));
            f.set("offset", static_cast<Poco::UInt64>(w.offset));
            f.set("element", w.element);
            f.set("message", w.message);
            findings.add(f);
        }
        for (const auto& x : report.findings) {
            Poco::JSON::Object f(Poco::JSON_PRESERVE_KEY_ORDER);
            f.set("severity", std::string(edi::severityName(x.severity)));
            f.set("code", std::string(edi::findingCodeName(x.code)));
            f.set("segment_number", static_cast<Poco::UInt64>(x.segment_number));
            f.set("offset", static_cast<Poco::UInt64>(x.offset));
            f.set("element", x.element);
            f.set("message", x.message);
            findings.add(f);
        }
        for (const auto& x : full.findings) {
            Poco::JSON::Object f(Poco::JSON_PRESERVE_KEY_ORDER);
            f.set("severity", std::string(edi::severityName(x.severity)));
            f.set("code", describeFinding(x));
            f.set("segment_number", static_cast<Poco::UInt64>(x.segment_number));
            f.set("offset", static_cast<Poco::UInt64>(x.offset));
            f.set("element", x.element == 0
                                 ? std::string()
                                 : x.segment_id + (x.element < 10 ? "0" : "") + std::to_string(x.element) +
                                       (x.component == 0 ? std::string() : "-" + std::to_string(x.component)));
            f.set("message", x.message);
            f.set("set", x.set_id + " " + x.set_control_number);
            f.set("position", static_cast<Poco::UInt64>(x.position));
            f.set("segment_id", x.segment_id);
            f.set("segment_code", static_cast<int>(x.segment_code));
            if (x.element_code != edi::ElementErrorCode::None) f.set("element_code", static_cast<int>(x.element_code));
            f.set("reference", x.reference);
            findings.add(f);
        }
        body.set("findings", findings);
        body.set("validated_sets", static_cast<Poco::UInt64>(full.validated_sets));
        Poco::JSON::Array unknown;
        for (const auto& u : full.unknown_sets) {
            Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
            o.set("set", u.set_id);
            o.set("version", u.version);
            o.set("segment_number", static_cast<Poco::UInt64>(u.segment_number));
            unknown.add(o);
        }
        body.set("envelope_only_sets", unknown);
        context.writeJson(body);
    } else {
        std::ostream& out = context.out();
        for (const auto& w : report.reader_warnings) out << path << ": warning: " << w.message << "\n";
        for (const auto& f : report.findings) {
            out << path << ": " << edi::severityName(f.severity) << " [" << edi::findingCodeName(f.code)
                << "]: " << f.message << "\n";
        }
        for (const auto& f : full.findings) {
            out << path << ": " << edi::severityName(f.severity) << " [" << describeFinding(f) << "]: " << f.message
                << "\n";
        }
        if (full.findings.size() < full.errors + full.warnings) {
            out << path << ": " << full.errors + full.warnings - full.findings.size()
                << " further dictionary finding(s) not shown\n";
        }
        for (const auto& u : full.unknown_sets) {
            out << path << ": note: transaction set " << u.set_id << " (segment " << u.segment_number
                << ") of version '" << u.version << "' has no dictionary: only its envelope was validated\n";
        }
        if (report.parse_error) {
            out << path << ": error [" << edi::parseErrorKindName(report.parse_error->kind)
                << "]: " << report.parse_error->message << "\n";
        }
        out << path << ": " << (full.valid() ? "valid" : "INVALID") << " (" << report.interchanges
            << " interchange(s), " << report.groups << " group(s), " << report.transaction_sets
            << " transaction set(s), " << report.segments << " segment(s); "
            << report.errors + full.errors + (report.parse_error ? 1 : 0) << " error(s), "
            << report.warnings + full.warnings + report.reader_warnings.size() << " warning(s); " << full.validated_sets
            << " set(s) checked against a dictionary)\n";
    }
    return full.valid() ? 0 : static_cast<int>(ExitCode::kRejected);
}

int ackCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi ack", {"control-number", "dictionaries"}, {"strict"});
    args.expectPositional(1, 1, "FILE [--strict] [--control-number N] [--dictionaries DIR]");
    Dictionaries dictionaries;
    chooseDictionaries(context, args, dictionaries);
    const std::string& path = args.positional()[0];
    const std::int64_t first = args.integerValue("control-number").value_or(1);
    if (first < 1 || first > 999999999) throw UsageError("--control-number must be between 1 and 999999999");
    std::ifstream in = openInput(path);
    const edi::SystemClock clock;
    edi::InMemoryInterchangeRegistry registry(clock, std::chrono::hours(24 * 30));
    edi::EnvelopeOptions envelope;
    envelope.strictness = args.flag("strict") ? edi::Strictness::Strict : edi::Strictness::Tolerant;
    envelope.registry = &registry;
    const auto report = edi::acknowledgeX12(in, envelope, dictionaries.options);
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");
    // An input that cannot be read safely has no trustworthy envelope to acknowledge (see docs/edi.md).
    if (report.parse_error) throw RejectedError(path + ": " + describe(*report.parse_error));
    // One-shot numbers: the CLI shows what would be sent; sending persists the partner's sequences.
    edi::SequentialControlNumbers numbers(static_cast<std::uint64_t>(first));
    std::ostringstream text;
    edi::writeAcks(text, report.interchanges, numbers, clock);
    if (context.json()) {
        Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
        body.set("file", path);
        body.set("accepted", report.accepted());
        body.set("ack", text.str());
        std::istringstream again(text.str());
        const auto tree = edi::x12ToJson(again);
        body.set("interchanges", tree.tree->getArray("interchanges"));
        context.writeJson(body);
    } else {
        context.out() << text.str();
    }
    return report.accepted() ? 0 : static_cast<int>(ExitCode::kRejected);
}

// keel edi translate FILE --partner P: the Keel documents (orders from 850s) that the EDI plugin instance makes of a
// partner's file, the errors that keep sets out, and the acknowledgment Keel would send. Nothing is stored.
int translateCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi translate", {"partner", "instance"});
    args.expectPositional(1, 1, "FILE --partner PARTNER [--instance NAME]");
    const std::string& path = args.positional()[0];
    const auto partner = args.value("partner");
    if (!partner || partner->empty()) throw UsageError("edi translate: --partner PARTNER is required");
    std::ifstream in = openInput(path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");

    using namespace plugin_host;
    PluginHost host(HostSettings::fromConfig(context.config()));
    host.load();
    std::string instance = args.value("instance").value_or(context.config().getString("edi.plugin", ""));
    if (instance.empty()) {
        const auto candidates = host.instancesWith(Capability::kEdi);
        if (candidates.empty()) {
            // Say why: an instance that failed to start (a bad partner profile) is the usual reason.
            std::string failures;
            for (const auto& i : host.instances()) {
                if (i.state == InstanceState::kFailed) failures += "; instance " + i.name + " failed: " + i.last_error;
            }
            throw InfrastructureError("edi translate: no plugin instance can translate EDI (plugins.instances)" +
                                      failures);
        }
        if (candidates.size() > 1) {
            throw UsageError("edi translate: " + std::to_string(candidates.size()) +
                             " plugin instances can translate EDI; name one with --instance or edi.plugin");
        }
        instance = candidates.front();
    }
    std::ostringstream encoded;
    Poco::Base64Encoder encoder(encoded);
    encoder.rdbuf()->setLineLength(0);
    encoder << bytes;
    encoder.close();
    Poco::JSON::Object request;
    request.set("partner", *partner);
    request.set("bytes", encoded.str());
    std::ostringstream request_json;
    request.stringify(request_json);
    auto response = host.invoke(instance, Operation::kEdiToDocuments, request_json.str(), false);
    if (!response) response.problem().raise();

    Poco::JSON::Parser parser;
    const auto body = parser.parse(response.value()).extract<Poco::JSON::Object::Ptr>();
    // The acknowledgments as text, which is what a reader wants to see.
    const auto acks = body->getArray("acknowledgments");
    if (acks) {
        for (std::size_t i = 0; i < acks->size(); ++i) {
            auto ack = acks->getObject(static_cast<unsigned>(i));
            std::istringstream ack_in(ack->getValue<std::string>("bytes"));
            Poco::Base64Decoder decoder(ack_in);
            ack->set("text", std::string((std::istreambuf_iterator<char>(decoder)), std::istreambuf_iterator<char>()));
            ack->remove("bytes");
        }
    }
    const auto errors = body->getArray("errors");
    const bool clean = !errors || errors->size() == 0;
    if (context.json()) {
        body->stringify(context.out(), 0);
        context.out() << "\n";
    } else {
        body->stringify(context.out(), 2);
        context.out() << "\n";
        const auto documents = body->getArray("documents");
        context.err() << path << ": " << (documents ? documents->size() : 0) << " document(s), "
                      << (errors ? errors->size() : 0) << " error(s) from " << body->getValue<Poco::UInt64>("sets")
                      << " transaction set(s) of partner " << *partner << "\n";
    }
    return clean ? 0 : static_cast<int>(ExitCode::kRejected);
}

}  // namespace

void addEdiCommands(std::vector<Command>& table) {
    table.push_back({{"edi", "parse"},
                     "FILE",
                     "print an X12 file as a JSON tree (interchanges, groups, transaction sets, segments)",
                     "Reads FILE as ANSI X12 (delimiters from each ISA, verified) and prints interchanges > groups >\n"
                     "transaction sets > segments with their raw elements (composites and repetitions are not split).\n"
                     "A file that cannot be read safely (multi-byte terminator, hard-wrapped, split ISA, mixed\n"
                     "terminators) is rejected with its byte offset and segment number: exit 2.",
                     parseCommand});
    table.push_back({{"edi", "validate"},
                     "FILE [--strict] [--dictionaries DIR]",
                     "check the X12 envelopes and transaction sets of a file (exit 2 when invalid)",
                     "Checks ISA/IEA, GS/GE and ST/SE pairing, the counts IEA01, GE01, SE01, the control numbers\n"
                     "IEA02 = ISA13, GE02 = GS06, SE02 = ST02, duplicate GS06 in an interchange, ST02 in a group and\n"
                     "ISA13 per sender/receiver in the file. Then every transaction set against its dictionary\n"
                     "(version from GS08): segment order, loops and repeats, mandatory segments and elements,\n"
                     "lengths, types, dates, times, code lists and syntax notes. A set without a dictionary gets\n"
                     "envelope validation only (a note). Tolerant by default: a blank-padded or mismatching IEA02\n"
                     "or GE02 is a warning; --strict makes it an error, and a set without a dictionary too.\n"
                     "--dictionaries DIR (or the edi.dictionaries key) reads VERSION/*.x12d files instead of the\n"
                     "built-in dictionaries.\n"
                     "Exit 0 when valid, 2 when not; --json for every finding with its severity, code, segment\n"
                     "number, byte offset, element and, for dictionary findings, the AK3/AK4 codes.",
                     validateCommand});
    table.push_back(
        {{"edi", "ack"},
         "FILE [--strict] [--control-number N] [--dictionaries DIR]",
         "print the acknowledgments Keel would send for an X12 file (exit 2 when anything is rejected)",
         "Validates the envelopes of FILE and prints one acknowledgment interchange per inbound\n"
         "interchange, sender and receiver swapped: a 997 per functional group of version 004010 and\n"
         "older, a 999 from 005010 on, none for an FA group, and a TA1 when the ISA/IEA envelope has\n"
         "findings or ISA14 asks for one. Dictionary errors reject their set with AK3/AK4 (997) or\n"
         "IK3/IK4 (999) notes; --strict also rejects a set without a dictionary (AK5 code 1) and\n"
         "--dictionaries DIR as for edi validate. Control numbers start at N (1 by default); date and time are\n"
         "now (UTC). Exit 0 when everything was accepted, 2 when any interchange, group or transaction\n"
         "set was rejected (the ack is printed all the same). --json adds the ack as a JSON tree.",
         ackCommand});
    table.push_back({{"edi", "translate"},
                     "FILE --partner PARTNER [--instance NAME]",
                     "print the Keel documents a partner's X12 file becomes (exit 2 when a set is refused)",
                     "Hands FILE to the EDI plugin instance (edi.plugin, --instance, or the only instance with the\n"
                     "edi capability) with the partner profile PARTNER (config/partners/PARTNER.properties of the\n"
                     "instance's partners directory) and prints what it returns: the orders its 850s become, in\n"
                     "Keel's order document (docs/order.schema.json), the errors that keep sets out (segment number,\n"
                     "element, reason) and the 997/999 Keel would send, where refused sets are rejected. Nothing is\n"
                     "stored and no order is created. Exit 0 when every set translated, 2 otherwise.",
                     translateCommand});
}

}  // namespace keel::cli
