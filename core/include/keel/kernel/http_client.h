#pragma once
// Outbound HTTP(S) sessions for everything Keel calls (webhooks, plugins' http_request): one place that decides
// how TLS is verified. The context is always explicit, never Poco's SSLManager default, whose certificate handler
// would ask on the console when a certificate does not verify.

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/URI.h>

#include <chrono>
#include <memory>
#include <string>

namespace keel {

/// A session to `uri` (http or https) with `timeout` for connect and each read. HTTPS verifies the server's
/// certificate chain and name, against the CA file `ca_file` when not empty, else against the system's CAs.
std::unique_ptr<Poco::Net::HTTPClientSession> openHttpSession(const Poco::URI& uri, std::chrono::milliseconds timeout,
                                                              const std::string& ca_file = {});

}  // namespace keel
