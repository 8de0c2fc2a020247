#include "keel/orders/customers.h"

#include "keel/catalog/validation.h"
#include "keel/db/for_each_in.h"
#include "keel/kernel/error.h"

#include <algorithm>

namespace keel::orders {

namespace {

bool isAsciiControl(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

const std::string kCustomerSelect =
    "SELECT id, code, name, email, kind, credit_limit, currency, price_list, created_at, updated_at FROM customer ";

Customer readCustomer(const db::Statement& s) {
    Customer customer;
    customer.id = s.getString(0);
    customer.code = s.getString(1);
    customer.name = s.getString(2);
    customer.email = s.getString(3);
    const std::string kind = s.getString(4);
    customer.kind = customerKindFrom(kind).value_or(CustomerKind::kB2C);  // the CHECK allows only these
    const std::string currency = s.getString(6);
    if (!Currency::find(currency)) {
        throw InfrastructureError("customer '" + customer.code + "' is stored with currency '" + currency +
                                  "', which this keel does not know; upgrade keel or correct the customer");
    }
    customer.currency = &Currency::of(currency);
    if (const auto limit = s.getOptionalInt64(5)) customer.credit_limit = Money(*limit, *customer.currency);
    customer.price_list = s.getString(7);
    customer.created_at = s.getInt64(8);
    customer.updated_at = s.getInt64(9);
    return customer;
}

std::optional<Customer> findOne(db::UnitOfWork& uow, const std::string& where, std::string_view value) {
    db::Statement& select = uow.statement(kCustomerSelect + where);
    select.bind(value).execute();
    std::optional<Customer> found;
    while (select.next()) found = readCustomer(select);
    return found;
}

}  // namespace

std::optional<Customer> Customers::findByCode(db::UnitOfWork& uow, std::string_view code) const {
    return findOne(uow, "WHERE code = ?", code);
}

std::optional<Customer> Customers::findById(db::UnitOfWork& uow, std::string_view id) const {
    return findOne(uow, "WHERE id = ?", id);
}

std::map<std::string, Customer> Customers::findByCodes(db::UnitOfWork& uow,
                                                       const std::vector<std::string>& codes) const {
    std::map<std::string, Customer> found;
    db::forEachIn(uow, kCustomerSelect + "WHERE code IN ", "", codes, [&](const db::Statement& select) {
        Customer customer = readCustomer(select);
        found.emplace(customer.code, std::move(customer));
    });
    return found;
}

Customer Customers::requireByCode(db::UnitOfWork& uow, std::string_view code) const {
    auto customer = findByCode(uow, code);
    if (!customer) {
        throw NotFoundError("unknown customer '" + std::string(code) +
                            "'; add customers with `keel customer import FILE.csv`");
    }
    return std::move(*customer);
}

Customer Customers::ensureCustomer(db::UnitOfWork& uow, std::string_view code, std::string_view email,
                                   std::string_view name, CustomerKind kind, const Currency& currency) const {
    if (auto problem = customerCodeProblem(code)) {
        throw RejectedError("customer code '" + std::string(code) + "' " + *problem);
    }
    if (auto problem = emailProblem(email)) {
        throw RejectedError("e-mail address of customer '" + std::string(code) + "' " + *problem);
    }
    if (auto problem = customerNameProblem(name)) {
        throw RejectedError("name of customer '" + std::string(code) + "' " + *problem);
    }
    // Read first: the common case (a returning customer) costs one indexed SELECT and writes nothing.
    if (auto found = findByCode(uow, code)) return std::move(*found);

    const std::int64_t now = clock_.nowMicros();
    const std::string sql = uow.dialect().upsert(
        "customer",
        {"id", "code", "name", "email", "kind", "credit_limit", "currency", "price_list", "created_at", "updated_at"},
        {"code"}, {});
    uow.statement(sql)
        .bindAll(ids_.next(), code, name, email, customerKindName(kind), std::optional<std::int64_t>{}, currency.code(),
                 std::string_view(), now, now)
        .execute();
    // Whoever inserted first, this is the customer every caller now sees.
    if (auto found = findByCode(uow, code)) return std::move(*found);
    throw InfrastructureError("customer '" + std::string(code) +
                              "' was neither found nor inserted; check the "
                              "customer table's unique key on code");
}

std::optional<std::string> customerCodeProblem(std::string_view code) {
    if (code.empty()) return std::string("is empty; every customer needs a code");
    if (!catalog::isValidUtf8(code)) return std::string("is not valid UTF-8");
    for (std::size_t i = 0; i < code.size(); ++i) {
        const auto c = static_cast<unsigned char>(code[i]);
        if (isAsciiControl(c)) {
            return "contains a control character at byte " + std::to_string(i + 1) +
                   "; customer codes cannot contain control characters";
        }
        if (c == ' ') {
            return "contains a space at byte " + std::to_string(i + 1) + "; customer codes cannot contain spaces";
        }
    }
    const std::size_t length = catalog::utf8Length(code);
    if (length > kMaxCustomerCodeLength) {
        return "has " + std::to_string(length) + " characters; a customer code has at most " +
               std::to_string(kMaxCustomerCodeLength);
    }
    return std::nullopt;
}

std::optional<std::string> customerNameProblem(std::string_view name) {
    if (!catalog::isValidUtf8(name)) return std::string("is not valid UTF-8");
    if (std::any_of(name.begin(), name.end(), [](char c) { return isAsciiControl(static_cast<unsigned char>(c)); })) {
        return std::string("contains a control character; write the name on one line");
    }
    const std::size_t length = catalog::utf8Length(name);
    if (length > kMaxCustomerNameLength) {
        return "has " + std::to_string(length) + " characters; a customer name has at most " +
               std::to_string(kMaxCustomerNameLength);
    }
    return std::nullopt;
}

std::optional<std::string> emailProblem(std::string_view email) {
    if (email.empty()) return std::nullopt;
    if (!catalog::isValidUtf8(email)) return std::string("is not valid UTF-8");
    if (email.size() > kMaxEmailLength) {
        return "has " + std::to_string(email.size()) + " bytes; an e-mail address has at most " +
               std::to_string(kMaxEmailLength);
    }
    const auto bad = std::find_if(email.begin(), email.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return isAsciiControl(u) || u == ' ' || u == ',' || u == ';';
    });
    if (bad != email.end()) {
        return "'" + std::string(email) + "' contains a space, ',' or ';' or a control character; give one address";
    }
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == email.size() ||
        email.find('@', at + 1) != std::string_view::npos) {
        return "'" + std::string(email) +
               "' is not an e-mail address (expected one '@' between name and domain, e.g. "
               "ann@example.com)";
    }
    return std::nullopt;
}

std::string_view customerKindName(CustomerKind kind) {
    return kind == CustomerKind::kB2B ? "b2b" : "b2c";
}

std::optional<CustomerKind> customerKindFrom(std::string_view text) {
    if (text == "b2c") return CustomerKind::kB2C;
    if (text == "b2b") return CustomerKind::kB2B;
    return std::nullopt;
}

}  // namespace keel::orders
