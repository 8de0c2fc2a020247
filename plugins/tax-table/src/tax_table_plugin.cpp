// The tax-table plugin: destination-based US sales tax and EU VAT from CSV rate tables (docs/plugins.md).
// Instance settings: tables (directory, default /etc/keel/tax) and journal (directory, optional).
#include <Poco/DateTime.h>
#include <Poco/DateTimeFormat.h>
#include <Poco/DateTimeFormatter.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <fstream>
#include <keel/plugin.hpp>
#include <mutex>
#include <optional>

#include "csv_table.h"
#include "tax_quote.h"
#include "tax_tables.h"

namespace keel::taxtable {
namespace {

using keel::plugin::Error;

TaxTables loadTables(const keel::plugin::Host& host) {
    const std::string directory = host.configOr("tables", "/etc/keel/tax");
    try {
        return TaxTables::load(directory);
    } catch (const TableError& e) {
        // A broken table must stop the instance: quoting with part of a table would charge the wrong tax.
        throw Error(KEEL_E_INVALID, std::string("tax-table: ") + e.what());
    }
}

/// The "document_id" of a commit or void request.
std::string documentId(std::string_view request_json, const char* operation) {
    try {
        Poco::JSON::Parser parser;
        const auto parsed = parser.parse(std::string(request_json));
        if (parsed.type() != typeid(Poco::JSON::Object::Ptr)) {
            throw Error(KEEL_E_INVALID, std::string(operation) + ": request: must be a JSON object");
        }
        const auto request = parsed.extract<Poco::JSON::Object::Ptr>();
        if (!request->has("document_id") || !request->get("document_id").isString() ||
            request->getValue<std::string>("document_id").empty()) {
            throw Error(KEEL_E_INVALID, std::string(operation) + ": document_id: is required");
        }
        return request->getValue<std::string>("document_id");
    } catch (const Poco::Exception& e) {
        throw Error(KEEL_E_INVALID, std::string(operation) + ": request: is not JSON: " + e.displayText());
    }
}

}  // namespace

class TaxTablePlugin final : public keel::plugin::Tax {
public:
    explicit TaxTablePlugin(keel::plugin::Host host)
        : host_(host), tables_(loadTables(host)), journal_(host.config("journal")) {
        host_.info("tax-table: " + std::to_string(tables_.jurisdictionCount()) + " jurisdictions, " +
                   std::to_string(tables_.zipCount()) + " ZIP codes; journal " +
                   (journal_ ? *journal_ + "/tax-journal.csv" : std::string("off")));
    }

    std::string quote(std::string_view request_json) override { return taxtable::quote(tables_, request_json); }

    std::string commit(std::string_view request_json) override {
        record("commit", documentId(request_json, "commit"), request_json);
        return "{}";
    }

    std::string voidDocument(std::string_view request_json) override {
        record("void", documentId(request_json, "void"), request_json);
        return "{}";
    }

private:
    // The journal is a record for the operator (which invoices' tax was committed or voided, when), not a
    // ledger: Keel's own ledger holds the tax amounts. Without the `journal` setting commit and void do nothing.
    void record(const char* action, const std::string& document_id, std::string_view request_json) {
        if (!journal_) return;
        const std::string path = *journal_ + "/tax-journal.csv";
        std::string total = "";
        if (std::string(action) == "commit") {
            Poco::JSON::Parser parser;
            const auto request = parser.parse(std::string(request_json)).extract<Poco::JSON::Object::Ptr>();
            if (const auto result = request->getObject("tax_result")) {
                total = result->optValue<std::string>("total_tax", "");
            }
        }
        const std::lock_guard<std::mutex> lock(mutex_);
        const bool fresh = !std::ifstream(path).good();
        std::ofstream out(path, std::ios::app);
        if (!out)
            throw Error(KEEL_E_UNAVAILABLE, "tax-table: " + path + " cannot be written (instance setting journal)");
        if (fresh) out << "recorded_at,action,document_id,total_tax\n";
        out << Poco::DateTimeFormatter::format(Poco::DateTime(), Poco::DateTimeFormat::ISO8601_FORMAT) << ',' << action
            << ',' << quoteCsv(document_id) << ',' << total << '\n';
        if (!out.flush()) throw Error(KEEL_E_UNAVAILABLE, "tax-table: writing " + path + " failed");
    }

    static std::string quoteCsv(const std::string& text) {
        if (text.find_first_of(",\"\n") == std::string::npos) return text;
        std::string out = "\"";
        for (const char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
        return out + "\"";
    }

    keel::plugin::Host host_;
    TaxTables tables_;
    std::optional<std::string> journal_;
    std::mutex mutex_{};
};

}  // namespace keel::taxtable

KEEL_PLUGIN(keel::taxtable::TaxTablePlugin, "tax-table", "1.0.0")
