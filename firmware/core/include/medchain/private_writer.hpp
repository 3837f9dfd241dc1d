// A private network's part of sending one reading (PrivateRecords): the
// patient's current data public key (read by eth_call and cached), the
// reading sealed to it as a FHIR document, and the sealed bytes PUT to the
// hospital gateway's store under their CID. RecordUploader then signs
// addRecord with only the CID digest, exactly as it signs a clear record.
// The device keeps no content key: it cannot open what it wrote.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "medchain/bytes.hpp"
#include "medchain/eth_client.hpp"
#include "medchain/outbox.hpp"
#include "medchain/private_records.hpp"
#include "medchain/random_source.hpp"
#include "medchain/transport.hpp"

namespace medchain {

// The patient has no data key on chain, or the store refused the bytes.
// Like every upload failure, retried with backoff; the reading stays queued.
class PrivatePathError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// One attempt at a reading: its envelope, the envelope's CID and the
// addRecord calldata naming it.
struct SealedReading {
    Bytes envelope;
    std::string cid;
    std::uint32_t key_version = 0;
    Bytes calldata;
};

class PrivateWriter {
public:
    // `store` PUTs to `store_url` (the gateway's /store, on the RPC
    // transport's origin); `device` is the device's address, bound into
    // each document.
    PrivateWriter(EthClient& eth, Transport& store, RandomSource& random, const Address& contract,
                  const Address& device, std::string store_url);

    // Seals `entry`'s reading to the patient's current key (fresh
    // randomness, so a new envelope and CID each call) and builds addRecord.
    SealedReading seal(const OutboxEntry& entry);

    // PUT <store_url>/<cid>; throws PrivatePathError unless the store took
    // it (200 or 201), TransportError when no answer came.
    void store(const SealedReading& sealed);

    // The cached key may be stale (the contract said the version is
    // retired, or an addRecord reverted): read it again before sealing.
    void forget_key() { key_.reset(); }

private:
    struct CurrentKey {
        Bytes32 patient{};
        std::uint32_t version = 0;
        private_records::CompressedPublicKey public_key{};
    };
    const CurrentKey& current_key(const Bytes32& patient);

    EthClient& eth_;
    Transport& store_;
    RandomSource& random_;
    Address contract_;
    Address device_;
    std::string store_url_;
    std::optional<CurrentKey> key_;
};

}  // namespace medchain
