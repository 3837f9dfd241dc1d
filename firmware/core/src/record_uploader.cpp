#include "medchain/record_uploader.hpp"

#include <algorithm>

#include "medchain/abi.hpp"
#include "medchain/hex.hpp"
#include "medchain/rpc_errors.hpp"
#include "medchain/transaction.hpp"

namespace medchain {

namespace mr = medical_records;
namespace pr = private_records;

RecordUploader::RecordUploader(EthClient& eth, const Signer& signer, Outbox& outbox, Clock& clock,
                               const Address& contract, std::uint64_t chain_id, UploaderOptions options,
                               PrivateWriter* private_writer)
    : eth_(eth),
      signer_(signer),
      outbox_(outbox),
      clock_(clock),
      contract_(contract),
      chain_id_(chain_id),
      options_(options),
      private_(private_writer),
      nonces_(eth, signer.address()),
      backoff_(options.backoff) {}

const OutboxEntry& RecordUploader::record(const Bytes32& patient, const VitalSigns& vitals,
                                          std::uint64_t device_timestamp) {
    return outbox_.enqueue(patient, vitals, device_timestamp);
}

std::optional<Confirmation> RecordUploader::poll() {
    if (outbox_.empty() || clock_.now_ms() < next_poll_at_ms_) return std::nullopt;
    try {
        if (!synchronized_) synchronize();
        std::optional<Confirmation> confirmation = advance();
        last_error_.clear();
        backoff_.reset();
        next_poll_at_ms_ = confirmation ? clock_.now_ms() : clock_.now_ms() + options_.receipt_poll_ms;
        return confirmation;
    } catch (const std::exception& e) {
        // TransportError, RpcError, ProtocolError, AbiError, UploadError,
        // StorageError: nothing is lost, the reading stays queued.
        last_error_ = e.what();
        next_poll_at_ms_ = clock_.now_ms() + backoff_.next_delay_ms();
        return std::nullopt;
    }
}

bool RecordUploader::drain(std::uint64_t timeout_ms, const std::function<void(const Confirmation&)>& on_confirmed) {
    const std::uint64_t deadline = clock_.now_ms() + timeout_ms;
    while (!outbox_.empty()) {
        if (std::optional<Confirmation> confirmation = poll()) {
            if (on_confirmed) on_confirmed(*confirmation);
            continue;
        }
        const std::uint64_t now = clock_.now_ms();
        if (now >= deadline) return false;
        clock_.sleep_ms(std::min(deadline, std::max(next_poll_at_ms_, now + 1)) - now);
    }
    return true;
}

// Once per boot, before the first send: the right chain, sequences above
// what the chain has, and a nonce fresh from the node.
void RecordUploader::synchronize() {
    const std::uint64_t chain = eth_.chain_id();
    if (chain != chain_id_) {
        throw UploadError("node is on chain " + std::to_string(chain) + " but this device is provisioned for chain " +
                          std::to_string(chain_id_));
    }
    outbox_.raise_sequence_floor(last_sequence_on_chain());
    nonces_.invalidate();
    synchronized_ = true;
}

std::optional<Confirmation> RecordUploader::advance() {
    OutboxEntry entry = outbox_.front();
    if (!entry.submission) return send_new(std::move(entry));
    return follow_up(std::move(entry));
}

// A clear network's calldata carries the reading; a private network's
// attempt seals it (anew each attempt) and carries only its CID digest.
RecordUploader::Attempt RecordUploader::prepare(const OutboxEntry& entry) {
    if (private_ == nullptr) {
        return {mr::encode_add_medical_record({entry.patient, entry.vitals, entry.device_timestamp, entry.sequence}),
                std::nullopt};
    }
    SealedReading sealed = private_->seal(entry);
    Bytes calldata = sealed.calldata;
    return {std::move(calldata), std::move(sealed)};
}

// The contract's verdict on the front entry, before any gas is paid: a
// confirmation if it already landed, nullopt if it was renumbered; throws
// otherwise (the entry is retried, or set aside if it never can land).
std::optional<Confirmation> RecordUploader::on_estimate_revert(const OutboxEntry& entry, const std::string& reason) {
    if (is_reason(reason, mr::kDuplicateSequenceReason, pr::kDuplicateSequenceReason)) {
        if (!entry.broadcast) {
            // Never sent, yet the chain is past this sequence: the outbox
            // was wiped or the device re-provisioned. Renumber and retry.
            outbox_.raise_sequence_floor(last_sequence_on_chain());
            if (outbox_.front().sequence != entry.sequence) return std::nullopt;
            throw UploadError("sequence " + std::to_string(entry.sequence) +
                              " is reported as used but the device's counter on chain is below it");
        }
        if (std::optional<Confirmation> done = confirm_if_on_chain(entry)) return done;
    }
    if (is_reason(reason, mr::kNotBoundReason, pr::kNotBoundReason)) {
        // A mistyped SSN: this reading can never land, and holding it
        // would block every reading queued behind it.
        outbox_.reject_front(reason);
        ++rejected_;
        throw UploadError("reading " + std::to_string(entry.sequence) + " set aside, never to be sent: " + reason);
    }
    if (private_ != nullptr && reason == pr::kRetiredKeyReason) {
        // The patient's key rotated since it was read: the next attempt
        // reads it again and reseals (nothing was stored for this one).
        private_->forget_key();
        throw UploadError("reading " + std::to_string(entry.sequence) + " was sealed to a retired key version; " +
                          "resealing to the current key");
    }
    throw UploadError((private_ ? "addRecord(sequence " : "addMedicalRecord(sequence ") +
                      std::to_string(entry.sequence) + ") would revert: " + reason);
}

SignedTransaction RecordUploader::sign(const Bytes& calldata, std::uint64_t estimate, std::uint64_t nonce) {
    const Fees fees = quote_fees(eth_, options_.fees);
    const std::uint64_t gas_limit = gas_limit_with_headroom(estimate, options_.fees);
    if (fees.eip1559) {
        Eip1559Transaction tx;
        tx.chain_id = chain_id_;
        tx.nonce = nonce;
        tx.max_priority_fee_per_gas = fees.max_priority_fee_per_gas;
        tx.max_fee_per_gas = fees.max_fee_per_gas;
        tx.gas_limit = gas_limit;
        tx.to = contract_;
        tx.data = calldata;
        return sign_transaction(tx, signer_);
    }
    LegacyTransaction tx;
    tx.chain_id = chain_id_;
    tx.nonce = nonce;
    tx.gas_price = fees.gas_price;
    tx.gas_limit = gas_limit;
    tx.to = contract_;
    tx.data = calldata;
    return sign_transaction(tx, signer_);
}

std::optional<Confirmation> RecordUploader::send_new(OutboxEntry entry) {
    const Attempt attempt = prepare(entry);
    const CallRequest request{signer_.address(), contract_, attempt.calldata};

    // Estimating first surfaces the contract's verdict before paying for it
    // (and, on a private network, before storing anything).
    std::uint64_t estimate = 0;
    try {
        estimate = eth_.estimate_gas(request);
    } catch (const RpcError& e) {
        const std::optional<std::string> reason = revert_reason(e);
        if (!reason) throw;
        return on_estimate_revert(entry, *reason);
    }
    // The sealed bytes are in the store before any transaction names them.
    if (attempt.sealed) private_->store(*attempt.sealed);

    const std::uint64_t nonce = nonces_.next();
    SignedTransaction signed_tx = sign(attempt.calldata, estimate, nonce);

    // On flash before it can reach the node: after a power cut the device
    // knows this transaction may be in flight.
    entry.submission = Submission{signed_tx.hash, nonce, std::move(signed_tx.raw)};
    entry.broadcast = true;
    outbox_.save_front(entry);
    broadcast(entry);
    return std::nullopt;
}

std::optional<Confirmation> RecordUploader::follow_up(OutboxEntry entry) {
    const Submission& submission = *entry.submission;
    if (const std::optional<Receipt> receipt = eth_.transaction_receipt(submission.tx_hash)) {
        nonces_.mark_used(submission.nonce);
        if (receipt->success) return confirm_from_receipt(entry, *receipt);
        // Reverted. A retry of a reading that landed earlier reverts as a
        // duplicate; anything else (device revoked, say) is signed again later.
        if (std::optional<Confirmation> done = confirm_if_on_chain(entry)) return done;
        // A receipt has no reason: the key may have rotated in flight, so a
        // private network's next attempt reads it again and reseals.
        if (private_ != nullptr) private_->forget_key();
        const std::string hash = to_hex(submission.tx_hash);
        entry.submission.reset();
        outbox_.save_front(entry);
        last_broadcast_ms_.reset();
        throw UploadError("transaction " + hash + " (sequence " + std::to_string(entry.sequence) + ") reverted");
    }
    const std::uint64_t now = clock_.now_ms();
    if (last_broadcast_ms_ && now - *last_broadcast_ms_ < options_.rebroadcast_after_ms) return std::nullopt;
    // Not mined for a while, or sent before a reboot: the node may have
    // dropped it (restart) or never got it (link down mid-request).
    if (std::optional<Confirmation> done = confirm_if_on_chain(entry)) return done;
    broadcast(entry);
    return std::nullopt;
}

void RecordUploader::broadcast(OutboxEntry& entry) {
    const Submission& submission = *entry.submission;
    try {
        eth_.send_raw_transaction(submission.raw);
    } catch (const RpcError& e) {
        if (is_nonce_too_low(e)) {
            // Another transaction took this nonce. If it was this one, the
            // receipt shows up on the next poll; otherwise sign anew.
            nonces_.invalidate();
            if (!eth_.transaction_receipt(submission.tx_hash)) {
                entry.submission.reset();
                outbox_.save_front(entry);
                last_broadcast_ms_.reset();
            }
            return;
        }
        if (!is_already_known(e)) throw;
    }
    nonces_.mark_used(submission.nonce);
    last_broadcast_ms_ = clock_.now_ms();
}

std::optional<Confirmation> RecordUploader::confirm_if_on_chain(const OutboxEntry& entry) {
    // An entry never broadcast cannot be on chain, whatever the counter says.
    if (!entry.broadcast || last_sequence_on_chain() < entry.sequence) return std::nullopt;
    Confirmation confirmation;
    confirmation.sequence = entry.sequence;
    confirmation.found_on_chain = true;
    // Sequences reach the contract in order, so the device's counter being
    // at or past this one means it landed. Find the event that wrote it.
    LogFilter filter;
    filter.address = contract_;
    filter.topics = {record_added_topic(), entry.patient, abi::address_word(signer_.address())};
    // Newest first, one bounded window at a time: the record is recent.
    const std::uint64_t window = std::max<std::uint64_t>(options_.record_lookup_window, 1);
    std::uint64_t high = eth_.block_number();
    for (std::uint64_t i = 0; i < options_.record_lookup_windows && !confirmation.tx_hash; ++i) {
        const std::uint64_t floor = options_.record_lookup_from_block;
        filter.from_block = high - floor + 1 > window ? high - window + 1 : floor;
        filter.to_block = high;
        for (const Log& log : eth_.logs(filter)) {
            const std::optional<AddedEvent> event = decode_event(log);
            if (event && event->sequence == entry.sequence) {
                confirmation.tx_hash = log.transaction_hash;
                confirmation.record_id = event->record_id;
                confirmation.block_number = log.block_number;
            }
        }
        if (filter.from_block <= floor) break;
        high = filter.from_block - 1;
    }
    return finish(confirmation);
}

Confirmation RecordUploader::confirm_from_receipt(const OutboxEntry& entry, const Receipt& receipt) {
    Confirmation confirmation;
    confirmation.sequence = entry.sequence;
    confirmation.tx_hash = receipt.transaction_hash;
    confirmation.block_number = receipt.block_number;
    for (const Log& log : receipt.logs) {
        if (log.address != contract_) continue;
        const std::optional<AddedEvent> event = decode_event(log);
        if (event && event->device == signer_.address() && event->sequence == entry.sequence) {
            confirmation.record_id = event->record_id;
        }
    }
    return finish(confirmation);
}

Confirmation RecordUploader::finish(Confirmation confirmation) {
    outbox_.pop_front();
    last_broadcast_ms_.reset();
    return confirmation;
}

// devices(address).lastSequence; the two contracts lay the struct out
// differently.
std::uint64_t RecordUploader::last_sequence_on_chain() {
    const Address& self = signer_.address();
    if (private_ != nullptr)
        return pr::decode_devices(eth_.call({self, contract_, pr::encode_devices(self)})).last_sequence;
    return mr::decode_devices(eth_.call({self, contract_, mr::encode_devices(self)})).last_sequence;
}

const Hash& RecordUploader::record_added_topic() const {
    return private_ != nullptr ? pr::record_added_topic() : mr::record_added_topic();
}

std::optional<RecordUploader::AddedEvent> RecordUploader::decode_event(const Log& log) const {
    if (private_ != nullptr) {
        const std::optional<pr::RecordAdded> e = pr::decode_record_added(log.topics, log.data);
        if (!e) return std::nullopt;
        return AddedEvent{e->device, e->record_id, e->sequence};
    }
    const std::optional<mr::RecordAdded> e = mr::decode_record_added(log.topics, log.data);
    if (!e) return std::nullopt;
    return AddedEvent{e->device, e->record_id, e->sequence};
}

// The contract's revert reason `reason` is `clear` (MedicalRecords) or
// `hidden` (PrivateRecords), whichever this device writes to.
bool RecordUploader::is_reason(const std::string& reason, std::string_view clear, std::string_view hidden) const {
    return reason == (private_ != nullptr ? hidden : clear);
}

}  // namespace medchain
