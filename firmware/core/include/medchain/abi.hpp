// Solidity ABI encoding of static arguments and strict decoding of results.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "medchain/bytes.hpp"
#include "medchain/u256.hpp"

namespace medchain::abi {

constexpr std::size_t kWordSize = 32;

using Selector = std::array<std::uint8_t, 4>;

// Malformed or out-of-range ABI data.
class AbiError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// First four bytes of keccak256 of a canonical signature such as
// "devices(address)".
Selector selector(std::string_view signature);

// An address as a 32-byte word (left-padded with zeros), as in an indexed
// event topic.
Bytes32 address_word(const Address& address);

// Builds calldata: the selector, then one 32-byte head word per static
// argument (every argument of the MedicalRecords calls is static).
class CallEncoder {
public:
    explicit CallEncoder(std::string_view signature);

    CallEncoder& add_uint(const U256& value);
    // Two's complement, sign-extended to 256 bits.
    CallEncoder& add_int(std::int64_t value);
    CallEncoder& add_address(const Address& value);
    CallEncoder& add_bytes32(const Bytes32& value);
    CallEncoder& add_bool(bool value);

    const Bytes& data() const { return data_; }

private:
    Bytes data_;
};

// Reads words of ABI-encoded return data, rejecting values that do not fit
// the declared type (as Solidity's own decoder does).
class Decoder {
public:
    explicit Decoder(ByteSpan data) : data_(data) {}

    std::size_t size() const { return data_.size(); }

    U256 uint256_at(std::size_t offset) const;
    // A uintN word (N <= 64).
    std::uint64_t uint_at(std::size_t offset, unsigned bits) const;
    // An intN word (N <= 64).
    std::int64_t int_at(std::size_t offset, unsigned bits) const;
    Address address_at(std::size_t offset) const;
    Bytes32 bytes32_at(std::size_t offset) const;
    bool bool_at(std::size_t offset) const;
    // A head word pointing at dynamic data, checked to lie inside the data.
    std::size_t offset_at(std::size_t offset) const;

private:
    ByteSpan word(std::size_t offset) const;

    ByteSpan data_;
};

// The reason string of a `require`/`revert` (Error(string) revert data), or
// nullopt if `data` is not Error(string).
std::optional<std::string> decode_revert_reason(ByteSpan data);

}  // namespace medchain::abi
