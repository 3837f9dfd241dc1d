// Ethereum account addresses.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "medchain/bytes.hpp"

namespace medchain {

// An uncompressed secp256k1 public key without the 0x04 prefix (X ‖ Y).
using PublicKey = std::array<std::uint8_t, 64>;

// The last 20 bytes of keccak256(X ‖ Y).
Address address_from_public_key(const PublicKey& public_key);

// EIP-55 mixed-case checksum form, "0x"-prefixed.
std::string to_checksum_address(const Address& address);

// Parses 40 hex digits (with or without 0x). Mixed-case input must carry a
// valid EIP-55 checksum; all-lower or all-upper input is accepted as is.
// Throws std::invalid_argument otherwise.
Address parse_address(std::string_view text);

}  // namespace medchain
