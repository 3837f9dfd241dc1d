#include <gtest/gtest.h>

#include "medchain/record_history.hpp"
#include "medchain/rpc_errors.hpp"
#include "support/fake_node.hpp"

namespace medchain {
namespace {

class RecordHistoryTest : public ::testing::Test {
protected:
    void SetUp() override {
        patient.fill(0x42);
        reader.fill(0x11);
        device.fill(0x22);
        for (std::uint16_t i = 0; i < 5; ++i) {
            test::FakeNode::StoredRecord r;
            r.patient = patient;
            r.vitals = VitalSigns{static_cast<std::uint16_t>(60 + i), 98, 120, 80, static_cast<std::int16_t>(-10 * i)};
            r.sequence = i + 1u;
            r.device = device;
            node.records.push_back(r);
        }
        Bytes32 other{};
        node.records.push_back(test::FakeNode::StoredRecord{other, {}, 0, 9, device, 0});
    }

    test::FakeNode node;
    JsonRpcClient rpc{node};
    EthClient eth{rpc};
    Bytes32 patient{};
    Address reader{};
    Address device{};
};

TEST_F(RecordHistoryTest, ReadsCountPagesAndTheLatest) {
    node.readers.push_back(reader);
    RecordHistory history(eth, node.contract, reader);
    EXPECT_EQ(history.count(patient), 5u);
    const auto page = history.page(patient, 1, 2);
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].vitals.heart_rate, 61);
    EXPECT_EQ(page[1].vitals.temperature_centi_c, -20);
    EXPECT_EQ(page[1].device, device);
    const auto latest = history.latest(patient, 3);
    ASSERT_EQ(latest.size(), 3u);
    EXPECT_EQ(latest.front().sequence, 3u);
    EXPECT_EQ(latest.back().sequence, 5u);
    EXPECT_EQ(history.latest(patient, 10).size(), 5u);
    EXPECT_TRUE(history.page(patient, 7, 2).empty());
}

TEST_F(RecordHistoryTest, UnauthorisedReaderGetsTheContractsReason) {
    RecordHistory history(eth, node.contract, reader);
    try {
        history.count(patient);
        FAIL() << "expected a revert";
    } catch (const RpcError& e) {
        EXPECT_EQ(revert_reason(e), "MedicalRecords: caller not authorized to read");
    }
}

}  // namespace
}  // namespace medchain
