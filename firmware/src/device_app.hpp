// The device's user interface and main loop: keypad SSN entry, a MAX30102
// measurement plus keyed-in blood pressure, review on the OLED, then the
// reading goes to the persistent outbox and the uploader sends it in the
// background, showing the transaction hash and record id when it lands.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hal/arduino_clock.hpp"
#include "hal/arduino_mqtt_link.hpp"
#include "hal/keypad_input.hpp"
#include "hal/max30102_sensor.hpp"
#include "hal/oled_display.hpp"
#include "hal/wifi_settings.hpp"
#include "hal/wifi_transport.hpp"
#include "medchain/device_config.hpp"
#include "medchain/eth_client.hpp"
#include "medchain/json_rpc.hpp"
#include "medchain/outbox.hpp"
#include "medchain/record_uploader.hpp"
#include "medchain/signer.hpp"
#include "medchain/storage.hpp"

class DeviceApp {
public:
    void setup();
    void loop();

private:
    enum class Screen { Halted, EnterSsn, Ready, EnterSystolic, EnterDiastolic, Review, History };

    void start_core(const medchain::DeviceConfig& config);
    void start_wifi(const WifiSettings& settings);
    void halt(const std::string& why);

    void handle_key(char key);
    void on_ssn_key(char key);
    void on_ready_key(char key);
    void on_blood_pressure_key(char key);
    void on_review_key(char key);
    // Digits into input_; returns true on '#'.
    bool edit_input(char key, std::size_t max_digits);

    void measure();
    // Raises the local alarm when pending_ crosses the thresholds.
    void check_alarm();
    void silence_alarm();
    void queue_reading();
    void load_history();
    void pump_uploader();
    std::uint64_t device_timestamp_ms();
    void render();

    OledDisplay display_;
    KeypadInput keypad_;
    Max30102Sensor sensor_;
    ArduinoClock clock_;
    bool sensor_ok_ = false;

    std::optional<medchain::DeviceConfig> config_;
    std::unique_ptr<ArduinoMqttLink> mqtt_;  // when the config has mqtt_url
    std::unique_ptr<medchain::Transport> transport_;
    std::unique_ptr<medchain::JsonRpcClient> rpc_;
    std::unique_ptr<medchain::EthClient> eth_;
    std::unique_ptr<medchain::Signer> signer_;
    std::unique_ptr<medchain::Storage> storage_;
    std::unique_ptr<medchain::Outbox> outbox_;
    std::unique_ptr<medchain::RecordUploader> uploader_;

    Screen screen_ = Screen::Halted;
    std::string halt_reason_;
    std::string input_;
    std::optional<medchain::Bytes32> patient_;
    std::string patient_label_;  // masked SSN, e.g. ***-**-6789
    medchain::VitalSigns pending_;
    std::string status_;
    std::string last_error_shown_;
    std::vector<std::string> history_lines_;
    std::vector<std::string> alarm_lines_;  // non-empty while the alarm is raised
    bool clock_synced_ = false;
};
