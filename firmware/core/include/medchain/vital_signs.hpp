// One measurement, in the units the MedicalRecords contract stores.
#pragma once

#include <cstdint>

namespace medchain {

struct VitalSigns {
    std::uint16_t heart_rate = 0;          // beats per minute
    std::uint16_t spo2 = 0;                // oxygen saturation, percent
    std::uint16_t systolic = 0;            // mmHg (0 = not measured)
    std::uint16_t diastolic = 0;           // mmHg (0 = not measured)
    std::int16_t temperature_centi_c = 0;  // hundredths of a degree Celsius (3650 = 36.50 C)

    friend bool operator==(const VitalSigns& a, const VitalSigns& b) {
        return a.heart_rate == b.heart_rate && a.spo2 == b.spo2 && a.systolic == b.systolic &&
               a.diastolic == b.diastolic && a.temperature_centi_c == b.temperature_centi_c;
    }
    friend bool operator!=(const VitalSigns& a, const VitalSigns& b) { return !(a == b); }
};

}  // namespace medchain
