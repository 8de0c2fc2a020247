#pragma once
// Keel's error model: exceptions for failures that abort a request or job, Result<T> for expected business
// outcomes that callers must look at. Both carry an ExitCode so the CLI and the REST API report them alike.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace keel {

/// Exit codes of the command-line contract (docs: README "Exit codes").
enum class ExitCode : int {
    kOk = 0,
    kUsage = 1,           ///< bad command line
    kRejected = 2,        ///< rejected input or business rule
    kNotFound = 3,        ///< a named entity does not exist
    kConflict = 4,        ///< the request conflicts with the current state
    kInfrastructure = 5,  ///< database, file system, network or configuration failure
};

/// Short stable name of an exit code ("usage", "rejected", ...), used in JSON error bodies.
std::string_view exitCodeName(ExitCode code);

/// Base of every exception Keel throws on purpose. The message says what, where, and what to do.
class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

class UsageError : public Error {
public:
    explicit UsageError(const std::string& message) : Error(ExitCode::kUsage, message) {}
};

class RejectedError : public Error {
public:
    explicit RejectedError(const std::string& message) : Error(ExitCode::kRejected, message) {}
};

class NotFoundError : public Error {
public:
    explicit NotFoundError(const std::string& message) : Error(ExitCode::kNotFound, message) {}
};

class ConflictError : public Error {
public:
    explicit ConflictError(const std::string& message) : Error(ExitCode::kConflict, message) {}
};

class InfrastructureError : public Error {
public:
    explicit InfrastructureError(const std::string& message) : Error(ExitCode::kInfrastructure, message) {}
};

/// An expected business outcome that is not success: what went wrong and, where it applies, which field.
struct Problem {
    ExitCode code = ExitCode::kRejected;
    std::string message;
    std::string field;  ///< JSON path or column of the offending input, empty when none applies

    /// Throws the Error subclass that matches `code`.
    [[noreturn]] void raise() const;
};

/// A value or a Problem. [[nodiscard]] so an ignored business outcome is a compiler warning.
template <typename T>
class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::move(value)) {}              // NOLINT: implicit on purpose
    Result(Problem problem) : state_(std::move(problem)) {}    // NOLINT: implicit on purpose

    bool ok() const noexcept { return std::holds_alternative<T>(state_); }
    explicit operator bool() const noexcept { return ok(); }

    /// The value; throws the matching Error when this holds a Problem.
    const T& value() const& {
        if (!ok()) std::get<Problem>(state_).raise();
        return std::get<T>(state_);
    }
    T&& value() && {
        if (!ok()) std::get<Problem>(state_).raise();
        return std::get<T>(std::move(state_));
    }

    /// The Problem; only valid when !ok().
    const Problem& problem() const { return std::get<Problem>(state_); }

private:
    std::variant<T, Problem> state_;
};

/// Builds a Problem in one expression: `return reject("quantity must be positive", "lines[0].quantity");`
inline Problem reject(std::string message, std::string field = {}) {
    return Problem{ExitCode::kRejected, std::move(message), std::move(field)};
}

}  // namespace keel
