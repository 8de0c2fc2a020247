#pragma once
// The general ledger: chart of accounts with roles for the posting rules, monthly periods, exchange rates, and
// journal entries that balance per currency before they are stored, are never changed once posted (a correction
// is a reversal that references the original) and are posted at most once per idempotency key. Reports read the
// lines: trial balance, account detail, profit and loss by channel, receivables aging; verify() proves the books
// balance and that inventory on the books equals the stock ledger's valuation. docs/ledger.md has the details.

#include "keel/db/database.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/date.h"
#include "keel/kernel/error.h"
#include "keel/kernel/id.h"
#include "keel/kernel/money.h"
#include "keel/ledger/rules.h"

#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace keel::ledger {

enum class AccountType { kAsset, kLiability, kEquity, kIncome, kExpense };
std::string_view toString(AccountType type);  ///< "asset", "liability", "equity", "income", "expense"
std::optional<AccountType> accountTypeFrom(std::string_view text);

struct Account {
    std::string code;
    std::string name;
    AccountType type = AccountType::kAsset;
    std::string currency;     ///< "" accepts any currency
    std::string parent_code;  ///< "" at the top
    bool active = true;
    std::vector<std::string> roles;
};

/// The default chart for commerce that init() creates (codes, names, types, parents and roles).
const std::vector<Account>& defaultChart();
/// Roles the posting rules need; a chart (default or imported) must map every one of them.
const std::vector<std::string>& requiredRoles();

/// An entry to post. `idempotency_key` comes from the source event: a second post with the same key and the same
/// content returns the first entry; with different content it is refused as a conflict.
struct EntryRequest {
    Date date = Date::fromYmd(20000101);
    std::string kind;         ///< the posting rule, "journal" (manual) or "reversal"
    std::string source_type;  ///< "stock_move", "invoice", "return", "event", "manual", ...
    std::string source_id;
    std::string idempotency_key;
    std::string memo;
    std::vector<DraftLine> lines;
    std::optional<std::string> reverses_id;
    std::string actor = "system";
    /// Manual journals may not touch the control accounts that sub-ledgers own (inventory, receivables).
    bool manual = false;
    /// The key cannot have been posted before (it names a stock move written in this unit of work): the lookup
    /// for an earlier posting is skipped, one statement less on the hot path; the unique key still guards.
    bool new_key = false;
    /// What a re-post under the same key must match: by default a hash of the lines; a financial event gives the
    /// hash of its document instead.
    std::optional<std::string> content_hash = std::nullopt;
};

struct PostResult {
    std::string entry_id;
    bool already_posted = false;
};

struct JournalLine {
    int line_no = 0;
    std::string account;
    std::string currency;
    std::int64_t amount = 0;             ///< debit > 0, credit < 0, minor units of `currency`
    std::int64_t functional_amount = 0;  ///< the same in the functional currency
    Decimal rate{1};
    Dimensions dimensions;
};

struct JournalEntry {
    std::string id;
    Date date = Date::fromYmd(20000101);
    std::string period;
    std::string kind;
    std::string source_type;
    std::string source_id;
    std::string idempotency_key;
    std::string memo;
    std::optional<std::string> reverses_id;
    std::optional<std::string> reversed_by;
    std::string actor;
    std::vector<JournalLine> lines;
};

struct TrialBalanceRow {
    std::string code;
    std::string name;
    AccountType type = AccountType::kAsset;
    std::int64_t debit = 0;   ///< net balance when it is a debit balance, else 0
    std::int64_t credit = 0;  ///< net balance when it is a credit balance, else 0
};

struct TrialBalance {
    const Currency* currency = nullptr;  ///< the functional currency
    std::vector<TrialBalanceRow> rows;   ///< accounts with lines, by code
    std::int64_t total_debit = 0;
    std::int64_t total_credit = 0;
    std::int64_t lines = 0;  ///< journal lines read
};

struct DetailRow {
    Date date = Date::fromYmd(20000101);
    std::string entry_id;
    std::string kind;
    std::string memo;
    std::string currency;
    std::int64_t amount = 0;
    std::int64_t functional_amount = 0;
    std::int64_t balance = 0;  ///< running functional balance (debit positive)
    Dimensions dimensions;
};

/// Profit and loss of one channel ("" for lines without one): income as positive figures, costs as positive.
struct ChannelPnl {
    std::string channel;
    std::int64_t revenue = 0;
    std::int64_t discounts = 0;
    std::int64_t shipping = 0;
    std::int64_t refunds = 0;
    std::int64_t cogs = 0;
    std::int64_t fees = 0;
    std::int64_t chargebacks = 0;
    std::int64_t other = 0;  ///< other income minus other expenses (adjustments, shrinkage, rounding, ...)
    std::int64_t net_sales() const { return revenue - discounts + shipping - refunds; }
    std::int64_t margin() const { return net_sales() - cogs - fees - chargebacks + other; }
};

struct AgingRow {
    std::string customer_id;
    std::string customer_code;
    std::int64_t current = 0;  ///< not yet due
    std::int64_t days_1_30 = 0;
    std::int64_t days_31_60 = 0;
    std::int64_t days_61_90 = 0;
    std::int64_t over_90 = 0;
    std::int64_t unapplied = 0;  ///< payments and credits not matched to an invoice (a credit balance)
    std::int64_t total() const { return current + days_1_30 + days_31_60 + days_61_90 + over_90 - unapplied; }
};

/// What verify() found; ok() when the books balance and inventory reconciles to the minor unit.
struct LedgerVerifyReport {
    std::vector<std::string> problems;  ///< one sentence each, naming the entry, account or item and the amounts
    std::int64_t entries_checked = 0;
    std::int64_t lines_checked = 0;
    std::int64_t items_checked = 0;
    bool ok() const { return problems.empty(); }
};

struct Period {
    std::string period;  ///< "2026-11"
    bool closed = false;
    std::string changed_by;
    std::int64_t changed_at = 0;
};

/// "2026-11" for a date.
std::string periodOf(const Date& date);

class Ledger {
public:
    explicit Ledger(const Clock& clock = Clock::system(), IdGenerator& ids = IdGenerator::global())
        : clock_(clock), ids_(ids) {}

    /// Creates the default chart and records the functional currency, when the database has no accounts yet.
    /// Returns false when a chart was already there (nothing changes; a different currency is refused).
    bool initialize(db::UnitOfWork& uow, const Currency& functional);
    /// The functional currency; nullptr before initialize().
    const Currency* functionalCurrency(db::UnitOfWork& uow);

    std::vector<Account> accounts(db::UnitOfWork& uow);
    std::optional<Account> findAccount(db::UnitOfWork& uow, std::string_view code);
    /// Replaces the chart with these accounts (a CSV import): accounts are created or updated by code; accounts
    /// not listed are removed when nothing was posted to them, deactivated otherwise; roles are replaced. Refused
    /// (nothing changes) when a required role is missing, a parent is unknown or an account with postings would
    /// change type.
    Result<std::size_t> replaceChart(db::UnitOfWork& uow, const std::vector<Account>& chart);
    /// The account code a role maps to. "tax_payable:US-CA" falls back to "tax_payable" and creates a child
    /// account "<code>-US-CA" for the jurisdiction on first use; "clearing:stripe" falls back to "clearing".
    Result<std::string> accountFor(db::UnitOfWork& uow, const std::string& role);

    /// Posts a balanced entry. Refuses (nothing stored): no lines, imbalance per currency, an unknown or inactive
    /// account, a currency the account does not take, a closed period, a missing exchange rate, a manual line on a
    /// control account, the same key with different content.
    Result<PostResult> post(db::UnitOfWork& uow, const EntryRequest& request);
    /// Posts several entries as post() does each, all or nothing (the first refused one fails the call). Entries
    /// whose keys are new (`new_key`: a shipment's stock moves) are written together, one INSERT for the entries and
    /// one for their lines; the others one by one. Entry ids are in the order of the requests.
    Result<std::vector<std::string>> postMany(db::UnitOfWork& uow, const std::vector<EntryRequest>& requests);
    /// Posts the reversal of an entry on `date` (the original's date when not given): every line negated, with
    /// reverses_id set. An entry is reversed at most once; a reversal is not itself reversed.
    Result<PostResult> reverse(db::UnitOfWork& uow, std::string_view entry_id, std::optional<Date> date,
                               const std::string& memo, const std::string& actor,
                               std::optional<std::string> idempotency_key = std::nullopt,
                               std::optional<std::string> content_hash = std::nullopt);
    std::optional<JournalEntry> entry(db::UnitOfWork& uow, std::string_view entry_id);
    std::optional<JournalEntry> entryByKey(db::UnitOfWork& uow, std::string_view idempotency_key);

    std::vector<Period> periods(db::UnitOfWork& uow);
    bool isClosed(db::UnitOfWork& uow, const std::string& period);
    /// Closes (or reopens) a period "YYYY-MM".
    Result<Period> setPeriod(db::UnitOfWork& uow, const std::string& period, bool closed, const std::string& actor);

    /// Sets the rate of `currency` from `date` on (functional units per unit of the currency).
    Result<Decimal> setRate(db::UnitOfWork& uow, const Currency& currency, const Date& date, const Decimal& rate);
    /// The rate in force on `date` (1 for the functional currency); nullopt when none is set on or before it.
    std::optional<Decimal> rateOn(db::UnitOfWork& uow, const Currency& currency, const Date& date);
    /// Every rate, by currency and date.
    std::vector<std::tuple<std::string, Date, Decimal>> rates(db::UnitOfWork& uow);

    TrialBalance trialBalance(db::UnitOfWork& uow, std::optional<Date> as_of = std::nullopt);
    std::vector<DetailRow> detail(db::UnitOfWork& uow, std::string_view account, std::optional<Date> from,
                                  std::optional<Date> to);
    std::vector<ChannelPnl> profitAndLoss(db::UnitOfWork& uow, std::optional<Date> from, std::optional<Date> to);
    std::vector<AgingRow> aging(db::UnitOfWork& uow, const Date& as_of);

    LedgerVerifyReport verify(db::UnitOfWork& uow);

    /// Writes every entry (by date) as a ledger/hledger journal, functional amounts, one account per code named
    /// "<Type>:<code>", with the transaction currency and rate in a comment for foreign lines.
    void exportLedger(db::UnitOfWork& uow, std::ostream& out);
    /// Writes every line as CSV (entry, date, kind, account, currency, amount, functional, rate, dimensions).
    void exportCsv(db::UnitOfWork& uow, std::ostream& out);

    /// Forgets cached accounts and roles (after the chart changed in another process).
    void invalidateCache();

    const Clock& clock() const { return clock_; }

private:
    struct CachedAccount {
        AccountType type;
        std::string currency;
        bool active;
    };
    /// An entry checked and resolved (accounts, functional amounts, rounding line, content hash), not yet written.
    struct Prepared;
    Result<Prepared> prepare(db::UnitOfWork& uow, const EntryRequest& request);
    /// Writes prepared entries (with new ids, returned): one INSERT for the entries, batched lines, their events.
    std::vector<std::string> write(db::UnitOfWork& uow, const std::vector<const EntryRequest*>& requests,
                                   const std::vector<Prepared>& prepared);
    void loadCache(db::UnitOfWork& uow);
    /// Whether a past period is closed, holding its row locked until the unit of work ends.
    bool lockOpenPeriod(db::UnitOfWork& uow, const std::string& period);

    const Clock& clock_;
    IdGenerator& ids_;
    std::mutex mutex_;
    bool cached_ = false;
    std::int64_t loaded_at_ = 0;
    std::map<std::string, CachedAccount> accounts_;
    std::map<std::string, std::string> roles_;
    const Currency* functional_ = nullptr;
};

/// The ledger account name an export uses for a code: "Assets:1300".
std::string exportAccountName(AccountType type, std::string_view code);

}  // namespace keel::ledger
