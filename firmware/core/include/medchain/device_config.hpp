// The per-device configuration file written by `medchain device provision`
// and uploaded to the device's flash as /medchain.json:
//
//   {
//     "rpc_url": "http://127.0.0.1:8545",
//     "chain_id": 1337,
//     "contract": "0x...20 bytes",
//     "device_private_key": "0x...32 bytes",
//     "patient_salt": "0x...32 bytes",
//     "device_id": "hospital-1-device-1",
//     "rpc_token": "mcg_...",                 (optional)
//     "tls_ca": "-----BEGIN CERTIFICATE-----..." (optional)
//   }
//
// rpc_token is sent as "Authorization: Bearer <token>" to the hospital's
// `medchain gateway`; tls_ca is the CA certificate (PEM) the device pins
// for an https:// rpc_url, and is required with one.
//
// It holds a private key and a token: never commit it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "medchain/bytes.hpp"

namespace medchain {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DeviceConfig {
    std::string rpc_url;
    std::uint64_t chain_id = 0;
    Address contract{};
    Bytes32 device_private_key{};
    Bytes32 patient_salt{};
    std::string device_id;
    std::string rpc_token;  // empty: no Authorization header
    std::string tls_ca;     // PEM; set whenever rpc_url is https://
};

// Throws ConfigError naming the offending field.
DeviceConfig parse_device_config(const std::string& json_text);

}  // namespace medchain
