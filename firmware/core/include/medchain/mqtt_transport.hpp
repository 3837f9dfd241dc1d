// medchain::Transport over MQTT: each JSON-RPC request is published on the
// device's transaction topic (medchain/<network>/<hospital>/devices/
// <address>/tx) and its answer awaited on the device's ack topic, where
// the hospital's `medchain gateway --mqtt` publishes the member node's
// response (docs/mqtt.md). The uploader above it is unchanged, so the
// outbox guarantees hold over MQTT as over HTTP: a reading leaves the
// outbox only after its receipt, and resent bytes are answered with the
// same hash.
//
// The request's id is replaced on the wire by one unique to this boot
// (`<session>-<n>`), so an answer to an earlier request, or one sent
// before a reboot, is never taken for the current one; the caller's id is
// put back into the answer.
#pragma once

#include <cstdint>
#include <string>

#include "medchain/clock.hpp"
#include "medchain/mqtt_link.hpp"
#include "medchain/transport.hpp"

namespace medchain {

struct MqttTopics {
    std::string tx;   // publish
    std::string ack;  // subscribe
};

class MqttTransport : public Transport {
public:
    // `session` should differ between boots (random); `timeout_ms` bounds
    // one request's wait for its answer.
    MqttTransport(MqttLink& link, Clock& clock, MqttTopics topics, std::uint32_t session,
                  std::uint32_t timeout_ms = 15'000);

    // Throws TransportError when the link is down, the publish fails or no
    // answer comes within the timeout.
    std::string post(const std::string& body) override;

private:
    MqttLink& link_;
    Clock& clock_;
    MqttTopics topics_;
    std::string session_;
    std::uint32_t timeout_ms_;
    std::uint64_t next_ = 1;
};

// The ack topic of a transaction topic ("…/tx" → "…/ack"); throws
// std::invalid_argument for a topic not ending in "/tx".
std::string ack_topic_of(const std::string& tx_topic);

}  // namespace medchain
