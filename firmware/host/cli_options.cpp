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
           "config's tls_ca only; the config's rpc_token is sent as a Bearer token.\n";
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
        } else {
            throw UsageError("unknown argument \"" + flag + "\"");
        }
    }
    if (options.help) return options;
    if (!have_config) throw UsageError("--config is required");
    if (!have_outbox) throw UsageError("--outbox is required");
    if (options.ssn && options.ssn->empty()) throw UsageError("--ssn must not be empty");
    return options;
}

}  // namespace medchain::host
