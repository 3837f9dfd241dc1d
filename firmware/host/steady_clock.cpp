#include "steady_clock.hpp"

#include <chrono>
#include <thread>

namespace medchain::host {

std::uint64_t SteadyClock::now_ms() {
    const auto since_origin = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_origin).count());
}

void SteadyClock::sleep_ms(std::uint64_t duration) { std::this_thread::sleep_for(std::chrono::milliseconds(duration)); }

std::uint64_t unix_time_ms() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace medchain::host
