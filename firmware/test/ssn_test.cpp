#include <gtest/gtest.h>

#include "medchain/ssn.hpp"

namespace medchain {
namespace {

TEST(Ssn, KeypadDigitsTakeTheDashedForm) {
    EXPECT_EQ(canonical_ssn("123456789"), "123-45-6789");
    EXPECT_EQ(canonical_ssn("123-45-6789"), "123-45-6789");
    EXPECT_EQ(canonical_ssn(" 078051120 "), "078-05-1120");
}

TEST(Ssn, RejectsAnythingElse) {
    for (const char* bad : {"", "12345678", "1234567890", "123-456-789", "12a456789", "123-4a-6789", "123 45 6789"}) {
        EXPECT_FALSE(canonical_ssn(bad).has_value()) << bad;
    }
}

}  // namespace
}  // namespace medchain
