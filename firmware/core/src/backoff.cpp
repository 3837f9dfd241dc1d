#include "medchain/backoff.hpp"

#include <algorithm>

namespace medchain {

std::uint64_t Backoff::next_delay_ms() {
    const std::uint64_t delay = next_delay_ms_;
    ++failures_;
    const std::uint64_t cap = policy_.max_delay_ms;
    next_delay_ms_ = (delay > cap / std::max<std::uint32_t>(policy_.multiplier, 1))
                         ? cap
                         : std::min(cap, delay * policy_.multiplier);
    return std::min(delay, cap);
}

void Backoff::reset() {
    next_delay_ms_ = policy_.initial_delay_ms;
    failures_ = 0;
}

}  // namespace medchain
