// Customer invoices (one per shipment, on shipment or on delivery per channel) and credit notes for returns.
#include "keel/ledger/postings.h"

#include "keel/db/batch_insert.h"
#include "keel/events/outbox.h"

#include "keel/kernel/id.h"

#include <algorithm>
#include <map>

namespace keel::ledger {

std::string jurisdictionOf(const orders::Address& address) {
    return address.region.empty() ? address.country : address.country + "-" + address.region;
}

namespace {

using TaxParts = std::vector<std::pair<std::string, std::int64_t>>;  ///< jurisdiction and its quoted tax

/// The tax engine's breakdown of an order (order_tax), per line number (0: shipping); empty for the rate table.
std::map<int, TaxParts> taxBreakdown(db::UnitOfWork& uow, const std::string& order_id) {
    db::Statement& s = uow.statement(
        "SELECT line_no, jurisdiction, tax FROM order_tax WHERE order_id = ? ORDER BY line_no, jurisdiction");
    s.bindAll(order_id).execute();
    std::map<int, TaxParts> out;
    while (s.next()) out[static_cast<int>(s.getInt64(0))].emplace_back(s.getString(1), s.getInt64(2));
    return out;
}

/// Adds `amount` of tax to `by_jurisdiction`, split over `parts` in proportion to their quoted tax (largest
/// remainder: the pieces add up to `amount` exactly); without a breakdown it all goes to `fallback`.
void splitTax(std::map<std::string, std::int64_t>& by_jurisdiction, std::int64_t amount, const TaxParts* parts,
              const std::string& fallback, const Currency& currency) {
    if (amount == 0) return;
    std::vector<std::int64_t> weights;
    std::int64_t weight = 0;
    if (parts != nullptr) {
        for (const auto& [code, tax] : *parts) {
            weights.push_back(std::max<std::int64_t>(tax, 0));
            weight += weights.back();
        }
    }
    if (weight == 0) {
        by_jurisdiction[fallback] += amount;
        return;
    }
    const auto pieces = Money(amount, currency).allocate(weights);
    for (std::size_t i = 0; i < pieces.size(); ++i) by_jurisdiction[(*parts)[i].first] += pieces[i].minor();
}

/// The lines of `rule` for tax payable: one per jurisdiction, each as the rule posts its "tax" amount.
std::vector<DraftLine> taxLines(const PostingRule& rule, const std::map<std::string, Money>& amounts,
                                const std::map<std::string, std::int64_t>& by_jurisdiction, const Currency& currency,
                                const Dimensions& dimensions) {
    std::map<std::string, Money> only_tax;
    for (const auto& [name, value] : amounts) only_tax.emplace(name, Money::zero(value.currency()));
    std::vector<DraftLine> out;
    for (const auto& [jurisdiction, tax] : by_jurisdiction) {
        only_tax.insert_or_assign("tax", Money(tax, currency));
        for (auto& line : applyRule(rule, only_tax, {{"jurisdiction", jurisdiction}}, dimensions)) {
            out.push_back(std::move(line));
        }
    }
    return out;
}

}  // namespace

InvoiceOn Postings::invoiceOn(const std::string& channel) const {
    const auto it = options_.channel_invoice_on.find(channel);
    return it == options_.channel_invoice_on.end() ? options_.invoice_on : it->second;
}

std::optional<Problem> Postings::shipped(db::UnitOfWork& uow, const orders::Order& order,
                                         const orders::Shipment& shipment, const orders::Actor& actor) {
    // Without an initialized ledger nothing is invoiced (as stock is not valued): see Postings::moved.
    if (invoiceOn(order.channel) != InvoiceOn::kShipment || !ledger_.functionalCurrency(uow)) return std::nullopt;
    auto invoice = invoiceShipment(uow, order, shipment, actor.name);
    if (!invoice) return invoice.problem();
    return std::nullopt;
}

std::optional<Problem> Postings::delivered(db::UnitOfWork& uow, const orders::Order& order,
                                           const orders::Shipment& shipment, const orders::Actor& actor) {
    if (invoiceOn(order.channel) != InvoiceOn::kDelivery || !ledger_.functionalCurrency(uow)) return std::nullopt;
    auto invoice = invoiceShipment(uow, order, shipment, actor.name);
    if (!invoice) return invoice.problem();
    return std::nullopt;
}

bool Postings::invoicedInFull(db::UnitOfWork& uow, const orders::Order& order) {
    std::int64_t shipped = 0;
    for (const auto& l : order.lines) shipped += l.shipped;
    db::Statement& s = uow.statement(
        "SELECT COALESCE(SUM(l.quantity), 0) FROM invoice_line l JOIN invoice i ON i.id = l.invoice_id WHERE i.order_id = ?");
    s.bind(order.id).execute();
    return s.next() && s.getInt64(0) >= shipped && shipped > 0;
}

std::vector<Invoice> Postings::invoices(db::UnitOfWork& uow, std::string_view order_id) {
    std::vector<Invoice> out;
    db::Statement& s = uow.statement(
        "SELECT id, order_id, shipment_id, customer_id, channel, currency, jurisdiction, invoice_date, due_date, goods, "
        "discount, shipping, tax, total, entry_id FROM invoice WHERE order_id = ? ORDER BY id");
    s.bind(std::string(order_id)).execute();
    while (s.next()) {
        Invoice i;
        i.id = s.getString(0);
        i.order_id = s.getString(1);
        i.shipment_id = s.getString(2);
        i.customer_id = s.getString(3);
        i.channel = s.getString(4);
        i.currency = s.getString(5);
        i.jurisdiction = s.getString(6);
        i.date = Date::fromYmd(static_cast<int>(s.getInt64(7)));
        i.due = Date::fromYmd(static_cast<int>(s.getInt64(8)));
        i.goods = s.getInt64(9);
        i.discount = s.getInt64(10);
        i.shipping = s.getInt64(11);
        i.tax = s.getInt64(12);
        i.total = s.getInt64(13);
        i.entry_id = s.getString(14);
        out.push_back(std::move(i));
    }
    return out;
}

Result<Invoice> Postings::invoiceShipment(db::UnitOfWork& uow, const orders::Order& order,
                                          const orders::Shipment& shipment, const std::string& actor) {
    const auto earlier = invoices(uow, order.id);
    for (const auto& existing : earlier) {
        if (existing.shipment_id == shipment.id) return existing;
    }
    // Units of each order line on this shipment (a kit's count sits on its first component line).
    std::map<int, std::int64_t> units;
    for (const auto& l : shipment.lines) units[l.order_line_no] += l.units;
    // What earlier invoices of the order took of each line, so that the shares of a line's discount and tax are
    // cumulative: share(units so far) - share(units before). Invoices of a whole line add up to it exactly.
    struct Taken {
        std::int64_t quantity = 0, discount = 0, tax = 0;
    };
    std::map<int, Taken> before;
    bool first = true;
    if (!earlier.empty()) {  // the order's first invoice (most are) has nothing before it to read
        db::Statement& prior = uow.statement(
            "SELECT l.order_line_no, SUM(l.quantity), SUM(l.discount), SUM(l.tax) FROM invoice_line l "
            "JOIN invoice i ON i.id = l.invoice_id WHERE i.order_id = ? GROUP BY l.order_line_no");
        prior.bind(order.id).execute();
        while (prior.next()) {
            first = false;
            before[static_cast<int>(prior.getInt64(0))] =
                Taken{prior.getInt64(1), prior.getInt64(2), prior.getInt64(3)};
        }
    }
    Invoice invoice;
    invoice.id = IdGenerator::global().next();
    invoice.order_id = order.id;
    invoice.shipment_id = shipment.id;
    invoice.customer_id = order.customer_id;
    invoice.channel = order.channel;
    invoice.currency = std::string(order.currency->code());
    invoice.jurisdiction = jurisdictionOf(order.ship_to);
    invoice.date = Date::today(ledger_.clock());
    invoice.due = invoice.date.plusDays(options_.payment_terms_days);
    struct Line {
        int order_line_no;
        std::int64_t quantity, goods, discount, tax;
    };
    std::vector<Line> lines;
    std::int64_t line_tax_total = 0;
    for (const auto& ol : order.lines) line_tax_total += ol.tax;
    for (const auto& [line_no, count] : units) {
        if (line_no < 1 || static_cast<std::size_t>(line_no) > order.lines.size() || count <= 0) continue;
        const auto& ol = order.lines[static_cast<std::size_t>(line_no - 1)];
        const Taken t = before[line_no];
        const std::int64_t after = t.quantity + count;
        auto cumulative = [&](std::int64_t whole, std::int64_t q) {
            return proportionalShare(whole, q, ol.quantity, RoundingMode::kHalfEven);
        };
        Line line{line_no, count, ol.unit_price.value_or(0) * count, cumulative(ol.discount, after) - t.discount,
                  cumulative(ol.tax, after) - t.tax};
        invoice.goods += line.goods;
        invoice.discount += line.discount;
        invoice.tax += line.tax;
        lines.push_back(line);
    }
    if (lines.empty()) return invoice;  // nothing billable (a shipment of nothing)
    if (first) {
        // Shipping and the tax on it are billed with the first invoice of the order.
        invoice.shipping = order.shipping_amount;
        invoice.tax += order.tax_total - line_tax_total;
    }
    invoice.total = invoice.goods - invoice.discount + invoice.shipping + invoice.tax;
    const Currency& currency = *order.currency;
    EntryRequest request;
    request.date = invoice.date;
    request.kind = "customer_invoice";
    request.source_type = "invoice";
    request.source_id = invoice.id;
    request.idempotency_key = "invoice:" + shipment.id;
    // The shipment has no invoice (read above; invoice.shipment_id is unique), so its key was never posted: no lookup
    // for an earlier posting. The unique key still guards against a manual entry that took it.
    request.new_key = true;
    request.memo = "invoice for order " + order.channel + "/" + order.external_id + ", shipment " + shipment.id;
    request.actor = actor;
    Dimensions dimensions;
    dimensions.channel = order.channel;
    dimensions.customer_id = order.customer_id;
    dimensions.location_id = shipment.location_id;
    // Tax payable per jurisdiction, as the tax engine broke each line's (and the shipping's) tax down.
    const auto breakdown = taxBreakdown(uow, order.id);
    std::map<std::string, std::int64_t> tax_by_jurisdiction;
    std::int64_t invoiced_line_tax = 0;
    for (const auto& l : lines) {
        const auto parts = breakdown.find(l.order_line_no);
        splitTax(tax_by_jurisdiction, l.tax, parts == breakdown.end() ? nullptr : &parts->second, invoice.jurisdiction,
                 currency);
        invoiced_line_tax += l.tax;
    }
    const auto shipping_parts = breakdown.find(0);
    splitTax(tax_by_jurisdiction, invoice.tax - invoiced_line_tax,
             shipping_parts == breakdown.end() ? nullptr : &shipping_parts->second, invoice.jurisdiction, currency);
    try {
        const PostingRule& rule = *findRule("customer_invoice");
        const std::map<std::string, Money> amounts = {{"total", Money(invoice.total, currency)},
                                                      {"discount", Money(invoice.discount, currency)},
                                                      {"goods", Money(invoice.goods, currency)},
                                                      {"shipping", Money(invoice.shipping, currency)},
                                                      {"tax", Money::zero(currency)}};
        request.lines = applyRule(rule, amounts, {{"jurisdiction", invoice.jurisdiction}}, dimensions);
        for (auto& line : taxLines(rule, amounts, tax_by_jurisdiction, currency, dimensions)) {
            request.lines.push_back(std::move(line));
        }
    } catch (const RejectedError& e) {
        return uow.fail(ExitCode::kRejected, "order " + order.id + ": cannot invoice: " + e.what(), "order");
    }
    if (!request.lines.empty()) {  // a free order posts nothing, but its invoice (of zero) is kept
        auto posted = ledger_.post(uow, request);
        if (!posted) return posted.problem();
        invoice.entry_id = posted.value().entry_id;
    }
    uow.statement("INSERT INTO invoice (id, order_id, shipment_id, customer_id, channel, currency, jurisdiction, "
                  "invoice_date, due_date, goods, discount, shipping, tax, total, entry_id, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .bindAll(invoice.id, invoice.order_id, invoice.shipment_id, invoice.customer_id, invoice.channel, invoice.currency,
                 invoice.jurisdiction.substr(0, 16), invoice.date.ymd(), invoice.due.ymd(), invoice.goods,
                 invoice.discount, invoice.shipping, invoice.tax, invoice.total, invoice.entry_id,
                 ledger_.clock().nowMicros())
        .execute();
    std::string line_json;
    std::int64_t lines_tax = 0;
    // The invoice's lines in one multi-row INSERT (a statement per line was a round trip each on the servers).
    db::BatchInsert invoice_lines(uow, "invoice_line",
                                  {"invoice_id", "order_line_no", "quantity", "goods", "discount", "tax"});
    for (const auto& l : lines) {
        invoice_lines.add(invoice.id, l.order_line_no, l.quantity, l.goods, l.discount, l.tax);
        const auto& ol = order.lines[static_cast<std::size_t>(l.order_line_no - 1)];
        line_json += (line_json.empty() ? "" : ",") + events::Payload()
                                                          .add("line_no", l.order_line_no)
                                                          .add("line_id", ol.external_line)
                                                          .add("sku", ol.sku)
                                                          .add("quantity", l.quantity)
                                                          .add("goods", Money(l.goods, currency).toString())
                                                          .add("discount", Money(l.discount, currency).toString())
                                                          .add("tax", Money(l.tax, currency).toString())
                                                          .str();
        lines_tax += l.tax;
    }
    invoice_lines.flush();
    // For subscribers that follow what was billed: an accounting sync, and a tax engine's commit (docs/events.md).
    events::Outbox(ledger_.clock())
        .append(uow, events::Event{"invoice.issued", "invoice", invoice.id,
                                   events::Payload()
                                       .add("order_id", invoice.order_id)
                                       .add("order", order.channel + "/" + order.external_id)
                                       .add("shipment_id", invoice.shipment_id)
                                       .add("customer_id", invoice.customer_id)
                                       .add("channel", invoice.channel)
                                       .add("date", invoice.date.toString())
                                       .add("due", invoice.due.toString())
                                       .add("currency", invoice.currency)
                                       .add("goods", Money(invoice.goods, currency).toString())
                                       .add("discount", Money(invoice.discount, currency).toString())
                                       .add("shipping", Money(invoice.shipping, currency).toString())
                                       .add("shipping_tax", Money(invoice.tax - lines_tax, currency).toString())
                                       .add("tax", Money(invoice.tax, currency).toString())
                                       .add("total", Money(invoice.total, currency).toString())
                                       .add("jurisdiction", invoice.jurisdiction)
                                       .addRaw("lines", "[" + line_json + "]")
                                       .str(),
                                   actor});
    return invoice;
}

std::optional<Problem> Postings::refunded(db::UnitOfWork& uow, const orders::Order& order, const std::string& return_id,
                                          const orders::RefundBreakdown& refund, const orders::Actor& actor) {
    if (refund.total == 0 || !ledger_.functionalCurrency(uow)) return std::nullopt;
    // Revenue that was never invoiced (a channel invoicing on delivery, returned before delivery) is not credited
    // back: the money, if any was taken, goes back as a refund payment against the payment.
    if (invoices(uow, order.id).empty()) return std::nullopt;
    const Currency& currency = *order.currency;
    std::int64_t goods = refund.goods + refund.shipping;
    std::int64_t tax = refund.tax + refund.shipping_tax;
    if (goods + tax != refund.total) {
        // A partial refund (restocking fee): the total is split between goods and tax in their proportion.
        const std::int64_t weights[] = {goods, tax};
        const auto parts = goods + tax > 0 ? Money(refund.total, currency).allocate(weights)
                                           : std::vector<Money>{Money(refund.total, currency), Money::zero(currency)};
        goods = parts[0].minor();
        tax = parts[1].minor();
    }
    EntryRequest request;
    request.date = Date::today(ledger_.clock());
    request.kind = "credit_note";
    request.source_type = "return";
    request.source_id = return_id;
    request.idempotency_key = "credit_note:" + return_id;
    request.memo = "credit note for return " + return_id + " of order " + order.channel + "/" + order.external_id;
    request.actor = actor.name;
    Dimensions dimensions;
    dimensions.channel = order.channel;
    dimensions.customer_id = order.customer_id;
    // Tax comes back from the jurisdictions it was owed to, in the proportion of the order's quoted breakdown.
    TaxParts order_parts;
    for (const auto& [line_no, parts] : taxBreakdown(uow, order.id)) {
        for (const auto& part : parts) {
            auto it = std::find_if(order_parts.begin(), order_parts.end(),
                                   [&](const auto& p) { return p.first == part.first; });
            if (it == order_parts.end())
                order_parts.push_back(part);
            else
                it->second += part.second;
        }
    }
    std::map<std::string, std::int64_t> tax_by_jurisdiction;
    splitTax(tax_by_jurisdiction, tax, &order_parts, jurisdictionOf(order.ship_to), currency);
    const PostingRule& rule = *findRule("credit_note");
    const std::map<std::string, Money> amounts = {
        {"goods", Money(goods, currency)}, {"tax", Money::zero(currency)}, {"total", Money(refund.total, currency)}};
    request.lines = applyRule(rule, amounts, {{"jurisdiction", jurisdictionOf(order.ship_to)}}, dimensions);
    for (auto& line : taxLines(rule, amounts, tax_by_jurisdiction, currency, dimensions)) {
        request.lines.push_back(std::move(line));
    }
    auto posted = ledger_.post(uow, request);
    if (!posted) return posted.problem();
    return std::nullopt;
}

}  // namespace keel::ledger
