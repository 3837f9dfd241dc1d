#include <gtest/gtest.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "medchain/envelope.hpp"
#include "medchain/hex.hpp"
#include "medchain/signer.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

using nlohmann::json;

// Hands out the bytes it was given, in order; throws when they run out.
class FixedRandom final : public RandomSource {
public:
    explicit FixedRandom(Bytes bytes) : bytes_(std::move(bytes)) {}
    void fill(std::uint8_t* out, std::size_t size) override {
        if (bytes_.size() - at_ < size) throw std::runtime_error("FixedRandom ran out of bytes");
        std::memcpy(out, bytes_.data() + at_, size);
        at_ += size;
    }
    std::size_t left() const { return bytes_.size() - at_; }

private:
    Bytes bytes_;
    std::size_t at_ = 0;
};

const json& vector() { return test::vectors().at("private").at("envelope"); }

std::string text(const char* key) { return vector().at(key).get<std::string>(); }

envelope::Binding binding() {
    envelope::Binding b;
    b.patient = fixed_from_hex<32>(text("patient"));
    b.device = fixed_from_hex<20>(text("device"));
    b.sequence = std::stoull(text("sequence"));
    return b;
}

envelope::CompressedPublicKey data_key() { return fixed_from_hex<33>(text("data_public_key")); }

std::uint32_t key_version() { return vector().at("key_version").get<std::uint32_t>(); }

// The randomness the vector fixed, in the order seal_reading draws it.
FixedRandom fixed_random() {
    Bytes bytes = from_hex(text("content_key"));
    append(bytes, from_hex(text("ephemeral_secret_key")));
    append(bytes, from_hex(text("wrap_nonce")));
    append(bytes, from_hex(text("seal_nonce")));
    return FixedRandom(bytes);
}

Bytes seal_fixed(const envelope::CompressedPublicKey& key) {
    FixedRandom random = fixed_random();
    Bytes out = envelope::seal_reading(key, key_version(), binding(), from_hex(text("document")), random);
    EXPECT_EQ(random.left(), 0u);
    return out;
}

// Opens an envelope with the data secret key, as Rust's envelope::open
// does: the test's own check that real-random envelopes are sound.
Bytes open_envelope(const Bytes32& secret, const envelope::Binding& b, const Bytes& stored) {
    using namespace envelope;
    if (stored.size() < sealed_size(0) || stored[0] != kEnvelopeVersion) throw std::runtime_error("not an envelope");
    const std::uint8_t* wrapped = stored.data() + kHeaderSize;
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN);
    secp256k1_pubkey ephemeral;
    std::uint8_t shared[32];
    const auto copy_x = [](unsigned char* out, const unsigned char* x, const unsigned char*, void*) {
        std::memcpy(out, x, 32);
        return 1;
    };
    secp256k1_pubkey me;
    const bool ok = secp256k1_ec_pubkey_parse(ctx, &ephemeral, wrapped + 1, 33) == 1 &&
                    secp256k1_ecdh(ctx, shared, &ephemeral, secret.data(), copy_x, nullptr) == 1 &&
                    secp256k1_ec_pubkey_create(ctx, &me, secret.data()) == 1;
    std::uint8_t mine[33];
    std::size_t length = sizeof mine;
    secp256k1_ec_pubkey_serialize(ctx, mine, &length, &me, SECP256K1_EC_COMPRESSED);
    secp256k1_context_destroy(ctx);
    if (!ok) throw std::runtime_error("bad ephemeral key");
    // HKDF-SHA256: extract with salt = ephemeral ‖ reader, expand one block.
    std::uint8_t prk[32], kek[32];
    crypto_auth_hmacsha256_state st;
    Bytes salt(wrapped + 1, wrapped + 34);
    salt.insert(salt.end(), mine, mine + 33);
    crypto_auth_hmacsha256_init(&st, salt.data(), salt.size());
    crypto_auth_hmacsha256_update(&st, shared, 32);
    crypto_auth_hmacsha256_final(&st, prk);
    const std::string info = "medchain/key-wrap/v1";
    const std::uint8_t one = 1;
    crypto_auth_hmacsha256_init(&st, prk, 32);
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const std::uint8_t*>(info.data()), info.size());
    crypto_auth_hmacsha256_update(&st, &one, 1);
    crypto_auth_hmacsha256_final(&st, kek);
    Bytes aad = to_bytes(info);
    append(aad, b.patient);
    for (int i = 0; i < 4; ++i) aad.push_back(0);
    aad.insert(aad.end(), stored.begin() + 1, stored.begin() + 5);
    std::uint8_t content[32];
    unsigned long long n = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(content, &n, nullptr, wrapped + 58, 48, aad.data(), aad.size(),
                                                   wrapped + 34, kek) != 0) {
        throw std::runtime_error("content key did not open");
    }
    const std::uint8_t* sealed = wrapped + kWrappedSize;
    const std::size_t sealed_len = stored.size() - kHeaderSize - kWrappedSize;
    Bytes record = to_bytes("medchain/record/v1");
    append(record, b.patient);
    append(record, b.device);
    for (int shift = 56; shift >= 0; shift -= 8) record.push_back(static_cast<std::uint8_t>(b.sequence >> shift));
    Bytes doc(sealed_len - 1 - kNonceSize - kTagSize);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(doc.data(), &n, nullptr, sealed + 1 + kNonceSize,
                                                   sealed_len - 1 - kNonceSize, record.data(), record.size(),
                                                   sealed + 1, content) != 0) {
        throw std::runtime_error("document did not open");
    }
    return doc;
}

TEST(Envelope, DataPublicKeyIsTheCompressedKeyOfTheSecret) {
    const Signer patient(fixed_from_hex<32>(text("data_secret_key")));
    const PublicKey& full = patient.public_key();  // x ‖ y
    envelope::CompressedPublicKey compressed{};
    compressed[0] = (full[63] & 1) ? 0x03 : 0x02;
    std::copy(full.begin(), full.begin() + 32, compressed.begin() + 1);
    EXPECT_EQ(compressed, data_key());
}

TEST(Envelope, PiecesMatchRustByteForByte) {
    const auto content = fixed_from_hex<32>(text("content_key"));
    const auto wrapped =
        envelope::wrap_key(content, data_key(), binding().patient, key_version(),
                           fixed_from_hex<32>(text("ephemeral_secret_key")), fixed_from_hex<24>(text("wrap_nonce")));
    EXPECT_EQ(wrapped.size(), envelope::kWrappedSize);
    EXPECT_EQ(to_hex(wrapped), text("wrapped_key"));
    const auto sealed =
        envelope::seal_document(content, fixed_from_hex<24>(text("seal_nonce")), binding(), from_hex(text("document")));
    EXPECT_EQ(to_hex(sealed), text("sealed_document"));
}

TEST(Envelope, SealReadingMatchesRustByteForByte) {
    const Bytes stored = seal_fixed(data_key());
    EXPECT_EQ(to_hex(stored), text("envelope"));
    EXPECT_EQ(stored.size(), envelope::sealed_size(from_hex(text("document")).size()));
    EXPECT_EQ(open_envelope(fixed_from_hex<32>(text("data_secret_key")), binding(), stored),
              from_hex(text("document")));
}

TEST(Envelope, AFlippedPatientKeyByteChangesTheEnvelope) {
    const Bytes reference = seal_fixed(data_key());
    // 02 <-> 03: the negated point, always a valid key.
    auto negated = data_key();
    negated[0] ^= 0x01;
    EXPECT_NE(seal_fixed(negated), reference);
    // Any flipped x bit: either not on the curve (refused) or another key.
    int valid = 0;
    for (std::size_t bit = 0; bit < 64; ++bit) {
        auto key = data_key();
        key[32 - bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        try {
            EXPECT_NE(seal_fixed(key), reference) << bit;
            ++valid;
        } catch (const std::invalid_argument&) {
        }
    }
    EXPECT_GT(valid, 0);
    auto junk = data_key();
    junk[0] = 0x05;
    EXPECT_THROW(seal_fixed(junk), std::invalid_argument);
}

TEST(Envelope, RealRandomnessDiffersRunToRunButKeepsItsLengthAndOpens) {
    SodiumRandom random;
    const Bytes document = from_hex(text("document"));
    const Bytes a = envelope::seal_reading(data_key(), key_version(), binding(), document, random);
    const Bytes b = envelope::seal_reading(data_key(), key_version(), binding(), document, random);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.size(), b.size());
    EXPECT_EQ(a.size(), envelope::sealed_size(document.size()));
    EXPECT_EQ(Bytes(a.begin(), a.begin() + 5), Bytes(b.begin(), b.begin() + 5));  // format and key version
    const auto secret = fixed_from_hex<32>(text("data_secret_key"));
    EXPECT_EQ(open_envelope(secret, binding(), a), document);
    EXPECT_EQ(open_envelope(secret, binding(), b), document);
    envelope::Binding other = binding();
    other.sequence += 1;
    EXPECT_THROW(open_envelope(secret, other, a), std::runtime_error);
}

TEST(Envelope, ARandomSourceThatRunsOutIsAnError) {
    FixedRandom short_random(Bytes(40, 1));
    EXPECT_THROW(envelope::seal_reading(data_key(), 1, binding(), "x", short_random), std::runtime_error);
}

}  // namespace
}  // namespace medchain
