#include <gtest/gtest.h>

#include "medchain/abi.hpp"
#include "medchain/hex.hpp"
#include "medchain/medical_records.hpp"
#include "support/vectors.hpp"

namespace medchain {
namespace {

namespace mr = medical_records;
using nlohmann::json;

std::uint64_t u64(const json& value) { return std::stoull(value.get<std::string>()); }

Bytes32 bytes32(const json& value) { return fixed_from_hex<32>(value.get<std::string>()); }

TEST(MedicalRecords, SelectorsMatchTheContractAbi) {
    const auto& selectors = test::vectors().at("selectors");
    for (const auto& signature :
         {mr::kAddMedicalRecord, mr::kGetMedicalRecords, mr::kMedicalRecordCount, mr::kDevices}) {
        ASSERT_TRUE(selectors.contains(std::string(signature))) << signature;
        EXPECT_EQ(to_hex(abi::selector(signature)), selectors.at(std::string(signature)).get<std::string>());
    }
}

TEST(MedicalRecords, AddMedicalRecordCalldata) {
    const auto& cases = test::vectors().at("calldata").at("addMedicalRecord");
    ASSERT_GE(cases.size(), 5u);
    for (const auto& c : cases) {
        mr::NewRecord record;
        record.patient = bytes32(c.at("patient"));
        record.vitals.heart_rate = c.at("heart_rate").get<std::uint16_t>();
        record.vitals.spo2 = c.at("spo2").get<std::uint16_t>();
        record.vitals.systolic = c.at("systolic").get<std::uint16_t>();
        record.vitals.diastolic = c.at("diastolic").get<std::uint16_t>();
        record.vitals.temperature_centi_c = c.at("temperature_centi_c").get<std::int16_t>();
        record.device_timestamp = u64(c.at("device_timestamp"));
        record.sequence = u64(c.at("sequence"));
        EXPECT_EQ(to_hex(mr::encode_add_medical_record(record)), c.at("calldata").get<std::string>()) << c.dump();
    }
}

TEST(MedicalRecords, ViewCalldata) {
    const auto& calldata = test::vectors().at("calldata");
    for (const auto& c : calldata.at("getMedicalRecords")) {
        EXPECT_EQ(to_hex(mr::encode_get_medical_records(bytes32(c.at("patient")), U256(u64(c.at("offset"))),
                                                        U256(u64(c.at("limit"))))),
                  c.at("calldata").get<std::string>());
    }
    for (const auto& c : calldata.at("medicalRecordCount")) {
        EXPECT_EQ(to_hex(mr::encode_medical_record_count(bytes32(c.at("patient")))),
                  c.at("calldata").get<std::string>());
    }
    for (const auto& c : calldata.at("devices")) {
        EXPECT_EQ(to_hex(mr::encode_devices(fixed_from_hex<20>(c.at("device").get<std::string>()))),
                  c.at("calldata").get<std::string>());
    }
}

TEST(MedicalRecords, DecodesGetMedicalRecords) {
    const auto& cases = test::vectors().at("returns").at("getMedicalRecords");
    ASSERT_EQ(cases.size(), 3u);
    for (const auto& c : cases) {
        const auto records = mr::decode_get_medical_records(from_hex(c.at("data").get<std::string>()));
        const auto& expected = c.at("records");
        ASSERT_EQ(records.size(), expected.size());
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& e = expected[i];
            const mr::Record& r = records[i];
            EXPECT_EQ(r.vitals.heart_rate, e.at("heart_rate").get<std::uint16_t>());
            EXPECT_EQ(r.vitals.spo2, e.at("spo2").get<std::uint16_t>());
            EXPECT_EQ(r.vitals.systolic, e.at("systolic").get<std::uint16_t>());
            EXPECT_EQ(r.vitals.diastolic, e.at("diastolic").get<std::uint16_t>());
            EXPECT_EQ(r.vitals.temperature_centi_c, e.at("temperature_centi_c").get<std::int16_t>());
            EXPECT_EQ(r.device_timestamp, u64(e.at("device_timestamp")));
            EXPECT_EQ(r.sequence, u64(e.at("sequence")));
            EXPECT_EQ(to_hex(r.device), e.at("device").get<std::string>());
            EXPECT_EQ(r.block_timestamp, u64(e.at("block_timestamp")));
        }
    }
}

TEST(MedicalRecords, RejectsTruncatedRecordPages) {
    const auto& page = test::vectors().at("returns").at("getMedicalRecords").at(2);
    Bytes data = from_hex(page.at("data").get<std::string>());
    data.resize(data.size() - 32);
    EXPECT_THROW(mr::decode_get_medical_records(data), abi::AbiError);
}

TEST(MedicalRecords, DecodesCountAndDevice) {
    const auto& returns = test::vectors().at("returns");
    for (const auto& c : returns.at("medicalRecordCount")) {
        EXPECT_EQ(mr::decode_medical_record_count(from_hex(c.at("data").get<std::string>())).to_quantity(),
                  c.at("count").get<std::string>());
    }
    for (const auto& c : returns.at("devices")) {
        const mr::DeviceState state = mr::decode_devices(from_hex(c.at("data").get<std::string>()));
        EXPECT_EQ(to_hex(state.patient), c.at("patient").get<std::string>());
        EXPECT_EQ(state.last_sequence, u64(c.at("last_sequence")));
        EXPECT_EQ(state.active, c.at("active").get<bool>());
    }
}

TEST(MedicalRecords, RecordAddedEvent) {
    const auto& event = test::vectors().at("record_added");
    EXPECT_EQ(std::string(mr::kRecordAdded), event.at("signature").get<std::string>());
    EXPECT_EQ(to_hex(mr::record_added_topic()), event.at("topic0").get<std::string>());
    for (const auto& log : event.at("logs")) {
        std::vector<Hash> topics;
        for (const auto& t : log.at("topics")) topics.push_back(bytes32(t));
        const auto decoded = mr::decode_record_added(topics, from_hex(log.at("data").get<std::string>()));
        ASSERT_TRUE(decoded.has_value());
        EXPECT_EQ(to_hex(decoded->patient), log.at("patient").get<std::string>());
        EXPECT_EQ(to_hex(decoded->device), log.at("device").get<std::string>());
        EXPECT_EQ(decoded->record_id.to_decimal(), log.at("record_id").get<std::string>());
        EXPECT_EQ(decoded->sequence, u64(log.at("sequence")));
        EXPECT_EQ(decoded->device_timestamp, u64(log.at("device_timestamp")));
    }
}

TEST(MedicalRecords, OtherEventsAreNotRecordAdded) {
    EXPECT_FALSE(mr::decode_record_added({}, Bytes{}).has_value());
    EXPECT_FALSE(mr::decode_record_added({Hash{}}, Bytes{}).has_value());
    EXPECT_THROW(mr::decode_record_added({mr::record_added_topic()}, Bytes(64, 0)), abi::AbiError);
}

}  // namespace
}  // namespace medchain
