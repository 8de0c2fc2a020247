#define BOOST_TEST_MODULE plugin_host
#include <boost/test/unit_test.hpp>

#include "keel/kernel/hash.h"
#include "keel/plugin_abi.h"
#include "keel/plugin_host/plugin_host.h"
#include "keel/plugin_host/plugin_tax.h"
#include "process.h"
#include "temp_dir.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Util/MapConfiguration.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace keel;
using namespace keel::plugin_host;
namespace fs = std::filesystem;

namespace keel {
std::ostream& operator<<(std::ostream& out, ExitCode code) {
    return out << exitCodeName(code);
}
namespace plugin_host {
std::ostream& operator<<(std::ostream& out, InstanceState state) {
    return out << toString(state);
}
}  // namespace plugin_host
}  // namespace keel

namespace {

const std::string kPlugins = KEEL_TEST_PLUGINS_DIR;

std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

void replaceIn(const fs::path& path, const std::string& from, const std::string& to) {
    std::string text = slurp(path);
    const auto at = text.find(from);
    BOOST_TEST_REQUIRE(at != std::string::npos, "'" << from << "' not in " << path);
    text.replace(at, from.size(), to);
    write(path, text);
}

// Runs a shell command (openssl) and requires it to succeed.
void sh(const std::string& command) {
    BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0, command);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

struct Fixture {
    test::TempDir temp;
    fs::path instances = fs::path(temp.path) / "plugins.d";
    HostSettings settings;
    ManualClock clock{1'795'651'200'000'000};

    Fixture() {
        fs::create_directories(instances);
        settings.instances_directory = instances.string();
        settings.allow_unsigned = true;
        settings.breaker_failures = 3;
        settings.breaker_cooldown_seconds = 60;
    }

    void instance(const std::string& name, const std::string& properties) {
        write(instances / (name + ".properties"), properties);
    }

    // A copy of the good plugin in a directory of its own, which the test may then tamper with.
    fs::path copyGood(const std::string& directory) {
        const fs::path dir = fs::path(temp.path) / directory;
        fs::create_directories(dir);
        for (const char* file : {"libkeel-plugin-test-good.so", "test-good.keel-plugin.json"}) {
            fs::copy_file(fs::path(kPlugins) / "good" / file, dir / file, fs::copy_options::overwrite_existing);
        }
        return dir;
    }

    std::string refusalFor(const PluginHost& host, const std::string& part) {
        for (const auto& r : host.refused()) {
            if (contains(r.path, part)) return r.reason;
        }
        return "";
    }
};

const char* kTaxRequest =
    R"({"type":"tax_request","version":1,"document_id":"O-1","date":"2026-11-26","currency":"USD",)"
    R"("currency_exponent":2,"customer":{"id":"C-1"},"ship_to":{"country":"US","region":"IL"},)"
    R"("lines":[{"line_id":"1","sku":"SKU-1","tax_class":"standard","quantity":2,"amount":"39.98"}],)"
    R"("shipping":{"amount":"5.00"}})";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(plugin_host, Fixture)

BOOST_AUTO_TEST_CASE(manifest_fields_are_checked_and_named) {
    const std::string good =
        R"({"name":"x","version":"1","abi_major":1,"abi_minor":0,"capabilities":["tax"],"library":"libx.so",)"
        R"("sha256":"0000000000000000000000000000000000000000000000000000000000000000"})";
    BOOST_TEST(parseManifest(good, "m.json").ok());
    auto missing = parseManifest(R"({"name":"x"})", "m.json");
    BOOST_TEST_REQUIRE(!missing.ok());
    BOOST_TEST(contains(missing.problem().message, "m.json: \"version\""));
    std::string unknown = good;
    unknown.replace(unknown.find("\"tax\""), 5, "\"teleport\"");
    auto bad = parseManifest(unknown, "m.json");
    BOOST_TEST_REQUIRE(!bad.ok());
    BOOST_TEST(contains(bad.problem().message, "capabilities[0]: unknown capability \"teleport\""));
    BOOST_TEST(!parseManifest("not json", "m.json").ok());
}

BOOST_AUTO_TEST_CASE(good_plugin_loads_and_quotes_tax) {
    settings.directories = {kPlugins + "/good"};
    instance("shop-tax", "plugin = test-good\nrate = 0.0625\n");
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST(host.refused().empty());
    const auto status = host.instance("shop-tax");
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(status->state == InstanceState::kActive);
    BOOST_TEST(status->plugin == "test-good");
    BOOST_TEST(status->version == "1.0.0");
    BOOST_TEST(host.instancesWith(Capability::kTax) == std::vector<std::string>{"shop-tax"});
    BOOST_TEST(host.instancesWith(Capability::kMarketplace).empty());

    auto response = host.invoke("shop-tax", Operation::kTaxQuote, kTaxRequest);
    BOOST_TEST_REQUIRE(response.ok(), (response.ok() ? "" : response.problem().message));
    const auto result = Poco::JSON::Parser().parse(response.value()).extract<Poco::JSON::Object::Ptr>();
    BOOST_TEST(result->getValue<std::string>("total_tax") == "2.81");  // 2.50 + 0.31 on shipping
    BOOST_TEST(result->getArray("lines")->getObject(0)->getValue<std::string>("tax") == "2.50");

    auto event = host.invoke("shop-tax", Operation::kSubscriberOnEvent, R"({"id":"e-1","type":"order.received"})");
    BOOST_TEST(event.ok());
    auto invalid = host.invoke("shop-tax", Operation::kTaxQuote, R"({"type":"nonsense"})");
    BOOST_TEST_REQUIRE(!invalid.ok());
    BOOST_TEST(invalid.problem().code == ExitCode::kRejected);
    BOOST_TEST(contains(invalid.problem().message, "KEEL_E_INVALID"));
    auto unknown = host.invoke("nobody", Operation::kTaxQuote, kTaxRequest);
    BOOST_TEST(!unknown.ok());
    BOOST_TEST((unknown.problem().code == ExitCode::kNotFound));
    auto no_capability = host.invoke("shop-tax", Operation::kMarketplacePullOrders, "{}");
    BOOST_TEST(!no_capability.ok());
    BOOST_TEST(contains(no_capability.problem().message, "no marketplace capability"));
}

BOOST_AUTO_TEST_CASE(plugin_tax_reads_the_result_exactly) {
    settings.directories = {kPlugins + "/good"};
    instance("t", "plugin = test-good\nrate = 0.0825\n");
    PluginHost host(settings, {}, clock);
    host.load();
    PluginTax tax(host, "t");
    orders::TaxRequest request;
    request.order_id = "O-1";
    request.currency = &Currency::of("USD");
    request.ship_to.country = "US";
    request.ship_to.region = "IL";
    request.lines.push_back(
        orders::TaxLine{"1", "item-1", "standard", 2, Money::parse("39.98", Currency::of("USD")), "SKU-1"});
    request.lines.push_back(
        orders::TaxLine{"2", "item-2", "exempt", 1, Money::parse("10.00", Currency::of("USD")), "SKU-2"});
    request.shipping = Money::parse("5.00", Currency::of("USD"));
    auto quoted = tax.quote(request);
    BOOST_TEST_REQUIRE(quoted.ok(), (quoted.ok() ? "" : quoted.problem().message));
    BOOST_TEST(quoted.value().line_tax.size() == 2u);
    BOOST_TEST(quoted.value().line_tax[0].minor() == 330);  // 39.98 x 0.0825 = 3.298 -> 3.30
    BOOST_TEST(quoted.value().line_tax[1].minor() == 0);
    BOOST_TEST(quoted.value().shipping_tax.minor() == 41);  // 0.4125 -> 0.41

    const std::string body =
        R"({"type":"tax_result","version":1,"currency":"USD","lines":[{"line_id":"1","tax":"3.30","jurisdictions":)"
        R"([{"code":"A","tax":"3.30"}]},{"line_id":"2","tax":"0.00","jurisdictions":[]}],)"
        R"("shipping":{"tax":"0.41","jurisdictions":[{"code":"A","tax":"0.41"}]},"total_tax":"3.71","exemption":null})";
    const auto parsed = parseTaxResult(body, request);
    BOOST_TEST_REQUIRE(parsed.ok());
    // The breakdown by jurisdiction is kept (orders store it; invoices post tax payable per jurisdiction).
    BOOST_TEST_REQUIRE(parsed.value().line_jurisdictions.size() == 2u);
    BOOST_TEST_REQUIRE(parsed.value().line_jurisdictions[0].size() == 1u);
    BOOST_TEST(parsed.value().line_jurisdictions[0][0].code == "A");
    BOOST_TEST(parsed.value().line_jurisdictions[0][0].tax.minor() == 330);
    BOOST_TEST(parsed.value().line_jurisdictions[1].empty());
    BOOST_TEST_REQUIRE(parsed.value().shipping_jurisdictions.size() == 1u);
    BOOST_TEST(parsed.value().shipping_jurisdictions[0].tax.minor() == 41);
    const auto problem = [&](std::string from, std::string to) {
        std::string text = body;
        text.replace(text.find(from), from.size(), to);
        auto r = parseTaxResult(text, request);
        return r.ok() ? std::string("accepted") : r.problem().message;
    };
    BOOST_TEST(contains(problem("\"tax\":\"3.30\",\"jurisdictions\"", "\"tax\":\"3.3x\",\"jurisdictions\""),
                        "lines[0].tax: \"3.3x\""));
    BOOST_TEST(contains(problem("\"total_tax\":\"3.71\"", "\"total_tax\":\"3.70\""), "total_tax 3.70"));
    BOOST_TEST(contains(problem("\"currency\":\"USD\"", "\"currency\":\"EUR\""), "currency \"EUR\""));
    BOOST_TEST(contains(problem("{\"code\":\"A\",\"tax\":\"3.30\"}", "{\"code\":\"\",\"tax\":\"3.30\"}"),
                        "lines[0].jurisdictions[0].code must name the jurisdiction"));
    BOOST_TEST(contains(problem("{\"code\":\"A\",\"tax\":\"3.30\"}", "{\"code\":\"A\",\"tax\":\"3.29\"}"),
                        "lines[0].tax 3.30 is not the sum of its jurisdictions"));
    BOOST_TEST(contains(problem(",{\"line_id\":\"2\",\"tax\":\"0.00\",\"jurisdictions\":[]}", ""),
                        "one entry per request line"));
    BOOST_TEST(contains(problem("\"tax\":\"0.41\",", "\"tax\":\"0.415\","), "shipping.tax"));
}

BOOST_AUTO_TEST_CASE(newer_minor_and_older_major_are_refused_naming_both_versions) {
    settings.directories = {kPlugins + "/newer-minor", kPlugins + "/old-major"};
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST(host.refused().size() == 2u);
    const std::string minor = refusalFor(host, "test-newer-minor.keel-plugin.json");
    BOOST_TEST(contains(minor, "test-newer-minor.keel-plugin.json"));
    BOOST_TEST(contains(minor, "plugin ABI 1.1, host ABI 1.0"));
    const std::string major = refusalFor(host, "test-old-major.keel-plugin.json");
    BOOST_TEST(contains(major, "ABI major differs (plugin ABI 0.0, host ABI 1.0)"));
}

BOOST_AUTO_TEST_CASE(a_library_changed_after_its_manifest_is_refused) {
    const fs::path dir = copyGood("tampered");
    replaceIn(dir / "test-good.keel-plugin.json", "\"sha256\": \"", "\"sha256\": \"0");
    std::string text = slurp(dir / "test-good.keel-plugin.json");
    text.erase(text.find("\"sha256\": \"0") + 11 + 64, 1);  // keep 64 hex digits
    write(dir / "test-good.keel-plugin.json", text);
    settings.directories = {dir.string()};
    instance("shop-tax", "plugin = test-good\n");
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST_REQUIRE(host.refused().size() == 1u);
    BOOST_TEST(contains(host.refused()[0].reason, "differs from the manifest's"));
    BOOST_TEST(contains(host.refused()[0].reason, "libkeel-plugin-test-good.so"));
    // Its instance is listed as failed, with the reason, and the rest goes on.
    const auto status = host.instance("shop-tax");
    BOOST_TEST_REQUIRE(status.has_value());
    BOOST_TEST(status->state == InstanceState::kFailed);
    BOOST_TEST(contains(status->last_error, "not loaded (refused:"));
    BOOST_TEST(!host.invoke("shop-tax", Operation::kTaxQuote, kTaxRequest).ok());
}

BOOST_AUTO_TEST_CASE(a_library_without_the_entry_symbol_is_refused_naming_it) {
    settings.directories = {kPlugins + "/no-entry"};
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST_REQUIRE(host.refused().size() == 1u);
    BOOST_TEST(contains(host.refused()[0].reason, "does not export the entry symbol keel_plugin_entry"));
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_library_is_refused_with_the_loaders_reason) {
    const fs::path dir = fs::path(temp.path) / "text";
    fs::create_directories(dir);
    write(dir / "libkeel-plugin-text.so", "this is not an ELF file\n");
    write(dir / "text.keel-plugin.json",
          R"({"name":"text","version":"1","abi_major":1,"abi_minor":0,"capabilities":["tax"],)"
          R"("library":"libkeel-plugin-text.so","sha256":")" +
              sha256Hex("this is not an ELF file\n") + "\"}");
    settings.directories = {dir.string()};
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST_REQUIRE(host.refused().size() == 1u);
    const std::string reason = host.refused()[0].reason;
    BOOST_TEST(contains(reason, "cannot be loaded"));
    BOOST_TEST((contains(reason, "invalid ELF header") || contains(reason, "file too short")), reason);
}

BOOST_AUTO_TEST_CASE(two_plugins_of_one_name_refuse_the_second_naming_both) {
    const fs::path a = copyGood("a");
    const fs::path b = copyGood("b");
    settings.directories = {a.string(), b.string()};
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST_REQUIRE(host.refused().size() == 1u);
    BOOST_TEST(contains(host.refused()[0].reason, (b / "test-good.keel-plugin.json").string()));
    BOOST_TEST(contains(host.refused()[0].reason, (a / "test-good.keel-plugin.json").string()));
}

BOOST_AUTO_TEST_CASE(signatures_are_checked_against_the_trusted_keys) {
    const fs::path dir = copyGood("signed");
    const fs::path keys = fs::path(temp.path) / "keys";
    const fs::path other = fs::path(temp.path) / "other-keys";
    fs::create_directories(keys);
    fs::create_directories(other);
    const std::string t = temp.path;
    sh("openssl ecparam -genkey -name prime256v1 -noout -out " + t + "/key.pem 2>/dev/null");
    sh("openssl ec -in " + t + "/key.pem -pubout -out " + keys.string() + "/release.pem 2>/dev/null");
    sh("openssl ecparam -genkey -name prime256v1 -noout -out " + t + "/other.pem 2>/dev/null");
    sh("openssl ec -in " + t + "/other.pem -pubout -out " + other.string() + "/other.pem 2>/dev/null");
    const std::string manifest = (dir / "test-good.keel-plugin.json").string();
    sh("openssl dgst -sha256 -sign " + t + "/key.pem -out " + manifest + ".sig " + manifest);
    settings.directories = {dir.string()};
    settings.allow_unsigned = false;

    settings.trusted_keys = keys.string();
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST(host.refused().empty());
    }
    settings.trusted_keys = other.string();
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST_REQUIRE(host.refused().size() == 1u);
        BOOST_TEST(contains(host.refused()[0].reason, "signature does not verify"));
    }
    // A colon-separated list: a missing directory and the other key's are passed over, the release key verifies.
    settings.trusted_keys = (fs::path(temp.path) / "missing").string() + ":" + other.string() + "::" + keys.string();
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST(host.refused().empty());
    }
    settings.trusted_keys = keys.string();
    replaceIn(manifest, "\"version\": \"1.0.0\"", "\"version\": \"1.0.1\"");
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST_REQUIRE(host.refused().size() == 1u);
        BOOST_TEST(contains(host.refused()[0].reason, "signature does not verify"));
    }
    fs::remove(manifest + ".sig");
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST_REQUIRE(host.refused().size() == 1u);
        BOOST_TEST(contains(host.refused()[0].reason, "unsigned"));
        BOOST_TEST(contains(host.refused()[0].reason, "plugins.allow_unsigned"));
    }
    settings.allow_unsigned = true;  // unsigned is then accepted; a bad signature never is
    {
        PluginHost host(settings, {}, clock);
        host.load();
        BOOST_TEST(host.refused().empty());
    }
}

BOOST_AUTO_TEST_CASE(instances_get_config_and_secrets_and_fail_visibly) {
    settings.directories = {kPlugins + "/good"};
    const std::string secret_file = temp.path + "/api-key";
    write(secret_file, "s3cret\n");
    ::setenv("KEEL_TEST_PLUGIN_SECRET", "from-env", 1);
    instance("from-file", "plugin = test-good\nrequire_secret = api\nexpect_secret = s3cret\nsecret.api = file:" +
                              secret_file + "\n");
    instance("from-env",
             "plugin = test-good\nrequire_secret = api\nexpect_secret = from-env\n"
             "secret.api = env:KEEL_TEST_PLUGIN_SECRET\n");
    instance("no-secret",
             "plugin = test-good\nrequire_secret = api\nexpect_secret = x\nsecret.api = env:KEEL_UNSET_VAR\n");
    instance("broken", "plugin = test-good\nfail_create = true\n");
    instance("orphan", "plugin = no-such-plugin\n");
    instance("anonymous", "rate = 0.1\n");
    PluginHost host(settings, {}, clock);
    host.load();
    const auto all = host.instances();
    BOOST_TEST_REQUIRE(all.size() == 6u);
    const auto state = [&](const std::string& name) { return host.instance(name)->state; };
    BOOST_TEST(state("from-file") == InstanceState::kActive);
    BOOST_TEST(state("from-env") == InstanceState::kActive);
    BOOST_TEST(state("no-secret") == InstanceState::kFailed);
    BOOST_TEST(!contains(host.instance("no-secret")->last_error, "from-env"));
    BOOST_TEST(state("broken") == InstanceState::kFailed);
    BOOST_TEST(contains(host.instance("broken")->last_error, "create failed (KEEL_E_INVALID): fail_create"));
    BOOST_TEST(contains(host.instance("orphan")->last_error, "plugin \"no-such-plugin\" is not loaded"));
    BOOST_TEST(contains(host.instance("anonymous")->last_error, "no \"plugin = NAME\""));
    BOOST_TEST(host.instancesWith(Capability::kSubscriber) == (std::vector<std::string>{"from-env", "from-file"}));
}

BOOST_AUTO_TEST_CASE(the_breaker_opens_after_n_failures_and_closes_after_a_good_trial) {
    settings.directories = {kPlugins + "/good"};
    const std::string fail_file = temp.path + "/fail";
    instance("flaky", "plugin = test-good\nfail_file = " + fail_file + "\n");
    PluginHost host(settings, {}, clock);
    host.load();
    write(fail_file, "unavailable");
    for (int i = 0; i < 3; ++i) {
        auto r = host.invoke("flaky", Operation::kTaxQuote, kTaxRequest);
        BOOST_TEST_REQUIRE(!r.ok());
        BOOST_TEST(contains(r.problem().message, "KEEL_E_UNAVAILABLE"));
        BOOST_TEST(contains(r.problem().message, "tax service unreachable"));
    }
    BOOST_TEST(host.instance("flaky")->state == InstanceState::kSuspended);
    BOOST_TEST(host.flushExceptions() == 1u);  // no database here: the breaker_open entry waits
    const auto calls = host.instance("flaky")->calls;
    auto refused = host.invoke("flaky", Operation::kTaxQuote, kTaxRequest);
    BOOST_TEST_REQUIRE(!refused.ok());
    BOOST_TEST(contains(refused.problem().message, "suspended by its circuit breaker"));
    BOOST_TEST(host.instance("flaky")->calls == calls);  // the plugin was not called

    // Half-open after the cool-down: a failing trial opens it again at once.
    clock.advance(61'000'000);
    write(fail_file, "internal");
    BOOST_TEST(!host.invoke("flaky", Operation::kTaxQuote, kTaxRequest).ok());
    BOOST_TEST(host.instance("flaky")->state == InstanceState::kSuspended);
    BOOST_TEST(contains(host.invoke("flaky", Operation::kTaxQuote, kTaxRequest).problem().message, "suspended"));

    // A good trial closes it.
    clock.advance(61'000'000);
    fs::remove(fail_file);
    BOOST_TEST(host.invoke("flaky", Operation::kTaxQuote, kTaxRequest).ok());
    BOOST_TEST(host.instance("flaky")->state == InstanceState::kActive);
    BOOST_TEST(host.instance("flaky")->consecutive_failures == 0);
    BOOST_TEST(host.invoke("flaky", Operation::kSubscriberOnEvent, R"({"id":"e-2"})").ok());
}

BOOST_AUTO_TEST_CASE(a_throwing_plugin_is_contained_and_suspended_by_its_breaker) {
    // A plugin written with keel/plugin.hpp whose quote throws: the wrapper turns every exception into
    // KEEL_E_INTERNAL at the boundary, the host counts it, and the breaker suspends the instance.
    settings.directories = {KEEL_SDK_ALL_PLUGIN_DIR};
    instance("thrower", "plugin = sdk-all\n");
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST_REQUIRE(host.instance("thrower")->state == InstanceState::kActive, host.instance("thrower")->last_error);
    BOOST_TEST(host.invoke("thrower", Operation::kTaxQuote, R"({"n":1})").ok());
    auto std_exception = host.invoke("thrower", Operation::kTaxQuote, R"({"throw":"std"})");
    BOOST_TEST_REQUIRE(!std_exception.ok());
    BOOST_TEST(contains(std_exception.problem().message, "KEEL_E_INTERNAL"), std_exception.problem().message);
    BOOST_TEST(contains(std_exception.problem().message, "quote exploded"), std_exception.problem().message);
    auto not_std = host.invoke("thrower", Operation::kTaxQuote, R"({"throw":"int"})");
    BOOST_TEST_REQUIRE(!not_std.ok());
    BOOST_TEST(contains(not_std.problem().message, "unknown exception"), not_std.problem().message);
    BOOST_TEST(!host.invoke("thrower", Operation::kTaxQuote, R"({"throw":"std"})").ok());
    BOOST_TEST(host.instance("thrower")->state == InstanceState::kSuspended);
    BOOST_TEST(contains(host.invoke("thrower", Operation::kTaxQuote, R"({"n":2})").problem().message, "suspended"));
}

BOOST_AUTO_TEST_CASE(business_errors_do_not_trip_the_breaker) {
    settings.directories = {kPlugins + "/good"};
    instance("strict", "plugin = test-good\n");
    PluginHost host(settings, {}, clock);
    host.load();
    for (int i = 0; i < 5; ++i) BOOST_TEST(!host.invoke("strict", Operation::kTaxQuote, "{}").ok());
    BOOST_TEST(host.instance("strict")->state == InstanceState::kActive);
    BOOST_TEST(host.instance("strict")->failures == 5);
}

BOOST_AUTO_TEST_CASE(scheduled_ticks_run_when_due) {
    settings.directories = {kPlugins + "/good"};
    instance("ticker", "plugin = test-good\nschedule = sync\n");
    PluginHost host(settings, {}, clock);
    host.load();
    BOOST_TEST(host.dueTasks(clock.nowMicros()).empty());
    const auto later = clock.nowMicros() + 60'000'000;
    const auto due = host.dueTasks(later);
    BOOST_TEST_REQUIRE(due.size() == 1u);
    BOOST_TEST(due[0].instance == "ticker");
    BOOST_TEST(due[0].task == "sync");
    BOOST_TEST(host.runDue(later) == 1);
    BOOST_TEST(host.dueTasks(later).empty());
}

BOOST_AUTO_TEST_CASE(settings_come_from_the_configuration) {
    Poco::AutoPtr<Poco::Util::MapConfiguration> config(new Poco::Util::MapConfiguration);
    config->setString("plugins.directory", "/a:/b::/c");
    config->setString("plugins.breaker.failures", "7");
    config->setString("plugins.allow_unsigned", "true");
    const auto s = HostSettings::fromConfig(*config);
    BOOST_TEST(s.directories == (std::vector<std::string>{"/a", "/b", "/c"}));
    BOOST_TEST(s.breaker_failures == 7);
    BOOST_TEST(s.breaker_cooldown_seconds == 60);
    BOOST_TEST(s.allow_unsigned);
    BOOST_TEST(s.instances_directory == "/etc/keel/plugins.d");
    config->setString("plugins.breaker.cooldown", "soon");
    BOOST_CHECK_EXCEPTION(HostSettings::fromConfig(*config), InfrastructureError, [](const InfrastructureError& e) {
        return contains(e.what(), "plugins.breaker.cooldown = 'soon'");
    });
}

BOOST_AUTO_TEST_SUITE_END()
