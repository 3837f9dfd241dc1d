// JSON-RPC 2.0 over a Transport.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "medchain/transport.hpp"

namespace medchain {

using Json = nlohmann::json;

// The node answered with a JSON-RPC error object.
class RpcError : public std::runtime_error {
public:
    RpcError(int code, const std::string& message, Json data);

    int code() const { return code_; }
    // The node's message, e.g. "nonce too low" or "execution reverted: ...".
    const std::string& message() const { return message_; }
    // The error's "data" member (revert data for eth_call/eth_estimateGas), or null.
    const Json& data() const { return data_; }

private:
    int code_;
    std::string message_;
    Json data_;
};

// The response was not valid JSON-RPC (or a result had an unexpected shape).
class ProtocolError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// {"jsonrpc":"2.0","id":id,"method":method,"params":params}
std::string build_request(std::uint64_t id, std::string_view method, const Json& params);

// The "result" of a response to request `expected_id`; throws RpcError for
// an error response and ProtocolError for anything malformed.
Json parse_response(const std::string& body, std::uint64_t expected_id);

class JsonRpcClient {
public:
    explicit JsonRpcClient(Transport& transport) : transport_(transport) {}

    // Throws TransportError, RpcError or ProtocolError.
    Json call(std::string_view method, const Json& params);

private:
    Transport& transport_;
    std::uint64_t next_id_ = 1;
};

}  // namespace medchain
