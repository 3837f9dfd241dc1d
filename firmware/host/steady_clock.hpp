// The host's Clock: std::chrono::steady_clock and a real sleep.
#pragma once

#include "medchain/clock.hpp"

namespace medchain::host {

class SteadyClock : public Clock {
public:
    std::uint64_t now_ms() override;
    void sleep_ms(std::uint64_t duration) override;
};

// Milliseconds since the Unix epoch (the device timestamp of a reading).
std::uint64_t unix_time_ms();

}  // namespace medchain::host
