#include "medchain/mqtt_transport.hpp"

#include <cstdio>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace medchain {
namespace {

using Json = nlohmann::json;

// Replaces the request's id with `wire_id`; returns the caller's id.
Json swap_id(Json& request, const std::string& wire_id) {
    if (!request.is_object()) throw TransportError("MQTT transport: the request is not one JSON-RPC call");
    Json original = request.value("id", Json());
    request["id"] = wire_id;
    return original;
}

}  // namespace

std::string ack_topic_of(const std::string& tx_topic) {
    const std::string suffix = "/tx";
    if (tx_topic.size() <= suffix.size() ||
        tx_topic.compare(tx_topic.size() - suffix.size(), suffix.size(), suffix) != 0) {
        throw std::invalid_argument("MQTT topic \"" + tx_topic + "\" does not end in /tx");
    }
    return tx_topic.substr(0, tx_topic.size() - suffix.size()) + "/ack";
}

MqttTransport::MqttTransport(MqttLink& link, Clock& clock, MqttTopics topics, std::uint32_t session,
                             std::uint32_t timeout_ms)
    : link_(link), clock_(clock), topics_(std::move(topics)), timeout_ms_(timeout_ms) {
    char text[9];
    std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(session));
    session_ = text;
}

std::string MqttTransport::post(const std::string& body) {
    Json request = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) throw TransportError("MQTT transport: the request is not JSON");
    const std::string wire_id = session_ + "-" + std::to_string(next_++);
    const Json caller_id = swap_id(request, wire_id);
    if (!link_.ensure_connected(topics_.ack)) {
        const std::string why = link_.last_error();
        throw TransportError("MQTT broker not reachable" + (why.empty() ? "" : ": " + why));
    }
    if (!link_.publish(topics_.tx, request.dump())) throw TransportError("MQTT publish failed (link down)");
    const std::uint64_t deadline = clock_.now_ms() + timeout_ms_;
    for (;;) {
        const std::uint64_t now = clock_.now_ms();
        if (now >= deadline) throw TransportError("no answer from the gateway over MQTT within the timeout");
        const std::uint64_t left = deadline - now;
        const std::optional<std::string> message = link_.poll(static_cast<std::uint32_t>(left < 200 ? left : 200));
        if (!message) continue;
        Json answer = Json::parse(*message, nullptr, /*allow_exceptions=*/false);
        // Answers to other (earlier, timed-out) requests are dropped.
        if (answer.is_discarded() || !answer.is_object() || answer.value("id", Json()) != Json(wire_id)) continue;
        answer["id"] = caller_id;
        return answer.dump();
    }
}

}  // namespace medchain
