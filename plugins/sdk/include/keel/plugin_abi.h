/* Keel plugin ABI: the C contract between Keel (the host) and a plugin library.
 *
 * Stability rules (docs/plugins.md):
 *  - KEEL_PLUGIN_ABI_MAJOR changes only when something here changes incompatibly; the host refuses a plugin of
 *    another major. KEEL_PLUGIN_ABI_MINOR grows when something is appended; the host accepts a plugin whose minor
 *    is not above its own.
 *  - Every struct that crosses the boundary begins with its own size in bytes and is append-only: a reader checks
 *    `size` before touching a member that a later minor appended.
 *  - Only fixed-width integers, pointers and keel_str cross; strings are UTF-8, not NUL-terminated, with a length.
 *  - Business documents cross as UTF-8 JSON in Keel's canonical model, each with "type" and "version"
 *    (docs/schemas/). No C++ type, exception or allocator crosses: an output is copied into a keel_buffer that
 *    the receiving side supplies, and neither side frees what the other allocated.
 *  - A library exports exactly one symbol, KEEL_PLUGIN_ENTRY_NAME; everything else is reached through it.
 */
#ifndef KEEL_PLUGIN_ABI_H
#define KEEL_PLUGIN_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KEEL_PLUGIN_ABI_MAJOR 1
#define KEEL_PLUGIN_ABI_MINOR 0
#define KEEL_PLUGIN_ENTRY_NAME "keel_plugin_entry"

#if defined(__GNUC__)
#define KEEL_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define KEEL_PLUGIN_EXPORT
#endif

/* Status of every call. The values match the exit codes of the `keel` command where they overlap. */
typedef int32_t keel_status;
#define KEEL_OK 0
#define KEEL_E_INVALID 2     /* the request was rejected (bad document, business rule); not retried */
#define KEEL_E_NOT_FOUND 3   /* what the request names does not exist */
#define KEEL_E_CONFLICT 4    /* already done differently (idempotency) */
#define KEEL_E_UNAVAILABLE 5 /* a remote service or resource is unavailable; retried later, counts for the breaker */
#define KEEL_E_INTERNAL 6    /* a bug or an unexpected failure inside the plugin; counts for the circuit breaker */
#define KEEL_E_UNSUPPORTED 7 /* the operation is not implemented by this plugin */

/* A UTF-8 string with its length in bytes (not NUL-terminated). */
typedef struct keel_str {
    const char* data;
    uint64_t size;
} keel_str;

/* An output parameter: whoever receives the output supplies the buffer (the host for plugin operations, the
 * plugin for host functions) and the callee calls `assign` (once or more; each call replaces the content) to copy
 * its output into the receiver's memory. On failure a call may assign a message (plain UTF-8 text). */
typedef struct keel_buffer {
    void* opaque;
    void (*assign)(void* opaque, const char* data, uint64_t size);
} keel_buffer;

/* Log levels for keel_host_api.log. */
#define KEEL_LOG_ERROR 3
#define KEEL_LOG_WARNING 4
#define KEEL_LOG_INFO 6
#define KEEL_LOG_DEBUG 7

/* What the host offers a plugin instance. `ctx` is the instance's own context: pass it back on every call.
 * Append-only: members after those of ABI 1.0 are present only when `size` covers them. */
typedef struct keel_host_api {
    uint32_t size; /* sizeof(keel_host_api) as the host was built */
    uint16_t abi_major;
    uint16_t abi_minor;
    void* ctx;

    /* Logging, to Keel's log under the instance's name. */
    void (*log)(void* ctx, int32_t level, keel_str message);
    /* The instance's configuration (plugins.d/INSTANCE.properties): KEEL_E_NOT_FOUND when the key is absent. */
    keel_status (*config_get)(void* ctx, keel_str key, keel_buffer* value);
    /* A secret named in the instance's configuration (secret.NAME = file or env reference), never logged. */
    keel_status (*secret_get)(void* ctx, keel_str name, keel_buffer* value);
    /* An outbound HTTP(S) request: {"method","url","headers":{...},"body","timeout_ms"} ->
     * {"status":200,"headers":{...},"body":"..."}; KEEL_E_UNAVAILABLE when the service cannot be reached. */
    keel_status (*http_request)(void* ctx, keel_str request_json, keel_buffer* response_json);
    /* Idempotent order intake of a canonical order document -> {"order_id","outcome":"imported"|"already_imported",
     * "state"}; KEEL_E_CONFLICT for a changed re-send, KEEL_E_INVALID with the problems as JSON. */
    keel_status (*order_intake)(void* ctx, keel_str order_json, keel_buffer* result_json);
    /* Stock and ATP: {"sku","location"?,"channel"?} -> {"sku","atp":N,"on_hand":N,"locations":[...]}. */
    keel_status (*stock_query)(void* ctx, keel_str query_json, keel_buffer* result_json);
    /* A canonical document by type and id ("order", "shipment", "return", "invoice"). */
    keel_status (*document_get)(void* ctx, keel_str type, keel_str id, keel_buffer* document_json);
    /* Asks the host to call the instance's `tick` (keel_plugin_api) with `task` every `interval_seconds`. */
    keel_status (*schedule)(void* ctx, keel_str task, uint32_t interval_seconds);
    /* Reports a failure that needs an operator: it appears in the exception queue with the instance's name. */
    void (*report_error)(void* ctx, keel_str code, keel_str message);
} keel_host_api;

/* An instance of a plugin, created by keel_plugin_api.create; opaque to the host. */
typedef struct keel_plugin_instance keel_plugin_instance;

/* A JSON-in, JSON-out operation of a capability. */
typedef keel_status (*keel_operation)(keel_plugin_instance* instance, keel_str request_json, keel_buffer* response_json);

/* Capability kinds, as bits of keel_plugin_api.capabilities and names in the manifest. */
#define KEEL_CAP_MARKETPLACE 0x01u
#define KEEL_CAP_FULFILLMENT 0x02u
#define KEEL_CAP_TAX 0x04u
#define KEEL_CAP_EDI 0x08u
#define KEEL_CAP_TRANSPORT 0x10u
#define KEEL_CAP_SUBSCRIBER 0x20u

/* marketplace: a sales channel (pull orders, acknowledge them, push inventory levels and tracking, pull
 * cancellations). Requests and responses are documented in docs/plugins.md. */
typedef struct keel_marketplace_v1 {
    uint32_t size;
    keel_operation pull_orders;        /* {"since"?} -> {"orders":[order...],"cursor"} */
    keel_operation acknowledge;        /* order_acknowledgment -> {} */
    keel_operation push_inventory;     /* inventory_advice -> {} */
    keel_operation push_tracking;      /* advance_ship_notice -> {} */
    keel_operation pull_cancellations; /* {"since"?} -> {"cancellations":[{"external_id","lines"?}]} */
} keel_marketplace_v1;

/* fulfillment: a 3PL or WMS. */
typedef struct keel_fulfillment_v1 {
    uint32_t size;
    keel_operation send_shipment_request;      /* shipment_request -> {"reference"} */
    keel_operation receive_confirmations;      /* {} -> {"confirmations":[shipment_confirmation...]} */
    keel_operation receive_inventory_snapshot; /* {} -> inventory_advice */
} keel_fulfillment_v1;

/* tax: quote, commit (the invoice was issued) and void (it was cancelled). */
typedef struct keel_tax_v1 {
    uint32_t size;
    keel_operation quote;   /* tax_request -> tax_result */
    keel_operation commit;  /* {"document_id","tax_result"} -> {} */
    keel_operation void_;   /* {"document_id"} -> {} */
} keel_tax_v1;

/* edi: translation between interchange bytes and canonical documents for a partner profile. */
typedef struct keel_edi_v1 {
    uint32_t size;
    keel_operation to_documents; /* {"partner","bytes"(base64)} -> {"documents":[...],"acknowledgments":[...]} */
    keel_operation from_document; /* {"partner","document"} -> {"bytes"(base64)} */
} keel_edi_v1;

/* transport: moves bytes to and from a partner (file drop, AS2). */
typedef struct keel_transport_v1 {
    uint32_t size;
    keel_operation send;    /* {"partner","name","bytes"(base64)} -> {"reference"} */
    keel_operation receive; /* {"partner"} -> {"messages":[{"name","bytes"(base64)}]} */
} keel_transport_v1;

/* subscriber: receives outbox events in order per aggregate, at least once (deduplicate by "id"). */
typedef struct keel_subscriber_v1 {
    uint32_t size;
    keel_operation on_event; /* event {"id","seq","type","aggregate_type","aggregate_id","payload","created_at"} -> {} */
} keel_subscriber_v1;

/* What a plugin library offers; returned by its entry symbol and valid for the life of the library. */
typedef struct keel_plugin_api {
    uint32_t size; /* sizeof(keel_plugin_api) as the plugin was built */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char* name;    /* NUL-terminated, static: "tax-table" */
    const char* version; /* NUL-terminated, static: "1.2.0" */
    uint32_t capabilities; /* KEEL_CAP_* bits; the matching table below is non-NULL exactly when its bit is set */

    /* Creates an instance with its host table (kept by the instance for its whole life). On failure returns a
     * status and may put a message in `error`. */
    keel_status (*create)(const keel_host_api* host, keel_plugin_instance** instance, keel_buffer* error);
    /* Destroys an instance; the host calls it before the library could go away. */
    void (*destroy)(keel_plugin_instance* instance);
    /* Scheduled work (keel_host_api.schedule); may be NULL. */
    keel_status (*tick)(keel_plugin_instance* instance, keel_str task, keel_buffer* error);

    const keel_marketplace_v1* marketplace;
    const keel_fulfillment_v1* fulfillment;
    const keel_tax_v1* tax;
    const keel_edi_v1* edi;
    const keel_transport_v1* transport;
    const keel_subscriber_v1* subscriber;
} keel_plugin_api;

/* The one exported symbol of a plugin library. */
typedef const keel_plugin_api* (*keel_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* KEEL_PLUGIN_ABI_H */
