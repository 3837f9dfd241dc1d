// secp256k1 ECDSA signing with bitcoin-core's libsecp256k1 (recovery module):
// RFC 6979 deterministic nonces and low-s signatures, as Ethereum requires.
#pragma once

#include <cstdint>

#include "medchain/address.hpp"
#include "medchain/bytes.hpp"

struct secp256k1_context_struct;

namespace medchain {

// (r, s) plus the recovery id (y parity of R, 0 or 1).
struct Signature {
    Bytes32 r{};
    Bytes32 s{};
    std::uint8_t recovery_id = 0;
};

// Holds one private key. Not copyable, so the key lives in one place and is
// wiped when the signer goes away.
class Signer {
public:
    // Throws std::invalid_argument if the key is zero or not below the
    // curve order.
    explicit Signer(const Bytes32& private_key);
    ~Signer();
    Signer(const Signer&) = delete;
    Signer& operator=(const Signer&) = delete;

    // Re-blinds the context against side channels; signatures do not change.
    // Call with fresh randomness (esp_random() on the ESP32).
    void randomize(const Bytes32& seed);

    // Signs a 32-byte digest (a transaction's signing hash).
    Signature sign(const Hash& digest) const;

    const PublicKey& public_key() const { return public_key_; }
    const Address& address() const { return address_; }

private:
    secp256k1_context_struct* context_;
    Bytes32 private_key_;
    PublicKey public_key_{};
    Address address_{};
};

}  // namespace medchain
