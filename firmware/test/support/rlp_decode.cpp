#include "support/rlp_decode.hpp"

#include <stdexcept>

namespace medchain::test {
namespace {

std::size_t read_length(ByteSpan data, std::size_t at, std::size_t length_of_length) {
    if (length_of_length > 8 || at + length_of_length > data.size()) throw std::runtime_error("rlp: bad length");
    if (data[at] == 0) throw std::runtime_error("rlp: length with leading zero");
    std::size_t length = 0;
    for (std::size_t i = 0; i < length_of_length; ++i) length = length << 8 | data[at + i];
    if (length <= 55) throw std::runtime_error("rlp: long form for a short payload");
    return length;
}

RlpItem decode_at(ByteSpan data, std::size_t& at) {
    if (at >= data.size()) throw std::runtime_error("rlp: truncated");
    const std::uint8_t prefix = data[at];
    RlpItem item;
    std::size_t payload = 0;
    std::size_t start = 0;
    if (prefix < 0x80) {
        item.bytes = {prefix};
        ++at;
        return item;
    }
    if (prefix <= 0xb7) {
        payload = prefix - 0x80u;
        start = at + 1;
    } else if (prefix < 0xc0) {
        payload = read_length(data, at + 1, prefix - 0xb7u);
        start = at + 1 + (prefix - 0xb7u);
    } else if (prefix <= 0xf7) {
        item.is_list = true;
        payload = prefix - 0xc0u;
        start = at + 1;
    } else {
        item.is_list = true;
        payload = read_length(data, at + 1, prefix - 0xf7u);
        start = at + 1 + (prefix - 0xf7u);
    }
    if (start + payload > data.size()) throw std::runtime_error("rlp: payload past the end");
    if (item.is_list) {
        std::size_t inner = start;
        while (inner < start + payload) item.items.push_back(decode_at(data.subspan(0, start + payload), inner));
    } else {
        item.bytes.assign(data.begin() + start, data.begin() + start + payload);
        if (payload == 1 && item.bytes[0] < 0x80) throw std::runtime_error("rlp: single byte not encoded as itself");
    }
    at = start + payload;
    return item;
}

}  // namespace

RlpItem rlp_decode(ByteSpan data) {
    std::size_t at = 0;
    RlpItem item = decode_at(data, at);
    if (at != data.size()) throw std::runtime_error("rlp: trailing bytes");
    return item;
}

std::uint64_t rlp_uint(const RlpItem& item) {
    if (item.is_list || item.bytes.size() > 8) throw std::runtime_error("rlp: not a 64-bit integer");
    if (!item.bytes.empty() && item.bytes[0] == 0) throw std::runtime_error("rlp: integer with leading zero");
    std::uint64_t value = 0;
    for (const std::uint8_t b : item.bytes) value = value << 8 | b;
    return value;
}

}  // namespace medchain::test
