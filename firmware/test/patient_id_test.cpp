#include <gtest/gtest.h>

#include "medchain/hex.hpp"
#include "medchain/keccak.hpp"
#include "medchain/patient_id.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

TEST(PatientId, MatchesMedchainRustSide) {
    const auto& cases = test::vectors().at("patient_ids");
    ASSERT_GE(cases.size(), 12u);
    for (const auto& c : cases) {
        const Bytes32 salt = fixed_from_hex<32>(c.at("salt").get<std::string>());
        EXPECT_EQ(to_hex(patient_id(salt, c.at("ssn").get<std::string>())), c.at("patient_id").get<std::string>())
            << c.dump();
    }
}

TEST(PatientId, IsKeccakOfSaltThenSsnBytes) {
    Bytes32 salt{};
    salt.fill(0x12);
    Bytes preimage(salt.begin(), salt.end());
    append(preimage, "123-45-6789");
    EXPECT_EQ(patient_id(salt, "123-45-6789"), keccak256(preimage));
}

TEST(PatientId, SaltSeparatesNetworks) {
    Bytes32 a{};
    Bytes32 b{};
    b[31] = 1;
    EXPECT_NE(patient_id(a, "123-45-6789"), patient_id(b, "123-45-6789"));
}

}  // namespace
}  // namespace medchain
