#pragma once
// Logging for every Keel component through POCO's Logger hierarchy: one logger per component
// ("keel.db", "keel.server", ...), one channel for the process (console, file or syslog), and a level per
// component from the configuration:
//   log.channel = console | file | syslog     log.file = /var/log/keel/keeld.log
//   log.level = information                   log.level.<component> = debug   (e.g. log.level.db)

#include <Poco/Logger.h>
#include <Poco/Util/AbstractConfiguration.h>

#include <string>
#include <string_view>

namespace keel::logging {

/// Sets up the root channel and levels. `program` names the process in syslog and in file logs.
/// Throws InfrastructureError for an unknown channel or level, naming the key and the accepted values.
void configure(const Poco::Util::AbstractConfiguration& config, const std::string& program);

/// The logger of a component: get("db") is "keel.db".
Poco::Logger& get(std::string_view component);

/// Parses a level name ("debug", "information", "warning", ...); throws InfrastructureError naming `key`.
int parseLevel(const std::string& key, const std::string& value);

}  // namespace keel::logging
