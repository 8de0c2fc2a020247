#pragma once
// The canonical order document (architecture.md, "The canonical order document"): what every intake path
// (keel order import, the REST API, marketplace plugins, EDI 850) hands to Orders::import. JSON, UTF-8,
// amounts as decimal strings parsed exactly, quantities as integers in the item's base unit (or in `uom`).
// The JSON schema is docs/order.schema.json.

#include "keel/kernel/date.h"
#include "keel/kernel/error.h"
#include "keel/kernel/money.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::orders {

enum class CustomerKind { kB2C, kB2B };
enum class PaymentStatus { kPending, kAuthorized, kCaptured };

std::string_view toString(CustomerKind kind);      ///< "b2c", "b2b"
std::string_view toString(PaymentStatus status);   ///< "pending", "authorized", "captured"

struct Address {
    std::string name;
    std::string line1;
    std::string line2;
    std::string city;
    std::string region;       ///< state or province code
    std::string postal_code;
    std::string country;      ///< ISO 3166-1 alpha-2, upper case
    std::string phone;
};

struct CustomerRef {
    std::string id;           ///< the account code (B2B) or the channel's customer id (B2C)
    std::string email;
    std::string name;
    CustomerKind kind = CustomerKind::kB2C;
};

struct OrderLineDoc {
    std::string line_id;                  ///< the channel's line id; "1", "2", ... when the document has none
    std::string sku;                      ///< SKU, channel alias or GTIN
    std::int64_t quantity = 0;            ///< > 0, in `uom` (base unit when empty)
    std::string uom;                      ///< a unit of the item ("case"); empty: the base unit
    std::optional<Money> unit_price;      ///< when the channel fixed it
    Money discount{0, Currency::of("USD")};  ///< total discount of the line, >= 0, in the order currency
};

struct OrderDocument {
    int version = 1;
    std::string channel;
    std::string external_id;
    const Currency* currency = nullptr;   ///< points into Currency's table
    CustomerRef customer;
    Address ship_to;
    std::optional<Address> bill_to;       ///< ship_to when absent
    std::vector<OrderLineDoc> lines;
    Money shipping_amount{0, Currency::of("USD")};
    std::string shipping_service;         ///< "ground" when absent
    PaymentStatus payment_status = PaymentStatus::kPending;
    int priority = 0;                     ///< higher allocates first
    std::optional<Date> promise_date;
    bool ship_complete = false;
    std::optional<bool> allow_backorder;  ///< the channel's default when absent
    std::string notes;
};

/// A parse either gives the document or every problem found, each naming the JSON path of the field
/// ("lines[2].quantity"), quoting the value and saying why. Problems are kRejected.
struct ParsedDocument {
    std::optional<OrderDocument> document;
    std::vector<Problem> problems;
    bool ok() const { return document.has_value() && problems.empty(); }
};

/// Parses and validates the structure of an order document (types, required fields, exact amounts, currency
/// codes, country codes, dates, limits). Business checks (does the SKU exist, is the address complete enough to
/// ship, is the payment authorized) belong to intake, which holds the order instead of refusing it.
ParsedDocument parseOrderDocument(std::string_view json);

/// The document in canonical JSON: fixed key order, amounts as strings with the currency's decimals, absent
/// optional fields omitted. Equal documents give equal text, so its SHA-256 detects a changed re-send.
std::string canonicalJson(const OrderDocument& document);

}  // namespace keel::orders
