// A clock that only moves when told to (or when someone sleeps on it).
#pragma once

#include <cstdint>
#include <vector>

#include "medchain/clock.hpp"

namespace medchain::test {

class FakeClock : public Clock {
public:
    std::uint64_t now_ms() override { return now_; }
    void sleep_ms(std::uint64_t duration) override {
        sleeps.push_back(duration);
        now_ += duration;
    }
    void advance(std::uint64_t duration) { now_ += duration; }

    std::vector<std::uint64_t> sleeps;

private:
    std::uint64_t now_ = 1'000'000;
};

}  // namespace medchain::test
