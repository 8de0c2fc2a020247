// A separate process that races for stock: `keel_race_worker CONNECTION LOCATION_ID ITEM_ID...` reserves one
// unit at a time, cycling over the items, until no item has any left, then prints one line per item:
// "ITEM_ID RESERVED". Two of these racing against each other (and against threads) must never reserve more
// than there is.
#include "keel/db/database.h"
#include "keel/inventory/inventory.h"

#include <iostream>
#include <unistd.h>
#include <map>
#include <set>

int main(int argc, char** argv) {
    if (argc < 4) {
        std::cerr << "usage: keel_race_worker CONNECTION LOCATION_ID ITEM_ID...\n";
        return 1;
    }
    try {
        keel::db::DatabaseOptions options;
        keel::db::ConnectionOptions connection;
        connection.timeout_ms = 2000;
        options.spec = keel::db::parseConnectionString(argv[1], connection);
        options.retry_attempts = 50;
        keel::db::Database database(options);
        keel::inventory::Inventory inventory;
        const std::string location = argv[2];
        std::map<std::string, std::int64_t> reserved;
        std::set<std::string> exhausted;
        for (int i = 3; i < argc; ++i) reserved[argv[i]] = 0;
        while (exhausted.size() < reserved.size()) {
            for (auto& [item, count] : reserved) {
                if (exhausted.count(item) != 0) continue;
                keel::inventory::ReserveRequest request;
                request.item_id = item;
                request.location_id = location;
                request.quantity = 1;
                request.order_id = "race-" + std::to_string(::getpid());
                const auto result = database.run(
                    [&](keel::db::UnitOfWork& uow) { return inventory.reserve(uow, request); });
                if (result) {
                    ++count;
                } else {
                    exhausted.insert(item);
                }
            }
        }
        for (const auto& [item, count] : reserved) std::cout << item << " " << count << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "keel_race_worker: " << e.what() << "\n";
        return 5;
    }
}
