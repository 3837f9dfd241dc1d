#include "medchain/envelope.hpp"

#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <sodium.h>

#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string_view>

namespace medchain::envelope {
namespace {

// The HKDF info and the wrap's associated-data tag (src/privacy/wrap.rs).
constexpr std::string_view kWrapTag = "medchain/key-wrap/v1";
// The sealed document's associated-data tag (src/privacy/seal.rs).
constexpr std::string_view kRecordTag = "medchain/record/v1";
// Draws of an ephemeral key before giving up on the random source: a
// uniform 32-byte draw is not a valid scalar with probability ~2^-128.
constexpr int kEphemeralDraws = 8;

// libsecp256k1's ECDH hash function hook: the shared point's x coordinate
// unhashed, which is what k256's SharedSecret::raw_secret_bytes gives Rust.
int copy_x(unsigned char* output, const unsigned char* x32, const unsigned char* /*y32*/, void* /*data*/) {
    std::memcpy(output, x32, 32);
    return 1;
}

// One context for the process; libsecp256k1 contexts are read-only once
// created. SIGN lets the ESP32 port's older library create public keys.
const secp256k1_context* context() {
    static const std::unique_ptr<secp256k1_context, void (*)(secp256k1_context*)> ctx(
        secp256k1_context_create(SECP256K1_CONTEXT_SIGN), secp256k1_context_destroy);
    if (!ctx) throw std::bad_alloc();
    return ctx.get();
}

void put_u64(Bytes& out, std::uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// HKDF-SHA256 (RFC 5869) with a 32-byte output, one expand block, on
// libsodium's HMAC-SHA256.
ContentKey hkdf_sha256(ByteSpan salt, ByteSpan ikm, ByteSpan info) {
    std::uint8_t prk[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, salt.data(), salt.size());
    crypto_auth_hmacsha256_update(&state, ikm.data(), ikm.size());
    crypto_auth_hmacsha256_final(&state, prk);
    const std::uint8_t counter = 1;
    ContentKey okm{};
    crypto_auth_hmacsha256_init(&state, prk, sizeof prk);
    crypto_auth_hmacsha256_update(&state, info.data(), info.size());
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, okm.data());
    sodium_memzero(prk, sizeof prk);
    sodium_memzero(&state, sizeof state);
    return okm;
}

// XChaCha20-Poly1305: ciphertext ‖ tag appended to `out`.
void aead_seal(Bytes& out, ByteSpan message, ByteSpan aad, const Nonce& nonce, const ContentKey& key) {
    const std::size_t at = out.size();
    out.resize(at + message.size() + kTagSize);
    unsigned long long written = 0;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + at, &written, message.data(), message.size(),
                                                   aad.data(), aad.size(), nullptr, nonce.data(), key.data()) != 0 ||
        written != message.size() + kTagSize) {
        throw std::runtime_error("crypto_aead_xchacha20poly1305_ietf_encrypt failed");
    }
}

CompressedPublicKey compressed(const secp256k1_pubkey& point) {
    CompressedPublicKey out{};
    std::size_t length = out.size();
    secp256k1_ec_pubkey_serialize(context(), out.data(), &length, &point, SECP256K1_EC_COMPRESSED);
    return out;
}

}  // namespace

Bytes wrap_key(const ContentKey& content_key, const CompressedPublicKey& reader, const Bytes32& patient,
               std::uint64_t key_version, const Bytes32& ephemeral_secret, const Nonce& nonce) {
    ensure_sodium();
    const secp256k1_context* ctx = context();
    secp256k1_pubkey reader_point;
    if (secp256k1_ec_pubkey_parse(ctx, &reader_point, reader.data(), reader.size()) != 1) {
        throw std::invalid_argument("the patient's data public key is not a compressed secp256k1 point");
    }
    secp256k1_pubkey ephemeral_point;
    if (secp256k1_ec_seckey_verify(ctx, ephemeral_secret.data()) != 1 ||
        secp256k1_ec_pubkey_create(ctx, &ephemeral_point, ephemeral_secret.data()) != 1) {
        throw std::invalid_argument("the ephemeral secret is not a valid secp256k1 private key");
    }
    const CompressedPublicKey ephemeral = compressed(ephemeral_point);
    Bytes32 shared{};
    if (secp256k1_ecdh(ctx, shared.data(), &reader_point, ephemeral_secret.data(), copy_x, nullptr) != 1) {
        throw std::runtime_error("secp256k1_ecdh failed");
    }
    Bytes salt(ephemeral.begin(), ephemeral.end());
    append(salt, reader);
    ContentKey kek = hkdf_sha256(salt, shared, kWrapTag);
    sodium_memzero(shared.data(), shared.size());

    Bytes aad = to_bytes(kWrapTag);
    append(aad, patient);
    put_u64(aad, key_version);
    Bytes out;
    out.reserve(kWrappedSize);
    out.push_back(kWrapVersion);
    append(out, ephemeral);
    append(out, nonce);
    aead_seal(out, content_key, aad, nonce, kek);
    sodium_memzero(kek.data(), kek.size());
    return out;
}

Bytes seal_document(const ContentKey& content_key, const Nonce& nonce, const Binding& binding, ByteSpan document) {
    ensure_sodium();
    Bytes aad = to_bytes(kRecordTag);
    append(aad, binding.patient);
    append(aad, binding.device);
    put_u64(aad, binding.sequence);
    Bytes out;
    out.reserve(1 + kNonceSize + document.size() + kTagSize);
    out.push_back(kSealVersion);
    append(out, nonce);
    aead_seal(out, document, aad, nonce, content_key);
    return out;
}

Bytes seal_reading(const CompressedPublicKey& patient_data_key, std::uint32_t key_version, const Binding& binding,
                   ByteSpan document, RandomSource& random) {
    ensure_sodium();
    ContentKey content{};
    Bytes32 ephemeral{};
    Nonce wrap_nonce{};
    Nonce seal_nonce{};
    random.fill(content.data(), content.size());
    int draws = 0;
    do {
        if (++draws > kEphemeralDraws) throw std::runtime_error("the random source gave no valid secp256k1 key");
        random.fill(ephemeral.data(), ephemeral.size());
    } while (secp256k1_ec_seckey_verify(context(), ephemeral.data()) != 1);
    random.fill(wrap_nonce.data(), wrap_nonce.size());
    random.fill(seal_nonce.data(), seal_nonce.size());

    Bytes out;
    out.reserve(sealed_size(document.size()));
    out.push_back(kEnvelopeVersion);
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(key_version >> shift));
    try {
        append(out, wrap_key(content, patient_data_key, binding.patient, key_version, ephemeral, wrap_nonce));
        append(out, seal_document(content, seal_nonce, binding, document));
    } catch (...) {
        sodium_memzero(content.data(), content.size());
        sodium_memzero(ephemeral.data(), ephemeral.size());
        throw;
    }
    // The device forgets the content key: it cannot open what it wrote.
    sodium_memzero(content.data(), content.size());
    sodium_memzero(ephemeral.data(), ephemeral.size());
    return out;
}

}  // namespace medchain::envelope
