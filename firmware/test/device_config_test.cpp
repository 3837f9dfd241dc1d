#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "medchain/device_config.hpp"
#include "medchain/hex.hpp"

namespace medchain {
namespace {

nlohmann::json valid() {
    return {{"rpc_url", "http://127.0.0.1:8545"},
            {"chain_id", 1337},
            {"contract", "0x5FbDB2315678afecb367f032d93F642f64180aa3"},
            {"device_private_key", "0x" + std::string(63, '0') + "1"},
            {"patient_salt", "0x" + std::string(64, '1')},
            {"device_id", "hospital-1-device-1"}};
}

TEST(DeviceConfig, ParsesTheProvisionedFile) {
    const DeviceConfig config = parse_device_config(valid().dump());
    EXPECT_EQ(config.rpc_url, "http://127.0.0.1:8545");
    EXPECT_EQ(config.chain_id, 1337u);
    EXPECT_EQ(to_hex(config.contract), "0x5fbdb2315678afecb367f032d93f642f64180aa3");
    EXPECT_EQ(config.device_private_key[31], 1);
    EXPECT_EQ(config.patient_salt[0], 0x11);
    EXPECT_EQ(config.device_id, "hospital-1-device-1");
    EXPECT_EQ(config.rpc_token, "");
    EXPECT_EQ(config.tls_ca, "");
}

TEST(DeviceConfig, ReadsTheGatewayTokenAndCa) {
    auto json = valid();
    json["rpc_url"] = "https://192.168.1.10:8600";
    json["rpc_token"] = "mcg_00ff";
    json["tls_ca"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const DeviceConfig config = parse_device_config(json.dump());
    EXPECT_EQ(config.rpc_token, "mcg_00ff");
    EXPECT_EQ(config.tls_ca.rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
    json["rpc_token"] = nullptr;
    EXPECT_EQ(parse_device_config(json.dump()).rpc_token, "");
}

TEST(DeviceConfig, HttpsNeedsAPinnedCa) {
    const auto error_of = [](const nlohmann::json& json) -> std::string {
        try {
            parse_device_config(json.dump());
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "";
    };
    auto json = valid();
    json["rpc_url"] = "https://192.168.1.10:8600";
    EXPECT_NE(error_of(json).find("\"tls_ca\" is required"), std::string::npos) << error_of(json);
    json["tls_ca"] = "not a certificate";
    EXPECT_NE(error_of(json).find("\"tls_ca\" must be a PEM"), std::string::npos) << error_of(json);
    json = valid();
    json["rpc_token"] = "a b";
    EXPECT_NE(error_of(json).find("rpc_token"), std::string::npos);
    json["rpc_token"] = 5;
    EXPECT_NE(error_of(json).find("rpc_token"), std::string::npos);
}

nlohmann::json private_config() {
    auto json = valid();
    json.erase("patient_salt");
    json["rpc_url"] = "https://127.0.0.1:8600";
    json["tls_ca"] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    json["patient_id"] = "0x" + std::string(64, 'a');
    json["store_url"] = "https://127.0.0.1:8600/store";
    return json;
}

std::string config_error(const nlohmann::json& json) {
    try {
        parse_device_config(json.dump());
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST(DeviceConfig, ClearConfigHasASaltAndNoStore) {
    const DeviceConfig config = parse_device_config(valid().dump());
    EXPECT_FALSE(config.is_private());
    EXPECT_EQ(config.store_url, "");
    EXPECT_EQ(config.patient_id, Bytes32{});
}

TEST(DeviceConfig, PrivateConfigHasThePatientIdAndTheStore) {
    const DeviceConfig config = parse_device_config(private_config().dump());
    EXPECT_TRUE(config.is_private());
    EXPECT_EQ(config.patient_id[0], 0xaa);
    EXPECT_EQ(config.patient_id[31], 0xaa);
    EXPECT_EQ(config.patient_salt, Bytes32{});
    EXPECT_EQ(config.store_url, "https://127.0.0.1:8600/store");
    auto json = private_config();
    json["store_url"] = "https://127.0.0.1:8600/store/";
    EXPECT_EQ(parse_device_config(json.dump()).store_url, "https://127.0.0.1:8600/store");
}

TEST(DeviceConfig, NeedsExactlyOneOfSaltOrPatientIdAndStore) {
    auto json = private_config();
    json["patient_salt"] = "0x" + std::string(64, '1');
    EXPECT_NE(config_error(json).find("\"patient_salt\" (a clear network) cannot come with"), std::string::npos)
        << config_error(json);
    json = private_config();
    json.erase("patient_id");
    json.erase("store_url");
    EXPECT_NE(config_error(json).find("\"patient_salt\" is missing (or \"patient_id\" and \"store_url\""),
              std::string::npos)
        << config_error(json);
    json = private_config();
    json.erase("store_url");
    EXPECT_NE(config_error(json).find("\"store_url\" is missing"), std::string::npos) << config_error(json);
    json = private_config();
    json.erase("patient_id");
    EXPECT_NE(config_error(json).find("\"patient_id\" is missing"), std::string::npos) << config_error(json);
    json = private_config();
    json["patient_id"] = "0x1234";
    EXPECT_NE(config_error(json).find("\"patient_id\""), std::string::npos) << config_error(json);
    json = private_config();
    json["store_url"] = "ftp://127.0.0.1/store";
    EXPECT_NE(config_error(json).find("\"store_url\""), std::string::npos) << config_error(json);
    json = private_config();
    json["rpc_url"] = "http://127.0.0.1:8545";
    json.erase("tls_ca");
    EXPECT_NE(config_error(json).find("https:// store_url"), std::string::npos) << config_error(json);
}

TEST(DeviceConfig, AcceptsAHexChainId) {
    auto json = valid();
    json["chain_id"] = "0x539";
    EXPECT_EQ(parse_device_config(json.dump()).chain_id, 1337u);
}

TEST(DeviceConfig, NamesTheBadField) {
    const auto expect_error = [](nlohmann::json json, const std::string& field) {
        try {
            parse_device_config(json.dump());
            FAIL() << "expected ConfigError for " << field;
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
        }
    };
    for (const char* field : {"rpc_url", "chain_id", "contract", "device_private_key", "patient_salt", "device_id"}) {
        auto json = valid();
        json.erase(field);
        expect_error(json, field);
    }
    auto json = valid();
    json["device_private_key"] = "0x1234";
    expect_error(json, "device_private_key");
    json = valid();
    json["contract"] = "0x5FbDB2315678afecb367f032d93F642f64180aA3";  // bad checksum
    expect_error(json, "contract");
    json = valid();
    json["chain_id"] = -1;
    expect_error(json, "chain_id");
    json = valid();
    json["chain_id"] = 0;
    expect_error(json, "chain_id");
    EXPECT_THROW(parse_device_config("not json"), ConfigError);
    EXPECT_THROW(parse_device_config("[]"), ConfigError);
}

}  // namespace
}  // namespace medchain
