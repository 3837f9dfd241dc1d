// Keccak-256 as Ethereum uses it (original Keccak padding, not NIST SHA3-256).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "medchain/bytes.hpp"

namespace medchain {

// Incremental hasher: update() any number of times, then finish() once.
class Keccak256 {
public:
    Keccak256& update(ByteSpan data);
    Hash finish();

private:
    static constexpr std::size_t kRate = 136;  // bytes absorbed per permutation

    void absorb_block(const std::uint8_t* block);

    std::array<std::uint64_t, 25> state_{};
    std::array<std::uint8_t, kRate> buffer_{};
    std::size_t buffered_ = 0;
};

// One-shot Keccak-256.
Hash keccak256(ByteSpan data);

}  // namespace medchain
