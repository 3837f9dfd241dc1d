#include "medchain/record_history.hpp"

#include "medchain/abi.hpp"

namespace medchain {

namespace mr = medical_records;

std::uint64_t RecordHistory::count(const Bytes32& patient) {
    const U256 count =
        mr::decode_medical_record_count(eth_.call({reader_, contract_, mr::encode_medical_record_count(patient)}));
    if (!count.fits_u64()) throw abi::AbiError("record count does not fit 64 bits");
    return count.low_u64();
}

std::vector<mr::Record> RecordHistory::page(const Bytes32& patient, std::uint64_t offset, std::uint64_t limit) {
    return mr::decode_get_medical_records(
        eth_.call({reader_, contract_, mr::encode_get_medical_records(patient, offset, limit)}));
}

std::vector<mr::Record> RecordHistory::latest(const Bytes32& patient, std::uint64_t limit) {
    const std::uint64_t total = count(patient);
    const std::uint64_t offset = total > limit ? total - limit : 0;
    return page(patient, offset, limit);
}

}  // namespace medchain
