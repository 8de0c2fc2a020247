#include "keel/kernel/config.h"

#include "keel/kernel/error.h"

#include <Poco/Exception.h>
#include <Poco/Util/MapConfiguration.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <unistd.h>

extern char** environ;

namespace keel::config {

namespace {

// Priorities of Poco's LayeredConfiguration: a lower number wins.
constexpr int kPriorityOverrides = 0;
constexpr int kPriorityEnvironment = 10;
constexpr int kPriorityFile = 20;
constexpr int kPriorityConfD = 30;  // conf.d files take 30 + n, later files lower n
constexpr int kPrioritySystem = 1000;
constexpr int kPriorityDefaults = 2000;

Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> readProperties(const std::filesystem::path& path) {
    try {
        return Poco::AutoPtr<Poco::Util::PropertyFileConfiguration>(new Poco::Util::PropertyFileConfiguration(path.string()));
    } catch (const Poco::Exception& e) {
        throw InfrastructureError("configuration: cannot read " + path.string() + ": " + e.displayText());
    }
}

bool isReadableFile(const std::filesystem::path& path) {
    std::error_code error;
    return std::filesystem::is_regular_file(path, error) && ::access(path.c_str(), R_OK) == 0;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> defaults() {
    return {
        {"db.connection", "sqlite:/var/lib/keel/keel.db"},
        {"db.pool.size", "8"},
        {"db.pool.wait", "5000"},
        {"db.retry.attempts", "8"},
        {"db.retry.backoff", "10"},
        {"db.timeout", "5000"},
        {"server.address", "127.0.0.1"},
        {"server.port", "8080"},
        {"server.threads", "16"},
        {"plugins.directory", "/usr/lib/keel/plugins"},
        {"inventory.sweep.interval", "60"},
        {"log.level", "information"},
        {"log.channel", "console"},
        {"log.file", "/var/log/keel/keeld.log"},
    };
}

Configuration load(const Sources& sources) {
    Configuration layered(new Poco::Util::LayeredConfiguration);

    Poco::AutoPtr<Poco::Util::MapConfiguration> built_in(new Poco::Util::MapConfiguration);
    for (const auto& [key, value] : defaults()) built_in->setString(key, value);
    layered->add(built_in, "defaults", kPriorityDefaults, false);

    const std::filesystem::path system_dir(sources.system_dir);
    const std::filesystem::path system_file = system_dir / "keel.properties";
    if (isReadableFile(system_file)) layered->add(readProperties(system_file), system_file, kPrioritySystem, false);

    std::error_code error;
    const std::filesystem::path conf_d = system_dir / "conf.d";
    if (std::filesystem::is_directory(conf_d, error)) {
        std::vector<std::filesystem::path> files;
        for (const auto& entry : std::filesystem::directory_iterator(conf_d, error)) {
            const std::string name = entry.path().filename().string();
            if (name.size() > 11 && name.ends_with(".properties") && isReadableFile(entry.path())) files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        // Later names override earlier ones: give them a lower (stronger) priority, all weaker than --config.
        int priority = kPriorityConfD + static_cast<int>(files.size());
        for (const auto& path : files) layered->add(readProperties(path), path, priority--, false);
    }

    if (sources.file) {
        if (!isReadableFile(*sources.file)) {
            throw UsageError("--config " + *sources.file + ": no such readable file");
        }
        layered->add(readProperties(*sources.file), *sources.file, kPriorityFile, false);
    }

    Poco::AutoPtr<Poco::Util::MapConfiguration> environment(new Poco::Util::MapConfiguration);
    for (const auto& [name, value] : sources.environment) {
        if (auto key = keyForEnvironmentVariable(name)) environment->setString(*key, value);
    }
    layered->add(environment, "environment", kPriorityEnvironment, false);

    Poco::AutoPtr<Poco::Util::MapConfiguration> overrides(new Poco::Util::MapConfiguration);
    for (const auto& [key, value] : sources.overrides) overrides->setString(key, value);
    layered->add(overrides, "command line", kPriorityOverrides, true);

    return layered;
}

std::map<std::string, std::string> processEnvironment() {
    std::map<std::string, std::string> result;
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
        const std::string text(*entry);
        const auto eq = text.find('=');
        if (eq != std::string::npos) result.emplace(text.substr(0, eq), text.substr(eq + 1));
    }
    return result;
}

std::optional<std::string> keyForEnvironmentVariable(const std::string& name) {
    static constexpr std::string_view kPrefix = "KEEL_";
    if (name.size() <= kPrefix.size() || !name.starts_with(kPrefix)) return std::nullopt;
    std::string key;
    for (std::size_t i = kPrefix.size(); i < name.size(); ++i) {
        const char c = name[i];
        if (c == '_') {
            if (i + 1 < name.size() && name[i + 1] == '_') {
                key.push_back('_');
                ++i;
            } else {
                key.push_back('.');
            }
        } else {
            key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
    }
    return key;
}

std::pair<std::string, std::string> parseOverride(const std::string& argument) {
    const auto eq = argument.find('=');
    if (eq == std::string::npos || eq == 0) {
        throw UsageError("-D " + argument + ": expected key=value, e.g. -D server.port=8081");
    }
    return {argument.substr(0, eq), argument.substr(eq + 1)};
}

bool isSecretKey(const std::string& key) {
    static constexpr std::string_view kMarkers[] = {"password", "secret", "token", "private_key"};
    return std::any_of(std::begin(kMarkers), std::end(kMarkers),
                       [&](std::string_view marker) { return key.find(marker) != std::string::npos; });
}

}  // namespace keel::config
