#include <gtest/gtest.h>

#include "medchain/address.hpp"
#include "medchain/hex.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

TEST(Address, FromPublicKeyAndChecksumMatchAlloy) {
    for (const auto& key : test::vectors().at("keys")) {
        const PublicKey public_key = fixed_from_hex<64>(key.at("public_key").get<std::string>());
        const Address address = address_from_public_key(public_key);
        EXPECT_EQ(to_hex(address), key.at("address").get<std::string>());
        EXPECT_EQ(to_checksum_address(address), key.at("checksum_address").get<std::string>());
    }
}

TEST(Address, Eip55Examples) {
    for (const char* text :
         {"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
          "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
        EXPECT_EQ(to_checksum_address(parse_address(text)), text);
    }
}

TEST(Address, ParseAcceptsUniformCaseAndRejectsBadChecksum) {
    EXPECT_NO_THROW(parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"));
    EXPECT_NO_THROW(parse_address("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED"));
    EXPECT_NO_THROW(parse_address("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"));
    EXPECT_THROW(parse_address("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"), std::invalid_argument);
    EXPECT_THROW(parse_address("0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea"), std::invalid_argument);
}

}  // namespace
}  // namespace medchain
