#include "medchain/content_id.hpp"

#include <sodium.h>

#include <algorithm>

#include "medchain/random_source.hpp"

namespace medchain::content_id {
namespace {

// CIDv1, raw codec, sha2-256, 32-byte digest: each a one-byte varint.
constexpr std::uint8_t kPrefix[] = {0x01, 0x55, 0x12, 0x20};
constexpr std::size_t kCidSize = sizeof kPrefix + 32;
// RFC 4648 base32, lower case (multibase "b"), no padding.
constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz234567";

std::string base32(ByteSpan bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    unsigned buffer = 0;
    int bits = 0;
    for (const std::uint8_t byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kAlphabet[(buffer >> bits) & 31u]);
        }
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31u]);
    return out;
}

std::optional<Bytes> unbase32(std::string_view text) {
    Bytes out;
    unsigned buffer = 0;
    int bits = 0;
    for (const char c : text) {
        const std::size_t value = kAlphabet.find(c);
        if (value == std::string_view::npos) return std::nullopt;
        buffer = (buffer << 5) | static_cast<unsigned>(value);
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>(buffer >> bits));
        }
    }
    // Leftover bits must be zero padding of the last character.
    if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

}  // namespace

Bytes32 digest(ByteSpan bytes) {
    ensure_sodium();
    Bytes32 out{};
    crypto_hash_sha256(out.data(), bytes.data(), bytes.size());
    return out;
}

std::string from_digest(const Bytes32& digest) {
    Bytes cid(std::begin(kPrefix), std::end(kPrefix));
    append(cid, digest);
    return "b" + base32(cid);
}

std::string of(ByteSpan bytes) { return from_digest(digest(bytes)); }

std::optional<Bytes32> parse(std::string_view cid) {
    if (cid.empty() || cid.front() != 'b') return std::nullopt;
    const auto bytes = unbase32(cid.substr(1));
    if (!bytes || bytes->size() != kCidSize || !std::equal(std::begin(kPrefix), std::end(kPrefix), bytes->begin())) {
        return std::nullopt;
    }
    Bytes32 out{};
    std::copy(bytes->begin() + sizeof kPrefix, bytes->end(), out.begin());
    return out;
}

}  // namespace medchain::content_id
