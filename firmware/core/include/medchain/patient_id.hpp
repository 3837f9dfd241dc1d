// The on-chain patient id: keccak256(salt ‖ utf8(ssn)), i.e.
// keccak256(abi.encodePacked(bytes32 salt, bytes ssn)). The SSN never leaves
// the device; the per-network salt keeps ids from linking across networks.
#pragma once

#include <string_view>

#include "medchain/bytes.hpp"

namespace medchain {

Bytes32 patient_id(const Bytes32& salt, std::string_view ssn_utf8);

}  // namespace medchain
