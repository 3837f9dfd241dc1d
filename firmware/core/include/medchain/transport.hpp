// How the core reaches the node: one HTTP POST of a JSON body to the
// configured RPC URL. Wi-Fi/HTTPClient on the ESP32, POSIX sockets on the
// host, a fake in unit tests.
#pragma once

#include <stdexcept>
#include <string>

namespace medchain {

// The request may or may not have reached the node (no link, refused,
// timed out, HTTP status other than 200). Always worth retrying.
class TransportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Sends `body` and returns the response body; throws TransportError.
    virtual std::string post(const std::string& body) = 0;
};

}  // namespace medchain
