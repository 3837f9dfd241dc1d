// esp32-host's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace medchain::host {

struct CliOptions {
    std::string config_path;
    std::string outbox_dir;
    std::uint64_t readings = 1;
    std::uint64_t interval_ms = 1'000;
    std::optional<std::string> ssn;      // else read one line from stdin (the keypad)
    std::uint64_t timeout_ms = 120'000;  // for the outbox to empty after the last reading
    std::uint64_t seed = 1;              // simulated sensor
    std::uint64_t history = 0;           // then show this many earlier records (stderr)
    bool allow_remote = false;
    bool help = false;
    // The MQTT transport (--transport mqtt) and its overrides of the config.
    bool mqtt = false;
    std::optional<std::string> mqtt_credentials;  // a broker credentials JSON file
    std::optional<std::string> mqtt_url;          // mqtts://HOST:PORT
    std::optional<std::string> mqtt_username;
    std::optional<std::string> mqtt_password_file;  // never a password on the command line
    std::optional<std::string> mqtt_topic;          // the device's transaction topic
    std::optional<std::string> mqtt_ca;             // PEM file
    // Local alarms: a file that exists while an alarm is raised, and a
    // simulated abnormal reading every N readings (0: none).
    std::optional<std::string> alarm_flag;
    std::uint64_t abnormal_every = 0;
};

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws UsageError.
CliOptions parse_cli(const std::vector<std::string>& args);

const char* usage_text();

}  // namespace medchain::host
