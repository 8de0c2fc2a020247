// The example Keel plugin: a template to copy. It has two capabilities:
//  - subscriber: appends every event it receives as one JSON line to the file named by the instance setting
//    `output`, once per event id (events arrive at least once, so a subscriber must deduplicate);
//  - marketplace: pull_orders reads canonical orders from the JSON file named by `orders_file` and passes each
//    to Keel's idempotent order intake.
// Instance configuration, /etc/keel/plugins.d/example.properties:
//   plugin = example
//   output = /var/lib/keel/example-events.jsonl
//   orders_file = /var/lib/keel/example-orders.json
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <fstream>
#include <keel/plugin.hpp>
#include <mutex>
#include <set>
#include <sstream>
#include <string>

namespace {

using keel::plugin::Error;

Poco::JSON::Object::Ptr parseObject(std::string_view json, const std::string& what) {
    try {
        Poco::JSON::Parser parser;
        const auto value = parser.parse(std::string(json));
        if (value.type() != typeid(Poco::JSON::Object::Ptr)) throw Error(KEEL_E_INVALID, what + ": not a JSON object");
        return value.extract<Poco::JSON::Object::Ptr>();
    } catch (const Poco::Exception& e) {
        // KEEL_E_INVALID: the input is wrong and retrying will not help (KEEL_E_UNAVAILABLE would be retried).
        throw Error(KEEL_E_INVALID, what + ": not JSON: " + e.displayText());
    }
}

// One class per plugin; it derives from the capability bases it offers and is constructed once per configured
// instance. KEEL_PLUGIN (at the end) does the C ABI part: the exported symbol, the tables, the exception barrier.
class ExamplePlugin final : public keel::plugin::Subscriber, public keel::plugin::Marketplace {
public:
    explicit ExamplePlugin(keel::plugin::Host host)
        : host_(host), output_(host.configOr("output", "")), orders_file_(host.configOr("orders_file", "")) {
        // A missing setting fails the instance at start, with a message the operator sees in `keel plugin list`.
        if (output_.empty()) throw Error(KEEL_E_INVALID, "example: the instance setting 'output' is required");
        loadSeenIds();
        host_.info("example: writing events to " + output_ + " (" + std::to_string(seen_.size()) + " already there)");
    }

    // subscriber.on_event: event {"id","seq","type","aggregate_type","aggregate_id","payload","created_at"} -> {}
    std::string onEvent(std::string_view event_json) override {
        const auto event = parseObject(event_json, "event");
        const std::string id = event->optValue<std::string>("id", "");
        if (id.empty()) throw Error(KEEL_E_INVALID, "event.id: is required");

        const std::lock_guard<std::mutex> lock(mutex_);  // the host may deliver from several threads
        if (seen_.count(id) != 0) {
            host_.debug("example: event " + id + " already written");
            return "{}";
        }
        std::ofstream out(output_, std::ios::app);
        std::ostringstream line;
        Poco::JSON::Stringifier::condense(event, line);  // one line per event: JSON Lines
        out << line.str() << '\n';
        // A failed write is an infrastructure problem: KEEL_E_UNAVAILABLE makes the host retry the event later.
        if (!out.flush()) throw Error(KEEL_E_UNAVAILABLE, "example: cannot write " + output_);
        seen_.insert(id);
        return "{}";
    }

    // marketplace.pull_orders: {"since"?} -> {"orders":[...],"cursor"}. This one hands the orders to Keel itself
    // through order intake (idempotent by channel and external_id, so pulling the same file twice is harmless) and
    // reports what happened to each.
    std::string pullOrders(std::string_view) override {
        if (orders_file_.empty()) throw Error(KEEL_E_INVALID, "example: the instance setting 'orders_file' is not set");
        std::ifstream in(orders_file_);
        if (!in) throw Error(KEEL_E_UNAVAILABLE, "example: cannot read " + orders_file_);
        std::stringstream text;
        text << in.rdbuf();
        Poco::JSON::Array::Ptr orders;
        try {
            Poco::JSON::Parser parser;
            orders = parser.parse(text.str()).extract<Poco::JSON::Array::Ptr>();
        } catch (const Poco::Exception& e) {
            throw Error(KEEL_E_INVALID, orders_file_ + ": not a JSON array of orders: " + e.displayText());
        }

        Poco::JSON::Array results;
        for (std::size_t i = 0; i < orders->size(); ++i) {
            std::ostringstream order;
            Poco::JSON::Stringifier::condense(orders->get(static_cast<unsigned>(i)), order);
            Poco::JSON::Object result;
            try {
                result.set("result", parseObject(host_.orderIntake(order.str()), "order intake result"));
            } catch (const Error& e) {
                // One bad order must not stop the others: report it and go on.
                host_.reportError("example.order_rejected",
                                  orders_file_ + ": orders[" + std::to_string(i) + "]: " + e.what());
                result.set("error", std::string(e.what()));
            }
            results.add(result);
        }
        Poco::JSON::Object response;
        response.set("orders", Poco::JSON::Array());  // already taken in through order intake
        response.set("intake", results);
        response.set("cursor", "");
        std::ostringstream out;
        response.stringify(out);
        return out.str();
    }

private:
    // Ids already in the output file, so a restart does not write an event twice.
    void loadSeenIds() {
        std::ifstream in(output_);
        std::string line;
        for (int number = 1; std::getline(in, line); ++number) {
            if (line.empty()) continue;
            const auto event = parseObject(line, output_ + ":" + std::to_string(number));
            seen_.insert(event->optValue<std::string>("id", ""));
        }
    }

    keel::plugin::Host host_;
    std::string output_;
    std::string orders_file_;
    std::set<std::string> seen_{};
    std::mutex mutex_{};
};

}  // namespace

// The name and version must match keel_add_plugin's NAME and VERSION in CMakeLists.txt.
KEEL_PLUGIN(ExamplePlugin, "example", "1.0.0")
