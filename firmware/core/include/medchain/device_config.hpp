// The per-device configuration file written by `medchain device provision`
// and uploaded to the device's flash as /medchain.json:
//
//   {
//     "rpc_url": "http://127.0.0.1:8545",
//     "chain_id": 1337,
//     "contract": "0x...20 bytes",
//     "device_private_key": "0x...32 bytes",
//     "patient_salt": "0x...32 bytes",        (a clear network; or the next two)
//     "patient_id": "0x...32 bytes",          (a private network, with store_url)
//     "store_url": "https://.../store",
//     "device_id": "hospital-1-device-1",
//     "rpc_token": "mcg_...",                 (optional)
//     "tls_ca": "-----BEGIN CERTIFICATE-----...", (optional)
//     "mqtt_url": "mqtts://127.0.0.1:8883",   (optional, with the next three)
//     "mqtt_username": "ward-device-1",
//     "mqtt_password": "…",
//     "mqtt_tx_topic": "medchain/<network>/<hospital>/devices/<address>/tx",
//     "mqtt_ca": "-----BEGIN CERTIFICATE-----...", (optional)
//     "alarms": {"heart_rate_low": 40, "heart_rate_high": 130, "spo2_low": 90,
//                "systolic_high": 180, "temperature_high_c": 39.0} (optional, each field too)
//   }
//
// rpc_token is sent as "Authorization: Bearer <token>" to the hospital's
// `medchain gateway`; tls_ca is the CA certificate (PEM) the device pins
// for an https:// rpc_url, and is required with one. The mqtt_* fields are
// the device's account on the network's broker (`medchain broker`) and its
// topic, for the MQTT transport; mqtt_ca is the broker's CA (PEM). alarms
// holds the local alarm thresholds (medchain/alarm.hpp), defaults for what
// is absent.
//
// A clear network's device (MedicalRecords) holds the network's
// patient_salt and derives the patient id from the SSN typed in; a private
// network's device (PrivateRecords) holds its patient's id and the
// gateway's store_url instead, and never sees an SSN or a salt. A config
// has exactly one of the two.
//
// It holds a private key and a token: never commit it.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "medchain/alarm.hpp"
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
    // Exactly one of the two paths: a clear network's salt, or a private
    // network's patient id and store (see is_private()).
    Bytes32 patient_salt{};
    Bytes32 patient_id{};
    std::string store_url;  // private: PUT <store_url>/<cid>
    std::string device_id;
    std::string rpc_token;  // empty: no Authorization header
    std::string tls_ca;     // PEM; set whenever rpc_url is https://
    // MQTT: all empty, or url, username, password and tx topic set.
    std::string mqtt_url;  // mqtts://host:port
    std::string mqtt_username;
    std::string mqtt_password;
    std::string mqtt_tx_topic;
    std::string mqtt_ca;  // PEM of the broker's CA; may come from elsewhere on the host
    AlarmThresholds alarms;

    // A private network's device: readings are sealed and stored, only
    // their digest goes on chain.
    bool is_private() const { return !store_url.empty(); }
};

// The "alarms" object of a config (each field optional, defaults for the
// rest); throws ConfigError naming the field.
AlarmThresholds parse_alarm_thresholds(const std::string& json_object_text);

// Throws ConfigError naming the offending field.
DeviceConfig parse_device_config(const std::string& json_text);

}  // namespace medchain
