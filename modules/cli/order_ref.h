#pragma once
// An order named on the command line by its id or by CHANNEL/EXTERNAL_ID, for every command that takes one.

#include "services.h"

#include "keel/kernel/error.h"
#include "keel/kernel/id.h"

#include <string>

namespace keel::cli {

/// The order's id; throws NotFoundError (exit 3) saying both accepted forms when there is no such order.
inline std::string resolveOrderReference(Context& context, db::UnitOfWork& uow, const std::string& reference) {
    auto& o = services(context).orders;
    // A UUID never contains '/', but an external id may look like anything: the id form wins when it is one.
    if (const auto slash = reference.find('/'); slash != std::string::npos && !isUuid(reference)) {
        if (auto order = o.findByExternal(uow, reference.substr(0, slash), reference.substr(slash + 1)))
            return order->id;
    } else if (auto order = o.find(uow, reference)) {
        return order->id;
    }
    throw NotFoundError("no order '" + reference + "' (give its id or CHANNEL/EXTERNAL_ID)");
}

}  // namespace keel::cli
