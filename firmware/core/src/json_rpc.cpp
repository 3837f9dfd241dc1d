#include "medchain/json_rpc.hpp"

#include <utility>

namespace medchain {

RpcError::RpcError(int code, const std::string& message, Json data)
    : std::runtime_error("JSON-RPC error " + std::to_string(code) + ": " + message),
      code_(code),
      message_(message),
      data_(std::move(data)) {}

std::string build_request(std::uint64_t id, std::string_view method, const Json& params) {
    return Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", std::string(method)}, {"params", params}}.dump();
}

Json parse_response(const std::string& body, std::uint64_t expected_id) {
    Json response = Json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (response.is_discarded() || !response.is_object()) {
        throw ProtocolError("JSON-RPC response is not a JSON object: " + body.substr(0, 200));
    }
    const auto id = response.find("id");
    if (id == response.end() || !id->is_number_unsigned() || id->get<std::uint64_t>() != expected_id) {
        throw ProtocolError("JSON-RPC response id does not match request " + std::to_string(expected_id));
    }
    if (const auto error = response.find("error"); error != response.end() && !error->is_null()) {
        if (!error->is_object()) throw ProtocolError("JSON-RPC error is not an object");
        const auto code = error->find("code");
        const auto message = error->find("message");
        const auto data = error->find("data");
        throw RpcError(code != error->end() && code->is_number_integer() ? code->get<int>() : 0,
                       message != error->end() && message->is_string() ? message->get<std::string>() : "",
                       data != error->end() ? *data : Json());
    }
    const auto result = response.find("result");
    if (result == response.end()) throw ProtocolError("JSON-RPC response has neither result nor error");
    return std::move(*result);
}

Json JsonRpcClient::call(std::string_view method, const Json& params) {
    const std::uint64_t id = next_id_++;
    return parse_response(transport_.post(build_request(id, method, params)), id);
}

}  // namespace medchain
