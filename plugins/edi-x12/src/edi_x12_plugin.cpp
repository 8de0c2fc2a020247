// The edi-x12 plugin: X12 interchanges from trading partners → Keel documents, and Keel documents → X12 (docs/edi.md).
// Instance settings: partners (directory of PARTNER.properties profiles, default /etc/keel/partners).
//
// Both operations take the partner's profile text in "profile" when the host sends it (Keel sends the copy in its
// database); without it, the instance's file of that partner is used.
// edi.to_documents {"partner", "bytes" (base64), ["ack_control_number"], ["acknowledge": true], ["profile"]} →
//   {"documents": [order (850) | shipment_confirmation (945) | stock_receipt (944) ...],
//    "errors": [{"group","set","segment","element","message"}],
//    "acknowledgments_received": [{"functional_id","group_control","status"}] (the partner's 997/999),
//    "acknowledgments": [{"bytes" (base64), "accepted"}] (absent with "acknowledge": false), "sets": N}
// edi.from_document {"partner", "document", "control_number", ["profile"]}, where the document is an
//   order_acknowledgment (855; BAK01 po_ack.change_purpose for "purpose": "change"), advance_ship_notice (856),
//   inventory_advice (846), invoice (810), shipment_request (940), or a functional_acknowledgment {"interchange"
//   (base64 of an inbound file), "rejected": [{"group_control", "set_control"}]}: the 997/999 of that file with those
//   sets rejected, for a host that decides after translation which sets it takes in → {"bytes" (base64),
//   "transaction_set": "855" | "856" | "846" | "810" | "940"}, or for an acknowledgment
//   {"bytes" (base64; empty when none is sent), "accepted"}
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <keel/plugin.hpp>
#include <map>
#include <set>
#include <sstream>

#include "inbound.h"
#include "keel/edi/base64.h"
#include "keel/edi/x12_ack.h"
#include "outbound.h"
#include "partner.h"

#include <Poco/DateTime.h>
#include <Poco/DateTimeFormatter.h>

namespace keel::edix12 {
namespace {

using keel::plugin::Error;

/// Sets that could not become documents (or that the host refused) are rejected in the acknowledgment (AK5/IK5 R),
/// and their group's AK9 follows: P when some sets were accepted, R when none.
void rejectSets(std::vector<edi::InterchangeAck>& acks, const std::set<std::pair<std::string, std::string>>& rejected) {
    for (auto& interchange : acks) {
        for (auto& group : interchange.groups) {
            bool changed = false;
            for (auto& set : group.sets) {
                if (set.status != 'R' && rejected.count({group.control_number, set.control_number})) {
                    set.status = 'R';
                    set.codes = {"5"};  // one or more segments in error
                    changed = true;
                }
            }
            if (!changed) continue;
            std::uint64_t accepted = 0;
            for (const auto& set : group.sets) accepted += set.status == 'A' || set.status == 'E';
            group.accepted = accepted;
            group.status = accepted == 0 ? 'R' : 'P';
        }
    }
}

std::set<std::pair<std::string, std::string>> untranslated(const std::vector<MappingError>& errors) {
    std::set<std::pair<std::string, std::string>> rejected;
    for (const auto& error : errors) {
        if (!error.set_control.empty()) rejected.emplace(error.group_control, error.set_control);
    }
    return rejected;
}

}  // namespace

class EdiX12Plugin final : public keel::plugin::Edi {
public:
    explicit EdiX12Plugin(keel::plugin::Host host) : host_(host) {
        const std::string directory = host.configOr("partners", "/etc/keel/partners");
        try {
            partners_ = loadProfiles(directory);
        } catch (const ProfileError& e) {
            // A half-read partner list would take one partner's orders for another's customer.
            throw Error(KEEL_E_INVALID, std::string("edi-x12: ") + e.what());
        }
        host_.info("edi-x12: " + std::to_string(partners_.size()) + " partner profiles from " + directory);
    }

    std::string toDocuments(std::string_view request_json) override {
        Poco::JSON::Object::Ptr request;
        try {
            Poco::JSON::Parser parser;
            const auto parsed = parser.parse(std::string(request_json));
            if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) throw Error(KEEL_E_INVALID, "request: not an object");
            request = parsed.extract<Poco::JSON::Object::Ptr>();
        } catch (const Poco::Exception& e) {
            throw Error(KEEL_E_INVALID, "to_documents: request is not JSON: " + e.displayText());
        }
        const PartnerProfile partner = partnerOf(*request);
        if (!request->has("bytes") || !request->get("bytes").isString()) {
            throw Error(KEEL_E_INVALID, "to_documents: bytes (base64) is required");
        }
        std::string bytes;
        try {
            bytes = edi::fromBase64(request->getValue<std::string>("bytes"));
        } catch (const Poco::Exception& e) {
            throw Error(KEEL_E_INVALID, "to_documents: bytes is not base64: " + e.displayText());
        }

        const Translation translation = translate(bytes, partner);

        Poco::JSON::Object response(Poco::JSON_PRESERVE_KEY_ORDER);
        Poco::JSON::Array::Ptr documents = new Poco::JSON::Array;
        for (const auto& document : translation.documents) documents->add(document);
        response.set("documents", documents);
        Poco::JSON::Array::Ptr errors = new Poco::JSON::Array;
        for (const auto& error : translation.errors) {
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            item->set("group", error.group_control);
            item->set("set", error.set_control);
            item->set("segment", static_cast<Poco::UInt64>(error.segment));
            item->set("element", error.element);
            item->set("message", error.message);
            errors->add(item);
        }
        response.set("errors", errors);
        Poco::JSON::Array::Ptr received = new Poco::JSON::Array;
        for (const auto& ack : translation.acks) {
            Poco::JSON::Object::Ptr item = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
            item->set("functional_id", ack.functional_id);
            item->set("group_control", ack.group_control);
            item->set("status", ack.status);
            received->add(item);
        }
        response.set("acknowledgments_received", received);
        response.set("sets", static_cast<Poco::UInt64>(translation.sets));
        // A host that applies the documents itself asks for the acknowledgment afterwards (functional_acknowledgment),
        // so that the sets it refuses are rejected in it too.
        if (request->optValue<bool>("acknowledge", true)) {
            const auto first = request->optValue<Poco::UInt64>("ack_control_number", 1);
            const auto ack = acknowledgment(bytes, partner, untranslated(translation.errors), first);
            Poco::JSON::Array::Ptr acks = new Poco::JSON::Array;
            if (ack) acks->add(ack);
            response.set("acknowledgments", acks);
        }
        std::ostringstream out;
        response.stringify(out);
        return out.str();
    }

    std::string fromDocument(std::string_view request_json) override {
        Poco::JSON::Object::Ptr request;
        try {
            const auto parsed = Poco::JSON::Parser().parse(std::string(request_json));
            if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) throw Error(KEEL_E_INVALID, "request: not an object");
            request = parsed.extract<Poco::JSON::Object::Ptr>();
        } catch (const Poco::Exception& e) {
            throw Error(KEEL_E_INVALID, "from_document: request is not JSON: " + e.displayText());
        }
        const PartnerProfile partner = partnerOf(*request);
        const auto document = request->getObject("document");
        if (!document) throw Error(KEEL_E_INVALID, "from_document: document is required");
        Envelope envelope;
        envelope.control_number = request->optValue<Poco::UInt64>("control_number", 1);
        if (envelope.control_number < 1 || envelope.control_number > 999999999) {
            throw Error(KEEL_E_INVALID, "from_document: control_number must be 1 to 999999999");
        }
        const Poco::DateTime now;
        envelope.date = Poco::DateTimeFormatter::format(now, "%Y%m%d");
        envelope.time = Poco::DateTimeFormatter::format(now, "%H%M");
        const std::string type = document->optValue<std::string>("type", "");
        if (type == "functional_acknowledgment") return functionalAcknowledgment(partner, *document, envelope);
        std::string bytes;
        std::string set;
        try {
            if (type == "advance_ship_notice") {
                bytes = write856(partner, *document, envelope);
                set = "856";
            } else if (type == "order_acknowledgment") {
                bytes = write855(partner, *document, envelope);
                set = "855";
            } else if (type == "inventory_advice") {
                bytes = write846(partner, *document, envelope);
                set = "846";
            } else if (type == "invoice") {
                bytes = write810(partner, *document, envelope);
                set = "810";
            } else if (type == "shipment_request") {
                bytes = write940(partner, *document, envelope);
                set = "940";
            } else {
                throw Error(KEEL_E_INVALID, "from_document: document type '" + type +
                                                "' has no X12 mapping here (order_acknowledgment → 855, "
                                                "advance_ship_notice → 856, inventory_advice → 846, invoice → 810, "
                                                "shipment_request → 940, functional_acknowledgment → 997/999)");
            }
            // What a partner receives follows its role: a 3PL gets shipping orders, a customer the rest.
            const bool for_3pl = set == "940";
            if (for_3pl != (partner.role == PartnerRole::kThreePl)) {
                throw Error(KEEL_E_INVALID,
                            "from_document: a " + set + " is not sent to partner " + partner.name +
                                (for_3pl ? " (a 940 goes to a 3PL: role = 3pl)" : " (role 3pl: a 3PL receives 940s)"));
            }
        } catch (const DocumentError& e) {
            throw Error(KEEL_E_INVALID, type + ": " + e.what());
        }
        Poco::JSON::Object response(Poco::JSON_PRESERVE_KEY_ORDER);
        response.set("bytes", edi::toBase64(bytes));
        response.set("transaction_set", set);
        std::ostringstream out;
        response.stringify(out);
        return out.str();
    }

private:
    /// The profile of the request's partner: the copy Keel's host sends along ("profile": the text it keeps in its
    /// database, so that a node without the files translates too), else the instance's own file.
    PartnerProfile partnerOf(const Poco::JSON::Object& request) const {
        const std::string name = request.optValue<std::string>("partner", "");
        if (request.has("profile") && request.get("profile").isString()) {
            try {
                return edi::parseProfile(name, "the profile of partner '" + name + "' sent by the host",
                                         request.getValue<std::string>("profile"));
            } catch (const edi::ProfileError& e) {
                throw Error(KEEL_E_INVALID, e.what());
            }
        }
        const auto partner = partners_.find(name);
        if (partner == partners_.end()) {
            std::string known;
            for (const auto& [known_name, profile] : partners_) known += (known.empty() ? "" : ", ") + known_name;
            throw Error(KEEL_E_NOT_FOUND, "partner '" + name + "' has no profile (known: " +
                                              (known.empty() ? std::string("none") : known) + ")");
        }
        return partner->second;
    }

    /// The 997/999 of `bytes` for the partner (nullptr when none is sent: ack = none, an unreadable file, FA groups
    /// only), with the `rejected` sets (GS06, ST02) rejected.
    static Poco::JSON::Object::Ptr acknowledgment(const std::string& bytes, const PartnerProfile& partner,
                                                  const std::set<std::pair<std::string, std::string>>& rejected,
                                                  std::uint64_t first_control_number) {
        if (partner.ack == "none") return nullptr;
        std::istringstream in(bytes);
        edi::AckReport report = edi::acknowledgeX12(in);
        // A file unreadable from its first ISA has no envelope to answer (the translation's errors say why); one that
        // breaks after an ISA gets that interchange's rejecting TA1 (and the acks of the interchanges before it).
        if (report.parse_error && report.interchanges.empty()) return nullptr;
        rejectSets(report.interchanges, rejected);
        edi::SequentialControlNumbers numbers(first_control_number);
        const edi::SystemClock clock;
        std::ostringstream out;
        edi::writeAcks(out, report.interchanges, numbers, clock);
        if (out.str().empty()) return nullptr;
        Poco::JSON::Object::Ptr ack = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
        ack->set("bytes", edi::toBase64(out.str()));
        ack->set("accepted", edi::allAccepted(report.interchanges));
        return ack;
    }

    /// from_document of a functional_acknowledgment: the acknowledgment of an inbound file once the host decided.
    static std::string functionalAcknowledgment(const PartnerProfile& partner, const Poco::JSON::Object& document,
                                                const Envelope& envelope) {
        if (!document.has("interchange") || !document.get("interchange").isString()) {
            throw Error(KEEL_E_INVALID, "functional_acknowledgment: interchange (base64) is required");
        }
        std::string bytes;
        try {
            bytes = edi::fromBase64(document.getValue<std::string>("interchange"));
        } catch (const Poco::Exception& e) {
            throw Error(KEEL_E_INVALID, "functional_acknowledgment: interchange is not base64: " + e.displayText());
        }
        std::set<std::pair<std::string, std::string>> rejected;
        if (const auto list = document.getArray("rejected")) {
            for (std::size_t i = 0; i < list->size(); ++i) {
                const auto set = list->getObject(static_cast<unsigned>(i));
                if (!set) throw Error(KEEL_E_INVALID, "functional_acknowledgment: rejected[] holds objects");
                rejected.emplace(set->optValue<std::string>("group_control", ""),
                                 set->optValue<std::string>("set_control", ""));
            }
        }
        const auto ack = acknowledgment(bytes, partner, rejected, envelope.control_number);
        Poco::JSON::Object response(Poco::JSON_PRESERVE_KEY_ORDER);
        response.set("bytes", ack ? ack->getValue<std::string>("bytes") : std::string());
        response.set("accepted", ack ? ack->getValue<bool>("accepted") : true);
        std::ostringstream out;
        response.stringify(out);
        return out.str();
    }

    keel::plugin::Host host_;
    std::map<std::string, PartnerProfile> partners_;
};

}  // namespace keel::edix12

KEEL_PLUGIN(keel::edix12::EdiX12Plugin, "edi-x12", "0.1.0")
