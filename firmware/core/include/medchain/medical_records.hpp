// Calldata and result decoding for the MedicalRecords contract functions a
// device uses (contracts/MedicalRecords.sol).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "medchain/bytes.hpp"
#include "medchain/u256.hpp"
#include "medchain/vital_signs.hpp"

namespace medchain::medical_records {

constexpr std::string_view kAddMedicalRecord =
    "addMedicalRecord(bytes32,uint16,uint16,uint16,uint16,int16,uint64,uint64)";
constexpr std::string_view kGetMedicalRecords = "getMedicalRecords(bytes32,uint256,uint256)";
constexpr std::string_view kMedicalRecordCount = "medicalRecordCount(bytes32)";
constexpr std::string_view kDevices = "devices(address)";
constexpr std::string_view kRecordAdded = "RecordAdded(bytes32,address,uint256,uint64,uint64)";

// Revert reason of addMedicalRecord for a sequence at or below the device's
// last accepted one (a retry of a reading that is already on chain).
constexpr std::string_view kDuplicateSequenceReason = "MedicalRecords: duplicate or stale sequence";
// Revert reason of addMedicalRecord for a patient other than the one the
// device is bound to (a mistyped SSN): retrying cannot help.
constexpr std::string_view kNotBoundReason = "MedicalRecords: device not bound to this patient";

// Arguments of addMedicalRecord.
struct NewRecord {
    Bytes32 patient{};
    VitalSigns vitals;
    std::uint64_t device_timestamp = 0;
    std::uint64_t sequence = 0;
};

// One element of getMedicalRecords' result.
struct Record {
    VitalSigns vitals;
    std::uint64_t device_timestamp = 0;
    std::uint64_t sequence = 0;
    Address device{};
    std::uint64_t block_timestamp = 0;
};

// Result of devices(address).
struct DeviceState {
    Bytes32 patient{};
    std::uint64_t last_sequence = 0;
    bool active = false;
};

// The RecordAdded event.
struct RecordAdded {
    Bytes32 patient{};
    Address device{};
    U256 record_id;
    std::uint64_t sequence = 0;
    std::uint64_t device_timestamp = 0;
};

Bytes encode_add_medical_record(const NewRecord& record);
Bytes encode_get_medical_records(const Bytes32& patient, const U256& offset, const U256& limit);
Bytes encode_medical_record_count(const Bytes32& patient);
Bytes encode_devices(const Address& device);

// Each throws abi::AbiError on malformed data.
std::vector<Record> decode_get_medical_records(ByteSpan data);
U256 decode_medical_record_count(ByteSpan data);
DeviceState decode_devices(ByteSpan data);

// topic0 of RecordAdded.
const Hash& record_added_topic();

// The event if `topics`/`data` are a RecordAdded log, else nullopt; throws
// abi::AbiError if they claim to be one but are malformed.
std::optional<RecordAdded> decode_record_added(const std::vector<Hash>& topics, ByteSpan data);

}  // namespace medchain::medical_records
