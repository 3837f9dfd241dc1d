#include <gtest/gtest.h>

#include "medchain/rpc_errors.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

TEST(RpcErrors, RevertReasonFromData) {
    const auto& c = test::vectors().at("revert_reasons").at(0);
    const RpcError error(3, "execution reverted", c.at("data"));
    EXPECT_EQ(revert_reason(error), c.at("reason").get<std::string>());
}

TEST(RpcErrors, RevertReasonFromMessage) {
    const RpcError error(-32000, "execution reverted: MedicalRecords: caller is not a registered device", nullptr);
    EXPECT_EQ(revert_reason(error), "MedicalRecords: caller is not a registered device");
}

TEST(RpcErrors, NoRevertReason) {
    EXPECT_FALSE(revert_reason(RpcError(-32000, "nonce too low", nullptr)).has_value());
    EXPECT_FALSE(revert_reason(RpcError(3, "execution reverted", "0xnothex")).has_value());
}

TEST(RpcErrors, ClassifiesSendErrors) {
    EXPECT_TRUE(is_nonce_too_low(RpcError(-32000, "nonce too low", nullptr)));
    EXPECT_TRUE(is_nonce_too_low(RpcError(-32000, "Nonce too low: next nonce 5, tx nonce 3", nullptr)));
    EXPECT_FALSE(is_nonce_too_low(RpcError(-32000, "nonce too high", nullptr)));
    EXPECT_TRUE(is_already_known(RpcError(-32000, "already known", nullptr)));
    EXPECT_TRUE(is_already_known(RpcError(-32000, "known transaction: 0xabc", nullptr)));
    EXPECT_FALSE(is_already_known(RpcError(-32000, "replacement transaction underpriced", nullptr)));
}

}  // namespace
}  // namespace medchain
