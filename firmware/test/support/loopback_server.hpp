// A one-connection HTTP server on 127.0.0.1 for transport tests: accepts
// once, reads the request, answers with a canned response (or stays silent).
#pragma once

#include <cstdint>
#include <string>
#include <thread>

namespace medchain::test {

class LoopbackServer {
public:
    // `response` is written verbatim; with `silent` the server reads the
    // request and then holds the connection open without answering until
    // the client gives up.
    explicit LoopbackServer(std::string response, bool silent = false);
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    std::uint16_t port() const { return port_; }
    // The request as received; call after the client is done.
    std::string request();

private:
    void serve();

    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::string response_;
    bool silent_;
    std::string request_;
    std::thread thread_;
};

// A loopback port with nothing listening on it.
std::uint16_t closed_port();

}  // namespace medchain::test
