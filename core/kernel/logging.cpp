#include "keel/kernel/logging.h"

#include "keel/kernel/error.h"

#include <Poco/AutoPtr.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/Exception.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/PatternFormatter.h>
#include <Poco/SyslogChannel.h>

#include <algorithm>
#include <vector>

namespace keel::logging {

namespace {

constexpr const char* kRoot = "keel";

}  // namespace

int parseLevel(const std::string& key, const std::string& value) {
    try {
        return Poco::Logger::parseLevel(value);
    } catch (const Poco::InvalidArgumentException&) {
        throw InfrastructureError("configuration: " + key + " = '" + value +
                                  "' is not a log level (none, fatal, critical, error, warning, notice, "
                                  "information, debug, trace)");
    }
}

void configure(const Poco::Util::AbstractConfiguration& config, const std::string& program) {
    const std::string channel_name = config.getString("log.channel", "console");
    Poco::AutoPtr<Poco::Channel> sink;
    std::string pattern = "%Y-%m-%d %H:%M:%S.%i %q %s: %t";
    if (channel_name == "console") {
        sink = new Poco::ConsoleChannel;  // std::clog: stderr, so command output on stdout stays clean
    } else if (channel_name == "file") {
        const std::string path = config.getString("log.file", "/var/log/keel/" + program + ".log");
        Poco::AutoPtr<Poco::FileChannel> file(new Poco::FileChannel(path));
        file->setProperty("rotation", config.getString("log.rotation", "50 M"));
        file->setProperty("archive", "timestamp");
        file->setProperty("compress", "true");
        file->setProperty("purgeCount", config.getString("log.keep", "10"));
        file->setProperty("times", "utc");
        sink = file;
        pattern = "%Y-%m-%dT%H:%M:%S.%iZ %q [%P] %s: %t";
    } else if (channel_name == "syslog") {
        Poco::AutoPtr<Poco::SyslogChannel> syslog(new Poco::SyslogChannel(program, Poco::SyslogChannel::SYSLOG_PID,
                                                                         Poco::SyslogChannel::SYSLOG_DAEMON));
        sink = syslog;
        pattern = "%s: %t";  // syslog adds time, host and program
    } else {
        throw InfrastructureError("configuration: log.channel = '" + channel_name +
                                  "' is not one of console, file, syslog");
    }

    Poco::AutoPtr<Poco::PatternFormatter> formatter(new Poco::PatternFormatter(pattern));
    formatter->setProperty("times", "UTC");
    Poco::AutoPtr<Poco::FormattingChannel> formatting(new Poco::FormattingChannel(formatter, sink));

    const int level = parseLevel("log.level", config.getString("log.level", "information"));
    // POCO applies channels and levels to loggers that exist, and new loggers copy their parent's settings:
    // create "keel" and each configured component first, parents before children.
    Poco::Logger::root().setChannel(formatting);
    Poco::Logger::root().setLevel(level);
    Poco::Logger::get(kRoot);
    Poco::Logger::setChannel(kRoot, formatting);
    Poco::Logger::setLevel(kRoot, level);

    Poco::Util::AbstractConfiguration::Keys components;
    config.keys("log.level", components);
    std::sort(components.begin(), components.end());
    for (const auto& component : components) {
        const std::string key = "log.level." + component;
        const std::string name = std::string(kRoot) + "." + component;
        Poco::Logger::get(name);
        Poco::Logger::setLevel(name, parseLevel(key, config.getString(key)));
    }
}

Poco::Logger& get(std::string_view component) {
    return Poco::Logger::get(std::string(kRoot) + "." + std::string(component));
}

}  // namespace keel::logging
