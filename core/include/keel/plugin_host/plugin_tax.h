#pragma once
// Tax through a plugin instance (tax.plugin = INSTANCE): builds the tax_request document from the order's
// TaxRequest, calls the instance's tax.quote through the host (and so through its circuit breaker) and reads the
// tax_result back exactly, every amount a decimal string in the order's currency (docs/plugin-host.md).

#include "keel/orders/pricing.h"
#include "keel/plugin_host/plugin_host.h"

#include <string>

namespace keel::plugin_host {

/// The tax_request JSON (version 1) of a request.
std::string taxRequestJson(const orders::TaxRequest& request);

/// Reads a tax_result (version 1) for `request`: currency, one line per request line, each line's tax the sum
/// of its jurisdictions, total_tax the sum of lines and shipping. The Problem names the field that is wrong.
Result<orders::TaxResult> parseTaxResult(std::string_view json, const orders::TaxRequest& request);

/// The tax.commit request for an invoice.issued event as the dispatcher delivers it ({"id","type","payload":{...}}):
/// {"type":"tax_commit","version":1,"document_id": the invoice id,"order_id","order","date","currency",
///  "tax_result":{"type":"tax_result","version":1,"currency","lines":[{"line_id","tax"}],"shipping":{"tax"},
///  "total_tax"}}, the amounts as invoiced (a partial shipment's share). Rejected naming the field when the event
/// is not an invoice.issued event.
Result<std::string> taxCommitRequest(std::string_view invoice_event_json);

class PluginTax final : public orders::TaxQuoter {
public:
    PluginTax(PluginHost& host, std::string instance) : host_(host), instance_(std::move(instance)) {}
    /// Fails with a Problem naming the instance when it is suspended, unavailable or answers nonsense; order
    /// intake then holds the order with that reason.
    Result<orders::TaxResult> quote(const orders::TaxRequest& request) override;
    const std::string& instance() const { return instance_; }

private:
    PluginHost& host_;
    std::string instance_;
};

}  // namespace keel::plugin_host
