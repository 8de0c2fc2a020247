#pragma once
// Keel's layered configuration. Later layers override earlier ones:
//   built-in defaults < SYSTEM_DIR/keel.properties < SYSTEM_DIR/conf.d/*.properties (in name order)
//   < --config FILE < KEEL_* environment variables < -D key=value (and command-line options such as --db)

#include <Poco/AutoPtr.h>
#include <Poco/Util/LayeredConfiguration.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace keel::config {

inline constexpr const char* kDefaultSystemDir = "/etc/keel";

/// Where the configuration comes from; the CLI and keeld fill this from their command lines.
struct Sources {
    std::string system_dir = kDefaultSystemDir;             ///< holds keel.properties and conf.d/
    std::optional<std::string> file;                        ///< --config FILE (must exist when given)
    std::map<std::string, std::string> environment;         ///< variable name -> value (only KEEL_* are used)
    std::vector<std::pair<std::string, std::string>> overrides;  ///< -D key=value, in command-line order
};

/// The loaded layers. Values are looked up through Poco's AbstractConfiguration interface.
using Configuration = Poco::AutoPtr<Poco::Util::LayeredConfiguration>;

/// Loads every layer. Throws UsageError when --config names a file that cannot be read.
Configuration load(const Sources& sources);

/// The process environment as a map (for Sources::environment).
std::map<std::string, std::string> processEnvironment();

/// Maps an environment variable name to a key: KEEL_DB_CONNECTION -> db.connection,
/// KEEL_LOG_LEVEL_DB -> log.level.db; "__" stands for a literal "_". Returns nullopt for non-KEEL_ names.
std::optional<std::string> keyForEnvironmentVariable(const std::string& name);

/// Splits "key=value" (a -D argument). Throws UsageError naming the argument when there is no key or '='.
std::pair<std::string, std::string> parseOverride(const std::string& argument);

/// Keys whose values are secrets: never printed, never logged.
bool isSecretKey(const std::string& key);

/// The built-in defaults (the lowest layer), also what `keel --help` documents.
std::vector<std::pair<std::string, std::string>> defaults();

}  // namespace keel::config
