// The uploader on a private network (PrivateRecords) against the fake node
// and its fake store: each reading sealed to the patient's current key,
// stored under its CID before addRecord names it, and the guarantees of
// firmware/README.md (nothing lost, nothing written twice) kept under lost
// answers, reboots, store refusals and a key rotation.
#include <gtest/gtest.h>

#include <memory>

#include "medchain/content_id.hpp"
#include "medchain/envelope.hpp"
#include "medchain/fhir_reading.hpp"
#include "medchain/hex.hpp"
#include "medchain/memory_storage.hpp"
#include "medchain/private_writer.hpp"
#include "medchain/record_uploader.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_node.hpp"

namespace medchain {
namespace {

Bytes32 test_key() { return fixed_from_hex<32>("0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"); }

// Two valid compressed secp256k1 points (G and 2G): the patient's data
// public keys for versions 1 and 2.
const char* const kKeyV1 = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";
const char* const kKeyV2 = "0x02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5";

std::uint32_t envelope_key_version(const Bytes& envelope) {
    return static_cast<std::uint32_t>(envelope.at(1)) << 24 | static_cast<std::uint32_t>(envelope.at(2)) << 16 |
           static_cast<std::uint32_t>(envelope.at(3)) << 8 | static_cast<std::uint32_t>(envelope.at(4));
}

class PrivateUploaderTest : public ::testing::Test {
protected:
    void SetUp() override {
        patient.fill(0xab);
        node.private_records = true;
        node.data_keys[1] = from_hex(kKeyV1);
        node.devices[signer.address()] = test::FakeNode::Device{patient, 0, true};
        boot();
    }

    // A (re)boot: fresh RAM state (no cached key) over the same flash.
    void boot() {
        uploader.reset();
        outbox = std::make_unique<Outbox>(storage);
        writer = std::make_unique<PrivateWriter>(eth, node, random, node.contract, signer.address(), node.store_url);
        uploader =
            std::make_unique<RecordUploader>(eth, signer, *outbox, clock, node.contract, 1337, options, writer.get());
    }

    // The patient revoked a consent: a new key version.
    void rotate_key() {
        node.key_version = 2;
        node.data_keys[2] = from_hex(kKeyV2);
    }

    VitalSigns reading(std::uint16_t heart_rate) const { return VitalSigns{heart_rate, 97, 121, 79, 3650}; }

    void record(std::uint16_t heart_rate) {
        uploader->record(patient, reading(heart_rate), 1'796'000'000'000 + heart_rate);
    }

    std::vector<Confirmation> drain(std::uint64_t timeout_ms = 120'000) {
        std::vector<Confirmation> out;
        drained = uploader->drain(timeout_ms, [&](const Confirmation& c) { out.push_back(c); });
        return out;
    }

    void poll_until_sent() {
        for (int i = 0; i < 20 && node.pool.empty(); ++i) {
            uploader->poll();
            clock.advance(options.receipt_poll_ms);
        }
        ASSERT_FALSE(node.pool.empty()) << uploader->last_error();
    }

    // The stored bytes a mined record names.
    const Bytes& blob_of(const test::FakeNode::StoredRecord& r) {
        return node.store.at(content_id::from_digest(r.cid_digest));
    }

    test::FakeNode node;
    JsonRpcClient rpc{node};
    EthClient eth{rpc};
    Signer signer{test_key()};
    SodiumRandom random;
    MemoryStorage storage;
    test::FakeClock clock;
    UploaderOptions options;
    Bytes32 patient{};
    std::unique_ptr<Outbox> outbox;
    std::unique_ptr<PrivateWriter> writer;
    std::unique_ptr<RecordUploader> uploader;
    bool drained = false;
};

TEST_F(PrivateUploaderTest, SealsStoresThenAddsRecordsInOrder) {
    node.auto_mine = true;
    record(70);
    record(71);
    record(72);
    const auto confirmations = drain();
    ASSERT_TRUE(drained) << uploader->last_error();
    ASSERT_EQ(confirmations.size(), 3u);
    ASSERT_EQ(node.records.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(confirmations[i].sequence, i + 1);
        ASSERT_TRUE(confirmations[i].record_id.has_value());
        EXPECT_EQ(*confirmations[i].record_id, U256(i));
        EXPECT_EQ(*confirmations[i].tx_hash, node.included[i].hash);
        const auto& r = node.records[i];
        EXPECT_EQ(r.sequence, i + 1);
        EXPECT_EQ(r.key_version, 1u);
        EXPECT_EQ(r.device_timestamp, 1'796'000'000'070u + i);
        // The chain names the stored bytes; they are an envelope of this
        // reading's document, sealed to version 1, with no plaintext.
        const Bytes& blob = blob_of(r);
        EXPECT_EQ(content_id::digest(blob), r.cid_digest);
        EXPECT_EQ(blob[0], envelope::kEnvelopeVersion);
        EXPECT_EQ(envelope_key_version(blob), 1u);
        const std::string document = fhir::reading_document(reading(static_cast<std::uint16_t>(70 + i)),
                                                            {patient, signer.address(), i + 1, r.device_timestamp});
        EXPECT_EQ(blob.size(), envelope::sealed_size(document.size()));
        EXPECT_EQ(std::string(blob.begin(), blob.end()).find("8867-4"), std::string::npos);
    }
    EXPECT_EQ(node.store.size(), 3u);
    EXPECT_EQ(node.records_without_blob, 0u);
    EXPECT_EQ(node.patients_calls, 1u);  // the key is read once, then cached
    EXPECT_TRUE(outbox->empty());
}

TEST_F(PrivateUploaderTest, RetiredKeyIsReadAgainAndTheReadingResealed) {
    node.auto_mine = true;
    record(70);
    ASSERT_EQ(drain().size(), 1u);
    rotate_key();  // between readings: the cached key is now stale
    record(71);
    const auto confirmations = drain();
    ASSERT_TRUE(drained) << uploader->last_error();
    ASSERT_EQ(confirmations.size(), 1u);
    ASSERT_EQ(node.records.size(), 2u);
    EXPECT_EQ(node.records[1].key_version, 2u);
    EXPECT_EQ(envelope_key_version(blob_of(node.records[1])), 2u);
    EXPECT_EQ(node.store.size(), 2u);  // the refused attempt stored nothing
    EXPECT_EQ(node.patients_calls, 2u);
}

TEST_F(PrivateUploaderTest, KeyRotatedInFlightIsResealedAfterTheRevert) {
    record(70);
    poll_until_sent();
    rotate_key();
    node.mine();  // reverts: sealed to version 1
    uploader->poll();
    EXPECT_NE(uploader->last_error().find("reverted"), std::string::npos) << uploader->last_error();
    node.auto_mine = true;
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    ASSERT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.records[0].sequence, 1u);
    EXPECT_EQ(node.records[0].key_version, 2u);
    EXPECT_EQ(node.store.size(), 2u);  // the first envelope is left unreferenced
}

TEST_F(PrivateUploaderTest, StoreRefusalKeepsTheReadingAndSpendsNoGas) {
    node.auto_mine = true;
    node.refuse_put = 1;
    record(70);
    uploader->poll();
    EXPECT_NE(uploader->last_error().find("the store refused"), std::string::npos) << uploader->last_error();
    EXPECT_EQ(node.calls("eth_sendRawTransaction"), 0u);
    EXPECT_EQ(outbox->size(), 1u);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.records_without_blob, 0u);
}

TEST_F(PrivateUploaderTest, LostStoreAnswerReseals) {
    node.auto_mine = true;
    node.lose_put_response = 1;  // stored, but the device never heard
    node.fail_put = 0;
    record(70);
    const auto confirmations = drain();
    ASSERT_TRUE(drained) << uploader->last_error();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.store.size(), 2u);  // an orphan envelope, and the one on chain
    EXPECT_EQ(node.records_without_blob, 0u);
}

TEST_F(PrivateUploaderTest, StoreUnreachableQueuesThenDelivers) {
    node.auto_mine = true;
    node.fail_put = 3;
    record(70);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.store.size(), 1u);
    EXPECT_EQ(node.puts, 1u);
}

TEST_F(PrivateUploaderTest, LostSendResponseDoesNotWriteTwice) {
    node.lose_response["eth_sendRawTransaction"] = 1;
    record(70);
    poll_until_sent();
    clock.advance(60'000);
    uploader->poll();  // the same bytes again: "already known"
    EXPECT_EQ(node.pool.size(), 1u);
    node.mine();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(node.included.size(), 1u);
    EXPECT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.puts, 1u);
}

TEST_F(PrivateUploaderTest, RebootBetweenSigningAndSendingResendsTheSameTransaction) {
    node.fail_method["eth_sendRawTransaction"] = 1;  // power cut as it was about to go out
    record(70);
    uploader->poll();
    ASSERT_TRUE(outbox->front().submission.has_value());
    const Hash signed_hash = outbox->front().submission->tx_hash;
    boot();
    node.auto_mine = true;
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(*confirmations[0].tx_hash, signed_hash);
    EXPECT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.puts, 1u);  // stored once, before signing
    EXPECT_EQ(node.records_without_blob, 0u);
}

TEST_F(PrivateUploaderTest, ReadingAlreadyOnChainIsFoundByItsRecordAddedEvent) {
    record(70);
    poll_until_sent();
    node.mine();
    node.receipts.clear();  // the node no longer serves the receipt
    boot();
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_TRUE(confirmations[0].found_on_chain);
    EXPECT_EQ(confirmations[0].sequence, 1u);
    ASSERT_TRUE(confirmations[0].record_id.has_value());
    EXPECT_EQ(*confirmations[0].record_id, U256(0));
    EXPECT_EQ(*confirmations[0].tx_hash, node.included[0].hash);
    EXPECT_EQ(node.included.size(), 1u);
}

TEST_F(PrivateUploaderTest, WipedFlashRenumbersAboveTheChainsSequence) {
    node.devices[signer.address()].last_sequence = 10;
    node.auto_mine = true;
    record(70);
    const auto confirmations = drain();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(confirmations[0].sequence, 11u);
    ASSERT_EQ(node.records.size(), 1u);
    EXPECT_EQ(node.records[0].sequence, 11u);
}

TEST_F(PrivateUploaderTest, ReadingForAnotherPatientIsSetAside) {
    node.auto_mine = true;
    Bytes32 other{};
    other.fill(0x99);
    uploader->record(other, reading(70), 1'796'000'000'000);
    record(71);
    const auto confirmations = drain();
    ASSERT_TRUE(drained) << uploader->last_error();
    ASSERT_EQ(confirmations.size(), 1u);
    EXPECT_EQ(confirmations[0].sequence, 2u);
    EXPECT_EQ(uploader->rejected(), 1u);
    EXPECT_EQ(node.store.size(), 1u);  // nothing stored for the refused one
}

TEST_F(PrivateUploaderTest, UnregisteredPatientKeepsTheReadingQueued) {
    node.key_version = 0;
    node.auto_mine = true;
    record(70);
    EXPECT_TRUE(drain(5'000).empty());
    EXPECT_NE(uploader->last_error().find("not registered"), std::string::npos) << uploader->last_error();
    EXPECT_EQ(outbox->size(), 1u);
    node.key_version = 1;
    EXPECT_EQ(drain().size(), 1u);
}

}  // namespace
}  // namespace medchain
