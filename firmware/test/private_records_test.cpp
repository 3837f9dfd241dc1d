#include <gtest/gtest.h>

#include "medchain/abi.hpp"
#include "medchain/content_id.hpp"
#include "medchain/hex.hpp"
#include "medchain/keccak.hpp"
#include "medchain/private_records.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

namespace pr = private_records;
using nlohmann::json;

const json& priv() { return test::vectors().at("private"); }

std::string str(const json& value) { return value.get<std::string>(); }

std::uint64_t u64(const json& value) { return std::stoull(str(value)); }

TEST(PrivateRecords, SelectorsMatchTheContractAbi) {
    const auto& selectors = priv().at("selectors");
    for (const auto& signature : {pr::kAddRecord, pr::kDevices, pr::kPatients, pr::kDataPublicKey}) {
        ASSERT_TRUE(selectors.contains(std::string(signature))) << signature;
        EXPECT_EQ(to_hex(abi::selector(signature)), str(selectors.at(std::string(signature))));
    }
}

TEST(PrivateRecords, AddRecordCalldata) {
    const auto& cases = priv().at("calldata").at("addRecord");
    ASSERT_GE(cases.size(), 3u);
    for (const auto& c : cases) {
        pr::NewRecord record;
        record.patient = fixed_from_hex<32>(str(c.at("patient")));
        record.cid_digest = fixed_from_hex<32>(str(c.at("cid_digest")));
        record.key_version = c.at("key_version").get<std::uint32_t>();
        record.device_timestamp = u64(c.at("device_timestamp"));
        record.sequence = u64(c.at("sequence"));
        EXPECT_EQ(to_hex(pr::encode_add_record(record)), str(c.at("calldata"))) << c.dump();
    }
}

TEST(PrivateRecords, AddRecordOfTheSealedEnvelope) {
    const auto& e = priv().at("envelope");
    const Bytes stored = from_hex(str(e.at("envelope")));
    EXPECT_EQ(content_id::of(stored), str(e.at("cid")));
    pr::NewRecord record;
    record.patient = fixed_from_hex<32>(str(e.at("patient")));
    record.cid_digest = content_id::digest(stored);
    EXPECT_EQ(to_hex(record.cid_digest), str(e.at("digest")));
    record.key_version = e.at("key_version").get<std::uint32_t>();
    record.device_timestamp = u64(e.at("taken_ms"));
    record.sequence = u64(e.at("sequence"));
    EXPECT_EQ(to_hex(pr::encode_add_record(record)), str(e.at("add_record_calldata")));
}

TEST(PrivateRecords, ViewCalldata) {
    const auto& calldata = priv().at("calldata");
    for (const auto& c : calldata.at("devices")) {
        EXPECT_EQ(to_hex(pr::encode_devices(fixed_from_hex<20>(str(c.at("device"))))), str(c.at("calldata")));
    }
    for (const auto& c : calldata.at("patients")) {
        EXPECT_EQ(to_hex(pr::encode_patients(fixed_from_hex<32>(str(c.at("patient"))))), str(c.at("calldata")));
    }
    for (const auto& c : calldata.at("dataPublicKey")) {
        EXPECT_EQ(to_hex(pr::encode_data_public_key(fixed_from_hex<32>(str(c.at("patient"))),
                                                    c.at("version").get<std::uint32_t>())),
                  str(c.at("calldata")));
    }
}

TEST(PrivateRecords, DecodesReturns) {
    const auto& returns = priv().at("returns");
    for (const auto& c : returns.at("devices")) {
        const auto state = pr::decode_devices(from_hex(str(c.at("data"))));
        EXPECT_EQ(to_hex(state.patient), str(c.at("patient")));
        EXPECT_EQ(to_hex(state.registered_by), str(c.at("registered_by")));
        EXPECT_EQ(state.last_sequence, u64(c.at("last_sequence")));
        EXPECT_EQ(state.active, c.at("active").get<bool>());
    }
    for (const auto& c : returns.at("patients")) {
        const auto state = pr::decode_patients(from_hex(str(c.at("data"))));
        EXPECT_EQ(to_hex(state.wallet), str(c.at("wallet")));
        EXPECT_EQ(to_hex(state.custodian), str(c.at("custodian")));
        EXPECT_EQ(state.key_version, c.at("key_version").get<std::uint32_t>());
    }
    for (const auto& c : returns.at("dataPublicKey")) {
        const auto key = pr::decode_data_public_key(from_hex(str(c.at("data"))));
        if (str(c.at("key")) == "0x") {
            EXPECT_FALSE(key.has_value());
        } else {
            ASSERT_TRUE(key.has_value());
            EXPECT_EQ(to_hex(*key), str(c.at("key")));
        }
    }
    for (const auto& c : returns.at("addRecord")) {
        EXPECT_EQ(pr::decode_add_record(from_hex(str(c.at("data")))).low_u64(), parse_quantity(str(c.at("record_id"))));
    }
}

TEST(PrivateRecords, RefusesMalformedReturns) {
    const auto& returns = priv().at("returns");
    Bytes key = from_hex(str(returns.at("dataPublicKey")[0].at("data")));
    key[63] = 32;  // a 32-byte key
    EXPECT_THROW(pr::decode_data_public_key(key), abi::AbiError);
    key[63] = 200;  // longer than the data
    EXPECT_THROW(pr::decode_data_public_key(key), abi::AbiError);
    Bytes patients = from_hex(str(returns.at("patients")[1].at("data")));
    patients[3 * 32 - 5] = 1;  // a key version above uint32
    EXPECT_THROW(pr::decode_patients(patients), abi::AbiError);
    EXPECT_THROW(pr::decode_devices(Bytes(3 * 32, 0)), abi::AbiError);
}

TEST(PrivateRecords, RecordAddedEvent) {
    // event RecordAdded(bytes32 indexed patient, address indexed device,
    //                   uint256 indexed recordId, uint64 sequence)
    EXPECT_EQ(pr::record_added_topic(), keccak256("RecordAdded(bytes32,address,uint256,uint64)"));
    Bytes32 patient{};
    patient.fill(0xab);
    Bytes32 device_word{};
    device_word[31] = 0x42;
    const std::vector<Hash> topics{pr::record_added_topic(), patient, device_word, U256(7).to_big_endian()};
    const auto event = pr::decode_record_added(topics, U256(12).to_big_endian());
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->patient, patient);
    EXPECT_EQ(event->device[19], 0x42);
    EXPECT_EQ(event->record_id, U256(7));
    EXPECT_EQ(event->sequence, 12u);
    // Another event, or MedicalRecords' RecordAdded: not this one.
    EXPECT_FALSE(pr::decode_record_added({keccak256("Other()")}, Bytes{}).has_value());
    EXPECT_FALSE(pr::decode_record_added({}, Bytes{}).has_value());
    EXPECT_THROW(pr::decode_record_added({pr::record_added_topic(), patient}, Bytes(32, 0)), abi::AbiError);
}

}  // namespace
}  // namespace medchain
