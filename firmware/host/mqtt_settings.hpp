// Where esp32-host's MQTT transport connects and as whom: the device
// config's mqtt_* fields, then a broker credentials file
// (`<network dir>/broker/credentials/<device>.json`, --mqtt-credentials),
// then single flags, each overriding the one before.
#pragma once

#include <string>

#include "cli_options.hpp"
#include "medchain/device_config.hpp"
#include "mosquitto_link.hpp"

namespace medchain::host {

// Throws ConfigError naming the field or flag that is missing or wrong.
// The config's mqtt_ca PEM, when it is the only CA given, is written to
// `scratch_dir`/mqtt-ca.pem (libmosquitto reads a file).
MqttSettings resolve_mqtt_settings(const DeviceConfig& config, const CliOptions& options,
                                   const std::string& scratch_dir);

}  // namespace medchain::host
