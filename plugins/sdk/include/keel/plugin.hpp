// keel/plugin.hpp: the header-only C++17 wrapper over keel/plugin_abi.h, so that a plugin is ordinary classes.
//
//   class MyTax : public keel::plugin::Tax {
//   public:
//       explicit MyTax(keel::plugin::Host host) : host_(host) {}
//       std::string quote(std::string_view request_json) override { ... }
//   private:
//       keel::plugin::Host host_;
//   };
//   KEEL_PLUGIN(MyTax, "my-tax", "1.0.0")
//
// The macro defines the one exported symbol and the static tables of the C ABI. Capabilities follow from the
// base classes; every exception is caught at the boundary and becomes a status and a message, because no
// exception may cross the C ABI (the host may be built by another compiler or standard library).
#pragma once

#include <keel/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace keel::plugin {

/// The name of a status, for messages ("KEEL_E_INVALID").
inline const char* statusName(keel_status status) noexcept {
    switch (status) {
        case KEEL_OK:
            return "KEEL_OK";
        case KEEL_E_INVALID:
            return "KEEL_E_INVALID";
        case KEEL_E_NOT_FOUND:
            return "KEEL_E_NOT_FOUND";
        case KEEL_E_CONFLICT:
            return "KEEL_E_CONFLICT";
        case KEEL_E_UNAVAILABLE:
            return "KEEL_E_UNAVAILABLE";
        case KEEL_E_INTERNAL:
            return "KEEL_E_INTERNAL";
        case KEEL_E_UNSUPPORTED:
            return "KEEL_E_UNSUPPORTED";
        default:
            return "unknown status";
    }
}

/// A failure with an ABI status: thrown by a plugin to choose the status the host sees, and thrown by Host when a
/// host function fails (with the message the host assigned).
class Error : public std::runtime_error {
public:
    Error(keel_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    keel_status status() const noexcept { return status_; }

private:
    keel_status status_;
};

namespace detail {

inline keel_str toStr(std::string_view text) noexcept {
    return keel_str{text.data(), text.size()};
}

inline std::string_view toView(keel_str text) noexcept {
    return text.data == nullptr ? std::string_view{} : std::string_view(text.data, static_cast<std::size_t>(text.size));
}

/// The plugin-side receiver of a host function's output. `failed` records an allocation failure, which cannot be
/// thrown through the host's C frames and is rethrown once the call has returned.
struct Sink {
    std::string text{};
    bool failed = false;
};

inline void sinkAssign(void* opaque, const char* data, uint64_t size) noexcept {
    auto* sink = static_cast<Sink*>(opaque);
    try {
        sink->text.assign(data == nullptr ? "" : data, data == nullptr ? 0 : static_cast<std::size_t>(size));
    } catch (const std::exception&) {
        sink->failed = true;
    }
}

/// Copies `text` into a buffer the host supplied (it may be NULL when the host does not want the output).
inline void writeTo(keel_buffer* buffer, std::string_view text) noexcept {
    if (buffer != nullptr && buffer->assign != nullptr) buffer->assign(buffer->opaque, text.data(), text.size());
}

/// Runs `body` and turns any exception into a status and a message in `out`: the one place where the C++ world
/// of a plugin meets the C ABI.
template <class Body>
keel_status guard(keel_buffer* out, Body&& body) noexcept {
    try {
        std::forward<Body>(body)();
        return KEEL_OK;
    } catch (const Error& e) {
        writeTo(out, e.what());
        // Error(KEEL_OK) would tell the host that a failed call succeeded.
        return e.status() == KEEL_OK ? KEEL_E_INTERNAL : e.status();
    } catch (const std::exception& e) {
        writeTo(out, e.what());
        return KEEL_E_INTERNAL;
    } catch (...) {
        writeTo(out, "unknown exception");
        return KEEL_E_INTERNAL;
    }
}

}  // namespace detail

/// The host functions of one instance (keel_host_api), as methods that return values and throw Error. Cheap to
/// copy; valid for the instance's whole life.
class Host {
public:
    explicit Host(const keel_host_api* api) : api_(api) {
        if (api_ == nullptr) throw Error(KEEL_E_INVALID, "keel::plugin::Host: the host table is NULL");
    }

    const keel_host_api* api() const noexcept { return api_; }
    uint16_t abiMajor() const noexcept { return api_->abi_major; }
    uint16_t abiMinor() const noexcept { return api_->abi_minor; }

    /// Writes to Keel's log under the instance's name (level: KEEL_LOG_*).
    void log(int32_t level, std::string_view message) const {
        require(offsetof(keel_host_api, log) + sizeof(api_->log), api_->log != nullptr, "log");
        api_->log(api_->ctx, level, detail::toStr(message));
    }
    void debug(std::string_view message) const { log(KEEL_LOG_DEBUG, message); }
    void info(std::string_view message) const { log(KEEL_LOG_INFO, message); }
    void warning(std::string_view message) const { log(KEEL_LOG_WARNING, message); }
    void error(std::string_view message) const { log(KEEL_LOG_ERROR, message); }

    /// A key of the instance's configuration, or nothing when it is absent.
    std::optional<std::string> config(std::string_view key) const {
        require(offsetof(keel_host_api, config_get) + sizeof(api_->config_get), api_->config_get != nullptr,
                "config_get");
        detail::Sink sink;
        keel_buffer buffer{&sink, &detail::sinkAssign};
        const keel_status status = api_->config_get(api_->ctx, detail::toStr(key), &buffer);
        if (status == KEEL_E_NOT_FOUND) return std::nullopt;
        return take(status, sink, "config_get");
    }
    std::string configOr(std::string_view key, std::string_view fallback) const {
        auto value = config(key);
        return value ? std::move(*value) : std::string(fallback);
    }

    /// A secret named in the instance's configuration (secret.NAME); never log it.
    std::string secret(std::string_view name) const {
        require(offsetof(keel_host_api, secret_get) + sizeof(api_->secret_get), api_->secret_get != nullptr,
                "secret_get");
        return call("secret_get",
                    [&](keel_buffer* out) { return api_->secret_get(api_->ctx, detail::toStr(name), out); });
    }

    /// An outbound HTTP(S) request, {"method","url","headers","body","timeout_ms"} -> {"status","headers","body"}.
    std::string http(std::string_view request_json) const {
        require(offsetof(keel_host_api, http_request) + sizeof(api_->http_request), api_->http_request != nullptr,
                "http_request");
        return call("http_request",
                    [&](keel_buffer* out) { return api_->http_request(api_->ctx, detail::toStr(request_json), out); });
    }

    /// Idempotent intake of a canonical order -> {"order_id","outcome","state"}.
    std::string orderIntake(std::string_view order_json) const {
        require(offsetof(keel_host_api, order_intake) + sizeof(api_->order_intake), api_->order_intake != nullptr,
                "order_intake");
        return call("order_intake",
                    [&](keel_buffer* out) { return api_->order_intake(api_->ctx, detail::toStr(order_json), out); });
    }

    /// Stock and ATP: {"sku","location"?,"channel"?} -> {"sku","atp","on_hand","locations"}.
    std::string stockQuery(std::string_view query_json) const {
        require(offsetof(keel_host_api, stock_query) + sizeof(api_->stock_query), api_->stock_query != nullptr,
                "stock_query");
        return call("stock_query",
                    [&](keel_buffer* out) { return api_->stock_query(api_->ctx, detail::toStr(query_json), out); });
    }

    /// A canonical document by type ("order", "shipment", "return", "invoice") and id.
    std::string document(std::string_view type, std::string_view id) const {
        require(offsetof(keel_host_api, document_get) + sizeof(api_->document_get), api_->document_get != nullptr,
                "document_get");
        return call("document_get", [&](keel_buffer* out) {
            return api_->document_get(api_->ctx, detail::toStr(type), detail::toStr(id), out);
        });
    }

    /// Asks the host to call Instance::tick(task) every `interval_seconds`.
    void schedule(std::string_view task, uint32_t interval_seconds) const {
        require(offsetof(keel_host_api, schedule) + sizeof(api_->schedule), api_->schedule != nullptr, "schedule");
        const keel_status status = api_->schedule(api_->ctx, detail::toStr(task), interval_seconds);
        if (status != KEEL_OK) {
            throw Error(status, "host.schedule(" + std::string(task) + "): " + statusName(status));
        }
    }

    /// Puts a failure that needs an operator into the exception queue under the instance's name.
    void reportError(std::string_view code, std::string_view message) const {
        require(offsetof(keel_host_api, report_error) + sizeof(api_->report_error), api_->report_error != nullptr,
                "report_error");
        api_->report_error(api_->ctx, detail::toStr(code), detail::toStr(message));
    }

private:
    // A host of an older ABI minor has a shorter table: a member beyond its `size` is not there at all.
    void require(std::size_t end, bool present, const char* member) const {
        if (api_->size < end || !present) {
            throw Error(KEEL_E_UNSUPPORTED, std::string("the host (ABI ") + std::to_string(api_->abi_major) + "." +
                                                std::to_string(api_->abi_minor) + ") does not offer " + member);
        }
    }

    static std::string take(keel_status status, detail::Sink& sink, const char* member) {
        if (sink.failed) throw Error(KEEL_E_INTERNAL, std::string("host.") + member + ": out of memory for the output");
        if (status != KEEL_OK) {
            // The host's message is passed on unchanged: order_intake puts its problems there as JSON.
            throw Error(status, sink.text.empty() ? std::string("host.") + member + " failed: " + statusName(status)
                                                  : sink.text);
        }
        return std::move(sink.text);
    }

    template <class Call>
    std::string call(const char* member, Call&& function) const {
        detail::Sink sink;
        keel_buffer buffer{&sink, &detail::sinkAssign};
        const keel_status status = std::forward<Call>(function)(&buffer);
        return take(status, sink, member);
    }

    const keel_host_api* api_;
};

/// What every plugin instance is. A class derives from one or more capability bases below (virtually from this
/// one), is constructed from a Host, and is destroyed when the host drops the instance.
class Instance {
public:
    Instance() = default;
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;
    virtual ~Instance() = default;

    /// Scheduled work (Host::schedule). The default refuses, so a forgotten override shows up in the log.
    virtual void tick(std::string_view task) {
        throw Error(KEEL_E_UNSUPPORTED, "tick(" + std::string(task) + ") is not implemented by this plugin");
    }
};

namespace detail {
[[noreturn]] inline void notImplemented(const char* operation) {
    throw Error(KEEL_E_UNSUPPORTED, std::string(operation) + " is not implemented by this plugin");
}
}  // namespace detail

// Each operation takes the request JSON and returns the response JSON (documents: docs/plugins.md). The
// operation a capability cannot do without is pure virtual; the others answer KEEL_E_UNSUPPORTED by default.

/// A sales channel.
class Marketplace : public virtual Instance {
public:
    virtual std::string pullOrders(std::string_view request_json) = 0;
    virtual std::string acknowledge(std::string_view) { detail::notImplemented("marketplace.acknowledge"); }
    virtual std::string pushInventory(std::string_view) { detail::notImplemented("marketplace.push_inventory"); }
    virtual std::string pushTracking(std::string_view) { detail::notImplemented("marketplace.push_tracking"); }
    virtual std::string pullCancellations(std::string_view) {
        detail::notImplemented("marketplace.pull_cancellations");
    }
};

/// A 3PL or WMS.
class Fulfillment : public virtual Instance {
public:
    virtual std::string sendShipmentRequest(std::string_view request_json) = 0;
    virtual std::string receiveConfirmations(std::string_view) {
        detail::notImplemented("fulfillment.receive_confirmations");
    }
    virtual std::string receiveInventorySnapshot(std::string_view) {
        detail::notImplemented("fulfillment.receive_inventory_snapshot");
    }
};

/// A tax engine: quote a tax_request, commit an issued invoice's tax, void a cancelled one.
class Tax : public virtual Instance {
public:
    virtual std::string quote(std::string_view request_json) = 0;
    virtual std::string commit(std::string_view) { detail::notImplemented("tax.commit"); }
    virtual std::string voidDocument(std::string_view) { detail::notImplemented("tax.void"); }
};

/// An EDI translator between interchange bytes and canonical documents.
class Edi : public virtual Instance {
public:
    virtual std::string toDocuments(std::string_view request_json) = 0;
    virtual std::string fromDocument(std::string_view) { detail::notImplemented("edi.from_document"); }
};

/// Moves bytes to and from a partner.
class Transport : public virtual Instance {
public:
    virtual std::string send(std::string_view request_json) = 0;
    virtual std::string receive(std::string_view) { detail::notImplemented("transport.receive"); }
};

/// Receives outbox events, at least once and in order per aggregate: deduplicate by the event's "id".
class Subscriber : public virtual Instance {
public:
    virtual std::string onEvent(std::string_view event_json) = 0;
};

namespace detail {

template <class Class>
Class& self(keel_plugin_instance* instance) noexcept {
    return *reinterpret_cast<Class*>(instance);
}

/// One C operation of the ABI, calling the member `Op` of capability `Base` on the instance of type `Class`.
template <class Class, class Base, std::string (Base::*Op)(std::string_view)>
keel_status operation(keel_plugin_instance* instance, keel_str request, keel_buffer* response) noexcept {
    return guard(response, [&] {
        if (instance == nullptr) throw Error(KEEL_E_INVALID, "the instance is NULL");
        Base& base = self<Class>(instance);
        const std::string result = (base.*Op)(toView(request));
        writeTo(response, result);
    });
}

template <class Class>
keel_status create(const keel_host_api* host, keel_plugin_instance** instance, keel_buffer* error) noexcept {
    return guard(error, [&] {
        if (host == nullptr || instance == nullptr) throw Error(KEEL_E_INVALID, "create: host or instance is NULL");
        if (host->size < offsetof(keel_host_api, ctx) + sizeof(host->ctx) || host->abi_major != KEEL_PLUGIN_ABI_MAJOR) {
            throw Error(KEEL_E_UNSUPPORTED, "create: the host's ABI major " + std::to_string(host->abi_major) +
                                                " is not the plugin's " + std::to_string(KEEL_PLUGIN_ABI_MAJOR));
        }
        *instance = reinterpret_cast<keel_plugin_instance*>(new Class(Host(host)));
    });
}

template <class Class>
void destroy(keel_plugin_instance* instance) noexcept {
    delete reinterpret_cast<Class*>(instance);
}

template <class Class>
keel_status tick(keel_plugin_instance* instance, keel_str task, keel_buffer* error) noexcept {
    return guard(error, [&] {
        if (instance == nullptr) throw Error(KEEL_E_INVALID, "the instance is NULL");
        Instance& base = self<Class>(instance);
        base.tick(toView(task));
    });
}

// One static table per capability the class derives from; NULL otherwise (the ABI requires the table to be
// non-NULL exactly when its capability bit is set).
template <class Class>
const keel_marketplace_v1* marketplaceTable() noexcept {
    if constexpr (std::is_base_of_v<Marketplace, Class>) {
        static const keel_marketplace_v1 table{sizeof(keel_marketplace_v1),
                                               &operation<Class, Marketplace, &Marketplace::pullOrders>,
                                               &operation<Class, Marketplace, &Marketplace::acknowledge>,
                                               &operation<Class, Marketplace, &Marketplace::pushInventory>,
                                               &operation<Class, Marketplace, &Marketplace::pushTracking>,
                                               &operation<Class, Marketplace, &Marketplace::pullCancellations>};
        return &table;
    } else {
        return nullptr;
    }
}

template <class Class>
const keel_fulfillment_v1* fulfillmentTable() noexcept {
    if constexpr (std::is_base_of_v<Fulfillment, Class>) {
        static const keel_fulfillment_v1 table{sizeof(keel_fulfillment_v1),
                                               &operation<Class, Fulfillment, &Fulfillment::sendShipmentRequest>,
                                               &operation<Class, Fulfillment, &Fulfillment::receiveConfirmations>,
                                               &operation<Class, Fulfillment, &Fulfillment::receiveInventorySnapshot>};
        return &table;
    } else {
        return nullptr;
    }
}

template <class Class>
const keel_tax_v1* taxTable() noexcept {
    if constexpr (std::is_base_of_v<Tax, Class>) {
        static const keel_tax_v1 table{sizeof(keel_tax_v1), &operation<Class, Tax, &Tax::quote>,
                                       &operation<Class, Tax, &Tax::commit>,
                                       &operation<Class, Tax, &Tax::voidDocument>};
        return &table;
    } else {
        return nullptr;
    }
}

template <class Class>
const keel_edi_v1* ediTable() noexcept {
    if constexpr (std::is_base_of_v<Edi, Class>) {
        static const keel_edi_v1 table{sizeof(keel_edi_v1), &operation<Class, Edi, &Edi::toDocuments>,
                                       &operation<Class, Edi, &Edi::fromDocument>};
        return &table;
    } else {
        return nullptr;
    }
}

template <class Class>
const keel_transport_v1* transportTable() noexcept {
    if constexpr (std::is_base_of_v<Transport, Class>) {
        static const keel_transport_v1 table{sizeof(keel_transport_v1), &operation<Class, Transport, &Transport::send>,
                                             &operation<Class, Transport, &Transport::receive>};
        return &table;
    } else {
        return nullptr;
    }
}

template <class Class>
const keel_subscriber_v1* subscriberTable() noexcept {
    if constexpr (std::is_base_of_v<Subscriber, Class>) {
        static const keel_subscriber_v1 table{sizeof(keel_subscriber_v1),
                                              &operation<Class, Subscriber, &Subscriber::onEvent>};
        return &table;
    } else {
        return nullptr;
    }
}

/// The keel_plugin_api of `Class`, built once (thread-safe static initialisation) and valid for the library's life.
template <class Class>
const keel_plugin_api* pluginApi(const char* name, const char* version) noexcept {
    static_assert(std::is_base_of_v<Instance, Class>, "KEEL_PLUGIN: the class must derive from a capability base");
    static_assert(std::is_constructible_v<Class, Host>, "KEEL_PLUGIN: the class must be constructible from Host");
    static const keel_plugin_api api = [&] {
        keel_plugin_api a{};
        a.size = sizeof(keel_plugin_api);
        a.abi_major = KEEL_PLUGIN_ABI_MAJOR;
        a.abi_minor = KEEL_PLUGIN_ABI_MINOR;
        a.name = name;
        a.version = version;
        a.create = &create<Class>;
        a.destroy = &destroy<Class>;
        a.tick = &tick<Class>;
        a.marketplace = marketplaceTable<Class>();
        a.fulfillment = fulfillmentTable<Class>();
        a.tax = taxTable<Class>();
        a.edi = ediTable<Class>();
        a.transport = transportTable<Class>();
        a.subscriber = subscriberTable<Class>();
        a.capabilities = (a.marketplace ? KEEL_CAP_MARKETPLACE : 0u) | (a.fulfillment ? KEEL_CAP_FULFILLMENT : 0u) |
                         (a.tax ? KEEL_CAP_TAX : 0u) | (a.edi ? KEEL_CAP_EDI : 0u) |
                         (a.transport ? KEEL_CAP_TRANSPORT : 0u) | (a.subscriber ? KEEL_CAP_SUBSCRIBER : 0u);
        return a;
    }();
    return &api;
}

}  // namespace detail
}  // namespace keel::plugin

/// Defines the library's one exported symbol for `Class` (deriving from capability bases, constructible from
/// keel::plugin::Host). Use it once per library, at namespace scope, with string literals for name and version
/// (they must match keel_add_plugin's NAME and VERSION, which the host compares with the manifest).
#define KEEL_PLUGIN(Class, name, version)                                          \
    extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_api* keel_plugin_entry(void) { \
        return ::keel::plugin::detail::pluginApi<Class>(name, version);            \
    }
