#include "hal/wifi_settings.hpp"

#include <LittleFS.h>

#include <nlohmann/json.hpp>

#include "medchain/device_config.hpp"

WifiSettings parse_wifi_settings(const std::string& json_text) {
    const nlohmann::json json = nlohmann::json::parse(json_text, nullptr, false);
    if (json.is_discarded() || !json.is_object()) throw medchain::ConfigError("wifi.json: not a JSON object");
    WifiSettings settings;
    settings.ssid = json.value("ssid", "");
    settings.password = json.value("password", "");
    settings.ntp_server = json.value("ntp_server", "");
    if (settings.ssid.empty()) throw medchain::ConfigError("wifi.json: \"ssid\" is missing");
    return settings;
}

std::optional<std::string> read_flash_file(const char* path) {
    if (!LittleFS.exists(path)) return std::nullopt;
    File file = LittleFS.open(path, "r");
    if (!file) return std::nullopt;
    const String content = file.readString();
    file.close();
    return std::string(content.c_str(), content.length());
}
