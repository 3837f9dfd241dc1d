// A minimal RLP decoder, for tests only: the fake node reads the raw
// transactions the core sends with it.
#pragma once

#include <vector>

#include "medchain/bytes.hpp"

namespace medchain::test {

struct RlpItem {
    bool is_list = false;
    Bytes bytes;                 // when !is_list
    std::vector<RlpItem> items;  // when is_list
};

// Decodes exactly one item spanning all of `data`; throws std::runtime_error
// on malformed or non-canonical input.
RlpItem rlp_decode(ByteSpan data);

// A decoded byte string read as an unsigned integer (at most 8 bytes).
std::uint64_t rlp_uint(const RlpItem& item);

}  // namespace medchain::test
