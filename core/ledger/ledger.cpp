#include "keel/ledger/ledger.h"

#include "keel/db/batch_insert.h"
#include "keel/events/outbox.h"
#include "keel/kernel/csv.h"
#include "keel/kernel/hash.h"

#include <algorithm>
#include <deque>
#include <ostream>
#include <set>
#include <sstream>

namespace keel::ledger {

namespace {

constexpr std::int64_t kCacheMicros = 5'000'000;

const std::vector<std::pair<AccountType, std::string_view>>& typeNames() {
    static const std::vector<std::pair<AccountType, std::string_view>> names = {
        {AccountType::kAsset, "asset"},   {AccountType::kLiability, "liability"}, {AccountType::kEquity, "equity"},
        {AccountType::kIncome, "income"}, {AccountType::kExpense, "expense"}};
    return names;
}

std::string baseRole(std::string_view role) {
    const auto colon = role.find(':');
    return std::string(colon == std::string_view::npos ? role : role.substr(0, colon));
}

bool validPeriod(const std::string& period) {
    if (period.size() != 7 || period[4] != '-') return false;
    for (std::size_t i = 0; i < 7; ++i) {
        if (i != 4 && (period[i] < '0' || period[i] > '9')) return false;
    }
    const int month = std::stoi(period.substr(5));
    return month >= 1 && month <= 12 && period.substr(0, 4) >= "1900";
}

std::string money(std::int64_t minor, const Currency* currency) {
    return currency ? Money(minor, *currency).toString() + " " + std::string(currency->code()) : std::to_string(minor);
}

}  // namespace

std::string_view toString(AccountType type) {
    for (const auto& [t, name] : typeNames()) {
        if (t == type) return name;
    }
    return "asset";
}

std::optional<AccountType> accountTypeFrom(std::string_view text) {
    for (const auto& [t, name] : typeNames()) {
        if (name == text) return t;
    }
    return std::nullopt;
}

std::string exportAccountName(AccountType type, std::string_view code) {
    static const std::map<AccountType, std::string> tops = {{AccountType::kAsset, "Assets"},
                                                            {AccountType::kLiability, "Liabilities"},
                                                            {AccountType::kEquity, "Equity"},
                                                            {AccountType::kIncome, "Income"},
                                                            {AccountType::kExpense, "Expenses"}};
    return tops.at(type) + ":" + std::string(code);
}

std::string periodOf(const Date& date) {
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02d", date.year(), date.month());
    return text;
}

const std::vector<Account>& defaultChart() {
    using T = AccountType;
    static const std::vector<Account> chart = {
        {"1000", "Cash at bank", T::kAsset, "", "", true, {"cash"}},
        {"1100", "Payment provider and marketplace clearing", T::kAsset, "", "", true, {"clearing"}},
        {"1200", "Accounts receivable", T::kAsset, "", "", true, {"receivables"}},
        {"1300", "Inventory", T::kAsset, "", "", true, {"inventory"}},
        {"1310", "Inventory in transit", T::kAsset, "", "", true, {"inventory_transit"}},
        {"2000", "Accounts payable", T::kLiability, "", "", true, {"payables"}},
        {"2100", "Goods received not invoiced", T::kLiability, "", "", true, {"grni"}},
        {"2200", "Sales tax payable", T::kLiability, "", "", true, {"tax_payable"}},
        {"2300", "Freight and landed-cost accruals", T::kLiability, "", "", true, {"landed_cost_accrual"}},
        {"3000", "Opening balance equity", T::kEquity, "", "", true, {"opening_equity"}},
        {"3100", "Retained earnings", T::kEquity, "", "", true, {"retained_earnings"}},
        {"4000", "Sales revenue", T::kIncome, "", "", true, {"revenue"}},
        {"4100", "Shipping revenue", T::kIncome, "", "", true, {"shipping_revenue"}},
        {"4200", "Sales discounts", T::kIncome, "", "", true, {"discounts"}},
        {"4300", "Returns and allowances", T::kIncome, "", "", true, {"returns_allowances"}},
        {"5000", "Cost of goods sold", T::kExpense, "", "", true, {"cogs"}},
        {"5100", "Marketplace and payment fees", T::kExpense, "", "", true, {"marketplace_fees"}},
        {"5200", "Inventory adjustments", T::kExpense, "", "", true, {"inventory_adjustments"}},
        {"5210", "Shrinkage and write-offs", T::kExpense, "", "", true, {"shrinkage"}},
        {"5300", "Chargeback losses", T::kExpense, "", "", true, {"chargeback_losses"}},
        {"5900", "Rounding differences", T::kExpense, "", "", true, {"rounding"}},
    };
    return chart;
}

const std::vector<std::string>& requiredRoles() {
    static const std::vector<std::string> roles = [] {
        std::set<std::string> all = {"rounding"};
        for (const auto& rule : postingRules()) {
            for (const auto& line : rule.lines) all.insert(baseRole(line.role));
        }
        return std::vector<std::string>(all.begin(), all.end());
    }();
    return roles;
}

void Ledger::invalidateCache() {
    std::lock_guard lock(mutex_);
    cached_ = false;
}

void Ledger::loadCache(db::UnitOfWork& uow) {
    const std::int64_t now = clock_.nowMicros();
    {
        std::lock_guard lock(mutex_);
        // Another process may change the chart (an import): what is cached is read again after a few seconds.
        if (cached_ && now - loaded_at_ < kCacheMicros && now >= loaded_at_) return;
    }
    std::map<std::string, CachedAccount> accounts;
    std::map<std::string, std::string> roles;
    db::Statement& a = uow.statement("SELECT code, type, currency, active FROM ledger_account");
    a.execute();
    while (a.next()) {
        accounts[a.getString(0)] =
            CachedAccount{accountTypeFrom(a.getString(1)).value_or(AccountType::kAsset), a.getString(2), a.getInt64(3) != 0};
    }
    db::Statement& r = uow.statement("SELECT role, account_code FROM ledger_role");
    r.execute();
    while (r.next()) roles[r.getString(0)] = r.getString(1);
    db::Statement& s = uow.statement("SELECT value FROM ledger_setting WHERE name = 'functional_currency'");
    s.execute();
    const Currency* functional = nullptr;
    if (s.next()) functional = &Currency::of(s.getString(0));
    std::lock_guard lock(mutex_);
    accounts_ = std::move(accounts);
    roles_ = std::move(roles);
    functional_ = functional;
    loaded_at_ = now;
    // An uninitialized ledger is read again next time, so `keel ledger init` in another process is seen at once.
    cached_ = functional != nullptr;
}

bool Ledger::initialize(db::UnitOfWork& uow, const Currency& functional) {
    invalidateCache();
    if (const Currency* existing = functionalCurrency(uow)) {
        if (*existing != functional) {
            throw ConflictError("the ledger's functional currency is " + std::string(existing->code()) + ", not " +
                                std::string(functional.code()) + "; it cannot change once set");
        }
        return false;
    }
    db::Statement& count = uow.statement("SELECT COUNT(*) FROM ledger_account");
    count.execute();
    const bool has_accounts = count.next() && count.getInt64(0) > 0;
    uow.statement("INSERT INTO ledger_setting (name, value) VALUES ('functional_currency', ?)")
        .bind(std::string(functional.code()))
        .execute();
    if (!has_accounts) {
        const std::int64_t now = clock_.nowMicros();
        for (const auto& a : defaultChart()) {
            uow.statement("INSERT INTO ledger_account (code, name, type, currency, parent_code, active, created_at, "
                          "updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)")
                .bindAll(a.code, a.name, std::string(toString(a.type)), a.currency, a.parent_code, now, now)
                .execute();
            for (const auto& role : a.roles) {
                uow.statement("INSERT INTO ledger_role (role, account_code) VALUES (?, ?)").bindAll(role, a.code).execute();
            }
        }
    }
    invalidateCache();
    return true;
}

const Currency* Ledger::functionalCurrency(db::UnitOfWork& uow) {
    loadCache(uow);
    std::lock_guard lock(mutex_);
    return functional_;
}

std::vector<Account> Ledger::accounts(db::UnitOfWork& uow) {
    std::vector<Account> out;
    db::Statement& a = uow.statement(
        "SELECT code, name, type, currency, parent_code, active FROM ledger_account ORDER BY code");
    a.execute();
    std::map<std::string, std::size_t> index;
    while (a.next()) {
        index[a.getString(0)] = out.size();
        out.push_back(Account{a.getString(0), a.getString(1), accountTypeFrom(a.getString(2)).value_or(AccountType::kAsset),
                              a.getString(3), a.getString(4), a.getInt64(5) != 0, {}});
    }
    db::Statement& r = uow.statement("SELECT role, account_code FROM ledger_role ORDER BY role");
    r.execute();
    while (r.next()) {
        const auto it = index.find(r.getString(1));
        if (it != index.end()) out[it->second].roles.push_back(r.getString(0));
    }
    return out;
}

std::optional<Account> Ledger::findAccount(db::UnitOfWork& uow, std::string_view code) {
    db::Statement& a =
        uow.statement("SELECT code, name, type, currency, parent_code, active FROM ledger_account WHERE code = ?");
    a.bind(std::string(code)).execute();
    if (!a.next()) return std::nullopt;
    Account account{a.getString(0), a.getString(1), accountTypeFrom(a.getString(2)).value_or(AccountType::kAsset),
                    a.getString(3), a.getString(4), a.getInt64(5) != 0, {}};
    db::Statement& r = uow.statement("SELECT role FROM ledger_role WHERE account_code = ? ORDER BY role");
    r.bind(account.code).execute();
    while (r.next()) account.roles.push_back(r.getString(0));
    return account;
}

Result<std::size_t> Ledger::replaceChart(db::UnitOfWork& uow, const std::vector<Account>& chart) {
    std::map<std::string, const Account*> by_code;
    std::map<std::string, std::string> roles;
    for (std::size_t i = 0; i < chart.size(); ++i) {
        const auto& a = chart[i];
        const std::string where = "account " + a.code;
        if (a.code.empty() || a.code.size() > 32 || a.code.find_first_of(" \t:;\"") != std::string::npos) {
            return uow.fail(ExitCode::kRejected,
                            "account code '" + a.code + "' must be 1-32 characters without spaces, ':', ';' or quotes",
                            "code");
        }
        if (!by_code.emplace(a.code, &a).second) {
            return uow.fail(ExitCode::kRejected, "account " + a.code + " is listed twice", "code");
        }
        if (a.name.empty() || a.name.size() > 200)
            return uow.fail(ExitCode::kRejected, where + ": name must be 1-200 characters", "name");
        if (!a.currency.empty() && !Currency::find(a.currency)) {
            return uow.fail(ExitCode::kRejected, where + ": unknown currency '" + a.currency + "'", "currency");
        }
        for (const auto& role : a.roles) {
            if (!roles.emplace(role, a.code).second) {
                return uow.fail(ExitCode::kRejected,
                                "role '" + role + "' is given to both " + roles[role] + " and " + a.code, "role");
            }
        }
    }
    for (const auto& a : chart) {
        if (!a.parent_code.empty() && !by_code.count(a.parent_code)) {
            return uow.fail(ExitCode::kRejected,
                            "account " + a.code + ": parent " + a.parent_code + " is not in the chart", "parent");
        }
        // A parent chain must end: walk it at most chart.size() steps.
        std::string at = a.parent_code;
        for (std::size_t steps = 0; !at.empty(); ++steps) {
            if (steps > chart.size() || at == a.code) {
                return uow.fail(ExitCode::kRejected, "account " + a.code + ": its parents form a cycle", "parent");
            }
            at = by_code[at]->parent_code;
        }
    }
    std::string missing;
    for (const auto& role : requiredRoles()) {
        if (!roles.count(role)) missing += (missing.empty() ? "" : ", ") + role;
    }
    if (!missing.empty())
        return uow.fail(ExitCode::kRejected, "the chart gives no account the roles: " + missing, "role");
    // Accounts with postings keep their type; those not listed are deactivated instead of removed.
    std::set<std::string> posted;
    db::Statement& p = uow.statement("SELECT DISTINCT account_code FROM journal_line");
    p.execute();
    while (p.next()) posted.insert(p.getString(0));
    const auto existing = accounts(uow);
    for (const auto& old : existing) {
        const auto it = by_code.find(old.code);
        if (it != by_code.end() && posted.count(old.code) && it->second->type != old.type) {
            return uow.fail(ExitCode::kConflict,
                            "account " + old.code + " has postings as " + std::string(toString(old.type)) +
                                "; it cannot become " + std::string(toString(it->second->type)),
                            "type");
        }
    }
    // Accounts the ledger made for a parameter of a role (tax payable per jurisdiction) outlive a chart that does
    // not list them: they keep their role, under the new chart's account for the bare role.
    std::map<std::string, std::string> kept;  // account code -> parent code
    for (const auto& old : existing) {
        for (const auto& role : old.roles) {
            if (role.find(':') == std::string::npos || roles.count(role)) continue;
            roles.emplace(role, old.code);
            if (!by_code.count(old.code)) kept[old.code] = roles.at(baseRole(role));
        }
    }
    const std::int64_t now = clock_.nowMicros();
    uow.statement("DELETE FROM ledger_role").execute();
    for (const auto& a : chart) {
        uow.statement(uow.dialect().upsert("ledger_account",
                                           {"code", "name", "type", "currency", "parent_code", "active", "created_at", "updated_at"},
                                           {"code"}, {"name", "type", "currency", "parent_code", "active", "updated_at"}))
            .bindAll(a.code, a.name, std::string(toString(a.type)), a.currency, a.parent_code, a.active ? 1 : 0, now, now)
            .execute();
    }
    for (const auto& old : existing) {
        if (by_code.count(old.code)) continue;
        if (const auto it = kept.find(old.code); it != kept.end()) {
            uow.statement("UPDATE ledger_account SET parent_code = ?, updated_at = ? WHERE code = ?")
                .bindAll(it->second, now, old.code)
                .execute();
        } else if (posted.count(old.code)) {
            uow.statement("UPDATE ledger_account SET active = 0, parent_code = '', updated_at = ? WHERE code = ?")
                .bindAll(now, old.code)
                .execute();
        } else {
            uow.statement("DELETE FROM ledger_account WHERE code = ?").bind(old.code).execute();
        }
    }
    for (const auto& [role, code] : roles) {
        uow.statement("INSERT INTO ledger_role (role, account_code) VALUES (?, ?)").bindAll(role, code).execute();
    }
    invalidateCache();
    return chart.size();
}

Result<std::string> Ledger::accountFor(db::UnitOfWork& uow, const std::string& role) {
    loadCache(uow);
    {
        std::lock_guard lock(mutex_);
        if (auto it = roles_.find(role); it != roles_.end()) return it->second;
    }
    // Not cached: a role created since (a new jurisdiction), or a parameterized role that falls back.
    db::Statement& r = uow.statement("SELECT account_code FROM ledger_role WHERE role = ?");
    r.bind(role).execute();
    if (r.next()) return r.getString(0);
    const std::string base = baseRole(role);
    if (base == role) {
        return uow.fail(
            ExitCode::kInfrastructure,
            "no ledger account has the role '" + role + "': run `keel ledger init` or import a chart that maps it",
            "role");
    }
    auto parent = accountFor(uow, base);
    if (!parent) return parent;
    if (base != "tax_payable") return parent;
    // Tax payable is kept per jurisdiction: a child of the tax account, created the first time it is needed.
    const std::string jurisdiction = role.substr(base.size() + 1);
    const std::string code = (parent.value() + "-" + jurisdiction).substr(0, 32);
    db::Statement& exists = uow.statement("SELECT COUNT(*) FROM ledger_account WHERE code = ?");
    exists.bind(code).execute();
    if (!(exists.next() && exists.getInt64(0) > 0)) {
        const std::int64_t now = clock_.nowMicros();
        uow.statement("INSERT INTO ledger_account (code, name, type, currency, parent_code, active, created_at, "
                      "updated_at) VALUES (?, ?, 'liability', '', ?, 1, ?, ?)")
            .bindAll(code, "Sales tax payable " + jurisdiction, parent.value(), now, now)
            .execute();
    }
    uow.statement("INSERT INTO ledger_role (role, account_code) VALUES (?, ?)").bindAll(role, code).execute();
    return code;
}

// ------------------------------------------------------------------------------------------------ posting

struct Ledger::Prepared {
    struct Resolved {
        std::string account;
        std::int64_t functional;
        Decimal rate;
    };
    std::string period;
    std::vector<DraftLine> lines;
    std::vector<Resolved> resolved;
    std::string hash;
};

Result<Ledger::Prepared> Ledger::prepare(db::UnitOfWork& uow, const EntryRequest& request) {
    const Currency* functional = functionalCurrency(uow);
    if (!functional) {
        return uow.fail(ExitCode::kInfrastructure,
                        "the ledger is not initialized: run `keel ledger init` (or `keel db migrate`)");
    }
    const std::string what = request.kind + " entry " + request.idempotency_key;
    if (request.idempotency_key.empty() || request.idempotency_key.size() > 200) {
        return uow.fail(ExitCode::kRejected, "an entry needs an idempotency key of 1-200 characters", "key");
    }
    if (request.lines.empty()) return uow.fail(ExitCode::kRejected, what + " has no lines", "lines");
    if (auto problem = imbalance(request.lines)) return uow.fail(ExitCode::kRejected, what + ": " + *problem, "lines");
    const std::string period = periodOf(request.date);
    // Only a period that has ended can be closed (setPeriod), so the current one and later ones are open without
    // asking: the hot path (stock moves, invoices, dated today) reads no period row. A back-dated entry locks its
    // period's row (creating it, open, if need be) until it commits, so a close running at the same time either
    // waits for it or is seen by it: an entry never lands in a period closed under its feet.
    if (period < periodOf(Date::today(clock_)) && lockOpenPeriod(uow, period)) {
        return uow.fail(ExitCode::kConflict,
                        "period " + period + " is closed: " + what + " dated " + request.date.toString() +
                            " cannot be posted (post it into an open period, or reopen " + period + ")",
                        "date");
    }
    std::set<std::string> control;
    if (request.manual) {
        for (const char* role : {"inventory", "inventory_transit", "receivables"}) {
            auto code = accountFor(uow, role);
            if (code) control.insert(code.value());
        }
    }
    using Resolved = Prepared::Resolved;
    std::vector<Resolved> resolved;
    Int128 functional_sum = 0;
    std::map<std::string, Decimal> rates;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
        const auto& line = request.lines[i];
        const std::string field = "lines[" + std::to_string(i) + "]";
        std::string code = line.account;
        if (code.empty()) {
            auto found = accountFor(uow, line.role);
            if (!found) return found.problem();
            code = found.value();
        }
        CachedAccount account{};
        bool known = false;
        {
            std::lock_guard lock(mutex_);
            if (auto it = accounts_.find(code); it != accounts_.end()) {
                account = it->second;
                known = true;
            }
        }
        if (!known) {
            db::Statement& a = uow.statement("SELECT type, currency, active FROM ledger_account WHERE code = ?");
            a.bind(code).execute();
            if (!a.next())
                return uow.fail(ExitCode::kRejected, what + ": no account '" + code + "'", field + ".account");
            account = CachedAccount{accountTypeFrom(a.getString(0)).value_or(AccountType::kAsset), a.getString(1),
                                    a.getInt64(2) != 0};
        }
        if (!account.active)
            return uow.fail(ExitCode::kRejected, what + ": account " + code + " is inactive", field + ".account");
        const std::string currency(line.amount.currency().code());
        if (!account.currency.empty() && account.currency != currency) {
            return uow.fail(ExitCode::kRejected,
                            what + ": account " + code + " takes " + account.currency + " only, not " + currency,
                            field + ".currency");
        }
        if (control.count(code)) {
            return uow.fail(ExitCode::kRejected,
                            what + ": account " + code + " is kept by the " +
                                std::string(code == accountFor(uow, "receivables").value() ? "invoices and payments"
                                                                                           : "stock ledger") +
                                "; a manual journal cannot post to it",
                            field + ".account");
        }
        std::int64_t functional_amount = 0;
        Decimal rate(1);
        if (line.functional_amount) {
            functional_amount = *line.functional_amount;
            rate = line.rate.value_or(Decimal(1));
        } else if (line.amount.currency() == *functional) {
            functional_amount = line.amount.minor();
        } else {
            auto it = rates.find(currency);
            if (it == rates.end()) {
                auto found = rateOn(uow, line.amount.currency(), request.date);
                if (!found) {
                    return uow.fail(ExitCode::kRejected,
                                    what + ": no exchange rate for " + currency + " on or before " +
                                        request.date.toString() + " (keel ledger rate set " + currency + " DATE RATE)",
                                    field + ".currency");
                }
                it = rates.emplace(currency, *found).first;
            }
            rate = it->second;
            functional_amount = line.amount.convert(*functional, rate, RoundingMode::kHalfEven).minor();
        }
        functional_sum += functional_amount;
        resolved.push_back(Resolved{code, functional_amount, rate});
    }
    std::vector<DraftLine> lines = request.lines;
    if (functional_sum != 0) {
        // Converting each line on its own can leave the functional side a few minor units apart: the difference
        // goes to the rounding account, so the entry balances in both currencies.
        auto rounding = accountFor(uow, "rounding");
        if (!rounding) return rounding.problem();
        const auto difference = static_cast<std::int64_t>(-functional_sum);
        lines.push_back(DraftLine{"rounding", rounding.value(), Money(0, *functional), {}, difference, Decimal(1)});
        resolved.push_back(Resolved{rounding.value(), difference, Decimal(1)});
    }
    // The content an idempotency key stands for: a re-post with the same key must carry the same lines.
    std::ostringstream content;
    content << request.date.ymd() << '|' << request.kind << '|' << request.reverses_id.value_or("") << '\n';
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto& d = lines[i].dimensions;
        content << resolved[i].account << '|' << lines[i].amount.currency().code() << '|' << lines[i].amount.minor() << '|'
                << resolved[i].functional << '|' << d.channel << '|' << d.location_id << '|' << d.customer_id << '|'
                << d.item_id << '\n';
    }
    return Prepared{period, std::move(lines), std::move(resolved),
                    request.content_hash.value_or(sha256Hex(content.str()))};
}

Result<PostResult> Ledger::post(db::UnitOfWork& uow, const EntryRequest& request) {
    auto prepared = prepare(uow, request);
    if (!prepared) return prepared.problem();
    const std::string& hash = prepared.value().hash;
    if (!request.new_key) {
        db::Statement& existing = uow.statement("SELECT id, content_hash FROM journal_entry WHERE idempotency_key = ?");
        existing.bind(request.idempotency_key).execute();
        if (existing.next()) {
            const std::string id = existing.getString(0);
            if (existing.getString(1) == hash) return PostResult{id, true};
            return uow.fail(ExitCode::kConflict,
                            "idempotency key '" + request.idempotency_key + "' was already posted as entry " + id +
                                " with different content; nothing was posted",
                            "key");
        }
    }
    std::vector<Prepared> one;
    one.push_back(std::move(prepared).value());
    return PostResult{write(uow, {&request}, one).front(), false};
}

Result<std::vector<std::string>> Ledger::postMany(db::UnitOfWork& uow, const std::vector<EntryRequest>& requests) {
    std::vector<std::string> ids(requests.size());
    std::vector<const EntryRequest*> fresh;
    std::vector<std::size_t> fresh_at;
    std::vector<Prepared> prepared;
    for (std::size_t i = 0; i < requests.size(); ++i) {
        if (!requests[i].new_key) {
            auto posted = post(uow, requests[i]);
            if (!posted) return posted.problem();
            ids[i] = posted.value().entry_id;
            continue;
        }
        auto entry = prepare(uow, requests[i]);
        if (!entry) return entry.problem();
        prepared.push_back(std::move(entry).value());
        fresh.push_back(&requests[i]);
        fresh_at.push_back(i);
    }
    if (!fresh.empty()) {
        const auto written = write(uow, fresh, prepared);
        for (std::size_t n = 0; n < written.size(); ++n) ids[fresh_at[n]] = written[n];
    }
    return ids;
}

std::vector<std::string> Ledger::write(db::UnitOfWork& uow, const std::vector<const EntryRequest*>& requests,
                                       const std::vector<Prepared>& prepared) {
    const std::int64_t now = clock_.nowMicros();
    std::vector<std::string> ids;
    db::BatchInsert entries(uow, "journal_entry",
                            {"id", "entry_date", "period", "kind", "source_type", "source_id", "idempotency_key",
                             "content_hash", "memo", "reverses_id", "actor", "created_at"});
    for (std::size_t n = 0; n < requests.size(); ++n) {
        const EntryRequest& request = *requests[n];
        ids.push_back(ids_.next());
        entries.add(ids.back(), std::int64_t{request.date.ymd()}, prepared[n].period, request.kind.substr(0, 32),
                    request.source_type.substr(0, 32), request.source_id.substr(0, 64), request.idempotency_key,
                    prepared[n].hash, request.memo.substr(0, 500), request.reverses_id, request.actor.substr(0, 64),
                    now);
    }
    entries.flush();
    db::BatchInsert insert(uow, "journal_line",
                           {"entry_id", "line_no", "account_code", "entry_date", "currency", "amount", "functional_amount",
                            "rate_mantissa", "rate_scale", "channel", "location_id", "customer_id", "item_id"});
    std::vector<events::Event> posted;
    for (std::size_t n = 0; n < requests.size(); ++n) {
        const EntryRequest& request = *requests[n];
        const auto& lines = prepared[n].lines;
        const auto& resolved = prepared[n].resolved;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto& l = lines[i];
            const auto& d = l.dimensions;
            insert.add(ids[n], static_cast<std::int64_t>(i + 1), resolved[i].account, std::int64_t{request.date.ymd()},
                       std::string(l.amount.currency().code()), l.amount.minor(), resolved[i].functional,
                       resolved[i].rate.mantissa(), std::int64_t{resolved[i].rate.scale()}, d.channel.substr(0, 64),
                       d.location_id.substr(0, 36), d.customer_id.substr(0, 36), d.item_id.substr(0, 36));
        }
        events::Payload payload;
        payload.add("date", request.date.toString())
            .add("period", prepared[n].period)
            .add("kind", request.kind)
            .add("source_type", request.source_type)
            .add("source_id", request.source_id)
            .add("lines", static_cast<std::int64_t>(lines.size()));
        if (request.reverses_id) payload.add("reverses_id", *request.reverses_id);
        posted.push_back(events::Event{"journal.posted", "journal_entry", ids[n], payload.str(), request.actor});
    }
    insert.flush();
    events::Outbox(clock_, ids_).appendMany(uow, posted);
    return ids;
}

std::optional<JournalEntry> Ledger::entry(db::UnitOfWork& uow, std::string_view entry_id) {
    db::Statement& e = uow.statement(
        "SELECT id, entry_date, period, kind, source_type, source_id, idempotency_key, memo, reverses_id, actor "
        "FROM journal_entry WHERE id = ?");
    e.bind(std::string(entry_id)).execute();
    if (!e.next()) return std::nullopt;
    JournalEntry entry;
    entry.id = e.getString(0);
    entry.date = Date::fromYmd(static_cast<int>(e.getInt64(1)));
    entry.period = e.getString(2);
    entry.kind = e.getString(3);
    entry.source_type = e.getString(4);
    entry.source_id = e.getString(5);
    entry.idempotency_key = e.getString(6);
    entry.memo = e.getString(7);
    entry.reverses_id = e.getOptionalString(8);
    entry.actor = e.getString(9);
    db::Statement& r = uow.statement("SELECT id FROM journal_entry WHERE reverses_id = ?");
    r.bind(entry.id).execute();
    if (r.next()) entry.reversed_by = r.getString(0);
    db::Statement& l = uow.statement(
        "SELECT line_no, account_code, currency, amount, functional_amount, rate_mantissa, rate_scale, channel, "
        "location_id, customer_id, item_id FROM journal_line WHERE entry_id = ? ORDER BY line_no");
    l.bind(entry.id).execute();
    while (l.next()) {
        entry.lines.push_back(JournalLine{static_cast<int>(l.getInt64(0)), l.getString(1), l.getString(2), l.getInt64(3),
                                          l.getInt64(4), Decimal(l.getInt64(5), static_cast<int>(l.getInt64(6))),
                                          Dimensions{l.getString(7), l.getString(8), l.getString(9), l.getString(10)}});
    }
    return entry;
}

std::optional<JournalEntry> Ledger::entryByKey(db::UnitOfWork& uow, std::string_view idempotency_key) {
    db::Statement& s = uow.statement("SELECT id FROM journal_entry WHERE idempotency_key = ?");
    s.bind(std::string(idempotency_key)).execute();
    if (!s.next()) return std::nullopt;
    return entry(uow, s.getString(0));
}

Result<PostResult> Ledger::reverse(db::UnitOfWork& uow, std::string_view entry_id, std::optional<Date> date,
                                   const std::string& memo, const std::string& actor,
                                   std::optional<std::string> idempotency_key,
                                   std::optional<std::string> content_hash) {
    auto original = entry(uow, entry_id);
    if (!original) return uow.fail(ExitCode::kNotFound, "no journal entry '" + std::string(entry_id) + "'", "entry");
    if (original->reverses_id) {
        return uow.fail(ExitCode::kConflict,
                        "entry " + original->id + " is itself the reversal of " + *original->reverses_id +
                            "; post a new entry instead of reversing a reversal",
                        "entry");
    }
    if (original->source_type == "stock_move" || original->source_type == "invoice" || original->source_type == "return") {
        // These entries mirror a stock move, an invoice or a credit note: undo the business document instead
        // (a return, an adjustment), or the books would no longer match the stock and the invoices.
        return uow.fail(ExitCode::kConflict,
                        "entry " + original->id + " posts a " + original->source_type + " (" + original->kind +
                            "); it is corrected through its document (a return, an adjustment), not reversed by hand",
                        "entry");
    }
    const std::string key = idempotency_key.value_or("reversal:" + original->id);
    if (original->reversed_by) {
        // The same reversal again (a replayed event) is fine; a second, different one is not.
        if (auto existing = entryByKey(uow, key); existing && existing->id == *original->reversed_by) {
            return PostResult{existing->id, true};
        }
        return uow.fail(ExitCode::kConflict,
                        "entry " + original->id + " was already reversed by entry " + *original->reversed_by, "entry");
    }
    EntryRequest request;
    request.date = date.value_or(original->date);
    request.kind = "reversal";
    request.source_type = "entry";
    request.source_id = original->id;
    request.idempotency_key = key;
    request.memo = memo.empty() ? "reversal of " + original->kind + " " + original->id : memo;
    request.reverses_id = original->id;
    request.actor = actor;
    request.content_hash = std::move(content_hash);
    for (const auto& l : original->lines) {
        request.lines.push_back(DraftLine{"", l.account, Money(-l.amount, Currency::of(l.currency)), l.dimensions,
                                          -l.functional_amount, l.rate});
    }
    return post(uow, request);
}

// ------------------------------------------------------------------------------------- periods and rates

std::vector<Period> Ledger::periods(db::UnitOfWork& uow) {
    std::vector<Period> out;
    db::Statement& s = uow.statement("SELECT period, status, changed_by, changed_at FROM ledger_period ORDER BY period");
    s.execute();
    while (s.next()) out.push_back(Period{s.getString(0), s.getString(1) == "closed", s.getString(2), s.getInt64(3)});
    return out;
}

bool Ledger::lockOpenPeriod(db::UnitOfWork& uow, const std::string& period) {
    uow.statement(uow.dialect().upsert("ledger_period", {"period", "status", "changed_by", "changed_at"}, {"period"}, {}))
        .bindAll(period, std::string("open"), std::string(), clock_.nowMicros())
        .execute();
    db::Statement& s =
        uow.statement("SELECT status FROM ledger_period WHERE period = ?" + std::string(uow.dialect().forUpdate()));
    s.bind(period).execute();
    return s.next() && s.getString(0) == "closed";
}

bool Ledger::isClosed(db::UnitOfWork& uow, const std::string& period) {
    db::Statement& s = uow.statement("SELECT status FROM ledger_period WHERE period = ?");
    s.bind(period).execute();
    return s.next() && s.getString(0) == "closed";
}

Result<Period> Ledger::setPeriod(db::UnitOfWork& uow, const std::string& period, bool closed, const std::string& actor) {
    if (!validPeriod(period)) {
        return uow.fail(ExitCode::kRejected, "period '" + period + "' must be YYYY-MM (e.g. 2026-10)", "period");
    }
    const Date today = Date::today(clock_);
    if (closed && period >= periodOf(today)) {
        return uow.fail(ExitCode::kRejected,
                        "period " + period + " has not ended (today is " + today.toString() +
                            "); only past periods are closed, or every posting of today would be refused",
                        "period");
    }
    if (isClosed(uow, period) == closed) {
        return uow.fail(ExitCode::kConflict, "period " + period + " is already " + (closed ? "closed" : "open"),
                        "period");
    }
    const std::int64_t now = clock_.nowMicros();
    uow.statement(uow.dialect().upsert("ledger_period", {"period", "status", "changed_by", "changed_at"}, {"period"},
                                       {"status", "changed_by", "changed_at"}))
        .bindAll(period, std::string(closed ? "closed" : "open"), actor.substr(0, 64), now)
        .execute();
    events::Outbox(clock_, ids_)
        .append(uow, events::Event{closed ? "period.closed" : "period.reopened", "ledger_period", period,
                                   events::Payload().add("period", period).str(), actor});
    return Period{period, closed, actor, now};
}

Result<Decimal> Ledger::setRate(db::UnitOfWork& uow, const Currency& currency, const Date& date, const Decimal& rate) {
    const Currency* functional = functionalCurrency(uow);
    if (functional && *functional == currency) {
        return uow.fail(ExitCode::kRejected,
                        std::string(currency.code()) + " is the functional currency; its rate is 1", "currency");
    }
    if (rate.mantissa() <= 0) return uow.fail(ExitCode::kRejected, "an exchange rate must be positive", "rate");
    uow.statement(uow.dialect().upsert("exchange_rate", {"currency", "rate_date", "rate_mantissa", "rate_scale", "created_at"},
                                       {"currency", "rate_date"}, {"rate_mantissa", "rate_scale", "created_at"}))
        .bindAll(std::string(currency.code()), date.ymd(), rate.mantissa(), rate.scale(), clock_.nowMicros())
        .execute();
    return rate;
}

std::optional<Decimal> Ledger::rateOn(db::UnitOfWork& uow, const Currency& currency, const Date& date) {
    const Currency* functional = functionalCurrency(uow);
    if (functional && *functional == currency) return Decimal(1);
    db::Statement& s = uow.statement(
        "SELECT rate_mantissa, rate_scale FROM exchange_rate WHERE currency = ? AND rate_date <= ? "
        "ORDER BY rate_date DESC LIMIT 1");
    s.bindAll(std::string(currency.code()), date.ymd()).execute();
    if (!s.next()) return std::nullopt;
    return Decimal(s.getInt64(0), static_cast<int>(s.getInt64(1)));
}

std::vector<std::tuple<std::string, Date, Decimal>> Ledger::rates(db::UnitOfWork& uow) {
    std::vector<std::tuple<std::string, Date, Decimal>> out;
    db::Statement& s =
        uow.statement("SELECT currency, rate_date, rate_mantissa, rate_scale FROM exchange_rate ORDER BY currency, rate_date");
    s.execute();
    while (s.next()) {
        out.emplace_back(s.getString(0), Date::fromYmd(static_cast<int>(s.getInt64(1))),
                         Decimal(s.getInt64(2), static_cast<int>(s.getInt64(3))));
    }
    return out;
}

// ------------------------------------------------------------------------------------------------ reports

TrialBalance Ledger::trialBalance(db::UnitOfWork& uow, std::optional<Date> as_of) {
    TrialBalance tb;
    tb.currency = functionalCurrency(uow);
    std::map<std::string, Account> chart;
    for (auto& a : accounts(uow)) chart.emplace(a.code, a);
    db::Statement& s = uow.statement(
        "SELECT account_code, SUM(functional_amount), COUNT(*) FROM journal_line WHERE entry_date <= ? "
        "GROUP BY account_code ORDER BY account_code");
    s.bind(as_of ? as_of->ymd() : 99991231).execute();
    while (s.next()) {
        TrialBalanceRow row;
        row.code = s.getString(0);
        const std::int64_t net = s.getInt64(1);
        tb.lines += s.getInt64(2);
        if (auto it = chart.find(row.code); it != chart.end()) {
            row.name = it->second.name;
            row.type = it->second.type;
        }
        (net >= 0 ? row.debit : row.credit) = net >= 0 ? net : -net;
        tb.total_debit += row.debit;
        tb.total_credit += row.credit;
        tb.rows.push_back(std::move(row));
    }
    return tb;
}

std::vector<DetailRow> Ledger::detail(db::UnitOfWork& uow, std::string_view account, std::optional<Date> from,
                                      std::optional<Date> to) {
    std::vector<DetailRow> out;
    const int first = from ? from->ymd() : 0;
    std::int64_t balance = 0;
    db::Statement& opening =
        uow.statement("SELECT COALESCE(SUM(functional_amount), 0) FROM journal_line WHERE account_code = ? AND entry_date < ?");
    opening.bindAll(std::string(account), first).execute();
    if (opening.next()) balance = opening.getInt64(0);
    if (balance != 0) {
        DetailRow row;
        row.date = from.value_or(Date::fromYmd(19000101));
        row.kind = "opening";
        row.memo = "balance brought forward";
        row.balance = balance;
        row.functional_amount = balance;
        out.push_back(row);
    }
    db::Statement& s = uow.statement(
        "SELECT l.entry_date, l.entry_id, e.kind, e.memo, l.currency, l.amount, l.functional_amount, l.channel, "
        "l.location_id, l.customer_id, l.item_id FROM journal_line l JOIN journal_entry e ON e.id = l.entry_id "
        "WHERE l.account_code = ? AND l.entry_date >= ? AND l.entry_date <= ? ORDER BY l.entry_date, l.entry_id, l.line_no");
    s.bindAll(std::string(account), first, to ? to->ymd() : 99991231).execute();
    while (s.next()) {
        DetailRow row;
        row.date = Date::fromYmd(static_cast<int>(s.getInt64(0)));
        row.entry_id = s.getString(1);
        row.kind = s.getString(2);
        row.memo = s.getString(3);
        row.currency = s.getString(4);
        row.amount = s.getInt64(5);
        row.functional_amount = s.getInt64(6);
        balance += row.functional_amount;
        row.balance = balance;
        row.dimensions = Dimensions{s.getString(7), s.getString(8), s.getString(9), s.getString(10)};
        out.push_back(std::move(row));
    }
    return out;
}

std::vector<ChannelPnl> Ledger::profitAndLoss(db::UnitOfWork& uow, std::optional<Date> from, std::optional<Date> to) {
    // The P&L line of each income and expense account: the role of the account or of its nearest ancestor.
    const auto chart = accounts(uow);
    std::map<std::string, const Account*> by_code;
    for (const auto& a : chart) by_code[a.code] = &a;
    auto category = [&](const std::string& code) -> std::string {
        std::string at = code;
        for (std::size_t steps = 0; !at.empty() && steps <= chart.size(); ++steps) {
            const auto it = by_code.find(at);
            if (it == by_code.end()) break;
            for (const auto& role : it->second->roles) {
                const std::string base = baseRole(role);
                if (base == "revenue" || base == "discounts" || base == "shipping_revenue" ||
                    base == "returns_allowances" || base == "cogs" || base == "marketplace_fees" ||
                    base == "chargeback_losses") {
                    return base;
                }
            }
            at = it->second->parent_code;
        }
        return "other";
    };
    std::map<std::string, ChannelPnl> by_channel;
    db::Statement& s = uow.statement(
        "SELECT account_code, channel, SUM(functional_amount) FROM journal_line WHERE entry_date >= ? AND entry_date <= ? "
        "GROUP BY account_code, channel");
    s.bindAll(from ? from->ymd() : 0, to ? to->ymd() : 99991231).execute();
    while (s.next()) {
        const std::string code = s.getString(0);
        const auto it = by_code.find(code);
        if (it == by_code.end()) continue;
        const AccountType type = it->second->type;
        if (type != AccountType::kIncome && type != AccountType::kExpense) continue;
        const std::int64_t sum = s.getInt64(2);  // debit positive
        auto& p = by_channel[s.getString(1)];
        p.channel = s.getString(1);
        const std::string c = category(code);
        if (c == "revenue") p.revenue -= sum;
        else if (c == "discounts") p.discounts += sum;
        else if (c == "shipping_revenue") p.shipping -= sum;
        else if (c == "returns_allowances") p.refunds += sum;
        else if (c == "cogs") p.cogs += sum;
        else if (c == "marketplace_fees") p.fees += sum;
        else if (c == "chargeback_losses") p.chargebacks += sum;
        else p.other -= sum;
    }
    std::vector<ChannelPnl> out;
    for (auto& [channel, p] : by_channel) out.push_back(p);
    return out;
}

std::vector<AgingRow> Ledger::aging(db::UnitOfWork& uow, const Date& as_of) {
    auto receivables = accountFor(uow, "receivables");
    if (!receivables) return {};
    // Per customer: what invoices (and other debits) are owed, oldest first, and every credit (payments, credit
    // notes) applied to them in that order. What is left of each debit ages from its due date.
    struct Debit {
        int due;
        std::int64_t amount;
    };
    std::map<std::string, std::deque<Debit>> debits;
    std::map<std::string, std::int64_t> credits;
    db::Statement& s = uow.statement(
        "SELECT l.customer_id, l.entry_date, l.functional_amount, i.due_date, c.code FROM journal_line l "
        "LEFT JOIN invoice i ON i.entry_id = l.entry_id LEFT JOIN customer c ON c.id = l.customer_id "
        "WHERE l.account_code = ? AND l.entry_date <= ? ORDER BY l.customer_id, l.entry_date, l.entry_id, l.line_no");
    s.bindAll(receivables.value(), as_of.ymd()).execute();
    std::map<std::string, std::string> codes;
    while (s.next()) {
        const std::string customer = s.getString(0);
        if (!s.isNull(4)) codes[customer] = s.getString(4);
        const std::int64_t amount = s.getInt64(2);
        if (amount > 0) {
            const int due = s.isNull(3) ? static_cast<int>(s.getInt64(1)) : static_cast<int>(s.getInt64(3));
            debits[customer].push_back(Debit{due, amount});
        } else {
            credits[customer] -= amount;
        }
    }
    std::set<std::string> customers;
    for (const auto& [c, d] : debits) customers.insert(c);
    for (const auto& [c, d] : credits) customers.insert(c);
    std::vector<AgingRow> out;
    for (const auto& customer : customers) {
        AgingRow row;
        row.customer_id = customer;
        std::int64_t credit = credits[customer];
        for (auto& d : debits[customer]) {
            const std::int64_t applied = std::min(credit, d.amount);
            credit -= applied;
            const std::int64_t open = d.amount - applied;
            if (open == 0) continue;
            const int late = Date::fromYmd(d.due).daysUntil(as_of);
            if (late <= 0) row.current += open;
            else if (late <= 30) row.days_1_30 += open;
            else if (late <= 60) row.days_31_60 += open;
            else if (late <= 90) row.days_61_90 += open;
            else row.over_90 += open;
        }
        row.unapplied = credit;
        if (row.total() == 0 && row.unapplied == 0) continue;
        row.customer_code = codes.count(customer) ? codes[customer] : customer;
        out.push_back(std::move(row));
    }
    return out;
}

// ----------------------------------------------------------------------------------------- verification

LedgerVerifyReport Ledger::verify(db::UnitOfWork& uow) {
    LedgerVerifyReport report;
    const Currency* functional = functionalCurrency(uow);
    {
        db::Statement& s = uow.statement("SELECT COUNT(*) FROM journal_entry");
        s.execute();
        if (s.next()) report.entries_checked = s.getInt64(0);
        db::Statement& l = uow.statement("SELECT COUNT(*) FROM journal_line");
        l.execute();
        if (l.next()) report.lines_checked = l.getInt64(0);
    }
    db::Statement& per_currency = uow.statement(
        "SELECT entry_id, currency, SUM(amount) FROM journal_line GROUP BY entry_id, currency HAVING SUM(amount) <> 0");
    per_currency.execute();
    while (per_currency.next()) {
        const auto& c = Currency::of(per_currency.getString(1));
        report.problems.push_back("entry " + per_currency.getString(0) + " does not balance in " + std::string(c.code()) +
                                  ": debits exceed credits by " + Money(per_currency.getInt64(2), c).toString());
    }
    db::Statement& per_entry = uow.statement(
        "SELECT entry_id, SUM(functional_amount) FROM journal_line GROUP BY entry_id HAVING SUM(functional_amount) <> 0");
    per_entry.execute();
    while (per_entry.next()) {
        report.problems.push_back("entry " + per_entry.getString(0) + " does not balance in the functional currency: off by " +
                                  money(per_entry.getInt64(1), functional));
    }
    db::Statement& orphans = uow.statement(
        "SELECT e.id FROM journal_entry e LEFT JOIN journal_line l ON l.entry_id = e.id AND l.line_no = 1 "
        "WHERE l.entry_id IS NULL");
    orphans.execute();
    while (orphans.next()) report.problems.push_back("entry " + orphans.getString(0) + " has no lines");

    // Inventory: per item, the quantity of each cost pool equals the stock balances, its value equals the
    // inventory account's lines for the item, and a FIFO item's layers add up to its pool.
    auto inventory = accountFor(uow, "inventory");
    auto transit = accountFor(uow, "inventory_transit");
    if (!inventory || !transit) {
        report.problems.push_back("the chart has no inventory or inventory_transit account");
        return report;
    }
    struct Pool {
        std::int64_t stock_qty = 0, transit_qty = 0;           // stock ledger
        std::int64_t cost_stock_qty = 0, cost_transit_qty = 0;  // cost pools
        std::int64_t stock_value = 0, transit_value = 0;        // cost pools
        std::int64_t gl_stock = 0, gl_transit = 0;              // general ledger
        std::optional<std::pair<std::int64_t, std::int64_t>> layers;
    };
    std::map<std::string, Pool> items;
    db::Statement& b = uow.statement(
        "SELECT item_id, state, SUM(quantity) FROM stock_balance GROUP BY item_id, state");
    b.execute();
    while (b.next()) {
        auto& p = items[b.getString(0)];
        (b.getString(1) == "in_transit" ? p.transit_qty : p.stock_qty) += b.getInt64(2);
    }
    db::Statement& c = uow.statement("SELECT item_id, pool, quantity, value FROM item_cost");
    c.execute();
    while (c.next()) {
        auto& p = items[c.getString(0)];
        if (c.getString(1) == "transit") {
            p.cost_transit_qty = c.getInt64(2);
            p.transit_value = c.getInt64(3);
        } else {
            p.cost_stock_qty = c.getInt64(2);
            p.stock_value = c.getInt64(3);
        }
    }
    db::Statement& g = uow.statement(
        "SELECT account_code, item_id, SUM(functional_amount) FROM journal_line WHERE account_code IN (?, ?) "
        "GROUP BY account_code, item_id");
    g.bindAll(inventory.value(), transit.value()).execute();
    while (g.next()) {
        auto& p = items[g.getString(1)];
        (g.getString(0) == inventory.value() ? p.gl_stock : p.gl_transit) += g.getInt64(2);
    }
    db::Statement& f = uow.statement(
        "SELECT l.item_id, SUM(l.quantity), SUM(l.value) FROM cost_layer l GROUP BY l.item_id");
    f.execute();
    while (f.next()) items[f.getString(0)].layers = std::make_pair(f.getInt64(1), f.getInt64(2));
    std::map<std::string, std::pair<std::string, bool>> item_facts;  // id -> (SKU, FIFO)
    db::Statement& fi = uow.statement("SELECT id, sku, cost_method FROM item");
    fi.execute();
    while (fi.next()) item_facts[fi.getString(0)] = {fi.getString(1), fi.getString(2) == "fifo"};

    for (const auto& [item, p] : items) {
        const auto facts = item_facts.find(item);
        const std::string name = facts != item_facts.end() ? facts->second.first : item.empty() ? "(no item)" : item;
        ++report.items_checked;
        if (p.stock_qty != p.cost_stock_qty) {
            report.problems.push_back("item " + name + ": the stock ledger holds " + std::to_string(p.stock_qty) +
                                      " units, its cost pool " + std::to_string(p.cost_stock_qty) +
                                      (p.stock_qty > p.cost_stock_qty ? " (unvalued stock: keel ledger value-stock)" : ""));
        }
        if (p.transit_qty != p.cost_transit_qty) {
            report.problems.push_back("item " + name + ": " + std::to_string(p.transit_qty) +
                                      " units are in transit, its transit cost pool holds " + std::to_string(p.cost_transit_qty));
        }
        if (p.gl_stock != p.stock_value) {
            report.problems.push_back("item " + name + ": inventory account " + inventory.value() + " holds " +
                                      money(p.gl_stock, functional) + ", the stock valuation is " +
                                      money(p.stock_value, functional) + " (difference " +
                                      money(p.gl_stock - p.stock_value, functional) + ")");
        }
        if (p.gl_transit != p.transit_value) {
            report.problems.push_back("item " + name + ": in-transit account " + transit.value() + " holds " +
                                      money(p.gl_transit, functional) + ", the valuation of stock in transit is " +
                                      money(p.transit_value, functional) + " (difference " +
                                      money(p.gl_transit - p.transit_value, functional) + ")");
        }
        if (facts != item_facts.end() && facts->second.second) {
            const auto layers = p.layers.value_or(std::make_pair(std::int64_t{0}, std::int64_t{0}));
            if (layers.first != p.cost_stock_qty || layers.second != p.stock_value) {
                report.problems.push_back("item " + name + ": FIFO layers hold " + std::to_string(layers.first) + " units at " +
                                          money(layers.second, functional) + ", the cost pool " +
                                          std::to_string(p.cost_stock_qty) + " at " + money(p.stock_value, functional));
            }
        }
    }
    return report;
}

// ----------------------------------------------------------------------------------------------- exports

void Ledger::exportLedger(db::UnitOfWork& uow, std::ostream& out) {
    const Currency* functional = functionalCurrency(uow);
    if (!functional) return;
    std::map<std::string, AccountType> types;
    for (const auto& a : accounts(uow)) types[a.code] = a.type;
    db::Statement& s = uow.statement(
        "SELECT e.id, e.entry_date, e.kind, e.memo, l.account_code, l.currency, l.amount, l.functional_amount, "
        "l.rate_mantissa, l.rate_scale FROM journal_entry e JOIN journal_line l ON l.entry_id = e.id "
        "ORDER BY e.entry_date, e.id, l.line_no");
    s.execute();
    std::string current;
    const std::string code(functional->code());
    auto clean = [](std::string text) {
        for (auto& ch : text) {
            if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ';') ch = ' ';
        }
        return text;
    };
    while (s.next()) {
        const std::string id = s.getString(0);
        if (id != current) {
            if (!current.empty()) out << '\n';
            current = id;
            out << Date::fromYmd(static_cast<int>(s.getInt64(1))).toString() << " * " << clean(s.getString(2));
            const std::string memo = clean(s.getString(3));
            if (!memo.empty()) out << " | " << memo;
            out << "\n    ; entry: " << id << '\n';
        }
        const std::string account = s.getString(4);
        const auto type = types.count(account) ? types[account] : AccountType::kAsset;
        out << "    " << exportAccountName(type, account) << "  " << Money(s.getInt64(7), *functional).toString() << ' ' << code;
        if (s.getString(5) != code) {
            out << "  ; " << Money(s.getInt64(6), Currency::of(s.getString(5))).toString() << ' ' << s.getString(5) << " at "
                << Decimal(s.getInt64(8), static_cast<int>(s.getInt64(9))).toString();
        }
        out << '\n';
    }
}

void Ledger::exportCsv(db::UnitOfWork& uow, std::ostream& out) {
    csv::Writer writer(out);
    writer.write({"entry_id", "date", "kind", "memo", "line", "account", "currency", "amount", "functional_amount", "rate",
                  "channel", "location_id", "customer_id", "item_id"});
    db::Statement& s = uow.statement(
        "SELECT e.id, e.entry_date, e.kind, e.memo, l.line_no, l.account_code, l.currency, l.amount, l.functional_amount, "
        "l.rate_mantissa, l.rate_scale, l.channel, l.location_id, l.customer_id, l.item_id FROM journal_entry e "
        "JOIN journal_line l ON l.entry_id = e.id ORDER BY e.entry_date, e.id, l.line_no");
    s.execute();
    const Currency* functional = functionalCurrency(uow);
    while (s.next()) {
        const auto& c = Currency::of(s.getString(6));
        writer.write({s.getString(0), Date::fromYmd(static_cast<int>(s.getInt64(1))).toString(), s.getString(2),
                      s.getString(3), std::to_string(s.getInt64(4)), s.getString(5), s.getString(6),
                      Money(s.getInt64(7), c).toString(),
                      functional ? Money(s.getInt64(8), *functional).toString() : std::to_string(s.getInt64(8)),
                      Decimal(s.getInt64(9), static_cast<int>(s.getInt64(10))).toString(), s.getString(11),
                      s.getString(12), s.getString(13), s.getString(14)});
    }
}

}  // namespace keel::ledger
