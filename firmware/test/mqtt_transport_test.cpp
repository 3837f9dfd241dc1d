#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "medchain/json_rpc.hpp"
#include "medchain/mqtt_transport.hpp"
#include "support/fake_clock.hpp"

namespace medchain {
namespace {

using Json = nlohmann::json;

// A broker and gateway in one: records what is published and answers each
// request with what `answer` makes of it (nothing when it returns null).
class FakeLink : public MqttLink {
public:
    explicit FakeLink(test::FakeClock& clock) : clock_(clock) {}

    bool ensure_connected(const std::string& topic) override {
        subscribed = topic;
        return up;
    }
    bool publish(const std::string& topic, const std::string& payload) override {
        if (!up) return false;
        published.emplace_back(topic, payload);
        const Json reply = answer(Json::parse(payload));
        if (!reply.is_null()) inbox.push_back(reply.dump());
        return true;
    }
    std::optional<std::string> poll(std::uint32_t wait_ms) override {
        if (inbox.empty()) {
            clock_.advance(wait_ms);
            return std::nullopt;
        }
        std::string m = inbox.front();
        inbox.pop_front();
        return m;
    }

    bool up = true;
    std::string subscribed;
    std::vector<std::pair<std::string, std::string>> published;
    std::deque<std::string> inbox;
    std::function<Json(const Json&)> answer = [](const Json& r) {
        return Json{{"jsonrpc", "2.0"}, {"id", r["id"]}, {"result", "0x539"}};
    };

private:
    test::FakeClock& clock_;
};

const MqttTopics kTopics{"medchain/n/ward/devices/0xab/tx", "medchain/n/ward/devices/0xab/ack"};

TEST(MqttTransport, ARequestIsPublishedOnTheTxTopicAndAnsweredFromTheAckTopic) {
    test::FakeClock clock;
    FakeLink link(clock);
    MqttTransport transport(link, clock, kTopics, 0xabcdef01);
    JsonRpcClient rpc(transport);
    EXPECT_EQ(rpc.call("eth_chainId", Json::array()), "0x539");
    EXPECT_EQ(link.subscribed, kTopics.ack);
    ASSERT_EQ(link.published.size(), 1u);
    EXPECT_EQ(link.published[0].first, kTopics.tx);
    const Json sent = Json::parse(link.published[0].second);
    EXPECT_EQ(sent["id"], "abcdef01-1") << "an id unique to this boot on the wire";
    EXPECT_EQ(sent["method"], "eth_chainId");
}

TEST(MqttTransport, StaleAnswersAreSkippedAndTheCallersIdIsRestored) {
    test::FakeClock clock;
    FakeLink link(clock);
    link.answer = [](const Json& r) { return Json{{"jsonrpc", "2.0"}, {"id", r["id"]}, {"result", "0x1"}}; };
    link.inbox.push_back(R"({"jsonrpc":"2.0","id":"abcdef01-0","result":"0xdead"})");
    link.inbox.push_back("not json");
    MqttTransport transport(link, clock, kTopics, 0xabcdef01);
    const Json answer = Json::parse(transport.post(build_request(42, "eth_blockNumber", Json::array())));
    EXPECT_EQ(answer["id"], 42);
    EXPECT_EQ(answer["result"], "0x1");
}

TEST(MqttTransport, NoLinkOrNoAnswerIsATransportErrorWorthRetrying) {
    test::FakeClock clock;
    FakeLink link(clock);
    MqttTransport transport(link, clock, kTopics, 1, /*timeout_ms=*/5'000);
    link.up = false;
    EXPECT_THROW(transport.post(build_request(1, "eth_chainId", Json::array())), TransportError);
    link.up = true;
    link.answer = [](const Json&) { return Json(); };
    const std::uint64_t start = clock.now_ms();
    EXPECT_THROW(transport.post(build_request(2, "eth_chainId", Json::array())), TransportError);
    EXPECT_GE(clock.now_ms() - start, 5'000u);
    EXPECT_LT(clock.now_ms() - start, 6'000u);
}

TEST(MqttTransport, TheAckTopicIsTheTxTopicsSibling) {
    EXPECT_EQ(ack_topic_of("medchain/n/h/devices/0xab/tx"), "medchain/n/h/devices/0xab/ack");
    EXPECT_THROW(ack_topic_of("medchain/n/h/devices/0xab"), std::invalid_argument);
    EXPECT_THROW(ack_topic_of("/tx"), std::invalid_argument);
}

}  // namespace
}  // namespace medchain
