// esp32-host: the ESP32 firmware core behind a POSIX hardware layer.
// Sockets stand in for Wi-Fi, a directory for flash, stdin for the keypad
// and a seeded simulation for the MAX30102. See firmware/README.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alarm_report.hpp"
#include "cli_options.hpp"
#include "file_storage.hpp"
#include "medchain/address.hpp"
#include "medchain/device_binding.hpp"
#include "medchain/device_config.hpp"
#include "medchain/eth_client.hpp"
#include "medchain/hex.hpp"
#include "medchain/json_rpc.hpp"
#include "medchain/mqtt_transport.hpp"
#include "medchain/outbox.hpp"
#include "medchain/patient_id.hpp"
#include "medchain/private_writer.hpp"
#include "medchain/random_source.hpp"
#include "medchain/record_history.hpp"
#include "medchain/record_uploader.hpp"
#include "medchain/signer.hpp"
#include "mosquitto_link.hpp"
#include "mqtt_settings.hpp"
#include "posix_http_transport.hpp"
#include "simulated_max30102.hpp"
#include "steady_clock.hpp"

namespace {

using namespace medchain;

constexpr int kExitPending = 1;
constexpr int kExitUsage = 2;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError("cannot read config file " + path);
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

// The keypad: one line from stdin.
std::string read_ssn_from_stdin() {
    if (::isatty(STDIN_FILENO) != 0) std::cerr << "Enter patient SSN: " << std::flush;
    std::string line;
    std::getline(std::cin, line);
    return line;
}

// As `medchain records add --ssn` does: the SSN as written, trimmed.
std::string trimmed(const std::string& text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

void print_confirmation(const Confirmation& c) {
    nlohmann::ordered_json line{{"seq", c.sequence}, {"tx", nullptr}, {"record_id", nullptr}, {"block", nullptr}};
    if (c.tx_hash) line["tx"] = to_hex(*c.tx_hash);
    if (c.record_id) {
        line["record_id"] = c.record_id->fits_u64() ? nlohmann::ordered_json(c.record_id->low_u64())
                                                    : nlohmann::ordered_json(c.record_id->to_decimal());
    }
    if (c.block_number != 0) line["block"] = c.block_number;
    std::cout << line.dump() << std::endl;
}

std::string celsius(std::int16_t centi_c) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", centi_c / 100.0);
    return text;
}

// Lets the uploader work until `until_ms` on `clock` (or until the outbox is
// empty, if `stop_when_empty`), reporting each new error once.
void pump(RecordUploader& uploader, Clock& clock, std::uint64_t until_ms, bool stop_when_empty,
          std::string& reported_error) {
    for (;;) {
        if (const std::optional<Confirmation> c = uploader.poll()) print_confirmation(*c);
        if (!uploader.last_error().empty() && uploader.last_error() != reported_error) {
            reported_error = uploader.last_error();
            std::cerr << "esp32-host: will retry: " << reported_error << std::endl;
        }
        const std::uint64_t now = clock.now_ms();
        if (now >= until_ms || (stop_when_empty && uploader.pending() == 0)) return;
        const std::uint64_t wake = uploader.pending() == 0 ? until_ms : std::min(until_ms, uploader.next_poll_at_ms());
        clock.sleep_ms(wake > now ? wake - now : 1);
    }
}

// Catches a mistyped SSN up front, as the device does after keypad entry.
// Best effort: with the node unreachable the readings simply queue.
void warn_about_binding(EthClient& eth, const DeviceConfig& config, const Address& device, const Bytes32& patient) {
    try {
        switch (check_binding(eth, config.contract, device, patient, config.is_private())) {
            case Binding::Bound:
                break;
            case Binding::OtherPatient:
                std::cerr << "esp32-host: warning: this device is bound to another patient; the contract will "
                             "refuse these readings ("
                          << (config.is_private() ? "check the config's patient_id" : "check the SSN") << ")"
                          << std::endl;
                break;
            case Binding::NotRegistered:
                std::cerr << "esp32-host: warning: this device is not registered on the contract; readings stay "
                             "queued until it is"
                          << std::endl;
                break;
        }
    } catch (const std::exception& e) {
        std::cerr << "esp32-host: node not reachable yet (" << e.what() << "); readings will queue" << std::endl;
    }
}

// What the device's "history" key shows on its OLED.
void show_history(EthClient& eth, const Address& contract, const Address& reader, const Bytes32& patient,
                  std::uint64_t limit) {
    try {
        RecordHistory history(eth, contract, reader);
        const auto records = history.latest(patient, limit);
        std::cerr << "esp32-host: last " << records.size() << " record(s) of patient " << to_hex(patient) << ":"
                  << std::endl;
        for (const medical_records::Record& r : records) {
            std::cerr << "  seq " << r.sequence << ": HR " << r.vitals.heart_rate << " SpO2 " << r.vitals.spo2 << " BP "
                      << r.vitals.systolic << "/" << r.vitals.diastolic << " T "
                      << celsius(r.vitals.temperature_centi_c) << " by " << to_checksum_address(r.device)
                      << " at block time " << r.block_timestamp << std::endl;
        }
    } catch (const std::exception& e) {
        std::cerr << "esp32-host: cannot read earlier records: " << e.what() << std::endl;
    }
}

// The device's link to the chain: HTTP(S) to rpc_url, or MQTT through the
// network's broker to the hospital's gateway.
// A private network's store is PUT to over HTTP(S) even when JSON-RPC
// goes over MQTT (`store` is then a transport of its own to store_url).
struct Link {
    std::unique_ptr<host::MosquittoLink> mqtt;
    std::unique_ptr<Transport> transport;
    std::unique_ptr<Transport> store_transport;
    Transport& store() const { return store_transport ? *store_transport : *transport; }
};

std::unique_ptr<Transport> http_transport(const std::string& url, const DeviceConfig& config,
                                          const host::CliOptions& options) {
    host::HttpOptions http;
    http.allow_remote = options.allow_remote;
    http.bearer_token = config.rpc_token;
    http.ca_pem = config.tls_ca;
    return std::make_unique<host::PosixHttpTransport>(url, http);
}

Link open_link(const DeviceConfig& config, const host::CliOptions& options, Clock& clock, std::uint32_t session) {
    Link link;
    if (!options.mqtt) {
        link.transport = http_transport(config.rpc_url, config, options);
        return link;
    }
    if (config.is_private()) link.store_transport = http_transport(config.store_url, config, options);
    host::MqttSettings settings = host::resolve_mqtt_settings(config, options, options.outbox_dir);
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%08x", static_cast<unsigned>(session));
    settings.client_id += suffix;
    MqttTopics topics{settings.tx_topic, ack_topic_of(settings.tx_topic)};
    std::cerr << "esp32-host: MQTT transport: " << settings.username << " on mqtts://" << settings.host << ":"
              << settings.port << ", topic " << topics.tx << std::endl;
    link.mqtt = std::make_unique<host::MosquittoLink>(settings);
    link.transport = std::make_unique<MqttTransport>(*link.mqtt, clock, topics, session);
    return link;
}

// The patient: a private network's config names it; on a clear network
// it is keccak256(salt ‖ SSN) of the SSN given or typed in.
Bytes32 patient_of(const DeviceConfig& config, const host::CliOptions& options) {
    if (config.is_private()) {
        if (options.ssn) {
            throw ConfigError(
                "--ssn is for a clear network's device: this config is for a private network and "
                "names its patient (patient_id)");
        }
        return config.patient_id;
    }
    const std::string ssn = trimmed(options.ssn ? *options.ssn : read_ssn_from_stdin());
    if (ssn.empty()) throw ConfigError("no SSN entered");
    return patient_id(config.patient_salt, ssn);
}

int run(const host::CliOptions& options) {
    const DeviceConfig config = parse_device_config(read_file(options.config_path));
    const Bytes32 patient = patient_of(config, options);

    std::random_device entropy;
    host::FileStorage storage(options.outbox_dir);
    Outbox outbox(storage);
    host::SteadyClock clock;
    const Link link = open_link(config, options, clock, static_cast<std::uint32_t>(entropy()));
    JsonRpcClient rpc(*link.transport);
    EthClient eth(rpc);

    Signer signer(config.device_private_key);
    Bytes32 seed{};
    for (auto& byte : seed) byte = static_cast<std::uint8_t>(entropy());
    signer.randomize(seed);

    // A private network's readings are sealed with the system's randomness
    // and stored at the gateway before addRecord names them.
    std::unique_ptr<SodiumRandom> random;
    std::unique_ptr<PrivateWriter> writer;
    if (config.is_private()) {
        random = std::make_unique<SodiumRandom>();
        writer = std::make_unique<PrivateWriter>(eth, link.store(), *random, config.contract, signer.address(),
                                                 config.store_url);
    }
    RecordUploader uploader(eth, signer, outbox, clock, config.contract, config.chain_id, UploaderOptions{},
                            writer.get());

    std::cerr << "esp32-host: device " << config.device_id << " (" << to_checksum_address(signer.address())
              << "), patient " << to_hex(patient) << (config.is_private() ? " (private network)" : "") << ", "
              << outbox.size() << " reading(s) queued from before" << std::endl;

    warn_about_binding(eth, config, signer.address(), patient);

    host::SimulatedMax30102 sensor(options.seed);
    host::AlarmReport alarms(config.alarms, options.alarm_flag);
    std::string reported_error;
    for (std::uint64_t i = 0; i < options.readings; ++i) {
        const bool abnormal = options.abnormal_every != 0 && (i + 1) % options.abnormal_every == 0;
        const VitalSigns vitals = abnormal ? sensor.read_abnormal() : sensor.read();
        const OutboxEntry& entry = uploader.record(patient, vitals, host::unix_time_ms());
        alarms.reading(entry.sequence, vitals);
        std::cerr << "esp32-host: queued seq " << entry.sequence << ": HR " << vitals.heart_rate << " SpO2 "
                  << vitals.spo2 << " BP " << vitals.systolic << "/" << vitals.diastolic << " T "
                  << celsius(vitals.temperature_centi_c) << std::endl;
        if (i + 1 < options.readings) {
            pump(uploader, clock, clock.now_ms() + options.interval_ms, /*stop_when_empty=*/false, reported_error);
        }
    }

    pump(uploader, clock, clock.now_ms() + options.timeout_ms, /*stop_when_empty=*/true, reported_error);
    if (uploader.pending() != 0) {
        std::cerr << "esp32-host: " << uploader.pending() << " reading(s) still queued after " << options.timeout_ms
                  << " ms (kept in " << options.outbox_dir << "): " << uploader.last_error() << std::endl;
        return kExitPending;
    }
    if (uploader.rejected() != 0) {
        std::cerr << "esp32-host: " << uploader.rejected() << " reading(s) refused by the contract (device bound to "
                  << "another patient?) and set aside in " << options.outbox_dir << " (x* files)" << std::endl;
        return kExitPending;
    }
    if (options.history > 0 && config.is_private()) {
        std::cerr << "esp32-host: no history on a private network: the device cannot open what it wrote" << std::endl;
    } else if (options.history > 0) {
        show_history(eth, config.contract, signer.address(), patient, options.history);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    host::CliOptions options;
    try {
        options = host::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const host::UsageError& e) {
        std::cerr << "esp32-host: " << e.what() << "\n\n" << host::usage_text();
        return kExitUsage;
    }
    if (options.help) {
        std::cout << host::usage_text();
        return 0;
    }
    try {
        return run(options);
    } catch (const ConfigError& e) {
        std::cerr << "esp32-host: " << e.what() << std::endl;
        return kExitUsage;
    } catch (const std::invalid_argument& e) {
        std::cerr << "esp32-host: " << e.what() << std::endl;
        return kExitUsage;
    } catch (const std::exception& e) {
        std::cerr << "esp32-host: " << e.what() << std::endl;
        return kExitPending;
    }
}
