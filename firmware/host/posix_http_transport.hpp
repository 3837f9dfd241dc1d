// The host's "Wi-Fi": a small blocking HTTP/1.1 client over POSIX sockets,
// one connection per request, http or https (OpenSSL, TLS 1.2+, the
// server's certificate verified against the one CA the config pins and
// its name or IP address checked; no system trust store). It talks to the
// configured RPC URL and nothing else, and by default only to loopback
// addresses. A token, when configured, goes in "Authorization: Bearer".
// Besides POSTing JSON-RPC it PUTs to other paths of the same origin (the
// gateway's store).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "medchain/http_url.hpp"
#include "medchain/transport.hpp"

namespace medchain::host {

struct HttpOptions {
    bool allow_remote = false;  // permit non-loopback addresses
    int connect_timeout_ms = 3'000;
    int io_timeout_ms = 15'000;  // whole request/response exchange
    std::size_t max_response_bytes = 8 * 1024 * 1024;
    std::string bearer_token;  // sent as "Authorization: Bearer <token>" when set
    std::string ca_pem;        // the CA to trust for https:// (required then)
};

struct TlsContext;  // OpenSSL's SSL_CTX, built once from ca_pem

class PosixHttpTransport : public Transport {
public:
    // Throws std::invalid_argument for a bad URL, a host that is not a
    // loopback literal while allow_remote is off, or an https:// URL
    // without a usable ca_pem.
    explicit PosixHttpTransport(const std::string& url, HttpOptions options = {});

    // Throws TransportError for anything short of an HTTP 200 with a body.
    std::string post(const std::string& body) override;
    // Throws std::invalid_argument for a URL off the RPC URL's origin,
    // TransportError when no complete answer arrived.
    PutReply put(const std::string& url, const std::string& body) override;

private:
    int connect_socket() const;
    // One request and its complete answer, whatever its status.
    PutReply exchange(const std::string& method, const std::string& path, const std::string& content_type,
                      const std::string& body);

    HttpUrl url_;
    HttpOptions options_;
    std::shared_ptr<TlsContext> tls_;
};

}  // namespace medchain::host
