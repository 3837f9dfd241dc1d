#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "medchain/alarm.hpp"
#include "medchain/device_config.hpp"

namespace medchain {
namespace {

VitalSigns normal() { return VitalSigns{72, 97, 120, 80, 3660}; }

std::vector<AlarmRule> with(void (*change)(VitalSigns&)) {
    VitalSigns v = normal();
    change(v);
    return evaluate_alarms(v, AlarmThresholds{});
}

using Rules = std::vector<AlarmRule>;

TEST(Alarm, ANormalReadingRaisesNothing) { EXPECT_TRUE(evaluate_alarms(normal(), AlarmThresholds{}).empty()); }

TEST(Alarm, HeartRateBoundsAreNormalAndOneBeyondAlarms) {
    EXPECT_EQ(with([](VitalSigns& v) { v.heart_rate = 40; }), Rules{});
    EXPECT_EQ(with([](VitalSigns& v) { v.heart_rate = 130; }), Rules{});
    EXPECT_EQ(with([](VitalSigns& v) { v.heart_rate = 39; }), Rules{AlarmRule::HeartRateLow});
    EXPECT_EQ(with([](VitalSigns& v) { v.heart_rate = 131; }), Rules{AlarmRule::HeartRateHigh});
    EXPECT_EQ(with([](VitalSigns& v) { v.heart_rate = 0; }), Rules{AlarmRule::HeartRateLow});
}

TEST(Alarm, Spo2SystolicAndTemperatureBounds) {
    EXPECT_EQ(with([](VitalSigns& v) { v.spo2 = 90; }), Rules{});
    EXPECT_EQ(with([](VitalSigns& v) { v.spo2 = 89; }), Rules{AlarmRule::Spo2Low});
    EXPECT_EQ(with([](VitalSigns& v) { v.systolic = 180; }), Rules{});
    EXPECT_EQ(with([](VitalSigns& v) { v.systolic = 181; }), Rules{AlarmRule::SystolicHigh});
    EXPECT_EQ(with([](VitalSigns& v) { v.systolic = 0; }), Rules{}) << "0 = not measured";
    EXPECT_EQ(with([](VitalSigns& v) { v.temperature_centi_c = 3900; }), Rules{});
    EXPECT_EQ(with([](VitalSigns& v) { v.temperature_centi_c = 3901; }), Rules{AlarmRule::TemperatureHigh});
}

TEST(Alarm, EveryCrossedRuleIsReportedInOrderWithItsLine) {
    const VitalSigns v{150, 85, 190, 100, 3950};
    const Rules rules = evaluate_alarms(v, AlarmThresholds{});
    EXPECT_EQ(rules, (Rules{AlarmRule::HeartRateHigh, AlarmRule::Spo2Low, AlarmRule::SystolicHigh,
                            AlarmRule::TemperatureHigh}));
    EXPECT_STREQ(rule_name(rules[0]), "heart_rate_high");
    const auto lines = alarm_lines(v, AlarmThresholds{}, rules);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "HR 150 > 130");
    EXPECT_EQ(lines[1], "SpO2 85% < 90%");
    EXPECT_EQ(lines[3], "T 39.50 > 39.00");
    for (const auto& line : lines) EXPECT_LE(line.size(), 21u) << line;
}

TEST(Alarm, ProvisionedThresholdsOverrideTheDefaultsFieldByField) {
    const AlarmThresholds t = parse_alarm_thresholds(R"({"heart_rate_high": 120, "temperature_high_c": 38.5})");
    EXPECT_EQ(t.heart_rate_high, 120);
    EXPECT_EQ(t.temperature_high_centi_c, 3850);
    EXPECT_EQ(t.heart_rate_low, 40);
    EXPECT_EQ(t.spo2_low, 90);
    EXPECT_EQ(parse_alarm_thresholds("{}"), AlarmThresholds{});
    EXPECT_EQ(evaluate_alarms(VitalSigns{125, 97, 120, 80, 3660}, t), Rules{AlarmRule::HeartRateHigh});
}

TEST(Alarm, BadThresholdsNameTheirField) {
    const auto message = [](const char* text) {
        try {
            parse_alarm_thresholds(text);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(message(R"({"spo2_low": 101})").find("alarms.spo2_low"), std::string::npos);
    EXPECT_NE(message(R"({"heart_rate_high": "fast"})").find("alarms.heart_rate_high"), std::string::npos);
    EXPECT_NE(message(R"({"temperature_high_c": 80})").find("alarms.temperature_high_c"), std::string::npos);
    EXPECT_NE(message(R"({"pulse": 3})").find("alarms.pulse"), std::string::npos);
    EXPECT_NE(message(R"({"heart_rate_low": 100, "heart_rate_high": 90})").find("heart_rate_low"), std::string::npos);
    EXPECT_NE(message("[1]").find("\"alarms\""), std::string::npos);
}

TEST(Alarm, TheDeviceConfigCarriesThresholdsAndMqttSettings) {
    nlohmann::json c = {{"rpc_url", "http://127.0.0.1:8545"},
                        {"chain_id", 1337},
                        {"contract", "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
                        {"device_private_key", "0x" + std::string(63, '0') + "1"},
                        {"patient_salt", "0x" + std::string(64, '1')},
                        {"device_id", "ward-device-1"}};
    EXPECT_EQ(parse_device_config(c.dump()).alarms, AlarmThresholds{});
    c["alarms"] = {{"spo2_low", 92}};
    c["mqtt_url"] = "mqtts://127.0.0.1:8883";
    c["mqtt_username"] = "ward-device-1";
    c["mqtt_password"] = "secret";
    c["mqtt_tx_topic"] = "medchain/n/ward/devices/0xab/tx";
    const DeviceConfig config = parse_device_config(c.dump());
    EXPECT_EQ(config.alarms.spo2_low, 92);
    EXPECT_EQ(config.mqtt_url, "mqtts://127.0.0.1:8883");
    EXPECT_EQ(config.mqtt_tx_topic, "medchain/n/ward/devices/0xab/tx");
    c["mqtt_url"] = "mqtt://127.0.0.1:1883";
    EXPECT_THROW(parse_device_config(c.dump()), ConfigError);
    c["mqtt_url"] = "mqtts://127.0.0.1:8883";
    c.erase("mqtt_password");
    EXPECT_THROW(parse_device_config(c.dump()), ConfigError);
}

}  // namespace
}  // namespace medchain
