#include <gtest/gtest.h>

#include "medchain/memory_storage.hpp"
#include "medchain/outbox.hpp"

namespace medchain {
namespace {

// Counts writes, to check what reached storage when.
class RecordingStorage : public MemoryStorage {
public:
    void write(const std::string& key, const std::string& value) override {
        written.push_back(key);
        MemoryStorage::write(key, value);
    }
    std::vector<std::string> written;
};

Bytes32 patient(std::uint8_t tag) {
    Bytes32 p{};
    p.fill(tag);
    return p;
}

VitalSigns vitals(std::uint16_t heart_rate) { return VitalSigns{heart_rate, 98, 120, 80, -150}; }

TEST(Outbox, EnqueuePersistsBeforeReturning) {
    RecordingStorage storage;
    Outbox outbox(storage);
    const OutboxEntry& entry = outbox.enqueue(patient(1), vitals(70), 1234);
    EXPECT_EQ(entry.sequence, 1u);
    ASSERT_EQ(storage.written.size(), 2u);
    EXPECT_EQ(storage.written[0], entry.key);   // the reading first,
    EXPECT_EQ(storage.written[1], "next_seq");  // then the counter
    EXPECT_TRUE(storage.read(entry.key).has_value());
}

TEST(Outbox, ReloadsEverythingAfterAReboot) {
    MemoryStorage storage;
    {
        Outbox outbox(storage);
        outbox.enqueue(patient(1), vitals(70), 1000);
        outbox.enqueue(patient(1), vitals(71), 2000);
        OutboxEntry front = outbox.front();
        front.submission = Submission{Hash{0xab}, 5, Bytes{0x02, 0xc0}};
        front.broadcast = true;
        outbox.save_front(front);
    }
    Outbox reloaded(storage);
    ASSERT_EQ(reloaded.size(), 2u);
    const OutboxEntry& first = reloaded.entries()[0];
    EXPECT_EQ(first.sequence, 1u);
    EXPECT_EQ(first.patient, patient(1));
    EXPECT_EQ(first.vitals, vitals(70));
    EXPECT_EQ(first.device_timestamp, 1000u);
    EXPECT_TRUE(first.broadcast);
    ASSERT_TRUE(first.submission.has_value());
    EXPECT_EQ(first.submission->tx_hash, Hash{0xab});
    EXPECT_EQ(first.submission->nonce, 5u);
    EXPECT_EQ(first.submission->raw, (Bytes{0x02, 0xc0}));
    EXPECT_EQ(reloaded.entries()[1].sequence, 2u);
    EXPECT_FALSE(reloaded.entries()[1].submission.has_value());
    EXPECT_EQ(reloaded.next_sequence(), 3u);
}

TEST(Outbox, SequencesKeepGrowingAfterEntriesAreConfirmed) {
    MemoryStorage storage;
    {
        Outbox outbox(storage);
        outbox.enqueue(patient(1), vitals(70), 1);
        outbox.enqueue(patient(1), vitals(70), 2);
        outbox.pop_front();
        outbox.pop_front();
        EXPECT_TRUE(outbox.empty());
    }
    Outbox reloaded(storage);
    EXPECT_TRUE(reloaded.empty());
    EXPECT_EQ(reloaded.enqueue(patient(1), vitals(70), 3).sequence, 3u);
}

TEST(Outbox, PowerCutBetweenEntryAndCounterIsHealed) {
    MemoryStorage storage;
    {
        Outbox outbox(storage);
        outbox.enqueue(patient(1), vitals(70), 1);
        outbox.enqueue(patient(1), vitals(70), 2);
    }
    storage.write("next_seq", "2");  // as if the second counter write never happened
    Outbox reloaded(storage);
    EXPECT_EQ(reloaded.next_sequence(), 3u);
}

TEST(Outbox, UnreadableEntryStopsRatherThanDropsReadings) {
    MemoryStorage storage;
    storage.write("r0000000000000001", "{not json");
    EXPECT_THROW(Outbox{storage}, StorageError);
}

TEST(Outbox, IgnoresUnrelatedKeys) {
    MemoryStorage storage;
    storage.write("config", "{}");
    Outbox outbox(storage);
    EXPECT_TRUE(outbox.empty());
}

TEST(Outbox, RaiseFloorMovesNewSequencesAboveTheChain) {
    MemoryStorage storage;
    Outbox outbox(storage);
    outbox.raise_sequence_floor(41);
    EXPECT_EQ(outbox.enqueue(patient(1), vitals(70), 1).sequence, 42u);
    Outbox reloaded(storage);
    EXPECT_EQ(reloaded.next_sequence(), 43u);
}

TEST(Outbox, RaiseFloorRenumbersUnsentEntriesInOrder) {
    MemoryStorage storage;
    Outbox outbox(storage);
    outbox.enqueue(patient(1), vitals(70), 1);
    outbox.enqueue(patient(1), vitals(71), 2);
    outbox.enqueue(patient(1), vitals(72), 3);
    outbox.raise_sequence_floor(10);  // the chain already has up to 10: flash was wiped
    ASSERT_EQ(outbox.size(), 3u);
    EXPECT_EQ(outbox.entries()[0].sequence, 11u);
    EXPECT_EQ(outbox.entries()[1].sequence, 12u);
    EXPECT_EQ(outbox.entries()[2].sequence, 13u);
    EXPECT_EQ(outbox.entries()[2].vitals, vitals(72));
    EXPECT_EQ(outbox.next_sequence(), 14u);
    Outbox reloaded(storage);  // persisted, order kept
    EXPECT_EQ(reloaded.entries()[0].sequence, 11u);
    EXPECT_EQ(reloaded.entries()[2].sequence, 13u);
    EXPECT_EQ(reloaded.enqueue(patient(1), vitals(73), 4).sequence, 14u);
}

TEST(Outbox, RaiseFloorNeverRenumbersABroadcastEntry) {
    MemoryStorage storage;
    Outbox outbox(storage);
    outbox.enqueue(patient(1), vitals(70), 1);
    outbox.enqueue(patient(1), vitals(71), 2);
    OutboxEntry front = outbox.front();
    front.broadcast = true;
    outbox.save_front(front);
    outbox.raise_sequence_floor(1);  // seq 1 is on chain: it is the one we sent
    EXPECT_EQ(outbox.entries()[0].sequence, 1u);
    EXPECT_EQ(outbox.entries()[1].sequence, 2u);  // already above the floor
    outbox.raise_sequence_floor(5);
    EXPECT_EQ(outbox.entries()[0].sequence, 1u);
    EXPECT_EQ(outbox.entries()[1].sequence, 6u);
}

TEST(Outbox, SaveFrontOnlyForTheFront) {
    MemoryStorage storage;
    Outbox outbox(storage);
    outbox.enqueue(patient(1), vitals(70), 1);
    outbox.enqueue(patient(1), vitals(71), 2);
    EXPECT_THROW(outbox.save_front(outbox.entries()[1]), std::logic_error);
}

}  // namespace
}  // namespace medchain

namespace medchain {
namespace {

TEST(OutboxReject, SetsTheFrontAsideOnFlashAndMovesOn) {
    MemoryStorage storage;
    {
        Outbox outbox(storage);
        outbox.enqueue(patient(1), vitals(70), 1);
        outbox.enqueue(patient(2), vitals(71), 2);
        outbox.reject_front("MedicalRecords: device not bound to this patient");
        outbox.reject_front("MedicalRecords: device not bound to this patient");
        EXPECT_TRUE(outbox.empty());
        EXPECT_EQ(outbox.rejected_count(), 2u);
    }
    const auto kept = storage.read("x0000000000000001");
    ASSERT_TRUE(kept.has_value());
    EXPECT_NE(kept->find("device not bound"), std::string::npos);
    EXPECT_NE(kept->find("\"heart_rate\":70"), std::string::npos);
    Outbox reloaded(storage);
    EXPECT_TRUE(reloaded.empty());
    EXPECT_EQ(reloaded.rejected_count(), 2u);
    EXPECT_EQ(reloaded.enqueue(patient(1), vitals(72), 3).sequence, 3u);
}

}  // namespace
}  // namespace medchain
