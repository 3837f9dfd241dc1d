#include "alarm_report.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

namespace medchain::host {

bool AlarmReport::reading(std::uint64_t sequence, const VitalSigns& v) {
    const std::vector<AlarmRule> rules = evaluate_alarms(v, thresholds_);
    if (rules.empty()) {
        if (flag_path_) std::remove(flag_path_->c_str());
        return false;
    }
    nlohmann::ordered_json line{{"event", "alarm"}, {"seq", sequence}, {"rules", nlohmann::ordered_json::array()}};
    for (const AlarmRule rule : rules) line["rules"].push_back(rule_name(rule));
    line["heart_rate"] = v.heart_rate;
    line["spo2"] = v.spo2;
    line["systolic"] = v.systolic;
    line["diastolic"] = v.diastolic;
    line["temperature_c"] = v.temperature_centi_c / 100.0;
    line["message"] = alarm_lines(v, thresholds_, rules);
    const std::string text = line.dump();
    std::cout << text << std::endl;
    if (flag_path_) {
        std::ofstream flag(*flag_path_, std::ios::trunc);
        flag << text << "\n";
        if (!flag) std::cerr << "esp32-host: cannot write the alarm flag " << *flag_path_ << std::endl;
    }
    return true;
}

}  // namespace medchain::host
