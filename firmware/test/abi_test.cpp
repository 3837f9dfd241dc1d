#include <gtest/gtest.h>

#include "medchain/abi.hpp"
#include "medchain/hex.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

Bytes word(const std::string& hex64) { return from_hex(hex64); }

TEST(Abi, Selector) {
    EXPECT_EQ(to_hex(abi::selector("transfer(address,uint256)")), "0xa9059cbb");
    EXPECT_EQ(to_hex(abi::selector("Error(string)")), "0x08c379a0");
}

TEST(Abi, EncodesStaticWords) {
    const Address address = fixed_from_hex<20>("0x00112233445566778899aabbccddeeff00112233");
    const Bytes data = abi::CallEncoder("f(uint256,int16,address,bool)")
                           .add_uint(U256(1))
                           .add_int(-2)
                           .add_address(address)
                           .add_bool(true)
                           .data();
    ASSERT_EQ(data.size(), 4u + 4 * 32);
    EXPECT_EQ(to_hex(ByteSpan(data).subspan(4, 32)), "0x" + std::string(63, '0') + "1");
    EXPECT_EQ(to_hex(ByteSpan(data).subspan(36, 32)), "0x" + std::string(62, 'f') + "fe");
    EXPECT_EQ(to_hex(ByteSpan(data).subspan(68, 32)), "0x000000000000000000000000" + to_hex(address, false));
    EXPECT_EQ(to_hex(ByteSpan(data).subspan(100, 32)), "0x" + std::string(63, '0') + "1");
}

TEST(Abi, DecoderRejectsValuesOutsideTheirType) {
    const Bytes too_big = word("0000000000000000000000000000000000000000000000000000000000010000");
    EXPECT_THROW(abi::Decoder(too_big).uint_at(0, 16), abi::AbiError);
    EXPECT_EQ(abi::Decoder(too_big).uint_at(0, 32), 0x10000u);

    const Bytes high_bits = word("0100000000000000000000000000000000000000000000000000000000000001");
    EXPECT_THROW(abi::Decoder(high_bits).uint_at(0, 64), abi::AbiError);
    EXPECT_THROW(abi::Decoder(high_bits).address_at(0), abi::AbiError);

    const Bytes minus_one = word("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    EXPECT_EQ(abi::Decoder(minus_one).int_at(0, 16), -1);
    const Bytes not_sign_extended = word("000000000000000000000000000000000000000000000000000000000000ffff");
    EXPECT_THROW(abi::Decoder(not_sign_extended).int_at(0, 16), abi::AbiError);
    const Bytes int16_min = word("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8000");
    EXPECT_EQ(abi::Decoder(int16_min).int_at(0, 16), -32768);
    const Bytes below_int16 = word("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7fff");
    EXPECT_THROW(abi::Decoder(below_int16).int_at(0, 16), abi::AbiError);

    const Bytes two = word("0000000000000000000000000000000000000000000000000000000000000002");
    EXPECT_THROW(abi::Decoder(two).bool_at(0), abi::AbiError);
}

TEST(Abi, DecoderRejectsShortDataAndWildOffsets) {
    EXPECT_THROW(abi::Decoder(Bytes(31, 0)).uint256_at(0), abi::AbiError);
    EXPECT_THROW(abi::Decoder(Bytes(32, 0)).uint256_at(1), abi::AbiError);
    const Bytes offset_past_end = word("0000000000000000000000000000000000000000000000000000000000000040");
    EXPECT_THROW(abi::Decoder(offset_past_end).offset_at(0), abi::AbiError);
}

TEST(Abi, RevertReasonsMatchAlloy) {
    for (const auto& c : test::vectors().at("revert_reasons")) {
        const auto reason = abi::decode_revert_reason(from_hex(c.at("data").get<std::string>()));
        ASSERT_TRUE(reason.has_value()) << c.dump();
        EXPECT_EQ(*reason, c.at("reason").get<std::string>());
    }
}

TEST(Abi, RevertReasonIgnoresOtherData) {
    EXPECT_FALSE(abi::decode_revert_reason(Bytes{}).has_value());
    EXPECT_FALSE(abi::decode_revert_reason(from_hex("0x4e487b71" + std::string(64, '0'))).has_value());  // Panic
    EXPECT_FALSE(abi::decode_revert_reason(from_hex("0x08c379a0")).has_value());                         // truncated
    // Length claims more bytes than there are.
    EXPECT_FALSE(
        abi::decode_revert_reason(from_hex("0x08c379a0" + std::string(62, '0') + "20" + std::string(62, '0') + "ff"))
            .has_value());
}

}  // namespace
}  // namespace medchain
