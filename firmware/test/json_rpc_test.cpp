#include <gtest/gtest.h>

#include "medchain/json_rpc.hpp"
#include "support/scripted_transport.hpp"

namespace medchain {
namespace {

TEST(JsonRpc, BuildsRequests) {
    const Json request = Json::parse(build_request(7, "eth_getTransactionCount", Json::array({"0xab", "pending"})));
    EXPECT_EQ(request, Json::parse(R"({"jsonrpc":"2.0","id":7,"method":"eth_getTransactionCount",
                                      "params":["0xab","pending"]})"));
}

TEST(JsonRpc, ParsesResults) {
    EXPECT_EQ(parse_response(R"({"jsonrpc":"2.0","id":3,"result":"0x539"})", 3), "0x539");
    EXPECT_TRUE(parse_response(R"({"jsonrpc":"2.0","id":3,"result":null})", 3).is_null());
}

TEST(JsonRpc, ErrorResponsesThrowRpcErrorWithData) {
    try {
        parse_response(R"({"jsonrpc":"2.0","id":1,"error":{"code":3,"message":"execution reverted: no",
                           "data":"0x08c379a0"}})",
                       1);
        FAIL() << "expected RpcError";
    } catch (const RpcError& e) {
        EXPECT_EQ(e.code(), 3);
        EXPECT_EQ(e.message(), "execution reverted: no");
        EXPECT_EQ(e.data(), "0x08c379a0");
    }
}

TEST(JsonRpc, MalformedResponsesThrowProtocolError) {
    EXPECT_THROW(parse_response("<html>bad gateway</html>", 1), ProtocolError);
    EXPECT_THROW(parse_response("[1,2]", 1), ProtocolError);
    EXPECT_THROW(parse_response(R"({"jsonrpc":"2.0","id":2,"result":"0x1"})", 1), ProtocolError);
    EXPECT_THROW(parse_response(R"({"jsonrpc":"2.0","id":1})", 1), ProtocolError);
    EXPECT_THROW(parse_response(R"({"jsonrpc":"2.0","id":1,"error":"boom"})", 1), ProtocolError);
}

TEST(JsonRpc, ClientNumbersRequestsAndPassesThroughTransportErrors) {
    test::ScriptedTransport transport;
    JsonRpcClient client(transport);
    transport.reply_result("0x1");
    transport.reply_result("0x2");
    transport.fail("link down");
    EXPECT_EQ(client.call("eth_blockNumber", Json::array()), "0x1");
    EXPECT_EQ(client.call("eth_blockNumber", Json::array()), "0x2");
    EXPECT_THROW(client.call("eth_blockNumber", Json::array()), TransportError);
    ASSERT_EQ(transport.requests.size(), 3u);
    EXPECT_NE(transport.requests[0].at("id"), transport.requests[1].at("id"));
}

}  // namespace
}  // namespace medchain
