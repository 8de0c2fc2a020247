// Financial events from outside the order lifecycle (payment providers, marketplaces, suppliers, accountants),
// posted from JSON documents, and landed costs allocated over receipts.
#include "keel/ledger/postings.h"

#include "keel/kernel/hash.h"

#include <Poco/JSON/Array.h>

#include <sstream>

#include <set>

namespace keel::ledger {

namespace {

/// Reads the fields of one event document; every error names the field.
class Fields {
public:
    Fields(const Poco::JSON::Object& object, std::string prefix = {}) : object_(object), prefix_(std::move(prefix)) {}

    std::string path(const std::string& name) const { return prefix_.empty() ? name : prefix_ + "." + name; }

    std::optional<std::string> text(const std::string& name, std::size_t max = 200) {
        seen_.insert(name);
        if (!object_.has(name) || object_.isNull(name)) return std::nullopt;
        const auto value = object_.get(name);
        if (!value.isString()) throw RejectedError(path(name) + ": must be a string");
        std::string s = value.extract<std::string>();
        if (s.size() > max) throw RejectedError(path(name) + ": longer than " + std::to_string(max) + " characters");
        return s;
    }
    std::string required(const std::string& name, std::size_t max = 200) {
        auto s = text(name, max);
        if (!s || s->empty()) throw RejectedError(path(name) + ": required");
        return *s;
    }
    Money amount(const std::string& name, const Currency& currency) {
        const std::string s = required(name, 40);
        Money m = Money::zero(currency);
        try {
            m = Money::parse(s, currency);
        } catch (const RejectedError& e) {
            throw RejectedError(path(name) + ": '" + s + "' is not an amount in " + std::string(currency.code()) + " (" + e.what() + ")");
        }
        if (!m.isPositive()) throw RejectedError(path(name) + ": must be more than zero (got " + s + ")");
        return m;
    }
    const Currency& currency(const std::string& name) {
        const std::string s = required(name, 3);
        const auto c = Currency::find(s);
        if (!c) throw RejectedError(path(name) + ": unknown currency '" + s + "'");
        return Currency::of(s);
    }
    Date date(const std::string& name, const Date& otherwise) {
        const auto s = text(name, 10);
        if (!s) return otherwise;
        auto d = Date::parse(*s);
        if (!d) throw RejectedError(path(name) + ": " + d.problem().message);
        return d.value();
    }
    Poco::JSON::Array::Ptr array(const std::string& name) {
        seen_.insert(name);
        if (!object_.has(name)) throw RejectedError(path(name) + ": required");
        auto a = object_.getArray(name);
        if (!a || a->size() == 0) throw RejectedError(path(name) + ": must be a non-empty array");
        return a;
    }
    /// Refuses fields this event type does not know (a typo must not be ignored silently).
    void noOthers() const {
        std::vector<std::string> names;
        object_.getNames(names);
        for (const auto& n : names) {
            if (!seen_.count(n)) throw RejectedError(path(n) + ": unknown field");
        }
    }

private:
    const Poco::JSON::Object& object_;
    std::string prefix_;
    std::set<std::string> seen_;
};

}  // namespace

Result<PostResult> Postings::postEvent(db::UnitOfWork& uow, const Poco::JSON::Object& event, const std::string& actor) {
    try {
        Fields f(event);
        const std::string type = f.required("type", 32);
        static const std::set<std::string> types = {"payment_capture", "refund_payment", "payout", "marketplace_fee",
                                                    "chargeback", "chargeback_won", "supplier_invoice", "landed_cost",
                                                    "journal"};
        if (!types.count(type)) {
            return uow.fail(
                ExitCode::kRejected,
                "type: unknown financial event '" + type +
                    "' (payment_capture, refund_payment, payout, marketplace_fee, chargeback, chargeback_won, "
                    "supplier_invoice, landed_cost, journal)",
                "type");
        }
        const std::string key = f.required("key", 180);
        // Which of the context fields each type uses: any other is refused rather than silently ignored.
        static const std::map<std::string, std::set<std::string>> context = {
            {"payment_capture", {"channel", "order_id", "customer", "provider"}},
            {"refund_payment", {"channel", "order_id", "customer", "provider"}},
            {"payout", {"provider"}},
            {"marketplace_fee", {"channel", "order_id", "provider"}},
            {"chargeback", {"channel", "order_id", "customer"}},
        };
        for (const char* name : {"channel", "order_id", "customer", "provider"}) {
            const auto it = context.find(type);
            if (event.has(name) && (it == context.end() || !it->second.count(name))) {
                return uow.fail(ExitCode::kRejected, std::string(name) + ": not used by " + type + " events", name);
            }
        }
        // A replay is recognised by its key and must be the same document (the lines it posts may differ by now:
        // a landed cost is split over what is still in stock).
        std::ostringstream canonical;
        event.stringify(canonical);
        const std::string event_hash = sha256Hex(canonical.str());
        db::Statement& earlier = uow.statement("SELECT id, content_hash FROM journal_entry WHERE idempotency_key = ?");
        earlier.bind("event:" + key).execute();
        if (earlier.next()) {
            const std::string id = earlier.getString(0);
            if (earlier.getString(1) == event_hash) return PostResult{id, true};
            return uow.fail(ExitCode::kConflict,
                            "key '" + key + "' was already posted as entry " + id +
                                " from a different document; nothing was posted",
                            "key");
        }
        const Date date = f.date("date", Date::today(ledger_.clock()));
        const std::string memo = f.text("memo", 500).value_or("");
        Dimensions dimensions;
        dimensions.channel = f.text("channel", 64).value_or("");
        if (auto order_id = f.text("order_id", 36)) {
            db::Statement& o = uow.statement("SELECT channel, customer_id FROM sales_order WHERE id = ?");
            o.bind(*order_id).execute();
            if (!o.next()) return uow.fail(ExitCode::kNotFound, "order_id: no order '" + *order_id + "'", "order_id");
            if (dimensions.channel.empty()) dimensions.channel = o.getString(0);
            dimensions.customer_id = o.getString(1);
        }
        if (auto customer = f.text("customer", 64)) {
            db::Statement& c = uow.statement("SELECT id FROM customer WHERE code = ?");
            c.bind(*customer).execute();
            if (!c.next())
                return uow.fail(ExitCode::kNotFound, "customer: no customer '" + *customer + "'", "customer");
            dimensions.customer_id = c.getString(0);
        }
        const std::string provider = f.text("provider", 32).value_or("");
        if ((type == "payment_capture" || type == "refund_payment") && dimensions.customer_id.empty()) {
            // Receivables are kept per customer: a payment nobody can be found for could never be applied.
            return uow.fail(ExitCode::kRejected, "order_id or customer: required for " + type + " events", "order_id");
        }
        EntryRequest request;
        request.date = date;
        request.kind = type;
        request.source_type = "event";
        request.source_id = key.substr(0, 64);
        request.idempotency_key = "event:" + key;
        request.memo = memo.empty() ? type + " " + key : memo;
        request.actor = actor;
        request.content_hash = event_hash;

        if (type == "chargeback_won") {
            const std::string chargeback = f.required("chargeback_key", 180);
            f.noOthers();
            auto original = ledger_.entryByKey(uow, "event:" + chargeback);
            if (!original || original->kind != "chargeback") {
                return uow.fail(ExitCode::kNotFound,
                                "chargeback_key: no chargeback posted with key '" + chargeback + "'", "chargeback_key");
            }
            return ledger_.reverse(uow, original->id, date, request.memo, actor, request.idempotency_key, event_hash);
        }
        if (type == "journal") {
            const auto lines = f.array("lines");
            f.noOthers();
            request.manual = true;
            for (std::size_t i = 0; i < lines->size(); ++i) {
                const auto object = lines->getObject(static_cast<unsigned>(i));
                const std::string prefix = "lines[" + std::to_string(i) + "]";
                if (!object) throw RejectedError(prefix + ": must be an object");
                Fields lf(*object, prefix);
                const std::string account = lf.required("account", 32);
                const Currency& currency = lf.currency("currency");
                const auto debit = lf.text("debit", 40);
                const auto credit = lf.text("credit", 40);
                if (debit.has_value() == credit.has_value()) {
                    throw RejectedError(prefix + ": give exactly one of debit and credit");
                }
                const Money amount = lf.amount(debit ? "debit" : "credit", currency);
                Dimensions d;
                d.channel = lf.text("channel", 64).value_or("");
                d.location_id = lf.text("location_id", 36).value_or("");
                d.customer_id = lf.text("customer_id", 36).value_or("");
                d.item_id = lf.text("item_id", 36).value_or("");
                lf.noOthers();
                request.lines.push_back(DraftLine{"", account, debit ? amount : -amount, d});
            }
            return ledger_.post(uow, request);
        }
        const Currency& currency = f.currency("currency");
        const Money amount = f.amount("amount", currency);
        if (type == "landed_cost") {
            const auto receipts = f.array("receipts");
            f.noOthers();
            std::vector<std::string> moves;
            for (std::size_t i = 0; i < receipts->size(); ++i) {
                const auto v = receipts->get(static_cast<unsigned>(i));
                if (!v.isString()) throw RejectedError("receipts[" + std::to_string(i) + "]: must be a stock move id");
                moves.push_back(v.extract<std::string>());
            }
            auto shares =
                allocateLandedCost(uow, moves, amount, date, request.idempotency_key, request.memo, actor, event_hash);
            if (!shares) return shares.problem();
            auto posted = ledger_.entryByKey(uow, request.idempotency_key);
            return PostResult{posted ? posted->id : "", false};
        }
        f.noOthers();
        request.lines = applyRule(*findRule(type), {{"amount", amount}}, {{"provider", provider}}, dimensions);
        return ledger_.post(uow, request);
    } catch (const RejectedError& e) {
        return uow.fail(ExitCode::kRejected, e.what());
    } catch (const Poco::Exception& e) {
        return uow.fail(ExitCode::kRejected, std::string("malformed event: ") + e.displayText());
    }
}

Result<std::vector<LandedCostShare>> Postings::allocateLandedCost(db::UnitOfWork& uow,
                                                                  const std::vector<std::string>& move_ids,
                                                                  const Money& amount, const Date& date,
                                                                  const std::string& key, const std::string& memo,
                                                                  const std::string& actor,
                                                                  std::optional<std::string> content_hash) {
    const Currency* functional = ledger_.functionalCurrency(uow);
    if (!functional)
        return uow.fail(ExitCode::kInfrastructure, "the ledger is not initialized: run `keel ledger init`");
    if (auto existing = ledger_.entryByKey(uow, key)) return std::vector<LandedCostShare>{};  // replayed: posted once
    auto inventory_account = ledger_.accountFor(uow, "inventory");
    if (!inventory_account) return inventory_account.problem();
    struct Receipt {
        std::string move_id, item_id, location_id;
        std::int64_t quantity = 0, value = 0;
    };
    std::vector<Receipt> receipts;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < move_ids.size(); ++i) {
        const std::string field = "receipts[" + std::to_string(i) + "]";
        if (!seen.insert(move_ids[i]).second) {
            return uow.fail(ExitCode::kRejected, field + ": receipt " + move_ids[i] + " is listed twice", field);
        }
        db::Statement& m = uow.statement(
            "SELECT item_id, quantity, to_location_id, from_location_id, reason FROM stock_move WHERE id = ?");
        m.bind(move_ids[i]).execute();
        if (!m.next()) return uow.fail(ExitCode::kNotFound, field + ": no stock move '" + move_ids[i] + "'", field);
        if (!m.getString(3).empty() || (m.getString(4) != "receipt" && m.getString(4) != "opening_balance")) {
            return uow.fail(ExitCode::kRejected,
                            field + ": stock move " + move_ids[i] + " is a " + m.getString(4) + ", not a receipt",
                            field);
        }
        Receipt r{move_ids[i], m.getString(0), m.getString(2), m.getInt64(1), 0};
        db::Statement& v = uow.statement(
            "SELECT COALESCE(SUM(l.functional_amount), 0) FROM journal_line l JOIN journal_entry e ON e.id = l.entry_id "
            "WHERE e.idempotency_key = ? AND l.account_code = ?");
        v.bindAll("stock_move:" + r.move_id, inventory_account.value()).execute();
        if (v.next()) r.value = v.getInt64(0);
        receipts.push_back(std::move(r));
    }
    if (receipts.empty()) return uow.fail(ExitCode::kRejected, "receipts: name at least one receipt", "receipts");
    // Weights: the receipts' values; by quantity when they were received without cost.
    std::vector<std::int64_t> weights;
    std::int64_t total_value = 0;
    for (const auto& r : receipts) total_value += r.value;
    for (const auto& r : receipts) weights.push_back(total_value > 0 ? r.value : r.quantity);
    std::optional<Decimal> rate = Decimal(1);
    if (amount.currency() != *functional) {
        rate = ledger_.rateOn(uow, amount.currency(), date);
        if (!rate) {
            return uow.fail(
                ExitCode::kRejected,
                "no exchange rate for " + std::string(amount.currency().code()) + " on or before " + date.toString(),
                "currency");
        }
    }
    const Money functional_amount = amount.convert(*functional, *rate, RoundingMode::kHalfEven);
    const auto shares = amount.allocate(weights);
    const auto functional_shares = functional_amount.allocate(weights);
    EntryRequest request;
    request.date = date;
    request.kind = "landed_cost";
    request.source_type = "event";
    request.source_id = key.substr(0, 64);
    request.idempotency_key = key;
    request.memo = memo;
    request.actor = actor;
    request.content_hash = std::move(content_hash);
    const PostingRule& rule = *findRule("landed_cost");
    std::vector<LandedCostShare> out;
    for (std::size_t i = 0; i < receipts.size(); ++i) {
        const auto& r = receipts[i];
        const bool fifo = isFifo(uow, r.item_id);
        // How much of the receipt is still held: its FIFO layer, or (moving average) at most what the item has.
        std::int64_t held = 0;
        if (fifo) {
            db::Statement& l = uow.statement("SELECT COALESCE(SUM(quantity), 0) FROM cost_layer WHERE move_id = ?");
            l.bind(r.move_id).execute();
            if (l.next()) held = l.getInt64(0);
        } else {
            held = std::min(readPool(uow, r.item_id, "stock").quantity, r.quantity);
        }
        auto split = [&](const Money& share) {
            const std::int64_t on_hand =
                proportionalShare(share.minor(), held, r.quantity, RoundingMode::kHalfEven);
            return std::make_pair(Money(on_hand, share.currency()), share - Money(on_hand, share.currency()));
        };
        const auto [on_hand, sold] = split(shares[i]);
        const auto [f_on_hand, f_sold] = split(functional_shares[i]);
        Dimensions d;
        d.item_id = r.item_id;
        d.location_id = r.location_id;
        auto lines = applyRule(rule, {{"on_hand", on_hand}, {"sold", sold}, {"amount", shares[i]}}, {}, d);
        // The functional side is fixed by the same split, so the stock's new cost is exactly what the books say.
        std::int64_t raised = 0;  // what the stock's cost goes up by: the inventory line, when there is one
        for (auto& line : lines) {
            const std::int64_t f = line.role == "inventory" ? f_on_hand.minor()
                                   : line.role == "cogs"    ? f_sold.minor()
                                                            : -functional_shares[i].minor();
            line.functional_amount = f;
            line.rate = *rate;
            if (line.role == "inventory") raised = f;
        }
        request.lines.insert(request.lines.end(), lines.begin(), lines.end());
        if (raised > 0) {
            readPool(uow, r.item_id, "stock");  // locks the pool row
            uow.statement("UPDATE item_cost SET value = value + ?, updated_at = ? WHERE item_id = ? AND pool = 'stock'")
                .bindAll(raised, ledger_.clock().nowMicros(), r.item_id)
                .execute();
            if (fifo) {
                uow.statement("UPDATE cost_layer SET value = value + ? WHERE move_id = ? AND quantity > 0")
                    .bindAll(raised, r.move_id)
                    .execute();
            }
        }
        out.push_back(LandedCostShare{r.move_id, r.item_id, functional_shares[i].minor(), raised,
                                      functional_shares[i].minor() - raised});
    }
    auto posted = ledger_.post(uow, request);
    if (!posted) return posted.problem();
    return out;
}

}  // namespace keel::ledger
