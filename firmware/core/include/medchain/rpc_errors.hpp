// Reading meaning out of the node's JSON-RPC errors (geth's wording).
#pragma once

#include <optional>
#include <string>

#include "medchain/json_rpc.hpp"

namespace medchain {

// The revert reason of a failed eth_call/eth_estimateGas: decoded from the
// Error(string) revert data when the node sends it (geth: code 3 with hex
// "data"), else taken from a message "execution reverted: <reason>".
std::optional<std::string> revert_reason(const RpcError& error);

// eth_sendRawTransaction: the nonce was already used by a mined transaction.
bool is_nonce_too_low(const RpcError& error);
// eth_sendRawTransaction: this exact transaction is already in the pool.
bool is_already_known(const RpcError& error);

}  // namespace medchain
