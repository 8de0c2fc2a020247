// A test plugin deriving from every capability base, so that each table of keel/plugin.hpp is instantiated and
// checked (the in-tree plugins use only some of them). Each operation answers with its own name and the request.
#include <keel/plugin.hpp>
#include <stdexcept>
#include <string>

namespace {

std::string echo(const char* operation, std::string_view request) {
    return std::string(R"({"operation":")") + operation + R"(","request":)" + std::string(request) + "}";
}

class AllCapabilities final : public keel::plugin::Marketplace,
                              public keel::plugin::Fulfillment,
                              public keel::plugin::Tax,
                              public keel::plugin::Edi,
                              public keel::plugin::Transport,
                              public keel::plugin::Subscriber {
public:
    explicit AllCapabilities(keel::plugin::Host host) : host_(host) {}

    std::string pullOrders(std::string_view request) override { return echo("pull_orders", request); }
    std::string sendShipmentRequest(std::string_view request) override {
        return echo("send_shipment_request", request);
    }
    // quote throws when the request asks for it: the host sees KEEL_E_INTERNAL, never the exception.
    std::string quote(std::string_view request) override {
        if (request.find("\"throw\":\"std\"") != std::string_view::npos) throw std::runtime_error("quote exploded");
        if (request.find("\"throw\":\"int\"") != std::string_view::npos) throw 7;
        return echo("quote", request);
    }
    std::string voidDocument(std::string_view request) override { return echo("void", request); }
    std::string toDocuments(std::string_view request) override { return echo("to_documents", request); }
    std::string send(std::string_view request) override { return echo("send", request); }
    std::string onEvent(std::string_view request) override { return echo("on_event", request); }

    // tick throws what its task names, to check each branch of the exception barrier.
    void tick(std::string_view task) override {
        if (task == "error") throw keel::plugin::Error(KEEL_E_CONFLICT, "conflict from tick");
        if (task == "ok-status") throw keel::plugin::Error(KEEL_OK, "an Error with KEEL_OK");
        if (task == "std") throw std::runtime_error("std exception from tick");
        if (task == "int") throw 42;
        if (task == "secret") host_.secret("token");
        host_.info("tick " + std::string(task));
    }

private:
    keel::plugin::Host host_;
};

}  // namespace

KEEL_PLUGIN(AllCapabilities, "sdk-all", "0.1.0")
