#include "medchain/patient_id.hpp"

#include "medchain/keccak.hpp"

namespace medchain {

Bytes32 patient_id(const Bytes32& salt, std::string_view ssn_utf8) {
    return Keccak256().update(salt).update(ssn_utf8).finish();
}

}  // namespace medchain
