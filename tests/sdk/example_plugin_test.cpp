// keel/plugin.hpp as the host sees it: the example plugin, loaded from its built library through the C ABI with
// a fake host table, checked for its capability tables, the exception barrier (status and message of every
// failure), the host functions and the size check against a host table of an older ABI minor.
#define BOOST_TEST_MODULE sdk_example_plugin
#include <dlfcn.h>

#include <keel/plugin_abi.h>
#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace {

const keel_plugin_api& load(const char* path) {
    void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    BOOST_TEST_REQUIRE(handle != nullptr, "dlopen " << path << ": " << dlerror());
    auto entry = reinterpret_cast<keel_plugin_entry_fn>(dlsym(handle, KEEL_PLUGIN_ENTRY_NAME));
    BOOST_TEST_REQUIRE(entry != nullptr, "no " << KEEL_PLUGIN_ENTRY_NAME << " in " << path);
    return *entry();
}

const keel_plugin_api& pluginApi() {
    static const keel_plugin_api& api = load(KEEL_EXAMPLE_PLUGIN);
    return api;
}

const keel_plugin_api& allApi() {
    static const keel_plugin_api& api = load(KEEL_SDK_ALL_PLUGIN);
    return api;
}

void assignString(void* opaque, const char* data, uint64_t size) {
    static_cast<std::string*>(opaque)->assign(data, static_cast<std::size_t>(size));
}

keel_str str(const std::string& text) {
    return keel_str{text.data(), text.size()};
}
std::string text(keel_str s) {
    return std::string(s.data, static_cast<std::size_t>(s.size));
}

struct FakeHost {
    std::map<std::string, std::string> config{};
    std::vector<std::string> log{};
    std::vector<std::string> reported{};
    std::vector<std::string> intake{};
    keel_host_api api{};

    explicit FakeHost(std::map<std::string, std::string> initial, uint32_t size = sizeof(keel_host_api))
        : config(std::move(initial)) {
        api.size = size;
        api.abi_major = KEEL_PLUGIN_ABI_MAJOR;
        api.abi_minor = KEEL_PLUGIN_ABI_MINOR;
        api.ctx = this;
        api.log = [](void* ctx, int32_t, keel_str message) {
            static_cast<FakeHost*>(ctx)->log.push_back(text(message));
        };
        api.config_get = [](void* ctx, keel_str key, keel_buffer* value) -> keel_status {
            const auto& settings = static_cast<FakeHost*>(ctx)->config;
            const auto found = settings.find(text(key));
            if (found == settings.end()) return KEEL_E_NOT_FOUND;
            value->assign(value->opaque, found->second.data(), found->second.size());
            return KEEL_OK;
        };
        // Intake accepts the order whose external_id is E-1 and rejects the others with the problems as JSON.
        api.order_intake = [](void* ctx, keel_str order, keel_buffer* result) -> keel_status {
            static_cast<FakeHost*>(ctx)->intake.push_back(text(order));
            const std::string out = text(order).find("\"E-1\"") != std::string::npos
                                        ? R"({"order_id":"O-1","outcome":"imported","state":"new"})"
                                        : R"({"problems":[{"path":"lines[0].sku","message":"unknown SKU"}]})";
            result->assign(result->opaque, out.data(), out.size());
            return out.find("problems") == std::string::npos ? KEEL_OK : KEEL_E_INVALID;
        };
        api.report_error = [](void* ctx, keel_str code, keel_str message) {
            static_cast<FakeHost*>(ctx)->reported.push_back(text(code) + ": " + text(message));
        };
    }
};

struct Outcome {
    keel_status status = KEEL_OK;
    std::string text{};
};

class Instance {
public:
    explicit Instance(FakeHost& host, const keel_plugin_api& api = pluginApi()) : api_(api) {
        keel_buffer buffer{&error_, &assignString};
        status_ = api_.create(&host.api, &instance_, &buffer);
    }
    ~Instance() {
        if (instance_ != nullptr) api_.destroy(instance_);
    }
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    keel_status status() const { return status_; }
    const std::string& error() const { return error_; }
    Outcome call(keel_operation operation, const std::string& request) const {
        BOOST_TEST_REQUIRE(instance_ != nullptr, error_);
        Outcome outcome;
        keel_buffer buffer{&outcome.text, &assignString};
        outcome.status = operation(instance_, str(request), &buffer);
        return outcome;
    }
    Outcome tick(const std::string& task) const {
        Outcome outcome;
        keel_buffer buffer{&outcome.text, &assignString};
        outcome.status = api_.tick(instance_, str(task), &buffer);
        return outcome;
    }

private:
    const keel_plugin_api& api_;
    keel_plugin_instance* instance_ = nullptr;
    keel_status status_ = KEEL_OK;
    std::string error_{};
};

std::vector<std::string> readLines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

const std::string kEvent = R"({"id":"EV-1","seq":1,"type":"order.created","aggregate_type":"order",)"
                           R"("aggregate_id":"O-1","payload":{},"created_at":"2026-11-26T20:00:00Z"})";

}  // namespace

BOOST_AUTO_TEST_CASE(capabilities_follow_the_base_classes) {
    const auto& api = pluginApi();
    BOOST_TEST(api.size == sizeof(keel_plugin_api));
    BOOST_TEST(api.abi_major == KEEL_PLUGIN_ABI_MAJOR);
    BOOST_TEST(api.abi_minor == KEEL_PLUGIN_ABI_MINOR);
    BOOST_TEST(std::string(api.name) == "example");
    BOOST_TEST(std::string(api.version) == "1.0.0");
    BOOST_TEST(api.capabilities == (KEEL_CAP_SUBSCRIBER | KEEL_CAP_MARKETPLACE));
    BOOST_TEST_REQUIRE(api.subscriber != nullptr);
    BOOST_TEST_REQUIRE(api.marketplace != nullptr);
    BOOST_TEST(api.subscriber->size == sizeof(keel_subscriber_v1));
    BOOST_TEST(api.marketplace->size == sizeof(keel_marketplace_v1));
    BOOST_TEST(api.tax == nullptr);
    BOOST_TEST(api.fulfillment == nullptr);
    BOOST_TEST(api.edi == nullptr);
    BOOST_TEST(api.transport == nullptr);
}

BOOST_AUTO_TEST_CASE(a_failing_constructor_fails_create_with_its_message) {
    FakeHost host({});
    const Instance instance(host);
    BOOST_TEST(instance.status() == KEEL_E_INVALID);
    BOOST_TEST(instance.error() == "example: the instance setting 'output' is required");
}

BOOST_AUTO_TEST_CASE(events_are_written_once_per_id) {
    keel::test::TempDir dir;
    const std::string output = dir.path + "/events.jsonl";
    FakeHost host({{"output", output}});
    {
        const Instance instance(host);
        BOOST_TEST_REQUIRE(instance.status() == KEEL_OK, instance.error());
        BOOST_TEST(host.log.at(0).find("example: writing events to " + output) == 0u);
        const auto on_event = pluginApi().subscriber->on_event;
        BOOST_TEST(instance.call(on_event, kEvent).status == KEEL_OK);
        BOOST_TEST(instance.call(on_event, kEvent).status == KEEL_OK);  // at-least-once delivery: a duplicate

        const auto not_json = instance.call(on_event, "{nope");
        BOOST_TEST(not_json.status == KEEL_E_INVALID);
        BOOST_TEST(not_json.text.find("event: not JSON") == 0u, not_json.text);
        const auto no_id = instance.call(on_event, R"({"seq":2})");
        BOOST_TEST(no_id.status == KEEL_E_INVALID);
        BOOST_TEST(no_id.text == "event.id: is required");
    }
    // A new instance (a restart) knows the ids already written.
    const Instance restarted(host);
    BOOST_TEST(restarted.call(pluginApi().subscriber->on_event, kEvent).status == KEEL_OK);
    const auto lines = readLines(output);
    BOOST_TEST_REQUIRE(lines.size() == 1u);
    BOOST_TEST(lines[0].find("\"id\":\"EV-1\"") != std::string::npos, lines[0]);
}

BOOST_AUTO_TEST_CASE(operations_not_implemented_answer_unsupported) {
    keel::test::TempDir dir;
    FakeHost host({{"output", dir.path + "/events.jsonl"}});
    const Instance instance(host);
    const auto acknowledge = instance.call(pluginApi().marketplace->acknowledge, "{}");
    BOOST_TEST(acknowledge.status == KEEL_E_UNSUPPORTED);
    BOOST_TEST(acknowledge.text == "marketplace.acknowledge is not implemented by this plugin");
    const auto tick = instance.tick("refresh");
    BOOST_TEST(tick.status == KEEL_E_UNSUPPORTED);
    BOOST_TEST(tick.text == "tick(refresh) is not implemented by this plugin");
}

BOOST_AUTO_TEST_CASE(pulled_orders_go_through_order_intake) {
    keel::test::TempDir dir;
    const std::string orders = dir.path + "/orders.json";
    std::ofstream(orders) << R"([{"type":"order","version":1,"channel":"web","external_id":"E-1"},)"
                          << R"({"type":"order","version":1,"channel":"web","external_id":"E-2"}])";
    FakeHost host({{"output", dir.path + "/events.jsonl"}, {"orders_file", orders}});
    const Instance instance(host);
    const auto pulled = instance.call(pluginApi().marketplace->pull_orders, "{}");
    BOOST_TEST_REQUIRE(pulled.status == KEEL_OK, pulled.text);
    BOOST_TEST(host.intake.size() == 2u);
    BOOST_TEST(pulled.text.find("\"outcome\":\"imported\"") != std::string::npos, pulled.text);
    BOOST_TEST(pulled.text.find("unknown SKU") != std::string::npos, pulled.text);  // the host's message, unchanged
    BOOST_TEST_REQUIRE(host.reported.size() == 1u);
    BOOST_TEST(host.reported[0].find("example.order_rejected: " + orders + ": orders[1]: ") == 0u, host.reported[0]);

    FakeHost no_file({{"output", dir.path + "/events.jsonl"}, {"orders_file", dir.path + "/missing.json"}});
    const Instance missing(no_file);
    const auto unavailable = missing.call(pluginApi().marketplace->pull_orders, "{}");
    BOOST_TEST(unavailable.status == KEEL_E_UNAVAILABLE);
    BOOST_TEST(unavailable.text == "example: cannot read " + dir.path + "/missing.json");
}

BOOST_AUTO_TEST_CASE(a_host_of_an_older_minor_lacks_the_functions_past_its_size) {
    keel::test::TempDir dir;
    const std::string orders = dir.path + "/orders.json";
    std::ofstream(orders) << R"([{"external_id":"E-1"}])";
    // A table that ends before order_intake: Host::orderIntake must not read past it.
    FakeHost old_host({{"output", dir.path + "/events.jsonl"}, {"orders_file", orders}},
                      static_cast<uint32_t>(offsetof(keel_host_api, order_intake)));
    const Instance instance(old_host);
    BOOST_TEST_REQUIRE(instance.status() == KEEL_OK, instance.error());
    const auto pulled = instance.call(pluginApi().marketplace->pull_orders, "{}");
    // order_intake is refused, then report_error (also past the end) while handling it: the status says so.
    BOOST_TEST(pulled.status == KEEL_E_UNSUPPORTED);
    BOOST_TEST(pulled.text.find("does not offer report_error") != std::string::npos, pulled.text);
    BOOST_TEST(old_host.intake.empty());
}

BOOST_AUTO_TEST_CASE(create_refuses_another_abi_major) {
    keel::test::TempDir dir;
    FakeHost host({{"output", dir.path + "/events.jsonl"}});
    host.api.abi_major = KEEL_PLUGIN_ABI_MAJOR + 1;
    const Instance instance(host);
    BOOST_TEST(instance.status() == KEEL_E_UNSUPPORTED);
    BOOST_TEST(instance.error().find("ABI major") != std::string::npos, instance.error());
}

BOOST_AUTO_TEST_CASE(every_capability_table_reaches_its_operation) {
    const auto& api = allApi();
    BOOST_TEST(std::string(api.name) == "sdk-all");
    BOOST_TEST(api.capabilities == (KEEL_CAP_MARKETPLACE | KEEL_CAP_FULFILLMENT | KEEL_CAP_TAX | KEEL_CAP_EDI |
                                    KEEL_CAP_TRANSPORT | KEEL_CAP_SUBSCRIBER));
    BOOST_TEST_REQUIRE((api.marketplace && api.fulfillment && api.tax && api.edi && api.transport && api.subscriber));
    BOOST_TEST(api.fulfillment->size == sizeof(keel_fulfillment_v1));
    BOOST_TEST(api.edi->size == sizeof(keel_edi_v1));
    BOOST_TEST(api.transport->size == sizeof(keel_transport_v1));
    BOOST_TEST(api.tax->size == sizeof(keel_tax_v1));
    FakeHost host({});
    const Instance instance(host, api);
    BOOST_TEST_REQUIRE(instance.status() == KEEL_OK, instance.error());
    const std::string request = R"({"n":1})";
    const std::vector<std::pair<keel_operation, std::string>> implemented = {
        {api.marketplace->pull_orders, "pull_orders"},
        {api.fulfillment->send_shipment_request, "send_shipment_request"},
        {api.tax->quote, "quote"},
        {api.tax->void_, "void"},
        {api.edi->to_documents, "to_documents"},
        {api.transport->send, "send"},
        {api.subscriber->on_event, "on_event"}};
    for (const auto& [operation, name] : implemented) {
        const auto outcome = instance.call(operation, request);
        BOOST_TEST(outcome.status == KEEL_OK, name);
        BOOST_TEST(outcome.text == R"({"operation":")" + name + R"(","request":{"n":1}})");
    }
    const std::vector<std::pair<keel_operation, std::string>> defaults = {
        {api.marketplace->acknowledge, "marketplace.acknowledge"},
        {api.marketplace->push_inventory, "marketplace.push_inventory"},
        {api.marketplace->push_tracking, "marketplace.push_tracking"},
        {api.marketplace->pull_cancellations, "marketplace.pull_cancellations"},
        {api.fulfillment->receive_confirmations, "fulfillment.receive_confirmations"},
        {api.fulfillment->receive_inventory_snapshot, "fulfillment.receive_inventory_snapshot"},
        {api.tax->commit, "tax.commit"},
        {api.edi->from_document, "edi.from_document"},
        {api.transport->receive, "transport.receive"}};
    for (const auto& [operation, name] : defaults) {
        const auto outcome = instance.call(operation, request);
        BOOST_TEST(outcome.status == KEEL_E_UNSUPPORTED, name);
        BOOST_TEST(outcome.text == name + " is not implemented by this plugin");
    }
}

BOOST_AUTO_TEST_CASE(every_exception_stops_at_the_boundary) {
    FakeHost host({});
    const Instance instance(host, allApi());
    BOOST_TEST_REQUIRE(instance.status() == KEEL_OK, instance.error());
    const auto error = instance.tick("error");
    BOOST_TEST(error.status == KEEL_E_CONFLICT);
    BOOST_TEST(error.text == "conflict from tick");
    const auto ok_status = instance.tick("ok-status");  // never report success for a failure
    BOOST_TEST(ok_status.status == KEEL_E_INTERNAL);
    BOOST_TEST(ok_status.text == "an Error with KEEL_OK");
    const auto standard = instance.tick("std");
    BOOST_TEST(standard.status == KEEL_E_INTERNAL);
    BOOST_TEST(standard.text == "std exception from tick");
    const auto other = instance.tick("int");
    BOOST_TEST(other.status == KEEL_E_INTERNAL);
    BOOST_TEST(other.text == "unknown exception");
    // The fake host has no secret_get (a NULL member within the size): the wrapper refuses instead of calling it.
    const auto secret = instance.tick("secret");
    BOOST_TEST(secret.status == KEEL_E_UNSUPPORTED);
    BOOST_TEST(secret.text.find("does not offer secret_get") != std::string::npos, secret.text);
    BOOST_TEST(instance.tick("fine").status == KEEL_OK);
    BOOST_TEST(host.log.back() == "tick fine");
}
