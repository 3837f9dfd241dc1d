// medchain::Transport over Wi-Fi: one HTTP(S) POST per JSON-RPC request to
// the configured RPC URL — the hospital's `medchain gateway` over https,
// verified against the CA pinned in the config (tls_ca), with the
// device's token in "Authorization: Bearer".
#pragma once

#include <cstdint>
#include <string>

#include "medchain/transport.hpp"

class WifiTransport : public medchain::Transport {
public:
    // `ca_pem` is required for an https:// URL (parse_device_config
    // enforces it); `token` may be empty.
    WifiTransport(std::string url, std::string token, std::string ca_pem, std::uint32_t timeout_ms = 10'000)
        : url_(std::move(url)), token_(std::move(token)), ca_pem_(std::move(ca_pem)), timeout_ms_(timeout_ms) {}

    std::string post(const std::string& body) override;

private:
    std::string url_;
    std::string token_;
    std::string ca_pem_;  // outlives the WiFiClientSecure that points at it
    std::uint32_t timeout_ms_;
};
