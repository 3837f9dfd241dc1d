// How the core reaches the node: one HTTP POST of a JSON body to the
// configured RPC URL. Wi-Fi/HTTPClient on the ESP32, POSIX sockets on the
// host, a fake in unit tests. On a private network the device also PUTs
// its sealed readings to the gateway's store, over the same transport.
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

// The answer to a PUT: whatever status the server gave, and its body.
struct PutReply {
    int status = 0;
    std::string body;
};

class Transport {
public:
    virtual ~Transport() = default;
    // Sends `body` and returns the response body; throws TransportError.
    virtual std::string post(const std::string& body) = 0;
    // PUTs `body` (application/octet-stream) to `url`, which must be on the
    // RPC URL's origin (same scheme, host and port: the same gateway, the
    // same pinned CA and token). Returns the answer whatever its status;
    // throws TransportError when none arrived. A transport that cannot PUT
    // (MQTT) throws TransportError.
    virtual PutReply put(const std::string& url, const std::string& body) {
        (void)body;
        throw TransportError("this transport cannot PUT " + url);
    }
};

}  // namespace medchain
