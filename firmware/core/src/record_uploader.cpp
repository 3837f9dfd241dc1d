#include "medchain/record_uploader.hpp"

#include <algorithm>

#include "medchain/abi.hpp"
#include "medchain/hex.hpp"
#include "medchain/rpc_errors.hpp"
#include "medchain/transaction.hpp"

namespace medchain {

namespace mr = medical_records;

RecordUploader::RecordUploader(EthClient& eth, const Signer& signer, Outbox& outbox, Clock& clock,
                               const Address& contract, std::uint64_t chain_id, UploaderOptions options)
    : eth_(eth),
      signer_(signer),
      outbox_(outbox),
      clock_(clock),
      contract_(contract),
      chain_id_(chain_id),
      options_(options),
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
    outbox_.raise_sequence_floor(device_state().last_sequence);
    nonces_.invalidate();
    synchronized_ = true;
}

std::optional<Confirmation> RecordUploader::advance() {
    OutboxEntry entry = outbox_.front();
    if (!entry.submission) return send_new(std::move(entry));
    return follow_up(std::move(entry));
}

std::optional<Confirmation> RecordUploader::send_new(OutboxEntry entry) {
    const Bytes calldata =
        mr::encode_add_medical_record({entry.patient, entry.vitals, entry.device_timestamp, entry.sequence});
    const CallRequest request{signer_.address(), contract_, calldata};

    // Estimating first surfaces the contract's verdict before paying for it.
    std::uint64_t estimate = 0;
    try {
        estimate = eth_.estimate_gas(request);
    } catch (const RpcError& e) {
        const std::optional<std::string> reason = revert_reason(e);
        if (!reason) throw;
        if (*reason == mr::kDuplicateSequenceReason) {
            if (!entry.broadcast) {
                // Never sent, yet the chain is past this sequence: the outbox
                // was wiped or the device re-provisioned. Renumber and retry.
                outbox_.raise_sequence_floor(device_state().last_sequence);
                if (outbox_.front().sequence != entry.sequence) return std::nullopt;
                throw UploadError("sequence " + std::to_string(entry.sequence) +
                                  " is reported as used but the device's counter on chain is below it");
            }
            if (std::optional<Confirmation> done = confirm_if_on_chain(entry)) return done;
        }
        if (*reason == mr::kNotBoundReason) {
            // A mistyped SSN: this reading can never land, and holding it
            // would block every reading queued behind it.
            outbox_.reject_front(*reason);
            ++rejected_;
            throw UploadError("reading " + std::to_string(entry.sequence) + " set aside, never to be sent: " + *reason);
        }
        throw UploadError("addMedicalRecord(sequence " + std::to_string(entry.sequence) + ") would revert: " + *reason);
    }

    const Fees fees = quote_fees(eth_, options_.fees);
    const std::uint64_t nonce = nonces_.next();
    const std::uint64_t gas_limit = gas_limit_with_headroom(estimate, options_.fees);
    SignedTransaction signed_tx;
    if (fees.eip1559) {
        Eip1559Transaction tx;
        tx.chain_id = chain_id_;
        tx.nonce = nonce;
        tx.max_priority_fee_per_gas = fees.max_priority_fee_per_gas;
        tx.max_fee_per_gas = fees.max_fee_per_gas;
        tx.gas_limit = gas_limit;
        tx.to = contract_;
        tx.data = calldata;
        signed_tx = sign_transaction(tx, signer_);
    } else {
        LegacyTransaction tx;
        tx.chain_id = chain_id_;
        tx.nonce = nonce;
        tx.gas_price = fees.gas_price;
        tx.gas_limit = gas_limit;
        tx.to = contract_;
        tx.data = calldata;
        signed_tx = sign_transaction(tx, signer_);
    }

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
    if (!entry.broadcast || device_state().last_sequence < entry.sequence) return std::nullopt;
    Confirmation confirmation;
    confirmation.sequence = entry.sequence;
    confirmation.found_on_chain = true;
    // Sequences reach the contract in order, so the device's counter being
    // at or past this one means it landed. Find the event that wrote it.
    LogFilter filter;
    filter.address = contract_;
    filter.topics = {mr::record_added_topic(), entry.patient, abi::address_word(signer_.address())};
    // Newest first, one bounded window at a time: the record is recent.
    const std::uint64_t window = std::max<std::uint64_t>(options_.record_lookup_window, 1);
    std::uint64_t high = eth_.block_number();
    for (std::uint64_t i = 0; i < options_.record_lookup_windows && !confirmation.tx_hash; ++i) {
        const std::uint64_t floor = options_.record_lookup_from_block;
        filter.from_block = high - floor + 1 > window ? high - window + 1 : floor;
        filter.to_block = high;
        for (const Log& log : eth_.logs(filter)) {
            const std::optional<mr::RecordAdded> event = mr::decode_record_added(log.topics, log.data);
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
        const std::optional<mr::RecordAdded> event = mr::decode_record_added(log.topics, log.data);
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

mr::DeviceState RecordUploader::device_state() {
    const Address& self = signer_.address();
    return mr::decode_devices(eth_.call({self, contract_, mr::encode_devices(self)}));
}

}  // namespace medchain
