// SIMULATION ONLY: a stand-in for the MAX30102 pulse oximeter (plus the
// blood-pressure and temperature values the real device takes from its
// cuff/keypad and thermometer), producing deterministic, plausible vital
// signs from a seed. No real sensor is read; never use for patients.
#pragma once

#include <cstdint>

#include "medchain/vital_signs.hpp"

namespace medchain::host {

class SimulatedMax30102 {
public:
    explicit SimulatedMax30102(std::uint64_t seed) : state_(seed) {}

    // The next reading: heart rate 55-109 bpm, SpO2 93-99 %, blood pressure
    // 100-144 / 60-94 mmHg, temperature 36.00-37.79 C.
    VitalSigns read();
    // A reading that crosses the default alarm thresholds: the next
    // reading with heart rate 150 bpm and SpO2 85 %.
    VitalSigns read_abnormal();

private:
    // splitmix64: tiny, and the same numbers on every platform (unlike the
    // std:: distributions).
    std::uint64_t next();
    std::uint16_t between(std::uint16_t low, std::uint16_t high);

    std::uint64_t state_;
};

}  // namespace medchain::host
