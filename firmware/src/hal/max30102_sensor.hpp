// The MAX30102 pulse oximeter (SparkFun MAX3010x driver and Maxim's
// reference HR/SpO2 algorithm): about four seconds of red/IR samples give one
// heart-rate and SpO2 value. Temperature is the sensor's die temperature, an
// approximation of skin temperature, not a clinical thermometer.
#pragma once

#include <Wire.h>

#include <MAX30105.h>

#include <cstdint>
#include <optional>

struct PulseOximetry {
    std::uint16_t heart_rate = 0;
    std::uint16_t spo2 = 0;
    std::int16_t temperature_centi_c = 0;
};

class Max30102Sensor {
public:
    bool begin(TwoWire& wire);
    bool finger_present();
    // Blocks for about 4 s; nullopt if no finger or the signal is too noisy.
    std::optional<PulseOximetry> measure();

private:
    static constexpr int kSamples = 100;  // 4 s at 25 samples/s, as the algorithm expects

    MAX30105 sensor_;
    std::uint32_t ir_[kSamples] = {};
    std::uint32_t red_[kSamples] = {};
};
