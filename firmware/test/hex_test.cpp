#include <gtest/gtest.h>

#include "medchain/hex.hpp"

namespace medchain {
namespace {

TEST(Hex, EncodesLowerCaseWithOptionalPrefix) {
    const Bytes bytes{0x00, 0x0f, 0xab, 0xff};
    EXPECT_EQ(to_hex(bytes), "0x000fabff");
    EXPECT_EQ(to_hex(bytes, false), "000fabff");
    EXPECT_EQ(to_hex(Bytes{}), "0x");
}

TEST(Hex, DecodesWithOrWithoutPrefixAndAnyCase) {
    EXPECT_EQ(from_hex("0x000FabfF"), (Bytes{0x00, 0x0f, 0xab, 0xff}));
    EXPECT_EQ(from_hex("0X01"), (Bytes{0x01}));
    EXPECT_EQ(from_hex("01"), (Bytes{0x01}));
    EXPECT_EQ(from_hex("0x"), Bytes{});
    EXPECT_EQ(from_hex(""), Bytes{});
}

TEST(Hex, RejectsOddLengthAndBadDigits) {
    EXPECT_THROW(from_hex("0x123"), std::invalid_argument);
    EXPECT_THROW(from_hex("0xzz"), std::invalid_argument);
    EXPECT_THROW(from_hex("0x 1"), std::invalid_argument);
}

TEST(Hex, FixedSizeChecksLength) {
    EXPECT_EQ((fixed_from_hex<2>("0x0102")), (std::array<std::uint8_t, 2>{1, 2}));
    EXPECT_THROW(fixed_from_hex<2>("0x01"), std::invalid_argument);
    EXPECT_THROW(fixed_from_hex<2>("0x010203"), std::invalid_argument);
}

TEST(Quantity, FormatsMinimally) {
    EXPECT_EQ(to_quantity(0), "0x0");
    EXPECT_EQ(to_quantity(1), "0x1");
    EXPECT_EQ(to_quantity(0x400), "0x400");
    EXPECT_EQ(to_quantity(UINT64_MAX), "0xffffffffffffffff");
}

TEST(Quantity, ParsesAndRejects) {
    EXPECT_EQ(parse_quantity("0x0"), 0u);
    EXPECT_EQ(parse_quantity("0x539"), 1337u);
    EXPECT_EQ(parse_quantity("0x00ff"), 255u);
    EXPECT_EQ(parse_quantity("0xffffffffffffffff"), UINT64_MAX);
    EXPECT_THROW(parse_quantity("0x10000000000000000"), std::invalid_argument);
    EXPECT_THROW(parse_quantity("1337"), std::invalid_argument);
    EXPECT_THROW(parse_quantity("0x"), std::invalid_argument);
    EXPECT_THROW(parse_quantity("0xg"), std::invalid_argument);
}

}  // namespace
}  // namespace medchain
