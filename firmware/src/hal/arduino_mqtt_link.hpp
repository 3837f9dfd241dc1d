// medchain::MqttLink on the ESP32: Joël Gähwiler's arduino-mqtt
// (256dpi/MQTT, QoS 1 publishes) over WiFiClientSecure, which trusts only
// the broker's CA from the config (mqtt_ca). Used when the config has an
// mqtt_url; the core's MqttTransport runs the JSON-RPC protocol over it.
//
// Written against the library's documented API; NOT BUILT here
// (PlatformIO libraries cannot be downloaded in medchain's environment).
#pragma once

#include <MQTT.h>
#include <WiFiClientSecure.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "medchain/mqtt_link.hpp"

class ArduinoMqttLink : public medchain::MqttLink {
public:
    // `url` is mqtts://HOST:PORT (parse_device_config checked the scheme).
    ArduinoMqttLink(const std::string& url, std::string client_id, std::string username, std::string password,
                    std::string ca_pem);

    bool ensure_connected(const std::string& topic) override;
    bool publish(const std::string& topic, const std::string& payload) override;
    std::optional<std::string> poll(std::uint32_t wait_ms) override;
    std::string last_error() override { return last_error_; }

private:
    static void on_message(MQTTClient* client, char topic[], char bytes[], int length);

    std::string host_;
    std::uint16_t port_ = 8883;
    std::string client_id_;
    std::string username_;
    std::string password_;
    std::string ca_pem_;  // outlives net_, which points at it
    std::string topic_;
    std::string last_error_;
    std::deque<std::string> inbox_;
    WiFiClientSecure net_;
    MQTTClient client_{2048};  // a signed reading, or a receipt, fits
};
