#include "medchain/device_binding.hpp"

#include "medchain/medical_records.hpp"
#include "medchain/private_records.hpp"

namespace medchain {

Binding check_binding(EthClient& eth, const Address& contract, const Address& device, const Bytes32& patient,
                      bool private_records) {
    bool active = false;
    Bytes32 bound{};
    if (private_records) {
        const private_records::DeviceState state =
            private_records::decode_devices(eth.call({device, contract, private_records::encode_devices(device)}));
        active = state.active;
        bound = state.patient;
    } else {
        const medical_records::DeviceState state =
            medical_records::decode_devices(eth.call({device, contract, medical_records::encode_devices(device)}));
        active = state.active;
        bound = state.patient;
    }
    if (!active) return Binding::NotRegistered;
    return bound == patient ? Binding::Bound : Binding::OtherPatient;
}

}  // namespace medchain
