#include <gtest/gtest.h>

#include "cli_options.hpp"

namespace medchain::host {
namespace {

TEST(CliOptions, ParsesEverything) {
    const CliOptions o =
        parse_cli({"--config", "d.json", "--outbox", "out", "--readings", "5", "--interval-ms", "250", "--ssn",
                   "123-45-6789", "--timeout-ms", "9000", "--seed", "7", "--history", "3", "--allow-remote"});
    EXPECT_EQ(o.config_path, "d.json");
    EXPECT_EQ(o.outbox_dir, "out");
    EXPECT_EQ(o.readings, 5u);
    EXPECT_EQ(o.interval_ms, 250u);
    EXPECT_EQ(o.ssn, "123-45-6789");
    EXPECT_EQ(o.timeout_ms, 9000u);
    EXPECT_EQ(o.seed, 7u);
    EXPECT_EQ(o.history, 3u);
    EXPECT_TRUE(o.allow_remote);
}

TEST(CliOptions, DefaultsAndStdinSsn) {
    const CliOptions o = parse_cli({"--config", "d.json", "--outbox", "out"});
    EXPECT_EQ(o.readings, 1u);
    EXPECT_FALSE(o.ssn.has_value());
    EXPECT_FALSE(o.allow_remote);
}

TEST(CliOptions, Rejects) {
    EXPECT_THROW(parse_cli({"--outbox", "out"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--readings", "-1"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--readings"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--bogus"}), UsageError);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--ssn", ""}), UsageError);
    EXPECT_TRUE(parse_cli({"--help"}).help);
}

TEST(CliOptions, MqttAndAlarmFlags) {
    const CliOptions o = parse_cli({"--config", "d.json", "--outbox", "o", "--transport", "mqtt", "--mqtt-credentials",
                                    "c.json", "--mqtt-ca", "ca.pem", "--alarm-flag", "f", "--abnormal-every", "3"});
    EXPECT_TRUE(o.mqtt);
    EXPECT_EQ(o.mqtt_credentials, "c.json");
    EXPECT_EQ(o.mqtt_ca, "ca.pem");
    EXPECT_EQ(o.alarm_flag, "f");
    EXPECT_EQ(o.abnormal_every, 3u);
    EXPECT_FALSE(parse_cli({"--config", "d.json", "--outbox", "o", "--transport", "http"}).mqtt);
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--transport", "pigeon"}), UsageError);
    // MQTT settings without the MQTT transport are a mistake, not ignored.
    EXPECT_THROW(parse_cli({"--config", "d.json", "--outbox", "o", "--mqtt-url", "mqtts://127.0.0.1:8883"}),
                 UsageError);
}

}  // namespace
}  // namespace medchain::host
