// Ethereum transactions a device sends: legacy with EIP-155 replay
// protection, and EIP-1559 (type 2) with an empty access list.
#pragma once

#include <cstdint>

#include "medchain/bytes.hpp"
#include "medchain/signer.hpp"
#include "medchain/u256.hpp"

namespace medchain {

struct LegacyTransaction {
    std::uint64_t chain_id = 0;
    std::uint64_t nonce = 0;
    U256 gas_price;
    std::uint64_t gas_limit = 0;
    Address to{};
    U256 value;
    Bytes data;

    // keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])).
    Hash signing_hash() const;
    // rlp([nonce, gasPrice, gas, to, value, data, v, r, s]) with
    // v = chainId * 2 + 35 + recovery id.
    Bytes encode_signed(const Signature& signature) const;
};

struct Eip1559Transaction {
    std::uint64_t chain_id = 0;
    std::uint64_t nonce = 0;
    U256 max_priority_fee_per_gas;
    U256 max_fee_per_gas;
    std::uint64_t gas_limit = 0;
    Address to{};
    U256 value;
    Bytes data;

    // keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
    // maxFeePerGas, gas, to, value, data, accessList])).
    Hash signing_hash() const;
    // 0x02 ‖ rlp([..., accessList, yParity, r, s]).
    Bytes encode_signed(const Signature& signature) const;
};

// What eth_sendRawTransaction takes, and the hash the node will report.
struct SignedTransaction {
    Bytes raw;
    Hash hash{};
    Signature signature;
};

SignedTransaction sign_transaction(const LegacyTransaction& tx, const Signer& signer);
SignedTransaction sign_transaction(const Eip1559Transaction& tx, const Signer& signer);

}  // namespace medchain
