#include "medchain/hex.hpp"

namespace medchain {
namespace {

int nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string_view strip_prefix(std::string_view text) {
    if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
    }
    return text;
}

}  // namespace

std::string to_hex(ByteSpan bytes, bool prefix) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2 + 2);
    if (prefix) out += "0x";
    for (const std::uint8_t b : bytes) {
        out += kDigits[b >> 4];
        out += kDigits[b & 0x0f];
    }
    return out;
}

Bytes from_hex(std::string_view text) {
    text = strip_prefix(text);
    if (text.size() % 2 != 0) {
        throw std::invalid_argument("hex string has an odd number of digits");
    }
    Bytes out;
    out.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
        const int hi = nibble(text[i]);
        const int lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) {
            throw std::invalid_argument("invalid hex digit in \"" + std::string(text) + "\"");
        }
        out.push_back(static_cast<std::uint8_t>(hi << 4 | lo));
    }
    return out;
}

std::string to_quantity(std::uint64_t value) {
    static constexpr char kDigits[] = "0123456789abcdef";
    if (value == 0) return "0x0";
    std::string digits;
    while (value != 0) {
        digits.insert(digits.begin(), kDigits[value & 0x0f]);
        value >>= 4;
    }
    return "0x" + digits;
}

std::uint64_t parse_quantity(std::string_view text) {
    if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
        throw std::invalid_argument("not a 0x quantity: \"" + std::string(text) + "\"");
    }
    text.remove_prefix(2);
    while (text.size() > 1 && text.front() == '0') text.remove_prefix(1);
    if (text.size() > 16) {
        throw std::invalid_argument("quantity does not fit 64 bits");
    }
    std::uint64_t value = 0;
    for (const char c : text) {
        const int d = nibble(c);
        if (d < 0) throw std::invalid_argument("invalid hex digit in quantity");
        value = value << 4 | static_cast<std::uint64_t>(d);
    }
    return value;
}

}  // namespace medchain
