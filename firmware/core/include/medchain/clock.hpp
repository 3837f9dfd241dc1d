// Time as the core sees it: injectable so retries and timeouts are testable
// without waiting.
#pragma once

#include <cstdint>

namespace medchain {

class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic milliseconds from an arbitrary origin.
    virtual std::uint64_t now_ms() = 0;
    virtual void sleep_ms(std::uint64_t duration) = 0;
};

}  // namespace medchain
