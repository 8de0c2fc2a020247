// The route table of /api/v1 and its handlers. Each handler reads its input, calls the services the `keel` command
// calls for the same thing (modules/cli/commands_*.cpp), and answers JSON; amounts are decimal strings of exact
// minor units, quantities integers in the item's base unit.
#include "keel/server/api.h"

#include "keel/app/edi_exchange.h"
#include "keel/catalog/aliases.h"
#include "keel/edi/x12_envelope.h"
#include "keel/events/log.h"
#include "keel/kernel/clock.h"
#include "keel/kernel/hash.h"
#include "keel/orders/document.h"
#include "keel/orders/returns.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <limits>
#include <sstream>

namespace keel::server {

namespace {

using Role = auth::Role;
using Object = Poco::JSON::Object;
using ObjectPtr = Poco::JSON::Object::Ptr;
using Array = Poco::JSON::Array;
using ArrayPtr = Poco::JSON::Array::Ptr;

// Who may call what (docs/openapi.json lists them per route as x-keel-roles). admin may do everything; read-only
// every read; operations runs orders, stock, fulfillment and the exception queue; finance the ledger (and reads
// returns); integration takes orders, EDI and shipment confirmations in and reads the catalog, stock and events.
const std::vector<Role> kCatalogRead = {Role::kAdmin, Role::kOperations, Role::kIntegration, Role::kReadOnly};
const std::vector<Role> kCatalogWrite = {Role::kAdmin, Role::kOperations};
const std::vector<Role> kStockWrite = {Role::kAdmin, Role::kOperations};
const std::vector<Role> kOrdersRead = {Role::kAdmin, Role::kOperations, Role::kIntegration, Role::kReadOnly};
const std::vector<Role> kOrdersIntake = {Role::kAdmin, Role::kOperations, Role::kIntegration};
const std::vector<Role> kOrdersManage = {Role::kAdmin, Role::kOperations};
const std::vector<Role> kShipmentConfirm = {Role::kAdmin, Role::kOperations, Role::kIntegration};
const std::vector<Role> kReturnsRead = {Role::kAdmin, Role::kOperations, Role::kFinance, Role::kReadOnly};
const std::vector<Role> kReturnsWrite = {Role::kAdmin, Role::kOperations};
const std::vector<Role> kExceptionsRead = {Role::kAdmin, Role::kOperations, Role::kReadOnly};
const std::vector<Role> kLedgerRead = {Role::kAdmin, Role::kFinance, Role::kReadOnly};
const std::vector<Role> kEventsRead = {Role::kAdmin, Role::kIntegration, Role::kReadOnly};
const std::vector<Role> kPluginsRead = {Role::kAdmin, Role::kOperations, Role::kReadOnly};
const std::vector<Role> kEdiInbound = {Role::kAdmin, Role::kIntegration};

// Creating an item or a location is "check that it is new, then save" and saving is an upsert: serializable, so two
// requests creating the same SKU at once cannot both see nothing and both answer 201 (the loser is retried and
// then finds the winner's row: 409).
const db::RunOptions kCreateOnce{db::Isolation::kSerializable, 0, false, {}};

Poco::Dynamic::Var optionalInt(const std::optional<std::int64_t>& value) {
    return value ? Poco::Dynamic::Var(static_cast<Poco::Int64>(*value)) : Poco::Dynamic::Var();
}

std::string money(std::int64_t minor, const Currency& currency) {
    return Money(minor, currency).toString();
}

// ----------------------------------------------------------------------------------------- request fields

ApiError invalid(const std::string& field, const std::string& message) {
    return ApiError(422, "rejected", field + ": " + message, field);
}

bool has(const ObjectPtr& json, const std::string& name) {
    return json->has(name) && !json->isNull(name);
}

std::optional<std::string> optString(const ObjectPtr& json, const std::string& name) {
    if (!has(json, name)) return std::nullopt;
    const auto value = json->get(name);
    if (!value.isString()) throw invalid(name, "must be a string");
    return value.convert<std::string>();
}

std::string reqString(const ObjectPtr& json, const std::string& name) {
    auto value = optString(json, name);
    if (!value || value->empty()) throw invalid(name, "is required");
    return *value;
}

std::optional<std::int64_t> optInteger(const ObjectPtr& json, const std::string& name) {
    if (!has(json, name)) return std::nullopt;
    const auto value = json->get(name);
    // Whole numbers only: a fraction or a string is refused rather than rounded (quantities are exact).
    if (!value.isInteger()) throw invalid(name, "must be a whole number");
    return value.convert<Poco::Int64>();
}

std::optional<bool> optBool(const ObjectPtr& json, const std::string& name) {
    if (!has(json, name)) return std::nullopt;
    const auto value = json->get(name);
    if (!value.isBoolean()) throw invalid(name, "must be true or false");
    return value.convert<bool>();
}

// ----------------------------------------------------------------------------------------- JSON of things

ObjectPtr itemJson(const catalog::Item& item, const std::vector<catalog::ChannelAlias>* aliases = nullptr) {
    ObjectPtr o = new Object;
    o->set("id", item.id);
    o->set("sku", item.sku);
    o->set("name", item.name);
    o->set("description", item.description);
    o->set("base_uom", item.base_uom);
    o->set("gtin", item.gtin ? Poco::Dynamic::Var(*item.gtin) : Poco::Dynamic::Var());
    o->set("weight_mg", optionalInt(item.weight_mg));
    o->set("length_mm", optionalInt(item.length_mm));
    o->set("width_mm", optionalInt(item.width_mm));
    o->set("height_mm", optionalInt(item.height_mm));
    o->set("lot_tracked", item.lot_tracked);
    o->set("expiry_tracked", item.expiry_tracked);
    o->set("shelf_life_days", item.shelf_life_days ? Poco::Dynamic::Var(*item.shelf_life_days) : Poco::Dynamic::Var());
    o->set("tax_class", item.tax_class);
    o->set("cost_method", std::string(catalog::toString(item.cost_method)));
    o->set("status", std::string(catalog::toString(item.status)));
    o->set("is_kit", item.is_kit);
    o->set("safety_stock", static_cast<Poco::Int64>(item.safety_stock));
    ArrayPtr units = new Array;
    for (const auto& unit : item.units) {
        ObjectPtr u = new Object;
        u->set("uom", unit.uom);
        u->set("factor", static_cast<Poco::Int64>(unit.factor));
        u->set("gtin", unit.gtin ? Poco::Dynamic::Var(*unit.gtin) : Poco::Dynamic::Var());
        units->add(u);
    }
    o->set("units", units);
    ArrayPtr components = new Array;
    for (const auto& component : item.components) {
        ObjectPtr c = new Object;
        c->set("sku", component.sku);
        c->set("quantity", static_cast<Poco::Int64>(component.quantity));
        components->add(c);
    }
    o->set("components", components);
    if (aliases != nullptr) {
        ArrayPtr list = new Array;
        for (const auto& alias : *aliases) {
            ObjectPtr a = new Object;
            a->set("channel", alias.channel);
            a->set("channel_sku", alias.channel_sku);
            list->add(a);
        }
        o->set("aliases", list);
    }
    return o;
}

ObjectPtr locationJson(const catalog::Location& location) {
    ObjectPtr o = new Object;
    o->set("id", location.id);
    o->set("code", location.code);
    o->set("name", location.name);
    o->set("type", std::string(catalog::toString(location.type)));
    o->set("priority", location.priority);
    o->set("country", location.country);
    o->set("region", location.region);
    o->set("ships_to_customers", location.ships_to_customers);
    o->set("active", location.active);
    return o;
}

ObjectPtr orderJson(const orders::Order& o) {
    ObjectPtr j = new Object;
    j->set("id", o.id);
    j->set("channel", o.channel);
    j->set("external_id", o.external_id);
    j->set("state", std::string(orders::toString(o.state)));
    ArrayPtr holds = new Array;
    for (const auto& h : o.holds) holds->add(h);
    j->set("holds", holds);
    j->set("currency", std::string(o.currency->code()));
    j->set("subtotal", money(o.subtotal, *o.currency));
    j->set("discount_total", money(o.discount_total, *o.currency));
    j->set("shipping", money(o.shipping_amount, *o.currency));
    j->set("tax_total", money(o.tax_total, *o.currency));
    j->set("total", money(o.total, *o.currency));
    j->set("priority", o.priority);
    if (o.promise_date) j->set("promise_date", o.promise_date->toString());
    j->set("created_at", formatIso8601(o.created_at));
    j->set("version", static_cast<Poco::Int64>(o.version));
    ArrayPtr lines = new Array;
    for (const auto& l : o.lines) {
        ObjectPtr line = new Object;
        line->set("line", l.line_no);
        line->set("sku", l.sku);
        line->set("quantity", static_cast<Poco::Int64>(l.quantity));
        if (l.unit_price) line->set("unit_price", money(*l.unit_price, *o.currency));
        line->set("tax", money(l.tax, *o.currency));
        line->set("line_total", money(l.line_total, *o.currency));
        line->set("allocated", static_cast<Poco::Int64>(l.allocated));
        line->set("backordered", static_cast<Poco::Int64>(l.backordered));
        line->set("shipped", static_cast<Poco::Int64>(l.shipped));
        line->set("cancelled", static_cast<Poco::Int64>(l.cancelled));
        lines->add(line);
    }
    j->set("lines", lines);
    return j;
}

ObjectPtr shipmentJson(const orders::Shipment& s) {
    ObjectPtr j = new Object;
    j->set("id", s.id);
    j->set("order_id", s.order_id);
    j->set("location_id", s.location_id);
    j->set("state", std::string(orders::toString(s.state)));
    j->set("carrier", s.carrier);
    j->set("service", s.service);
    j->set("tracking", s.tracking);
    j->set("packages", s.packages);
    ArrayPtr lines = new Array;
    for (const auto& l : s.lines) {
        ObjectPtr line = new Object;
        line->set("line", l.line_no);
        line->set("order_line", l.order_line_no);
        line->set("item_id", l.item_id);
        line->set("quantity", static_cast<Poco::Int64>(l.quantity));
        lines->add(line);
    }
    j->set("lines", lines);
    return j;
}

ObjectPtr returnJson(const orders::ReturnAuthorization& r) {
    ObjectPtr j = new Object;
    j->set("id", r.id);
    j->set("order_id", r.order_id);
    j->set("order", r.order_reference);
    j->set("state", std::string(orders::toString(r.state)));
    j->set("reason", std::string(orders::toString(r.reason)));
    j->set("refund_policy", r.policy.toString());
    j->set("refund_amount", money(r.refund_amount, *r.currency));
    j->set("currency", std::string(r.currency->code()));
    ArrayPtr lines = new Array;
    for (const auto& l : r.lines) {
        ObjectPtr line = new Object;
        line->set("line", l.line_no);
        line->set("order_line", l.order_line_no);
        line->set("sku", l.sku);
        if (!l.lot_code.empty()) line->set("lot", l.lot_code);
        line->set("location", l.location_code);
        line->set("expected", static_cast<Poco::Int64>(l.expected));
        line->set("received", static_cast<Poco::Int64>(l.received));
        lines->add(line);
    }
    j->set("lines", lines);
    return j;
}

ObjectPtr atpJson(const inventory::Atp& atp, const std::string& sku) {
    ObjectPtr j = new Object;
    j->set("sku", sku);
    j->set("item_id", atp.item_id);
    j->set("available", static_cast<Poco::Int64>(atp.available));
    ArrayPtr locations = new Array;
    for (const auto& l : atp.locations) {
        ObjectPtr o = new Object;
        o->set("location", l.location_code);
        o->set("on_hand", static_cast<Poco::Int64>(l.on_hand));
        o->set("allocated", static_cast<Poco::Int64>(l.allocated));
        o->set("safety_stock", static_cast<Poco::Int64>(l.safety_stock));
        o->set("available", static_cast<Poco::Int64>(l.available));
        locations->add(o);
    }
    j->set("locations", locations);
    return j;
}

Reply ok(Poco::Dynamic::Var body, int status = 200) {
    Reply r;
    r.status = status;
    r.json = std::move(body);
    return r;
}

ObjectPtr listBody(const std::string& name, const ArrayPtr& list, std::size_t limit, std::size_t offset) {
    ObjectPtr body = new Object;
    body->set(name, list);
    body->set("limit", static_cast<Poco::UInt64>(limit));
    body->set("offset", static_cast<Poco::UInt64>(offset));
    // A full page may have more after it; the client asks for offset + limit next.
    if (list->size() == limit) body->set("next_offset", static_cast<Poco::UInt64>(offset + limit));
    return body;
}

/// The value of a Result, or the ApiError of its Problem.
template <typename T>
T valueOf(Result<T> result) {
    if (!result) throw apiError(result.problem());
    return std::move(result).value();
}

std::optional<Date> dateParam(const Call& call, const std::string& name) {
    const auto text = call.queryValue(name);
    if (!text) return std::nullopt;
    auto date = Date::parse(*text);
    if (!date) throw ApiError(400, "bad_parameter", "query parameter '" + name + "': " + date.problem().message, name);
    return date.value();
}

/// Applies the fields present in `json` to `item` (absent fields keep their value).
void applyItemFields(const ObjectPtr& json, catalog::Item& item) {
    if (auto v = optString(json, "name")) item.name = *v;
    if (auto v = optString(json, "description")) item.description = *v;
    if (auto v = optString(json, "base_uom")) item.base_uom = *v;
    if (json->has("gtin")) item.gtin = optString(json, "gtin");
    if (json->has("weight_mg")) item.weight_mg = optInteger(json, "weight_mg");
    if (json->has("length_mm")) item.length_mm = optInteger(json, "length_mm");
    if (json->has("width_mm")) item.width_mm = optInteger(json, "width_mm");
    if (json->has("height_mm")) item.height_mm = optInteger(json, "height_mm");
    if (auto v = optBool(json, "lot_tracked")) item.lot_tracked = *v;
    if (auto v = optBool(json, "expiry_tracked")) item.expiry_tracked = *v;
    if (json->has("shelf_life_days")) {
        const auto days = optInteger(json, "shelf_life_days");
        if (days && (*days < 0 || *days > 100000)) throw invalid("shelf_life_days", "must be 0 to 100000");
        item.shelf_life_days = days ? std::optional<int>(static_cast<int>(*days)) : std::nullopt;
    }
    if (auto v = optString(json, "tax_class")) item.tax_class = *v;
    if (auto v = optString(json, "cost_method")) {
        const auto method = catalog::costMethodFrom(*v);
        if (!method) throw invalid("cost_method", "must be moving_average or fifo, not '" + *v + "'");
        item.cost_method = *method;
    }
    if (auto v = optString(json, "status")) {
        const auto status = catalog::itemStatusFrom(*v);
        if (!status) throw invalid("status", "must be active or discontinued, not '" + *v + "'");
        item.status = *status;
    }
    if (auto v = optInteger(json, "safety_stock")) item.safety_stock = *v;
    if (has(json, "units")) {
        const auto units = json->getArray("units");
        if (!units) throw invalid("units", "must be an array of {uom, factor, gtin}");
        item.units.clear();
        for (std::size_t i = 0; i < units->size(); ++i) {
            const auto unit = units->getObject(static_cast<unsigned>(i));
            const std::string where = "units[" + std::to_string(i) + "]";
            if (!unit) throw invalid(where, "must be an object {uom, factor, gtin}");
            catalog::UnitConversion u;
            u.uom = reqString(unit, "uom");
            u.factor = optInteger(unit, "factor").value_or(0);
            u.gtin = optString(unit, "gtin");
            item.units.push_back(u);
        }
    }
    if (has(json, "components")) {
        const auto components = json->getArray("components");
        if (!components) throw invalid("components", "must be an array of {sku, quantity}");
        item.components.clear();
        for (std::size_t i = 0; i < components->size(); ++i) {
            const auto component = components->getObject(static_cast<unsigned>(i));
            if (!component) throw invalid("components[" + std::to_string(i) + "]", "must be an object {sku, quantity}");
            catalog::KitComponent c;
            c.sku = reqString(component, "sku");
            c.quantity = optInteger(component, "quantity").value_or(1);
            item.components.push_back(c);
        }
        item.is_kit = !item.components.empty();
    }
}

ObjectPtr ediReportJson(const edi::ValidationReport& report) {
    ObjectPtr body = new Object;
    body->set("valid", report.valid());
    body->set("interchanges", static_cast<Poco::UInt64>(report.interchanges));
    body->set("groups", static_cast<Poco::UInt64>(report.groups));
    body->set("transaction_sets", static_cast<Poco::UInt64>(report.transaction_sets));
    body->set("segments", static_cast<Poco::UInt64>(report.segments));
    if (report.parse_error) {
        ObjectPtr e = new Object;
        e->set("kind", std::string(edi::parseErrorKindName(report.parse_error->kind)));
        e->set("offset", static_cast<Poco::UInt64>(report.parse_error->offset));
        e->set("segment_number", static_cast<Poco::UInt64>(report.parse_error->segment_number));
        e->set("element", report.parse_error->element);
        e->set("message", report.parse_error->message);
        body->set("parse_error", e);
    } else {
        body->set("parse_error", Poco::Dynamic::Var());
    }
    ArrayPtr findings = new Array;
    for (const auto& x : report.findings) {
        ObjectPtr f = new Object;
        f->set("severity", std::string(edi::severityName(x.severity)));
        f->set("code", std::string(edi::findingCodeName(x.code)));
        f->set("segment_number", static_cast<Poco::UInt64>(x.segment_number));
        f->set("offset", static_cast<Poco::UInt64>(x.offset));
        f->set("element", x.element);
        f->set("message", x.message);
        findings->add(f);
    }
    body->set("findings", findings);
    return body;
}

}  // namespace

void Api::addRoutes() {
    auto& s = services_;
    auto& database = database_;
    auto route = [this](std::string method, std::string pattern, std::vector<Role> roles, BodyKind body,
                        std::string summary, std::function<Reply(Call&)> handler) {
        Route r;
        r.method = std::move(method);
        r.pattern = std::move(pattern);
        r.roles = std::move(roles);
        r.body = body;
        r.summary = std::move(summary);
        r.handler = std::move(handler);
        router_.add(std::move(r));
    };
    const auto none = BodyKind::kNone;
    const auto json = BodyKind::kJson;

    // ------------------------------------------------------------------------------------------- the document
    {
        Route r;
        r.method = "GET";
        r.pattern = "/api/v1/openapi.json";
        r.authenticated = false;
        r.summary = "this API's OpenAPI 3 document";
        r.handler = [](Call&) {
            Reply reply;
            reply.text = openApiDocument();
            reply.content_type = "application/json";
            return reply;
        };
        router_.add(std::move(r));
    }

    // ------------------------------------------------------------------------------------------------ catalog
    route("GET", "/api/v1/items", kCatalogRead, none, "items, by SKU, a page at a time", [&s, &database](Call& call) {
        catalog::ItemQuery query;
        query.sku_prefix = call.queryValue("sku_prefix").value_or("");
        if (auto text = call.queryValue("status")) {
            query.status = catalog::itemStatusFrom(*text);
            if (!query.status) {
                throw ApiError(400, "bad_parameter", "status must be active or discontinued", "status");
            }
        }
        query.limit = static_cast<std::size_t>(call.queryInteger("limit", 100, 1, 1000));
        query.offset = static_cast<std::size_t>(call.queryInteger("offset", 0, 0, 1'000'000'000));
        const auto items =
            database.run([&](db::UnitOfWork& uow) { return s.catalog.listItems(uow, query); }, kReadOnlyUnit);
        ArrayPtr list = new Array;
        for (const auto& item : items) list->add(itemJson(item));
        return ok(listBody("items", list, query.limit, query.offset));
    });
    route("POST", "/api/v1/items", kCatalogWrite, json, "create an item", [&s, &database](Call& call) {
        catalog::Item item;
        item.sku = reqString(call.json, "sku");
        item.name = reqString(call.json, "name");
        applyItemFields(call.json, item);
        const auto saved = database.run(
            [&](db::UnitOfWork& uow) {
                // By SKU only: findItem also matches GTINs, which may look like another item's SKU.
                if (auto existing = s.catalog.findItem(uow, item.sku); existing && existing->sku == item.sku) {
                    throw ApiError(
                        409, "conflict",
                        "an item with SKU '" + item.sku + "' exists: PUT /api/v1/items/" + item.sku + " changes it",
                        "sku");
                }
                const std::string id = s.catalog.saveItem(uow, item);
                return *s.catalog.findItemById(uow, id);
            },
            kCreateOnce);
        s.inventory.invalidateCache();
        Reply reply = ok(itemJson(saved), 201);
        reply.headers.emplace_back("Location", "/api/v1/items/" + saved.sku);
        return reply;
    });
    route("GET", "/api/v1/items/{sku}", kCatalogRead, none, "an item with its aliases", [&s, &database](Call& call) {
        const auto [item, aliases] = database.run(
            [&](db::UnitOfWork& uow) {
                catalog::Item found =
                    s.catalog.requireItem(uow, call.param("sku"), call.queryValue("channel").value_or(""));
                return std::make_pair(found, catalog::aliasesOfItem(uow, found.id));
            },
            kReadOnlyUnit);
        return ok(itemJson(item, &aliases));
    });
    route("PUT", "/api/v1/items/{sku}", kCatalogWrite, json, "change an item (fields given)",
          [&s, &database](Call& call) {
              if (auto sku = optString(call.json, "sku"); sku && *sku != call.param("sku")) {
                  throw invalid("sku", "'" + *sku + "' differs from the SKU in the path '" + call.param("sku") + "'");
              }
              const auto saved = database.run([&](db::UnitOfWork& uow) {
                  auto existing = s.catalog.findItem(uow, call.param("sku"));
                  if (!existing || existing->sku != call.param("sku")) {
                      throw NotFoundError("unknown item '" + call.param("sku") + "' (POST /api/v1/items creates one)");
                  }
                  catalog::Item item = *existing;
                  applyItemFields(call.json, item);
                  s.catalog.saveItem(uow, item);
                  return *s.catalog.findItemById(uow, existing->id);
              });
              s.inventory.invalidateCache();
              return ok(itemJson(saved));
          });
    route("GET", "/api/v1/items/{sku}/aliases", kCatalogRead, none, "an item's channel aliases",
          [&s, &database](Call& call) {
              const auto aliases = database.run(
                  [&](db::UnitOfWork& uow) {
                      return catalog::aliasesOfItem(uow, s.catalog.requireItem(uow, call.param("sku")).id);
                  },
                  kReadOnlyUnit);
              ArrayPtr list = new Array;
              for (const auto& alias : aliases) {
                  ObjectPtr a = new Object;
                  a->set("channel", alias.channel);
                  a->set("channel_sku", alias.channel_sku);
                  list->add(a);
              }
              ObjectPtr body = new Object;
              body->set("aliases", list);
              return ok(body);
          });
    route("POST", "/api/v1/items/{sku}/aliases", kCatalogWrite, json, "add (or move) a channel alias to an item",
          [&s, &database](Call& call) {
              const std::string channel = reqString(call.json, "channel");
              const std::string channel_sku = reqString(call.json, "channel_sku");
              database.run([&](db::UnitOfWork& uow) {
                  s.catalog.saveAlias(uow, channel, channel_sku, s.catalog.requireItem(uow, call.param("sku")).id);
              });
              ObjectPtr body = new Object;
              body->set("sku", call.param("sku"));
              body->set("channel", channel);
              body->set("channel_sku", channel_sku);
              return ok(body, 201);
          });
    route("GET", "/api/v1/locations", kCatalogRead, none, "locations by priority", [&s, &database](Call&) {
        const auto locations =
            database.run([&](db::UnitOfWork& uow) { return s.catalog.locations(uow); }, kReadOnlyUnit);
        ArrayPtr list = new Array;
        for (const auto& l : locations) list->add(locationJson(l));
        ObjectPtr body = new Object;
        body->set("locations", list);
        return ok(body);
    });
    route("POST", "/api/v1/locations", kCatalogWrite, json, "create a location", [&s, &database](Call& call) {
        catalog::Location l;
        l.code = reqString(call.json, "code");
        l.name = reqString(call.json, "name");
        l.country = reqString(call.json, "country");
        if (auto v = optString(call.json, "type")) {
            const auto type = catalog::locationTypeFrom(*v);
            if (!type) throw invalid("type", "must be warehouse, store, 3pl, transit or virtual, not '" + *v + "'");
            l.type = *type;
        }
        if (auto v = optInteger(call.json, "priority")) {
            if (*v < 0 || *v > 1'000'000) throw invalid("priority", "must be 0 to 1000000");
            l.priority = static_cast<int>(*v);
        }
        if (auto v = optString(call.json, "region")) l.region = *v;
        if (auto v = optBool(call.json, "ships_to_customers")) l.ships_to_customers = *v;
        if (auto v = optBool(call.json, "active")) l.active = *v;
        const auto saved = database.run(
            [&](db::UnitOfWork& uow) {
                if (s.catalog.findLocation(uow, l.code)) {
                    throw ApiError(409, "conflict", "a location with code '" + l.code + "' exists", "code");
                }
                const std::string id = s.catalog.saveLocation(uow, l);
                return *s.catalog.findLocationById(uow, id);
            },
            kCreateOnce);
        return ok(locationJson(saved), 201);
    });

    // -------------------------------------------------------------------------------------------------- stock
    route("GET", "/api/v1/stock/{sku}", kCatalogRead, none, "balances and available-to-promise of an item",
          [&s, &database](Call& call) {
              ObjectPtr body = database.run(
                  [&](db::UnitOfWork& uow) {
                      const auto item = s.catalog.requireItemRef(uow, call.param("sku"));
                      std::optional<std::string> location;
                      if (auto code = call.queryValue("location")) location = s.catalog.requireLocation(uow, *code).id;
                      const auto channel = call.queryValue("channel");
                      const auto atp = s.inventory.atp(
                          uow, item.id, location ? std::optional<std::string_view>(*location) : std::nullopt,
                          channel ? std::optional<std::string_view>(*channel) : std::nullopt);
                      ObjectPtr out = atpJson(atp, item.sku);
                      // Location codes: those ATP read already, the others (balances in other states) once each.
                      std::map<std::string, std::string> codes;
                      for (const auto& line : atp.locations) codes.emplace(line.location_id, line.location_code);
                      ArrayPtr balances = new Array;
                      for (const auto& b : s.inventory.balances(
                               uow, item.id, location ? std::optional<std::string_view>(*location) : std::nullopt)) {
                          ObjectPtr o = new Object;
                          auto code = codes.find(b.location_id);
                          if (code == codes.end()) {
                              const auto loc = s.catalog.findLocationById(uow, b.location_id);
                              code = codes.emplace(b.location_id, loc ? loc->code : b.location_id).first;
                          }
                          o->set("location", code->second);
                          o->set("lot", b.lot_code);
                          if (b.expiry) o->set("expiry", b.expiry->toString());
                          o->set("state", std::string(inventory::toString(b.state)));
                          o->set("quantity", static_cast<Poco::Int64>(b.quantity));
                          o->set("allocated", static_cast<Poco::Int64>(b.allocated));
                          balances->add(o);
                      }
                      out->set("balances", balances);
                      return out;
                  },
                  kReadOnlyUnit);
              return ok(body);
          });
    route("GET", "/api/v1/atp/{sku}", kCatalogRead, none, "available-to-promise of an item (kits from components)",
          [&s, &database](Call& call) {
              ObjectPtr body = database.run(
                  [&](db::UnitOfWork& uow) {
                      const auto channel = call.queryValue("channel");
                      const auto item = s.catalog.requireItemRef(uow, call.param("sku"), channel.value_or(""));
                      std::optional<std::string> location;
                      if (auto code = call.queryValue("location")) location = s.catalog.requireLocation(uow, *code).id;
                      return atpJson(
                          s.inventory.atp(uow, item.id,
                                          location ? std::optional<std::string_view>(*location) : std::nullopt,
                                          channel ? std::optional<std::string_view>(*channel) : std::nullopt),
                          item.sku);
                  },
                  kLookupUnit);
              return ok(body);
          });
    route(
        "GET", "/api/v1/locations/{code}/stock", kCatalogRead, none, "every balance at a location",
        [&s, &database](Call& call) {
            ObjectPtr body = database.run(
                [&](db::UnitOfWork& uow) {
                    const auto location = s.catalog.requireLocation(uow, call.param("code"));
                    ArrayPtr balances = new Array;
                    for (const auto& b : s.inventory.balances(uow, "", std::optional<std::string_view>(location.id))) {
                        ObjectPtr o = new Object;
                        const auto item = s.catalog.findItemById(uow, b.item_id);
                        o->set("sku", item ? item->sku : b.item_id);
                        o->set("lot", b.lot_code);
                        if (b.expiry) o->set("expiry", b.expiry->toString());
                        o->set("state", std::string(inventory::toString(b.state)));
                        o->set("quantity", static_cast<Poco::Int64>(b.quantity));
                        o->set("allocated", static_cast<Poco::Int64>(b.allocated));
                        balances->add(o);
                    }
                    ObjectPtr out = new Object;
                    out->set("location", location.code);
                    out->set("balances", balances);
                    return out;
                },
                kReadOnlyUnit);
            return ok(body);
        });
    route("POST", "/api/v1/stock/receipts", kStockWrite, json, "receive stock at a location",
          [&s, &database](Call& call) {
              const std::string sku = reqString(call.json, "sku");
              const std::string code = reqString(call.json, "location");
              const auto quantity = optInteger(call.json, "quantity");
              if (!quantity || *quantity <= 0) throw invalid("quantity", "must be a whole number above 0");
              std::optional<Date> expiry;
              if (auto text = optString(call.json, "expiry")) {
                  auto date = Date::parse(*text);
                  if (!date) throw invalid("expiry", date.problem().message);
                  expiry = date.value();
              }
              std::optional<Money> cost;
              if (auto text = optString(call.json, "unit_cost")) {
                  const auto currency = Currency::find(
                      optString(call.json, "currency").value_or(std::string(s.functional_currency.code())));
                  if (!currency) throw invalid("currency", "is not an ISO 4217 currency code");
                  try {
                      cost = Money::parse(*text, Currency::of(currency->code()));
                  } catch (const Error& e) {
                      throw invalid("unit_cost", e.what());
                  }
              }
              std::string item_id;
              const auto received = valueOf(database.run([&](db::UnitOfWork& uow) {
                  const auto item = s.catalog.requireItem(uow, sku);
                  item_id = item.id;
                  inventory::ReceiveRequest request;
                  request.item_id = item.id;
                  request.location_id = s.catalog.requireLocation(uow, code).id;
                  request.quantity = *quantity;
                  if (auto uom = optString(call.json, "uom")) {
                      request.quantity = s.catalog.toBaseUnits(item, request.quantity, *uom);
                  }
                  request.lot_code = optString(call.json, "lot");
                  request.expiry = expiry;
                  request.unit_cost = cost;
                  request.source.type = "api";
                  request.source.actor = call.actorName();
                  request.source.note = optString(call.json, "note").value_or("");
                  return s.inventory.receive(uow, request);
              }));
              // As `keel stock receive`: stock that arrived fills waiting backorders first.
              std::size_t filled = 0;
              if (received.state == inventory::StockState::kOnHand) {
                  filled = s.orders.fillBackorders(database, {item_id}, orders::Actor{call.actorName()}).size();
              }
              ObjectPtr body = new Object;
              body->set("move_id", received.move_id);
              body->set("lot_id", received.lot_id);
              body->set("state", std::string(inventory::toString(received.state)));
              body->set("backorders_filled", static_cast<Poco::UInt64>(filled));
              return ok(body, 201);
          });

    // ------------------------------------------------------------------------------------------------- orders
    route("GET", "/api/v1/orders", kOrdersRead, none, "orders by state and channel, oldest first, a page at a time",
          [&s, &database](Call& call) {
              orders::OrderQuery query;
              if (auto text = call.queryValue("state")) {
                  query.state = orders::orderStateFrom(*text);
                  if (!query.state) {
                      throw ApiError(400, "bad_parameter", "state '" + *text + "' is not an order state", "state");
                  }
              }
              query.channel = call.queryValue("channel").value_or("");
              query.limit = static_cast<std::size_t>(call.queryInteger("limit", 100, 1, 1000));
              query.offset = static_cast<std::size_t>(call.queryInteger("offset", 0, 0, 1'000'000'000));
              // An integration finds its own order by the id it gave it: channel and external_id together.
              const auto external_id = call.queryValue("external_id");
              if (external_id && query.channel.empty()) {
                  throw ApiError(400, "bad_parameter", "external_id needs channel (an external id is per channel)",
                                 "channel");
              }
              const auto list = database.run(
                  [&](db::UnitOfWork& uow) {
                      if (!external_id) return s.orders.list(uow, query);
                      std::vector<orders::Order> found;
                      auto order = s.orders.findByExternal(uow, query.channel, *external_id);
                      if (order && (!query.state || order->state == *query.state) && query.offset == 0) {
                          found.push_back(std::move(*order));
                      }
                      return found;
                  },
                  kReadOnlyUnit);
              ArrayPtr array = new Array;
              for (const auto& o : list) array->add(orderJson(o));
              return ok(listBody("orders", array, query.limit, query.offset));
          });
    route(
        "POST", "/api/v1/orders", kOrdersIntake, json,
        "take an order document in (Idempotency-Key required: a replay answers 200 with the same order)",
        [this, &s, &database](Call& call) {
            const std::string key = call.request.get("Idempotency-Key", "");
            if (key.empty() || key.size() > 200) {
                throw ApiError(400, "idempotency_key_required",
                               "POST /api/v1/orders needs an Idempotency-Key header (1 to 200 characters): the "
                               "same key again returns the order it created instead of a second one",
                               "Idempotency-Key");
            }
            const orders::ParsedDocument parsed = orders::parseOrderDocument(call.body);
            if (!parsed.ok()) {
                const Problem first =
                    parsed.problems.empty() ? reject("not an order document") : parsed.problems.front();
                ArrayPtr problems = new Array;
                for (const auto& p : parsed.problems) {
                    ObjectPtr o = new Object;
                    o->set("field", p.field);
                    o->set("message", p.message);
                    problems->add(o);
                }
                ObjectPtr body = new Object;
                body->set("code", "rejected");
                body->set("message", (first.field.empty() ? "" : first.field + ": ") + first.message);
                if (!first.field.empty()) body->set("field", first.field);
                body->set("problems", problems);
                return ok(body, 422);
            }
            const std::string request_hash = sha256Hex(orders::canonicalJson(*parsed.document));
            const std::string key_id = call.key ? call.key->id : "";
            struct Intake {
                orders::ImportOutcome outcome;
                bool replay = false;
                std::optional<orders::Order> order;  // read in the same unit: no second transaction per request
            };
            db::RunOptions options;
            options.retry_unique_violation = true;  // a concurrent request with the same key: the retry replays it
            // Orders that arrive while another commits share the next commit (server.group_commit, SQLite only).
            auto result = intake_group_.run(
                [&](db::UnitOfWork& uow) -> Result<Intake> {
                    db::Statement& seen = uow.statement(
                        "SELECT request_hash, order_id FROM api_idempotency WHERE key_id = ? AND idempotency_key = ?");
                    seen.bindAll(key_id, key).execute();
                    std::optional<std::pair<std::string, std::string>> earlier;
                    while (seen.next()) earlier.emplace(seen.getString(0), seen.getString(1));
                    if (earlier) {
                        if (earlier->first != request_hash) {
                            return uow.fail(
                                ExitCode::kRejected,
                                "Idempotency-Key '" + key + "' was used for a different order document: use a new key",
                                "Idempotency-Key");
                        }
                        Intake replay;
                        replay.outcome.status = orders::ImportStatus::kAlreadyImported;
                        replay.outcome.order_id = earlier->second;
                        replay.replay = true;
                        replay.order = s.orders.find(uow, replay.outcome.order_id);
                        return replay;
                    }
                    auto imported = s.orders.import(uow, *parsed.document, orders::Actor{call.actorName()});
                    if (!imported) return imported.problem();
                    if (imported.value().status == orders::ImportStatus::kConflict) {
                        return uow.fail(ExitCode::kConflict,
                                        "a different order " + parsed.document->channel + "/" +
                                            parsed.document->external_id + " was imported before",
                                        "external_id");
                    }
                    uow.statement(
                           "INSERT INTO api_idempotency (key_id, idempotency_key, request_hash, order_id, created_at) "
                           "VALUES (?, ?, ?, ?, ?)")
                        .bindAll(key_id, key, request_hash, imported.value().order_id, Clock::system().nowMicros())
                        .execute();
                    return Intake{imported.value(), false, s.orders.find(uow, imported.value().order_id)};
                },
                options);
            // A tax plugin's breaker may have opened during intake, whose unit of work could not write the row.
            if (s.plugins) s.plugins->flushExceptions();
            const Intake intake = valueOf(std::move(result));
            const auto& order = intake.order;
            if (!order) throw NotFoundError("order " + intake.outcome.order_id + " vanished after intake");
            ObjectPtr body = orderJson(*order);
            const bool created = intake.outcome.status == orders::ImportStatus::kCreated;
            body->set("intake", created ? "created" : "already_imported");
            Reply reply = ok(body, created ? 201 : 200);
            reply.headers.emplace_back("Location", "/api/v1/orders/" + order->id);
            if (intake.replay) reply.headers.emplace_back("Idempotent-Replayed", "true");
            return reply;
        });
    route("GET", "/api/v1/orders/{id}", kOrdersRead, none, "an order with its lines and shipments",
          [&s, &database](Call& call) {
              ObjectPtr body = database.run(
                  [&](db::UnitOfWork& uow) {
                      auto order = s.orders.find(uow, call.param("id"));
                      if (!order) throw NotFoundError("no order '" + call.param("id") + "'");
                      ObjectPtr out = orderJson(*order);
                      ArrayPtr shipments = new Array;
                      for (const auto& sh : s.orders.shipments(uow, order->id)) shipments->add(shipmentJson(sh));
                      out->set("shipments", shipments);
                      return out;
                  },
                  kReadOnlyUnit);
              return ok(body);
          });
    auto stateReply = [](orders::OrderState state, const std::string& id) {
        ObjectPtr body = new Object;
        body->set("id", id);
        body->set("state", std::string(orders::toString(state)));
        return ok(body);
    };
    route("POST", "/api/v1/orders/{id}/hold", kOrdersManage, json, "put an order on hold",
          [this, &s, stateReply](Call& call) {
              const std::string reason = optString(call.json, "reason").value_or("");
              return stateReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                    return s.orders.hold(uow, call.param("id"), reason,
                                                         orders::Actor{call.actorName()});
                                })),
                                call.param("id"));
          });
    route("POST", "/api/v1/orders/{id}/release", kOrdersManage, none, "release a held order",
          [this, &s, stateReply](Call& call) {
              return stateReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                    return s.orders.release(uow, call.param("id"), orders::Actor{call.actorName()});
                                })),
                                call.param("id"));
          });
    route("POST", "/api/v1/orders/{id}/cancel", kOrdersManage, json, "cancel an order (or one line) before it ships",
          [this, &s, stateReply](Call& call) {
              const std::string reason = optString(call.json, "reason").value_or("");
              std::optional<int> line;
              if (auto n = optInteger(call.json, "line")) line = static_cast<int>(*n);
              return stateReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                    return s.orders.cancel(uow, call.param("id"), line, reason,
                                                           orders::Actor{call.actorName()});
                                })),
                                call.param("id"));
          });
    route("POST", "/api/v1/orders/{id}/allocate", kOrdersManage, none,
          "reserve stock for an order by the routing rules", [this, &s](Call& call) {
              const auto outcome = valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                  return s.orders.allocate(uow, call.param("id"), orders::Actor{call.actorName()});
              }));
              ObjectPtr body = new Object;
              body->set("id", call.param("id"));
              body->set("state", std::string(orders::toString(outcome.state)));
              body->set("allocated", static_cast<Poco::Int64>(outcome.allocated));
              body->set("backordered", static_cast<Poco::Int64>(outcome.backordered));
              body->set("locations", outcome.locations);
              return ok(body);
          });

    // ---------------------------------------------------------------------------------------------- shipments
    route("GET", "/api/v1/orders/{id}/shipments", kOrdersRead, none, "an order's shipments",
          [&s, &database](Call& call) {
              const auto list = database.run(
                  [&](db::UnitOfWork& uow) {
                      if (!s.orders.find(uow, call.param("id")))
                          throw NotFoundError("no order '" + call.param("id") + "'");
                      return s.orders.shipments(uow, call.param("id"));
                  },
                  kReadOnlyUnit);
              ArrayPtr array = new Array;
              for (const auto& sh : list) array->add(shipmentJson(sh));
              ObjectPtr body = new Object;
              body->set("shipments", array);
              return ok(body);
          });
    route("POST", "/api/v1/orders/{id}/shipments", kOrdersManage, none,
          "release what is allocated to fulfillment (a shipment per location)", [this, &s](Call& call) {
              const auto ids = valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                  return s.orders.releaseToFulfillment(uow, call.param("id"), orders::Actor{call.actorName()});
              }));
              ArrayPtr array = new Array;
              for (const auto& id : ids) array->add(id);
              ObjectPtr body = new Object;
              body->set("shipments", array);
              return ok(body, 201);
          });
    auto shipmentReply = [](orders::ShipmentState state, const std::string& id) {
        ObjectPtr body = new Object;
        body->set("id", id);
        body->set("state", std::string(orders::toString(state)));
        return ok(body);
    };
    route("POST", "/api/v1/shipments/{id}/confirm", kShipmentConfirm, json,
          "confirm a shipment shipped (its stock leaves the location)", [this, &s, shipmentReply](Call& call) {
              const std::string carrier = optString(call.json, "carrier").value_or("");
              const std::string service = optString(call.json, "service").value_or("");
              const std::string tracking = optString(call.json, "tracking").value_or("");
              return shipmentReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                       return s.orders.confirmShipment(uow, call.param("id"), carrier, service,
                                                                       tracking, orders::Actor{call.actorName()});
                                   })),
                                   call.param("id"));
          });
    route("POST", "/api/v1/shipments/{id}/delivery", kShipmentConfirm, json, "record delivery (proof of delivery)",
          [this, &s, shipmentReply](Call& call) {
              const std::string proof = optString(call.json, "proof").value_or("");
              return shipmentReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                       return s.orders.recordDelivery(uow, call.param("id"), proof,
                                                                      orders::Actor{call.actorName()});
                                   })),
                                   call.param("id"));
          });

    // ------------------------------------------------------------------------------------------------ returns
    route("GET", "/api/v1/orders/{id}/returns", kReturnsRead, none, "an order's returns", [&s, &database](Call& call) {
        orders::Returns returns(s.orders, s.inventory);
        const auto list = database.run(
            [&](db::UnitOfWork& uow) {
                if (!s.orders.find(uow, call.param("id"))) throw NotFoundError("no order '" + call.param("id") + "'");
                return returns.forOrder(uow, call.param("id"));
            },
            kReadOnlyUnit);
        ArrayPtr array = new Array;
        for (const auto& r : list) array->add(returnJson(r));
        ObjectPtr body = new Object;
        body->set("returns", array);
        return ok(body);
    });
    route("POST", "/api/v1/orders/{id}/returns", kReturnsWrite, json, "authorize a return of shipped units (an RMA)",
          [&s, &database](Call& call) {
              const std::string reason_text = reqString(call.json, "reason");
              const auto reason = orders::returnReasonFrom(reason_text);
              if (!reason) throw invalid("reason", "'" + reason_text + "' is not a return reason");
              const std::string refund_text = optString(call.json, "refund").value_or("full");
              const auto policy = orders::RefundPolicy::parse(refund_text);
              if (!policy) throw invalid("refund", "must be full, full_with_shipping or partial:P");
              if (!has(call.json, "lines") || !call.json->getArray("lines")) {
                  throw invalid("lines", "is required: [{\"line\": N, \"quantity\": Q}]");
              }
              std::vector<orders::ReturnRequestLine> lines;
              const auto array = call.json->getArray("lines");
              for (std::size_t i = 0; i < array->size(); ++i) {
                  const auto line = array->getObject(static_cast<unsigned>(i));
                  const std::string where = "lines[" + std::to_string(i) + "]";
                  if (!line) throw invalid(where, "must be {\"line\": N, \"quantity\": Q}");
                  const auto n = optInteger(line, "line");
                  const auto q = optInteger(line, "quantity");
                  if (!n || !q) throw invalid(where, "needs line and quantity");
                  lines.push_back({static_cast<int>(*n), *q});
              }
              orders::Returns returns(s.orders, s.inventory);
              const auto rma = valueOf(database.run([&](db::UnitOfWork& uow) -> Result<orders::ReturnAuthorization> {
                  auto id = returns.authorize(uow, call.param("id"), lines, *reason, *policy,
                                              orders::Actor{call.actorName()});
                  if (!id) return id.problem();
                  return *returns.find(uow, id.value());
              }));
              return ok(returnJson(rma), 201);
          });

    // ---------------------------------------------------------------------------------------- exception queue
    route("GET", "/api/v1/exceptions", kExceptionsRead, none,
          "the exception queue: held and overdue orders, and failed integrations", [&s, &database](Call&) {
              const auto queue =
                  database.run([&](db::UnitOfWork& uow) { return s.orders.exceptions(uow); }, kReadOnlyUnit);
              const auto integrations = plugin_host::openExceptions(database, 1000);
              const std::int64_t now = Clock::system().nowMicros();
              ArrayPtr array = new Array;
              for (const auto& e : queue) {
                  ObjectPtr j = new Object;
                  j->set("order_id", e.order_id);
                  j->set("reference", e.channel + "/" + e.external_id);
                  j->set("state", std::string(orders::toString(e.state)));
                  ArrayPtr reasons = new Array;
                  for (const auto& r : e.reasons) reasons->add(r);
                  j->set("reasons", reasons);
                  j->set("age_seconds", static_cast<Poco::Int64>(e.age_micros / 1'000'000));
                  array->add(j);
              }
              ArrayPtr failed = new Array;
              for (const auto& e : integrations) {
                  ObjectPtr j = new Object;
                  j->set("id", e.id);
                  j->set("source", e.source);
                  j->set("code", e.code);
                  j->set("message", e.message);
                  j->set("reference", e.reference);
                  j->set("age_seconds", static_cast<Poco::Int64>((now - e.created_at) / 1'000'000));
                  failed->add(j);
              }
              ObjectPtr body = new Object;
              body->set("exceptions", array);
              body->set("integrations", failed);
              return ok(body);
          });
    route("POST", "/api/v1/exceptions/{id}/release", kOrdersManage, none,
          "release a held order from the queue (validation runs again)", [this, &s, stateReply](Call& call) {
              return stateReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                    return s.orders.release(uow, call.param("id"), orders::Actor{call.actorName()});
                                })),
                                call.param("id"));
          });
    route("POST", "/api/v1/exceptions/{id}/reject", kOrdersManage, json,
          "reject a held order (its stock is released); reason required", [this, &s, stateReply](Call& call) {
              const std::string reason = reqString(call.json, "reason");
              return stateReply(valueOf(changes_group_.run([&](db::UnitOfWork& uow) {
                                    return s.orders.reject(uow, call.param("id"), reason,
                                                           orders::Actor{call.actorName()});
                                })),
                                call.param("id"));
          });

    // ------------------------------------------------------------------------------------------------- ledger
    route("GET", "/api/v1/ledger/trial-balance", kLedgerRead, none, "the trial balance (as_of=YYYY-MM-DD)",
          [&s, &database](Call& call) {
              const auto as_of = dateParam(call, "as_of");
              const auto tb = database.run(
                  [&](db::UnitOfWork& uow) {
                      if (!s.ledger.functionalCurrency(uow)) {
                          throw InfrastructureError("the ledger is not initialized: run `keel db migrate`");
                      }
                      return s.ledger.trialBalance(uow, as_of);
                  },
                  kReadOnlyUnit);
              ArrayPtr rows = new Array;
              for (const auto& r : tb.rows) {
                  ObjectPtr o = new Object;
                  o->set("account", r.code);
                  o->set("name", r.name);
                  o->set("type", std::string(ledger::toString(r.type)));
                  o->set("debit", money(r.debit, *tb.currency));
                  o->set("credit", money(r.credit, *tb.currency));
                  rows->add(o);
              }
              ObjectPtr body = new Object;
              body->set("currency", std::string(tb.currency->code()));
              if (as_of) body->set("as_of", as_of->toString());
              body->set("accounts", rows);
              body->set("total_debit", money(tb.total_debit, *tb.currency));
              body->set("total_credit", money(tb.total_credit, *tb.currency));
              return ok(body);
          });
    route("GET", "/api/v1/ledger/pnl", kLedgerRead, none, "profit and loss by channel (from, to: YYYY-MM-DD)",
          [&s, &database](Call& call) {
              const auto from = dateParam(call, "from");
              const auto to = dateParam(call, "to");
              const Currency* functional = nullptr;
              const auto channels = database.run(
                  [&](db::UnitOfWork& uow) {
                      functional = s.ledger.functionalCurrency(uow);
                      if (!functional)
                          throw InfrastructureError("the ledger is not initialized: run `keel db migrate`");
                      return s.ledger.profitAndLoss(uow, from, to);
                  },
                  kReadOnlyUnit);
              ArrayPtr rows = new Array;
              for (const auto& p : channels) {
                  ObjectPtr o = new Object;
                  o->set("channel", p.channel);
                  o->set("revenue", money(p.revenue, *functional));
                  o->set("discounts", money(p.discounts, *functional));
                  o->set("shipping", money(p.shipping, *functional));
                  o->set("refunds", money(p.refunds, *functional));
                  o->set("net_sales", money(p.net_sales(), *functional));
                  o->set("cogs", money(p.cogs, *functional));
                  o->set("fees", money(p.fees, *functional));
                  o->set("chargebacks", money(p.chargebacks, *functional));
                  o->set("other", money(p.other, *functional));
                  o->set("margin", money(p.margin(), *functional));
                  rows->add(o);
              }
              ObjectPtr body = new Object;
              body->set("currency", std::string(functional->code()));
              body->set("channels", rows);
              return ok(body);
          });

    // ------------------------------------------------------------------------------------ events and plugins
    route("GET", "/api/v1/events", kEventsRead, none, "the numbered event feed (after=SEQ, limit=N)",
          [&database](Call& call) {
              events::EventFilter filter;
              filter.after = call.queryInteger("after", 0, 0, std::numeric_limits<std::int64_t>::max());
              filter.limit = static_cast<std::size_t>(call.queryInteger("limit", 100, 1, 1000));
              if (auto type = call.queryValue("type")) filter.types = {*type};
              events::EventLog log;
              log.sequenceAll(database);  // committed events get their numbers before they are read
              const auto found =
                  database.run([&](db::UnitOfWork& uow) { return log.read(uow, filter); }, kReadOnlyUnit);
              ArrayPtr list = new Array;
              Poco::JSON::Parser parser;
              for (const auto& e : found) {
                  parser.reset();
                  list->add(parser.parse(e.toJson()));
              }
              ObjectPtr body = new Object;
              body->set("events", list);
              body->set("next_after", static_cast<Poco::Int64>(found.empty() ? filter.after : found.back().seq));
              return ok(body);
          });
    route("GET", "/api/v1/plugins", kPluginsRead, none, "plugin instances, breaker states and refused libraries",
          [&s](Call&) {
              ArrayPtr list = new Array;
              ArrayPtr refused = new Array;
              if (s.plugins) {
                  for (const auto& i : s.plugins->instances()) {
                      ObjectPtr o = new Object;
                      o->set("instance", i.name);
                      o->set("plugin", i.plugin);
                      o->set("version", i.version);
                      ArrayPtr capabilities = new Array;
                      for (const auto& c : i.capabilities) capabilities->add(c);
                      o->set("capabilities", capabilities);
                      o->set("state", std::string(plugin_host::toString(i.state)));
                      o->set("breaker_open", i.state == plugin_host::InstanceState::kSuspended);
                      if (i.suspended_until > 0) o->set("suspended_until", formatIso8601(i.suspended_until));
                      o->set("calls", static_cast<Poco::Int64>(i.calls));
                      o->set("failures", static_cast<Poco::Int64>(i.failures));
                      o->set("last_error", i.last_error);
                      list->add(o);
                  }
                  for (const auto& r : s.plugins->refused()) {
                      ObjectPtr o = new Object;
                      o->set("path", r.path);
                      o->set("reason", r.reason);
                      refused->add(o);
                  }
              }
              ObjectPtr body = new Object;
              body->set("loaded", s.plugins != nullptr);
              body->set("instances", list);
              body->set("refused", refused);
              return ok(body);
          });

    // ---------------------------------------------------------------------------------------------------- EDI
    route("POST", "/api/v1/edi/inbound", kEdiInbound, BodyKind::kX12,
          "receive a partner's X12 interchange (?partner=: stored, translated, orders taken in), or validate it",
          [this, &s, &database](Call& call) {
              if (const auto partner = call.queryValue("partner")) {
                  // The same path as keel edi receive and the file drop: stored first, then translated and taken in.
                  app::EdiExchange exchange(s, database, settings_.edi);
                  try {
                      exchange.partner(*partner);
                  } catch (const NotFoundError& e) {
                      // Nothing to store the bytes under: the query parameter is at fault, not the service.
                      throw ApiError(422, "unknown_partner", e.what(), "partner");
                  }
                  const auto r = exchange.receive(*partner, call.queryValue("name").value_or("api-upload.edi"),
                                                  call.body, orders::Actor{call.actorName()});
                  ObjectPtr body = app::toJson(r);
                  if (r.status == "processed") return ok(body);
                  body->set("code", r.status == "failed" ? "unavailable" : "rejected");
                  body->set("message", r.errors.empty() ? r.status : r.errors.front());
                  return ok(body, r.status == "failed" ? 503 : 422);
              }
              std::istringstream in(call.body);
              // Only validated, nothing stored: duplicates within this upload (with ?partner= the database's
              // registry of received interchanges applies).
              const edi::SystemClock clock;
              edi::InMemoryInterchangeRegistry registry(clock, std::chrono::hours(24 * 30));
              edi::EnvelopeOptions options;
              options.strictness = call.queryValue("strict").value_or("false") == "true" ? edi::Strictness::Strict
                                                                                         : edi::Strictness::Tolerant;
              options.registry = &registry;
              const auto report = edi::validateX12(in, options);
              ObjectPtr body = ediReportJson(report);
              if (report.valid()) return ok(body);
              // Refused: the error body, with the whole report so the sender can fix the interchange.
              body->set("code", "rejected");
              body->set("message", report.parse_error ? report.parse_error->message
                                                      : std::to_string(report.errors) + " envelope error(s)");
              return ok(body, 422);
          });
}

}  // namespace keel::server
