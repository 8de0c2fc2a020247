#include "keel/kernel/http_client.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPSClientSession.h>

namespace keel {

std::unique_ptr<Poco::Net::HTTPClientSession> openHttpSession(const Poco::URI& uri, std::chrono::milliseconds timeout,
                                                              const std::string& ca_file) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https") {
        Poco::Net::Context::Ptr context =
            new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", ca_file,
                                   Poco::Net::Context::VERIFY_RELAXED, 9, ca_file.empty());
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), context);
    } else {
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    }
    session->setTimeout(Poco::Timespan(
        static_cast<Poco::Timespan::TimeDiff>(std::chrono::duration_cast<std::chrono::microseconds>(timeout).count())));
    return session;
}

}  // namespace keel
