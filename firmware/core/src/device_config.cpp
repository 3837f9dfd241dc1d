#include "medchain/device_config.hpp"

#include <nlohmann/json.hpp>

#include "medchain/address.hpp"
#include "medchain/hex.hpp"

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

}  // namespace

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
    const std::string salt = require_string(config, "patient_salt");
    out.patient_salt = parse_field("patient_salt", [&] { return fixed_from_hex<32>(salt); });
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
    return out;
}

}  // namespace medchain
