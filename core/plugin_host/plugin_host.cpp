#include "keel/plugin_host/plugin_host.h"

#include "keel/plugin.hpp"

#include "internal.h"
#include "keel/db/database.h"
#include "keel/kernel/hash.h"
#include "keel/kernel/id.h"
#include "keel/kernel/logging.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Util/PropertyFileConfiguration.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace keel::plugin_host {

namespace fs = std::filesystem;
using detail::Impl;
using detail::Instance;
using detail::LoadedPlugin;

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

struct CapabilityName {
    Capability capability;
    std::string_view name;
    std::uint32_t bit;
};
constexpr CapabilityName kCapabilities[] = {
    {Capability::kMarketplace, "marketplace", KEEL_CAP_MARKETPLACE},
    {Capability::kFulfillment, "fulfillment", KEEL_CAP_FULFILLMENT},
    {Capability::kTax, "tax", KEEL_CAP_TAX},
    {Capability::kEdi, "edi", KEEL_CAP_EDI},
    {Capability::kTransport, "transport", KEEL_CAP_TRANSPORT},
    {Capability::kSubscriber, "subscriber", KEEL_CAP_SUBSCRIBER},
};

std::uint32_t bitOf(Capability capability) {
    for (const auto& c : kCapabilities) {
        if (c.capability == capability) return c.bit;
    }
    return 0;
}

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InfrastructureError("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The operation's function in the plugin's table, or null when the table (of an older minor) lacks it.
template <typename Table>
keel_operation member(const Table* table, keel_operation Table::*field, std::size_t offset) {
    if (table == nullptr || table->size < offset + sizeof(keel_operation)) return nullptr;
    return table->*field;
}

keel_operation operationFunction(const keel_plugin_api& api, Operation operation) {
#define KEEL_OP(table, type, field) member<type>(api.table, &type::field, offsetof(type, field))
    switch (operation) {
        case Operation::kMarketplacePullOrders:
            return KEEL_OP(marketplace, keel_marketplace_v1, pull_orders);
        case Operation::kMarketplaceAcknowledge:
            return KEEL_OP(marketplace, keel_marketplace_v1, acknowledge);
        case Operation::kMarketplacePushInventory:
            return KEEL_OP(marketplace, keel_marketplace_v1, push_inventory);
        case Operation::kMarketplacePushTracking:
            return KEEL_OP(marketplace, keel_marketplace_v1, push_tracking);
        case Operation::kMarketplacePullCancellations:
            return KEEL_OP(marketplace, keel_marketplace_v1, pull_cancellations);
        case Operation::kFulfillmentSendShipmentRequest:
            return KEEL_OP(fulfillment, keel_fulfillment_v1, send_shipment_request);
        case Operation::kFulfillmentReceiveConfirmations:
            return KEEL_OP(fulfillment, keel_fulfillment_v1, receive_confirmations);
        case Operation::kFulfillmentReceiveInventorySnapshot:
            return KEEL_OP(fulfillment, keel_fulfillment_v1, receive_inventory_snapshot);
        case Operation::kTaxQuote:
            return KEEL_OP(tax, keel_tax_v1, quote);
        case Operation::kTaxCommit:
            return KEEL_OP(tax, keel_tax_v1, commit);
        case Operation::kTaxVoid:
            return KEEL_OP(tax, keel_tax_v1, void_);
        case Operation::kEdiToDocuments:
            return KEEL_OP(edi, keel_edi_v1, to_documents);
        case Operation::kEdiFromDocument:
            return KEEL_OP(edi, keel_edi_v1, from_document);
        case Operation::kTransportSend:
            return KEEL_OP(transport, keel_transport_v1, send);
        case Operation::kTransportReceive:
            return KEEL_OP(transport, keel_transport_v1, receive);
        case Operation::kSubscriberOnEvent:
            return KEEL_OP(subscriber, keel_subscriber_v1, on_event);
    }
#undef KEEL_OP
    return nullptr;
}

std::string statusName(keel_status status) {
    const std::string name = keel::plugin::statusName(status);  // the SDK's names, so both sides say the same
    return name == "unknown status" ? "status " + std::to_string(status) : name;
}

ExitCode exitCodeOf(keel_status status) {
    switch (status) {
        case KEEL_E_INVALID:
            return ExitCode::kRejected;
        case KEEL_E_NOT_FOUND:
            return ExitCode::kNotFound;
        case KEEL_E_CONFLICT:
            return ExitCode::kConflict;
        case KEEL_E_UNSUPPORTED:
            return ExitCode::kUsage;
        default:
            return ExitCode::kInfrastructure;
    }
}

bool isLowerHex64(const std::string& text) {
    return text.size() == 64 && std::all_of(text.begin(), text.end(),
                                            [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ------------------------------------------------------------------------------------------- signatures

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The non-empty parts of a colon-separated list of directories (plugins.directory, plugins.trusted_keys).
std::vector<std::string> directoryList(const std::string& list) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto colon = list.find(':', start);
        std::string part = list.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (!part.empty()) parts.push_back(std::move(part));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return parts;
}

// Every public key of the PEM files in the directories of `directories` (colon-separated: the packaged keys in
// /usr/share/keel/plugin-keys and the operator's own); unreadable or non-key files are skipped with a warning
// because one bad file must not disable the others.
std::vector<Pkey> trustedKeys(const std::string& directories) {
    std::vector<Pkey> keys;
    std::vector<fs::path> files;
    for (const auto& directory : directoryList(directories)) {
        std::error_code ec;
        if (!fs::is_directory(directory, ec)) continue;
        std::vector<fs::path> in_directory;
        for (const auto& entry : fs::directory_iterator(directory, ec)) {
            if (entry.is_regular_file()) in_directory.push_back(entry.path());
        }
        std::sort(in_directory.begin(), in_directory.end());
        files.insert(files.end(), in_directory.begin(), in_directory.end());
    }
    for (const auto& file : files) {
        const std::string pem = readFile(file);
        BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
        bool any = false;
        while (EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr)) {
            keys.emplace_back(key);
            any = true;
        }
        BIO_free(bio);
        if (!any)
            logging::get("plugin_host").warning("plugins.trusted_keys: " + file.string() + " holds no PEM public key");
    }
    return keys;
}

bool verifiedBy(const EVP_PKEY* key, const std::string& data, const std::string& signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (ctx == nullptr) return false;
    bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, const_cast<EVP_PKEY*>(key)) == 1 &&
              EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

// ---------------------------------------------------------------------------------------- instances

void flatten(const Poco::Util::AbstractConfiguration& config, const std::string& prefix,
             std::map<std::string, std::string>& out) {
    Poco::Util::AbstractConfiguration::Keys keys;
    config.keys(prefix, keys);
    for (const auto& key : keys) {
        const std::string full = prefix.empty() ? key : prefix + "." + key;
        if (config.hasProperty(full)) out[full] = config.getRawString(full);
        flatten(config, full, out);
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------- names

std::string_view toString(Capability capability) {
    for (const auto& c : kCapabilities) {
        if (c.capability == capability) return c.name;
    }
    return "unknown";
}

std::optional<Capability> capabilityFromName(std::string_view name) {
    for (const auto& c : kCapabilities) {
        if (c.name == name) return c.capability;
    }
    return std::nullopt;
}

std::string_view toString(Operation operation) {
    switch (operation) {
        case Operation::kMarketplacePullOrders:
            return "marketplace.pull_orders";
        case Operation::kMarketplaceAcknowledge:
            return "marketplace.acknowledge";
        case Operation::kMarketplacePushInventory:
            return "marketplace.push_inventory";
        case Operation::kMarketplacePushTracking:
            return "marketplace.push_tracking";
        case Operation::kMarketplacePullCancellations:
            return "marketplace.pull_cancellations";
        case Operation::kFulfillmentSendShipmentRequest:
            return "fulfillment.send_shipment_request";
        case Operation::kFulfillmentReceiveConfirmations:
            return "fulfillment.receive_confirmations";
        case Operation::kFulfillmentReceiveInventorySnapshot:
            return "fulfillment.receive_inventory_snapshot";
        case Operation::kTaxQuote:
            return "tax.quote";
        case Operation::kTaxCommit:
            return "tax.commit";
        case Operation::kTaxVoid:
            return "tax.void";
        case Operation::kEdiToDocuments:
            return "edi.to_documents";
        case Operation::kEdiFromDocument:
            return "edi.from_document";
        case Operation::kTransportSend:
            return "transport.send";
        case Operation::kTransportReceive:
            return "transport.receive";
        case Operation::kSubscriberOnEvent:
            return "subscriber.on_event";
    }
    return "unknown";
}

Capability capabilityOf(Operation operation) {
    switch (operation) {
        case Operation::kMarketplacePullOrders:
        case Operation::kMarketplaceAcknowledge:
        case Operation::kMarketplacePushInventory:
        case Operation::kMarketplacePushTracking:
        case Operation::kMarketplacePullCancellations:
            return Capability::kMarketplace;
        case Operation::kFulfillmentSendShipmentRequest:
        case Operation::kFulfillmentReceiveConfirmations:
        case Operation::kFulfillmentReceiveInventorySnapshot:
            return Capability::kFulfillment;
        case Operation::kTaxQuote:
        case Operation::kTaxCommit:
        case Operation::kTaxVoid:
            return Capability::kTax;
        case Operation::kEdiToDocuments:
        case Operation::kEdiFromDocument:
            return Capability::kEdi;
        case Operation::kTransportSend:
        case Operation::kTransportReceive:
            return Capability::kTransport;
        case Operation::kSubscriberOnEvent:
            return Capability::kSubscriber;
    }
    return Capability::kSubscriber;
}

std::string_view toString(InstanceState state) {
    switch (state) {
        case InstanceState::kActive:
            return "active";
        case InstanceState::kSuspended:
            return "suspended";
        case InstanceState::kFailed:
            return "failed";
    }
    return "failed";
}

// ------------------------------------------------------------------------------------------- manifest

Result<Manifest> parseManifest(std::string_view json, const std::string& path) {
    Poco::JSON::Object::Ptr object;
    try {
        object = Poco::JSON::Parser().parse(std::string(json)).extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        return reject(path + ": not a JSON object: " + e.displayText());
    } catch (const std::exception& e) {
        return reject(path + ": not a JSON object: " + e.what());
    }
    if (object.isNull()) return reject(path + ": not a JSON object");
    Manifest manifest;
    const auto text = [&](const char* field, std::string& out) -> std::optional<Problem> {
        if (!object->has(field) || !object->get(field).isString() || object->getValue<std::string>(field).empty()) {
            return reject(path + ": \"" + field + "\" is missing or not a non-empty string", field);
        }
        out = object->getValue<std::string>(field);
        return std::nullopt;
    };
    const auto number = [&](const char* field, int& out) -> std::optional<Problem> {
        if (!object->has(field) || !object->get(field).isInteger()) {
            return reject(path + ": \"" + field + "\" is missing or not an integer", field);
        }
        const auto value = object->getValue<std::int64_t>(field);
        if (value < 0 || value > 65535) return reject(path + ": \"" + field + "\" is out of range", field);
        out = static_cast<int>(value);
        return std::nullopt;
    };
    if (auto p = text("name", manifest.name)) return *p;
    if (auto p = text("version", manifest.version)) return *p;
    if (auto p = number("abi_major", manifest.abi_major)) return *p;
    if (auto p = number("abi_minor", manifest.abi_minor)) return *p;
    if (auto p = text("library", manifest.library)) return *p;
    if (auto p = text("sha256", manifest.sha256)) return *p;
    if (manifest.library.find('/') != std::string::npos) {
        return reject(path + ": \"library\" must be a file name next to the manifest, not a path", "library");
    }
    if (!isLowerHex64(manifest.sha256)) {
        return reject(path + ": \"sha256\" must be 64 lowercase hex digits", "sha256");
    }
    const auto capabilities = object->getArray("capabilities");
    if (capabilities.isNull() || capabilities->size() == 0) {
        return reject(path + ": \"capabilities\" is missing or empty", "capabilities");
    }
    for (std::size_t i = 0; i < capabilities->size(); ++i) {
        const auto value = capabilities->get(static_cast<unsigned>(i));
        const std::string where = "capabilities[" + std::to_string(i) + "]";
        if (!value.isString()) return reject(path + ": " + where + " is not a string", where);
        const std::string name = value.convert<std::string>();
        if (!capabilityFromName(name)) {
            return reject(path + ": " + where + ": unknown capability \"" + name +
                              "\" (known: marketplace, fulfillment, tax, edi, transport, subscriber)",
                          where);
        }
        manifest.capabilities.push_back(name);
    }
    return manifest;
}

// ------------------------------------------------------------------------------------------- settings

HostSettings HostSettings::fromConfig(const Poco::Util::AbstractConfiguration& config) {
    HostSettings settings;
    for (auto& directory : directoryList(config.getString("plugins.directory", ""))) {
        settings.directories.push_back(std::move(directory));
    }
    settings.instances_directory = config.getString("plugins.instances", settings.instances_directory);
    settings.trusted_keys =
        config.getString("plugins.trusted_keys", "/usr/share/keel/plugin-keys:/etc/keel/plugin-keys");
    try {
        settings.allow_unsigned = config.getBool("plugins.allow_unsigned", false);
    } catch (const Poco::Exception&) {
        throw InfrastructureError("configuration: plugins.allow_unsigned = '" +
                                  config.getString("plugins.allow_unsigned") + "': use true or false");
    }
    const auto positive = [&](const std::string& key, std::int64_t otherwise, std::int64_t max) {
        if (!config.has(key)) return otherwise;
        const std::string text = config.getString(key);
        std::int64_t value = 0;
        try {
            std::size_t used = 0;
            value = std::stoll(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
        } catch (const std::exception&) {
            throw InfrastructureError("configuration: " + key + " = '" + text + "': not a whole number");
        }
        if (value < 1 || value > max) {
            throw InfrastructureError("configuration: " + key + " = '" + text + "': use 1.." + std::to_string(max));
        }
        return value;
    };
    settings.breaker_failures = static_cast<int>(positive("plugins.breaker.failures", 5, 1000));
    settings.breaker_cooldown_seconds = positive("plugins.breaker.cooldown", 60, 86400);
    return settings;
}

// ----------------------------------------------------------------------------------------- exceptions

std::vector<IntegrationException> openExceptions(db::Database& database, std::size_t limit) {
    return database.run([&](db::UnitOfWork& uow) {
        std::vector<IntegrationException> out;
        db::Statement& s = uow.statement(
            "SELECT id, source, code, message, reference, created_at FROM integration_exception "
            "WHERE resolved_at IS NULL ORDER BY created_at DESC, id DESC");
        s.execute();
        while (s.next() && out.size() < limit) {
            IntegrationException e;
            e.id = s.getString(0);
            e.source = s.getString(1);
            e.code = s.getString(2);
            e.message = s.getString(3);
            e.reference = s.getString(4);
            e.created_at = s.getInt64(5);
            out.push_back(std::move(e));
        }
        return out;
    });
}

namespace detail {

void Impl::recordException(const std::string& source, const std::string& code, const std::string& message,
                           const std::string& reference) {
    IntegrationException e;
    e.id = IdGenerator::global().next();
    e.source = source.substr(0, 128);
    e.code = code.substr(0, 64);
    e.message = message;
    e.reference = reference.substr(0, 128);
    e.created_at = clock.nowMicros();
    logging::get("plugin_host").error(e.source + ": " + e.code + ": " + e.message);
    std::lock_guard lock(mutex);
    pending_exceptions.push_back(std::move(e));
}

void Impl::schedule(const std::string& instance, const std::string& task, std::int64_t interval_seconds) {
    std::lock_guard lock(mutex);
    const std::int64_t next = clock.nowMicros() + interval_seconds * kMicrosPerSecond;
    for (auto& t : tasks) {
        if (t.instance == instance && t.task == task) {
            t.interval_seconds = interval_seconds;
            t.next_due = next;
            return;
        }
    }
    tasks.push_back(ScheduledTask{instance, task, interval_seconds, next});
}

}  // namespace detail

// ----------------------------------------------------------------------------------------------- host

PluginHost::PluginHost(HostSettings settings, HostServices services, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(settings), services, clock)) {}

PluginHost::~PluginHost() {
    // Instances first, while the code of their plugin is still mapped; the libraries go with impl_ afterwards.
    for (auto& instance : impl_->instances) {
        if (instance->handle != nullptr && instance->plugin != nullptr && instance->plugin->api->destroy != nullptr) {
            instance->plugin->api->destroy(instance->handle);
            instance->handle = nullptr;
        }
    }
    impl_->instances.clear();
    impl_->plugins.clear();
}

void PluginHost::setServices(HostServices services) {
    std::lock_guard lock(impl_->mutex);
    impl_->services = services;
}

namespace {

// The checks of one manifest, in the documented order; returns the refusal reason or the loaded plugin.
std::variant<std::string, std::unique_ptr<LoadedPlugin>> check(const fs::path& manifest_path,
                                                               const HostSettings& settings,
                                                               const std::vector<Pkey>& keys) {
    const std::string where = manifest_path.string();
    std::string text;
    try {
        text = readFile(manifest_path);
    } catch (const Error& e) {
        return std::string(e.what());
    }
    auto parsed = parseManifest(text, where);
    if (!parsed) return parsed.problem().message;
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->manifest = parsed.value();
    plugin->manifest_path = where;
    const Manifest& m = plugin->manifest;
    const std::string versions = "plugin ABI " + std::to_string(m.abi_major) + "." + std::to_string(m.abi_minor) +
                                 ", host ABI " + std::to_string(KEEL_PLUGIN_ABI_MAJOR) + "." +
                                 std::to_string(KEEL_PLUGIN_ABI_MINOR);
    if (m.abi_major != KEEL_PLUGIN_ABI_MAJOR) {
        return where + ": ABI major differs (" + versions + "): rebuild the plugin against this Keel's SDK";
    }
    if (m.abi_minor > KEEL_PLUGIN_ABI_MINOR) {
        return where + ": the plugin needs a newer host (" + versions + "): upgrade Keel or use an older plugin";
    }
    const fs::path library = manifest_path.parent_path() / m.library;
    std::error_code ec;
    if (!fs::is_regular_file(library, ec))
        return library.string() + ": library file not found (named by " + where + ")";
    std::string bytes;
    try {
        bytes = readFile(library);
    } catch (const Error& e) {
        return std::string(e.what());
    }
    const std::string digest = sha256Hex(bytes);
    if (digest != m.sha256) {
        return library.string() + ": SHA-256 " + digest + " differs from the manifest's " + m.sha256 + " (" + where +
               "): the library was changed or replaced after its manifest was written";
    }
    const fs::path signature_path = where + ".sig";
    if (fs::exists(signature_path, ec)) {
        std::string signature;
        try {
            signature = readFile(signature_path);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        const bool trusted =
            std::any_of(keys.begin(), keys.end(), [&](const Pkey& k) { return verifiedBy(k.get(), text, signature); });
        if (!trusted) {
            return signature_path.string() + ": signature does not verify with any key in plugins.trusted_keys (" +
                   (settings.trusted_keys.empty() ? std::string("not set") : settings.trusted_keys) +
                   "): the manifest was altered or signed by an untrusted key";
        }
    } else if (!settings.allow_unsigned) {
        return where + ": unsigned (no " + signature_path.filename().string() +
               "); sign it or set plugins.allow_unsigned = true";
    }
    boost::dll::fs::error_code load_error;
    dlerror();  // clear, so what we read below is this load's reason
    plugin->library.load(boost::dll::fs::path(library.string()),
                         boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
    if (load_error || !plugin->library.is_loaded()) {
        const char* reason = dlerror();
        return library.string() +
               ": cannot be loaded: " + (reason != nullptr ? std::string(reason) : load_error.message());
    }
    if (!plugin->library.has(KEEL_PLUGIN_ENTRY_NAME)) {
        return library.string() + ": does not export the entry symbol " KEEL_PLUGIN_ENTRY_NAME;
    }
    const auto entry = plugin->library.get<const keel_plugin_api*()>(KEEL_PLUGIN_ENTRY_NAME);
    const keel_plugin_api* api = entry();
    if (api == nullptr) return library.string() + ": " KEEL_PLUGIN_ENTRY_NAME " returned NULL";
    if (api->size < sizeof(keel_plugin_api)) {
        return library.string() + ": keel_plugin_api is " + std::to_string(api->size) + " bytes, expected at least " +
               std::to_string(sizeof(keel_plugin_api));
    }
    if (api->abi_major != m.abi_major || api->abi_minor != m.abi_minor) {
        return library.string() + ": the library says ABI " + std::to_string(api->abi_major) + "." +
               std::to_string(api->abi_minor) + ", its manifest " + std::to_string(m.abi_major) + "." +
               std::to_string(m.abi_minor);
    }
    if (api->abi_minor > KEEL_PLUGIN_ABI_MINOR || api->abi_major != KEEL_PLUGIN_ABI_MAJOR) {
        return library.string() + ": " + versions;
    }
    if (api->name == nullptr || m.name != api->name) {
        return library.string() + ": the library's name \"" + (api->name ? api->name : "") +
               "\" differs from its manifest's \"" + m.name + "\"";
    }
    std::uint32_t bits = 0;
    for (const auto& name : m.capabilities) bits |= bitOf(*capabilityFromName(name));
    if (api->capabilities != bits) {
        return library.string() + ": the library's capability bits (" + std::to_string(api->capabilities) +
               ") differ from its manifest's (" + std::to_string(bits) + ")";
    }
    const std::pair<std::uint32_t, const void*> tables[] = {{KEEL_CAP_MARKETPLACE, api->marketplace},
                                                            {KEEL_CAP_FULFILLMENT, api->fulfillment},
                                                            {KEEL_CAP_TAX, api->tax},
                                                            {KEEL_CAP_EDI, api->edi},
                                                            {KEEL_CAP_TRANSPORT, api->transport},
                                                            {KEEL_CAP_SUBSCRIBER, api->subscriber}};
    for (const auto& [bit, table] : tables) {
        if (((bits & bit) != 0) != (table != nullptr)) {
            return library.string() + ": the table of capability bit " + std::to_string(bit) +
                   ((bits & bit) != 0 ? " is NULL" : " is set without the capability");
        }
    }
    if (api->create == nullptr || api->destroy == nullptr) return library.string() + ": create or destroy is NULL";
    plugin->api = api;
    return plugin;
}

}  // namespace

void PluginHost::load() {
    Impl& h = *impl_;
    if (h.loaded) throw InfrastructureError("PluginHost::load called twice");
    h.loaded = true;
    auto& log = logging::get("plugin_host");
    const auto keys = trustedKeys(h.settings.trusted_keys);
    std::map<std::string, LoadedPlugin*> by_name;
    for (const auto& directory : h.settings.directories) {
        std::error_code ec;
        if (!fs::exists(directory, ec)) {
            log.warning("plugins.directory: " + directory + " does not exist");
            continue;
        }
        std::vector<fs::path> manifests;
        fs::directory_iterator it(directory, ec);
        if (ec) throw InfrastructureError("plugins.directory: cannot read " + directory + ": " + ec.message());
        for (const auto& entry : it) {
            const std::string file = entry.path().filename().string();
            if (file.size() > 17 && file.ends_with(".keel-plugin.json")) manifests.push_back(entry.path());
        }
        std::sort(manifests.begin(), manifests.end());
        for (const auto& path : manifests) {
            auto outcome = check(path, h.settings, keys);
            if (auto* reason = std::get_if<std::string>(&outcome)) {
                log.error("plugin refused: " + *reason);
                h.refused.push_back(Refusal{path.string(), *reason});
                continue;
            }
            auto plugin = std::move(std::get<std::unique_ptr<LoadedPlugin>>(outcome));
            const auto seen = by_name.find(plugin->manifest.name);
            if (seen != by_name.end()) {
                const std::string reason = path.string() + ": a plugin named \"" + plugin->manifest.name +
                                           "\" is already loaded from " + seen->second->manifest_path;
                log.error("plugin refused: " + reason);
                h.refused.push_back(Refusal{path.string(), reason});
                continue;
            }
            log.information("plugin " + plugin->manifest.name + " " + plugin->manifest.version + " loaded from " +
                            path.string());
            by_name[plugin->manifest.name] = plugin.get();
            h.plugins.push_back(std::move(plugin));
        }
    }

    std::error_code ec;
    const std::string& dir = h.settings.instances_directory;
    if (dir.empty() || !fs::exists(dir, ec)) return;
    fs::directory_iterator it(dir, ec);
    if (ec) throw InfrastructureError("plugins.instances: cannot read " + dir + ": " + ec.message());
    std::vector<fs::path> files;
    for (const auto& entry : it) {
        if (entry.path().extension() == ".properties") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
        auto instance = std::make_unique<Instance>();
        instance->host = &h;
        instance->name = file.stem().string();
        instance->logger = &Poco::Logger::get("plugin." + instance->name);
        const auto fail = [&](const std::string& reason) {
            instance->failed = true;
            instance->last_error = reason;
            log.error("plugin instance " + instance->name + " (" + file.string() + "): " + reason);
        };
        try {
            Poco::AutoPtr<Poco::Util::PropertyFileConfiguration> config(
                new Poco::Util::PropertyFileConfiguration(file.string()));
            std::map<std::string, std::string> values;
            flatten(*config, "", values);
            for (auto& [key, value] : values) {
                if (key == "plugin") {
                    instance->plugin_name = value;
                } else if (key.starts_with("secret.")) {
                    instance->secrets[key.substr(7)] = value;
                } else {
                    instance->config[key] = value;
                }
            }
        } catch (const Poco::Exception& e) {
            fail(file.string() + ": cannot be read: " + e.displayText());
            h.instances.push_back(std::move(instance));
            continue;
        }
        if (instance->plugin_name.empty()) {
            fail(file.string() + ": no \"plugin = NAME\" line says which plugin this instance runs");
        } else if (const auto found = by_name.find(instance->plugin_name); found == by_name.end()) {
            std::string reason = "plugin \"" + instance->plugin_name + "\" is not loaded";
            for (const auto& r : h.refused) {
                if (r.path.ends_with("/" + instance->plugin_name + ".keel-plugin.json"))
                    reason += " (refused: " + r.reason + ")";
            }
            fail(reason);
        } else {
            instance->plugin = found->second;
            detail::fillHostApi(*instance);
            detail::StringSink error;
            keel_plugin_instance* handle = nullptr;
            keel_status status = KEEL_E_INTERNAL;
            status = instance->plugin->api->create(&instance->api, &handle, error.buffer());
            if (status != KEEL_OK || handle == nullptr) {
                fail("create failed (" + statusName(status) + ")" + (error.text().empty() ? "" : ": " + error.text()));
            } else {
                instance->handle = handle;
                log.information("plugin instance " + instance->name + " of " + instance->plugin_name + " created");
            }
        }
        h.instances.push_back(std::move(instance));
    }
}

const std::vector<Refusal>& PluginHost::refused() const {
    return impl_->refused;
}

namespace {

InstanceStatus statusOf(const Instance& i) {
    InstanceStatus s;
    s.name = i.name;
    s.plugin = i.plugin_name;
    if (i.plugin != nullptr) {
        s.version = i.plugin->manifest.version;
        s.capabilities = i.plugin->manifest.capabilities;
    }
    s.state = i.failed ? InstanceState::kFailed : i.open ? InstanceState::kSuspended : InstanceState::kActive;
    s.last_error = i.last_error;
    s.calls = i.calls;
    s.failures = i.failures;
    s.consecutive_failures = i.consecutive_failures;
    s.suspended_until = i.open ? i.open_until : 0;
    return s;
}

}  // namespace

std::vector<InstanceStatus> PluginHost::instances() const {
    std::lock_guard lock(impl_->mutex);
    std::vector<InstanceStatus> out;
    for (const auto& i : impl_->instances) out.push_back(statusOf(*i));
    return out;
}

std::optional<InstanceStatus> PluginHost::instance(std::string_view name) const {
    std::lock_guard lock(impl_->mutex);
    for (const auto& i : impl_->instances) {
        if (i->name == name) return statusOf(*i);
    }
    return std::nullopt;
}

std::vector<std::string> PluginHost::instancesWith(Capability capability) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<std::string> out;
    for (const auto& i : impl_->instances) {
        if (i->failed || i->plugin == nullptr) continue;
        if ((i->plugin->api->capabilities & bitOf(capability)) != 0) out.push_back(i->name);
    }
    return out;
}

namespace {

// One call into an instance through its breaker. `call` performs the plugin call and returns its status; the
// error text is in `sink`.
template <typename Call>
Result<std::string> guarded(Impl& h, Instance& instance, const std::string& what, Call&& call) {
    {
        std::lock_guard lock(h.mutex);
        if (instance.failed) {
            return Problem{ExitCode::kInfrastructure,
                           "plugin instance " + instance.name + " failed to start: " + instance.last_error, ""};
        }
        if (instance.open) {
            const auto now = h.clock.nowMicros();
            if (now < instance.open_until || instance.trial_in_flight) {
                return Problem{ExitCode::kInfrastructure,
                               "plugin instance " + instance.name + " is suspended by its circuit breaker until " +
                                   formatIso8601(instance.open_until) + " after " +
                                   std::to_string(instance.consecutive_failures) +
                                   " consecutive failures; last error: " + instance.last_error,
                               ""};
            }
            instance.trial_in_flight = true;  // half-open: this call is the one trial
        }
        ++instance.calls;
    }
    detail::StringSink sink;
    keel_status status = KEEL_E_INTERNAL;
    std::string thrown;
    {
        std::lock_guard call_lock(instance.call_mutex);
        try {
            status = call(sink);
        } catch (const std::exception& e) {
            // Only the host side can throw here (a plugin must not let exceptions out); treat it as internal.
            thrown = e.what();
        }
    }
    std::lock_guard lock(h.mutex);
    const bool was_trial = instance.trial_in_flight;
    instance.trial_in_flight = false;
    if (thrown.empty() && status == KEEL_OK) {
        instance.consecutive_failures = 0;
        if (instance.open) {
            instance.open = false;
            logging::get("plugin_host").information("plugin instance " + instance.name + ": circuit breaker closed");
        }
        return sink.text();
    }
    const std::string message = what + " of plugin instance " + instance.name + " failed (" + statusName(status) + ")" +
                                (thrown.empty() ? (sink.text().empty() ? "" : ": " + sink.text()) : ": " + thrown);
    instance.last_error = message;
    ++instance.failures;
    const bool counts = !thrown.empty() || status == KEEL_E_UNAVAILABLE || status == KEEL_E_INTERNAL || status < 0 ||
                        status > KEEL_E_UNSUPPORTED;
    if (counts) {
        ++instance.consecutive_failures;
        if (was_trial || instance.consecutive_failures >= h.settings.breaker_failures) {
            instance.open = true;
            instance.open_until = h.clock.nowMicros() + h.settings.breaker_cooldown_seconds * kMicrosPerSecond;
            const std::string text = "circuit breaker opened after " + std::to_string(instance.consecutive_failures) +
                                     " consecutive failures" + (was_trial ? " (the trial call failed)" : "") +
                                     "; suspended for " + std::to_string(h.settings.breaker_cooldown_seconds) +
                                     " s; last error: " + message;
            IntegrationException e;
            e.id = IdGenerator::global().next();
            e.source = ("plugin:" + instance.name).substr(0, 128);
            e.code = "breaker_open";
            e.message = text;
            e.reference = what.substr(0, 128);
            e.created_at = h.clock.nowMicros();
            logging::get("plugin_host").error(e.source + ": " + text);
            h.pending_exceptions.push_back(std::move(e));
        }
    } else if (was_trial) {
        // A business answer (invalid request) proves the plugin works: close the breaker.
        instance.open = false;
        instance.consecutive_failures = 0;
    }
    return Problem{thrown.empty() ? exitCodeOf(status) : ExitCode::kInfrastructure, message, ""};
}

Instance* findInstance(Impl& h, std::string_view name) {
    for (auto& i : h.instances) {
        if (i->name == name) return i.get();
    }
    return nullptr;
}

}  // namespace

Result<std::string> PluginHost::invoke(std::string_view name, Operation operation, std::string_view request_json,
                                       bool write_exceptions) {
    Impl& h = *impl_;
    Instance* instance = findInstance(h, name);
    if (instance == nullptr) {
        return Problem{ExitCode::kNotFound,
                       "no plugin instance '" + std::string(name) +
                           "' (plugins.instances: " + h.settings.instances_directory + ")",
                       ""};
    }
    keel_operation function = nullptr;
    if (instance->plugin != nullptr) {
        if ((instance->plugin->api->capabilities & bitOf(capabilityOf(operation))) == 0) {
            return Problem{ExitCode::kUsage,
                           "plugin instance " + instance->name + " (" + instance->plugin_name + ") has no " +
                               std::string(toString(capabilityOf(operation))) + " capability",
                           ""};
        }
        function = operationFunction(*instance->plugin->api, operation);
        if (function == nullptr) {
            return Problem{
                ExitCode::kUsage,
                "plugin instance " + instance->name + " does not implement " + std::string(toString(operation)), ""};
        }
    }
    auto result = guarded(h, *instance, std::string(toString(operation)), [&](detail::StringSink& sink) {
        const keel_str request{request_json.data(), request_json.size()};
        return function(instance->handle, request, sink.buffer());
    });
    if (write_exceptions) flushExceptions();
    return result;
}

std::size_t PluginHost::flushExceptions() {
    Impl& h = *impl_;
    std::vector<IntegrationException> pending;
    db::Database* database = nullptr;
    {
        std::lock_guard lock(h.mutex);
        database = h.services.database;
        if (database == nullptr) return h.pending_exceptions.size();
        pending.swap(h.pending_exceptions);
    }
    if (pending.empty()) return 0;
    try {
        database->run([&](db::UnitOfWork& uow) {
            for (const auto& e : pending) {
                uow.statement(
                       "INSERT INTO integration_exception (id, source, code, message, reference, created_at, "
                       "resolved_at) "
                       "VALUES (?, ?, ?, ?, ?, ?, NULL)")
                    .bindAll(e.id, e.source, e.code, e.message, e.reference, e.created_at)
                    .execute();
            }
        });
        return 0;
    } catch (const std::exception& e) {
        logging::get("plugin_host")
            .error("integration exceptions not written yet (kept for the next attempt): " + std::string(e.what()));
        std::lock_guard lock(h.mutex);
        h.pending_exceptions.insert(h.pending_exceptions.begin(), pending.begin(), pending.end());
        return h.pending_exceptions.size();
    }
}

std::vector<ScheduledTask> PluginHost::dueTasks(std::int64_t now) const {
    std::lock_guard lock(impl_->mutex);
    std::vector<ScheduledTask> out;
    for (const auto& t : impl_->tasks) {
        if (t.next_due <= now) out.push_back(t);
    }
    return out;
}

int PluginHost::runDue(std::int64_t now) {
    Impl& h = *impl_;
    int ok = 0;
    for (const auto& task : dueTasks(now)) {
        {
            std::lock_guard lock(h.mutex);
            for (auto& t : h.tasks) {
                if (t.instance == task.instance && t.task == task.task)
                    t.next_due = now + t.interval_seconds * kMicrosPerSecond;
            }
        }
        Instance* instance = findInstance(h, task.instance);
        if (instance == nullptr || instance->plugin == nullptr || instance->plugin->api->tick == nullptr) continue;
        auto result = guarded(h, *instance, "tick " + task.task, [&](detail::StringSink& sink) {
            const keel_str name{task.task.data(), task.task.size()};
            return instance->plugin->api->tick(instance->handle, name, sink.buffer());
        });
        if (result) ++ok;
    }
    flushExceptions();
    return ok;
}

}  // namespace keel::plugin_host
