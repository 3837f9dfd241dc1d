// The outbox-to-chain pipeline against the in-process fake node: the
// guarantees of firmware/README.md ("nothing lost, nothing written twice")
// under link failures, lost responses, reboots and node restarts.
#include <gtest/gtest.h>

#include <memory>

#include "medchain/hex.hpp"
#include "medchain/memory_storage.hpp"
#include "medchain/patient_id.hpp"
#include "medchain/record_uploader.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_node.hpp"

namespace medchain {
namespace {

Bytes32 test_key() { return fixed_from_hex<32>("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"); }

class RecordUploaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        Bytes32 salt{};
        salt.fill(0x12);
        patient = patient_id(salt, "123-45-6789");
        node.devices[signer.address()] = test::FakeNode::Device{patient, 0, true};
        boot();
    }

    // A (re)boot: fresh RAM state over the same flash.
    void boot() {
        uploader.reset();
        outbox = std::make_unique<Outbox>(storage);
        uploader = std::make_unique<RecordUploader>(eth, signer, *outbox, clock, node.contract, 1337, options);
    }

    VitalSigns reading(std::uint16_t heart_rate) const { return VitalSigns{heart_rate, 97, 121, 79, 3650}; }

    void record(std::uint16_t heart_rate) {
        uploader->record(patient, reading(heart_rate), 1'700'000'000'000 + heart_rate);
    }

    std::vector<Confirmation> drain(std::uint64_t timeout_ms = 120'000) {
        std::vector<Confirmation> out;
        drained = uploader->drain(timeout_ms, [&](const Confirmation& c) { out.push_back(c); });
        return out;
    }

    // Polls until the node's pool holds a transaction (or gives up).
    void poll_until_sent() {
        for (int i = 0; i < 20 && node.pool.empty(); ++i) {
            uploader->poll();
            clock.advance(options.receipt_poll_ms);
        }
        ASSERT_FALSE(node.pool.empty()) << uploader->last_error();
    }

    std::size_t stored_entries() {
        std::size_t n = 0;
        for (const std::string& key : storage.keys()) n += key[0] == 'r' ? 1 : 0;
        return n;
    }

    test::FakeNode node;
    JsonRpcClient rpc{node};
    EthClient eth{rpc};
    Signer signer{test_key()};
    MemoryStorage storage;
    test::FakeClock clock;
    UploaderOptions options;
    Bytes32 patient{};
    std::unique_ptr<Outbox> outbox;
    std::unique_ptr<RecordUploader> uploader;
    bool drained = false;
};

TEST_F(RecordUploaderTest, DeliversReadingsInOrderWithEip1559) {
    node.auto_mine = true;
    record(70);
    record(71);
    record(72);
    const auto confirmations = drain();
    ASSERT_TRUE(drained) << uploader->last_error();
    ASSERT_EQ(confirmations.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(confirmations[i].sequence, i + 1);
        ASSERT_TRUE(confirmations[i].record_id.has_value());
        EXPECT_EQ(*confirmations[i].record_id, U256(i));
        ASSERT_TRUE(confirmations[i].tx_hash.has_value());
        EXPECT_EQ(*confirmations[i].tx_hash, node.included[i].hash);
        EXPECT_EQ(confirmations[i].block_number, node.block_number - 2 + i);
        EXPECT_FALSE(confirmations[i].found_on_chain);
    }
    ASSERT_EQ(node.records.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(node.records[i].sequence, i + 1);
        EXPECT_EQ(node.records[i].vitals, reading(static_cast<std::uint16_t>(70 + i)));
        EXPECT_EQ(node.records[i].device, signer.address());
        EXPECT_TRUE(node.included[i].typed);
        EXPECT_EQ(node.included[i].nonce, i);
        EXPECT_EQ(node.included[i].gas_limit, 108'000u);  // estimate + 20%
    }
    EXPECT_TRUE(outbox->empty());
    EXPECT_EQ(stored_entries(), 0u);
    EXPECT_EQ(node.calls("eth_getTransactionCount"), 1u);  // nonce asked once, then counted
}

TEST_F(RecordUploaderTest, UsesLegacyTransactionsBeforeLondon) {
    node.auto_mine = true;
    node.base_fee.reset();
    record(70);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    ASSERT_EQ(node.included.size(), 1u);
    EXPECT_FALSE(node.included[0].typed);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, QueuesWhileTheLinkIsDownWithBackoffThenDelivers) {
    node.auto_mine = true;
    node.fail_requests = 1'000'000;
    record(70);
    record(71);
    EXPECT_TRUE(drain(20'000).empty());
    EXPECT_FALSE(drained);
    EXPECT_NE(uploader->last_error().find("connection refused"), std::string::npos);
    EXPECT_EQ(outbox->size(), 2u);
    EXPECT_EQ(stored_entries(), 2u);
    ASSERT_GE(clock.sleeps.size(), 5u);
    EXPECT_EQ(std::vector<std::uint64_t>(clock.sleeps.begin(), clock.sleeps.begin() + 5),
              (std::vector<std::uint64_t>{500, 1000, 2000, 4000, 8000}));

    node.fail_requests = 0;
    const auto confirmations = drain();
    ASSERT_TRUE(drained);
    ASSERT_EQ(confirmations.size(), 2u);
    EXPECT_EQ(node.records.size(), 2u);
    EXPECT_TRUE(uploader->last_error().empty());
}

TEST_F(RecordUploaderTest, LostSendResponseDoesNotWriteTwice) {
    node.lose_response["eth_sendRawTransaction"] = 1;  // the node got it; the device never heard back
    record(70);
    poll_until_sent();
    EXPECT_FALSE(uploader->last_error().empty());
    // The device resends the very same bytes; the node already has them.
    clock.advance(60'000);
    uploader->poll();
    EXPECT_EQ(node.pool.size(), 1u);
    node.mine();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.included.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, LostResponseAfterMiningIsConfirmedByReceipt) {
    node.auto_mine = true;
    node.lose_response["eth_sendRawTransaction"] = 1;
    record(70);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(*confirmations[0].tx_hash, node.included[0].hash);
    EXPECT_EQ(node.included.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, RebootBetweenSigningAndSendingResendsTheSameTransaction) {
    node.fail_method["eth_sendRawTransaction"] = 1;  // power cut as it was about to go out
    record(70);
    uploader->poll();
    ASSERT_EQ(outbox->front().submission.has_value(), true);
    const Hash signed_hash = outbox->front().submission->tx_hash;
    EXPECT_TRUE(node.pool.empty());

    boot();
    node.auto_mine = true;
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(*confirmations[0].tx_hash, signed_hash);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, RebootWhileInFlightPicksUpTheReceipt) {
    record(70);
    record(71);
    poll_until_sent();
    boot();
    EXPECT_EQ(outbox->size(), 2u);
    node.mine();
    node.auto_mine = true;
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 2u);
    EXPECT_EQ(confirmations[0].sequence, 1u);
    EXPECT_EQ(confirmations[1].sequence, 2u);
    EXPECT_EQ(node.included.size(), 2u);
    EXPECT_EQ(node.records.size(), 2u);
}

TEST_F(RecordUploaderTest, NodeRestartThatDropsThePoolIsSurvivedByRebroadcast) {
    record(70);
    poll_until_sent();
    const Hash sent = node.pool.front().hash;
    node.drop_pool();
    uploader->poll();  // too early to give up on it
    EXPECT_TRUE(node.pool.empty());
    clock.advance(options.rebroadcast_after_ms);
    uploader->poll();
    ASSERT_EQ(node.pool.size(), 1u);
    EXPECT_EQ(node.pool.front().hash, sent);
    node.mine();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, ReadingAlreadyOnChainIsFoundByItsSequence) {
    // The device sent seq 1 and lost power; the node mined it but no longer
    // serves the receipt (geth's transaction index limit).
    record(70);
    poll_until_sent();
    node.mine();
    node.receipts.clear();
    boot();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_TRUE(confirmations[0].found_on_chain);
    EXPECT_EQ(confirmations[0].sequence, 1u);
    EXPECT_EQ(*confirmations[0].record_id, U256(0));
    EXPECT_EQ(*confirmations[0].tx_hash, node.included[0].hash);
    EXPECT_EQ(node.included.size(), 1u);  // nothing resent
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, ReadingAlreadyOnChainIsFoundInBoundedWindowsBack) {
    // As above, 2500 blocks later: the lookup walks back 1000 blocks at a
    // time (the fake node, like the gateway, refuses wider eth_getLogs).
    record(70);
    poll_until_sent();
    node.mine();
    node.receipts.clear();
    node.block_number += 2'500;
    boot();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_TRUE(confirmations[0].found_on_chain);
    EXPECT_EQ(*confirmations[0].tx_hash, node.included[0].hash);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, WipedFlashRenumbersAboveTheChainsSequence) {
    node.devices[signer.address()].last_sequence = 10;
    node.auto_mine = true;
    record(70);
    EXPECT_EQ(outbox->front().sequence, 1u);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(confirmations[0].sequence, 11u);
    ASSERT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.records[0].sequence, 11u);
    EXPECT_FALSE(confirmations[0].found_on_chain);
}

TEST_F(RecordUploaderTest, UnregisteredDeviceKeepsReadingsUntilRegistered) {
    node.devices.clear();
    node.auto_mine = true;
    record(70);
    EXPECT_TRUE(drain(10'000).empty());
    EXPECT_NE(uploader->last_error().find("caller is not a registered device"), std::string::npos);
    EXPECT_EQ(node.calls("eth_sendRawTransaction"), 0u);  // refused at estimate: no gas spent
    EXPECT_EQ(outbox->size(), 1u);

    node.devices[signer.address()] = test::FakeNode::Device{patient, 0, true};
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
}

TEST_F(RecordUploaderTest, RefusesAnotherChain) {
    node.chain_id = 1;
    node.auto_mine = true;
    record(70);
    EXPECT_TRUE(drain(5'000).empty());
    EXPECT_NE(uploader->last_error().find("provisioned for chain 1337"), std::string::npos);
    EXPECT_EQ(node.calls("eth_sendRawTransaction"), 0u);
}

TEST_F(RecordUploaderTest, NonceTooLowResyncsFromTheNode) {
    node.auto_mine = true;
    record(70);
    ASSERT_EQ(drain().size(), 1u);
    node.mined_nonces[signer.address()] = 5;  // the key was used elsewhere meanwhile
    record(71);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(confirmations[0].sequence, 2u);
    EXPECT_EQ(node.included.back().nonce, 5u);
    EXPECT_EQ(node.records.size(), 2u);
    EXPECT_EQ(node.calls("eth_getTransactionCount"), 2u);
}

TEST_F(RecordUploaderTest, RevertedTransactionIsSignedAgainLater) {
    record(70);
    poll_until_sent();
    node.devices[signer.address()].active = false;  // revoked while in flight
    node.mine();
    uploader->poll();
    EXPECT_NE(uploader->last_error().find("reverted"), std::string::npos);
    EXPECT_EQ(outbox->size(), 1u);

    node.devices[signer.address()].active = true;  // re-registered
    node.auto_mine = true;
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.included.size(), 2u);  // the reverted attempt and the good one
    EXPECT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.included[1].nonce, 1u);
}

TEST_F(RecordUploaderTest, ReadingForAnotherPatientIsSetAsideNotBlocking) {
    node.auto_mine = true;
    Bytes32 mistyped{};
    mistyped.fill(0x99);
    uploader->record(mistyped, reading(70), 1);  // a mistyped SSN
    record(71);
    const auto confirmations = drain();
    ASSERT_TRUE(drained);
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(confirmations[0].sequence, 2u);
    EXPECT_EQ(uploader->rejected(), 1u);
    EXPECT_EQ(outbox->rejected_count(), 1u);
    EXPECT_TRUE(storage.read("x0000000000000001").has_value());  // kept for a person to look at
    ASSERT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.records[0].vitals, reading(71));
    EXPECT_EQ(node.calls("eth_sendRawTransaction"), 1u);
}

TEST_F(RecordUploaderTest, PollIsIdleWithNothingQueued) {
    EXPECT_FALSE(uploader->poll().has_value());
    EXPECT_TRUE(node.methods.empty());
    EXPECT_TRUE(drain(1'000).empty());
    EXPECT_TRUE(drained);
}

}  // namespace
}  // namespace medchain
