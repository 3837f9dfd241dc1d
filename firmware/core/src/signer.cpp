#include "medchain/signer.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <new>
#include <stdexcept>

namespace medchain {
namespace {

// Overwrites memory the optimiser cannot prove dead.
void wipe(void* data, std::size_t size) {
    volatile auto* p = static_cast<volatile std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) p[i] = 0;
}

}  // namespace

Signer::Signer(const Bytes32& private_key)
    // SIGN (rather than NONE, its 0.2+ equivalent) also works with the older
    // library the ESP32 port bundles.
    : context_(secp256k1_context_create(SECP256K1_CONTEXT_SIGN)), private_key_(private_key) {
    if (context_ == nullptr) throw std::bad_alloc();
    if (secp256k1_ec_seckey_verify(context_, private_key_.data()) != 1) {
        wipe(private_key_.data(), private_key_.size());
        secp256k1_context_destroy(context_);
        throw std::invalid_argument("not a valid secp256k1 private key");
    }
    secp256k1_pubkey pubkey;
    if (secp256k1_ec_pubkey_create(context_, &pubkey, private_key_.data()) != 1) {
        wipe(private_key_.data(), private_key_.size());
        secp256k1_context_destroy(context_);
        throw std::runtime_error("secp256k1_ec_pubkey_create failed");
    }
    std::uint8_t serialized[65];
    std::size_t length = sizeof serialized;
    secp256k1_ec_pubkey_serialize(context_, serialized, &length, &pubkey, SECP256K1_EC_UNCOMPRESSED);
    std::copy(serialized + 1, serialized + 65, public_key_.begin());
    address_ = address_from_public_key(public_key_);
}

Signer::~Signer() {
    wipe(private_key_.data(), private_key_.size());
    secp256k1_context_destroy(context_);
}

void Signer::randomize(const Bytes32& seed) {
    if (secp256k1_context_randomize(context_, seed.data()) != 1) {
        throw std::runtime_error("secp256k1_context_randomize failed");
    }
}

Signature Signer::sign(const Hash& digest) const {
    secp256k1_ecdsa_recoverable_signature recoverable;
    // A null nonce function selects RFC 6979, the same deterministic nonce
    // as alloy/k256, so signatures match other Ethereum tools byte for byte.
    if (secp256k1_ecdsa_sign_recoverable(context_, &recoverable, digest.data(), private_key_.data(), nullptr,
                                         nullptr) != 1) {
        throw std::runtime_error("secp256k1_ecdsa_sign_recoverable failed");
    }
    std::uint8_t compact[64];
    int recovery_id = 0;
    secp256k1_ecdsa_recoverable_signature_serialize_compact(context_, compact, &recovery_id, &recoverable);
    Signature out;
    std::copy(compact, compact + 32, out.r.begin());
    std::copy(compact + 32, compact + 64, out.s.begin());
    out.recovery_id = static_cast<std::uint8_t>(recovery_id);
    return out;
}

}  // namespace medchain
