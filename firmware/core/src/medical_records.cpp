#include "medchain/medical_records.hpp"

#include "medchain/abi.hpp"
#include "medchain/keccak.hpp"

namespace medchain::medical_records {
namespace {

using abi::kWordSize;

constexpr std::size_t kRecordWords = 9;  // Record is a static tuple of nine words

}  // namespace

Bytes encode_add_medical_record(const NewRecord& record) {
    return abi::CallEncoder(kAddMedicalRecord)
        .add_bytes32(record.patient)
        .add_uint(record.vitals.heart_rate)
        .add_uint(record.vitals.spo2)
        .add_uint(record.vitals.systolic)
        .add_uint(record.vitals.diastolic)
        .add_int(record.vitals.temperature_centi_c)
        .add_uint(record.device_timestamp)
        .add_uint(record.sequence)
        .data();
}

Bytes encode_get_medical_records(const Bytes32& patient, const U256& offset, const U256& limit) {
    return abi::CallEncoder(kGetMedicalRecords).add_bytes32(patient).add_uint(offset).add_uint(limit).data();
}

Bytes encode_medical_record_count(const Bytes32& patient) {
    return abi::CallEncoder(kMedicalRecordCount).add_bytes32(patient).data();
}

Bytes encode_devices(const Address& device) { return abi::CallEncoder(kDevices).add_address(device).data(); }

std::vector<Record> decode_get_medical_records(ByteSpan data) {
    const abi::Decoder in(data);
    const std::size_t array_at = in.offset_at(0);
    const U256 length = in.uint256_at(array_at);
    const std::size_t first = array_at + kWordSize;
    const std::size_t record_size = kRecordWords * kWordSize;
    if (!length.fits_u64() || length.low_u64() > (in.size() - first) / record_size) {
        throw abi::AbiError("getMedicalRecords result shorter than its length says");
    }
    std::vector<Record> records(static_cast<std::size_t>(length.low_u64()));
    for (std::size_t i = 0; i < records.size(); ++i) {
        const std::size_t at = first + i * record_size;
        const auto field = [at](std::size_t n) { return at + n * kWordSize; };
        Record& r = records[i];
        r.vitals.heart_rate = static_cast<std::uint16_t>(in.uint_at(field(0), 16));
        r.vitals.spo2 = static_cast<std::uint16_t>(in.uint_at(field(1), 16));
        r.vitals.systolic = static_cast<std::uint16_t>(in.uint_at(field(2), 16));
        r.vitals.diastolic = static_cast<std::uint16_t>(in.uint_at(field(3), 16));
        r.vitals.temperature_centi_c = static_cast<std::int16_t>(in.int_at(field(4), 16));
        r.device_timestamp = in.uint_at(field(5), 64);
        r.sequence = in.uint_at(field(6), 64);
        r.device = in.address_at(field(7));
        r.block_timestamp = in.uint_at(field(8), 64);
    }
    return records;
}

U256 decode_medical_record_count(ByteSpan data) { return abi::Decoder(data).uint256_at(0); }

DeviceState decode_devices(ByteSpan data) {
    const abi::Decoder in(data);
    DeviceState state;
    state.patient = in.bytes32_at(0);
    state.last_sequence = in.uint_at(kWordSize, 64);
    state.active = in.bool_at(2 * kWordSize);
    return state;
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
    const abi::Decoder device(topics[2]);
    event.device = device.address_at(0);
    event.record_id = U256::from_big_endian(topics[3]);
    const abi::Decoder in(data);
    event.sequence = in.uint_at(0, 64);
    event.device_timestamp = in.uint_at(kWordSize, 64);
    return event;
}

}  // namespace medchain::medical_records
