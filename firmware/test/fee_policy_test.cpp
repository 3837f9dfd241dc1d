#include <gtest/gtest.h>

#include "medchain/fee_policy.hpp"
#include "support/scripted_transport.hpp"

namespace medchain {
namespace {

class FeePolicyTest : public ::testing::Test {
protected:
    test::ScriptedTransport transport;
    JsonRpcClient rpc{transport};
    EthClient eth{rpc};
};

TEST_F(FeePolicyTest, Eip1559WhenTheChainHasABaseFee) {
    transport.reply_result(Json{{"number", "0x1"}, {"baseFeePerGas", "0x3b9aca00"}});  // 1 gwei
    transport.reply_result("0x77359400");                                              // 2 gwei tip
    const Fees fees = quote_fees(eth);
    EXPECT_TRUE(fees.eip1559);
    EXPECT_EQ(fees.max_priority_fee_per_gas, U256(2'000'000'000));
    EXPECT_EQ(fees.max_fee_per_gas, U256(4'000'000'000));  // 2 * base + tip
}

TEST_F(FeePolicyTest, LegacyBeforeLondon) {
    transport.reply_result(Json{{"number", "0x1"}});
    transport.reply_result("0x4a817c800");
    const Fees fees = quote_fees(eth);
    EXPECT_FALSE(fees.eip1559);
    EXPECT_EQ(fees.gas_price, U256(20'000'000'000));
    EXPECT_EQ(transport.requests.back().at("method"), "eth_gasPrice");
}

TEST(GasLimit, AddsHeadroom) {
    EXPECT_EQ(gas_limit_with_headroom(100'000), 120'000u);
    EXPECT_EQ(gas_limit_with_headroom(21'001), 25'201u);
    FeeOptions none;
    none.gas_headroom_percent = 0;
    EXPECT_EQ(gas_limit_with_headroom(90'000, none), 90'000u);
}

}  // namespace
}  // namespace medchain
