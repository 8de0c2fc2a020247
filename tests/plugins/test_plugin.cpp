// A test plugin written against the raw C ABI (keel/plugin_abi.h), not the C++ wrapper, so the host's tests do
// not depend on it. Capabilities: tax and subscriber. Deterministic:
//   tax.quote: every line and shipping taxed at the instance's `rate` (a decimal string, default "0.0625"),
//   rounded half up per line, one jurisdiction "TEST-<country>[-<region>]".
//   Failures on demand: when the file named by `fail_file` exists and holds "internal" or "unavailable", every
//   operation answers KEEL_E_INTERNAL / KEEL_E_UNAVAILABLE (tests switch it without touching the host).
//   `fail_create = true` makes create fail; `schedule = TASK` asks for a tick every 60 s; on_event appends the
//   event's id to `events_file` (events of type test.* call the host function they name with their payload);
//   `require_secret = NAME` checks secret_get against `expect_secret`. The JSON of the documents is read and written
//   with Poco::JSON (shared library).
// The same source builds the refused variants (TEST_ABI_MAJOR/TEST_ABI_MINOR) under other names.

#include "keel/plugin_abi.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#ifndef TEST_PLUGIN_NAME
#define TEST_PLUGIN_NAME "test-good"
#endif
#ifndef TEST_ABI_MAJOR
#define TEST_ABI_MAJOR KEEL_PLUGIN_ABI_MAJOR
#endif
#ifndef TEST_ABI_MINOR
#define TEST_ABI_MINOR KEEL_PLUGIN_ABI_MINOR
#endif

struct keel_plugin_instance {
    const keel_host_api* host = nullptr;
    std::string rate = "0.0625";
    std::string fail_file;
    std::string events_file;
    std::int64_t ticks = 0;
};

namespace {

void put(keel_buffer* out, const std::string& text) {
    if (out != nullptr && out->assign != nullptr) out->assign(out->opaque, text.data(), text.size());
}

// The host fills our buffer through this sink (plugin-owned memory).
struct Sink {
    std::string text;
    keel_buffer buffer{&text, [](void* opaque, const char* data, std::uint64_t size) {
                           static_cast<std::string*>(opaque)->assign(data, static_cast<std::size_t>(size));
                       }};
};

bool config(const keel_host_api* host, const std::string& key, std::string& out) {
    Sink sink;
    const keel_str k{key.data(), key.size()};
    if (host->config_get(host->ctx, k, &sink.buffer) != KEEL_OK) return false;
    out = sink.text;
    return true;
}

// "internal", "unavailable" or "" from the fail file.
keel_status injected(const keel_plugin_instance* self, keel_buffer* out) {
    if (self->fail_file.empty()) return KEEL_OK;
    std::ifstream in(self->fail_file);
    if (!in) return KEEL_OK;
    std::string mode;
    in >> mode;
    if (mode == "internal") {
        put(out, "injected internal failure");
        return KEEL_E_INTERNAL;
    }
    if (mode == "unavailable") {
        put(out, "injected: tax service unreachable");
        return KEEL_E_UNAVAILABLE;
    }
    return KEEL_OK;
}

// Decimal text -> integer scaled by 10^scale; false when malformed or more decimals than `scale`.
bool scaled(const std::string& text, int scale, std::int64_t& out) {
    std::int64_t value = 0;
    int decimals = -1;
    if (text.empty()) return false;
    for (char c : text) {
        if (c == '.') {
            if (decimals >= 0) return false;
            decimals = 0;
        } else if (c >= '0' && c <= '9') {
            value = value * 10 + (c - '0');
            if (decimals >= 0) ++decimals;
        } else {
            return false;
        }
    }
    if (decimals < 0) decimals = 0;
    if (decimals > scale) return false;
    for (int i = decimals; i < scale; ++i) value *= 10;
    out = value;
    return true;
}

std::string format(std::int64_t minor, int exponent) {
    std::string digits = std::to_string(minor);
    if (exponent == 0) return digits;
    while (static_cast<int>(digits.size()) <= exponent) digits.insert(0, "0");
    digits.insert(digits.size() - static_cast<std::size_t>(exponent), ".");
    return digits;
}

constexpr int kRateScale = 6;

std::int64_t taxOf(std::int64_t minor, std::int64_t rate_millionths) {
    return (minor * rate_millionths + 500000) / 1000000;  // half up (amounts are not negative)
}

keel_status quote(keel_plugin_instance* self, keel_str request_json, keel_buffer* response_json) {
    if (keel_status s = injected(self, response_json); s != KEEL_OK) return s;
    try {
        const auto request = Poco::JSON::Parser()
                                 .parse(std::string(request_json.data, static_cast<std::size_t>(request_json.size)))
                                 .extract<Poco::JSON::Object::Ptr>();
        if (request->optValue<std::string>("type", "") != "tax_request") {
            put(response_json, "type: expected \"tax_request\"");
            return KEEL_E_INVALID;
        }
        const int exponent = request->getValue<int>("currency_exponent");
        std::int64_t rate = 0;
        if (!scaled(self->rate, kRateScale, rate)) {
            put(response_json, "rate: \"" + self->rate + "\" is not a decimal rate");
            return KEEL_E_INVALID;
        }
        const auto ship_to = request->getObject("ship_to");
        std::string code = "TEST-" + ship_to->optValue<std::string>("country", "");
        if (!ship_to->optValue<std::string>("region", "").empty())
            code += "-" + ship_to->getValue<std::string>("region");
        const auto jurisdictions = [&](std::int64_t tax) {
            Poco::JSON::Array list;
            Poco::JSON::Object j;
            j.set("code", code);
            j.set("name", "Test jurisdiction");
            j.set("rate", self->rate);
            j.set("tax", format(tax, exponent));
            list.add(j);
            return list;
        };
        Poco::JSON::Object result;
        result.set("type", "tax_result");
        result.set("version", 1);
        result.set("currency", request->getValue<std::string>("currency"));
        Poco::JSON::Array lines;
        std::int64_t total = 0;
        const auto request_lines = request->getArray("lines");
        for (unsigned i = 0; i < request_lines->size(); ++i) {
            const auto line = request_lines->getObject(i);
            std::int64_t amount = 0;
            const std::string text = line->getValue<std::string>("amount");
            if (!scaled(text, exponent, amount)) {
                put(response_json, "lines[" + std::to_string(i) + "].amount: \"" + text + "\" is not a decimal amount");
                return KEEL_E_INVALID;
            }
            const std::int64_t tax = line->optValue<std::string>("tax_class", "") == "exempt" ? 0 : taxOf(amount, rate);
            total += tax;
            Poco::JSON::Object out;
            out.set("line_id", line->getValue<std::string>("line_id"));
            out.set("tax", format(tax, exponent));
            out.set("jurisdictions", jurisdictions(tax));
            lines.add(out);
        }
        result.set("lines", lines);
        std::int64_t shipping_amount = 0;
        if (const auto shipping = request->getObject("shipping"); !shipping.isNull()) {
            scaled(shipping->getValue<std::string>("amount"), exponent, shipping_amount);
        }
        const std::int64_t shipping_tax = taxOf(shipping_amount, rate);
        total += shipping_tax;
        Poco::JSON::Object shipping;
        shipping.set("tax", format(shipping_tax, exponent));
        shipping.set("jurisdictions", shipping_tax == 0 ? Poco::JSON::Array() : jurisdictions(shipping_tax));
        result.set("shipping", shipping);
        result.set("total_tax", format(total, exponent));
        result.set("exemption", Poco::Dynamic::Var());
        std::ostringstream text;
        result.stringify(text);
        put(response_json, text.str());
        return KEEL_OK;
    } catch (const std::exception& e) {
        put(response_json, std::string("malformed tax_request: ") + e.what());
        return KEEL_E_INVALID;
    }
}

keel_status commitOrVoid(keel_plugin_instance* self, keel_str, keel_buffer* response_json) {
    if (keel_status s = injected(self, response_json); s != KEEL_OK) return s;
    put(response_json, "{}");
    return KEEL_OK;
}

keel_status onEvent(keel_plugin_instance* self, keel_str event_json, keel_buffer* response_json) {
    if (keel_status s = injected(self, response_json); s != KEEL_OK) return s;
    try {
        const auto event = Poco::JSON::Parser()
                               .parse(std::string(event_json.data, static_cast<std::size_t>(event_json.size)))
                               .extract<Poco::JSON::Object::Ptr>();
        // Events of type test.* exercise the host functions: the answer is the host's response and status.
        const std::string type = event->optValue<std::string>("type", "");
        const std::string payload = event->optValue<std::string>("payload", "");
        const keel_str arg{payload.data(), payload.size()};
        const keel_host_api* host = self->host;
        if (type == "test.order_intake") return host->order_intake(host->ctx, arg, response_json);
        if (type == "test.stock_query") return host->stock_query(host->ctx, arg, response_json);
        if (type == "test.http_request") return host->http_request(host->ctx, arg, response_json);
        if (type == "test.document_get") {
            const std::string kind = "order";
            return host->document_get(host->ctx, keel_str{kind.data(), kind.size()}, arg, response_json);
        }
        if (type == "test.report_error") {
            const std::string code = "test_code";
            host->report_error(host->ctx, keel_str{code.data(), code.size()}, arg);
            put(response_json, "{}");
            return KEEL_OK;
        }
        if (!self->events_file.empty()) {
            std::ofstream out(self->events_file, std::ios::app);
            out << event->getValue<std::string>("id") << '\n';
        }
        put(response_json, "{}");
        return KEEL_OK;
    } catch (const std::exception& e) {
        put(response_json, std::string("malformed event: ") + e.what());
        return KEEL_E_INVALID;
    }
}

keel_status create(const keel_host_api* host, keel_plugin_instance** instance, keel_buffer* error) {
    if (host == nullptr || host->size < sizeof(keel_host_api) || host->abi_major != KEEL_PLUGIN_ABI_MAJOR) {
        put(error, "host table too old or of another ABI major");
        return KEEL_E_UNSUPPORTED;
    }
    std::string value;
    if (config(host, "fail_create", value) && value == "true") {
        put(error, "fail_create is set in the instance configuration");
        return KEEL_E_INVALID;
    }
    // `require_secret = NAME`: create fails unless secret NAME equals `expect_secret` (never echoed).
    if (std::string name; config(host, "require_secret", name)) {
        Sink secret;
        std::string expected;
        config(host, "expect_secret", expected);
        const keel_status s = host->secret_get(host->ctx, keel_str{name.data(), name.size()}, &secret.buffer);
        if (s != KEEL_OK || secret.text != expected) {
            put(error, "secret " + name + " is unavailable or wrong");
            return KEEL_E_UNAVAILABLE;
        }
    }
    auto* self = new keel_plugin_instance();
    self->host = host;
    config(host, "rate", self->rate);
    config(host, "fail_file", self->fail_file);
    config(host, "events_file", self->events_file);
    if (config(host, "schedule", value)) host->schedule(host->ctx, keel_str{value.data(), value.size()}, 60);
    const std::string hello = "created with rate " + self->rate;
    host->log(host->ctx, KEEL_LOG_INFO, keel_str{hello.data(), hello.size()});
    *instance = self;
    return KEEL_OK;
}

void destroy(keel_plugin_instance* instance) {
    delete instance;
}

keel_status tick(keel_plugin_instance* self, keel_str, keel_buffer* error) {
    if (keel_status s = injected(self, error); s != KEEL_OK) return s;
    ++self->ticks;
    return KEEL_OK;
}

const keel_tax_v1 kTax = {sizeof(keel_tax_v1), &quote, &commitOrVoid, &commitOrVoid};
const keel_subscriber_v1 kSubscriber = {sizeof(keel_subscriber_v1), &onEvent};

const keel_plugin_api kApi = {
    sizeof(keel_plugin_api),
    TEST_ABI_MAJOR,
    TEST_ABI_MINOR,
    TEST_PLUGIN_NAME,
    "1.0.0",
    KEEL_CAP_TAX | KEEL_CAP_SUBSCRIBER,
    &create,
    &destroy,
    &tick,
    nullptr,
    nullptr,
    &kTax,
    nullptr,
    nullptr,
    &kSubscriber,
};

}  // namespace

extern "C" KEEL_PLUGIN_EXPORT const keel_plugin_api* keel_plugin_entry(void) {
    return &kApi;
}
