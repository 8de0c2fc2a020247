#pragma once
// keeld: loads the layered configuration, opens the database, serves HTTP until SIGTERM or SIGINT.

#include "keel/db/database.h"
#include "keel/kernel/config.h"

#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>
#include <vector>

namespace keel::server {

/// The keeld application. Options: --config FILE, -D key=value, --help, --version.
class KeelDaemon : public Poco::Util::ServerApplication {
public:
    KeelDaemon();

protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

private:
    config::Sources sources_;
    bool stop_early_ = false;
};

}  // namespace keel::server
