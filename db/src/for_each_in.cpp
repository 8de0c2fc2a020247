#include "keel/db/for_each_in.h"

#include <algorithm>

namespace keel::db {

void forEachIn(UnitOfWork& uow, const std::string& before, const std::string& after,
               const std::vector<std::string>& values, const std::function<void(const Statement&)>& on_row,
               const std::vector<std::string>& leading) {
    // Power-of-two chunk sizes up to 256: a handful of distinct statements per query are ever prepared.
    constexpr std::size_t kMaxChunk = 256;
    if (values.empty()) return;
    std::size_t chunk = 1;
    while (chunk < values.size() && chunk < kMaxChunk) chunk *= 2;
    std::string markers;
    for (std::size_t i = 0; i < chunk; ++i) markers += i == 0 ? "?" : ", ?";
    Statement& statement = uow.statement(before + "(" + markers + ")" + after);
    for (std::size_t start = 0; start < values.size(); start += chunk) {
        const std::size_t end = std::min(values.size(), start + chunk);
        for (const auto& value : leading) statement.bind(value);
        for (std::size_t i = start; i < start + chunk; ++i) statement.bind(values[std::min(i, end - 1)]);
        statement.execute();
        while (statement.next()) on_row(statement);
    }
}

}  // namespace keel::db
