#include <gtest/gtest.h>

#include "medchain/hex.hpp"
#include "medchain/keccak.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

TEST(Keccak256, KnownAnswers) {
    EXPECT_EQ(to_hex(keccak256("")), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    EXPECT_EQ(to_hex(keccak256("abc")), "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45");
    // Not SHA3-256 (whose "" digest is a7ffc6f8...).
    EXPECT_NE(to_hex(keccak256("")).substr(0, 10), "0xa7ffc6f8");
}

TEST(Keccak256, MatchesAlloyVectors) {
    const auto& cases = test::vectors().at("keccak256");
    ASSERT_GE(cases.size(), 10u);
    for (const auto& c : cases) {
        const Bytes input = from_hex(c.at("input").get<std::string>());
        EXPECT_EQ(to_hex(keccak256(input)), c.at("hash").get<std::string>()) << "input length " << input.size();
    }
}

TEST(Keccak256, IncrementalEqualsOneShotAtEverySplit) {
    Bytes input(300);
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<std::uint8_t>(i * 7 + 3);
    const Hash expected = keccak256(input);
    for (std::size_t split = 0; split <= input.size(); ++split) {
        Keccak256 hasher;
        hasher.update(ByteSpan(input.data(), split));
        hasher.update(ByteSpan(input.data() + split, input.size() - split));
        EXPECT_EQ(hasher.finish(), expected) << "split at " << split;
    }
}

TEST(Keccak256, ManySmallUpdates) {
    const std::string text = "The quick brown fox jumps over the lazy dog";
    Keccak256 hasher;
    for (const char c : text) hasher.update(std::string_view(&c, 1));
    EXPECT_EQ(to_hex(hasher.finish()), "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");
}

}  // namespace
}  // namespace medchain
