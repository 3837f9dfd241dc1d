#include "medchain/u256.hpp"

#include <algorithm>
#include <stdexcept>

#include "medchain/hex.hpp"

namespace medchain {

U256 U256::from_big_endian(ByteSpan bytes) {
    if (bytes.size() > 32) throw std::invalid_argument("more than 32 bytes for a U256");
    U256 out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        const std::size_t bit = 8 * (bytes.size() - 1 - i);
        out.limbs_[bit / 64] |= static_cast<std::uint64_t>(bytes[i]) << (bit % 64);
    }
    return out;
}

U256 U256::from_quantity(std::string_view text) {
    if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
        throw std::invalid_argument("not a 0x quantity: \"" + std::string(text) + "\"");
    }
    std::string digits(text.substr(2));
    if (digits.size() % 2 != 0) digits.insert(digits.begin(), '0');
    const Bytes bytes = from_hex(digits);
    const auto first = std::find_if(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b != 0; });
    const Bytes trimmed(first, bytes.end());
    if (trimmed.size() > 32) throw std::invalid_argument("quantity does not fit 256 bits");
    return from_big_endian(trimmed);
}

U256 U256::from_decimal(std::string_view text) {
    if (text.empty()) throw std::invalid_argument("empty decimal number");
    U256 out;
    for (const char c : text) {
        if (c < '0' || c > '9') throw std::invalid_argument("invalid decimal digit");
        const U256 times_ten = out.mul_small(10);
        if (times_ten.div_small(10) != out) throw std::invalid_argument("decimal does not fit 256 bits");
        const U256 next = times_ten + U256(static_cast<std::uint64_t>(c - '0'));
        if (next < times_ten) throw std::invalid_argument("decimal does not fit 256 bits");
        out = next;
    }
    return out;
}

Bytes32 U256::to_big_endian() const {
    Bytes32 out{};
    for (std::size_t i = 0; i < 32; ++i) {
        const std::size_t bit = 8 * (31 - i);
        out[i] = static_cast<std::uint8_t>(limbs_[bit / 64] >> (bit % 64));
    }
    return out;
}

Bytes U256::to_minimal_big_endian() const {
    const Bytes32 full = to_big_endian();
    const auto first = std::find_if(full.begin(), full.end(), [](std::uint8_t b) { return b != 0; });
    return Bytes(first, full.end());
}

std::string U256::to_quantity() const {
    if (is_zero()) return "0x0";
    std::string digits = to_hex(to_minimal_big_endian(), false);
    if (digits.front() == '0') digits.erase(digits.begin());
    return "0x" + digits;
}

std::string U256::to_decimal() const {
    if (is_zero()) return "0";
    std::string out;
    U256 rest = *this;
    while (!rest.is_zero()) {
        std::uint32_t digit = 0;
        rest = rest.div_small(10, &digit);
        out.insert(out.begin(), static_cast<char>('0' + digit));
    }
    return out;
}

U256 operator+(const U256& a, const U256& b) {
    U256 out;
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::uint64_t sum = a.limbs_[i] + b.limbs_[i];
        const std::uint64_t with_carry = sum + carry;
        carry = (sum < a.limbs_[i] || with_carry < sum) ? 1 : 0;
        out.limbs_[i] = with_carry;
    }
    return out;
}

U256 U256::mul_small(std::uint32_t factor) const {
    // 32-bit halves keep every partial product within 64 bits.
    U256 out;
    std::uint64_t carry = 0;
    for (std::size_t i = 0; i < 4; ++i) {
        const std::uint64_t lo = (limbs_[i] & 0xffffffffULL) * factor + carry;
        const std::uint64_t hi = (limbs_[i] >> 32) * factor + (lo >> 32);
        out.limbs_[i] = (hi << 32) | (lo & 0xffffffffULL);
        carry = hi >> 32;
    }
    return out;
}

U256 U256::div_small(std::uint32_t divisor, std::uint32_t* remainder) const {
    if (divisor == 0) throw std::domain_error("U256 division by zero");
    U256 out;
    std::uint64_t rem = 0;
    for (std::size_t i = 4; i-- > 0;) {
        for (int half = 1; half >= 0; --half) {
            const std::uint64_t part = (rem << 32) | ((limbs_[i] >> (32 * half)) & 0xffffffffULL);
            out.limbs_[i] |= (part / divisor) << (32 * half);
            rem = part % divisor;
        }
    }
    if (remainder != nullptr) *remainder = static_cast<std::uint32_t>(rem);
    return out;
}

bool operator<(const U256& a, const U256& b) {
    for (std::size_t i = 4; i-- > 0;) {
        if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i];
    }
    return false;
}

}  // namespace medchain
