// Calldata and result decoding for the PrivateRecords contract functions a
// device uses on a private network (contracts/PrivateRecords.sol): the
// device's state (its last sequence), the patient's current data key
// version and that version's data public key, and addRecord with only the
// sealed reading's CID digest.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "medchain/bytes.hpp"
#include "medchain/u256.hpp"

namespace medchain::private_records {

constexpr std::string_view kAddRecord = "addRecord(bytes32,bytes32,uint32,uint64,uint64)";
constexpr std::string_view kDevices = "devices(address)";
constexpr std::string_view kPatients = "patients(bytes32)";
constexpr std::string_view kDataPublicKey = "dataPublicKey(bytes32,uint32)";
constexpr std::string_view kRecordAdded = "RecordAdded(bytes32,address,uint256,uint64)";

// addRecord's revert reasons a device can act on.
// A sequence at or below the device's last accepted one (a retry of a
// record that is already on chain).
constexpr std::string_view kDuplicateSequenceReason = "PrivateRecords: duplicate or stale sequence";
// The patient's key was rotated (consent revoked) after the reading was
// sealed: refetch the current key and seal again.
constexpr std::string_view kRetiredKeyReason = "PrivateRecords: sealed to a retired key version";
// A patient other than the device's: retrying cannot help.
constexpr std::string_view kNotBoundReason = "PrivateRecords: device not bound to this patient";

// Arguments of addRecord.
struct NewRecord {
    Bytes32 patient{};
    Bytes32 cid_digest{};  // sha2-256 of the sealed envelope (content_id::digest)
    std::uint32_t key_version = 0;
    std::uint64_t device_timestamp = 0;  // ms since the epoch, the FHIR document's time
    std::uint64_t sequence = 0;
};

// Result of devices(address).
struct DeviceState {
    Bytes32 patient{};
    Address registered_by{};
    std::uint64_t last_sequence = 0;
    bool active = false;
};

// Result of patients(bytes32): key_version is the current data key version
// (0 for a patient not registered).
struct PatientState {
    Address wallet{};
    Address custodian{};
    std::uint32_t key_version = 0;
};

// The RecordAdded event (patient, device and record id indexed; the
// sequence in the data).
struct RecordAdded {
    Bytes32 patient{};
    Address device{};
    U256 record_id;
    std::uint64_t sequence = 0;
};

using CompressedPublicKey = std::array<std::uint8_t, 33>;

Bytes encode_add_record(const NewRecord& record);
Bytes encode_devices(const Address& device);
Bytes encode_patients(const Bytes32& patient);
Bytes encode_data_public_key(const Bytes32& patient, std::uint32_t version);

// Each throws abi::AbiError on malformed data.
U256 decode_add_record(ByteSpan data);  // the new record's id
DeviceState decode_devices(ByteSpan data);
PatientState decode_patients(ByteSpan data);
// The 33-byte compressed key, or nullopt when the contract holds none for
// that version (empty bytes). Any other length is an AbiError.
std::optional<CompressedPublicKey> decode_data_public_key(ByteSpan data);

// topic0 of RecordAdded.
const Hash& record_added_topic();

// The event if `topics`/`data` are a RecordAdded log, else nullopt; throws
// abi::AbiError if they claim to be one but are malformed.
std::optional<RecordAdded> decode_record_added(const std::vector<Hash>& topics, ByteSpan data);

}  // namespace medchain::private_records
