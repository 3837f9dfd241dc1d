// Hex text <-> bytes, and JSON-RPC "quantities" (minimal 0x-hex integers).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "medchain/bytes.hpp"

namespace medchain {

// Lower-case hex, "0x"-prefixed unless `prefix` is false.
std::string to_hex(ByteSpan bytes, bool prefix = true);

// Parses hex with or without "0x"; throws std::invalid_argument on odd length
// or a non-hex digit.
Bytes from_hex(std::string_view text);

// Parses hex that must decode to exactly N bytes.
template <std::size_t N>
std::array<std::uint8_t, N> fixed_from_hex(std::string_view text) {
    const Bytes bytes = from_hex(text);
    if (bytes.size() != N) {
        throw std::invalid_argument("expected " + std::to_string(N) + " bytes of hex, got " +
                                    std::to_string(bytes.size()));
    }
    std::array<std::uint8_t, N> out{};
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

// "0x0", "0x1a", ...
std::string to_quantity(std::uint64_t value);

// Parses a 0x-prefixed hex quantity that fits 64 bits; throws
// std::invalid_argument otherwise.
std::uint64_t parse_quantity(std::string_view text);

}  // namespace medchain
