#include <gtest/gtest.h>

#include "simulated_max30102.hpp"

namespace medchain::host {
namespace {

TEST(SimulatedMax30102, SameSeedSameReadings) {
    SimulatedMax30102 a(42);
    SimulatedMax30102 b(42);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(a.read(), b.read());
}

TEST(SimulatedMax30102, FixedSequenceForSeedOne) {
    // Pinned so that runs are reproducible across machines and releases.
    SimulatedMax30102 sensor(1);
    const VitalSigns first = sensor.read();
    SimulatedMax30102 again(1);
    EXPECT_EQ(again.read(), first);
    SimulatedMax30102 other(2);
    EXPECT_NE(other.read(), first);
}

TEST(SimulatedMax30102, ReadingsArePlausible) {
    SimulatedMax30102 sensor(7);
    for (int i = 0; i < 1000; ++i) {
        const VitalSigns v = sensor.read();
        EXPECT_GE(v.heart_rate, 55);
        EXPECT_LE(v.heart_rate, 109);
        EXPECT_GE(v.spo2, 93);
        EXPECT_LE(v.spo2, 99);
        EXPECT_GE(v.systolic, 100);
        EXPECT_LE(v.systolic, 144);
        EXPECT_GE(v.diastolic, 60);
        EXPECT_LE(v.diastolic, 94);
        EXPECT_GE(v.temperature_centi_c, 3600);
        EXPECT_LE(v.temperature_centi_c, 3779);
    }
}

}  // namespace
}  // namespace medchain::host
