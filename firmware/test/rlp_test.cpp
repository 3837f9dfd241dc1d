#include <gtest/gtest.h>

#include "medchain/hex.hpp"
#include "medchain/rlp.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

// Encodes a vectors.json item ({"bytes"}, {"uint"} or {"list"}) with the core.
Bytes encode(const nlohmann::json& item) {
    if (item.contains("bytes")) return rlp::encode_bytes(from_hex(item.at("bytes").get<std::string>()));
    if (item.contains("uint")) return rlp::encode_uint(U256::from_quantity(item.at("uint").get<std::string>()));
    std::vector<Bytes> encoded;
    for (const auto& child : item.at("list")) encoded.push_back(encode(child));
    return rlp::encode_list(encoded);
}

TEST(Rlp, MatchesAlloyVectors) {
    const auto& cases = test::vectors().at("rlp");
    ASSERT_GE(cases.size(), 20u);
    for (const auto& c : cases) {
        EXPECT_EQ(to_hex(encode(c.at("item"))), c.at("encoded").get<std::string>()) << c.at("item").dump();
    }
}

TEST(Rlp, YellowPaperExamples) {
    EXPECT_EQ(to_hex(rlp::encode_bytes("dog")), "0x83646f67");
    EXPECT_EQ(to_hex(rlp::encode_list({rlp::encode_bytes("cat"), rlp::encode_bytes("dog")})), "0xc88363617483646f67");
    EXPECT_EQ(to_hex(rlp::encode_bytes("")), "0x80");
    EXPECT_EQ(to_hex(rlp::encode_list({})), "0xc0");
    EXPECT_EQ(to_hex(rlp::encode_uint(0)), "0x80");
    EXPECT_EQ(to_hex(rlp::encode_uint(15)), "0x0f");
    EXPECT_EQ(to_hex(rlp::encode_uint(1024)), "0x820400");
}

TEST(Rlp, SingleByteBelow0x80IsItsOwnEncoding) {
    EXPECT_EQ(to_hex(rlp::encode_bytes(Bytes{0x00})), "0x00");
    EXPECT_EQ(to_hex(rlp::encode_bytes(Bytes{0x7f})), "0x7f");
    EXPECT_EQ(to_hex(rlp::encode_bytes(Bytes{0x80})), "0x8180");
}

TEST(Rlp, LongStringAndListHeaders) {
    const Bytes long_string = rlp::encode_bytes(Bytes(56, 0xaa));
    EXPECT_EQ(to_hex(ByteSpan(long_string).subspan(0, 2)), "0xb838");
    EXPECT_EQ(long_string.size(), 58u);
    const Bytes big = rlp::encode_bytes(Bytes(1024, 0));
    EXPECT_EQ(to_hex(ByteSpan(big).subspan(0, 3)), "0xb90400");
    const Bytes list = rlp::encode_list({rlp::encode_bytes(Bytes(60, 1))});
    EXPECT_EQ(to_hex(ByteSpan(list).subspan(0, 2)), "0xf83e");
}

}  // namespace
}  // namespace medchain
