#pragma once
// Trading-partner exchange (docs/edi.md): a partner's file is stored first (edi_message), then translated by the EDI
// plugin instance (edi.to_documents), its orders taken in through the common order intake (idempotent on channel +
// PO number), a 3PL's 945s confirming its shipments and its 944s receiving stock at its locations, and the
// acknowledgment (which rejects every set Keel refused) stored as an outbound message. A file that fails keeps its
// bytes and an integration exception until `keel edi reprocess ID` takes it in. The file drop moves files between a
// partner's folders (transport.* in its profile) around the same steps; send() writes what a partner has not received
// (to a 3PL: a 940 for every shipment released at its locations).

#include "keel/app/services.h"
#include "keel/db/database.h"
#include "keel/orders/orders.h"

#include <Poco/JSON/Object.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace keel::app {

/// An order an EDI file became.
struct EdiOrder {
    std::string external_id;
    std::string order_id;
    bool created = false;  ///< false: it had been imported before (a re-sent PO)
    std::string state;
};

/// A 997/999 the partner sent about a group Keel sent it.
struct EdiReceivedAck {
    std::string functional_id;
    std::string group_control;
    std::string status;  ///< A, E, P, R
};

/// A 3PL's 945 or 944 and what Keel did with it.
struct EdiAdvice {
    std::string transaction_set;  ///< 945 | 944
    std::string reference;        ///< the depositor order number (945) or the warehouse receipt number (944)
    std::string target;           ///< the shipment (945) or the location code (944)
    /// shipped | short_shipped | already_shipped (945); received | already_received (944)
    std::string outcome;
    std::string note;  ///< what happened, for people
};

/// What receiving (or reprocessing) one file did.
struct EdiReceipt {
    std::string message_id;
    std::string partner;
    std::string status;  ///< processed | rejected | failed
    std::uint64_t sets = 0;
    std::vector<EdiOrder> orders;
    std::vector<EdiAdvice> advices;   ///< a 3PL's shipping and receipt advices
    std::vector<std::string> errors;  ///< "set 0001 segment 6 PO103: unit 'CA' has no Keel unit ..."
    std::vector<EdiReceivedAck> acks_received;  ///< the partner's acknowledgments in the file
    std::string ack;                  ///< the 997/999 Keel sends back (empty: none)
    std::string ack_message_id;
};

/// A receipt as JSON (keel edi receive --json, the API's upload answer): message_id, partner, status, sets, orders,
/// advices, errors, ack_message_id, ack.
Poco::JSON::Object::Ptr toJson(const EdiReceipt& receipt);

/// One stored message, for listings.
struct EdiMessage {
    std::string id;
    std::string partner;
    std::string direction;
    std::string kind;
    std::string name;
    std::int64_t size = 0;
    std::string status;
    std::int64_t received_at = 0;
    std::int64_t attempts = 0;
    std::string detail;  ///< JSON
};

/// A partner's file-drop folders (transport.inbound, .outbound, .archive, .error in its profile).
struct DropFolders {
    std::string inbound;
    std::string outbound;
    std::string archive;
    std::string error;
    std::int64_t settle_ms = 0;  ///< a file without a .tmp/.part name is read once its size held this long
};

/// A document Keel sent to a partner.
struct EdiSent {
    std::string message_id;
    std::string transaction_set;  ///< 855 | 856 | 810 | 846 | 940
    std::string document_id;      ///< the order, shipment or invoice
    std::string external_id;      ///< the partner's PO number
    std::string file;             ///< where it was written (the outbound folder)
};

/// What one send for a partner did: what went out, and what could not (with the reason), to be retried.
struct SendResult {
    std::vector<EdiSent> sent;
    std::vector<std::string> errors;
};

/// What one poll of a partner's inbound folder did.
struct PollResult {
    std::vector<EdiReceipt> receipts;
    std::vector<std::string> skipped;  ///< files still being written
};

class EdiExchange {
public:
    /// Reads edi.plugin (the instance; default: the only one with the edi capability) and edi.partners (the
    /// profiles' directory, default /etc/keel/partners, for their transport.* keys).
    EdiExchange(Services& services, db::Database& database, const Poco::Util::AbstractConfiguration& config);
    /// With the instance ("" for the only edi one) and the profiles' directory given.
    EdiExchange(Services& services, db::Database& database, std::string instance, std::string partners_directory);

    /// Stores `bytes` as received from `partner` under `name`, then processes it.
    EdiReceipt receive(const std::string& partner, const std::string& name, const std::string& bytes,
                       const orders::Actor& actor);
    /// Processes a stored inbound message again (its orders are idempotent); resolves its exceptions when it
    /// goes through.
    EdiReceipt reprocess(const std::string& message_id, const orders::Actor& actor);
    /// Messages, newest first.
    std::vector<EdiMessage> messages(const std::string& partner, std::size_t limit);
    /// The drop folders of a partner's profile; throws InfrastructureError naming the file and key when incomplete.
    DropFolders folders(const std::string& partner) const;
    /// Reads every complete file of the partner's inbound folder: stores and processes it, writes the
    /// acknowledgment to the outbound folder, and moves the file to archive (processed) or error (otherwise).
    PollResult poll(const std::string& partner, const orders::Actor& actor);
    /// Sends what the partner has not received yet, each document written to the outbound folder through a temporary
    /// name and stored as an outbound message (which is what "not received yet" is checked against). To a customer
    /// (role customer): an 855 for every decided order, an 856 for every shipped shipment and an 810 for every invoice
    /// of its orders (channel: the profile's, default edi.PARTNER); with edi.gs1.company_prefix set, each 856 carries
    /// an SSCC-18 (serials from edi_control_number, never reused); with `inventory`, also an 846 of
    /// available-to-promise (for the partner's channel) of every item it knows by an alias of that channel. To a 3PL
    /// (role = 3pl): a 940 for every shipment released (not yet shipped) at one of the locations it runs.
    SendResult send(const std::string& partner, bool inventory = false);
    /// Outbound documents of the partner not acknowledged within its profile's ack.deadline_hours: each gets one
    /// integration exception (code edi_ack_overdue), resolved when the 997/999 arrives. Returns their message ids.
    /// send() and poll() check it too.
    std::vector<std::string> overdue(const std::string& partner);

private:
    EdiReceipt process(const std::string& message_id, const std::string& partner, const std::string& bytes,
                       const orders::Actor& actor);
    std::string instance();

    Services& services_;
    db::Database& database_;
    std::string instance_;
    std::string partners_directory_;
    std::string gs1_company_prefix_;  ///< edi.gs1.company_prefix
    int gs1_extension_ = 0;           ///< edi.gs1.extension_digit

    std::int64_t reserve(const std::string& partner, const std::string& kind, std::int64_t count);
    std::string channelOf(const std::string& partner) const;
    /// The codes of the Keel locations a 3PL runs (its profile's locations); empty for a customer (role customer).
    std::vector<std::string> threePlLocations(const std::string& partner) const;

    /// An order document (an 850) through the common intake; the refusal when it is not taken in.
    std::optional<std::string> takeOrder(const Poco::JSON::Object& document, const orders::Actor& actor,
                                         EdiReceipt& receipt);
    /// A 945: confirms the shipment it names shipped (short lines cancelled and reported), or says why not.
    std::optional<std::string> applyShippingAdvice(const std::string& partner, const Poco::JSON::Object& advice,
                                                   const std::string& message_id, const orders::Actor& actor,
                                                   EdiReceipt& receipt);
    /// A 944: receives its lines at the 3PL's location once per receipt number, or says why not.
    std::optional<std::string> applyReceiptAdvice(const std::string& partner, const Poco::JSON::Object& advice,
                                                  const std::string& message_id, const orders::Actor& actor,
                                                  EdiReceipt& receipt);
    /// The documents of send() for a customer: 855s, 856s, 810s (and the 846).
    void customerDocuments(db::UnitOfWork& uow, const std::string& channel, bool inventory,
                           std::vector<Poco::JSON::Object::Ptr>& documents, std::vector<std::string>& sets,
                           SendResult& result);
    /// The documents of send() for a 3PL: a shipment request (940) for each shipment released at its locations.
    void shippingOrders(db::UnitOfWork& uow, const std::string& channel, const std::vector<std::string>& locations,
                        std::vector<Poco::JSON::Object::Ptr>& documents, std::vector<std::string>& sets);
};

}  // namespace keel::app
