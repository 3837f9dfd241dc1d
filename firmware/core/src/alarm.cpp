#include "medchain/alarm.hpp"

#include <cstdio>

namespace medchain {
namespace {

std::string centi(std::int16_t value) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", value / 100.0);
    return text;
}

}  // namespace

const char* rule_name(AlarmRule rule) {
    switch (rule) {
        case AlarmRule::HeartRateLow:
            return "heart_rate_low";
        case AlarmRule::HeartRateHigh:
            return "heart_rate_high";
        case AlarmRule::Spo2Low:
            return "spo2_low";
        case AlarmRule::SystolicHigh:
            return "systolic_high";
        case AlarmRule::TemperatureHigh:
            return "temperature_high";
    }
    return "unknown";
}

std::vector<AlarmRule> evaluate_alarms(const VitalSigns& v, const AlarmThresholds& t) {
    std::vector<AlarmRule> rules;
    if (v.heart_rate < t.heart_rate_low) rules.push_back(AlarmRule::HeartRateLow);
    if (v.heart_rate > t.heart_rate_high) rules.push_back(AlarmRule::HeartRateHigh);
    if (v.spo2 < t.spo2_low) rules.push_back(AlarmRule::Spo2Low);
    if (v.systolic != 0 && v.systolic > t.systolic_high) rules.push_back(AlarmRule::SystolicHigh);
    if (v.temperature_centi_c > t.temperature_high_centi_c) rules.push_back(AlarmRule::TemperatureHigh);
    return rules;
}

std::vector<std::string> alarm_lines(const VitalSigns& v, const AlarmThresholds& t,
                                     const std::vector<AlarmRule>& rules) {
    std::vector<std::string> lines;
    for (const AlarmRule rule : rules) {
        switch (rule) {
            case AlarmRule::HeartRateLow:
                lines.push_back("HR " + std::to_string(v.heart_rate) + " < " + std::to_string(t.heart_rate_low));
                break;
            case AlarmRule::HeartRateHigh:
                lines.push_back("HR " + std::to_string(v.heart_rate) + " > " + std::to_string(t.heart_rate_high));
                break;
            case AlarmRule::Spo2Low:
                lines.push_back("SpO2 " + std::to_string(v.spo2) + "% < " + std::to_string(t.spo2_low) + "%");
                break;
            case AlarmRule::SystolicHigh:
                lines.push_back("SYS " + std::to_string(v.systolic) + " > " + std::to_string(t.systolic_high));
                break;
            case AlarmRule::TemperatureHigh:
                lines.push_back("T " + centi(v.temperature_centi_c) + " > " + centi(t.temperature_high_centi_c));
                break;
        }
    }
    return lines;
}

}  // namespace medchain
