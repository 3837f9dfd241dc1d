// Exponential backoff for retrying work against an unreliable link.
#pragma once

#include <cstdint>

#include "medchain/clock.hpp"
#include "medchain/json_rpc.hpp"
#include "medchain/transport.hpp"

namespace medchain {

struct BackoffPolicy {
    std::uint64_t initial_delay_ms = 500;
    std::uint64_t max_delay_ms = 30'000;
    std::uint32_t multiplier = 2;
};

// Delays initial, initial*m, initial*m^2, ... capped at max.
class Backoff {
public:
    explicit Backoff(BackoffPolicy policy = {}) : policy_(policy), next_delay_ms_(policy.initial_delay_ms) {}

    // The delay to wait after one more failure.
    std::uint64_t next_delay_ms();
    // After a success: the next failure waits the initial delay again.
    void reset();
    std::uint32_t failures() const { return failures_; }

private:
    BackoffPolicy policy_;
    std::uint64_t next_delay_ms_;
    std::uint32_t failures_ = 0;
};

// Calls `fn` until it returns, sleeping on `clock` between attempts while it
// throws a retryable error (TransportError: the node could not be reached;
// ProtocolError: a garbled answer). Any other exception, or the last one
// after `max_attempts`, propagates.
template <typename F>
auto retry(F&& fn, Clock& clock, std::uint32_t max_attempts, BackoffPolicy policy = {}) -> decltype(fn()) {
    Backoff backoff(policy);
    for (std::uint32_t attempt = 1;; ++attempt) {
        try {
            return fn();
        } catch (const TransportError&) {
            if (attempt >= max_attempts) throw;
        } catch (const ProtocolError&) {
            if (attempt >= max_attempts) throw;
        }
        clock.sleep_ms(backoff.next_delay_ms());
    }
}

}  // namespace medchain
