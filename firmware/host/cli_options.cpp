#include "cli_options.hpp"

#include <cstdlib>

namespace medchain::host {
namespace {

std::uint64_t parse_count(const std::string& flag, const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19) {
        throw UsageError(flag + " needs a non-negative integer, got \"" + text + "\"");
    }
    return std::strtoull(text.c_str(), nullptr, 10);
}

}  // namespace

const char* usage_text() {
    return "usage: esp32-host --config device.json --outbox DIR [--readings N] [--interval-ms M]\n"
           "                  [--ssn SSN] [--timeout-ms T] [--seed S] [--history K] [--allow-remote]\n"
           "                  [--transport http|mqtt] [--mqtt-credentials FILE] [--mqtt-url mqtts://HOST:PORT]\n"
           "                  [--mqtt-username U] [--mqtt-password-file FILE] [--mqtt-topic TOPIC]\n"
           "                  [--mqtt-ca FILE] [--alarm-flag FILE] [--abnormal-every N]\n"
           "\n"
           "Runs the medchain ESP32 firmware core on this machine: a SIMULATED MAX30102\n"
           "produces N readings M ms apart for the patient whose SSN is given with --ssn\n"
           "or read as one line from stdin (the keypad). Each reading is queued in the\n"
           "outbox directory (the device's flash) and sent to the configured RPC URL as a\n"
           "signed addMedicalRecord transaction; one JSON line is printed per confirmed\n"
           "reading: {\"seq\",\"tx\",\"record_id\",\"block\"}. Exits 0 once the outbox is empty,\n"
           "1 if it is not empty after the timeout, 2 on bad usage or configuration.\n"
           "--history K then shows the patient's last K records on stderr (the device must\n"
           "be allowed to read them: MedicalRecords.canRead).\n"
           "Only loopback RPC hosts are contacted unless --allow-remote is given.\n"
           "An https:// rpc_url (a medchain gateway) is verified against the CA in the\n"
           "config's tls_ca only; the config's rpc_token is sent as a Bearer token.\n"
           "--transport mqtt sends every JSON-RPC request to the hospital's `medchain gateway\n"
           "--mqtt` through the network's broker (TLS, pinned CA) instead: account, topic and\n"
           "CA from the config's mqtt_* fields, a broker credentials file, or the flags.\n"
           "A reading that crosses the config's alarm thresholds prints\n"
           "{\"event\":\"alarm\",...} at once, network or not; --alarm-flag FILE exists while\n"
           "the last reading was abnormal. --abnormal-every N makes every Nth simulated\n"
           "reading abnormal (heart rate 150, SpO2 85).\n"
           "A private network's config (patient_id and store_url instead of patient_salt)\n"
           "takes no SSN: each reading is sealed to the patient's data key, PUT to the\n"
           "gateway's store under its CID and sent as PrivateRecords.addRecord with only\n"
           "the CID digest; the same confirmation lines are printed.\n";
}

CliOptions parse_cli(const std::vector<std::string>& args) {
    CliOptions options;
    bool have_config = false;
    bool have_outbox = false;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& flag = args[i];
        const auto value = [&]() -> const std::string& {
            if (i + 1 >= args.size()) throw UsageError(flag + " needs a value");
            return args[++i];
        };
        if (flag == "--help" || flag == "-h") {
            options.help = true;
        } else if (flag == "--config") {
            options.config_path = value();
            have_config = true;
        } else if (flag == "--outbox") {
            options.outbox_dir = value();
            have_outbox = true;
        } else if (flag == "--readings") {
            options.readings = parse_count(flag, value());
        } else if (flag == "--interval-ms") {
            options.interval_ms = parse_count(flag, value());
        } else if (flag == "--ssn") {
            options.ssn = value();
        } else if (flag == "--timeout-ms") {
            options.timeout_ms = parse_count(flag, value());
        } else if (flag == "--seed") {
            options.seed = parse_count(flag, value());
        } else if (flag == "--history") {
            options.history = parse_count(flag, value());
        } else if (flag == "--allow-remote") {
            options.allow_remote = true;
        } else if (flag == "--transport") {
            const std::string& name = value();
            if (name != "http" && name != "mqtt")
                throw UsageError("--transport needs http or mqtt, got \"" + name + "\"");
            options.mqtt = name == "mqtt";
        } else if (flag == "--mqtt-credentials") {
            options.mqtt_credentials = value();
        } else if (flag == "--mqtt-url") {
            options.mqtt_url = value();
        } else if (flag == "--mqtt-username") {
            options.mqtt_username = value();
        } else if (flag == "--mqtt-password-file") {
            options.mqtt_password_file = value();
        } else if (flag == "--mqtt-topic") {
            options.mqtt_topic = value();
        } else if (flag == "--mqtt-ca") {
            options.mqtt_ca = value();
        } else if (flag == "--alarm-flag") {
            options.alarm_flag = value();
        } else if (flag == "--abnormal-every") {
            options.abnormal_every = parse_count(flag, value());
        } else {
            throw UsageError("unknown argument \"" + flag + "\"");
        }
    }
    if (options.help) return options;
    if (!have_config) throw UsageError("--config is required");
    if (!have_outbox) throw UsageError("--outbox is required");
    if (options.ssn && options.ssn->empty()) throw UsageError("--ssn must not be empty");
    const bool mqtt_flags = options.mqtt_credentials || options.mqtt_url || options.mqtt_username ||
                            options.mqtt_password_file || options.mqtt_topic || options.mqtt_ca;
    if (mqtt_flags && !options.mqtt) throw UsageError("--mqtt-* flags need --transport mqtt");
    return options;
}

}  // namespace medchain::host
