#include "medchain/keccak.hpp"

#include <algorithm>

namespace medchain {
namespace {

constexpr std::array<std::uint64_t, 24> kRoundConstants = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL, 0x000000000000808bULL,
    0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL, 0x0000000000000088ULL,
    0x0000000080008009ULL, 0x000000008000000aULL, 0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

// Rotation offsets and lane permutation of the combined rho and pi steps,
// following the lane order visited from lane 1.
constexpr std::array<unsigned, 24> kRho = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                           27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
constexpr std::array<unsigned, 24> kPi = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                          15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};

constexpr std::uint64_t rotl(std::uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

void keccak_f1600(std::array<std::uint64_t, 25>& a) {
    for (const std::uint64_t rc : kRoundConstants) {
        // theta
        std::array<std::uint64_t, 5> c{};
        for (unsigned x = 0; x < 5; ++x) {
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
        }
        for (unsigned x = 0; x < 5; ++x) {
            const std::uint64_t d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
            for (unsigned y = 0; y < 25; y += 5) a[y + x] ^= d;
        }
        // rho and pi
        std::uint64_t carried = a[1];
        for (unsigned i = 0; i < 24; ++i) {
            const unsigned j = kPi[i];
            const std::uint64_t next = a[j];
            a[j] = rotl(carried, kRho[i]);
            carried = next;
        }
        // chi
        for (unsigned y = 0; y < 25; y += 5) {
            std::array<std::uint64_t, 5> row{};
            for (unsigned x = 0; x < 5; ++x) row[x] = a[y + x];
            for (unsigned x = 0; x < 5; ++x) {
                a[y + x] = row[x] ^ (~row[(x + 1) % 5] & row[(x + 2) % 5]);
            }
        }
        // iota
        a[0] ^= rc;
    }
}

}  // namespace

void Keccak256::absorb_block(const std::uint8_t* block) {
    for (std::size_t lane = 0; lane < kRate / 8; ++lane) {
        std::uint64_t v = 0;
        for (unsigned b = 0; b < 8; ++b) {
            v |= static_cast<std::uint64_t>(block[lane * 8 + b]) << (8 * b);  // little-endian lanes
        }
        state_[lane] ^= v;
    }
    keccak_f1600(state_);
}

Keccak256& Keccak256::update(ByteSpan data) {
    const std::uint8_t* p = data.data();
    std::size_t left = data.size();
    if (buffered_ > 0) {
        const std::size_t take = std::min(left, kRate - buffered_);
        std::copy(p, p + take, buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_));
        buffered_ += take;
        p += take;
        left -= take;
        if (buffered_ < kRate) return *this;
        absorb_block(buffer_.data());
        buffered_ = 0;
    }
    for (; left >= kRate; p += kRate, left -= kRate) absorb_block(p);
    std::copy(p, p + left, buffer_.begin());
    buffered_ = left;
    return *this;
}

Hash Keccak256::finish() {
    std::fill(buffer_.begin() + static_cast<std::ptrdiff_t>(buffered_), buffer_.end(), 0);
    buffer_[buffered_] ^= 0x01;  // Keccak padding (SHA3 would use 0x06)
    buffer_[kRate - 1] ^= 0x80;
    absorb_block(buffer_.data());
    Hash out{};
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<std::uint8_t>(state_[i / 8] >> (8 * (i % 8)));
    }
    state_ = {};
    buffered_ = 0;
    return out;
}

Hash keccak256(ByteSpan data) { return Keccak256().update(data).finish(); }

}  // namespace medchain
