#include "medchain/device_binding.hpp"

#include "medchain/medical_records.hpp"

namespace medchain {

Binding check_binding(EthClient& eth, const Address& contract, const Address& device, const Bytes32& patient) {
    const medical_records::DeviceState state =
        medical_records::decode_devices(eth.call({device, contract, medical_records::encode_devices(device)}));
    if (!state.active) return Binding::NotRegistered;
    return state.patient == patient ? Binding::Bound : Binding::OtherPatient;
}

}  // namespace medchain
