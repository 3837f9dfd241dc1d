#include <gtest/gtest.h>

#include "medchain/hex.hpp"
#include "medchain/u256.hpp"

namespace medchain {
namespace {

const std::string kMaxDecimal = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

TEST(U256, QuantityRoundTrip) {
    EXPECT_EQ(U256().to_quantity(), "0x0");
    EXPECT_EQ(U256(255).to_quantity(), "0xff");
    EXPECT_EQ(U256::from_quantity("0x1bc16d674ec80000").to_decimal(), "2000000000000000000");
    EXPECT_EQ(U256::from_quantity("0x0").to_quantity(), "0x0");
    EXPECT_EQ(U256::from_quantity("0x00001").to_quantity(), "0x1");
    const std::string max = "0x" + std::string(64, 'f');
    EXPECT_EQ(U256::from_quantity(max).to_quantity(), max);
    EXPECT_THROW(U256::from_quantity("0x1" + std::string(64, '0')), std::invalid_argument);
    EXPECT_THROW(U256::from_quantity("12"), std::invalid_argument);
}

TEST(U256, DecimalRoundTrip) {
    EXPECT_EQ(U256::from_decimal("0").to_decimal(), "0");
    EXPECT_EQ(U256::from_decimal("18446744073709551616").to_quantity(), "0x10000000000000000");
    EXPECT_EQ(U256::from_decimal(kMaxDecimal).to_quantity(), "0x" + std::string(64, 'f'));
    EXPECT_THROW(U256::from_decimal(kMaxDecimal.substr(0, kMaxDecimal.size() - 1) + "6"), std::invalid_argument);
    EXPECT_THROW(U256::from_decimal(""), std::invalid_argument);
    EXPECT_THROW(U256::from_decimal("12a"), std::invalid_argument);
}

TEST(U256, BigEndianBytes) {
    const U256 value = U256::from_quantity("0x0102030405060708090a");
    EXPECT_EQ(to_hex(value.to_minimal_big_endian()), "0x0102030405060708090a");
    EXPECT_EQ(to_hex(value.to_big_endian()), "0x" + std::string(44, '0') + "0102030405060708090a");
    EXPECT_EQ(U256::from_big_endian(value.to_big_endian()), value);
    EXPECT_TRUE(U256().to_minimal_big_endian().empty());
    EXPECT_THROW(U256::from_big_endian(Bytes(33, 1)), std::invalid_argument);
}

TEST(U256, ArithmeticCarriesAcrossLimbs) {
    const U256 low_max(UINT64_MAX);
    EXPECT_EQ((low_max + U256(1)).to_quantity(), "0x10000000000000000");
    EXPECT_EQ(low_max.mul_small(2).to_quantity(), "0x1fffffffffffffffe");
    EXPECT_EQ((U256::from_decimal(kMaxDecimal) + U256(1)), U256());  // wraps
    std::uint32_t remainder = 0;
    EXPECT_EQ(U256::from_decimal("1000000000000000000007").div_small(10, &remainder).to_decimal(),
              "100000000000000000000");
    EXPECT_EQ(remainder, 7u);
    EXPECT_THROW(U256(1).div_small(0), std::domain_error);
}

TEST(U256, ComparesAndNarrows) {
    EXPECT_LT(U256(1), U256(2));
    EXPECT_GT(U256::from_quantity("0x10000000000000000"), U256(UINT64_MAX));
    EXPECT_TRUE(U256(UINT64_MAX).fits_u64());
    EXPECT_FALSE(U256::from_quantity("0x10000000000000000").fits_u64());
    EXPECT_EQ(U256(42).low_u64(), 42u);
    EXPECT_TRUE(U256().is_zero());
}

}  // namespace
}  // namespace medchain
