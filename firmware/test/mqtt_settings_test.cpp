#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "mqtt_settings.hpp"

namespace medchain::host {
namespace {

DeviceConfig with_mqtt() {
    DeviceConfig c;
    c.mqtt_url = "mqtts://127.0.0.1:8884";
    c.mqtt_username = "ward-device-1";
    c.mqtt_password = "secret";
    c.mqtt_tx_topic = "medchain/n/ward/devices/0xab/tx";
    c.mqtt_ca = "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n";
    return c;
}

std::string scratch() {
    const std::string dir = ::testing::TempDir();
    return dir.back() == '/' ? dir.substr(0, dir.size() - 1) : dir;
}

std::string message(const DeviceConfig& c, const CliOptions& o) {
    try {
        resolve_mqtt_settings(c, o, scratch());
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "accepted";
}

TEST(MqttSettings, FromTheConfigWithItsCaWrittenToAFile) {
    CliOptions o;
    o.mqtt = true;
    const MqttSettings s = resolve_mqtt_settings(with_mqtt(), o, scratch());
    EXPECT_EQ(s.host, "127.0.0.1");
    EXPECT_EQ(s.port, 8884);
    EXPECT_EQ(s.username, "ward-device-1");
    EXPECT_EQ(s.tx_topic, "medchain/n/ward/devices/0xab/tx");
    std::ifstream ca(s.ca_file);
    std::string first;
    std::getline(ca, first);
    EXPECT_EQ(first, "-----BEGIN CERTIFICATE-----");
}

TEST(MqttSettings, ACredentialsFileAndFlagsOverrideTheConfig) {
    const std::string creds = scratch() + "/device-creds.json";
    std::ofstream(creds) << nlohmann::json{{"username", "u2"},
                                           {"password", "p2"},
                                           {"url", "mqtts://127.0.0.1:9999"},
                                           {"ca_file", "/x/ca.pem"},
                                           {"publish", {"medchain/n/h/devices/0xcd/tx"}},
                                           {"subscribe", {"medchain/n/h/devices/0xcd/ack"}}}
                                .dump();
    CliOptions o;
    o.mqtt = true;
    o.mqtt_credentials = creds;
    o.mqtt_username = "u3";
    const MqttSettings s = resolve_mqtt_settings(DeviceConfig{}, o, scratch());
    EXPECT_EQ(s.port, 9999);
    EXPECT_EQ(s.username, "u3");
    EXPECT_EQ(s.password, "p2");
    EXPECT_EQ(s.ca_file, "/x/ca.pem");
    EXPECT_EQ(s.tx_topic, "medchain/n/h/devices/0xcd/tx");
    std::remove(creds.c_str());
}

TEST(MqttSettings, WhatIsMissingOrWrongIsNamed) {
    CliOptions o;
    o.mqtt = true;
    EXPECT_NE(message(DeviceConfig{}, o).find("mqtt_url"), std::string::npos);
    DeviceConfig c = with_mqtt();
    c.mqtt_password.clear();
    EXPECT_NE(message(c, o).find("mqtt_password"), std::string::npos);
    c = with_mqtt();
    c.mqtt_url = "mqtts://10.1.2.3:8883";
    EXPECT_NE(message(c, o).find("--allow-remote"), std::string::npos);
    c.mqtt_url = "mqtts://127.0.0.1:99999";
    EXPECT_NE(message(c, o).find("port"), std::string::npos);
    c = with_mqtt();
    c.mqtt_ca.clear();
    EXPECT_NE(message(c, o).find("CA"), std::string::npos);
    o.mqtt_credentials = scratch() + "/missing.json";
    EXPECT_NE(message(with_mqtt(), o).find("--mqtt-credentials"), std::string::npos);
}

}  // namespace
}  // namespace medchain::host
