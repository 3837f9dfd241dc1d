#include <gtest/gtest.h>

#include "medchain/address.hpp"
#include "medchain/hex.hpp"
#include "medchain/transaction.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

using nlohmann::json;

void expect_signed(const json& c, const Hash& signing_hash, const SignedTransaction& signed_tx) {
    EXPECT_EQ(to_hex(signing_hash), c.at("signing_hash").get<std::string>());
    EXPECT_EQ(to_hex(signed_tx.signature.r), c.at("r").get<std::string>());
    EXPECT_EQ(to_hex(signed_tx.signature.s), c.at("s").get<std::string>());
    EXPECT_EQ(to_hex(signed_tx.raw), c.at("raw").get<std::string>());
    EXPECT_EQ(to_hex(signed_tx.hash), c.at("hash").get<std::string>());
}

TEST(Transaction, MatchesAlloyVectors) {
    const auto& cases = test::vectors().at("transactions");
    ASSERT_GE(cases.size(), 6u);
    std::size_t legacy = 0;
    std::size_t eip1559 = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.at("name").get<std::string>());
        const Signer signer(fixed_from_hex<32>(c.at("private_key").get<std::string>()));
        EXPECT_EQ(to_hex(signer.address()), c.at("from").get<std::string>());
        if (c.at("type") == "legacy") {
            ++legacy;
            LegacyTransaction tx;
            tx.chain_id = c.at("chain_id").get<std::uint64_t>();
            tx.nonce = c.at("nonce").get<std::uint64_t>();
            tx.gas_price = U256::from_quantity(c.at("gas_price").get<std::string>());
            tx.gas_limit = c.at("gas_limit").get<std::uint64_t>();
            tx.to = parse_address(c.at("to").get<std::string>());
            tx.value = U256::from_quantity(c.at("value").get<std::string>());
            tx.data = from_hex(c.at("input").get<std::string>());
            const SignedTransaction signed_tx = sign_transaction(tx, signer);
            expect_signed(c, tx.signing_hash(), signed_tx);
            EXPECT_EQ(tx.chain_id * 2 + 35 + signed_tx.signature.recovery_id, c.at("v").get<std::uint64_t>());
        } else {
            ++eip1559;
            Eip1559Transaction tx;
            tx.chain_id = c.at("chain_id").get<std::uint64_t>();
            tx.nonce = c.at("nonce").get<std::uint64_t>();
            tx.max_priority_fee_per_gas = U256::from_quantity(c.at("max_priority_fee_per_gas").get<std::string>());
            tx.max_fee_per_gas = U256::from_quantity(c.at("max_fee_per_gas").get<std::string>());
            tx.gas_limit = c.at("gas_limit").get<std::uint64_t>();
            tx.to = parse_address(c.at("to").get<std::string>());
            tx.value = U256::from_quantity(c.at("value").get<std::string>());
            tx.data = from_hex(c.at("input").get<std::string>());
            const SignedTransaction signed_tx = sign_transaction(tx, signer);
            expect_signed(c, tx.signing_hash(), signed_tx);
            EXPECT_EQ(signed_tx.signature.recovery_id, c.at("y_parity").get<int>());
            EXPECT_EQ(signed_tx.raw.front(), 0x02);
        }
    }
    EXPECT_GE(legacy, 3u);
    EXPECT_GE(eip1559, 3u);
}

TEST(Transaction, Eip155SpecExample) {
    // https://eips.ethereum.org/EIPS/eip-155, independent of the generated file.
    LegacyTransaction tx;
    tx.chain_id = 1;
    tx.nonce = 9;
    tx.gas_price = U256(20'000'000'000);
    tx.gas_limit = 21'000;
    tx.to = parse_address("0x3535353535353535353535353535353535353535");
    tx.value = U256::from_decimal("1000000000000000000");
    EXPECT_EQ(to_hex(tx.signing_hash()), "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
    Bytes32 key{};
    key.fill(0x46);
    const SignedTransaction signed_tx = sign_transaction(tx, Signer(key));
    EXPECT_EQ(to_hex(signed_tx.raw),
              "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd9"
              "39bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b29"
              "7fb1966a3b6d83");
}

}  // namespace
}  // namespace medchain
