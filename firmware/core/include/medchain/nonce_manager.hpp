// Transaction nonces: asked of the node ("pending") once, then counted
// locally; asked again after the node says "nonce too low".
#pragma once

#include <cstdint>
#include <optional>

#include "medchain/bytes.hpp"
#include "medchain/eth_client.hpp"

namespace medchain {

class NonceManager {
public:
    NonceManager(EthClient& eth, const Address& account) : eth_(eth), account_(account) {}

    // The nonce for the next new transaction (queries the node if unknown).
    std::uint64_t next();
    // The node accepted a transaction with `nonce`.
    void mark_used(std::uint64_t nonce);
    // Forget the local count; the next call to next() asks the node.
    void invalidate() { next_.reset(); }

private:
    EthClient& eth_;
    Address account_;
    std::optional<std::uint64_t> next_;
};

}  // namespace medchain
