#include "simulated_max30102.hpp"

namespace medchain::host {

std::uint64_t SimulatedMax30102::next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint16_t SimulatedMax30102::between(std::uint16_t low, std::uint16_t high) {
    return static_cast<std::uint16_t>(low + next() % (static_cast<std::uint64_t>(high - low) + 1));
}

VitalSigns SimulatedMax30102::read() {
    VitalSigns v;
    v.heart_rate = between(55, 109);
    v.spo2 = between(93, 99);
    v.systolic = between(100, 144);
    v.diastolic = between(60, 94);
    v.temperature_centi_c = static_cast<std::int16_t>(between(3600, 3779));
    return v;
}

VitalSigns SimulatedMax30102::read_abnormal() {
    VitalSigns v = read();
    v.heart_rate = 150;
    v.spo2 = 85;
    return v;
}

}  // namespace medchain::host
