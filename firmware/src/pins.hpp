// ESP32 DevKit wiring (see README.md). Strapping pins 0, 2, 5, 12, 15 and the
// input-only pins 34-39 (no pull-ups, the keypad needs them) are avoided.
#pragma once

#include <cstdint>

namespace pins {

// I2C bus shared by the MAX30102 and the SSD1306.
constexpr int kI2cSda = 21;
constexpr int kI2cScl = 22;
constexpr std::uint8_t kOledAddress = 0x3C;  // the MAX30102 is fixed at 0x57

// 4x4 matrix keypad: rows 1-4, then columns 1-4 (left to right).
constexpr std::uint8_t kKeypadRows[4] = {13, 14, 27, 26};
constexpr std::uint8_t kKeypadCols[4] = {25, 33, 32, 4};

// Local alarm: an active buzzer or LED (through a transistor for a
// buzzer), driven high while an abnormal reading is unacknowledged. GPIO 17
// is neither a strapping pin nor input-only.
constexpr std::uint8_t kAlarmPin = 17;

}  // namespace pins
