#include <gtest/gtest.h>

#include "medchain/address.hpp"
#include "medchain/nonce_manager.hpp"
#include "support/scripted_transport.hpp"

namespace medchain {
namespace {

TEST(NonceManager, AsksThePendingCountOnceThenCountsLocally) {
    test::ScriptedTransport transport;
    JsonRpcClient rpc(transport);
    EthClient eth(rpc);
    const Address account = parse_address("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    NonceManager nonces(eth, account);

    transport.reply_result("0x7");
    EXPECT_EQ(nonces.next(), 7u);
    EXPECT_EQ(transport.requests.back().at("params").at(1), "pending");
    EXPECT_EQ(nonces.next(), 7u);  // not used yet
    nonces.mark_used(7);
    EXPECT_EQ(nonces.next(), 8u);
    nonces.mark_used(3);  // an old one confirming late never moves it back
    EXPECT_EQ(nonces.next(), 8u);
    EXPECT_EQ(transport.requests.size(), 1u);

    nonces.invalidate();  // "nonce too low"
    transport.reply_result("0xc");
    EXPECT_EQ(nonces.next(), 12u);
    EXPECT_EQ(transport.requests.size(), 2u);
}

}  // namespace
}  // namespace medchain
