#include "hal/arduino_mqtt_link.hpp"

#include <Arduino.h>
#include <WiFi.h>

namespace {

// arduino-mqtt's callback carries no user pointer: the device has one link.
ArduinoMqttLink* g_link = nullptr;
std::deque<std::string>* g_inbox = nullptr;
const std::string* g_topic = nullptr;
constexpr std::size_t kInboxMax = 16;

}  // namespace

ArduinoMqttLink::ArduinoMqttLink(const std::string& url, std::string client_id, std::string username,
                                 std::string password, std::string ca_pem)
    : client_id_(std::move(client_id)),
      username_(std::move(username)),
      password_(std::move(password)),
      ca_pem_(std::move(ca_pem)) {
    const std::string rest = url.substr(std::string("mqtts://").size());
    const std::size_t colon = rest.rfind(':');
    host_ = rest.substr(0, colon);
    if (colon != std::string::npos) port_ = static_cast<std::uint16_t>(std::stoul(rest.substr(colon + 1)));
    net_.setCACert(ca_pem_.c_str());
    client_.begin(host_.c_str(), port_, net_);
    client_.setKeepAlive(10);
    client_.setTimeout(5'000);
    client_.onMessageAdvanced(&ArduinoMqttLink::on_message);
    g_link = this;
    g_inbox = &inbox_;
    g_topic = &topic_;
}

void ArduinoMqttLink::on_message(MQTTClient*, char topic[], char bytes[], int length) {
    if (g_link == nullptr || *g_topic != topic || length <= 0) return;
    if (g_inbox->size() >= kInboxMax) g_inbox->pop_front();
    g_inbox->emplace_back(bytes, static_cast<std::size_t>(length));
}

bool ArduinoMqttLink::ensure_connected(const std::string& topic) {
    topic_ = topic;
    if (client_.connected()) return true;
    if (WiFi.status() != WL_CONNECTED) {
        last_error_ = "Wi-Fi not connected";
        return false;
    }
    if (!client_.connect(client_id_.c_str(), username_.c_str(), password_.c_str())) {
        last_error_ = "MQTT connect failed (error " + std::to_string(static_cast<int>(client_.lastError())) +
                      ", broker code " + std::to_string(static_cast<int>(client_.returnCode())) + ")";
        return false;
    }
    // Every connection is a clean session: subscribe again.
    if (!client_.subscribe(topic_.c_str(), 1)) {
        last_error_ = "MQTT subscribe refused";
        client_.disconnect();
        return false;
    }
    return true;
}

bool ArduinoMqttLink::publish(const std::string& topic, const std::string& payload) {
    const bool ok =
        client_.publish(topic.c_str(), payload.data(), static_cast<int>(payload.size()), /*retained=*/false, /*qos=*/1);
    if (!ok) last_error_ = "MQTT publish failed";
    return ok;
}

std::optional<std::string> ArduinoMqttLink::poll(std::uint32_t wait_ms) {
    const std::uint32_t start = millis();
    do {
        client_.loop();
        if (!inbox_.empty()) {
            std::string message = std::move(inbox_.front());
            inbox_.pop_front();
            return message;
        }
        delay(10);
    } while (millis() - start < wait_ms);
    return std::nullopt;
}
