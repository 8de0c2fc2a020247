#include "keel/app/edi_exchange.h"

#include "keel/app/interchange_registry.h"
#include "keel/db/commit_group.h"
#include "keel/db/error.h"
#include "keel/db/for_each_in.h"
#include "keel/edi/base64.h"
#include "keel/edi/gs1.h"
#include "keel/edi/x12_ack.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/date.h"
#include "keel/kernel/error.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/id.h"
#include "keel/kernel/logging.h"
#include "keel/kernel/money.h"
#include "keel/orders/document.h"
#include "keel/plugin_host/plugin_host.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::app {

namespace {

namespace fs = std::filesystem;

std::string stringify(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

std::int64_t now() {
    return Clock::system().nowMicros();
}

std::string joinedCodes(const std::vector<std::string>& codes) {
    std::string text;
    for (const auto& code : codes) text += (text.empty() ? "" : ", ") + code;
    return text;
}

/// Upper bound of the interchanges in a file (every "ISA" counts): acknowledgments use at most that many control
/// numbers, and a gap in them is allowed where a reuse is not.
std::uint64_t interchangeBound(const std::string& bytes) {
    std::uint64_t count = 0;
    for (auto at = bytes.find("ISA"); at != std::string::npos; at = bytes.find("ISA", at + 3)) ++count;
    return std::max<std::uint64_t>(count, 1);
}

void writeAtomically(const fs::path& path, const std::string& bytes) {
    const fs::path temporary = path.string() + ".tmp";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        out << bytes;
        out.flush();
        if (!out) throw InfrastructureError("cannot write " + temporary.string());
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec)
        throw InfrastructureError("cannot rename " + temporary.string() + " to " + path.string() + ": " + ec.message());
}

/// Moves a file into `directory` under a name that is not taken yet (prefix: the message id).
void moveInto(const fs::path& file, const std::string& directory, const std::string& message_id) {
    fs::create_directories(directory);
    fs::path target = fs::path(directory) / file.filename();
    if (fs::exists(target)) target = fs::path(directory) / (message_id + "-" + file.filename().string());
    std::error_code ec;
    fs::rename(file, target, ec);
    if (ec) {  // another file system: copy, then remove
        fs::copy_file(file, target, fs::copy_options::overwrite_existing);
        fs::remove(file);
    }
}

/// The TA1s for interchanges received before (`keys`, in `bytes`): rejected with note 025 (duplicate interchange
/// control number), as the EDI library acknowledges a duplicate, but without the 997/999 of their groups: a rejected
/// interchange is not processed, so its groups are neither accepted nor rejected again (they were acknowledged when
/// they first came). Control numbers from `first` on.
std::string duplicateAcks(const std::string& bytes, const std::vector<edi::InterchangeKey>& keys, std::uint64_t first) {
    const edi::SystemClock clock;
    edi::InMemoryInterchangeRegistry seen(clock, std::chrono::hours(24));
    for (const auto& key : keys) seen.recordAndCheck(key);
    edi::EnvelopeOptions envelope;
    envelope.registry = &seen;
    std::istringstream in(bytes);
    edi::AckReport report = edi::acknowledgeX12(in, envelope);
    if (report.parse_error) return {};  // no trustworthy envelope to answer (the file's errors say why)
    for (auto& interchange : report.interchanges) interchange.groups.clear();
    edi::SequentialControlNumbers numbers(first);
    std::ostringstream out;
    edi::writeAcks(out, report.interchanges, numbers, clock);
    return out.str();
}

}  // namespace

EdiSettings EdiSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
    EdiSettings settings;
    settings.instance = config.getString("edi.plugin", "");
    settings.partners_directory = config.getString("edi.partners", settings.partners_directory);
    settings.gs1_company_prefix = config.getString("edi.gs1.company_prefix", "");
    try {
        settings.gs1_extension = config.getInt("edi.gs1.extension_digit", 0);
        settings.duplicate_window_days = config.getInt("edi.duplicate_window_days", settings.duplicate_window_days);
    } catch (const Poco::SyntaxException&) {
        throw InfrastructureError(
            "configuration: edi.gs1.extension_digit and edi.duplicate_window_days are whole numbers");
    }
    if (!settings.gs1_company_prefix.empty() && !edi::sscc18(settings.gs1_extension, settings.gs1_company_prefix, 0)) {
        throw InfrastructureError("configuration: edi.gs1.company_prefix = '" + settings.gs1_company_prefix +
                                  "' must be 6 to 12 digits, edi.gs1.extension_digit 0 to 9");
    }
    if (settings.duplicate_window_days < 0 || settings.duplicate_window_days > 36500) {
        throw InfrastructureError("configuration: edi.duplicate_window_days must be 0 (off) to 36500 days, not " +
                                  std::to_string(settings.duplicate_window_days));
    }
    return settings;
}

EdiExchange::EdiExchange(Services& services, db::Database& database, const Poco::Util::AbstractConfiguration& config)
    : EdiExchange(services, database, EdiSettings::fromConfig(config)) {}

EdiExchange::EdiExchange(Services& services, db::Database& database, EdiSettings settings)
    : services_(services),
      database_(database),
      instance_(std::move(settings.instance)),
      partners_directory_(std::move(settings.partners_directory)),
      gs1_company_prefix_(std::move(settings.gs1_company_prefix)),
      gs1_extension_(settings.gs1_extension),
      duplicate_window_days_(settings.duplicate_window_days),
      partners_(database, partners_directory_) {
    services_.attachDatabase(database_);  // the plugin host's exception rows, whenever it loads
}

StoredPartner EdiExchange::partner(const std::string& name) {
    return partners_.get(name);
}

std::vector<PartnerLoad> EdiExchange::loadPartners() {
    return partners_.loadAll();
}

std::vector<StoredPartner> EdiExchange::partners() {
    return partners_.list();
}

std::string EdiExchange::identify(const std::string& bytes) {
    const auto spans = interchangeSpans(bytes);
    if (spans.empty()) {
        throw RejectedError(
            "edi: the file does not start with an ISA segment, so its sender cannot be read; name the "
            "partner with --partner");
    }
    std::error_code ec;
    if (fs::is_directory(partners_directory_, ec)) partners_.loadAll();  // a refused file keeps its old row
    const auto& key = spans.front().key;
    const std::string sender = key.sender_qualifier + "/" + key.sender_id;
    const std::string receiver = key.receiver_qualifier + "/" + key.receiver_id;
    const auto found = partners_.bySender(key.sender_qualifier, key.sender_id, key.receiver_qualifier, key.receiver_id);
    if (found.empty()) {
        throw NotFoundError("edi: no partner profile in the database sends as " + sender + " to " + receiver +
                            " (isa.qualifier/isa.id, our.isa.qualifier/our.isa.id): name the partner with --partner, "
                            "or load its profile (keel edi partners load)");
    }
    if (found.size() > 1) {
        std::string names;
        for (const auto& name : found) names += (names.empty() ? "" : ", ") + name;
        throw UsageError("edi: the profiles of " + names + " all send as " + sender + " to " + receiver +
                         "; name the partner with --partner");
    }
    return found.front();
}

std::string EdiExchange::instance() {
    if (!instance_.empty()) return instance_;
    auto& host = services_.pluginHost();
    const auto candidates = host.instancesWith(plugin_host::Capability::kEdi);
    if (candidates.size() == 1) return instance_ = candidates.front();
    std::string failures;
    for (const auto& i : host.instances()) {
        if (i.state == plugin_host::InstanceState::kFailed)
            failures += "; instance " + i.name + " failed: " + i.last_error;
    }
    throw InfrastructureError(candidates.empty()
                                  ? "edi: no plugin instance can translate EDI (plugins.instances)" + failures
                                  : "edi: " + std::to_string(candidates.size()) +
                                        " plugin instances can translate EDI; name one in edi.plugin");
}

EdiReceipt EdiExchange::receive(const std::string& partner, const std::string& name, const std::string& bytes,
                                const orders::Actor& actor) {
    if (partner.empty() || partner.size() > 64) throw UsageError("edi: a partner name of 1 to 64 characters");
    partners_.get(partner);  // no profile: nothing to store the bytes under (NotFoundError)
    const std::string id = IdGenerator::global().next();
    // Stored before anything else, in a unit of work of its own: whatever happens next, the bytes are kept.
    database_.run([&](db::UnitOfWork& uow) {
        uow.statement(
               "INSERT INTO edi_message (id, partner, direction, kind, name, size, sha256, body, status, detail, "
               "related_id, received_at, processed_at, attempts) VALUES (?, ?, 'in', 'interchange', ?, ?, ?, ?, "
               "'received', '{}', NULL, ?, NULL, 0)")
            .bindAll(id, partner, name.substr(0, 255), static_cast<std::int64_t>(bytes.size()), sha256Hex(bytes),
                     edi::toBase64(bytes), now())
            .execute();
    });
    return process(id, partner, bytes, actor);
}

EdiReceipt EdiExchange::reprocess(const std::string& message_id, const orders::Actor& actor) {
    std::optional<std::pair<std::string, std::string>> found;  // partner, body
    std::string direction;
    database_.run([&](db::UnitOfWork& uow) {
        db::Statement& s = uow.statement("SELECT partner, body, direction FROM edi_message WHERE id = ?");
        s.bindAll(message_id).execute();
        while (s.next()) {
            found.emplace(s.getString(0), s.getString(1));
            direction = s.getString(2);
        }
    });
    if (!found) throw NotFoundError("edi reprocess: no EDI message " + message_id + " (keel edi messages)");
    if (direction != "in") throw UsageError("edi reprocess: " + message_id + " is an outbound message");
    return process(message_id, found->first, edi::fromBase64(found->second), actor);
}

EdiReceipt EdiExchange::process(const std::string& message_id, const std::string& partner, const std::string& bytes,
                                const orders::Actor& actor, int attempt) {
    EdiReceipt receipt;
    receipt.message_id = message_id;
    receipt.partner = partner;
    const StoredPartner profile = partners_.get(partner);

    // Control numbers for the acknowledgment: a block reserved (and committed) before the translator runs.
    const std::uint64_t block = interchangeBound(bytes);
    // Acknowledgments and documents share one ISA13 sequence per partner: both are interchanges Keel sends it.
    const std::int64_t first = reserve(partner, "interchange", static_cast<std::int64_t>(block));
    if (first + static_cast<std::int64_t>(block) > 999999999) {
        throw InfrastructureError("edi: the interchange control numbers of partner " + partner + " are used up");
    }

    // Interchanges received before (same sender, receiver and ISA13 within edi.duplicate_window_days, by any
    // message but this one): kept out of translation, so their sets are not taken in again, and answered with a TA1.
    // The others are registered with the message's outcome below.
    const edi::SystemClock clock;
    std::optional<DatabaseInterchangeRegistry> registry;
    std::string fresh = bytes;  // what the translator gets
    std::string repeated;       // the duplicate interchanges
    std::vector<edi::InterchangeKey> repeated_keys;
    std::uint64_t fresh_count = 0;
    if (duplicate_window_days_ > 0) {
        registry.emplace(database_, message_id, partner, std::chrono::hours(24) * duplicate_window_days_, clock);
        std::string kept;
        for (const auto& span : interchangeSpans(bytes)) {
            const std::string part = bytes.substr(span.begin, span.end - span.begin);
            if (!registry->recordAndCheck(span.key)) {
                kept += part;
                ++fresh_count;
                continue;
            }
            const auto& earlier = registry->earlier();
            EdiDuplicate duplicate{span.key.control_number, span.key.sender_qualifier + "/" + span.key.sender_id,
                                   span.key.receiver_qualifier + "/" + span.key.receiver_id, earlier.message_id,
                                   earlier.seen_at};
            receipt.errors.push_back(
                "interchange " + duplicate.control_number + " from " + duplicate.sender + " to " + duplicate.receiver +
                (earlier.message_id == message_id
                     ? std::string(" occurs twice in this file")
                     : " was already received in message " + earlier.message_id + " at " +
                           formatIso8601(earlier.seen_at) +
                           " (within edi.duplicate_window_days = " + std::to_string(duplicate_window_days_) + ")") +
                ": not taken in again (TA1 note 025); a new interchange needs a new ISA13");
            receipt.duplicates.push_back(std::move(duplicate));
            repeated += part;
            repeated_keys.push_back(span.key);
        }
        if (!repeated.empty()) fresh = kept;
    }

    Poco::JSON::Object request;
    request.set("partner", partner);
    request.set("bytes", edi::toBase64(fresh));
    request.set("ack_control_number", static_cast<Poco::Int64>(first));
    request.set("acknowledge", false);     // asked for after the documents are applied, with Keel's refusals
    request.set("profile", profile.text);  // the database's copy: a node without the files translates too
    const std::string source = "edi:" + partner;
    std::string instance_name;
    Poco::JSON::Object detail(Poco::JSON_PRESERVE_KEY_ORDER);
    Poco::JSON::Array::Ptr error_list = new Poco::JSON::Array;
    Poco::JSON::Array::Ptr order_list = new Poco::JSON::Array;
    bool failed = false;
    Poco::JSON::Object::Ptr response;
    if (!fresh.empty()) {  // a file of duplicates only has nothing to translate
        try {
            instance_name = instance();
            auto answer = services_.pluginHost().invoke(instance_name, plugin_host::Operation::kEdiToDocuments,
                                                        stringify(request));
            if (!answer) {
                failed = true;
                receipt.errors.push_back(answer.problem().message);
            } else {
                response = Poco::JSON::Parser().parse(answer.value()).extract<Poco::JSON::Object::Ptr>();
            }
        } catch (const std::exception& e) {
            failed = true;
            receipt.errors.push_back(e.what());
        }
    }

    // Sets that are not taken in, by (GS06, ST02): the translator's and those Keel refuses. The acknowledgment, asked
    // for once the documents were applied, rejects them all.
    Poco::JSON::Array::Ptr rejected = new Poco::JSON::Array;
    const auto reject = [&](const std::string& group, const std::string& set) {
        if (set.empty()) return;
        Poco::JSON::Object::Ptr r = new Poco::JSON::Object;
        r->set("group_control", group);
        r->set("set_control", set);
        rejected->add(r);
    };
    if (response) {
        receipt.sets = response->optValue<Poco::UInt64>("sets", 0);
        if (const auto errors = response->getArray("errors")) {
            for (std::size_t i = 0; i < errors->size(); ++i) {
                const auto e = errors->getObject(static_cast<unsigned>(i));
                std::string text;
                if (!e->optValue<std::string>("set", "").empty())
                    text += "set " + e->getValue<std::string>("set") + " ";
                text += "segment " + std::to_string(e->optValue<Poco::UInt64>("segment", 0));
                if (!e->optValue<std::string>("element", "").empty()) text += " " + e->getValue<std::string>("element");
                text += ": " + e->optValue<std::string>("message", "");
                receipt.errors.push_back(text);
                reject(e->optValue<std::string>("group", ""), e->optValue<std::string>("set", ""));
            }
        }
        if (const auto documents = response->getArray("documents")) {
            // Orders in a row are taken in together (takeOrders), and so are shipping advices in a row
            // (applyShippingAdvices), before the next document of another kind: every document still takes effect, and
            // is answered, in the interchange's order.
            std::vector<Poco::JSON::Object::Ptr> in_row;
            std::string row_type;
            const auto refuse = [&](const Poco::JSON::Object& document, const std::string& refusal) {
                const auto origin = document.getObject("x_edi");
                const std::string group = origin ? origin->optValue<std::string>("group_control", "") : "";
                const std::string set = origin ? origin->optValue<std::string>("set_control", "") : "";
                receipt.errors.push_back((set.empty() ? std::string() : "set " + set + ": ") + refusal);
                reject(group, set);
            };
            const auto takeRow = [&] {
                if (in_row.empty()) return;
                std::vector<const Poco::JSON::Object*> row;
                for (const auto& document : in_row) row.push_back(document.get());
                const auto refusals = row_type == "order"
                                          ? takeOrders(row, actor, receipt)
                                          : applyShippingAdvices(partner, row, message_id, actor, receipt);
                for (std::size_t k = 0; k < row.size(); ++k) {
                    if (refusals[k]) refuse(*row[k], *refusals[k]);
                }
                in_row.clear();
            };
            for (std::size_t i = 0; i < documents->size(); ++i) {
                const auto document = documents->getObject(static_cast<unsigned>(i));
                const std::string type = document->optValue<std::string>("type", "");
                if (type == "order" || type == "shipment_confirmation") {
                    if (type != row_type) takeRow();
                    row_type = type;
                    in_row.push_back(document);
                    continue;
                }
                takeRow();
                std::optional<std::string> refusal;
                if (type == "stock_receipt") {
                    refusal = applyReceiptAdvice(partner, *document, message_id, actor, receipt);
                } else {
                    refusal = "a document of type '" + type + "' is not taken in from EDI";
                }
                if (refusal) refuse(*document, *refusal);
            }
            takeRow();
        }
        if (const auto received = response->getArray("acknowledgments_received")) {
            for (std::size_t i = 0; i < received->size(); ++i) {
                const auto ack = received->getObject(static_cast<unsigned>(i));
                EdiReceivedAck r;
                r.functional_id = ack->optValue<std::string>("functional_id", "");
                r.group_control = ack->optValue<std::string>("group_control", "");
                r.status = ack->optValue<std::string>("status", "");
                receipt.acks_received.push_back(r);
            }
        }
        if (const auto acks = response->getArray("acknowledgments")) {
            // A translator that acknowledges while translating (it ignored "acknowledge": false).
            for (std::size_t i = 0; i < acks->size(); ++i) {
                receipt.ack +=
                    edi::fromBase64(acks->getObject(static_cast<unsigned>(i))->getValue<std::string>("bytes"));
            }
        } else {
            Poco::JSON::Object::Ptr decision = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            decision->set("type", "functional_acknowledgment");
            decision->set("interchange", request.getValue<std::string>("bytes"));
            decision->set("rejected", rejected);
            Poco::JSON::Object ask;
            ask.set("partner", partner);
            ask.set("document", decision);
            ask.set("profile", profile.text);
            ask.set("control_number", static_cast<Poco::Int64>(first));
            // What was applied stays applied (each document committed on its own, idempotently); an acknowledgment
            // that cannot be made leaves the message rejected, and reprocess makes it.
            try {
                auto answer = services_.pluginHost().invoke(instance_name, plugin_host::Operation::kEdiFromDocument,
                                                            stringify(ask));
                if (!answer) {
                    receipt.errors.push_back("the acknowledgment could not be made: " + answer.problem().message);
                } else {
                    const auto made = Poco::JSON::Parser().parse(answer.value()).extract<Poco::JSON::Object::Ptr>();
                    receipt.ack = edi::fromBase64(made->optValue<std::string>("bytes", ""));
                }
            } catch (const std::exception& e) {
                receipt.errors.push_back(std::string("the acknowledgment could not be made: ") + e.what());
            }
        }
    }
    if (!repeated.empty() && profile.ack != "none") {
        // The translator's acknowledgments used at most one number per interchange it got: the rest of the block.
        receipt.ack += duplicateAcks(repeated, repeated_keys, static_cast<std::uint64_t>(first) + fresh_count);
    }
    // The partner's 997/999 of groups Keel sent: matched by GS06 (= ISA13 = control_number) to the outbound message;
    // an overdue-acknowledgment exception of that message is resolved.
    const std::int64_t ack_at = now();
    for (const auto& ack : receipt.acks_received) {
        std::int64_t control = -1;
        try {
            control = std::stoll(ack.group_control);
        } catch (const std::exception&) {
        }
        std::optional<std::string> sent_id;
        database_.run([&](db::UnitOfWork& uow) {
            sent_id.reset();
            db::Statement& find = uow.statement(
                "SELECT id FROM edi_message WHERE partner = ? AND direction = 'out' AND control_number = ? AND kind <> "
                "'ack'");
            find.bindAll(partner, control).execute();
            while (find.next()) sent_id = find.getString(0);
            if (!sent_id) return;
            uow.statement("UPDATE edi_message SET acknowledged_at = ?, ack_status = ? WHERE id = ?")
                .bindAll(ack_at, ack.status.substr(0, 1), *sent_id)
                .execute();
            uow.statement(
                   "UPDATE integration_exception SET resolved_at = ? WHERE reference = ? AND code = "
                   "'edi_ack_overdue' AND resolved_at IS NULL")
                .bindAll(ack_at, *sent_id)
                .execute();
        });
        if (!sent_id) {
            receipt.errors.push_back("a " + ack.functional_id + " acknowledgment of group " + ack.group_control +
                                     ", which Keel did not send to " + partner);
        } else if (ack.status == "R" || ack.status == "P") {
            receipt.errors.push_back("the partner " + std::string(ack.status == "R" ? "rejected" : "partly rejected") +
                                     " group " + ack.group_control + " (" + ack.functional_id + ", message " +
                                     *sent_id + ")");
        }
    }
    receipt.status = failed ? "failed" : (receipt.errors.empty() ? "processed" : "rejected");
    for (const auto& order : receipt.orders) {
        Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        o->set("external_id", order.external_id);
        o->set("order_id", order.order_id);
        o->set("created", order.created);
        o->set("state", order.state);
        order_list->add(o);
    }
    for (const auto& e : receipt.errors) error_list->add(e);
    detail.set("instance", instance_name);
    detail.set("sets", static_cast<Poco::UInt64>(receipt.sets));
    detail.set("orders", order_list);
    if (!receipt.advices.empty()) detail.set("advices", toJson(receipt)->getArray("advices"));
    detail.set("errors", error_list);
    if (!receipt.duplicates.empty()) {
        Poco::JSON::Array::Ptr earlier = new Poco::JSON::Array;
        for (const auto& d : receipt.duplicates) earlier->add(d.earlier_message);
        detail.set("duplicate_of", earlier);
    }
    // Nothing but interchanges received before: the partner sent a file again, there is nothing to fix here.
    const bool only_duplicates =
        !failed && !receipt.errors.empty() && receipt.errors.size() == receipt.duplicates.size();

    const std::int64_t at = now();
    const auto store = [&](db::UnitOfWork& uow) {
        // First, so that a message that lost the race for an interchange changes nothing and is decided again.
        if (registry && !failed) registry->record(uow);
        uow.statement(
               "UPDATE edi_message SET status = ?, detail = ?, processed_at = ?, attempts = attempts + 1 WHERE id = ?")
            .bindAll(receipt.status, stringify(detail), at, message_id)
            .execute();
        if (!receipt.ack.empty()) {
            receipt.ack_message_id = IdGenerator::global().next();
            uow.statement(
                   "INSERT INTO edi_message (id, partner, direction, kind, name, size, sha256, body, status, detail, "
                   "related_id, received_at, processed_at, attempts) VALUES (?, ?, 'out', 'ack', ?, ?, ?, ?, 'sent', "
                   "'{}', ?, ?, ?, 1)")
                .bindAll(receipt.ack_message_id, partner, "ack-" + message_id + ".edi",
                         static_cast<std::int64_t>(receipt.ack.size()), sha256Hex(receipt.ack),
                         edi::toBase64(receipt.ack), message_id, at, at)
                .execute();
        }
        // The exception queue: one open entry per message that needs a person; resolved when it goes through.
        uow.statement(
               "UPDATE integration_exception SET resolved_at = ? WHERE reference = ? AND source = ? AND "
               "resolved_at IS NULL")
            .bindAll(at, message_id, source)
            .execute();
        if (receipt.status != "processed") {
            std::string message =
                only_duplicates
                    ? "EDI message " + message_id + " repeats what was received before: " + receipt.errors.front()
                    : std::to_string(receipt.errors.size()) + " problem(s) in EDI message " + message_id +
                          " (keel edi reprocess " + message_id +
                          " after fixing): " + (receipt.errors.empty() ? std::string() : receipt.errors.front());
            uow.statement(
                   "INSERT INTO integration_exception (id, source, code, message, reference, created_at, resolved_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, NULL)")
                .bindAll(IdGenerator::global().next(), source,
                         std::string(failed            ? "edi_failed"
                                     : only_duplicates ? "edi_duplicate"
                                                       : "edi_rejected"),
                         message.substr(0, 4000), message_id, at)
                .execute();
        }
    };
    const auto decideAgain = [&](const std::string& why) {
        if (attempt >= 3) {
            throw ConflictError("edi: the interchanges of message " + message_id +
                                " were registered by other messages at the same moment, three times (" + why +
                                "); run keel edi reprocess " + message_id);
        }
        logging::get("edi").information("EDI message %s: deciding again (%s)", message_id, why);
        return process(message_id, partner, bytes, actor, attempt + 1);
    };
    try {
        database_.run(store);
    } catch (const InterchangeTaken& e) {
        return decideAgain(e.what());
    } catch (const db::DbError& e) {
        if (e.kind() != db::ErrorKind::kUniqueViolation) throw;
        return decideAgain(e.what());
    }
    logging::get("edi").information("EDI message %s from %s: %s, %z order(s), %z warehouse advice(s), %z error(s)",
                                    message_id, partner, receipt.status, receipt.orders.size(), receipt.advices.size(),
                                    receipt.errors.size());
    return receipt;
}

Poco::JSON::Object::Ptr toJson(const EdiReceipt& r) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    o->set("message_id", r.message_id);
    o->set("partner", r.partner);
    o->set("status", r.status);
    o->set("sets", static_cast<Poco::UInt64>(r.sets));
    Poco::JSON::Array::Ptr orders = new Poco::JSON::Array;
    for (const auto& order : r.orders) {
        Poco::JSON::Object::Ptr x = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        x->set("external_id", order.external_id);
        x->set("order_id", order.order_id);
        x->set("status", order.created ? "created" : "already_imported");
        x->set("state", order.state);
        orders->add(x);
    }
    o->set("orders", orders);
    Poco::JSON::Array::Ptr advices = new Poco::JSON::Array;
    for (const auto& advice : r.advices) {
        Poco::JSON::Object::Ptr x = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        x->set("transaction_set", advice.transaction_set);
        x->set("reference", advice.reference);
        x->set("target", advice.target);
        x->set("outcome", advice.outcome);
        x->set("note", advice.note);
        advices->add(x);
    }
    o->set("advices", advices);
    Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
    for (const auto& e : r.errors) errors->add(e);
    o->set("errors", errors);
    Poco::JSON::Array::Ptr duplicates = new Poco::JSON::Array;
    for (const auto& d : r.duplicates) {
        Poco::JSON::Object::Ptr x = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        x->set("control_number", d.control_number);
        x->set("sender", d.sender);
        x->set("receiver", d.receiver);
        x->set("earlier_message_id", d.earlier_message);
        x->set("seen_at", formatIso8601(d.seen_at));
        duplicates->add(x);
    }
    o->set("duplicates", duplicates);
    o->set("ack_message_id", r.ack_message_id);
    o->set("ack", r.ack);
    return o;
}

std::vector<std::optional<std::string>> EdiExchange::takeOrders(const std::vector<const Poco::JSON::Object*>& documents,
                                                                const orders::Actor& actor, EdiReceipt& receipt) {
    std::vector<std::optional<std::string>> refusals(documents.size());
    std::vector<orders::OrderDocument> valid;
    std::vector<std::size_t> valid_at;  // the position of each valid document in `documents`
    for (std::size_t i = 0; i < documents.size(); ++i) {
        const auto parsed = orders::parseOrderDocument(stringify(*documents[i]));
        if (!parsed.ok()) {
            refusals[i] =
                "PO " + documents[i]->optValue<std::string>("external_id", "") + ": " +
                (parsed.problems.empty() ? std::string("not an order document") : parsed.problems.front().message);
            continue;
        }
        valid.push_back(*parsed.document);
        valid_at.push_back(i);
    }
    const auto outcomes = services_.orders.importEach(database_, valid, actor);
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
        const std::size_t i = valid_at[k];
        const std::string external_id = documents[i]->optValue<std::string>("external_id", "");
        if (!outcomes[k]) {
            refusals[i] = "PO " + external_id + ": " + outcomes[k].problem().message;
            continue;
        }
        EdiOrder order;
        order.external_id = external_id;
        order.order_id = outcomes[k].value().order_id;
        order.created = outcomes[k].value().status == orders::ImportStatus::kCreated;
        order.state = std::string(orders::toString(outcomes[k].value().state));
        receipt.orders.push_back(order);
    }
    return refusals;
}

namespace {

/// The reference Keel gives a fulfiller for one of its ids where the id does not fit (W0502 of a 940, the 856's
/// BSN02, the 810's invoice number): the id without dashes, cut to `length` characters.
std::string compactId(std::string id, std::size_t length) {
    id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
    return id.substr(0, length);
}

/// The LIKE pattern of the shipment a depositor order number names: its 22 hexadecimal characters are the start of the
/// shipment's id (a UUIDv7: 48 bits of milliseconds and a per-process counter, then randomness), so with the dashes
/// put back they are a prefix of it; a full id is taken as is. nullopt for anything else.
std::optional<std::string> shipmentPattern(std::string reference) {
    std::transform(reference.begin(), reference.end(), reference.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (isUuid(reference)) return reference;
    if (reference.size() != 22 ||
        !std::all_of(reference.begin(), reference.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
        return std::nullopt;
    }
    return reference.substr(0, 8) + "-" + reference.substr(8, 4) + "-" + reference.substr(12, 4) + "-" +
           reference.substr(16, 4) + "-" + reference.substr(20) + "%";
}

/// When a shipment a fulfiller reports shipped left: a 945 gives the day, so an earlier day is taken at its start
/// (UTC) and today (or a day ahead of Keel's clock) as now.
std::int64_t shippedAt(const std::string& iso, std::int64_t now_micros) {
    const auto day = Date::parse(iso.substr(0, 10));
    if (!day) return now_micros;
    const std::int64_t start =
        static_cast<std::int64_t>(Date::fromYmd(19700101).daysUntil(day.value())) * 86'400'000'000LL;
    return start + 86'400'000'000LL <= now_micros ? start : now_micros;
}

/// An item a partner's document names (a SKU, an alias of the partner's channel or a GTIN) and its quantity in base
/// units; a Problem naming the line otherwise.
Result<std::pair<catalog::Item, std::int64_t>> resolveLine(db::UnitOfWork& uow, const catalog::Catalog& catalog,
                                                           const Poco::JSON::Object& line, const std::string& channel) {
    const std::string at = "line " + line.optValue<std::string>("line_id", "?");
    const std::string sku = line.optValue<std::string>("sku", "");
    const auto item = catalog.findItem(uow, sku, channel);
    if (!item) {
        return uow.fail(ExitCode::kRejected,
                        at + ": item '" + sku + "' is not known to Keel (a SKU, an alias of channel " + channel +
                            " or a GTIN; keel alias import)",
                        "sku");
    }
    const std::int64_t quantity = line.optValue<Poco::Int64>("quantity", 0);
    const std::string uom = line.optValue<std::string>("uom", "");
    try {
        return std::make_pair(*item, uom.empty() ? quantity : catalog.toBaseUnits(*item, quantity, uom));
    } catch (const RejectedError& e) {
        return uow.fail(ExitCode::kRejected, at + ": " + e.what(), "uom");
    }
}

}  // namespace

std::vector<std::optional<std::string>> EdiExchange::applyShippingAdvices(
    const std::string& partner, const std::vector<const Poco::JSON::Object*>& advices, const std::string& message_id,
    const orders::Actor& actor, EdiReceipt& receipt) {
    std::vector<std::optional<std::string>> refusals(advices.size());
    // What each 945 says, read before any unit of work; one that names no shipment reference is refused here.
    struct Advice {
        const Poco::JSON::Object* advice = nullptr;
        std::string reference;
        std::string label;
        std::string pattern;
        std::vector<Poco::JSON::Object::Ptr> lines;
        std::string carrier = "unspecified";
        std::string service;
        std::string tracking;
    };
    std::vector<Advice> valid;
    std::vector<std::size_t> valid_at;  // the position of each valid advice in `advices`
    for (std::size_t i = 0; i < advices.size(); ++i) {
        const Poco::JSON::Object& advice = *advices[i];
        Advice a;
        a.advice = &advice;
        a.reference = advice.optValue<std::string>("depositor_order", advice.optValue<std::string>("shipment_id", ""));
        a.label = "945 for depositor order '" + a.reference + "'";
        const auto pattern = shipmentPattern(a.reference);
        if (!pattern) {
            refusals[i] =
                a.label + ": not a reference Keel gives its shipments (W0502 of its 940: 22 hexadecimal characters)";
            continue;
        }
        a.pattern = *pattern;
        if (const auto packages = advice.getArray("packages")) {
            for (std::size_t p = 0; p < packages->size(); ++p) {
                const auto package = packages->getObject(static_cast<unsigned>(p));
                if (const auto how = package->getObject("carrier"); how && p == 0) {
                    a.carrier = how->optValue<std::string>("carrier", a.carrier).substr(0, 64);
                    a.service = how->optValue<std::string>("service", "").substr(0, 32);
                    a.tracking = how->optValue<std::string>("tracking_number", "").substr(0, 128);
                }
                if (const auto list = package->getArray("lines")) {
                    for (std::size_t l = 0; l < list->size(); ++l)
                        a.lines.push_back(list->getObject(static_cast<unsigned>(l)));
                }
            }
        }
        valid.push_back(std::move(a));
        valid_at.push_back(i);
    }
    const auto locations = threePlLocations(partner);
    const std::string channel = channelOf(partner);
    const std::int64_t at = now();
    const auto confirm = [&](db::UnitOfWork& uow, const Advice& a) -> Result<EdiAdvice> {
        std::map<std::string, std::string> code_of;  // location id → code, of the partner's locations
        for (const auto& code : locations) {
            if (const auto location = services_.catalog.findLocation(uow, code)) code_of[location->id] = code;
        }
        struct Candidate {
            std::string id, order_id, location_id, state, tracking;
        };
        std::vector<Candidate> found;
        db::Statement& find =
            uow.statement("SELECT id, order_id, location_id, state, tracking FROM shipment WHERE id LIKE ?");
        find.bindAll(a.pattern).execute();
        while (find.next()) {
            found.push_back(
                {find.getString(0), find.getString(1), find.getString(2), find.getString(3), find.getString(4)});
        }
        if (found.empty()) {
            return uow.fail(ExitCode::kNotFound, "no shipment of Keel's has this depositor order number", "W0602");
        }
        std::vector<Candidate> own;
        for (const auto& c : found) {
            if (code_of.count(c.location_id)) own.push_back(c);
        }
        if (own.empty()) {
            const auto location = services_.catalog.findLocationById(uow, found.front().location_id);
            return uow.fail(ExitCode::kRejected,
                            "shipment " + found.front().id + " is at location " +
                                (location ? location->code : found.front().location_id) + ", which partner " + partner +
                                " does not run (locations = " + joinedCodes(locations) + ")",
                            "location");
        }
        if (own.size() > 1) {
            return uow.fail(ExitCode::kConflict,
                            "the depositor order number names " + std::to_string(own.size()) + " shipments", "W0602");
        }
        const Candidate& target = own.front();
        const std::string code = code_of.at(target.location_id);
        const std::string warehouse = a.advice->optValue<std::string>("location", "");
        if (!warehouse.empty() && warehouse != code) {
            return uow.fail(
                ExitCode::kRejected,
                "the 945 is from warehouse " + warehouse + ", shipment " + target.id + " was released at " + code,
                "location");
        }
        if (target.state == "shipped" || target.state == "delivered") {
            return EdiAdvice{"945", a.reference, target.id, "already_shipped",
                             "shipment " + target.id + " was already " + target.state +
                                 (target.tracking.empty() ? std::string() : " (tracking " + target.tracking + ")") +
                                 ": nothing changed"};
        }
        if (target.state == "cancelled") {
            return uow.fail(ExitCode::kConflict,
                            "shipment " + target.id +
                                " was cancelled in Keel after its 940 was sent; the goods the "
                                "3PL shipped need a person (keel order show " +
                                target.order_id + ")",
                            "state");
        }
        orders::Shipment shipment;
        for (auto& s : services_.orders.shipments(uow, target.order_id)) {
            if (s.id == target.id) shipment = std::move(s);
        }
        // What shipped, per item in base units, against what was released of it.
        std::map<std::string, std::int64_t> shipped;
        std::map<std::string, std::string> sku_of;
        for (const auto& line : a.lines) {
            auto resolved = resolveLine(uow, services_.catalog, *line, channel);
            if (!resolved) return resolved.problem();
            const auto& [item, quantity] = resolved.value();
            shipped[item.id] += quantity;
            sku_of[item.id] = item.sku;
        }
        std::map<std::string, std::int64_t> released;
        for (const auto& line : shipment.lines) released[line.item_id] += line.quantity;
        for (const auto& [item_id, quantity] : shipped) {
            if (!released.count(item_id)) {
                return uow.fail(ExitCode::kRejected, "item " + sku_of[item_id] + " is not on shipment " + shipment.id,
                                "sku");
            }
            if (quantity > released[item_id]) {
                return uow.fail(ExitCode::kRejected,
                                std::to_string(quantity) + " of " + sku_of[item_id] + " shipped, " +
                                    std::to_string(released[item_id]) + " were released on shipment " + shipment.id,
                                "quantity");
            }
        }
        orders::ShipmentReport report;
        report.shipped_at = shippedAt(a.advice->optValue<std::string>("shipped_at", ""), at);
        std::string shorts;
        for (const auto& line : shipment.lines) {
            std::int64_t& left = shipped[line.item_id];
            const std::int64_t here = std::min(left, line.quantity);
            left -= here;
            report.shipped[line.line_no] = here;
            if (here == line.quantity) continue;
            const auto item = services_.catalog.findItemById(uow, line.item_id);
            shorts += (shorts.empty() ? "" : ", ") + (item ? item->sku : line.item_id) + " " + std::to_string(here) +
                      " of " + std::to_string(line.quantity);
        }
        auto confirmed =
            services_.orders.confirmShipment(uow, shipment.id, a.carrier, a.service, a.tracking, actor, report);
        if (!confirmed) return confirmed.problem();
        std::string note = "shipment " + shipment.id + " shipped from " + code +
                           (a.tracking.empty() ? std::string() : " (tracking " + a.tracking + ")");
        if (shorts.empty()) return EdiAdvice{"945", a.reference, shipment.id, "shipped", note};
        // Short: the missing units were cancelled on the order; whether the 3PL still holds them is for a person.
        note += "; short: " + shorts + " (the missing units were cancelled on the order and stay on hand at " + code +
                " in Keel: check the 3PL's stock)";
        uow.statement(
               "INSERT INTO integration_exception (id, source, code, message, reference, created_at, resolved_at) "
               "VALUES (?, ?, 'edi_short_shipment', ?, ?, ?, NULL)")
            .bindAll(IdGenerator::global().next(), "edi:" + partner,
                     ("945 from " + partner + " (message " + message_id + "): " + note).substr(0, 4000), shipment.id,
                     at)
            .execute();
        return EdiAdvice{"945", a.reference, shipment.id, "short_shipped", note};
    };
    db::CommitGroup group(database_, kAdvicesPerCommit);
    const auto outcomes = group.runEach(valid, confirm);
    for (std::size_t k = 0; k < outcomes.size(); ++k) {
        if (!outcomes[k]) {
            refusals[valid_at[k]] = valid[k].label + ": " + outcomes[k].problem().message;
            continue;
        }
        receipt.advices.push_back(outcomes[k].value());
    }
    return refusals;
}

std::optional<std::string> EdiExchange::applyReceiptAdvice(const std::string& partner, const Poco::JSON::Object& advice,
                                                           const std::string& message_id, const orders::Actor& actor,
                                                           EdiReceipt& receipt) {
    const std::string number = advice.optValue<std::string>("receipt_id", "");
    const std::string code = advice.optValue<std::string>("location", "");
    const std::string label = "944 receipt " + number;
    const auto locations = threePlLocations(partner);
    if (std::find(locations.begin(), locations.end(), code) == locations.end()) {
        return label + ": location '" + code + "' is not one partner " + partner +
               " runs (locations = " + joinedCodes(locations) + ")";
    }
    const std::string channel = channelOf(partner);
    const auto lines = advice.getArray("lines");
    const auto already = [&](const std::string& by) {
        return EdiAdvice{
            "944", number, code, "already_received",
            "receipt " + number + " of " + partner + " was received by message " + by + ": nothing changed"};
    };
    try {
        auto applied = database_.run([&](db::UnitOfWork& uow) -> Result<EdiAdvice> {
            const auto location = services_.catalog.findLocation(uow, code);
            if (!location) {
                return uow.fail(ExitCode::kNotFound, "no Keel location '" + code + "' (keel location import)",
                                "location");
            }
            if (location->type != catalog::LocationType::kThirdParty) {
                return uow.fail(ExitCode::kRejected,
                                "location " + code + " is a " + std::string(catalog::toString(location->type)) +
                                    " location, not a 3pl one (a 3PL's 944 receives only at its own locations)",
                                "location");
            }
            db::Statement& seen =
                uow.statement("SELECT message_id FROM edi_warehouse_receipt WHERE partner = ? AND receipt_number = ?");
            seen.bindAll(partner, number).execute();
            std::optional<std::string> by;
            while (seen.next()) by = seen.getString(0);
            if (by) return already(*by);
            std::int64_t units = 0;
            for (std::size_t l = 0; lines && l < lines->size(); ++l) {
                const auto line = lines->getObject(static_cast<unsigned>(l));
                auto resolved = resolveLine(uow, services_.catalog, *line, channel);
                if (!resolved) return resolved.problem();
                const auto& [item, quantity] = resolved.value();
                const std::string lot = line->optValue<std::string>("lot", "");
                inventory::ReceiveRequest request;
                request.item_id = item.id;
                request.location_id = location->id;
                request.quantity = quantity;
                // The warehouse's lot is the lot of a lot-tracked item; other items have none to record.
                if (item.lot_tracked) {
                    if (lot.empty()) {
                        return uow.fail(ExitCode::kRejected,
                                        "line " + line->optValue<std::string>("line_id", "?") + ": " + item.sku +
                                            " is lot-tracked and the 944 gives no lot (W0708 or N9*LT)",
                                        "lot");
                    }
                    request.lot_code = lot;
                }
                request.source =
                    inventory::Source{"edi_944", message_id, actor.name, "944 " + number + " from " + partner};
                auto received = services_.inventory.receive(uow, request);
                if (!received) {
                    return uow.fail(
                        received.problem().code,
                        "line " + line->optValue<std::string>("line_id", "?") + ": " + received.problem().message,
                        received.problem().field);
                }
                units += quantity;
            }
            uow.statement(
                   "INSERT INTO edi_warehouse_receipt (partner, receipt_number, location_id, message_id, units, "
                   "received_at) VALUES (?, ?, ?, ?, ?, ?)")
                .bindAll(partner, number, location->id, message_id, units, now())
                .execute();
            return EdiAdvice{"944", number, code, "received",
                             std::to_string(units) + " unit(s) of " + std::to_string(lines ? lines->size() : 0) +
                                 " line(s) received at " + code};
        });
        if (!applied) return label + ": " + applied.problem().message;
        receipt.advices.push_back(applied.value());
    } catch (const db::DbError& e) {
        // The same receipt number taken in by another process at the same moment: the key kept it to one receipt.
        if (e.kind() != db::ErrorKind::kUniqueViolation) throw;
        receipt.advices.push_back(already("another process, at the same time"));
    }
    return std::nullopt;
}

std::int64_t EdiExchange::reserve(const std::string& partner, const std::string& kind, std::int64_t count) {
    std::int64_t first = 1;
    const auto take = [&](db::UnitOfWork& uow) {
        db::Statement& update =
            uow.statement("UPDATE edi_control_number SET next_value = next_value + ? WHERE partner = ? AND kind = ?");
        if (update.bindAll(count, partner, kind).execute() == 0) {
            uow.statement("INSERT INTO edi_control_number (partner, kind, next_value) VALUES (?, ?, ?)")
                .bindAll(partner, kind, 1 + count)
                .execute();
            first = 1;
        } else {
            db::Statement& read =
                uow.statement("SELECT next_value FROM edi_control_number WHERE partner = ? AND kind = ?");
            read.bindAll(partner, kind).execute();
            while (read.next()) first = read.getInt64(0) - count;
        }
    };
    // The first reservation of a sequence inserts its row: two at the same moment (two uploads from a new partner)
    // both insert, and the one the primary key refuses runs again and finds the row to update.
    db::RunOptions options;
    options.retry_unique_violation = true;
    database_.run(take, options);
    return first;
}

std::vector<EdiMessage> EdiExchange::messages(const std::string& partner, std::size_t limit) {
    std::vector<EdiMessage> out;
    database_.run([&](db::UnitOfWork& uow) {
        const std::string columns =
            "SELECT id, partner, direction, kind, name, size, status, received_at, attempts, detail FROM edi_message ";
        db::Statement& s = partner.empty()
                               ? uow.statement(columns + "ORDER BY received_at DESC, id DESC")
                               : uow.statement(columns + "WHERE partner = ? ORDER BY received_at DESC, id DESC");
        if (!partner.empty()) s.bindAll(partner);
        s.execute();
        while (s.next() && out.size() < limit) {
            EdiMessage m;
            m.id = s.getString(0);
            m.partner = s.getString(1);
            m.direction = s.getString(2);
            m.kind = s.getString(3);
            m.name = s.getString(4);
            m.size = s.getInt64(5);
            m.status = s.getString(6);
            m.received_at = s.getInt64(7);
            m.attempts = s.getInt64(8);
            m.detail = s.getString(9);
            out.push_back(std::move(m));
        }
    });
    return out;
}

std::string EdiExchange::channelOf(const std::string& partner) const {
    return partners_.get(partner).channel;
}

std::vector<std::string> EdiExchange::threePlLocations(const std::string& partner) const {
    const edi::PartnerProfile profile = partners_.get(partner).profile();
    if (profile.role != edi::PartnerRole::kThreePl) return {};
    return profile.locations;  // at least one: the profile is refused without
}

DropFolders EdiExchange::folders(const std::string& partner) const {
    const StoredPartner stored = partners_.get(partner);
    const edi::PartnerProfile profile = stored.profile();
    DropFolders folders;
    const auto required = [&](const std::string& key, const std::string& value) {
        if (value.empty()) throw InfrastructureError(stored.source + ": " + key + " is required for the file drop");
        return value;
    };
    folders.inbound = required("transport.inbound", profile.transport_inbound);
    folders.outbound = required("transport.outbound", profile.transport_outbound);
    folders.archive = required("transport.archive", profile.transport_archive);
    folders.error = required("transport.error", profile.transport_error);
    folders.settle_ms = profile.transport_settle_ms;
    return folders;
}

PollResult EdiExchange::poll(const std::string& partner, const orders::Actor& actor) {
    const DropFolders drop = folders(partner);
    overdue(partner);
    PollResult result;
    std::error_code ec;
    if (!fs::is_directory(drop.inbound, ec)) {
        throw InfrastructureError("edi: " + drop.inbound + " (transport.inbound of " + partner +
                                  ") is not a directory");
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(drop.inbound, ec)) {
        if (!entry.is_regular_file()) continue;
        const std::string name = entry.path().filename().string();
        // Write-then-rename: a file still being written carries a temporary name.
        if (name.empty() || name.front() == '.' || name.size() > 255) continue;
        const std::string extension = entry.path().extension().string();
        if (extension == ".tmp" || extension == ".part" || extension == ".filepart") {
            result.skipped.push_back(name);
            continue;
        }
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        if (drop.settle_ms > 0) {
            // Or a stable size: not modified for settle_ms.
            const auto age = fs::file_time_type::clock::now() - fs::last_write_time(file, ec);
            if (ec || age < std::chrono::milliseconds(drop.settle_ms)) {
                result.skipped.push_back(file.filename().string());
                continue;
            }
        }
        std::ifstream in(file, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (in.bad()) throw InfrastructureError("edi: cannot read " + file.string());
        EdiReceipt receipt = receive(partner, file.filename().string(), bytes, actor);
        if (!receipt.ack.empty()) {
            fs::create_directories(drop.outbound);
            writeAtomically(fs::path(drop.outbound) / ("ack-" + receipt.message_id + ".edi"), receipt.ack);
        }
        // The file leaves the inbound folder only after its bytes and outcome are in the database.
        moveInto(file, receipt.status == "processed" ? drop.archive : drop.error, receipt.message_id);
        result.receipts.push_back(std::move(receipt));
    }
    return result;
}

namespace {

Poco::JSON::Object::Ptr address(const db::Statement& s, std::size_t first) {
    Poco::JSON::Object::Ptr a = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    const char* keys[] = {"name", "line1", "line2", "city", "region", "postal_code", "country"};
    for (std::size_t i = 0; i < 7; ++i) {
        const std::string value = s.getString(first + i);
        if (!value.empty()) a->set(keys[i], value);
    }
    return a;
}

constexpr const char* kShipTo =
    "o.ship_name, o.ship_line1, o.ship_line2, o.ship_city, o.ship_region, "
    "o.ship_postal_code, o.ship_country";

/// What an order acknowledgment says: the order's status and each line's status and quantities (not its date or
/// purpose), to tell whether a further 855 would say something new.
std::string acknowledgmentSays(const Poco::JSON::Object& ack) {
    std::string says = ack.optValue<std::string>("status", "");
    if (const auto lines = ack.getArray("lines")) {
        for (std::size_t i = 0; i < lines->size(); ++i) {
            const auto line = lines->getObject(static_cast<unsigned>(i));
            says += "|" + line->optValue<std::string>("line_id", "") + ":" + line->optValue<std::string>("status", "") +
                    ":" + std::to_string(line->optValue<Poco::Int64>("quantity", 0)) + ":" +
                    std::to_string(line->optValue<Poco::Int64>("x_backordered", 0)) + ":" +
                    std::to_string(line->optValue<Poco::Int64>("x_rejected", 0));
        }
    }
    return says;
}

/// The same of an inventory advice: each item's part number, available-to-promise and on-hand quantity.
std::string inventorySays(const Poco::JSON::Object& advice) {
    std::string says;
    if (const auto items = advice.getArray("items")) {
        for (std::size_t i = 0; i < items->size(); ++i) {
            const auto item = items->getObject(static_cast<unsigned>(i));
            says += item->optValue<std::string>("sku", "") + ":" +
                    std::to_string(item->optValue<Poco::Int64>("atp", 0)) + ":" +
                    std::to_string(item->optValue<Poco::Int64>("on_hand", 0)) + "|";
        }
    }
    return says;
}

}  // namespace

void EdiExchange::customerDocuments(db::UnitOfWork& uow, const std::string& partner, const std::string& channel,
                                    const SendOptions& options, std::vector<Poco::JSON::Object::Ptr>& documents,
                                    std::vector<std::string>& sets, SendResult& result) {
    // 855: every order of the partner once allocation (or a person) decided what becomes of it, and again when
    // an order acknowledged before changed (its version passed the one its last 855 describes).
    db::Statement& decided = uow.statement(
        "SELECT o.id, o.external_id, o.state, o.hold_reasons, o.version, (SELECT COUNT(*) FROM edi_message m WHERE "
        "m.related_id = o.id AND m.kind = '855') FROM sales_order o WHERE o.channel = ? AND o.state NOT IN "
        "('received', 'validated', 'on_hold') AND (NOT EXISTS (SELECT 1 FROM edi_message m WHERE m.related_id = "
        "o.id AND m.kind = '855') OR o.version > (SELECT MAX(m.subject_version) FROM edi_message m WHERE "
        "m.related_id = o.id AND m.kind = '855')) ORDER BY o.id");
    decided.bindAll(channel).execute();
    std::vector<Poco::JSON::Object::Ptr> acks;
    while (decided.next()) {
        Poco::JSON::Object::Ptr ack = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        ack->set("type", "order_acknowledgment");
        ack->set("version", 1);
        ack->set("order_id", decided.getString(0));
        ack->set("channel", channel);
        ack->set("external_id", decided.getString(1));
        ack->set("purpose", std::string(decided.getInt64(5) > 0 ? "change" : "original"));
        ack->set("x_state", decided.getString(2));
        if (!decided.getString(3).empty()) ack->set("reason", decided.getString(3).substr(0, 500));
        ack->set("acknowledged_at", formatIso8601(now()));
        ack->set("x_order_version", static_cast<Poco::Int64>(decided.getInt64(4)));
        acks.push_back(ack);
    }
    for (auto& ack : acks) {
        const std::string state = ack->getValue<std::string>("x_state");
        const bool refused = state == "rejected" || state == "cancelled";
        db::Statement& lines = uow.statement(
            "SELECT external_line, sku, quantity, cancelled, backordered FROM sales_order_line WHERE order_id = ? "
            "ORDER BY line_no");
        lines.bindAll(ack->getValue<std::string>("order_id")).execute();
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        bool any_backordered = false;
        bool any_accepted = false;
        bool any_rejected = false;
        while (lines.next()) {
            const std::int64_t ordered = lines.getInt64(2);
            const std::int64_t cancelled = refused ? ordered : lines.getInt64(3);
            const std::int64_t backordered = refused ? 0 : lines.getInt64(4);
            const std::int64_t accepted = ordered - cancelled - backordered;
            Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            line->set("line_id", lines.getString(0));
            line->set("sku", lines.getString(1));
            line->set("quantity", static_cast<Poco::Int64>(accepted));
            line->set("status", std::string(cancelled == ordered ? "rejected"
                                            : backordered > 0    ? "backordered"
                                                                 : "accepted"));
            line->set("x_ordered", static_cast<Poco::Int64>(ordered));
            line->set("x_backordered", static_cast<Poco::Int64>(backordered));
            line->set("x_rejected", static_cast<Poco::Int64>(cancelled));
            any_backordered = any_backordered || backordered > 0;
            any_accepted = any_accepted || accepted > 0;
            any_rejected = any_rejected || cancelled > 0;
            list->add(line);
        }
        ack->set("lines", list);
        // Accepted only as ordered; a backordered or cancelled line makes it partly accepted (AC, with detail).
        ack->set("status", std::string(refused                             ? "rejected"
                                       : !any_backordered && !any_rejected ? "accepted"
                                       : any_accepted                      ? "partially_accepted"
                                                                           : "backordered"));
        ack->remove("x_state");
        if (ack->getValue<std::string>("purpose") == "change") {
            // A further 855 only when it would say something else than the last one; otherwise the last one
            // still describes this version of the order.
            db::Statement& last = uow.statement(
                "SELECT id, detail FROM edi_message WHERE related_id = ? AND kind = '855' ORDER BY received_at "
                "DESC, id DESC LIMIT 1");
            last.bindAll(ack->getValue<std::string>("order_id")).execute();
            std::optional<std::pair<std::string, std::string>> previous;  // id, the document it sent
            while (last.next()) previous.emplace(last.getString(0), last.getString(1));
            if (previous && acknowledgmentSays(*ack) ==
                                acknowledgmentSays(
                                    *Poco::JSON::Parser().parse(previous->second).extract<Poco::JSON::Object::Ptr>())) {
                uow.statement("UPDATE edi_message SET subject_version = ? WHERE id = ?")
                    .bindAll(static_cast<std::int64_t>(ack->getValue<Poco::Int64>("x_order_version")), previous->first)
                    .execute();
                continue;
            }
        }
        documents.push_back(ack);
        sets.push_back("855");
    }

    db::Statement& shipments = uow.statement(
        std::string("SELECT s.id, s.order_id, o.external_id, s.carrier, s.service, s.tracking, s.shipped_at, ") +
        kShipTo +
        " FROM shipment s JOIN sales_order o ON o.id = s.order_id WHERE o.channel = ? AND s.state IN ('shipped', "
        "'delivered') AND NOT EXISTS (SELECT 1 FROM edi_message m WHERE m.related_id = s.id AND m.kind = '856') "
        "ORDER BY s.shipped_at, s.id");
    shipments.bindAll(channel).execute();
    while (shipments.next()) {
        Poco::JSON::Object::Ptr asn = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        const std::string id = shipments.getString(0);
        asn->set("type", "advance_ship_notice");
        asn->set("version", 1);
        asn->set("asn_id", compactId(id, 30));
        asn->set("shipment_id", id);
        asn->set("order_id", shipments.getString(1));
        asn->set("channel", channel);
        asn->set("external_id", shipments.getString(2));
        asn->set("shipped_at", formatIso8601(shipments.getOptionalInt64(6).value_or(now())));
        asn->set("ship_to", address(shipments, 7));
        Poco::JSON::Object::Ptr carrier = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        const std::string carrier_name = shipments.getString(3);
        carrier->set("carrier", carrier_name.empty() ? std::string("unspecified") : carrier_name);
        if (!shipments.getString(4).empty()) carrier->set("service", shipments.getString(4));
        if (!shipments.getString(5).empty()) carrier->set("tracking_number", shipments.getString(5));
        Poco::JSON::Object::Ptr package = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        package->set("carrier", carrier);
        asn->set("packages", Poco::JSON::Array::Ptr(new Poco::JSON::Array));
        asn->getArray("packages")->add(package);
        documents.push_back(asn);
        sets.push_back("856");
    }
    for (std::size_t d = 0; d < documents.size(); ++d) {
        if (sets[d] != "856") continue;
        auto& asn = documents[d];
        // One package with the shipment's lines, summed per order line (several lots make several rows).
        db::Statement& lines = uow.statement(
            "SELECT ol.external_line, ol.sku, SUM(sl.quantity) FROM shipment_line sl JOIN sales_order_line ol ON "
            "ol.order_id = ? AND ol.line_no = sl.order_line_no WHERE sl.shipment_id = ? "
            "GROUP BY sl.order_line_no, ol.external_line, ol.sku ORDER BY sl.order_line_no");
        lines.bindAll(asn->getValue<std::string>("order_id"), asn->getValue<std::string>("shipment_id")).execute();
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        while (lines.next()) {
            Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            line->set("line_id", lines.getString(0));
            line->set("sku", lines.getString(1));
            line->set("quantity", static_cast<Poco::Int64>(lines.getInt64(2)));
            list->add(line);
        }
        asn->getArray("packages")->getObject(0)->set("lines", list);
    }

    db::Statement& invoices = uow.statement(
        std::string("SELECT i.id, i.order_id, o.external_id, i.invoice_date, i.due_date, i.currency, i.shipping, "
                    "i.tax, i.total, i.goods, i.discount, ") +
        kShipTo +
        " FROM invoice i JOIN sales_order o ON o.id = i.order_id WHERE o.channel = ? AND NOT EXISTS (SELECT 1 FROM "
        "edi_message m WHERE m.related_id = i.id AND m.kind = '810') ORDER BY i.created_at, i.id");
    invoices.bindAll(channel).execute();
    std::vector<Poco::JSON::Object::Ptr> bills;
    while (invoices.next()) {
        const Currency& currency = Currency::of(invoices.getString(5));
        const auto money = [&](std::int64_t minor) { return Money(minor, currency).toString(); };
        Poco::JSON::Object::Ptr invoice = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        const std::string id = invoices.getString(0);
        invoice->set("type", "invoice");
        invoice->set("version", 1);
        invoice->set("invoice_id", compactId(id, 22));
        invoice->set("order_id", invoices.getString(1));
        invoice->set("channel", channel);
        invoice->set("external_id", invoices.getString(2));
        invoice->set("issue_date", Date::fromYmd(static_cast<int>(invoices.getInt64(3))).toString());
        invoice->set("due_date", Date::fromYmd(static_cast<int>(invoices.getInt64(4))).toString());
        invoice->set("currency", std::string(currency.code()));
        invoice->set("currency_exponent", currency.exponent());
        invoice->set("ship_to", address(invoices, 11));
        Poco::JSON::Object::Ptr shipping = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        shipping->set("amount", money(invoices.getInt64(6)));
        invoice->set("shipping", shipping);
        invoice->set("subtotal", money(invoices.getInt64(9) - invoices.getInt64(10)));
        invoice->set("total_tax", money(invoices.getInt64(7)));
        invoice->set("total", money(invoices.getInt64(8)));
        invoice->set("x_keel_invoice_id", id);
        bills.push_back(invoice);
    }
    for (auto& invoice : bills) {
        db::Statement& lines = uow.statement(
            "SELECT ol.external_line, ol.sku, il.quantity, il.goods, il.discount, il.tax, ol.unit_price FROM "
            "invoice_line "
            "il JOIN "
            "sales_order_line ol ON ol.order_id = ? AND ol.line_no = il.order_line_no WHERE il.invoice_id = ? "
            "ORDER BY il.order_line_no");
        lines.bindAll(invoice->getValue<std::string>("order_id"), invoice->getValue<std::string>("x_keel_invoice_id"))
            .execute();
        const Currency& currency = Currency::of(invoice->getValue<std::string>("currency"));
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        while (lines.next()) {
            const std::int64_t quantity = lines.getInt64(2);
            const std::int64_t goods = lines.getInt64(3);
            Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            line->set("line_id", lines.getString(0));
            line->set("sku", lines.getString(1));
            line->set("quantity", static_cast<Poco::Int64>(quantity));
            // The order line's unit price; for a line Keel priced without one stored, the goods amount per unit.
            const auto unit = lines.getOptionalInt64(6);
            line->set("unit_price",
                      Money(unit ? *unit : (quantity > 0 ? goods / quantity : goods), currency).toString());
            line->set("net_amount", Money(goods - lines.getInt64(4), currency).toString());
            line->set("tax", Money(lines.getInt64(5), currency).toString());
            list->add(line);
        }
        invoice->set("lines", list);
        documents.push_back(invoice);
        sets.push_back("810");
    }
    if (options.inventory) {
        // 846: available-to-promise for the partner's channel of every item it knows by an alias.
        Poco::JSON::Object::Ptr advice = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        advice->set("type", "inventory_advice");
        advice->set("version", 1);
        advice->set("as_of", formatIso8601(now()));
        advice->set("kind", "snapshot");
        advice->set("channel", channel);
        db::Statement& aliases =
            uow.statement("SELECT channel_sku, item_id FROM item_alias WHERE channel = ? ORDER BY channel_sku");
        aliases.bindAll(channel).execute();
        std::vector<std::pair<std::string, std::string>> known;
        while (aliases.next()) known.emplace_back(aliases.getString(0), aliases.getString(1));
        Poco::JSON::Array::Ptr items = new Poco::JSON::Array;
        for (const auto& [sku, item_id] : known) {
            const auto atp = services_.inventory.atp(uow, item_id, std::nullopt, std::string_view(channel));
            std::int64_t on_hand = 0;
            for (const auto& location : atp.locations) on_hand += location.on_hand;
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            item->set("sku", sku);
            item->set("on_hand", static_cast<Poco::Int64>(on_hand));
            item->set("atp", static_cast<Poco::Int64>(std::max<std::int64_t>(atp.available, 0)));
            items->add(item);
        }
        advice->set("items", items);
        std::optional<std::string> unchanged;  // the last 846, when this one would repeat it
        if (options.inventory_if_changed && items->size() > 0) {
            db::Statement& last = uow.statement(
                "SELECT id, detail FROM edi_message WHERE partner = ? AND direction = 'out' AND kind = '846' "
                "ORDER BY received_at DESC, id DESC LIMIT 1");
            last.bindAll(partner).execute();
            std::optional<std::pair<std::string, std::string>> previous;  // id, the document it sent
            while (last.next()) previous.emplace(last.getString(0), last.getString(1));
            if (previous &&
                inventorySays(*advice) ==
                    inventorySays(*Poco::JSON::Parser().parse(previous->second).extract<Poco::JSON::Object::Ptr>())) {
                unchanged = previous->first;
            }
        }
        if (unchanged) {
            result.skipped.push_back("846: the inventory of channel " + channel +
                                     " is what the last 846 said (message " + *unchanged + "): not sent again");
        } else if (items->size() == 0 && options.inventory_if_changed) {
            // On a timer: the partner's items are not set up yet; an exception every interval would only bury it.
            result.skipped.push_back("846: no item has an alias for channel " + channel + ": nothing to advise");
        } else if (items->size() > 0) {
            documents.push_back(advice);
            sets.push_back("846");
        } else {
            result.errors.push_back("846: no item has an alias for channel " + channel +
                                    " (keel alias import), so there is no inventory to advise");
        }
    }
}

void EdiExchange::shippingOrders(db::UnitOfWork& uow, const std::string& channel,
                                 const std::vector<std::string>& locations,
                                 std::vector<Poco::JSON::Object::Ptr>& documents, std::vector<std::string>& sets) {
    // 940: every shipment released at the 3PL's locations (and not shipped yet) that has no 940 yet, whatever the
    // channel of its order.
    std::vector<std::pair<std::int64_t, Poco::JSON::Object::Ptr>> found;
    db::forEachIn(
        uow,
        std::string("SELECT s.id, s.order_id, s.service, s.carrier, s.created_at, o.channel, o.external_id, l.code, "
                    "l.name, ") +
            kShipTo +
            " FROM shipment s JOIN sales_order o ON o.id = s.order_id JOIN location l ON l.id = s.location_id "
            "WHERE l.code IN ",
        " AND s.state IN ('released', 'picking', 'packed') AND NOT EXISTS (SELECT 1 FROM edi_message m WHERE "
        "m.related_id = s.id AND m.kind = '940')",
        locations, [&](const db::Statement& row) {
            Poco::JSON::Object::Ptr request = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            const std::string id = row.getString(0);
            request->set("type", "shipment_request");
            request->set("version", 1);
            request->set("shipment_id", id);
            request->set("depositor_order", compactId(id, 22));
            request->set("order_id", row.getString(1));
            request->set("channel", row.getString(5));
            request->set("external_id", row.getString(6));
            request->set("location", row.getString(7));
            request->set("x_location_name", row.getString(8));
            request->set("ship_to", address(row, 9));
            if (!row.getString(2).empty()) request->set("service", row.getString(2));
            if (!row.getString(3).empty()) request->set("carrier", row.getString(3));
            found.emplace_back(row.getInt64(4), request);
        });
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first < b.first
                                  : a.second->template getValue<std::string>("shipment_id") <
                                        b.second->template getValue<std::string>("shipment_id");
    });
    for (auto& [created, request] : found) {
        // The partner's id of each item (an alias of its channel) or Keel's SKU; the lot Keel reserved, to ship.
        db::Statement& lines = uow.statement(
            "SELECT sl.line_no, sl.quantity, i.sku, i.name, COALESCE((SELECT MIN(a.channel_sku) FROM item_alias a "
            "WHERE a.channel = ? AND a.item_id = sl.item_id), ''), COALESCE(t.lot_code, '') FROM shipment_line sl "
            "JOIN item i ON i.id = sl.item_id LEFT JOIN lot t ON t.id = sl.lot_id WHERE sl.shipment_id = ? ORDER "
            "BY sl.line_no");
        lines.bindAll(channel, request->getValue<std::string>("shipment_id")).execute();
        Poco::JSON::Array::Ptr list = new Poco::JSON::Array;
        while (lines.next()) {
            Poco::JSON::Object::Ptr line = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            const std::string alias = lines.getString(4);
            line->set("line_id", std::to_string(lines.getInt64(0)));
            line->set("sku", alias.empty() ? lines.getString(2) : alias);
            line->set("quantity", static_cast<Poco::Int64>(lines.getInt64(1)));
            if (!lines.getString(5).empty()) line->set("lot", lines.getString(5));
            line->set("x_description", lines.getString(3));
            line->set("x_keel_sku", lines.getString(2));
            list->add(line);
        }
        request->set("lines", list);
        documents.push_back(request);
        sets.push_back("940");
    }
}

SendResult EdiExchange::send(const std::string& partner, bool inventory) {
    SendOptions options;
    options.inventory = inventory;
    return send(partner, options);
}

SendResult EdiExchange::send(const std::string& partner, const SendOptions& options) {
    const DropFolders drop = folders(partner);
    overdue(partner);
    const std::string channel = channelOf(partner);
    SendResult result;

    // What the partner has not received: documents without an outbound message for them.
    std::vector<Poco::JSON::Object::Ptr> documents;
    std::vector<std::string> sets;
    const auto locations = threePlLocations(partner);
    // Asked for by hand, an 846 to a 3PL is a mistake to report; keeld's timer asks every partner it exchanges with.
    if (!locations.empty() && options.inventory && !options.inventory_if_changed) {
        result.errors.push_back("846: partner " + partner +
                                " is a 3PL (role = 3pl); inventory advice goes to customers");
    }
    database_.run([&](db::UnitOfWork& uow) {
        documents.clear();
        sets.clear();
        result.skipped.clear();
        if (locations.empty()) {
            customerDocuments(uow, partner, channel, options, documents, sets, result);
        } else {
            shippingOrders(uow, channel, locations, documents, sets);
        }
    });

    for (std::size_t i = 0; i < documents.size(); ++i) {
        auto& document = documents[i];
        const bool asn = sets[i] == "856";
        const std::string document_id = asn || sets[i] == "940" ? document->getValue<std::string>("shipment_id")
                                        : sets[i] == "855"      ? document->getValue<std::string>("order_id")
                                        : sets[i] == "810"      ? document->getValue<std::string>("x_keel_invoice_id")
                                                                : std::string();
        const std::string external_id = document->optValue<std::string>("external_id", "");
        const std::string label = sets[i] + (external_id.empty() ? std::string() : " for PO " + external_id);
        try {
            if (asn && !gs1_company_prefix_.empty()) {
                const auto serial = reserve("*", "sscc", 1);
                const auto sscc = edi::sscc18(gs1_extension_, gs1_company_prefix_, static_cast<std::uint64_t>(serial));
                if (!sscc) throw InfrastructureError("edi: the SSCC serials of edi.gs1.company_prefix are used up");
                document->getArray("packages")->getObject(0)->set("sscc", *sscc);
            }
            Poco::JSON::Object request;
            request.set("partner", partner);
            request.set("document", document);
            request.set("profile", partners_.get(partner).text);  // the database's copy, as for receiving
            const std::int64_t control_number = reserve(partner, "interchange", 1);
            request.set("control_number", static_cast<Poco::Int64>(control_number));
            auto answer =
                services_.pluginHost().invoke(instance(), plugin_host::Operation::kEdiFromDocument, stringify(request));
            if (!answer) {
                result.errors.push_back(label + ": " + answer.problem().message);
                continue;
            }
            const auto response = Poco::JSON::Parser().parse(answer.value()).extract<Poco::JSON::Object::Ptr>();
            const std::string bytes = edi::fromBase64(response->getValue<std::string>("bytes"));
            const std::string message_id = IdGenerator::global().next();
            const std::string name = sets[i] + "-" + message_id + ".edi";
            fs::create_directories(drop.outbound);
            // Written (through a rename) before it is recorded as sent: a crash in between sends it again, which the
            // partner's duplicate check on the new control number tolerates, instead of never sending it.
            writeAtomically(fs::path(drop.outbound) / name, bytes);
            const std::int64_t at = now();
            database_.run([&](db::UnitOfWork& uow) {
                uow.statement(
                       "INSERT INTO edi_message (id, partner, direction, kind, name, size, sha256, body, status, "
                       "detail, related_id, received_at, processed_at, attempts, control_number, subject_version) "
                       "VALUES (?, ?, 'out', ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, 1, ?, ?)")
                    .bindAll(message_id, partner, sets[i], name, static_cast<std::int64_t>(bytes.size()),
                             sha256Hex(bytes), edi::toBase64(bytes), stringify(*document), document_id, at, at,
                             control_number,
                             sets[i] == "855"
                                 ? std::optional<std::int64_t>(document->getValue<Poco::Int64>("x_order_version"))
                                 : std::optional<std::int64_t>())
                    .execute();
            });
            result.sent.push_back(
                {message_id, sets[i], document_id, external_id, (fs::path(drop.outbound) / name).string()});
        } catch (const std::exception& e) {
            result.errors.push_back(label + ": " + e.what());
        }
    }
    if (!result.errors.empty()) {
        const std::int64_t at = now();
        database_.run([&](db::UnitOfWork& uow) {
            for (const auto& error : result.errors) {
                uow.statement(
                       "INSERT INTO integration_exception (id, source, code, message, reference, created_at, "
                       "resolved_at) VALUES (?, ?, 'edi_send_failed', ?, ?, ?, NULL)")
                    .bindAll(IdGenerator::global().next(), "edi:" + partner, error.substr(0, 4000), partner, at)
                    .execute();
            }
        });
    }
    return result;
}

std::vector<std::string> EdiExchange::overdue(const std::string& partner) {
    const std::int64_t hours = partners_.get(partner).ack_deadline_hours;  // the profile in the database
    std::vector<std::string> late;
    const std::int64_t at = now();
    const std::int64_t cutoff = at - hours * 3600LL * 1'000'000LL;
    database_.run([&](db::UnitOfWork& uow) {
        late.clear();
        std::vector<std::pair<std::string, std::string>> found;  // id, kind
        db::Statement& s = uow.statement(
            "SELECT id, kind, control_number FROM edi_message WHERE partner = ? AND direction = 'out' AND kind <> "
            "'ack' "
            "AND acknowledged_at IS NULL AND received_at < ? ORDER BY received_at");
        s.bindAll(partner, cutoff).execute();
        std::vector<std::int64_t> controls;
        while (s.next()) {
            found.emplace_back(s.getString(0), s.getString(1));
            controls.push_back(s.getOptionalInt64(2).value_or(0));
        }
        for (std::size_t i = 0; i < found.size(); ++i) {
            late.push_back(found[i].first);
            db::Statement& known = uow.statement(
                "SELECT COUNT(*) FROM integration_exception WHERE reference = ? AND code = 'edi_ack_overdue'");
            known.bindAll(found[i].first).execute();
            std::int64_t count = 0;
            while (known.next()) count = known.getInt64(0);
            if (count > 0) continue;  // raised once; resolved when the acknowledgment arrives
            uow.statement(
                   "INSERT INTO integration_exception (id, source, code, message, reference, created_at, resolved_at) "
                   "VALUES (?, ?, 'edi_ack_overdue', ?, ?, ?, NULL)")
                .bindAll(IdGenerator::global().next(), "edi:" + partner,
                         "no 997/999 from " + partner + " for the " + found[i].second + " of group " +
                             std::to_string(controls[i]) + " within " + std::to_string(hours) + " hours (message " +
                             found[i].first + ")",
                         found[i].first, at)
                .execute();
        }
    });
    return late;
}

}  // namespace keel::app
