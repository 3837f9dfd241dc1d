// Local alarms: a reading that crosses the thresholds the device was
// provisioned with raises an alarm on the device itself (OLED message and
// buzzer/LED pin on the ESP32, a JSON line in esp32-host), before and
// independently of sending it, so a patient's carer sees it with the
// network down. The defaults are issue 15's: heart rate < 40 or > 130 /min,
// SpO2 < 90 %, systolic > 180 mmHg, temperature > 39.0 C. A threshold value
// itself is normal (40 and 130 /min, 90 %, 180 mmHg, 39.00 C).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "medchain/vital_signs.hpp"

namespace medchain {

struct AlarmThresholds {
    std::uint16_t heart_rate_low = 40;              // alarm below, /min
    std::uint16_t heart_rate_high = 130;            // alarm above, /min
    std::uint16_t spo2_low = 90;                    // alarm below, %
    std::uint16_t systolic_high = 180;              // alarm above, mmHg
    std::int16_t temperature_high_centi_c = 3'900;  // alarm above, hundredths of a degree C

    friend bool operator==(const AlarmThresholds& a, const AlarmThresholds& b) {
        return a.heart_rate_low == b.heart_rate_low && a.heart_rate_high == b.heart_rate_high &&
               a.spo2_low == b.spo2_low && a.systolic_high == b.systolic_high &&
               a.temperature_high_centi_c == b.temperature_high_centi_c;
    }
};

enum class AlarmRule { HeartRateLow, HeartRateHigh, Spo2Low, SystolicHigh, TemperatureHigh };

// "heart_rate_low", "heart_rate_high", "spo2_low", "systolic_high",
// "temperature_high": the names the config's "alarms" object uses too.
const char* rule_name(AlarmRule rule);

// The rules `v` crosses, in the order above; empty for a normal reading.
// A systolic of 0 means "not measured" and raises nothing.
std::vector<AlarmRule> evaluate_alarms(const VitalSigns& v, const AlarmThresholds& t);

// A short text for a 21-column display line per rule, e.g. "HR 150 > 130".
std::vector<std::string> alarm_lines(const VitalSigns& v, const AlarmThresholds& t,
                                     const std::vector<AlarmRule>& rules);

}  // namespace medchain
