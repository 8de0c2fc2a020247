// keel ledger ...: chart of accounts, financial events, reversals, periods, exchange rates, reports, verification
// and exports of the general ledger. docs/ledger.md describes the rules and documents.
#include "commands_ledger.h"

#include "csv_import.h"
#include "order_ref.h"
#include "services.h"

#include "keel/kernel/csv.h"
#include "keel/kernel/error.h"
#include "keel/ledger/ledger.h"
#include "keel/ledger/postings.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>

namespace keel::cli {

namespace {

using ledger::Ledger;

std::optional<Date> dateOption(const Arguments& args, const std::string& name) {
    const auto text = args.value(name);
    if (!text) return std::nullopt;
    auto date = Date::parse(*text);
    if (!date) throw UsageError("--" + name + ": " + date.problem().message);
    return date.value();
}

Ledger& ledgerOf(Context& context) { return services(context).ledger; }

const Currency& functionalOf(Context& context, db::UnitOfWork& uow) {
    const Currency* c = ledgerOf(context).functionalCurrency(uow);
    if (!c) throw InfrastructureError("the ledger is not initialized: run `keel db migrate` or `keel ledger init`");
    return *c;
}

std::string amountText(std::int64_t minor, const Currency& currency) { return Money(minor, currency).toString(); }

/// A text table: columns padded to their widest cell, numbers right-aligned.
void printTable(std::ostream& out, const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                const std::vector<bool>& numeric) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
    for (const auto& r : rows) {
        for (std::size_t c = 0; c < r.size(); ++c) width[c] = std::max(width[c], r[c].size());
    }
    auto line = [&](const std::vector<std::string>& r) {
        for (std::size_t c = 0; c < r.size(); ++c) {
            if (c) out << "  ";
            if (numeric[c]) out << std::setw(static_cast<int>(width[c])) << std::right << r[c];
            else out << std::setw(static_cast<int>(width[c])) << std::left << r[c];
        }
        out << '\n';
    };
    line(header);
    for (const auto& r : rows) line(r);
}

/// Writes a report as CSV (--csv), JSON (--json) or a table.
void writeReport(Context& context, const Arguments& args, const std::string& name,
                 const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& numeric, const std::vector<std::string>& footer = {}) {
    if (context.json()) {
        Poco::JSON::Object o;
        Poco::JSON::Array list;
        for (const auto& r : rows) {
            Poco::JSON::Object row;
            for (std::size_t c = 0; c < header.size(); ++c) row.set(header[c], r[c]);
            list.add(row);
        }
        o.set(name, list);
        if (!footer.empty()) {
            Poco::JSON::Object totals;
            for (std::size_t c = 0; c < header.size() && c < footer.size(); ++c) {
                if (!footer[c].empty()) totals.set(header[c], footer[c]);
            }
            o.set("totals", totals);
        }
        context.writeJson(o);
        return;
    }
    if (args.flag("csv")) {
        csv::Writer writer(context.out());
        writer.write(header);
        for (const auto& r : rows) writer.write(r);
        return;
    }
    auto all = rows;
    if (!footer.empty()) all.push_back(footer);
    printTable(context.out(), header, all, numeric);
}

// ----------------------------------------------------------------------------------------------- chart

int initCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger init", {"currency"});
    args.expectPositional(0, 0, "[--currency CODE]");
    const std::string code = args.value("currency").value_or(std::string(services(context).functional_currency.code()));
    if (!Currency::find(code)) throw UsageError("--currency: unknown currency '" + code + "'");
    const bool created = context.database().run(
        [&](db::UnitOfWork& uow) { return ledgerOf(context).initialize(uow, Currency::of(code)); });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("initialized", created);
        o.set("currency", code);
        context.writeJson(o);
    } else {
        context.out() << (created ? "ledger initialized: default chart of accounts, functional currency "
                                  : "ledger already initialized, functional currency ")
                      << code << "\n";
    }
    return 0;
}

std::vector<std::string> accountRow(const ledger::Account& a) {
    std::string roles;
    for (const auto& r : a.roles) roles += (roles.empty() ? "" : ";") + r;
    return {a.code, a.name, std::string(ledger::toString(a.type)), a.currency, a.parent_code, a.active ? "1" : "0", roles};
}

const std::vector<std::string>& chartColumns() {
    static const std::vector<std::string> columns = {"code", "name", "type", "currency", "parent", "active", "roles"};
    return columns;
}

int accountsCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger accounts", {}, {"csv"});
    args.expectPositional(0, 0, "[--csv]");
    const auto chart = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).accounts(uow); });
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : chart) rows.push_back(accountRow(a));
    writeReport(context, args, "accounts", chartColumns(), rows, {false, false, false, false, false, false, false});
    return 0;
}

int accountsExportCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger accounts export", {});
    args.expectPositional(0, 0, "");
    const auto chart = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).accounts(uow); });
    csv::Writer writer(context.out());
    writer.write(chartColumns());
    for (const auto& a : chart) writer.write(accountRow(a));
    return 0;
}

int accountsImportCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger accounts import", {});
    args.expectPositional(1, 1, "FILE");
    const std::string path = args.positional()[0];
    std::ifstream file = openInput(path);
    std::vector<ledger::Account> chart;
    csv::Reader reader(file, path);
    csv::Record record;
    if (!reader.next(record)) throw RejectedError(path + ": empty file (expected a header line)");
    const csv::Header header(record, csv::Columns{{"code", "name", "type"}, {"currency", "parent", "active", "roles"}}, path);
    while (reader.next(record)) {
        const csv::Row r(header, record);
        ledger::Account a;
        a.code = r.text("code");
        a.name = r.text("name");
        const auto type = ledger::accountTypeFrom(r.text("type"));
        if (!type) r.fail("type", "'" + r.text("type") + "' is not asset, liability, equity, income or expense");
        a.type = *type;
        a.currency = r.optionalText("currency").value_or("");
        a.parent_code = r.optionalText("parent").value_or("");
        a.active = r.boolean("active", true);
        std::string roles = r.optionalText("roles").value_or("");
        std::size_t start = 0;
        while (start < roles.size()) {
            const auto end = roles.find(';', start);
            const std::string role = roles.substr(start, end == std::string::npos ? std::string::npos : end - start);
            if (!role.empty()) a.roles.push_back(role);
            if (end == std::string::npos) break;
            start = end + 1;
        }
        chart.push_back(std::move(a));
    }
    const auto count = context.database()
                           .run([&](db::UnitOfWork& uow) { return ledgerOf(context).replaceChart(uow, chart); })
                           .value();
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("accounts", static_cast<Poco::UInt64>(count));
        context.writeJson(o);
    } else {
        context.out() << "chart of accounts replaced: " << count << " accounts from " << path << "\n";
    }
    return 0;
}

int rulesCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger rules", {}, {"csv"});
    args.expectPositional(0, 0, "[--csv]");
    std::vector<std::vector<std::string>> rows;
    for (const auto& rule : ledger::postingRules()) {
        std::string debit, credit;
        for (const auto& l : rule.lines) {
            std::string& side = l.side == ledger::Side::kDebit ? debit : credit;
            side += (side.empty() ? "" : ", ") + std::string(l.role) + " (" + std::string(l.amount) + ")";
        }
        rows.push_back({std::string(rule.kind), debit, credit, std::string(rule.description)});
    }
    writeReport(context, args, "rules", {"kind", "debit", "credit", "when"}, rows, {false, false, false, false});
    return 0;
}

// ------------------------------------------------------------------------------------- entries and events

Poco::JSON::Object entryJson(const ledger::JournalEntry& e) {
    Poco::JSON::Object o;
    o.set("id", e.id);
    o.set("date", e.date.toString());
    o.set("period", e.period);
    o.set("kind", e.kind);
    o.set("source_type", e.source_type);
    o.set("source_id", e.source_id);
    o.set("key", e.idempotency_key);
    o.set("memo", e.memo);
    if (e.reverses_id) o.set("reverses", *e.reverses_id);
    if (e.reversed_by) o.set("reversed_by", *e.reversed_by);
    Poco::JSON::Array lines;
    for (const auto& l : e.lines) {
        Poco::JSON::Object line;
        line.set("account", l.account);
        line.set("currency", l.currency);
        line.set("amount", Money(l.amount, Currency::of(l.currency)).toString());
        line.set("functional_amount", l.functional_amount);
        line.set("rate", l.rate.toString());
        line.set("channel", l.dimensions.channel);
        line.set("location_id", l.dimensions.location_id);
        line.set("customer_id", l.dimensions.customer_id);
        line.set("item_id", l.dimensions.item_id);
        lines.add(line);
    }
    o.set("lines", lines);
    return o;
}

void printEntry(Context& context, const ledger::JournalEntry& e) {
    auto& out = context.out();
    out << "entry " << e.id << "  " << e.date.toString() << "  " << e.kind << "  (" << e.source_type << " " << e.source_id
        << ")\n";
    if (!e.memo.empty()) out << "  " << e.memo << "\n";
    if (e.reverses_id) out << "  reverses " << *e.reverses_id << "\n";
    if (e.reversed_by) out << "  reversed by " << *e.reversed_by << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : e.lines) {
        const auto& c = Currency::of(l.currency);
        rows.push_back({l.account, l.amount > 0 ? amountText(l.amount, c) : "",
                        l.amount < 0 ? amountText(-l.amount, c) : "", l.currency, l.dimensions.channel, l.dimensions.item_id});
    }
    printTable(out, {"account", "debit", "credit", "currency", "channel", "item"}, rows,
               {false, true, true, false, false, false});
}

int entryCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger entry", {});
    args.expectPositional(1, 1, "ENTRY_ID");
    const auto e = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).entry(uow, args.positional()[0]); });
    if (!e) throw NotFoundError("no journal entry '" + args.positional()[0] + "'");
    if (context.json()) context.writeJson(entryJson(*e));
    else printEntry(context, *e);
    return 0;
}

int postCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger post", {});
    args.expectPositional(1, 1, "FILE|-");
    const std::string path = args.positional()[0];
    std::stringstream text;
    if (path == "-") {
        text << std::cin.rdbuf();
    } else {
        std::ifstream file = openInput(path);
        text << file.rdbuf();
    }
    Poco::Dynamic::Var parsed;
    try {
        parsed = Poco::JSON::Parser().parse(text.str());
    } catch (const Poco::Exception& e) {
        throw RejectedError(path + ": not JSON: " + e.displayText());
    }
    std::vector<Poco::JSON::Object::Ptr> events;
    if (parsed.type() == typeid(Poco::JSON::Array::Ptr)) {
        const auto array = parsed.extract<Poco::JSON::Array::Ptr>();
        for (std::size_t i = 0; i < array->size(); ++i) {
            auto o = array->getObject(static_cast<unsigned>(i));
            if (!o) throw RejectedError(path + ": [" + std::to_string(i) + "] is not an event object");
            events.push_back(o);
        }
    } else if (parsed.type() == typeid(Poco::JSON::Object::Ptr)) {
        events.push_back(parsed.extract<Poco::JSON::Object::Ptr>());
    } else {
        throw RejectedError(path + ": expected an event object or an array of them");
    }
    // Each event is its own unit of work: one that fails stops the run, the ones before it stay posted (and a
    // re-run skips them: every event is posted once per key).
    Poco::JSON::Array results;
    for (std::size_t i = 0; i < events.size(); ++i) {
        auto result = context.database().run(
            [&](db::UnitOfWork& uow) { return services(context).postings.postEvent(uow, *events[i], actor().name); });
        if (!result) {
            Problem p = result.problem();
            if (events.size() > 1) p.message = path + ": event [" + std::to_string(i) + "]: " + p.message;
            else p.message = path + ": " + p.message;
            p.raise();
        }
        const auto& posted = result.value();
        if (context.json()) {
            Poco::JSON::Object o;
            o.set("entry_id", posted.entry_id);
            o.set("already_posted", posted.already_posted);
            results.add(o);
        } else {
            context.out() << (posted.already_posted ? "already posted: entry " : "posted: entry ") << posted.entry_id
                          << " (" << events[i]->optValue<std::string>("type", "") << " "
                          << events[i]->optValue<std::string>("key", "") << ")\n";
        }
    }
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("posted", results);
        context.writeJson(o);
    }
    return 0;
}

int reverseCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger reverse", {"date", "memo"});
    args.expectPositional(1, 1, "ENTRY_ID [--date DATE] [--memo TEXT]");
    const auto date = dateOption(args, "date");
    const auto posted = context.database()
                            .run([&](db::UnitOfWork& uow) {
                                return ledgerOf(context).reverse(uow, args.positional()[0], date,
                                                                 args.value("memo").value_or(""), actor().name);
                            })
                            .value();
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("entry_id", posted.entry_id);
        o.set("already_posted", posted.already_posted);
        context.writeJson(o);
    } else {
        context.out() << "entry " << args.positional()[0] << " reversed by entry " << posted.entry_id << "\n";
    }
    return 0;
}

// ------------------------------------------------------------------------------------- periods and rates

int periodListCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger period list", {}, {"csv"});
    args.expectPositional(0, 0, "");
    const auto periods = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).periods(uow); });
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : periods) rows.push_back({p.period, p.closed ? "closed" : "open", p.changed_by});
    writeReport(context, args, "periods", {"period", "status", "changed_by"}, rows, {false, false, false});
    if (!context.json() && !args.flag("csv")) context.out() << "(periods not listed are open)\n";
    return 0;
}

int setPeriod(Context& context, const std::vector<std::string>& raw, bool closed) {
    const std::string name = closed ? "ledger period close" : "ledger period reopen";
    const Arguments args(raw, name, {});
    args.expectPositional(1, 1, "YYYY-MM");
    const auto period = context.database()
                            .run([&](db::UnitOfWork& uow) {
                                return ledgerOf(context).setPeriod(uow, args.positional()[0], closed, actor().name);
                            })
                            .value();
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("period", period.period);
        o.set("status", std::string(period.closed ? "closed" : "open"));
        context.writeJson(o);
    } else {
        context.out() << "period " << period.period << (period.closed ? " closed" : " reopened") << "\n";
    }
    return 0;
}

int rateSetCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger rate set", {});
    args.expectPositional(3, 3, "CURRENCY DATE RATE");
    const auto& p = args.positional();
    if (!Currency::find(p[0])) throw UsageError("unknown currency '" + p[0] + "'");
    auto date = Date::parse(p[1]);
    if (!date) throw UsageError("DATE: " + date.problem().message);
    Decimal rate;
    try {
        rate = Decimal::parse(p[2]);
    } catch (const RejectedError& e) {
        throw UsageError(std::string("RATE: ") + e.what());
    }
    context.database()
        .run([&](db::UnitOfWork& uow) { return ledgerOf(context).setRate(uow, Currency::of(p[0]), date.value(), rate); })
        .value();
    if (!context.json()) context.out() << "rate of " << p[0] << " from " << p[1] << ": " << rate.toString() << "\n";
    else {
        Poco::JSON::Object o;
        o.set("currency", p[0]);
        o.set("date", p[1]);
        o.set("rate", rate.toString());
        context.writeJson(o);
    }
    return 0;
}

int rateListCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger rate list", {}, {"csv"});
    args.expectPositional(0, 0, "");
    const auto rates = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).rates(uow); });
    std::vector<std::vector<std::string>> rows;
    for (const auto& [currency, date, rate] : rates) rows.push_back({currency, date.toString(), rate.toString()});
    writeReport(context, args, "rates", {"currency", "from", "rate"}, rows, {false, false, true});
    return 0;
}

// ------------------------------------------------------------------------------------------------ reports

int trialBalanceCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger trial-balance", {"as-of"}, {"csv"});
    args.expectPositional(0, 0, "[--as-of DATE] [--csv]");
    const auto as_of = dateOption(args, "as-of");
    const auto tb = context.database().run([&](db::UnitOfWork& uow) {
        functionalOf(context, uow);
        return ledgerOf(context).trialBalance(uow, as_of);
    });
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : tb.rows) {
        rows.push_back({r.code, r.name, std::string(ledger::toString(r.type)), r.debit ? amountText(r.debit, *tb.currency) : "",
                        r.credit ? amountText(r.credit, *tb.currency) : ""});
    }
    if (!context.json() && !args.flag("csv")) {
        context.out() << "Trial balance" << (as_of ? " as of " + as_of->toString() : "") << " (" << tb.currency->code()
                      << ")\n";
    }
    writeReport(context, args, "accounts", {"account", "name", "type", "debit", "credit"}, rows,
                {false, false, false, true, true},
                {"total", "", "", amountText(tb.total_debit, *tb.currency), amountText(tb.total_credit, *tb.currency)});
    return 0;
}

int detailCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger detail", {"from", "to"}, {"csv"});
    args.expectPositional(1, 1, "ACCOUNT [--from DATE] [--to DATE] [--csv]");
    const std::string account = args.positional()[0];
    const auto from = dateOption(args, "from");
    const auto to = dateOption(args, "to");
    const Currency* functional = nullptr;
    const auto rows = context.database().run([&](db::UnitOfWork& uow) {
        functional = &functionalOf(context, uow);
        if (!ledgerOf(context).findAccount(uow, account)) throw NotFoundError("no account '" + account + "'");
        return ledgerOf(context).detail(uow, account, from, to);
    });
    std::vector<std::vector<std::string>> out;
    for (const auto& r : rows) {
        out.push_back({r.date.toString(), r.entry_id, r.kind, r.memo,
                       r.functional_amount > 0 ? amountText(r.functional_amount, *functional) : "",
                       r.functional_amount < 0 ? amountText(-r.functional_amount, *functional) : "",
                       amountText(r.balance, *functional), r.dimensions.channel});
    }
    writeReport(context, args, "lines", {"date", "entry", "kind", "memo", "debit", "credit", "balance", "channel"}, out,
                {false, false, false, false, true, true, true, false});
    return 0;
}

int pnlCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger pnl", {"from", "to"}, {"csv"});
    args.expectPositional(0, 0, "[--from DATE] [--to DATE] [--csv]");
    const auto from = dateOption(args, "from");
    const auto to = dateOption(args, "to");
    const Currency* functional = nullptr;
    const auto channels = context.database().run([&](db::UnitOfWork& uow) {
        functional = &functionalOf(context, uow);
        return ledgerOf(context).profitAndLoss(uow, from, to);
    });
    std::vector<std::vector<std::string>> rows;
    ledger::ChannelPnl total;
    total.channel = "total";
    auto row = [&](const ledger::ChannelPnl& p) {
        auto m = [&](std::int64_t v) { return amountText(v, *functional); };
        return std::vector<std::string>{p.channel.empty() ? "(none)" : p.channel, m(p.revenue), m(p.discounts), m(p.shipping),
                                        m(p.refunds), m(p.net_sales()), m(p.cogs), m(p.fees), m(p.chargebacks), m(p.other),
                                        m(p.margin())};
    };
    for (const auto& p : channels) {
        rows.push_back(row(p));
        total.revenue += p.revenue;
        total.discounts += p.discounts;
        total.shipping += p.shipping;
        total.refunds += p.refunds;
        total.cogs += p.cogs;
        total.fees += p.fees;
        total.chargebacks += p.chargebacks;
        total.other += p.other;
    }
    if (!context.json() && !args.flag("csv")) context.out() << "Profit and loss by channel (" << functional->code() << ")\n";
    writeReport(context, args, "channels",
                {"channel", "revenue", "discounts", "shipping", "refunds", "net_sales", "cogs", "fees", "chargebacks",
                 "other", "margin"},
                rows, {false, true, true, true, true, true, true, true, true, true, true}, row(total));
    return 0;
}

int agingCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger aging", {"as-of"}, {"csv"});
    args.expectPositional(0, 0, "[--as-of DATE] [--csv]");
    const Currency* functional = nullptr;
    const auto rows = context.database().run([&](db::UnitOfWork& uow) {
        functional = &functionalOf(context, uow);
        return ledgerOf(context).aging(uow, dateOption(args, "as-of").value_or(Date::today(Clock::system())));
    });
    std::vector<std::vector<std::string>> out;
    for (const auto& r : rows) {
        auto m = [&](std::int64_t v) { return amountText(v, *functional); };
        out.push_back({r.customer_code, m(r.current), m(r.days_1_30), m(r.days_31_60), m(r.days_61_90), m(r.over_90),
                       m(r.unapplied), m(r.total())});
    }
    writeReport(context, args, "customers",
                {"customer", "current", "1-30", "31-60", "61-90", "over_90", "unapplied", "balance"}, out,
                {false, true, true, true, true, true, true, true});
    return 0;
}

int invoicesCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger invoices", {}, {"csv"});
    args.expectPositional(1, 1, "ORDER [--csv]");
    const auto invoices = context.database().run([&](db::UnitOfWork& uow) {
        return services(context).postings.invoices(uow, resolveOrderReference(context, uow, args.positional()[0]));
    });
    std::vector<std::vector<std::string>> rows;
    for (const auto& i : invoices) {
        const auto& c = Currency::of(i.currency);
        rows.push_back({i.id, i.shipment_id, i.date.toString(), i.due.toString(), i.currency, amountText(i.goods, c),
                        amountText(i.discount, c), amountText(i.shipping, c), amountText(i.tax, c),
                        amountText(i.total, c), i.jurisdiction, i.entry_id});
    }
    writeReport(context, args, "invoices",
                {"invoice", "shipment", "date", "due", "currency", "goods", "discount", "shipping", "tax", "total",
                 "jurisdiction", "entry"},
                rows, {false, false, false, false, false, true, true, true, true, true, false, false});
    return 0;
}

int valueStockCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger value-stock", {"file"});
    args.expectPositional(0, 2, "SKU UNIT_COST | --file FILE");
    // (source line, SKU, unit cost text): from the arguments, or from a CSV file with columns sku and unit_cost.
    std::vector<std::tuple<std::string, std::string, std::string>> wanted;
    if (const auto path = args.value("file")) {
        if (!args.positional().empty()) throw UsageError("keel ledger value-stock: give SKU UNIT_COST or --file, not both");
        std::ifstream file = openInput(*path);
        csv::Reader reader(file, *path);
        csv::Record record;
        if (!reader.next(record)) throw RejectedError(*path + ": empty file (expected a header line)");
        const csv::Header header(record, csv::Columns{{"sku", "unit_cost"}, {}}, *path);
        while (reader.next(record)) {
            const csv::Row r(header, record);
            wanted.emplace_back(*path + " line " + std::to_string(r.line()), r.text("sku"), r.text("unit_cost"));
        }
    } else {
        args.expectPositional(2, 2, "SKU UNIT_COST | --file FILE");
        wanted.emplace_back("", args.positional()[0], args.positional()[1]);
    }
    // All or nothing: one unit of work for every row.
    const auto valued = context.database().run([&](db::UnitOfWork& uow) -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
        const Currency& functional = functionalOf(context, uow);
        std::vector<std::pair<std::string, std::int64_t>> out;
        for (const auto& [where, sku, cost] : wanted) {
            const std::string at = where.empty() ? "" : where + ": ";
            const auto item = services(context).catalog.findItem(uow, sku);
            if (!item) return uow.fail(ExitCode::kNotFound, at + "no item '" + sku + "'", "sku");
            Money unit = Money::zero(functional);
            try {
                unit = Money::parse(cost, functional);
            } catch (const RejectedError& e) {
                return uow.fail(ExitCode::kRejected, at + "unit cost '" + cost + "': " + e.what(), "unit_cost");
            }
            auto done = services(context).postings.valueUnvaluedStock(uow, item->id, unit, actor().name);
            if (!done) return Problem{done.problem().code, at + sku + ": " + done.problem().message, "unit_cost"};
            out.emplace_back(sku, done.value());
        }
        return out;
    }).value();
    if (context.json()) {
        Poco::JSON::Array list;
        for (const auto& [sku, units] : valued) {
            Poco::JSON::Object o;
            o.set("sku", sku);
            o.set("units", units);
            list.add(o);
        }
        Poco::JSON::Object o;
        o.set("valued", list);
        context.writeJson(o);
    } else {
        for (const auto& [sku, units] : valued) {
            context.out() << sku << ": " << (units == 0 ? "already valued" : std::to_string(units) + " units valued")
                          << "\n";
        }
    }
    return 0;
}

int verifyCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger verify", {});
    args.expectPositional(0, 0, "");
    const auto report = context.database().run([&](db::UnitOfWork& uow) { return ledgerOf(context).verify(uow); });
    if (context.json()) {
        Poco::JSON::Object o;
        o.set("ok", report.ok());
        o.set("entries", report.entries_checked);
        o.set("lines", report.lines_checked);
        o.set("items", report.items_checked);
        Poco::JSON::Array problems;
        for (const auto& p : report.problems) problems.add(p);
        o.set("problems", problems);
        context.writeJson(o);
    } else {
        for (const auto& p : report.problems) context.out() << "MISMATCH " << p << "\n";
        context.out() << (report.ok() ? "ledger ok: " : "ledger NOT ok: ") << report.entries_checked << " entries, "
                      << report.lines_checked << " lines balanced; inventory of " << report.items_checked
                      << " items reconciled with the stock ledger" << (report.ok() ? "" : " (see above)") << "\n";
    }
    if (!report.ok()) {
        if (!context.json()) context.err() << "keel: the ledger does not verify: " << report.problems.size() << " problems\n";
        return static_cast<int>(ExitCode::kConflict);
    }
    return 0;
}

int exportCommand(Context& context, const std::vector<std::string>& raw) {
    const Arguments args(raw, "ledger export", {"format", "output"});
    args.expectPositional(0, 0, "--format ledger|csv [--output FILE]");
    const std::string format = args.value("format").value_or("ledger");
    if (format != "ledger" && format != "csv") throw UsageError("--format must be ledger or csv, not '" + format + "'");
    std::ofstream file;
    std::ostream* out = &context.out();
    if (auto path = args.value("output")) {
        file.open(*path, std::ios::binary | std::ios::trunc);
        if (!file) throw InfrastructureError("cannot write " + *path);
        out = &file;
    }
    context.database().run([&](db::UnitOfWork& uow) {
        functionalOf(context, uow);
        if (format == "ledger") ledgerOf(context).exportLedger(uow, *out);
        else ledgerOf(context).exportCsv(uow, *out);
    });
    out->flush();
    if (file.is_open() && !file) throw InfrastructureError("writing " + *args.value("output") + " failed");
    return 0;
}

}  // namespace

void addLedgerCommands(std::vector<Command>& table) {
    table.push_back({{"ledger", "init"}, "[--currency CODE]", "create the default chart of accounts (db migrate does too)",
                     "Creates the default chart for commerce and fixes the functional currency (ledger.currency,\n"
                     "USD by default) when the database has no chart yet. It never changes an existing chart.",
                     initCommand});
    table.push_back({{"ledger", "accounts"}, "[--csv]", "list the chart of accounts with the roles of the posting rules",
                     "", accountsCommand});
    table.push_back({{"ledger", "accounts", "export"}, "", "write the chart of accounts as CSV (the import format)", "",
                     accountsExportCommand});
    table.push_back({{"ledger", "accounts", "import"}, "FILE", "replace the chart of accounts from CSV, all or nothing",
                     "Columns: code, name, type (asset, liability, equity, income, expense), currency (empty: any),\n"
                     "parent, active (0/1), roles (';'-separated). Every role the posting rules use must be mapped\n"
                     "(keel ledger rules). Accounts left out are removed, or deactivated when they have postings.",
                     accountsImportCommand});
    table.push_back({{"ledger", "rules"}, "[--csv]", "show the posting rules: what each event debits and credits", "",
                     rulesCommand});
    table.push_back({{"ledger", "post"}, "FILE|-", "post financial events (payments, fees, chargebacks, journals) from JSON",
                     "FILE holds one event object or an array of them; each is posted once per \"key\", so a\n"
                     "re-run posts nothing twice. Types: payment_capture, refund_payment, payout, marketplace_fee,\n"
                     "chargeback, chargeback_won, supplier_invoice, landed_cost, journal. See docs/ledger.md.",
                     postCommand});
    table.push_back({{"ledger", "entry"}, "ENTRY_ID", "show a journal entry and its lines", "", entryCommand});
    table.push_back({{"ledger", "reverse"}, "ENTRY_ID [--date DATE] [--memo TEXT]",
                     "post the reversal of an entry (posted entries never change)",
                     "The reversal is dated --date (default: the original's date), which must be in an open period.",
                     reverseCommand});
    table.push_back({{"ledger", "period", "list"}, "[--csv]", "list periods with their status (those not listed are open)", "", periodListCommand});
    table.push_back({{"ledger", "period", "close"}, "YYYY-MM", "close a past period: nothing more posts into it", "",
                     [](Context& c, const std::vector<std::string>& a) { return setPeriod(c, a, true); }});
    table.push_back({{"ledger", "period", "reopen"}, "YYYY-MM", "reopen a closed period", "",
                     [](Context& c, const std::vector<std::string>& a) { return setPeriod(c, a, false); }});
    table.push_back({{"ledger", "rate", "set"}, "CURRENCY DATE RATE",
                     "set an exchange rate: functional units per unit of CURRENCY, from DATE on", "", rateSetCommand});
    table.push_back({{"ledger", "rate", "list"}, "[--csv]", "list exchange rates", "", rateListCommand});
    table.push_back({{"ledger", "trial-balance"}, "[--as-of DATE] [--csv]", "debit and credit balance of every account",
                     "", trialBalanceCommand});
    table.push_back({{"ledger", "detail"}, "ACCOUNT [--from DATE] [--to DATE] [--csv]",
                     "general-ledger detail of an account with a running balance", "", detailCommand});
    table.push_back({{"ledger", "pnl"}, "[--from DATE] [--to DATE] [--csv]",
                     "profit and loss by channel down to contribution margin", "", pnlCommand});
    table.push_back({{"ledger", "aging"}, "[--as-of DATE] [--csv]", "receivables aging per customer",
                     "Payments and credits are applied to each customer's oldest invoices first; what is left ages\n"
                     "from the invoice's due date (ledger.payment_terms_days after the invoice).",
                     agingCommand});
    table.push_back({{"ledger", "invoices"}, "ORDER [--csv]",
                     "the customer invoices of an order (id or CHANNEL/EXTERNAL_ID), one per shipment", "",
                     invoicesCommand});
    table.push_back({{"ledger", "value-stock"}, "SKU UNIT_COST | --file FILE",
                     "value stock held before the ledger was initialized (an opening balance)",
                     "The units the stock ledger holds beyond the item's cost pools enter them at UNIT_COST (functional\n"
                     "currency), posted as opening balance equity. FILE is CSV with columns sku and unit_cost; all rows\n"
                     "or none. Stock already valued is left alone.",
                     valueStockCommand});
    table.push_back({{"ledger", "verify"}, "",
                     "check every entry balances and inventory on the books equals the stock valuation",
                     "Exit code 4 with every mismatch named (entry, item, amounts) when it does not.", verifyCommand});
    table.push_back({{"ledger", "export"}, "--format ledger|csv [--output FILE]",
                     "export the journal for ledger/hledger, or every line as CSV", "", exportCommand});
}

}  // namespace keel::cli
