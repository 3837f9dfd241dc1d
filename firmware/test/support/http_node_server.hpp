// Serves a FakeNode over HTTP on 127.0.0.1 from a background thread, so the
// esp32-host binary can be tested end to end through its real socket
// transport. One request per connection, as the client sends them; a PUT
// goes to FakeNode's store.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "support/fake_node.hpp"

namespace medchain::test {

class HttpNodeServer {
public:
    explicit HttpNodeServer(FakeNode& node);
    ~HttpNodeServer();
    HttpNodeServer(const HttpNodeServer&) = delete;
    HttpNodeServer& operator=(const HttpNodeServer&) = delete;

    std::uint16_t port() const { return port_; }

private:
    void serve();
    void handle(int fd);

    FakeNode& node_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace medchain::test
