// Reading a patient's earlier records back (getMedicalRecords is
// access-controlled: the reader address must be allowed to read, see
// MedicalRecords.canRead; a device is not unless a hospital authorised it).
#pragma once

#include <cstdint>
#include <vector>

#include "medchain/eth_client.hpp"
#include "medchain/medical_records.hpp"

namespace medchain {

class RecordHistory {
public:
    RecordHistory(EthClient& eth, const Address& contract, const Address& reader)
        : eth_(eth), contract_(contract), reader_(reader) {}

    std::uint64_t count(const Bytes32& patient);
    std::vector<medical_records::Record> page(const Bytes32& patient, std::uint64_t offset, std::uint64_t limit);
    // The newest `limit` records, oldest first.
    std::vector<medical_records::Record> latest(const Bytes32& patient, std::uint64_t limit);

private:
    EthClient& eth_;
    Address contract_;
    Address reader_;
};

}  // namespace medchain
