// Site Wi-Fi settings, kept apart from the provisioned medchain.json (they
// belong to the hospital network, not to the chain): /wifi.json on LittleFS,
//   {"ssid": "...", "password": "...", "ntp_server": "pool.ntp.org"}
// with ntp_server optional. Never commit it.
#pragma once

#include <optional>
#include <string>

struct WifiSettings {
    std::string ssid;
    std::string password;
    std::string ntp_server;  // empty: no clock sync, timestamps are ms since boot
};

// Throws medchain::ConfigError on a malformed file.
WifiSettings parse_wifi_settings(const std::string& json_text);

// The whole file, or nullopt if it does not exist. LittleFS must be mounted.
std::optional<std::string> read_flash_file(const char* path);
