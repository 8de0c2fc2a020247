#pragma once
// Many rows into one table with few round trips: multi-row INSERT ... VALUES (...), (...) statements, each
// size prepared once per connection. Every value is still a bound parameter. For imports and bulk loads;
// on PostgreSQL and MariaDB this turns thousands of network round trips into tens.

#include "keel/db/database.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace keel::db {

/// A value of a row assembled at run time (CSV imports): text, integer, or a typed NULL.
using Field = std::variant<std::int64_t, std::string, std::optional<std::int64_t>, std::optional<std::string>>;

/// Binds one Field as the statement's next parameter.
void bindField(Statement& statement, const Field& field);

class BatchInsert {
public:
    /// `rows_per_statement` × columns stays far below every backend's parameter limit (SQLite 32766).
    BatchInsert(UnitOfWork& uow, std::string table, std::vector<std::string> columns, std::size_t rows_per_statement = 200);

    /// Adds one row; the number of values must match the columns. Executes a full batch when one is ready.
    template <typename... Values>
    void add(const Values&... values) {
        static_assert(sizeof...(Values) > 0);
        (push(values), ...);
        endRow();
    }

    /// Adds one row whose values were assembled at run time.
    void addRow(const std::vector<Field>& row);

    /// Writes the rows still pending: up to 16 in one statement of their size, more in power-of-two chunks (so few
    /// distinct statements are prepared), or on SQLite all in one statement. Call before the unit of work commits.
    void flush();
    std::size_t rowsWritten() const { return written_; }

private:
    /// Text kept in text_: its offset and size there.
    struct Text {
        std::size_t offset = 0;
        std::size_t size = 0;
    };
    using Value = std::variant<std::monostate, std::int64_t, Text>;
    void push(std::int64_t value) { pending_.emplace_back(value); }
    void push(int value) { pending_.emplace_back(static_cast<std::int64_t>(value)); }
    void push(std::string_view value) {
        pending_.emplace_back(Text{text_.size(), value.size()});
        text_.append(value);
    }
    void push(const std::string& value) { push(std::string_view(value)); }
    void push(const char* value) { push(std::string_view(value)); }
    void push(const std::optional<std::int64_t>& value);
    void push(const std::optional<std::string>& value);
    void endRow();
    void write(std::size_t rows);
    std::string sqlFor(std::size_t rows) const;

    UnitOfWork& uow_;
    std::string table_;
    std::vector<std::string> columns_;
    std::size_t rows_per_statement_;
    std::vector<Value> pending_;
    std::string text_;  ///< the text of the pending values, one after the other (one allocation, not one each)
    std::vector<SqlType> null_types_;  ///< for typed NULLs, per pending value
    std::size_t written_ = 0;
};

/// Rows for one table kept until the unit of work commits, then written with a BatchInsert (64 rows a statement): a
/// unit's events, its orders' transitions. Get a unit's buffer with `DeferredInsert::in(uow, &key, table, columns)`,
/// where `key` is the address of a static of the caller's (one buffer per key and unit). On PostgreSQL the buffers of
/// a unit that has rows for several tables are written in one statement (writeTogether), a round trip instead of one
/// per table.
class DeferredInsert final : public UnitOfWork::Deferred {
public:
    static DeferredInsert& in(UnitOfWork& uow, const void* key, const char* table,
                              std::initializer_list<const char*> columns);

    /// Adds one row; the number of values must match the columns (std::logic_error otherwise: a mistake in the code).
    template <typename... Values>
    void add(Values&&... values) {
        if (sizeof...(Values) != columns_.size()) wrongRow(sizeof...(Values));
        (fields_.emplace_back(std::forward<Values>(values)), ...);
    }

    void flush(UnitOfWork& uow) override;
    DeferredInsert* rows() override { return this; }

    /// The rows buffered so far.
    std::size_t size() const { return fields_.size() / columns_.size(); }

    /// Writes the rows of several buffers (of different tables, up to 16 rows each) with one PostgreSQL statement of
    /// data-modifying CTEs: `WITH keel_w0 AS (INSERT INTO a ...), keel_w1 AS (INSERT INTO b ...) INSERT INTO c ...`.
    /// Leaves them empty. Elsewhere, and for more rows, flush() writes each buffer with its own statements.
    static void writeTogether(UnitOfWork& uow, const std::vector<DeferredInsert*>& buffers);
    static constexpr std::size_t kMaxRowsTogether = 16;

private:
    [[noreturn]] void wrongRow(std::size_t values) const;

    std::string table_;
    std::vector<std::string> columns_;
    std::vector<Field> fields_;  ///< the rows one after the other
};

}  // namespace keel::db
