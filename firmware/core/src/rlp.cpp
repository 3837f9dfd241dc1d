#include "medchain/rlp.hpp"

namespace medchain::rlp {
namespace {

// Prefix for a payload of `length` bytes: `short_base + length` up to 55
// bytes, else `short_base + 55 + len(length)` followed by the length itself.
Bytes header(std::size_t length, std::uint8_t short_base) {
    if (length <= 55) return {static_cast<std::uint8_t>(short_base + length)};
    const Bytes length_bytes = U256(static_cast<std::uint64_t>(length)).to_minimal_big_endian();
    Bytes out{static_cast<std::uint8_t>(short_base + 55 + length_bytes.size())};
    append(out, length_bytes);
    return out;
}

constexpr std::uint8_t kStringBase = 0x80;
constexpr std::uint8_t kListBase = 0xc0;

}  // namespace

Bytes encode_bytes(ByteSpan bytes) {
    if (bytes.size() == 1 && bytes[0] < 0x80) return {bytes[0]};
    Bytes out = header(bytes.size(), kStringBase);
    append(out, bytes);
    return out;
}

Bytes encode_uint(std::uint64_t value) { return encode_uint(U256(value)); }

Bytes encode_uint(const U256& value) { return encode_bytes(value.to_minimal_big_endian()); }

Bytes encode_list(const std::vector<Bytes>& encoded_items) {
    std::size_t payload = 0;
    for (const Bytes& item : encoded_items) payload += item.size();
    Bytes out = header(payload, kListBase);
    out.reserve(out.size() + payload);
    for (const Bytes& item : encoded_items) append(out, item);
    return out;
}

Bytes encode_list(std::initializer_list<Bytes> encoded_items) { return encode_list(std::vector<Bytes>(encoded_items)); }

}  // namespace medchain::rlp
