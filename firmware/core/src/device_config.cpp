#include "medchain/device_config.hpp"

#include <nlohmann/json.hpp>

#include "medchain/address.hpp"
#include "medchain/hex.hpp"
#include "medchain/http_url.hpp"

namespace medchain {
namespace {

using Json = nlohmann::json;

const Json& require(const Json& config, const char* name) {
    const auto it = config.find(name);
    if (it == config.end() || it->is_null()) throw ConfigError(std::string("config: \"") + name + "\" is missing");
    return *it;
}

std::string require_string(const Json& config, const char* name) {
    const Json& value = require(config, name);
    if (!value.is_string() || value.get_ref<const std::string&>().empty()) {
        throw ConfigError(std::string("config: \"") + name + "\" must be a non-empty string");
    }
    return value.get<std::string>();
}

// An optional string field: empty when absent or null.
std::string optional_string(const Json& config, const char* name) {
    const auto it = config.find(name);
    if (it == config.end() || it->is_null()) return "";
    if (!it->is_string()) throw ConfigError(std::string("config: \"") + name + "\" must be a string");
    return it->get<std::string>();
}

template <typename F>
auto parse_field(const char* name, F&& parse) {
    try {
        return parse();
    } catch (const std::invalid_argument& e) {
        throw ConfigError(std::string("config: \"") + name + "\": " + e.what());
    }
}

std::uint64_t parse_chain_id(const Json& value) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    if (value.is_string()) return parse_field("chain_id", [&] { return parse_quantity(value.get<std::string>()); });
    throw ConfigError("config: \"chain_id\" must be a positive integer");
}

// A whole number field of "alarms" within [low, high], or `fallback`.
long alarm_number(const Json& alarms, const char* name, long low, long high, long fallback) {
    const auto it = alarms.find(name);
    if (it == alarms.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() || it->get<long>() < low || it->get<long>() > high) {
        throw ConfigError(std::string("config: \"alarms.") + name + "\" must be a whole number from " +
                          std::to_string(low) + " to " + std::to_string(high));
    }
    return it->get<long>();
}

AlarmThresholds alarm_thresholds(const Json& alarms) {
    if (alarms.is_null()) return {};
    if (!alarms.is_object()) throw ConfigError("config: \"alarms\" must be an object of thresholds");
    AlarmThresholds t;
    for (const auto& item : alarms.items()) {
        const std::string& key = item.key();
        if (key != "heart_rate_low" && key != "heart_rate_high" && key != "spo2_low" && key != "systolic_high" &&
            key != "temperature_high_c") {
            throw ConfigError("config: \"alarms." + key +
                              "\" is not a threshold (heart_rate_low, heart_rate_high, spo2_low, systolic_high, "
                              "temperature_high_c)");
        }
    }
    t.heart_rate_low = static_cast<std::uint16_t>(alarm_number(alarms, "heart_rate_low", 0, 300, t.heart_rate_low));
    t.heart_rate_high = static_cast<std::uint16_t>(alarm_number(alarms, "heart_rate_high", 0, 300, t.heart_rate_high));
    t.spo2_low = static_cast<std::uint16_t>(alarm_number(alarms, "spo2_low", 0, 100, t.spo2_low));
    t.systolic_high = static_cast<std::uint16_t>(alarm_number(alarms, "systolic_high", 0, 300, t.systolic_high));
    if (const auto it = alarms.find("temperature_high_c"); it != alarms.end() && !it->is_null()) {
        if (!it->is_number() || it->get<double>() < 30.0 || it->get<double>() > 45.0) {
            throw ConfigError("config: \"alarms.temperature_high_c\" must be degrees Celsius from 30 to 45, e.g. 39.0");
        }
        t.temperature_high_centi_c = static_cast<std::int16_t>(it->get<double>() * 100.0 + 0.5);
    }
    if (t.heart_rate_low > t.heart_rate_high) {
        throw ConfigError("config: \"alarms.heart_rate_low\" must not be above \"alarms.heart_rate_high\"");
    }
    return t;
}

// The MQTT fields: none, or the url (mqtts://), account and topic together.
void parse_mqtt(const Json& config, DeviceConfig& out) {
    out.mqtt_url = optional_string(config, "mqtt_url");
    out.mqtt_username = optional_string(config, "mqtt_username");
    out.mqtt_password = optional_string(config, "mqtt_password");
    out.mqtt_tx_topic = optional_string(config, "mqtt_tx_topic");
    out.mqtt_ca = optional_string(config, "mqtt_ca");
    if (out.mqtt_url.empty()) return;
    if (out.mqtt_url.rfind("mqtts://", 0) != 0) {
        throw ConfigError("config: \"mqtt_url\" must be mqtts://host:port (the broker takes TLS only)");
    }
    for (const char* name : {"mqtt_username", "mqtt_password", "mqtt_tx_topic"}) require_string(config, name);
    if (!out.mqtt_ca.empty() && out.mqtt_ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        throw ConfigError("config: \"mqtt_ca\" must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
}

bool present(const Json& config, const char* name) {
    const auto it = config.find(name);
    return it != config.end() && !it->is_null();
}

Bytes32 require_bytes32(const Json& config, const char* name) {
    const std::string text = require_string(config, name);
    return parse_field(name, [&] { return fixed_from_hex<32>(text); });
}

// The patient: a clear network's salt (the id comes from the SSN typed
// in), or a private network's patient id with the store to PUT readings to.
void parse_patient(const Json& config, DeviceConfig& out) {
    const bool clear = present(config, "patient_salt");
    const bool hidden = present(config, "patient_id") || present(config, "store_url");
    if (clear && hidden) {
        throw ConfigError(
            "config: \"patient_salt\" (a clear network) cannot come with \"patient_id\"/\"store_url\" (a private "
            "network)");
    }
    if (clear) {
        out.patient_salt = require_bytes32(config, "patient_salt");
        return;
    }
    if (!hidden) {
        throw ConfigError(
            "config: \"patient_salt\" is missing (or \"patient_id\" and \"store_url\" for a private network)");
    }
    out.patient_id = require_bytes32(config, "patient_id");
    out.store_url = require_string(config, "store_url");
    parse_field("store_url", [&] { return parse_http_url(out.store_url); });
    if (out.store_url.back() == '/') out.store_url.pop_back();
}

}  // namespace

AlarmThresholds parse_alarm_thresholds(const std::string& json_object_text) {
    const Json alarms = Json::parse(json_object_text, nullptr, /*allow_exceptions=*/false);
    if (alarms.is_discarded()) throw ConfigError("config: \"alarms\" is not JSON");
    return alarm_thresholds(alarms);
}

DeviceConfig parse_device_config(const std::string& json_text) {
    const Json config = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object()) throw ConfigError("config: not a JSON object");
    DeviceConfig out;
    out.rpc_url = require_string(config, "rpc_url");
    out.chain_id = parse_chain_id(require(config, "chain_id"));
    if (out.chain_id == 0) throw ConfigError("config: \"chain_id\" must be a positive integer");
    const std::string contract = require_string(config, "contract");
    out.contract = parse_field("contract", [&] { return parse_address(contract); });
    const std::string key = require_string(config, "device_private_key");
    out.device_private_key = parse_field("device_private_key", [&] { return fixed_from_hex<32>(key); });
    parse_patient(config, out);
    out.device_id = require_string(config, "device_id");
    out.rpc_token = optional_string(config, "rpc_token");
    if (out.rpc_token.find_first_of("\r\n ") != std::string::npos) {
        throw ConfigError("config: \"rpc_token\" must not contain spaces or line breaks");
    }
    out.tls_ca = optional_string(config, "tls_ca");
    if (!out.tls_ca.empty() && out.tls_ca.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        throw ConfigError("config: \"tls_ca\" must be a PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    if (out.rpc_url.rfind("https://", 0) == 0 && out.tls_ca.empty()) {
        throw ConfigError("config: \"tls_ca\" is required for an https:// rpc_url (the gateway's CA certificate)");
    }
    if (out.store_url.rfind("https://", 0) == 0 && out.tls_ca.empty()) {
        throw ConfigError("config: \"tls_ca\" is required for an https:// store_url (the gateway's CA certificate)");
    }
    parse_mqtt(config, out);
    if (const auto alarms = config.find("alarms"); alarms != config.end()) out.alarms = alarm_thresholds(*alarms);
    return out;
}

}  // namespace medchain
