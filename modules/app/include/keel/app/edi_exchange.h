#pragma once
// Trading-partner exchange (docs/edi.md): a partner's file is stored first (edi_message), then translated by the EDI
// plugin instance (edi.to_documents), its orders taken in through the common order intake (idempotent on channel +
// PO number), a 3PL's 945s confirming its shipments and its 944s receiving stock at its locations, and the
// acknowledgment (which rejects every set Keel refused) stored as an outbound message. A file that fails keeps its
// bytes and an integration exception until `keel edi reprocess ID` takes it in. The file drop moves files between a
// partner's folders (transport.* in its profile) around the same steps; send() writes what a partner has not received
// (to a 3PL: a 940 for every shipment released at its locations). An interchange received before (same sender,
// receiver and ISA13 within edi.duplicate_window_days, in the database) is stored and answered with a TA1 but not taken
// in again. Partner profiles come from the database (edi_partner), refreshed from edi.partners/PARTNER.properties.

#include "keel/app/edi_partners.h"
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

/// An interchange of a file that had been received before (docs/edi.md "Duplicate interchanges").
struct EdiDuplicate {
    std::string control_number;   ///< ISA13
    std::string sender;           ///< ISA05/ISA06
    std::string receiver;         ///< ISA07/ISA08
    std::string earlier_message;  ///< the message that took it in (this one's id when the file holds it twice)
    std::int64_t seen_at = 0;     ///< when, microseconds since the epoch
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
    std::vector<EdiDuplicate> duplicates;       ///< interchanges received before: answered by a TA1, not taken in
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
    std::vector<std::string> skipped;  ///< documents not sent because they would repeat the last one (an 846)
};

/// What a send includes besides the documents the partner has not received (855, 856, 810).
struct SendOptions {
    bool inventory = false;             ///< an 846 of the partner's items
    /// ... only when it differs from the last 846 sent to the partner; a 3PL gets none, without an error (keeld's
    /// timer)
    bool inventory_if_changed = false;
};

/// The EDI settings of a Keel process: edi.plugin, edi.partners, edi.gs1.*, edi.duplicate_window_days.
struct EdiSettings {
    std::string instance;  ///< edi.plugin: the EDI plugin instance ("": the only one with the edi capability)
    std::string partners_directory = "/etc/keel/partners";  ///< edi.partners
    std::string gs1_company_prefix;                         ///< edi.gs1.company_prefix
    int gs1_extension = 0;                                  ///< edi.gs1.extension_digit
    /// edi.duplicate_window_days: an interchange with the ISA13 of one received from the same sender for the same
    /// receiver within this many days is a duplicate; 0 turns the check off.
    int duplicate_window_days = 365;

    /// Reads the keys; throws InfrastructureError naming a malformed one.
    static EdiSettings fromConfig(const Poco::Util::AbstractConfiguration& config);
};

/// What one poll of a partner's inbound folder did.
struct PollResult {
    std::vector<EdiReceipt> receipts;
    std::vector<std::string> skipped;  ///< files still being written
};

class EdiExchange {
public:
    /// Reads the settings of EdiSettings::fromConfig.
    EdiExchange(Services& services, db::Database& database, const Poco::Util::AbstractConfiguration& config);
    EdiExchange(Services& services, db::Database& database, EdiSettings settings);

    /// The partner's profile (EdiPartners::get: its file loaded into the database first when there is one).
    /// Throws NotFoundError when the partner has neither.
    StoredPartner partner(const std::string& name);
    /// Loads every profile file of edi.partners into the database (EdiPartners::loadAll).
    std::vector<PartnerLoad> loadPartners();
    /// The profiles in the database, by name.
    std::vector<StoredPartner> partners();
    /// The partner whose profile in the database says it sends the first interchange of `bytes` (ISA05/ISA06 to
    /// ISA07/ISA08), after loading the profile files. Throws NotFoundError when none does, UsageError when several
    /// do, RejectedError when the bytes are not X12.
    std::string identify(const std::string& bytes);

    /// Stores `bytes` as received from `partner` under `name`, then processes it. Throws NotFoundError (nothing is
    /// stored) when the partner has no profile.
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
    /// An order whose acknowledgment changed since its last 855 (a backorder filled, a line or the order cancelled,
    /// an operator's rejection) gets a further 855 with purpose "change" (BAK01 po_ack.change_purpose, 19).
    SendResult send(const std::string& partner, bool inventory = false);
    SendResult send(const std::string& partner, const SendOptions& options);
    /// Outbound documents of the partner not acknowledged within its profile's ack.deadline_hours: each gets one
    /// integration exception (code edi_ack_overdue), resolved when the 997/999 arrives. Returns their message ids.
    /// send() and poll() check it too.
    std::vector<std::string> overdue(const std::string& partner);

private:
    /// `attempt`: a message whose interchanges another process registered at the same moment is decided again.
    EdiReceipt process(const std::string& message_id, const std::string& partner, const std::string& bytes,
                       const orders::Actor& actor, int attempt = 1);
    std::string instance();

    Services& services_;
    db::Database& database_;
    std::string instance_;
    std::string partners_directory_;
    std::string gs1_company_prefix_;  ///< edi.gs1.company_prefix
    int gs1_extension_ = 0;           ///< edi.gs1.extension_digit
    int duplicate_window_days_ = 365;  ///< edi.duplicate_window_days
    mutable EdiPartners partners_;     ///< the profiles (a cache for this object's life)

    std::int64_t reserve(const std::string& partner, const std::string& kind, std::int64_t count);
    std::string channelOf(const std::string& partner) const;
    /// The codes of the Keel locations a 3PL runs (its profile's locations); empty for a customer (role customer).
    std::vector<std::string> threePlLocations(const std::string& partner) const;

    /// Order documents (850s) in a row, each through the common intake on its own (Orders::importEach: on SQLite up to
    /// 32 share a commit); each one's refusal, or nullopt when it was taken in, in their order.
    std::vector<std::optional<std::string>> takeOrders(const std::vector<const Poco::JSON::Object*>& documents,
                                                       const orders::Actor& actor, EdiReceipt& receipt);
    /// Shipping advices (945s) in a row: each confirms the shipment it names shipped (short lines cancelled and
    /// reported) in its own unit of work, on SQLite up to kAdvicesPerCommit of them sharing a commit
    /// (db::CommitGroup::runEach); each one's refusal, or nullopt when it was applied, in their order.
    std::vector<std::optional<std::string>> applyShippingAdvices(const std::string& partner,
                                                                 const std::vector<const Poco::JSON::Object*>& advices,
                                                                 const std::string& message_id,
                                                                 const orders::Actor& actor, EdiReceipt& receipt);
    static constexpr std::size_t kAdvicesPerCommit = 32;
    /// A 944: receives its lines at the 3PL's location once per receipt number, or says why not.
    std::optional<std::string> applyReceiptAdvice(const std::string& partner, const Poco::JSON::Object& advice,
                                                  const std::string& message_id, const orders::Actor& actor,
                                                  EdiReceipt& receipt);
    /// The documents of send() for a customer: 855s (further ones for changed orders), 856s, 810s (and the 846).
    void customerDocuments(db::UnitOfWork& uow, const std::string& partner, const std::string& channel,
                           const SendOptions& options, std::vector<Poco::JSON::Object::Ptr>& documents,
                           std::vector<std::string>& sets, SendResult& result);
    /// The documents of send() for a 3PL: a shipment request (940) for each shipment released at its locations.
    void shippingOrders(db::UnitOfWork& uow, const std::string& channel, const std::vector<std::string>& locations,
                        std::vector<Poco::JSON::Object::Ptr>& documents, std::vector<std::string>& sets);
};

}  // namespace keel::app
