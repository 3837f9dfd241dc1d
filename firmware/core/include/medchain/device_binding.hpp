// Whether this device may write for a patient: the contract binds each
// device to one patient, so a mistyped SSN can be caught when it is entered
// rather than when the reading is refused.
#pragma once

#include "medchain/eth_client.hpp"

namespace medchain {

enum class Binding {
    Bound,          // active, and bound to this patient
    OtherPatient,   // active, but bound to someone else: readings would be refused
    NotRegistered,  // not (or no longer) registered: readings wait until it is
};

// Reads devices(device) at "latest" from MedicalRecords, or from
// PrivateRecords when `private_records` (its Device struct differs);
// throws what EthClient throws.
Binding check_binding(EthClient& eth, const Address& contract, const Address& device, const Bytes32& patient,
                      bool private_records = false);

}  // namespace medchain
