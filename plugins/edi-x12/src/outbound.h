// Keel documents → X12 for one partner, each in an interchange of its own: to a customer an order acknowledgment as an
// 855, an advance ship notice (docs/schemas/advance_ship_notice.schema.json) as an 856, an inventory advice as an 846
// and an invoice (docs/schemas/invoice.schema.json) as an 810; to a 3PL a shipment request
// (docs/schemas/shipment_request.schema.json) as a 940.
#pragma once

#include "partner.h"

#include <Poco/JSON/Object.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace keel::edix12 {

/// A document that cannot be written for this partner; the message names the field.
class DocumentError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Envelope {
    std::uint64_t control_number = 1;  ///< ISA13 and GS06 (ST02 is 0001)
    std::string date;                  ///< CCYYMMDD of the interchange
    std::string time;                  ///< HHMM
};

/// An 856 (ship notice) with the S/O/P/I hierarchy: shipment, order (PRF = the PO number), one P per package with its
/// SSCC-18 (MAN*GM) and one I per line (LIN with the partner's product id, SN1 with the quantity).
std::string write856(const PartnerProfile& partner, const Poco::JSON::Object& asn, const Envelope& envelope);

/// An 855 (purchase order acknowledgment) of an order_acknowledgment document: BAK (BAK01 00 original, or the profile's
/// po_ack.change_purpose for "purpose": "change"; BAK02 AD accepted as sent, AC accepted with changes such as
/// backorders, RD rejected) and per line PO1 (as ordered) with ACK IA/IB/IR and quantities.
std::string write855(const PartnerProfile& partner, const Poco::JSON::Object& acknowledgment, const Envelope& envelope);

/// An 846 (inventory inquiry/advice) of an inventory_advice document: BIA (00, DD distributor inventory report), and
/// per item LIN with the partner's product id and QTY*33 (quantity available for sale), with on hand (QTY*17) when
/// given.
std::string write846(const PartnerProfile& partner, const Poco::JSON::Object& advice, const Envelope& envelope);

/// An 810 (invoice): BIG with the invoice number and the PO number, the parties, IT1 per line, TDS, TXI, SAC for
/// shipping and CTT.
std::string write810(const PartnerProfile& partner, const Poco::JSON::Object& invoice, const Envelope& envelope);

/// A 940 (warehouse shipping order) of a shipment_request document: W05 (N original, the depositor order number the
/// 945 will name, the PO number), N1*ST with N3/N4, N1*WH (the location, by the partner's id for it), W66 (service and
/// carrier), per line LX, W01 (quantity, EA, the partner's product id under its first `items` qualifier), G69 (the
/// description) and N9*LT (the lot to ship), then the W76 total.
std::string write940(const PartnerProfile& partner, const Poco::JSON::Object& request, const Envelope& envelope);

}  // namespace keel::edix12
