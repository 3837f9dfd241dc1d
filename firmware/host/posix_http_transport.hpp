// The host's "Wi-Fi": a small blocking HTTP/1.1 client over POSIX sockets,
// one connection per request, plain http only. It talks to the configured
// RPC URL and nothing else, and by default only to loopback addresses.
#pragma once

#include <cstddef>
#include <string>

#include "medchain/http_url.hpp"
#include "medchain/transport.hpp"

namespace medchain::host {

struct HttpOptions {
    bool allow_remote = false;  // permit non-loopback addresses
    int connect_timeout_ms = 3'000;
    int io_timeout_ms = 15'000;  // whole request/response exchange
    std::size_t max_response_bytes = 8 * 1024 * 1024;
};

class PosixHttpTransport : public Transport {
public:
    // Throws std::invalid_argument for a bad URL, or a host that is not a
    // loopback literal while allow_remote is off.
    explicit PosixHttpTransport(const std::string& url, HttpOptions options = {});

    // Throws TransportError for anything short of an HTTP 200 with a body.
    std::string post(const std::string& body) override;

private:
    int connect_socket() const;

    HttpUrl url_;
    HttpOptions options_;
};

}  // namespace medchain::host
