#include "hal/max30102_sensor.hpp"

#include <spo2_algorithm.h>

namespace {

constexpr std::uint32_t kFingerThreshold = 50'000;  // IR counts with a finger on the sensor
constexpr std::uint32_t kSampleTimeoutMs = 1'000;

}  // namespace

bool Max30102Sensor::begin(TwoWire& wire) {
    if (!sensor_.begin(wire, I2C_SPEED_FAST)) return false;
    // LED brightness 60, 4-sample averaging, red+IR, 100 Hz -> 25 Hz after
    // averaging, 411 us pulses, 4096 nA range: SparkFun's SpO2 example settings.
    sensor_.setup(60, 4, 2, 100, 411, 4096);
    sensor_.enableDIETEMPRDY();
    return true;
}

bool Max30102Sensor::finger_present() { return sensor_.getIR() > kFingerThreshold; }

std::optional<PulseOximetry> Max30102Sensor::measure() {
    if (!finger_present()) return std::nullopt;
    for (int i = 0; i < kSamples; ++i) {
        const std::uint32_t started = millis();
        while (!sensor_.available()) {
            sensor_.check();
            if (millis() - started > kSampleTimeoutMs) return std::nullopt;  // sensor gone
        }
        red_[i] = sensor_.getFIFORed();
        ir_[i] = sensor_.getFIFOIR();
        sensor_.nextSample();
    }
    std::int32_t spo2 = 0;
    std::int32_t heart_rate = 0;
    std::int8_t spo2_valid = 0;
    std::int8_t heart_rate_valid = 0;
    maxim_heart_rate_and_oxygen_saturation(ir_, kSamples, red_, &spo2, &spo2_valid, &heart_rate, &heart_rate_valid);
    if (spo2_valid == 0 || heart_rate_valid == 0 || spo2 <= 0 || spo2 > 100 || heart_rate <= 0 || heart_rate > 300) {
        return std::nullopt;
    }
    PulseOximetry out;
    out.heart_rate = static_cast<std::uint16_t>(heart_rate);
    out.spo2 = static_cast<std::uint16_t>(spo2);
    out.temperature_centi_c = static_cast<std::int16_t>(sensor_.readTemperature() * 100.0f);
    return out;
}
