// Recursive Length Prefix encoding (Ethereum yellow paper, appendix B).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "medchain/bytes.hpp"
#include "medchain/u256.hpp"

namespace medchain::rlp {

// A byte string.
Bytes encode_bytes(ByteSpan bytes);

// An unsigned integer: minimal big-endian bytes, so zero is the empty string.
Bytes encode_uint(std::uint64_t value);
Bytes encode_uint(const U256& value);

// A list of already-encoded items.
Bytes encode_list(const std::vector<Bytes>& encoded_items);
Bytes encode_list(std::initializer_list<Bytes> encoded_items);

}  // namespace medchain::rlp
