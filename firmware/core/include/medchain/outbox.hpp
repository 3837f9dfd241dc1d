// The persistent outbox: every reading is given a sequence number and
// written to flash before anything is sent, and stays there until the chain
// confirms it. A reboot reloads it, so a dropped link or a node restart loses
// nothing; the contract's strictly increasing sequence makes a resend
// harmless, so nothing is written twice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "medchain/bytes.hpp"
#include "medchain/storage.hpp"
#include "medchain/vital_signs.hpp"

namespace medchain {

// The last transaction signed for an entry. Saved before it is broadcast,
// so after a reboot the device knows what may already be in flight.
struct Submission {
    Hash tx_hash{};
    std::uint64_t nonce = 0;
    Bytes raw;
};

struct OutboxEntry {
    std::uint64_t sequence = 0;
    Bytes32 patient{};
    VitalSigns vitals;
    std::uint64_t device_timestamp = 0;
    std::optional<Submission> submission;
    // A transaction carrying this sequence may have reached the node. Until
    // then the sequence may still be changed (see raise_sequence_floor).
    bool broadcast = false;
    // Storage key, fixed when the entry is created.
    std::string key;
};

class Outbox {
public:
    // Loads whatever a previous boot left. Throws StorageError on an
    // unreadable entry (better to stop than to drop a reading silently).
    explicit Outbox(Storage& storage);

    // Assigns the next sequence and persists the entry before returning.
    const OutboxEntry& enqueue(const Bytes32& patient, const VitalSigns& vitals, std::uint64_t device_timestamp);

    bool empty() const { return entries_.empty(); }
    std::size_t size() const { return entries_.size(); }
    // Oldest first; sequences strictly increase along the queue.
    const std::vector<OutboxEntry>& entries() const { return entries_; }
    const OutboxEntry& front() const;

    // Persists a changed front entry (its submission or broadcast flag).
    void save_front(const OutboxEntry& entry);
    // Drops the front entry once the chain has it.
    void pop_front();
    // Moves the front entry out of the queue into the rejected store: kept on
    // flash with `reason` for a person to look at, never sent again. For
    // readings the contract can never accept (wrong patient), which would
    // otherwise block every reading behind them.
    void reject_front(const std::string& reason);
    // How many readings the rejected store holds.
    std::size_t rejected_count() const { return rejected_count_; }

    std::uint64_t next_sequence() const { return next_sequence_; }

    // The device's last sequence on chain is `last_on_chain` (devices(address)).
    // New readings get larger sequences, and queued entries never broadcast
    // whose sequences are not above it (flash wiped, device re-provisioned)
    // are renumbered, in order, so they are not mistaken for duplicates.
    void raise_sequence_floor(std::uint64_t last_on_chain);

private:
    void persist(const OutboxEntry& entry);
    void persist_next_sequence();

    Storage& storage_;
    std::vector<OutboxEntry> entries_;
    std::size_t rejected_count_ = 0;
    std::uint64_t next_sequence_ = 1;  // the contract needs sequence > 0
};

}  // namespace medchain
