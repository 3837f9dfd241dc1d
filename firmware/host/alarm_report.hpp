// esp32-host's local alarm (the ESP32 shows it on the OLED and drives a
// buzzer/LED pin): for each reading that crosses the config's thresholds a
// JSON line on stdout,
//   {"event":"alarm","seq":3,"rules":["heart_rate_high"],"heart_rate":150,...}
// printed when the reading is taken, before and whatever the network does;
// and, with --alarm-flag FILE, that file exists (holding the line) while
// the latest reading is abnormal and is removed by the next normal one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "medchain/alarm.hpp"
#include "medchain/vital_signs.hpp"

namespace medchain::host {

class AlarmReport {
public:
    AlarmReport(AlarmThresholds thresholds, std::optional<std::string> flag_path)
        : thresholds_(thresholds), flag_path_(std::move(flag_path)) {}

    // Evaluates reading `sequence`; whether it raised an alarm.
    bool reading(std::uint64_t sequence, const VitalSigns& vitals);

private:
    AlarmThresholds thresholds_;
    std::optional<std::string> flag_path_;
};

}  // namespace medchain::host
