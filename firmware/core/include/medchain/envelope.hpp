// A reading sealed to a patient's data PUBLIC key, byte-compatible with
// medchain's Rust side (src/privacy/envelope.rs, wrap.rs, seal.rs), so the
// device keeps nothing that opens what it wrote.
//
// A fresh 32-byte content key seals the document with XChaCha20-Poly1305
// (associated data: the record — patient, device, sequence); the content
// key is wrapped to the patient's data public key by ECIES on secp256k1:
// an ephemeral key pair, ECDH (the shared point's x coordinate),
// HKDF-SHA256 (salt: ephemeral ‖ patient compressed public keys, info
// "medchain/key-wrap/v1") and XChaCha20-Poly1305 with the patient id and
// key version as associated data.
//
// Stored bytes:
//   envelope = 0x02 ‖ key version (4, big-endian) ‖ wrapped key ‖ sealed document
//   wrapped  = 0x01 ‖ ephemeral public key (33) ‖ nonce (24) ‖ content key (32) ‖ tag (16)
//   sealed   = 0x01 ‖ nonce (24) ‖ document ‖ tag (16)
//
// libsecp256k1 (with its ECDH module) and libsodium do all the cryptography.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "medchain/bytes.hpp"
#include "medchain/random_source.hpp"

namespace medchain::envelope {

constexpr std::uint8_t kEnvelopeVersion = 2;
constexpr std::uint8_t kWrapVersion = 1;
constexpr std::uint8_t kSealVersion = 1;
constexpr std::size_t kNonceSize = 24;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kCompressedKeySize = 33;
constexpr std::size_t kWrappedSize = 1 + kCompressedKeySize + kNonceSize + kKeySize + kTagSize;  // 106
constexpr std::size_t kHeaderSize = 1 + 4;

using CompressedPublicKey = std::array<std::uint8_t, kCompressedKeySize>;
using Nonce = std::array<std::uint8_t, kNonceSize>;
using ContentKey = std::array<std::uint8_t, kKeySize>;

// The record a document belongs to: what the document's associated data
// binds, so the store cannot hand one record's bytes out as another's.
struct Binding {
    Bytes32 patient{};
    Address device{};
    std::uint64_t sequence = 0;
};

// The envelope's size for a document of `document_size` bytes.
constexpr std::size_t sealed_size(std::size_t document_size) {
    return kHeaderSize + kWrappedSize + 1 + kNonceSize + document_size + kTagSize;
}

// Seals `document` for `binding` to version `key_version` of the patient's
// data public key (33 bytes, compressed, as PrivateRecords.dataPublicKey
// returns it). Draws from `random`, in this order: the content key (32),
// the ephemeral secret key (32, drawn again in the negligible case it is
// not a valid scalar), the wrap's nonce (24) and the document's nonce
// (24). Throws std::invalid_argument if the public key is not a secp256k1
// point, std::runtime_error if a library call fails.
Bytes seal_reading(const CompressedPublicKey& patient_data_key, std::uint32_t key_version, const Binding& binding,
                   ByteSpan document, RandomSource& random);

// The building blocks, with their randomness given (for the vectors; use
// seal_reading everywhere else).

// `content_key` wrapped to `reader` for (patient, key_version) with the
// given ephemeral secret key and nonce. Throws std::invalid_argument for
// an invalid reader key or ephemeral secret.
Bytes wrap_key(const ContentKey& content_key, const CompressedPublicKey& reader, const Bytes32& patient,
               std::uint64_t key_version, const Bytes32& ephemeral_secret, const Nonce& nonce);

// `document` sealed for `binding` under `content_key` with `nonce`.
Bytes seal_document(const ContentKey& content_key, const Nonce& nonce, const Binding& binding, ByteSpan document);

}  // namespace medchain::envelope
