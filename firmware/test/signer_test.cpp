#include <gtest/gtest.h>

#include "medchain/hex.hpp"
#include "medchain/signer.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

Bytes32 key(const std::string& hex) { return fixed_from_hex<32>(hex); }

TEST(Signer, DerivesPublicKeyAndAddressLikeAlloy) {
    for (const auto& k : test::vectors().at("keys")) {
        const Signer signer(key(k.at("private_key").get<std::string>()));
        EXPECT_EQ(to_hex(signer.public_key()), k.at("public_key").get<std::string>());
        EXPECT_EQ(to_hex(signer.address()), k.at("address").get<std::string>());
    }
}

TEST(Signer, Rfc6979SignaturesMatchAlloyByteForByte) {
    const auto& cases = test::vectors().at("signatures");
    ASSERT_GE(cases.size(), 9u);
    for (const auto& c : cases) {
        Signer signer(key(c.at("private_key").get<std::string>()));
        Bytes32 seed{};
        seed.fill(0x5a);
        signer.randomize(seed);  // blinding must not change the signature
        const Signature sig = signer.sign(fixed_from_hex<32>(c.at("hash").get<std::string>()));
        EXPECT_EQ(to_hex(sig.r), c.at("r").get<std::string>());
        EXPECT_EQ(to_hex(sig.s), c.at("s").get<std::string>());
        EXPECT_EQ(sig.recovery_id, c.at("recovery_id").get<int>());
    }
}

TEST(Signer, SignaturesHaveLowS) {
    // s <= n/2 (EIP-2); the high byte of n/2 is 0x7f.
    const Signer signer(key("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"));
    for (std::uint8_t i = 0; i < 32; ++i) {
        Hash digest{};
        digest.fill(i);
        EXPECT_LE(signer.sign(digest).s[0], 0x7f);
    }
}

TEST(Signer, RejectsInvalidKeys) {
    EXPECT_THROW(Signer(Bytes32{}), std::invalid_argument);
    // The curve order n and above are invalid.
    EXPECT_THROW(Signer(key("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")),
                 std::invalid_argument);
    EXPECT_NO_THROW(Signer(key("0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140")));
}

}  // namespace
}  // namespace medchain
