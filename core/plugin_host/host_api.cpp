// keel_host_api: what a plugin instance can ask of Keel. Every function catches everything: no exception may
// cross the C boundary, so a failure becomes a status and a message in the plugin's buffer.

#include "internal.h"

#include "keel/catalog/catalog.h"
#include "keel/db/database.h"
#include "keel/inventory/inventory.h"
#include "keel/kernel/http_client.h"
#include "keel/orders/document.h"
#include "keel/orders/orders.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace keel::plugin_host::detail {

namespace {

Instance& self(void* ctx) {
    return *static_cast<Instance*>(ctx);
}

std::string json(const Poco::JSON::Object& object) {
    std::ostringstream out;
    object.stringify(out);
    return out.str();
}

// Runs a host function body: an exception becomes KEEL_E_INTERNAL with its text for the plugin and the log.
template <typename Body>
keel_status guard(Instance& instance, const char* function, keel_buffer* out, Body&& body) {
    try {
        return body();
    } catch (const Poco::Exception& e) {
        instance.logger->error(std::string(function) + ": " + e.displayText());
        put(out, std::string(function) + ": " + e.displayText());
    } catch (const std::exception& e) {
        instance.logger->error(std::string(function) + ": " + e.what());
        put(out, std::string(function) + ": " + e.what());
    }
    return KEEL_E_INTERNAL;
}

Poco::JSON::Object::Ptr parseObject(std::string_view text, const char* what) {
    auto value = Poco::JSON::Parser().parse(std::string(text));
    auto object = value.extract<Poco::JSON::Object::Ptr>();
    if (object.isNull()) throw RejectedError(std::string(what) + ": not a JSON object");
    return object;
}

void hostLog(void* ctx, std::int32_t level, keel_str message) {
    Instance& i = self(ctx);
    try {
        const std::string text(view(message));
        switch (level) {
            case KEEL_LOG_ERROR:
                i.logger->error(text);
                break;
            case KEEL_LOG_WARNING:
                i.logger->warning(text);
                break;
            case KEEL_LOG_DEBUG:
                i.logger->debug(text);
                break;
            default:
                i.logger->information(text);
                break;
        }
    } catch (const std::exception& e) {
        // A log call has no status to return; the failure goes to the host's own log.
        Poco::Logger::get("keel.plugin_host").error("log of " + i.name + " failed: " + e.what());
    }
}

keel_status configGet(void* ctx, keel_str key, keel_buffer* value) {
    Instance& i = self(ctx);
    return guard(i, "config_get", value, [&] {
        const auto found = i.config.find(std::string(view(key)));
        if (found == i.config.end()) return KEEL_E_NOT_FOUND;
        put(value, found->second);
        return KEEL_OK;
    });
}

keel_status secretGet(void* ctx, keel_str name, keel_buffer* value) {
    Instance& i = self(ctx);
    return guard(i, "secret_get", value, [&] {
        const std::string key(view(name));
        const auto found = i.secrets.find(key);
        if (found == i.secrets.end()) return KEEL_E_NOT_FOUND;
        const std::string& ref = found->second;
        // The secret's value is never logged or put into a message; only its reference is named.
        if (ref.starts_with("env:")) {
            const char* text = std::getenv(ref.substr(4).c_str());
            if (text == nullptr) {
                put(value, "secret." + key + ": environment variable " + ref.substr(4) + " is not set");
                return KEEL_E_UNAVAILABLE;
            }
            put(value, text);
            return KEEL_OK;
        }
        if (ref.starts_with("file:")) {
            std::ifstream in(ref.substr(5), std::ios::binary);
            if (!in) {
                put(value, "secret." + key + ": cannot read " + ref.substr(5));
                return KEEL_E_UNAVAILABLE;
            }
            std::ostringstream text;
            text << in.rdbuf();
            std::string secret = text.str();
            while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
            put(value, secret);
            return KEEL_OK;
        }
        put(value, "secret." + key + ": the reference must be file:/path or env:VARIABLE");
        return KEEL_E_INVALID;
    });
}

keel_status httpRequest(void* ctx, keel_str request_json, keel_buffer* response_json) {
    Instance& i = self(ctx);
    return guard(i, "http_request", response_json, [&] {
        Poco::JSON::Object::Ptr request;
        try {
            request = parseObject(view(request_json), "http_request");
        } catch (const std::exception& e) {
            put(response_json, std::string("http_request: ") + e.what());
            return KEEL_E_INVALID;
        }
        const std::string method = request->optValue<std::string>("method", "GET");
        const std::string url = request->optValue<std::string>("url", "");
        Poco::URI uri;
        try {
            uri = Poco::URI(url);
        } catch (const Poco::Exception& e) {
            put(response_json, "http_request: url \"" + url + "\": " + e.displayText());
            return KEEL_E_INVALID;
        }
        if (uri.getScheme() != "http" && uri.getScheme() != "https") {
            put(response_json, "http_request: url \"" + url + "\" is not http or https");
            return KEEL_E_INVALID;
        }
        const auto timeout_ms = request->optValue<std::int64_t>("timeout_ms", 30000);
        // Certificates verified against the system's CAs, never a console prompt (keel/kernel/http_client.h).
        const auto session = openHttpSession(uri, std::chrono::milliseconds(timeout_ms));
        std::string path = uri.getPathAndQuery();
        if (path.empty()) path = "/";
        Poco::Net::HTTPRequest http(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
        if (auto headers = request->getObject("headers"); !headers.isNull()) {
            for (const auto& [name, header] : *headers) http.set(name, header.convert<std::string>());
        }
        const std::string body = request->optValue<std::string>("body", "");
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")
            http.setContentLength(body.size());
        Poco::Net::HTTPResponse http_response;
        std::string received;
        try {
            session->sendRequest(http) << body;
            std::istream& in = session->receiveResponse(http_response);
            Poco::StreamCopier::copyToString(in, received);
        } catch (const Poco::Net::NetException& e) {
            put(response_json, "http_request " + method + " " + url + ": " + e.displayText());
            return KEEL_E_UNAVAILABLE;
        } catch (const Poco::TimeoutException& e) {
            put(response_json,
                "http_request " + method + " " + url + ": timed out after " + std::to_string(timeout_ms) + " ms");
            return KEEL_E_UNAVAILABLE;
        } catch (const Poco::IOException& e) {
            put(response_json, "http_request " + method + " " + url + ": " + e.displayText());
            return KEEL_E_UNAVAILABLE;
        }
        Poco::JSON::Object response;
        response.set("status", static_cast<int>(http_response.getStatus()));
        Poco::JSON::Object headers;
        for (const auto& [name, header] : http_response) headers.set(name, header);
        response.set("headers", headers);
        response.set("body", received);
        put(response_json, json(response));
        return KEEL_OK;
    });
}

keel_status unavailable(keel_buffer* out, const char* function) {
    put(out, std::string(function) + ": not available in this process (no database or core services)");
    return KEEL_E_UNAVAILABLE;
}

keel_status orderIntake(void* ctx, keel_str order_json, keel_buffer* result_json) {
    Instance& i = self(ctx);
    return guard(i, "order_intake", result_json, [&] {
        const HostServices services = i.host->services;
        if (services.database == nullptr || services.orders == nullptr) return unavailable(result_json, "order_intake");
        const auto parsed = orders::parseOrderDocument(view(order_json));
        if (!parsed.ok()) {
            Poco::JSON::Array problems;
            for (const auto& p : parsed.problems) {
                Poco::JSON::Object problem;
                problem.set("field", p.field);
                problem.set("message", p.message);
                problems.add(problem);
            }
            Poco::JSON::Object out;
            out.set("problems", problems);
            put(result_json, json(out));
            return KEEL_E_INVALID;
        }
        auto outcome =
            services.orders->importDocument(*services.database, *parsed.document, orders::Actor{"plugin:" + i.name});
        if (!outcome) {
            const Problem& p = outcome.problem();
            Poco::JSON::Object out;
            Poco::JSON::Array problems;
            Poco::JSON::Object problem;
            problem.set("field", p.field);
            problem.set("message", p.message);
            problems.add(problem);
            out.set("problems", problems);
            put(result_json, json(out));
            return p.code == ExitCode::kConflict         ? KEEL_E_CONFLICT
                   : p.code == ExitCode::kNotFound       ? KEEL_E_NOT_FOUND
                   : p.code == ExitCode::kInfrastructure ? KEEL_E_UNAVAILABLE
                                                         : KEEL_E_INVALID;
        }
        Poco::JSON::Object out;
        out.set("order_id", outcome.value().order_id);
        out.set("outcome",
                outcome.value().status == orders::ImportStatus::kAlreadyImported ? "already_imported" : "imported");
        out.set("state", std::string(orders::toString(outcome.value().state)));
        put(result_json, json(out));
        return KEEL_OK;
    });
}

keel_status stockQuery(void* ctx, keel_str query_json, keel_buffer* result_json) {
    Instance& i = self(ctx);
    return guard(i, "stock_query", result_json, [&] {
        const HostServices services = i.host->services;
        if (services.database == nullptr || services.inventory == nullptr || services.catalog == nullptr) {
            return unavailable(result_json, "stock_query");
        }
        Poco::JSON::Object::Ptr query;
        try {
            query = parseObject(view(query_json), "stock_query");
        } catch (const std::exception& e) {
            put(result_json, std::string("stock_query: ") + e.what());
            return KEEL_E_INVALID;
        }
        const std::string sku = query->optValue<std::string>("sku", "");
        const std::string location = query->optValue<std::string>("location", "");
        const std::string channel = query->optValue<std::string>("channel", "");
        if (sku.empty()) {
            put(result_json, "stock_query: \"sku\" is required");
            return KEEL_E_INVALID;
        }
        return services.database->run([&](db::UnitOfWork& uow) {
            const auto item = services.catalog->findItem(uow, sku, channel);
            if (!item) {
                put(result_json, "stock_query: unknown item '" + sku + "'");
                return KEEL_E_NOT_FOUND;
            }
            std::optional<std::string> location_id;
            if (!location.empty()) {
                db::Statement& s = uow.statement("SELECT id FROM location WHERE code = ?");
                s.bind(location).execute();
                if (!s.next()) {
                    put(result_json, "stock_query: unknown location '" + location + "'");
                    return KEEL_E_NOT_FOUND;
                }
                location_id = s.getString(0);
            }
            const auto atp = services.inventory->atp(
                uow, item->id, location_id ? std::optional<std::string_view>(*location_id) : std::nullopt,
                channel.empty() ? std::nullopt : std::optional<std::string_view>(channel));
            Poco::JSON::Object out;
            out.set("sku", sku);
            out.set("atp", atp.available);
            std::int64_t on_hand = 0;
            Poco::JSON::Array locations;
            for (const auto& l : atp.locations) {
                on_hand += l.on_hand;
                Poco::JSON::Object entry;
                entry.set("location", l.location_code);
                entry.set("on_hand", l.on_hand);
                entry.set("allocated", l.allocated);
                entry.set("available", l.available);
                locations.add(entry);
            }
            out.set("on_hand", on_hand);
            out.set("locations", locations);
            put(result_json, json(out));
            return KEEL_OK;
        });
    });
}

keel_status documentGet(void* ctx, keel_str type, keel_str id, keel_buffer* document_json) {
    Instance& i = self(ctx);
    return guard(i, "document_get", document_json, [&] {
        const HostServices services = i.host->services;
        if (services.database == nullptr) return unavailable(document_json, "document_get");
        const std::string kind(view(type));
        const std::string key(view(id));
        if (kind != "order") {
            put(document_json, "document_get: documents of type \"" + kind + "\" are not offered yet (only \"order\")");
            return KEEL_E_UNSUPPORTED;
        }
        return services.database->run([&](db::UnitOfWork& uow) {
            db::Statement& s = uow.statement("SELECT document FROM sales_order WHERE id = ?");
            s.bind(key).execute();
            if (!s.next()) {
                put(document_json, "document_get: no order '" + key + "'");
                return KEEL_E_NOT_FOUND;
            }
            put(document_json, s.getString(0));
            return KEEL_OK;
        });
    });
}

keel_status schedule(void* ctx, keel_str task, std::uint32_t interval_seconds) {
    Instance& i = self(ctx);
    try {
        if (interval_seconds == 0 || view(task).empty()) {
            i.logger->error("schedule: a task needs a name and an interval of at least 1 second");
            return KEEL_E_INVALID;
        }
        if (i.plugin == nullptr || i.plugin->api->tick == nullptr) {
            i.logger->error("schedule: the plugin has no tick function");
            return KEEL_E_UNSUPPORTED;
        }
        i.host->schedule(i.name, std::string(view(task)), interval_seconds);
        return KEEL_OK;
    } catch (const std::exception& e) {
        i.logger->error(std::string("schedule: ") + e.what());
        return KEEL_E_INTERNAL;
    }
}

void reportError(void* ctx, keel_str code, keel_str message) {
    Instance& i = self(ctx);
    try {
        i.host->recordException("plugin:" + i.name, view(code).empty() ? "plugin_error" : std::string(view(code)),
                                std::string(view(message)), "");
    } catch (const std::exception& e) {
        Poco::Logger::get("keel.plugin_host").error("report_error of " + i.name + " failed: " + e.what());
    }
}

}  // namespace

void fillHostApi(Instance& instance) {
    keel_host_api& api = instance.api;
    api.size = sizeof(keel_host_api);
    api.abi_major = KEEL_PLUGIN_ABI_MAJOR;
    api.abi_minor = KEEL_PLUGIN_ABI_MINOR;
    api.ctx = &instance;
    api.log = &hostLog;
    api.config_get = &configGet;
    api.secret_get = &secretGet;
    api.http_request = &httpRequest;
    api.order_intake = &orderIntake;
    api.stock_query = &stockQuery;
    api.document_get = &documentGet;
    api.schedule = &schedule;
    api.report_error = &reportError;
}

}  // namespace keel::plugin_host::detail
