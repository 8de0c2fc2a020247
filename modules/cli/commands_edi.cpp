// keel edi parse|validate|ack FILE: read an X12 file with keel::edi, as a JSON tree, as its envelope errors or as
// the acknowledgments Keel would send for it.
#include "commands_edi.h"
#include "keel/app/edi_exchange.h"
#include "keel/edi/base64.h"
#include "keel/edi/x12_ack.h"
#include "keel/edi/x12_envelope.h"
#include "keel/edi/x12_json.h"
#include "keel/edi/x12_validator.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/error.h"
#include "keel/plugin_host/plugin_host.h"
#include "services.h"

#include <Poco/JSON/Parser.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <chrono>
#include <filesystem>
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

// The envelope checks of one file (edi validate, edi ack): --strict or tolerant, and duplicate interchanges, groups
// and sets within the file (the file drop's messages are kept in the database).
struct FileChecks {
    explicit FileChecks(bool strict) {
        options.strictness = strict ? edi::Strictness::Strict : edi::Strictness::Tolerant;
        options.registry = &registry;
    }
    FileChecks(const FileChecks&) = delete;
    FileChecks& operator=(const FileChecks&) = delete;

    edi::SystemClock clock;
    edi::InMemoryInterchangeRegistry registry{clock, std::chrono::hours(24 * 30)};
    edi::EnvelopeOptions options;
};

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
    const FileChecks checks(args.flag("strict"));
    const auto full = edi::validateX12(in, checks.options, dictionaries.options);
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
    const FileChecks checks(args.flag("strict"));
    const auto report = edi::acknowledgeX12(in, checks.options, dictionaries.options);
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");
    // An input that cannot be read safely has no trustworthy envelope to acknowledge (see docs/edi.md).
    if (report.parse_error) throw RejectedError(path + ": " + describe(*report.parse_error));
    // One-shot numbers: the CLI shows what would be sent; sending persists the partner's sequences.
    edi::SequentialControlNumbers numbers(static_cast<std::uint64_t>(first));
    std::ostringstream text;
    edi::writeAcks(text, report.interchanges, numbers, checks.clock);
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
    Poco::JSON::Object request;
    request.set("partner", *partner);
    request.set("bytes", edi::toBase64(bytes));
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
            ack->set("text", edi::fromBase64(ack->getValue<std::string>("bytes")));
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

// keel edi receive|reprocess|messages|poll: the exchange with partners, stored in the database.
void printReceipt(Context& context, const app::EdiReceipt& r, Poco::JSON::Array* list) {
    if (list != nullptr) {
        list->add(app::toJson(r));
        return;
    }
    std::ostream& out = context.out();
    out << "EDI message " << r.message_id << " from " << r.partner << ": " << r.status << " (" << r.sets
        << " transaction set(s), " << r.orders.size() << " order(s), ";
    if (!r.advices.empty()) out << r.advices.size() << " warehouse advice(s), ";
    out << r.errors.size() << " error(s))\n";
    for (const auto& order : r.orders) {
        out << "  PO " << order.external_id << " -> order " << order.order_id << " ("
            << (order.created ? "created" : "already imported") << ", " << order.state << ")\n";
    }
    for (const auto& advice : r.advices) {
        out << "  " << advice.transaction_set << " " << advice.reference << " -> " << advice.target << " ("
            << advice.outcome << "): " << advice.note << "\n";
    }
    for (const auto& e : r.errors) out << "  error: " << e << "\n";
    if (!r.ack.empty()) out << "  acknowledgment " << r.ack_message_id << " (" << r.ack.size() << " bytes)\n";
}

/// One message's outcome for `edi receive` and `edi reprocess`: printed (or its JSON), and the exit code: 0 processed,
/// infrastructure when the translator could not run, rejected otherwise.
int reportReceipt(Context& context, const app::EdiReceipt& receipt) {
    Poco::JSON::Array list;
    printReceipt(context, receipt, context.json() ? &list : nullptr);
    if (context.json()) context.writeJson(*list.getObject(0));
    return receipt.status == "processed"
               ? 0
               : static_cast<int>(receipt.status == "failed" ? ExitCode::kInfrastructure : ExitCode::kRejected);
}

int receiveCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi receive", {"partner", "ack"});
    args.expectPositional(1, 1, "FILE [--partner PARTNER] [--ack FILE]");
    const std::string& path = args.positional()[0];
    const auto named = args.value("partner");
    if (named && named->empty()) throw UsageError("edi receive: --partner needs a partner's name");
    std::ifstream in = openInput(path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw InfrastructureError("reading '" + path + "' failed");
    app::EdiExchange exchange(services(context), context.database(), context.config());
    // Without --partner: the partner whose profile (in the database) has the file's sender ids.
    const std::string partner = named ? *named : exchange.identify(bytes);
    const auto receipt = exchange.receive(partner, std::filesystem::path(path).filename().string(), bytes, actor());
    if (const auto ack_path = args.value("ack"); ack_path && !receipt.ack.empty()) {
        std::ofstream ack(*ack_path, std::ios::binary | std::ios::trunc);
        ack << receipt.ack;
        if (!ack) throw InfrastructureError("cannot write the acknowledgment to " + *ack_path);
    }
    return reportReceipt(context, receipt);
}

int reprocessCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi reprocess", {});
    args.expectPositional(1, 1, "MESSAGE_ID");
    app::EdiExchange exchange(services(context), context.database(), context.config());
    const auto receipt = exchange.reprocess(args.positional()[0], actor());
    return reportReceipt(context, receipt);
}

int messagesCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi messages", {"partner", "limit"});
    args.expectPositional(0, 0, "[--partner PARTNER] [--limit N]");
    const std::int64_t limit = args.integerValue("limit").value_or(50);
    if (limit < 1 || limit > 10000) throw UsageError("--limit must be between 1 and 10000");
    app::EdiExchange exchange(services(context), context.database(), context.config());
    const auto messages = exchange.messages(args.value("partner").value_or(""), static_cast<std::size_t>(limit));
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& m : messages) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            o->set("id", m.id);
            o->set("partner", m.partner);
            o->set("direction", m.direction);
            o->set("kind", m.kind);
            o->set("name", m.name);
            o->set("size", static_cast<Poco::Int64>(m.size));
            o->set("status", m.status);
            o->set("received_at", static_cast<Poco::Int64>(m.received_at));
            o->set("attempts", static_cast<Poco::Int64>(m.attempts));
            o->set("detail", Poco::JSON::Parser().parse(m.detail));
            list.add(o);
        }
        list.stringify(context.out());
        context.out() << "\n";
        return 0;
    }
    for (const auto& m : messages) {
        context.out() << m.id << "  " << m.partner << "  " << m.direction << "  " << m.kind << "  " << m.status << "  "
                      << m.size << " bytes  " << m.name << "  (attempts " << m.attempts << ")\n";
    }
    if (messages.empty()) context.out() << "no EDI messages\n";
    return 0;
}

int pollCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi poll", {"partner"});
    args.expectPositional(0, 0, "--partner PARTNER");
    const auto partner = args.value("partner");
    if (!partner || partner->empty()) throw UsageError("edi poll: --partner PARTNER is required");
    app::EdiExchange exchange(services(context), context.database(), context.config());
    const auto result = exchange.poll(*partner, actor());
    Poco::JSON::Array list;
    bool clean = true;
    for (const auto& r : result.receipts) {
        printReceipt(context, r, context.json() ? &list : nullptr);
        clean = clean && r.status == "processed";
    }
    if (context.json()) {
        Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
        body.set("received", list);
        Poco::JSON::Array skipped;
        for (const auto& name : result.skipped) skipped.add(name);
        body.set("skipped", skipped);
        context.writeJson(body);
    } else {
        for (const auto& name : result.skipped)
            context.out() << "not complete yet, left for the next poll: " << name << "\n";
        if (result.receipts.empty()) context.out() << "no new files from " << *partner << "\n";
    }
    return clean ? 0 : static_cast<int>(ExitCode::kRejected);
}

int sendCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi send", {"partner"}, {"inventory", "if-changed"});
    args.expectPositional(0, 0, "--partner PARTNER [--inventory [--if-changed]]");
    const auto partner = args.value("partner");
    if (!partner || partner->empty()) throw UsageError("edi send: --partner PARTNER is required");
    if (args.flag("if-changed") && !args.flag("inventory")) {
        throw UsageError("edi send: --if-changed is about the 846: use it with --inventory");
    }
    app::EdiExchange exchange(services(context), context.database(), context.config());
    app::SendOptions options;
    options.inventory = args.flag("inventory");
    options.inventory_if_changed = args.flag("if-changed");
    const auto result = exchange.send(*partner, options);
    if (context.json()) {
        Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
        Poco::JSON::Array sent;
        for (const auto& x : result.sent) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            o->set("message_id", x.message_id);
            o->set("transaction_set", x.transaction_set);
            o->set("document_id", x.document_id);
            o->set("external_id", x.external_id);
            o->set("file", x.file);
            sent.add(o);
        }
        body.set("sent", sent);
        Poco::JSON::Array errors;
        for (const auto& e : result.errors) errors.add(e);
        body.set("errors", errors);
        Poco::JSON::Array skipped;
        for (const auto& note : result.skipped) skipped.add(note);
        body.set("skipped", skipped);
        context.writeJson(body);
    } else {
        for (const auto& x : result.sent) {
            context.out() << x.transaction_set;
            if (!x.external_id.empty()) context.out() << " for PO " << x.external_id << " (" << x.document_id << ")";
            context.out() << " -> " << x.file << "\n";
        }
        for (const auto& e : result.errors) context.out() << "error: " << e << "\n";
        for (const auto& note : result.skipped) context.out() << note << "\n";
        if (result.sent.empty() && result.errors.empty()) context.out() << "nothing to send to " << *partner << "\n";
    }
    return result.errors.empty() ? 0 : static_cast<int>(ExitCode::kRejected);
}

// keel edi partners [list] | keel edi partners load: the partner profiles in the database (edi_partner).
Poco::JSON::Object::Ptr partnerJson(const app::StoredPartner& p) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("partner", p.partner);
    o->set("isa_qualifier", p.isa_qualifier);
    o->set("isa_id", p.isa_id);
    o->set("gs_id", p.gs_id);
    o->set("our_isa_qualifier", p.our_isa_qualifier);
    o->set("our_isa_id", p.our_isa_id);
    o->set("our_gs_id", p.our_gs_id);
    o->set("version", p.version);
    o->set("role", p.role);
    o->set("ack", p.ack);
    o->set("ack_deadline_hours", static_cast<Poco::Int64>(p.ack_deadline_hours));
    o->set("channel", p.channel);
    o->set("customer", p.customer);
    Poco::JSON::Object::Ptr transport = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    transport->set("inbound", p.transport_inbound);
    transport->set("outbound", p.transport_outbound);
    transport->set("archive", p.transport_archive);
    transport->set("error", p.transport_error);
    o->set("transport", transport);
    o->set("source", p.source);
    o->set("sha256", p.sha256);
    o->set("loaded_at", formatIso8601(p.loaded_at));
    return o;
}

int partnersCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi partners", {});
    args.expectPositional(0, 1, "[list]");
    if (!args.positional().empty() && args.positional()[0] != "list") {
        throw UsageError("edi partners: '" + args.positional()[0] + "' is not list or load");
    }
    app::EdiExchange exchange(services(context), context.database(), context.config());
    const auto partners = exchange.partners();
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& p : partners) list.add(partnerJson(p));
        list.stringify(context.out());
        context.out() << "\n";
        return 0;
    }
    for (const auto& p : partners) {
        context.out() << p.partner << " (" << p.role << ")  " << p.isa_qualifier << "/" << p.isa_id << " -> "
                      << p.our_isa_qualifier << "/" << p.our_isa_id << "  " << p.version << "  channel " << p.channel
                      << "  customer " << p.customer << "  ack " << p.ack << " (" << p.ack_deadline_hours << " h)"
                      << (p.transport_inbound.empty() ? "" : "  file drop " + p.transport_inbound) << "\n    from "
                      << p.source << ", loaded " << formatIso8601(p.loaded_at) << ", sha256 " << p.sha256.substr(0, 12)
                      << "\n";
    }
    if (partners.empty()) context.out() << "no partner profiles in the database (keel edi partners load)\n";
    return 0;
}

int partnersLoadCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "edi partners load", {});
    args.expectPositional(0, 0, "");
    app::EdiExchange exchange(services(context), context.database(), context.config());
    const auto loads = exchange.loadPartners();
    bool refused = false;
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& l : loads) {
            Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            o->set("partner", l.partner);
            o->set("file", l.file);
            o->set("outcome", l.outcome);
            o->set("sha256", l.sha256);
            if (!l.previous_sha256.empty()) o->set("previous_sha256", l.previous_sha256);
            if (!l.error.empty()) o->set("error", l.error);
            list.add(o);
            refused = refused || l.outcome == "refused";
        }
        Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
        body.set("profiles", list);
        context.writeJson(body);
    } else {
        for (const auto& l : loads) {
            context.out() << l.partner << ": " << l.outcome;
            if (l.outcome == "updated") {
                context.out() << " (sha256 " << l.previous_sha256.substr(0, 12) << " -> " << l.sha256.substr(0, 12)
                              << ")";
            }
            if (l.outcome == "refused") {
                context.out() << ": " << l.error
                              << (l.previous_sha256.empty() ? "" : " (the database keeps the profile loaded before)");
            }
            context.out() << "\n";
            refused = refused || l.outcome == "refused";
        }
        if (loads.empty()) {
            context.out() << "no *.properties files in "
                          << context.config().getString("edi.partners", "/etc/keel/partners") << "\n";
        }
    }
    return refused ? static_cast<int>(ExitCode::kRejected) : 0;
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
    table.push_back(
        {{"edi", "receive"},
         "FILE [--partner PARTNER] [--ack FILE]",
         "store a partner's X12 file, take its orders in and make its acknowledgment",
         "Stores FILE's bytes first (edi_message), then translates it through the EDI plugin and takes\n"
         "every order in through the common intake (idempotent on channel and PO number: a re-sent PO is\n"
         "reported as already imported). From a 3PL (role = 3pl): each 945 confirms the shipment it names\n"
         "shipped (short lines are cancelled on the order, with an exception; a re-sent 945 changes\n"
         "nothing) and each 944 receives its stock at the 3PL's location, once per receipt number. The\n"
         "997/999, which rejects every set not taken in, is stored as an outbound message and written to\n"
         "--ack FILE. A refused set or a translator failure leaves an integration exception; the bytes\n"
         "stay for keel edi reprocess. An interchange received before (the same sender, receiver and\n"
         "ISA13 within edi.duplicate_window_days, 365) is stored but not taken in again: it gets a TA1\n"
         "with note 025 and the file is rejected. Without --partner, the partner is the one whose profile\n"
         "in the database has the file's ISA05/ISA06 and ISA07/ISA08 (the profile files are loaded first).\n"
         "Exit 0 processed, 2 some sets refused or a duplicate, 3 no such partner, 5 the translator\n"
         "failed.",
         receiveCommand});
    table.push_back({{"edi", "reprocess"},
                     "MESSAGE_ID",
                     "process a stored inbound EDI message again (after fixing a profile, an alias, the plugin)",
                     "Runs a stored message through translation and intake again; orders already taken in are\n"
                     "recognised, not doubled. Its integration exceptions are resolved when it goes through.",
                     reprocessCommand});
    table.push_back({{"edi", "messages"},
                     "[--partner PARTNER] [--limit N]",
                     "list the EDI messages received and sent, newest first",
                     "Every file received from or sent to partners: id, partner, direction, kind, status, size, name\n"
                     "and attempts; --json adds the outcome (orders, errors).",
                     messagesCommand});
    table.push_back(
        {{"edi", "poll"},
         "--partner PARTNER",
         "take in the complete files of a partner's inbound folder (file drop)",
         "Reads the folders of the partner's profile (transport.inbound, .outbound, .archive, .error in\n"
         "edi.partners/PARTNER.properties). A file is read only when complete: names ending .tmp/.part are\n"
         "still being written (write-then-rename), and with transport.settle_ms a file must be unchanged\n"
         "that long. Each file is stored, processed as by edi receive, its acknowledgment written to the\n"
         "outbound folder (write-then-rename), and then moved to archive (processed) or error.",
         pollCommand});
    table.push_back(
        {{"edi", "send"},
         "--partner PARTNER [--inventory [--if-changed]]",
         "send a partner the 855s, 856s, 810s (--inventory: an 846) or, to a 3PL, the 940s not sent yet",
         "For the partner's orders (channel from its profile, default edi.PARTNER): an 855 for every order\n"
         "that left intake, an 856 ship notice for every shipped shipment (S/O/P/I hierarchy, SSCC-18 from\n"
         "edi.gs1.company_prefix) and an 810 for every invoice that has no outbound message yet, written by\n"
         "the EDI plugin to the profile's transport.outbound folder through a temporary name, and stored.\n"
         "An order that changed after its 855 (a backorder filled, a line or the order cancelled, a\n"
         "rejection) gets a further 855 with BAK01 po_ack.change_purpose (19) and the new line statuses,\n"
         "once per change. --inventory adds an 846 with the available-to-promise (for the partner's\n"
         "channel) of every item it has an alias for; with --if-changed only when it differs from the last\n"
         "846 sent to the partner. To a 3PL (role = 3pl): a 940 for every shipment released at the\n"
         "locations it runs (its profile's locations) that was not sent yet. Exit 2 when one could not be\n"
         "written (an integration exception says why; the next send tries it again).",
         sendCommand});
    table.push_back({{"edi", "partners"},
                     "[list]",
                     "list the trading-partner profiles in the database",
                     "The profiles as loaded into the database (edi_partner) from edi.partners/PARTNER.properties:\n"
                     "the partner's and Keel's ISA/GS ids, version, role, acknowledgment policy and deadline,\n"
                     "channel, customer, file-drop folders, the file, when it was loaded and its SHA-256. --json for\n"
                     "all of it. keeld nodes and commands without the files work from these rows.",
                     partnersCommand});
    table.push_back({{"edi", "partners", "load"},
                     "",
                     "load the partner profile files of edi.partners into the database",
                     "Reads every *.properties file of edi.partners: a new file adds its partner, a changed one\n"
                     "(another SHA-256) replaces the row (both reported), an unchanged one is left alone. A malformed\n"
                     "profile is refused with its file and the key named, and the partner's row, if any, stays as\n"
                     "it was. Rows whose file is not in the directory stay (other nodes may have it). Receive, poll\n"
                     "and send load the profile of the partner they work for in the same way. Exit 2 when a file\n"
                     "was refused.",
                     partnersLoadCommand});
}

}  // namespace keel::cli
