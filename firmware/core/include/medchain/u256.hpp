// An unsigned 256-bit integer: just enough arithmetic for wei amounts, fees
// and ABI words on a 32-bit MCU (no __int128 there).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "medchain/bytes.hpp"

namespace medchain {

class U256 {
public:
    constexpr U256() = default;
    constexpr U256(std::uint64_t value)  // NOLINT: implicit, like a built-in widening
        : limbs_{value, 0, 0, 0} {}

    // From up to 32 big-endian bytes; throws std::invalid_argument if longer.
    static U256 from_big_endian(ByteSpan bytes);
    // From a 0x hex quantity ("0x0", "0x1bc16d674ec80000"); throws
    // std::invalid_argument on bad text or overflow.
    static U256 from_quantity(std::string_view text);
    // From decimal digits; throws std::invalid_argument on bad text or overflow.
    static U256 from_decimal(std::string_view text);

    Bytes32 to_big_endian() const;
    // Big-endian without leading zero bytes (empty for zero), as RLP wants.
    Bytes to_minimal_big_endian() const;
    std::string to_quantity() const;
    std::string to_decimal() const;

    bool is_zero() const { return (limbs_[0] | limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
    bool fits_u64() const { return (limbs_[1] | limbs_[2] | limbs_[3]) == 0; }
    // The low 64 bits; check fits_u64() first when it matters.
    std::uint64_t low_u64() const { return limbs_[0]; }

    // Wrapping arithmetic modulo 2^256.
    friend U256 operator+(const U256& a, const U256& b);
    U256 mul_small(std::uint32_t factor) const;
    // Quotient and remainder by a small divisor (not zero).
    U256 div_small(std::uint32_t divisor, std::uint32_t* remainder = nullptr) const;

    friend bool operator==(const U256& a, const U256& b) { return a.limbs_ == b.limbs_; }
    friend bool operator!=(const U256& a, const U256& b) { return !(a == b); }
    friend bool operator<(const U256& a, const U256& b);
    friend bool operator>(const U256& a, const U256& b) { return b < a; }
    friend bool operator<=(const U256& a, const U256& b) { return !(b < a); }
    friend bool operator>=(const U256& a, const U256& b) { return !(a < b); }

private:
    std::array<std::uint64_t, 4> limbs_{};  // little-endian 64-bit limbs
};

}  // namespace medchain
