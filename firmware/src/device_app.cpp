#include "device_app.hpp"

#include <LittleFS.h>
#include <WiFi.h>
#include <Wire.h>
#include <esp_system.h>
#include <sys/time.h>

#include <cstdio>

#include "hal/littlefs_storage.hpp"
#include "medchain/device_binding.hpp"
#include "medchain/hex.hpp"
#include "medchain/memory_storage.hpp"
#include "medchain/mqtt_transport.hpp"
#include "medchain/patient_id.hpp"
#include "medchain/record_history.hpp"
#include "medchain/rpc_errors.hpp"
#include "medchain/ssn.hpp"
#include "pins.hpp"

namespace {

constexpr const char* kConfigPath = "/medchain.json";
constexpr const char* kWifiPath = "/wifi.json";
constexpr const char* kOutboxDir = "/outbox";
constexpr std::uint64_t kHistoryRecords = 3;

std::string short_hex(const medchain::Bytes32& bytes) {
    const std::string hex = medchain::to_hex(bytes);
    return hex.substr(0, 8) + ".." + hex.substr(hex.size() - 4);
}

std::string celsius(std::int16_t centi_c) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2fC", centi_c / 100.0);
    return text;
}

std::string describe(const std::exception& e) {
    if (const auto* rpc = dynamic_cast<const medchain::RpcError*>(&e)) {
        if (auto reason = medchain::revert_reason(*rpc)) return *reason;
    }
    return e.what();
}

}  // namespace

void DeviceApp::setup() {
    Serial.begin(115200);
    pinMode(pins::kAlarmPin, OUTPUT);
    digitalWrite(pins::kAlarmPin, LOW);
    Wire.begin(pins::kI2cSda, pins::kI2cScl);
    display_.begin(pins::kOledAddress);
    sensor_ok_ = sensor_.begin(Wire);

    if (!LittleFS.begin(/*formatOnFail=*/false)) {
        halt("LittleFS not mounted. Run: pio run -t uploadfs");
        return;
    }
    const std::optional<std::string> config_text = read_flash_file(kConfigPath);
    if (!config_text) {
        halt("No /medchain.json. Provision, then uploadfs");
        return;
    }
    try {
        start_core(medchain::parse_device_config(*config_text));
        if (const std::optional<std::string> wifi_text = read_flash_file(kWifiPath)) {
            start_wifi(parse_wifi_settings(*wifi_text));
        } else {
            status_ = "No /wifi.json: offline";
        }
    } catch (const std::exception& e) {
        halt(e.what());
        return;
    }
    if (!sensor_ok_) status_ = "MAX30102 not found";
    screen_ = Screen::EnterSsn;
    render();
}

void DeviceApp::start_core(const medchain::DeviceConfig& config) {
    config_ = config;
    if (!config.mqtt_url.empty()) {
        // MQTT through the network's broker to the hospital's gateway.
        if (config.mqtt_ca.empty()) throw medchain::ConfigError("config: \"mqtt_ca\" is required with mqtt_url");
        char suffix[10];
        std::snprintf(suffix, sizeof suffix, "-%08x", static_cast<unsigned>(esp_random()));
        mqtt_ = std::make_unique<ArduinoMqttLink>(config.mqtt_url, config.mqtt_username + suffix, config.mqtt_username,
                                                  config.mqtt_password, config.mqtt_ca);
        transport_ = std::make_unique<medchain::MqttTransport>(
            *mqtt_, clock_, medchain::MqttTopics{config.mqtt_tx_topic, medchain::ack_topic_of(config.mqtt_tx_topic)},
            esp_random());
    } else {
        transport_ = std::make_unique<WifiTransport>(config.rpc_url, config.rpc_token, config.tls_ca);
    }
    rpc_ = std::make_unique<medchain::JsonRpcClient>(*transport_);
    eth_ = std::make_unique<medchain::EthClient>(*rpc_);
    signer_ = std::make_unique<medchain::Signer>(config.device_private_key);
    medchain::Bytes32 seed{};
    for (std::size_t i = 0; i < seed.size(); i += 4) {
        const std::uint32_t r = esp_random();  // hardware RNG (true random with the radio on)
        for (std::size_t b = 0; b < 4; ++b) seed[i + b] = static_cast<std::uint8_t>(r >> (8 * b));
    }
    signer_->randomize(seed);
    try {
        storage_ = std::make_unique<LittleFsStorage>(kOutboxDir);
    } catch (const medchain::StorageError&) {
        // Still usable, but readings would not survive a reboot: say so.
        storage_ = std::make_unique<medchain::MemoryStorage>();
        status_ = "Outbox in RAM only!";
    }
    outbox_ = std::make_unique<medchain::Outbox>(*storage_);
    uploader_ =
        std::make_unique<medchain::RecordUploader>(*eth_, *signer_, *outbox_, clock_, config.contract, config.chain_id);
}

void DeviceApp::start_wifi(const WifiSettings& settings) {
    WiFi.mode(WIFI_STA);
    WiFi.setAutoReconnect(true);
    WiFi.begin(settings.ssid.c_str(), settings.password.c_str());
    if (!settings.ntp_server.empty()) {
        configTime(0, 0, settings.ntp_server.c_str());
        clock_synced_ = true;  // once SNTP answers; device_timestamp_ms() checks the year
    }
}

void DeviceApp::halt(const std::string& why) {
    screen_ = Screen::Halted;
    halt_reason_ = why;
    render();
}

void DeviceApp::loop() {
    if (screen_ == Screen::Halted) {
        delay(1'000);
        return;
    }
    if (const char key = keypad_.poll()) handle_key(key);
    pump_uploader();
    delay(10);
}

void DeviceApp::pump_uploader() {
    if (!uploader_) return;
    const std::size_t rejected_before = uploader_->rejected();
    if (const std::optional<medchain::Confirmation> c = uploader_->poll()) {
        status_ = "#" + std::to_string(c->sequence) + " saved";
        if (c->record_id) status_ += " rec " + c->record_id->to_decimal();
        if (c->tx_hash) status_ += " tx " + short_hex(*c->tx_hash);
        render();
    } else if (uploader_->rejected() != rejected_before) {
        status_ = "Reading refused: set aside";
        render();
    } else if (uploader_->last_error() != last_error_shown_) {
        last_error_shown_ = uploader_->last_error();
        if (!last_error_shown_.empty()) Serial.printf("uploader: will retry: %s\n", last_error_shown_.c_str());
        render();
    }
}

void DeviceApp::handle_key(char key) {
    switch (screen_) {
        case Screen::EnterSsn:
            on_ssn_key(key);
            break;
        case Screen::Ready:
            on_ready_key(key);
            break;
        case Screen::EnterSystolic:
        case Screen::EnterDiastolic:
            on_blood_pressure_key(key);
            break;
        case Screen::Review:
            on_review_key(key);
            break;
        case Screen::History:
            screen_ = Screen::Ready;
            break;
        case Screen::Halted:
            break;
    }
    render();
}

bool DeviceApp::edit_input(char key, std::size_t max_digits) {
    if (key >= '0' && key <= '9' && input_.size() < max_digits) input_ += key;
    if (key == '*' && !input_.empty()) input_.pop_back();
    return key == '#';
}

void DeviceApp::on_ssn_key(char key) {
    if (!edit_input(key, 9)) return;
    const std::optional<std::string> ssn = medchain::canonical_ssn(input_);
    if (!ssn) {
        status_ = "SSN needs 9 digits";
        return;
    }
    const medchain::Bytes32 patient = medchain::patient_id(config_->patient_salt, *ssn);
    input_.clear();
    status_.clear();
    try {
        switch (medchain::check_binding(*eth_, config_->contract, signer_->address(), patient)) {
            case medchain::Binding::Bound:
                break;
            case medchain::Binding::OtherPatient:
                status_ = "Not this device's pt.";  // the contract would refuse every reading
                return;
            case medchain::Binding::NotRegistered:
                status_ = "Device not registered";
                break;
        }
    } catch (const std::exception&) {
        status_ = "Offline: SSN unchecked";  // readings queue; a wrong SSN is set aside later
    }
    patient_ = patient;
    patient_label_ = "***-**-" + ssn->substr(7);
    screen_ = Screen::Ready;
}

void DeviceApp::on_ready_key(char key) {
    switch (key) {
        case '*':
            silence_alarm();
            break;
        case 'A':
            measure();
            break;
        case 'B':
            load_history();
            break;
        case 'C':
            patient_.reset();
            patient_label_.clear();
            screen_ = Screen::EnterSsn;
            break;
        default:
            break;
    }
}

void DeviceApp::measure() {
    if (!sensor_ok_) {
        status_ = "MAX30102 not found";
        return;
    }
    display_.show({"Measuring...", "", "Keep your finger", "still on the sensor", "(about 4 s)"});
    const std::optional<PulseOximetry> reading = sensor_.measure();
    if (!reading) {
        status_ = "No finger/bad signal";
        return;
    }
    pending_ = medchain::VitalSigns{reading->heart_rate, reading->spo2, 0, 0, reading->temperature_centi_c};
    input_.clear();
    screen_ = Screen::EnterSystolic;
}

void DeviceApp::on_blood_pressure_key(char key) {
    if (key == 'D') {  // not measured
        pending_.systolic = 0;
        pending_.diastolic = 0;
        input_.clear();
        screen_ = Screen::Review;
        check_alarm();
        return;
    }
    if (!edit_input(key, 3)) return;
    const std::uint16_t value = input_.empty() ? 0 : static_cast<std::uint16_t>(std::stoul(input_));
    input_.clear();
    if (screen_ == Screen::EnterSystolic) {
        pending_.systolic = value;
        screen_ = Screen::EnterDiastolic;
    } else {
        pending_.diastolic = value;
        screen_ = Screen::Review;
        check_alarm();
    }
}

void DeviceApp::check_alarm() {
    const std::vector<medchain::AlarmRule> rules = medchain::evaluate_alarms(pending_, config_->alarms);
    if (rules.empty()) return;
    alarm_lines_ = medchain::alarm_lines(pending_, config_->alarms, rules);
    digitalWrite(pins::kAlarmPin, HIGH);
    for (const std::string& line : alarm_lines_) Serial.printf("ALARM: %s\n", line.c_str());
}

void DeviceApp::silence_alarm() {
    alarm_lines_.clear();
    digitalWrite(pins::kAlarmPin, LOW);
}

void DeviceApp::on_review_key(char key) {
    if (key == '*') silence_alarm();
    if (key == 'A') queue_reading();
    if (key == 'A' || key == 'D') screen_ = Screen::Ready;
}

void DeviceApp::queue_reading() {
    try {
        const medchain::OutboxEntry& entry = uploader_->record(*patient_, pending_, device_timestamp_ms());
        status_ = "#" + std::to_string(entry.sequence) + " queued";
    } catch (const std::exception& e) {
        status_ = std::string("NOT queued: ") + e.what();
    }
}

void DeviceApp::load_history() {
    display_.show({"Fetching records..."});
    history_lines_.clear();
    try {
        medchain::RecordHistory history(*eth_, config_->contract, signer_->address());
        for (const auto& r : history.latest(*patient_, kHistoryRecords)) {
            history_lines_.push_back("#" + std::to_string(r.sequence) + " HR" + std::to_string(r.vitals.heart_rate) +
                                     " O2 " + std::to_string(r.vitals.spo2) + "%");
            history_lines_.push_back(" BP" + std::to_string(r.vitals.systolic) + "/" +
                                     std::to_string(r.vitals.diastolic) + " " + celsius(r.vitals.temperature_centi_c));
        }
        if (history_lines_.empty()) history_lines_.push_back("No records yet");
    } catch (const std::exception& e) {
        history_lines_.push_back("Cannot read records:");
        history_lines_.push_back(describe(e));
    }
    screen_ = Screen::History;
}

std::uint64_t DeviceApp::device_timestamp_ms() {
    timeval now{};
    gettimeofday(&now, nullptr);
    if (clock_synced_ && now.tv_sec > 1'600'000'000) {
        return static_cast<std::uint64_t>(now.tv_sec) * 1000 + static_cast<std::uint64_t>(now.tv_usec / 1000);
    }
    return clock_.now_ms();  // not synced: milliseconds since boot
}

void DeviceApp::render() {
    std::vector<std::string> lines;
    const std::string queue = "Q:" + std::to_string(uploader_ ? uploader_->pending() : 0) +
                              (WiFi.status() == WL_CONNECTED ? " WiFi" : " offline");
    switch (screen_) {
        case Screen::Halted:
            lines = {"medchain: stopped", halt_reason_.substr(0, 21),
                     halt_reason_.size() > 21 ? halt_reason_.substr(21, 21) : ""};
            break;
        case Screen::EnterSsn:
            lines = {"Patient SSN (9 dig.)", "> " + input_, "", "# enter  * delete"};
            break;
        case Screen::Ready:
            lines = {"Patient " + patient_label_, "A measure", "B history", "C change patient"};
            break;
        case Screen::EnterSystolic:
        case Screen::EnterDiastolic:
            lines = {"HR " + std::to_string(pending_.heart_rate) + "  SpO2 " + std::to_string(pending_.spo2) + "%",
                     screen_ == Screen::EnterSystolic ? "BP systolic (mmHg)" : "BP diastolic (mmHg)", "> " + input_,
                     "# enter  D skip BP"};
            break;
        case Screen::Review:
            lines = {"HR   " + std::to_string(pending_.heart_rate) + " bpm",
                     "SpO2 " + std::to_string(pending_.spo2) + " %",
                     "BP   " + std::to_string(pending_.systolic) + "/" + std::to_string(pending_.diastolic),
                     "T    " + celsius(pending_.temperature_centi_c) + " (sensor)", "A send  D discard"};
            break;
        case Screen::History:
            lines = history_lines_;
            lines.push_back("any key: back");
            break;
    }
    if (!alarm_lines_.empty() && (screen_ == Screen::Ready || screen_ == Screen::Review)) {
        // The alarm takes the top of the screen until '*' silences it.
        std::vector<std::string> top = {"!! ALARM !!  * off"};
        top.insert(top.end(), alarm_lines_.begin(), alarm_lines_.end());
        top.insert(top.end(), lines.begin(), lines.end());
        top.resize(6);
        lines = top;
    }
    while (lines.size() < 6) lines.emplace_back();
    lines.push_back(status_.substr(0, 21));
    lines.push_back(last_error_shown_.empty() ? queue : queue + " retrying");
    display_.show(lines);
}
