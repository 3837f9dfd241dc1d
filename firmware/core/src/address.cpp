#include "medchain/address.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "medchain/hex.hpp"
#include "medchain/keccak.hpp"

namespace medchain {

Address address_from_public_key(const PublicKey& public_key) {
    const Hash hash = keccak256(public_key);
    Address out{};
    std::copy(hash.end() - static_cast<std::ptrdiff_t>(out.size()), hash.end(), out.begin());
    return out;
}

std::string to_checksum_address(const Address& address) {
    const std::string lower = to_hex(address, false);
    const Hash hash = keccak256(lower);
    std::string out = "0x";
    for (std::size_t i = 0; i < lower.size(); ++i) {
        const std::uint8_t nibble = (i % 2 == 0) ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f;
        const char c = lower[i];
        out += (nibble >= 8) ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    }
    return out;
}

Address parse_address(std::string_view text) {
    const Address address = fixed_from_hex<20>(text);
    const std::string_view digits =
        (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? text.substr(2) : text;
    const bool has_lower = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'a' && c <= 'f'; });
    const bool has_upper = std::any_of(digits.begin(), digits.end(), [](char c) { return c >= 'A' && c <= 'F'; });
    if (has_lower && has_upper && to_checksum_address(address).substr(2) != digits) {
        throw std::invalid_argument("address \"" + std::string(text) + "\" has a bad EIP-55 checksum");
    }
    return address;
}

}  // namespace medchain
