// Drives the outbox to the chain: signs and sends addMedicalRecord for the
// oldest queued reading, follows it to a receipt, resends after link or node
// failures, and pops it only once the chain has it. One reading is in flight
// at a time, so sequences reach the contract in order. On a private network
// (given a PrivateWriter) each attempt seals the reading, stores it at the
// gateway and sends PrivateRecords.addRecord with its CID digest instead;
// every other step is the same.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "medchain/backoff.hpp"
#include "medchain/clock.hpp"
#include "medchain/eth_client.hpp"
#include "medchain/fee_policy.hpp"
#include "medchain/medical_records.hpp"
#include "medchain/nonce_manager.hpp"
#include "medchain/outbox.hpp"
#include "medchain/private_writer.hpp"
#include "medchain/signer.hpp"
#include "medchain/transaction.hpp"

namespace medchain {

// The chain refuses the reading (device not registered or bound to another
// patient, wrong chain). It stays queued and is retried with backoff: the
// fix is on the hospital's side and must not cost the reading.
class UploadError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct UploaderOptions {
    BackoffPolicy backoff;                        // after any failure
    std::uint64_t receipt_poll_ms = 1'000;        // between receipt checks
    std::uint64_t rebroadcast_after_ms = 30'000;  // no receipt this long: send the same bytes again
    FeeOptions fees;
    std::uint64_t record_lookup_from_block = 0;  // eth_getLogs start when looking a record up
    // A record is looked up newest first in windows of this many blocks
    // (a medchain gateway serves eth_getLogs over at most 1000), at most
    // this many windows back from the head.
    std::uint64_t record_lookup_window = 1'000;
    std::uint64_t record_lookup_windows = 16;
};

// A reading the chain has.
struct Confirmation {
    std::uint64_t sequence = 0;
    std::optional<Hash> tx_hash;
    std::optional<U256> record_id;
    std::uint64_t block_number = 0;
    // Confirmed by looking its sequence up on chain (it landed through an
    // earlier attempt, possibly before a reboot) rather than by a receipt.
    bool found_on_chain = false;
};

class RecordUploader {
public:
    // With `private_writer` the contract is PrivateRecords (a private
    // network); without, MedicalRecords.
    RecordUploader(EthClient& eth, const Signer& signer, Outbox& outbox, Clock& clock, const Address& contract,
                   std::uint64_t chain_id, UploaderOptions options = {}, PrivateWriter* private_writer = nullptr);

    // Queues a reading (persisted before this returns); never touches the
    // network.
    const OutboxEntry& record(const Bytes32& patient, const VitalSigns& vitals, std::uint64_t device_timestamp);

    // Does the next piece of work if it is due (a few RPC calls at most) and
    // returns the confirmation when the oldest reading lands. Never sleeps and
    // never throws for network, node or contract trouble: the error goes to
    // last_error() and the work is retried after a backoff delay.
    std::optional<Confirmation> poll();

    // poll()s, sleeping on the clock in between, until the outbox is empty
    // (returns true) or `timeout_ms` passed (false).
    bool drain(std::uint64_t timeout_ms, const std::function<void(const Confirmation&)>& on_confirmed);

    std::size_t pending() const { return outbox_.size(); }
    // Readings the contract can never accept (see Outbox::reject_front), this boot.
    std::size_t rejected() const { return rejected_; }
    // When poll() next has work (clock milliseconds).
    std::uint64_t next_poll_at_ms() const { return next_poll_at_ms_; }
    // Why the last poll() failed; empty after a successful one.
    const std::string& last_error() const { return last_error_; }

private:
    // What an attempt sends: the calldata, and on a private network the
    // sealed reading it names (stored once the estimate passes).
    struct Attempt {
        Bytes calldata;
        std::optional<SealedReading> sealed;
    };
    // An event of either contract's RecordAdded.
    struct AddedEvent {
        Address device{};
        U256 record_id;
        std::uint64_t sequence = 0;
    };

    void synchronize();
    std::optional<Confirmation> advance();
    Attempt prepare(const OutboxEntry& entry);
    std::optional<Confirmation> on_estimate_revert(const OutboxEntry& entry, const std::string& reason);
    SignedTransaction sign(const Bytes& calldata, std::uint64_t estimate, std::uint64_t nonce);
    std::optional<Confirmation> send_new(OutboxEntry entry);
    std::optional<Confirmation> follow_up(OutboxEntry entry);
    void broadcast(OutboxEntry& entry);
    std::optional<Confirmation> confirm_if_on_chain(const OutboxEntry& entry);
    Confirmation confirm_from_receipt(const OutboxEntry& entry, const Receipt& receipt);
    Confirmation finish(Confirmation confirmation);
    std::uint64_t last_sequence_on_chain();
    const Hash& record_added_topic() const;
    std::optional<AddedEvent> decode_event(const Log& log) const;
    bool is_reason(const std::string& reason, std::string_view clear, std::string_view hidden) const;

    EthClient& eth_;
    const Signer& signer_;
    Outbox& outbox_;
    Clock& clock_;
    Address contract_;
    std::uint64_t chain_id_;
    UploaderOptions options_;
    PrivateWriter* private_;  // null on a clear network
    NonceManager nonces_;
    Backoff backoff_;
    bool synchronized_ = false;
    std::uint64_t next_poll_at_ms_ = 0;
    std::optional<std::uint64_t> last_broadcast_ms_;  // of the front entry, this boot
    std::size_t rejected_ = 0;
    std::string last_error_;
};

}  // namespace medchain
