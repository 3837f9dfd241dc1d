// medchain::Transport over Wi-Fi: one HTTP POST per JSON-RPC request to the
// configured RPC URL (plain http; the RPC endpoint is on the hospital LAN).
#pragma once

#include <cstdint>
#include <string>

#include "medchain/transport.hpp"

class WifiTransport : public medchain::Transport {
public:
    explicit WifiTransport(std::string url, std::uint32_t timeout_ms = 10'000)
        : url_(std::move(url)), timeout_ms_(timeout_ms) {}

    std::string post(const std::string& body) override;

private:
    std::string url_;
    std::uint32_t timeout_ms_;
};
