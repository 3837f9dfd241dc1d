// Gas price and limit for a device transaction. EIP-1559 when the chain has
// a base fee (London), legacy EIP-155 otherwise.
#pragma once

#include <cstdint>

#include "medchain/eth_client.hpp"
#include "medchain/u256.hpp"

namespace medchain {

struct FeeOptions {
    // maxFeePerGas = latest base fee * this + priority fee, so the
    // transaction stays includable while the base fee rises (by at most
    // 12.5% a block: x2 covers about six full blocks in a row).
    std::uint32_t base_fee_multiplier = 2;
    // Gas limit = estimate * (100 + headroom) / 100.
    std::uint32_t gas_headroom_percent = 20;
};

struct Fees {
    bool eip1559 = true;
    U256 gas_price;                 // legacy only
    U256 max_fee_per_gas;           // EIP-1559 only
    U256 max_priority_fee_per_gas;  // EIP-1559 only
};

// Asks the node (latest base fee, then eth_maxPriorityFeePerGas or
// eth_gasPrice). Throws what EthClient throws.
Fees quote_fees(EthClient& eth, const FeeOptions& options = {});

// The gas limit to send with, from eth_estimateGas's answer.
std::uint64_t gas_limit_with_headroom(std::uint64_t estimate, const FeeOptions& options = {});

}  // namespace medchain
