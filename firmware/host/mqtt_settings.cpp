#include "mqtt_settings.hpp"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace medchain::host {
namespace {

using Json = nlohmann::json;

std::string read_text(const std::string& path, const std::string& what) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(what + ": cannot read " + path);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// Applies a broker credentials file written by `medchain broker start`.
void apply_credentials(const std::string& path, std::string& url, MqttSettings& s) {
    const std::string flag = "--mqtt-credentials " + path;
    const Json c = Json::parse(read_text(path, flag), nullptr, /*allow_exceptions=*/false);
    if (c.is_discarded() || !c.is_object()) throw ConfigError(flag + ": not a JSON object");
    const auto text = [&](const char* name) {
        const auto it = c.find(name);
        if (it == c.end() || !it->is_string()) throw ConfigError(flag + ": \"" + name + "\" must be a string");
        return it->get<std::string>();
    };
    url = text("url");
    s.username = text("username");
    s.password = text("password");
    s.ca_file = text("ca_file");
    const auto publish = c.find("publish");
    if (publish == c.end() || !publish->is_array() || publish->empty() || !(*publish)[0].is_string()) {
        throw ConfigError(flag + ": \"publish\" must list the device's transaction topic");
    }
    s.tx_topic = (*publish)[0].get<std::string>();
}

bool loopback(const std::string& host) { return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0; }

// mqtts://HOST:PORT into the settings.
void apply_url(const std::string& url, bool allow_remote, MqttSettings& s) {
    const std::string scheme = "mqtts://";
    const std::string what = "MQTT URL \"" + url + "\" (mqtt_url, --mqtt-url or the credentials' url)";
    if (url.rfind(scheme, 0) != 0) throw ConfigError(what + ": expected mqtts://HOST:PORT (TLS only)");
    const std::string rest = url.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
        throw ConfigError(what + ": expected mqtts://HOST:PORT");
    }
    s.host = rest.substr(0, colon);
    const std::string port = rest.substr(colon + 1);
    if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) < 1 ||
        std::stoi(port) > 65535) {
        throw ConfigError(what + ": the port must be 1 to 65535");
    }
    s.port = std::stoi(port);
    if (!allow_remote && !loopback(s.host)) {
        throw ConfigError(what + ": not a loopback address; pass --allow-remote to reach another host");
    }
}

}  // namespace

MqttSettings resolve_mqtt_settings(const DeviceConfig& config, const CliOptions& o, const std::string& scratch_dir) {
    MqttSettings s;
    std::string url = config.mqtt_url;
    s.username = config.mqtt_username;
    s.password = config.mqtt_password;
    s.tx_topic = config.mqtt_tx_topic;
    if (o.mqtt_credentials) apply_credentials(*o.mqtt_credentials, url, s);
    if (o.mqtt_url) url = *o.mqtt_url;
    if (o.mqtt_username) s.username = *o.mqtt_username;
    if (o.mqtt_password_file) {
        s.password = read_text(*o.mqtt_password_file, "--mqtt-password-file");
        while (!s.password.empty() && (s.password.back() == '\n' || s.password.back() == '\r')) s.password.pop_back();
    }
    if (o.mqtt_topic) s.tx_topic = *o.mqtt_topic;
    if (o.mqtt_ca) s.ca_file = *o.mqtt_ca;
    const std::string hint =
        ": give it in the config (`medchain device provision` after `medchain broker start`) "
        "or with --mqtt-credentials";
    if (url.empty()) throw ConfigError("--transport mqtt: no broker URL (mqtt_url)" + hint);
    if (s.username.empty() || s.password.empty())
        throw ConfigError("--transport mqtt: no broker account (mqtt_username, mqtt_password)" + hint);
    if (s.tx_topic.empty()) throw ConfigError("--transport mqtt: no transaction topic (mqtt_tx_topic)" + hint);
    apply_url(url, o.allow_remote, s);
    if (s.ca_file.empty() && !config.mqtt_ca.empty()) {
        s.ca_file = scratch_dir + "/mqtt-ca.pem";
        std::ofstream out(s.ca_file, std::ios::binary | std::ios::trunc);
        out << config.mqtt_ca;
        if (!out) throw ConfigError("mqtt_ca: cannot write it to " + s.ca_file);
    }
    if (s.ca_file.empty())
        throw ConfigError("--transport mqtt: no CA to pin (mqtt_ca, --mqtt-ca or the credentials' ca_file)");
    s.client_id = s.username;
    return s;
}

}  // namespace medchain::host
