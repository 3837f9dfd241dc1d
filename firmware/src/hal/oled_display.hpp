// The 128x64 SSD1306 OLED on the global Wire bus: up to eight lines of 21
// characters.
#pragma once

#include <Adafruit_SSD1306.h>
#include <Wire.h>

#include <cstdint>
#include <string>
#include <vector>

class OledDisplay {
public:
    static constexpr std::size_t kLines = 8;
    static constexpr std::size_t kColumns = 21;

    bool begin(std::uint8_t address);
    void show(const std::vector<std::string>& lines);

private:
    Adafruit_SSD1306 display_{128, 64, &Wire, -1};
    bool ready_ = false;
};
