// The device's Clock: the 64-bit microsecond timer (millis() wraps after 49
// days) and a FreeRTOS-friendly delay.
#pragma once

#include <Arduino.h>
#include <esp_timer.h>

#include "medchain/clock.hpp"

class ArduinoClock : public medchain::Clock {
public:
    std::uint64_t now_ms() override { return static_cast<std::uint64_t>(esp_timer_get_time() / 1000); }
    void sleep_ms(std::uint64_t duration) override { delay(static_cast<std::uint32_t>(duration)); }
};
