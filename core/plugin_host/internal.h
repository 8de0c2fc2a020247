#pragma once
// The host's private state, shared by plugin_host.cpp (loading, breaker) and host_api.cpp (keel_host_api).

#include "keel/plugin_abi.h"
#include "keel/plugin_host/plugin_host.h"

#include <boost/dll/shared_library.hpp>

#include <Poco/Logger.h>

#include <map>
#include <mutex>

namespace keel::plugin_host::detail {

/// The one place that knows how a keel_buffer is filled: the host's own buffers are std::string sinks, and a
/// plugin's buffers are filled through their assign callback. If the ABI grows plugin-owned buffers, only this
/// changes.
class StringSink {
public:
    keel_buffer* buffer() { return &buffer_; }
    const std::string& text() const { return text_; }

private:
    static void assign(void* opaque, const char* data, std::uint64_t size) {
        static_cast<std::string*>(opaque)->assign(data, static_cast<std::size_t>(size));
    }
    std::string text_;
    keel_buffer buffer_{&text_, &StringSink::assign};
};

inline void put(keel_buffer* out, std::string_view text) {
    if (out != nullptr && out->assign != nullptr) out->assign(out->opaque, text.data(), text.size());
}

inline std::string_view view(keel_str s) {
    return s.data == nullptr ? std::string_view() : std::string_view(s.data, static_cast<std::size_t>(s.size));
}

struct LoadedPlugin {
    Manifest manifest;
    std::string manifest_path;
    boost::dll::shared_library library;
    const keel_plugin_api* api = nullptr;
};

struct Impl;

struct Instance {
    Impl* host = nullptr;
    std::string name;
    std::string plugin_name;
    LoadedPlugin* plugin = nullptr;  ///< null when the plugin is missing or refused
    std::map<std::string, std::string> config;
    std::map<std::string, std::string> secrets;  ///< secret name -> reference (file:/path, env:VAR)
    keel_host_api api{};
    keel_plugin_instance* handle = nullptr;
    Poco::Logger* logger = nullptr;

    // Guarded by Impl::mutex.
    bool failed = false;
    std::string last_error;
    std::int64_t calls = 0;
    std::int64_t failures = 0;
    int consecutive_failures = 0;
    bool open = false;            ///< breaker open (instance suspended)
    std::int64_t open_until = 0;  ///< epoch micros; after it one trial call is let through
    bool trial_in_flight = false;

    /// Serializes calls into the instance; recursive because a host function called by the instance may call it
    /// again on the same thread (order_intake quoting tax through the same plugin).
    std::recursive_mutex call_mutex;
};

struct Impl {
    HostSettings settings;
    HostServices services;
    const Clock& clock;
    mutable std::mutex mutex;
    std::vector<Refusal> refused;
    // Declared before the instances so they are destroyed after them; ~PluginHost also tears down explicitly.
    std::vector<std::unique_ptr<LoadedPlugin>> plugins;
    std::vector<std::unique_ptr<Instance>> instances;
    std::vector<IntegrationException> pending_exceptions;
    std::vector<ScheduledTask> tasks;
    bool loaded = false;

    Impl(HostSettings s, HostServices v, const Clock& c) : settings(std::move(s)), services(v), clock(c) {}

    void recordException(const std::string& source, const std::string& code, const std::string& message,
                         const std::string& reference);
    void schedule(const std::string& instance, const std::string& task, std::int64_t interval_seconds);
};

/// Fills the keel_host_api of an instance (host_api.cpp).
void fillHostApi(Instance& instance);

}  // namespace keel::plugin_host::detail
