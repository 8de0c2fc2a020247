#include "keel/kernel/error.h"

namespace keel {

std::string_view exitCodeName(ExitCode code) {
    switch (code) {
        case ExitCode::kOk: return "ok";
        case ExitCode::kUsage: return "usage";
        case ExitCode::kRejected: return "rejected";
        case ExitCode::kNotFound: return "not_found";
        case ExitCode::kConflict: return "conflict";
        case ExitCode::kInfrastructure: return "infrastructure";
    }
    return "unknown";
}

void Problem::raise() const {
    const std::string text = field.empty() ? message : field + ": " + message;
    switch (code) {
        case ExitCode::kUsage: throw UsageError(text);
        case ExitCode::kNotFound: throw NotFoundError(text);
        case ExitCode::kConflict: throw ConflictError(text);
        case ExitCode::kInfrastructure: throw InfrastructureError(text);
        case ExitCode::kOk:
        case ExitCode::kRejected: break;
    }
    throw RejectedError(text);
}

}  // namespace keel
