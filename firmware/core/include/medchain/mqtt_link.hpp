// One MQTT client connection as the core sees it: connect (TLS, user and
// password, as the platform's client is configured), subscribe to one
// topic, publish at QoS 1, and hand over the messages that arrive.
// libmosquitto on the host, arduino-mqtt on the ESP32, a fake in tests.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace medchain {

class MqttLink {
public:
    virtual ~MqttLink() = default;
    // Connects when not connected (again after the broker went away) and
    // subscribes to `topic` at QoS 1; whether the link is up.
    virtual bool ensure_connected(const std::string& topic) = 0;
    // Publishes `payload` on `topic` at QoS 1; false when the link is down.
    virtual bool publish(const std::string& topic, const std::string& payload) = 0;
    // Services the connection for at most `wait_ms`; the payload of a
    // message that arrived on the subscribed topic, if one did.
    virtual std::optional<std::string> poll(std::uint32_t wait_ms) = 0;
    // Why the link is down (the broker's refusal, a lost connection), for
    // logs; empty when unknown.
    virtual std::string last_error() { return ""; }
};

}  // namespace medchain
