#include "keel/db/batch_insert.h"

#include <iterator>
#include <stdexcept>

namespace keel::db {

BatchInsert::BatchInsert(UnitOfWork& uow, std::string table, std::vector<std::string> columns,
                         std::size_t rows_per_statement)
    : uow_(uow), table_(std::move(table)), columns_(std::move(columns)), rows_per_statement_(rows_per_statement) {
    if (columns_.empty() || rows_per_statement_ == 0) throw std::invalid_argument("BatchInsert needs columns and rows");
    // The INSERT text is built once here from code-supplied names; upsert() checks identifiers the same way.
    (void)uow_.dialect().upsert(table_, columns_, {columns_.front()}, {});
}

void BatchInsert::push(const std::optional<std::int64_t>& value) {
    if (value) {
        pending_.emplace_back(*value);
    } else {
        pending_.emplace_back(std::monostate{});
        null_types_.resize(pending_.size(), SqlType::kText);
        null_types_.back() = SqlType::kBigInt;
    }
}

void BatchInsert::push(const std::optional<std::string>& value) {
    if (value) {
        push(std::string_view(*value));
    } else {
        pending_.emplace_back(std::monostate{});
    }
}

void bindField(Statement& statement, const Field& field) {
    std::visit([&](const auto& value) { statement.bind(value); }, field);
}

void BatchInsert::addRow(const std::vector<Field>& row) {
    for (const Field& field : row) std::visit([&](const auto& value) { push(value); }, field);
    endRow();
}

void BatchInsert::endRow() {
    if (pending_.size() % columns_.size() != 0) {
        throw std::invalid_argument("BatchInsert into " + table_ + ": a row has " +
                                    std::to_string(pending_.size() % columns_.size()) + " values too many or few");
    }
    if (pending_.size() / columns_.size() >= rows_per_statement_) write(rows_per_statement_);
}

namespace {

std::string insertSql(const std::string& table, const std::vector<std::string>& columns, std::size_t rows) {
    std::string sql = "INSERT INTO " + table + " (";
    std::string row = "(";
    for (std::size_t i = 0; i < columns.size(); ++i) {
        sql += (i == 0 ? "" : ", ") + columns[i];
        row += i == 0 ? "?" : ", ?";
    }
    sql += ") VALUES ";
    row += ")";
    for (std::size_t r = 0; r < rows; ++r) sql += (r == 0 ? "" : ", ") + row;
    return sql;
}

}  // namespace

std::string BatchInsert::sqlFor(std::size_t rows) const {
    return insertSql(table_, columns_, rows);
}

void BatchInsert::write(std::size_t rows) {
    Statement& statement = uow_.statement(sqlFor(rows));
    null_types_.resize(pending_.size(), SqlType::kText);
    for (std::size_t i = 0; i < rows * columns_.size(); ++i) {
        const Value& v = pending_[i];
        if (const auto* integer = std::get_if<std::int64_t>(&v)) {
            statement.bind(*integer);
        } else if (const auto* text = std::get_if<Text>(&v)) {
            statement.bind(std::string_view(text_).substr(text->offset, text->size));
        } else {
            statement.bindNull(null_types_[i]);
        }
    }
    statement.execute();
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(rows * columns_.size()));
    null_types_.erase(null_types_.begin(), null_types_.begin() + static_cast<std::ptrdiff_t>(rows * columns_.size()));
    if (pending_.empty()) text_.clear();  // the text of values still pending stays where their offsets say
    written_ += rows;
}

void BatchInsert::flush() {
    // Up to kExactRows rows go in one statement of their size: the few rows a unit of work writes to a table (an
    // order's events, a shipment's moves) cost one round trip, not one per power of two (3 rows were 2 statements).
    // Larger batches go in power-of-two chunks, so few distinct statements are prepared; the connection's statement
    // cache is bounded anyway (docs/database.md). SQLite has no round trips: everything goes in one statement.
    constexpr std::size_t kExactRows = 16;
    const std::size_t all = pending_.size() / columns_.size();
    if (all > 0 && (all <= kExactRows || uow_.dialect().backend() == Backend::kSQLite)) {
        write(all);
        return;
    }
    for (std::size_t rows = all; rows > 0; rows = pending_.size() / columns_.size()) {
        std::size_t chunk = 1;
        while (chunk * 2 <= rows) chunk *= 2;
        write(chunk);
    }
}

DeferredInsert& DeferredInsert::in(UnitOfWork& uow, const void* key, const char* table,
                                   std::initializer_list<const char*> columns) {
    DeferredInsert& buffer = uow.deferred<DeferredInsert>(key);
    if (buffer.columns_.empty()) {
        buffer.table_ = table;
        buffer.columns_.assign(columns.begin(), columns.end());
    }
    return buffer;
}

void DeferredInsert::wrongRow(std::size_t values) const {
    throw std::logic_error("DeferredInsert into " + table_ + ": a row of " + std::to_string(values) + " values for " +
                           std::to_string(columns_.size()) + " columns");
}

void DeferredInsert::writeTogether(UnitOfWork& uow, const std::vector<DeferredInsert*>& buffers) {
    if (buffers.empty()) return;
    // The statement's text depends only on the tables and their row counts, so a unit's usual mixes (an order's
    // transition and its events) are each prepared once per connection.
    std::string sql;
    for (std::size_t b = 0; b + 1 < buffers.size(); ++b) {
        sql += (b == 0 ? "WITH keel_w" : ", keel_w") + std::to_string(b) + " AS (" +
               insertSql(buffers[b]->table_, buffers[b]->columns_, buffers[b]->size()) + ")";
    }
    sql += (buffers.size() > 1 ? " " : "") +
           insertSql(buffers.back()->table_, buffers.back()->columns_, buffers.back()->size());
    Statement& statement = uow.statement(sql);
    for (const DeferredInsert* buffer : buffers) {
        for (const Field& field : buffer->fields_) bindField(statement, field);
    }
    statement.execute();
    for (DeferredInsert* buffer : buffers) buffer->fields_.clear();
}

void DeferredInsert::flush(UnitOfWork& uow) {
    if (fields_.empty()) return;
    BatchInsert insert(uow, table_, columns_, 64);
    std::vector<Field> row;
    for (std::size_t start = 0; start < fields_.size(); start += columns_.size()) {
        row.assign(std::make_move_iterator(fields_.begin() + static_cast<std::ptrdiff_t>(start)),
                   std::make_move_iterator(fields_.begin() + static_cast<std::ptrdiff_t>(start + columns_.size())));
        insert.addRow(row);
    }
    insert.flush();
    fields_.clear();
}

}  // namespace keel::db
