#include "keel/app/services.h"

#include "keel/kernel/error.h"

namespace keel::app {

namespace {

// "5000.00 USD" -> Money; throws InfrastructureError naming the key.
std::optional<Money> moneySetting(const Poco::Util::AbstractConfiguration& config, const std::string& key) {
    if (!config.has(key)) return std::nullopt;
    const std::string text = config.getString(key);
    const auto space = text.find(' ');
    try {
        if (space == std::string::npos) throw RejectedError("expected an amount and a currency");
        return Money::parse(text.substr(0, space), Currency::of(text.substr(space + 1)));
    } catch (const RejectedError& e) {
        throw InfrastructureError("configuration: " + key + " = '" + text + "': " + e.what() + " (e.g. 5000.00 USD)");
    }
}

ledger::InvoiceOn invoiceOnSetting(const Poco::Util::AbstractConfiguration& config, const std::string& key,
                                   ledger::InvoiceOn otherwise) {
    if (!config.has(key)) return otherwise;
    const std::string text = config.getString(key);
    if (text == "shipment") return ledger::InvoiceOn::kShipment;
    if (text == "delivery") return ledger::InvoiceOn::kDelivery;
    throw InfrastructureError("configuration: " + key + " = '" + text + "': use shipment or delivery");
}

ledger::PostingOptions postingOptions(const Poco::Util::AbstractConfiguration& config) {
    ledger::PostingOptions options;
    options.payment_terms_days = config.getInt("ledger.payment_terms_days", 30);
    if (options.payment_terms_days < 0 || options.payment_terms_days > 3650) {
        throw InfrastructureError("configuration: ledger.payment_terms_days must be 0..3650 days");
    }
    options.invoice_on = invoiceOnSetting(config, "ledger.invoice_on", ledger::InvoiceOn::kShipment);
    Poco::Util::AbstractConfiguration::Keys channels;
    config.keys("ledger.channel", channels);
    for (const auto& channel : channels) {
        options.channel_invoice_on[channel] =
            invoiceOnSetting(config, "ledger.channel." + channel + ".invoice_on", options.invoice_on);
    }
    return options;
}

const Currency& currencySetting(const Poco::Util::AbstractConfiguration& config) {
    const std::string code = config.getString("ledger.currency", "USD");
    if (!Currency::find(code)) {
        throw InfrastructureError("configuration: ledger.currency = '" + code + "' is not an ISO 4217 currency code");
    }
    return Currency::of(code);
}

orders::TableTax taxSetting(const Poco::Util::AbstractConfiguration& config) {
    std::map<std::string, Decimal> rates;
    Poco::Util::AbstractConfiguration::Keys jurisdictions;
    config.keys("tax.rate", jurisdictions);
    for (const auto& j : jurisdictions) {
        const std::string key = "tax.rate." + j;
        const std::string text = config.getString(key);
        try {
            const Decimal rate = Decimal::parse(text);
            if (rate.isNegative() || rate > Decimal(1)) throw RejectedError("a rate is between 0 and 1 (0.0825 is 8.25 %)");
            rates.emplace(j, rate);
        } catch (const RejectedError& e) {
            throw InfrastructureError("configuration: " + key + " = '" + text + "': " + e.what());
        }
    }
    const std::string rounding = config.getString("tax.rounding", "line");
    if (rounding != "line" && rounding != "document") {
        throw InfrastructureError("configuration: tax.rounding = '" + rounding + "': use line or document");
    }
    return orders::TableTax(std::move(rates),
                            rounding == "line" ? orders::TableTax::Rounding::kLine : orders::TableTax::Rounding::kDocument);
}

std::unique_ptr<plugin_host::PluginHost> pluginHostSetting(const Poco::Util::AbstractConfiguration& config) {
    if (config.getString("tax.plugin", "").empty()) return nullptr;
    auto host = std::make_unique<plugin_host::PluginHost>(plugin_host::HostSettings::fromConfig(config));
    host->load();
    return host;
}

std::unique_ptr<plugin_host::PluginTax> pluginTaxSetting(const Poco::Util::AbstractConfiguration& config,
                                                         plugin_host::PluginHost* host) {
    if (host == nullptr) return nullptr;
    // An instance that is missing or failed is not a reason to stop the process: its quotes fail with the
    // instance's reason and orders are held with it, visibly, until the operator fixes the plugin.
    return std::make_unique<plugin_host::PluginTax>(*host, config.getString("tax.plugin"));
}

}  // namespace

Services::Services(const Poco::Util::AbstractConfiguration& config)
    : prices(pricing::defaultPriceList(config)),
      tax(taxSetting(config)),
      plugins(pluginHostSetting(config)),
      plugin_tax(pluginTaxSetting(config, plugins.get())),
      orders(catalog, inventory, prices, plugin_tax ? static_cast<orders::TaxQuoter&>(*plugin_tax) : tax, routing),
      postings(ledger, postingOptions(config)),
      functional_currency(currencySetting(config)),
      plugin_settings_(plugin_host::HostSettings::fromConfig(config)) {
    if (plugins) plugins->setServices(plugin_host::HostServices{nullptr, &orders, &inventory, &catalog});
    inventory.setMoveObserver(&postings);
    orders.setBilling(&postings);
    orders::FraudRules rules;
    rules.max_order_value = moneySetting(config, "orders.fraud.max_value");
    rules.new_customer_max_value = moneySetting(config, "orders.fraud.new_customer_max");
    rules.country_mismatch = config.getBool("orders.fraud.country_mismatch", false);
    rules.address_max_orders = config.getInt("orders.fraud.address_max_orders", 0);
    rules.address_window_micros =
        static_cast<std::int64_t>(config.getInt("orders.fraud.address_window_hours", 24)) * 3'600'000'000LL;
    orders.setFraudRules(rules);
    Poco::Util::AbstractConfiguration::Keys channels;
    config.keys("orders.channel", channels);
    for (const auto& channel : channels) {
        orders.setChannelPolicy(
            channel, orders::ChannelPolicy{config.getBool("orders.channel." + channel + ".allow_backorder", true)});
    }
}

void Services::attachDatabase(db::Database& database) {
    database_ = &database;
    if (plugins) plugins->setServices(plugin_host::HostServices{&database, &orders, &inventory, &catalog});
}

plugin_host::PluginHost& Services::pluginHost() {
    if (!plugins) {
        plugins = std::make_unique<plugin_host::PluginHost>(
            plugin_settings_, plugin_host::HostServices{database_, &orders, &inventory, &catalog});
        plugins->load();
    }
    return *plugins;
}

events::PluginDelivery Services::taxCommitDelivery() {
    plugin_host::PluginHost* host = &pluginHost();
    return [host](const std::string& instance, const std::string& event_json) {
        const auto request = plugin_host::taxCommitRequest(event_json);
        if (!request) return events::Delivery{false, request.problem().message};
        auto committed = host->invoke(instance, plugin_host::Operation::kTaxCommit, request.value());
        return events::Delivery{committed.ok(), committed.ok() ? std::string() : committed.problem().message};
    };
}

events::PluginDelivery Services::pluginDelivery() {
    plugin_host::PluginHost* host = &pluginHost();
    return [host](const std::string& instance, const std::string& event_json) {
        auto delivered = host->invoke(instance, plugin_host::Operation::kSubscriberOnEvent, event_json);
        return events::Delivery{delivered.ok(), delivered.ok() ? std::string() : delivered.problem().message};
    };
}

}  // namespace keel::app
