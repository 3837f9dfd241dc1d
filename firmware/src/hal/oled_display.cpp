#include "hal/oled_display.hpp"

bool OledDisplay::begin(std::uint8_t address) {
    ready_ = display_.begin(SSD1306_SWITCHCAPVCC, address);
    return ready_;
}

void OledDisplay::show(const std::vector<std::string>& lines) {
    // Mirror to the serial console: useful on the bench, and when no OLED is fitted.
    Serial.println("----");
    for (const std::string& line : lines) Serial.println(line.c_str());
    if (!ready_) return;
    display_.clearDisplay();
    display_.setTextSize(1);
    display_.setTextColor(SSD1306_WHITE);
    display_.setCursor(0, 0);
    for (std::size_t i = 0; i < lines.size() && i < kLines; ++i) {
        display_.println(lines[i].substr(0, kColumns).c_str());
    }
    display_.display();
}
