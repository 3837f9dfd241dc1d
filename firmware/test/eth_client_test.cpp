#include <gtest/gtest.h>

#include "medchain/address.hpp"
#include "medchain/eth_client.hpp"
#include "medchain/hex.hpp"
#include "support/scripted_transport.hpp"

namespace medchain {
namespace {

class EthClientTest : public ::testing::Test {
protected:
    test::ScriptedTransport transport;
    JsonRpcClient rpc{transport};
    EthClient eth{rpc};
    const Address device = parse_address("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
    const Address contract = parse_address("0x5fbdb2315678afecb367f032d93f642f64180aa3");

    const Json& last() const { return transport.requests.back(); }
};

TEST_F(EthClientTest, SimpleQuantities) {
    transport.reply_result("0x539");
    EXPECT_EQ(eth.chain_id(), 1337u);
    EXPECT_EQ(last().at("method"), "eth_chainId");

    transport.reply_result("0x5");
    EXPECT_EQ(eth.transaction_count(device, "pending"), 5u);
    EXPECT_EQ(last().at("params"), Json::array({"0x7e5f4552091a69125d5dfcb7b8c2659029395bdf", "pending"}));

    transport.reply_result("0x3b9aca00");
    EXPECT_EQ(eth.gas_price(), U256(1'000'000'000));
    transport.reply_result("0x1");
    EXPECT_EQ(eth.max_priority_fee_per_gas(), U256(1));
}

TEST_F(EthClientTest, BaseFeeOnlyAfterLondon) {
    transport.reply_result(Json{{"number", "0x10"}, {"baseFeePerGas", "0x7"}});
    EXPECT_EQ(eth.latest_base_fee(), U256(7));
    EXPECT_EQ(last().at("params"), Json::array({"latest", false}));
    transport.reply_result(Json{{"number", "0x10"}});
    EXPECT_FALSE(eth.latest_base_fee().has_value());
}

TEST_F(EthClientTest, CallAndEstimateSendFromToData) {
    transport.reply_result("0x00ff");
    EXPECT_EQ(eth.call({device, contract, Bytes{0xe7, 0xb4}}), (Bytes{0x00, 0xff}));
    EXPECT_EQ(last().at("method"), "eth_call");
    EXPECT_EQ(last().at("params"),
              Json::array({Json{{"from", to_hex(device)}, {"to", to_hex(contract)}, {"data", "0xe7b4"}}, "latest"}));
    transport.reply_result("0x5208");
    EXPECT_EQ(eth.estimate_gas({device, contract, Bytes{}}), 21000u);
}

TEST_F(EthClientTest, SendRawTransaction) {
    const std::string hash = "0x" + std::string(64, 'a');
    transport.reply_result(hash);
    EXPECT_EQ(to_hex(eth.send_raw_transaction(Bytes{0x02, 0xc0})), hash);
    EXPECT_EQ(last().at("params"), Json::array({"0x02c0"}));
}

TEST_F(EthClientTest, ReceiptPendingThenMined) {
    const Hash tx{};
    transport.reply_result(nullptr);
    EXPECT_FALSE(eth.transaction_receipt(tx).has_value());

    const std::string topic = "0x" + std::string(64, '1');
    transport.reply_result(Json{{"transactionHash", to_hex(tx)},
                                {"blockNumber", "0x2a"},
                                {"status", "0x1"},
                                {"gasUsed", "0x5208"},
                                {"logs", Json::array({Json{{"address", to_hex(contract)},
                                                           {"topics", Json::array({topic})},
                                                           {"data", "0x01"},
                                                           {"blockNumber", "0x2a"},
                                                           {"transactionHash", to_hex(tx)}}})}});
    const auto receipt = eth.transaction_receipt(tx);
    ASSERT_TRUE(receipt.has_value());
    EXPECT_TRUE(receipt->success);
    EXPECT_EQ(receipt->block_number, 42u);
    EXPECT_EQ(receipt->gas_used, 21000u);
    ASSERT_EQ(receipt->logs.size(), 1u);
    EXPECT_EQ(receipt->logs[0].address, contract);
    EXPECT_EQ(to_hex(receipt->logs[0].topics.at(0)), topic);
    EXPECT_EQ(receipt->logs[0].data, Bytes{0x01});
}

TEST_F(EthClientTest, FailedReceipt) {
    transport.reply_result(Json{{"transactionHash", "0x" + std::string(64, '0')},
                                {"blockNumber", "0x1"},
                                {"status", "0x0"},
                                {"gasUsed", "0x1"},
                                {"logs", Json::array()}});
    EXPECT_FALSE(eth.transaction_receipt(Hash{})->success);
}

TEST_F(EthClientTest, LogsFilterUsesNullForWildcards) {
    transport.reply_result(Json::array());
    LogFilter filter;
    filter.address = contract;
    filter.topics = {Hash{}, std::nullopt};
    filter.from_block = 16;
    EXPECT_TRUE(eth.logs(filter).empty());
    const Json& params = last().at("params").at(0);
    EXPECT_EQ(params.at("address"), to_hex(contract));
    EXPECT_EQ(params.at("topics"), Json::array({to_hex(Hash{}), nullptr}));
    EXPECT_EQ(params.at("fromBlock"), "0x10");
    EXPECT_EQ(params.at("toBlock"), "latest");
}

TEST_F(EthClientTest, MalformedValuesAreProtocolErrors) {
    transport.reply_result(1337);
    EXPECT_THROW(eth.chain_id(), ProtocolError);
    transport.reply_result("0xzz");
    EXPECT_THROW(eth.chain_id(), ProtocolError);
    transport.reply_result("0x1234");
    EXPECT_THROW(eth.send_raw_transaction(Bytes{}), ProtocolError);  // not 32 bytes
    transport.reply_result(Json{{"status", "0x1"}});
    EXPECT_THROW(eth.transaction_receipt(Hash{}), ProtocolError);
}

TEST_F(EthClientTest, NodeErrorsAreRpcErrors) {
    transport.reply_error(-32000, "nonce too low");
    EXPECT_THROW(eth.send_raw_transaction(Bytes{0x01}), RpcError);
}

}  // namespace
}  // namespace medchain
