#include "medchain/transaction.hpp"

#include "medchain/keccak.hpp"
#include "medchain/rlp.hpp"

namespace medchain {
namespace {

constexpr std::uint8_t kEip1559Type = 0x02;

// r and s are integers in RLP: leading zero bytes are dropped.
Bytes encode_scalar(const Bytes32& scalar) { return rlp::encode_uint(U256::from_big_endian(scalar)); }

std::vector<Bytes> legacy_fields(const LegacyTransaction& tx) {
    return {rlp::encode_uint(tx.nonce), rlp::encode_uint(tx.gas_price), rlp::encode_uint(tx.gas_limit),
            rlp::encode_bytes(tx.to),   rlp::encode_uint(tx.value),     rlp::encode_bytes(tx.data)};
}

std::vector<Bytes> eip1559_fields(const Eip1559Transaction& tx) {
    return {rlp::encode_uint(tx.chain_id),
            rlp::encode_uint(tx.nonce),
            rlp::encode_uint(tx.max_priority_fee_per_gas),
            rlp::encode_uint(tx.max_fee_per_gas),
            rlp::encode_uint(tx.gas_limit),
            rlp::encode_bytes(tx.to),
            rlp::encode_uint(tx.value),
            rlp::encode_bytes(tx.data),
            rlp::encode_list({})};  // access list
}

Bytes typed(std::uint8_t type, const Bytes& payload) {
    Bytes out{type};
    append(out, payload);
    return out;
}

template <typename Tx>
SignedTransaction sign_any(const Tx& tx, const Signer& signer) {
    SignedTransaction out;
    out.signature = signer.sign(tx.signing_hash());
    out.raw = tx.encode_signed(out.signature);
    out.hash = keccak256(out.raw);
    return out;
}

}  // namespace

Hash LegacyTransaction::signing_hash() const {
    std::vector<Bytes> fields = legacy_fields(*this);
    fields.push_back(rlp::encode_uint(chain_id));
    fields.push_back(rlp::encode_uint(0));
    fields.push_back(rlp::encode_uint(0));
    return keccak256(rlp::encode_list(fields));
}

Bytes LegacyTransaction::encode_signed(const Signature& signature) const {
    std::vector<Bytes> fields = legacy_fields(*this);
    const U256 v = U256(chain_id).mul_small(2) + U256(35 + std::uint64_t{signature.recovery_id});
    fields.push_back(rlp::encode_uint(v));
    fields.push_back(encode_scalar(signature.r));
    fields.push_back(encode_scalar(signature.s));
    return rlp::encode_list(fields);
}

Hash Eip1559Transaction::signing_hash() const {
    return keccak256(typed(kEip1559Type, rlp::encode_list(eip1559_fields(*this))));
}

Bytes Eip1559Transaction::encode_signed(const Signature& signature) const {
    std::vector<Bytes> fields = eip1559_fields(*this);
    fields.push_back(rlp::encode_uint(signature.recovery_id));
    fields.push_back(encode_scalar(signature.r));
    fields.push_back(encode_scalar(signature.s));
    return typed(kEip1559Type, rlp::encode_list(fields));
}

SignedTransaction sign_transaction(const LegacyTransaction& tx, const Signer& signer) { return sign_any(tx, signer); }

SignedTransaction sign_transaction(const Eip1559Transaction& tx, const Signer& signer) { return sign_any(tx, signer); }

}  // namespace medchain
