#include "medchain/abi.hpp"

#include <algorithm>

#include "medchain/keccak.hpp"

namespace medchain::abi {
namespace {

bool all_equal(ByteSpan bytes, std::uint8_t value) {
    return std::all_of(bytes.begin(), bytes.end(), [value](std::uint8_t b) { return b == value; });
}

std::uint64_t low_u64(ByteSpan word) {
    std::uint64_t v = 0;
    for (std::size_t i = kWordSize - 8; i < kWordSize; ++i) v = v << 8 | word[i];
    return v;
}

constexpr Selector kErrorString = {0x08, 0xc3, 0x79, 0xa0};  // Error(string)

}  // namespace

Selector selector(std::string_view signature) {
    const Hash hash = keccak256(signature);
    return {hash[0], hash[1], hash[2], hash[3]};
}

Bytes32 address_word(const Address& address) {
    Bytes32 word{};
    std::copy(address.begin(), address.end(), word.begin() + static_cast<std::ptrdiff_t>(kWordSize - address.size()));
    return word;
}

CallEncoder::CallEncoder(std::string_view signature) {
    const Selector sel = selector(signature);
    data_.assign(sel.begin(), sel.end());
}

CallEncoder& CallEncoder::add_uint(const U256& value) {
    append(data_, value.to_big_endian());
    return *this;
}

CallEncoder& CallEncoder::add_int(std::int64_t value) {
    Bytes32 word{};
    word.fill(value < 0 ? 0xff : 0x00);
    const auto bits = static_cast<std::uint64_t>(value);
    for (std::size_t i = 0; i < 8; ++i) word[31 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
    append(data_, word);
    return *this;
}

CallEncoder& CallEncoder::add_address(const Address& value) {
    append(data_, address_word(value));
    return *this;
}

CallEncoder& CallEncoder::add_bytes32(const Bytes32& value) {
    append(data_, value);
    return *this;
}

CallEncoder& CallEncoder::add_bool(bool value) { return add_uint(U256(value ? 1 : 0)); }

ByteSpan Decoder::word(std::size_t offset) const {
    if (offset > data_.size() || data_.size() - offset < kWordSize) {
        throw AbiError("ABI data too short: need a word at " + std::to_string(offset) + " of " +
                       std::to_string(data_.size()) + " bytes");
    }
    return data_.subspan(offset, kWordSize);
}

U256 Decoder::uint256_at(std::size_t offset) const { return U256::from_big_endian(word(offset)); }

std::uint64_t Decoder::uint_at(std::size_t offset, unsigned bits) const {
    const ByteSpan w = word(offset);
    const std::uint64_t value = low_u64(w);
    const bool high_clear = all_equal(w.subspan(0, kWordSize - 8), 0);
    if (!high_clear || (bits < 64 && (value >> bits) != 0)) {
        throw AbiError("ABI value at " + std::to_string(offset) + " does not fit uint" + std::to_string(bits));
    }
    return value;
}

std::int64_t Decoder::int_at(std::size_t offset, unsigned bits) const {
    const ByteSpan w = word(offset);
    const auto value = static_cast<std::int64_t>(low_u64(w));
    const std::uint8_t fill = value < 0 ? 0xff : 0x00;
    const std::int64_t limit = bits < 64 ? (std::int64_t{1} << (bits - 1)) : 0;
    const bool in_range = bits >= 64 || (value >= -limit && value < limit);
    if (!all_equal(w.subspan(0, kWordSize - 8), fill) || !in_range) {
        throw AbiError("ABI value at " + std::to_string(offset) + " does not fit int" + std::to_string(bits));
    }
    return value;
}

Address Decoder::address_at(std::size_t offset) const {
    const ByteSpan w = word(offset);
    if (!all_equal(w.subspan(0, 12), 0)) throw AbiError("ABI address with dirty high bytes");
    Address out{};
    std::copy(w.begin() + 12, w.end(), out.begin());
    return out;
}

Bytes32 Decoder::bytes32_at(std::size_t offset) const {
    const ByteSpan w = word(offset);
    Bytes32 out{};
    std::copy(w.begin(), w.end(), out.begin());
    return out;
}

bool Decoder::bool_at(std::size_t offset) const { return uint_at(offset, 1) != 0; }

std::size_t Decoder::offset_at(std::size_t offset) const {
    const U256 pointer = uint256_at(offset);
    if (!pointer.fits_u64() || pointer.low_u64() > data_.size()) {
        throw AbiError("ABI offset points past the end of the data");
    }
    return static_cast<std::size_t>(pointer.low_u64());
}

std::optional<std::string> decode_revert_reason(ByteSpan data) {
    if (data.size() < kErrorString.size() || !std::equal(kErrorString.begin(), kErrorString.end(), data.begin())) {
        return std::nullopt;
    }
    try {
        const Decoder args(data.subspan(4, data.size() - 4));
        const std::size_t at = args.offset_at(0);
        const U256 length = args.uint256_at(at);
        const std::size_t start = at + kWordSize;
        if (!length.fits_u64() || length.low_u64() > args.size() - start) return std::nullopt;
        const ByteSpan text = data.subspan(4 + start, static_cast<std::size_t>(length.low_u64()));
        return std::string(text.begin(), text.end());
    } catch (const AbiError&) {
        return std::nullopt;
    }
}

}  // namespace medchain::abi
