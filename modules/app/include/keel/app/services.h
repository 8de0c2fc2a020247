#pragma once
// The core services of a Keel process, built once from its configuration: a `keel` command and keeld work with
// the same catalog, inventory, prices, tax, routing and orders, with the same fraud rules and channel policies.

#include "keel/catalog/catalog.h"
#include "keel/events/dispatcher.h"
#include "keel/inventory/inventory.h"
#include "keel/ledger/ledger.h"
#include "keel/ledger/postings.h"
#include "keel/orders/orders.h"
#include "keel/plugin_host/plugin_host.h"
#include "keel/plugin_host/plugin_tax.h"
#include "keel/pricing/price_book.h"

#include <Poco/Util/AbstractConfiguration.h>

#include <memory>

namespace keel::app {

struct Services {
    /// Reads pricing.default_list, tax.* (tax.plugin loads the plugins, plugins.*), orders.fraud.*,
    /// orders.channel.NAME.allow_backorder and ledger.*. Stock moves, invoices and credit notes post to the ledger in
    /// the unit of work that makes them. Throws InfrastructureError naming the key for a malformed setting.
    explicit Services(const Poco::Util::AbstractConfiguration& config);
    Services(const Services&) = delete;
    Services& operator=(const Services&) = delete;

    catalog::Catalog catalog;
    inventory::Inventory inventory;
    pricing::PriceBook prices;
    orders::TableTax tax;  ///< tax.rate.JURISDICTION and tax.rounding (line or document)
    /// The plugin host (plugins.*), loaded only when something uses a plugin (tax.plugin, pluginHost()), since
    /// loading runs plugin code; null until then.
    std::unique_ptr<plugin_host::PluginHost> plugins;
    std::unique_ptr<plugin_host::PluginTax> plugin_tax;  ///< tax.plugin = INSTANCE; orders then quote tax through it
    orders::DefaultRouting routing;
    orders::Orders orders;
    ledger::Ledger ledger;
    ledger::Postings postings;
    const Currency& functional_currency;  ///< ledger.currency: what `keel ledger init` and `db migrate` set up

    /// Gives the plugins' host functions (order_intake, stock_query, document_get) and the exception queue the
    /// process's database (now, or when the host is loaded later).
    void attachDatabase(db::Database& database);

    /// The plugin host, loaded on first use (keeld at start; a command that delivers events to subscriber plugins).
    plugin_host::PluginHost& pluginHost();
    /// Delivers an event to a subscriber plugin instance through the host (its on_event, behind its breaker).
    events::PluginDelivery pluginDelivery();
    /// Delivers an invoice.issued event to a tax plugin instance's commit (tax_commit subscribers).
    events::PluginDelivery taxCommitDelivery();

private:
    plugin_host::HostSettings plugin_settings_;
    db::Database* database_ = nullptr;
};

}  // namespace keel::app
