#include "medchain/private_records.hpp"

#include <algorithm>

#include "medchain/abi.hpp"
#include "medchain/keccak.hpp"

namespace medchain::private_records {

using abi::kWordSize;

Bytes encode_add_record(const NewRecord& record) {
    return abi::CallEncoder(kAddRecord)
        .add_bytes32(record.patient)
        .add_bytes32(record.cid_digest)
        .add_uint(U256(record.key_version))
        .add_uint(U256(record.device_timestamp))
        .add_uint(U256(record.sequence))
        .data();
}

Bytes encode_devices(const Address& device) { return abi::CallEncoder(kDevices).add_address(device).data(); }

Bytes encode_patients(const Bytes32& patient) { return abi::CallEncoder(kPatients).add_bytes32(patient).data(); }

Bytes encode_data_public_key(const Bytes32& patient, std::uint32_t version) {
    return abi::CallEncoder(kDataPublicKey).add_bytes32(patient).add_uint(U256(version)).data();
}

U256 decode_add_record(ByteSpan data) { return abi::Decoder(data).uint256_at(0); }

DeviceState decode_devices(ByteSpan data) {
    const abi::Decoder in(data);
    DeviceState state;
    state.patient = in.bytes32_at(0);
    state.registered_by = in.address_at(kWordSize);
    state.last_sequence = in.uint_at(2 * kWordSize, 64);
    state.active = in.bool_at(3 * kWordSize);
    return state;
}

PatientState decode_patients(ByteSpan data) {
    const abi::Decoder in(data);
    PatientState state;
    state.wallet = in.address_at(0);
    state.custodian = in.address_at(kWordSize);
    state.key_version = static_cast<std::uint32_t>(in.uint_at(2 * kWordSize, 32));
    return state;
}

std::optional<CompressedPublicKey> decode_data_public_key(ByteSpan data) {
    const abi::Decoder in(data);
    const std::size_t at = in.offset_at(0);
    const U256 length = in.uint256_at(at);
    const std::size_t start = at + kWordSize;
    if (!length.fits_u64() || length.low_u64() > in.size() - start) {
        throw abi::AbiError("dataPublicKey result shorter than its length says");
    }
    if (length.low_u64() == 0) return std::nullopt;
    CompressedPublicKey key{};
    if (length.low_u64() != key.size()) {
        throw abi::AbiError("dataPublicKey is " + std::to_string(length.low_u64()) +
                            " bytes, not a 33-byte compressed key");
    }
    const ByteSpan bytes = data.subspan(start, key.size());
    std::copy(bytes.begin(), bytes.end(), key.begin());
    return key;
}

const Hash& record_added_topic() {
    static const Hash topic = keccak256(kRecordAdded);
    return topic;
}

std::optional<RecordAdded> decode_record_added(const std::vector<Hash>& topics, ByteSpan data) {
    if (topics.empty() || topics[0] != record_added_topic()) return std::nullopt;
    if (topics.size() != 4) throw abi::AbiError("RecordAdded log must have four topics");
    RecordAdded event;
    event.patient = topics[1];
    event.device = abi::Decoder(topics[2]).address_at(0);
    event.record_id = U256::from_big_endian(topics[3]);
    event.sequence = abi::Decoder(data).uint_at(0, 64);
    return event;
}

}  // namespace medchain::private_records
