#include "medchain/eth_client.hpp"

#include <string>

#include "medchain/hex.hpp"

namespace medchain {
namespace {

const Json& field(const Json& object, const char* name) {
    if (!object.is_object()) throw ProtocolError(std::string("expected an object with \"") + name + "\"");
    const auto it = object.find(name);
    if (it == object.end()) throw ProtocolError(std::string("missing \"") + name + "\" in RPC result");
    return *it;
}

const std::string& as_string(const Json& value) {
    if (!value.is_string()) throw ProtocolError("expected a string in RPC result, got " + value.dump());
    return value.get_ref<const std::string&>();
}

// Converts the core's std::invalid_argument on bad hex into ProtocolError.
template <typename F>
auto parsed(const Json& value, F&& parse) {
    try {
        return parse(as_string(value));
    } catch (const std::invalid_argument& e) {
        throw ProtocolError(std::string("malformed RPC value: ") + e.what());
    }
}

std::uint64_t quantity(const Json& value) {
    return parsed(value, [](const std::string& s) { return parse_quantity(s); });
}

U256 big_quantity(const Json& value) {
    return parsed(value, [](const std::string& s) { return U256::from_quantity(s); });
}

Bytes data(const Json& value) {
    return parsed(value, [](const std::string& s) { return from_hex(s); });
}

Hash hash(const Json& value) {
    return parsed(value, [](const std::string& s) { return fixed_from_hex<32>(s); });
}

Address address(const Json& value) {
    return parsed(value, [](const std::string& s) { return fixed_from_hex<20>(s); });
}

Json call_object(const CallRequest& request) {
    return Json{{"from", to_hex(request.from)}, {"to", to_hex(request.to)}, {"data", to_hex(request.data)}};
}

Log parse_log(const Json& json) {
    Log log;
    log.address = address(field(json, "address"));
    const Json& topics = field(json, "topics");
    if (!topics.is_array()) throw ProtocolError("log topics is not an array");
    for (const Json& topic : topics) log.topics.push_back(hash(topic));
    log.data = data(field(json, "data"));
    log.block_number = quantity(field(json, "blockNumber"));
    log.transaction_hash = hash(field(json, "transactionHash"));
    return log;
}

std::vector<Log> parse_logs(const Json& json) {
    if (!json.is_array()) throw ProtocolError("logs is not an array");
    std::vector<Log> logs;
    for (const Json& entry : json) logs.push_back(parse_log(entry));
    return logs;
}

}  // namespace

std::uint64_t EthClient::chain_id() { return quantity(rpc_.call("eth_chainId", Json::array())); }

std::uint64_t EthClient::block_number() { return quantity(rpc_.call("eth_blockNumber", Json::array())); }

std::uint64_t EthClient::transaction_count(const Address& account, std::string_view block_tag) {
    return quantity(rpc_.call("eth_getTransactionCount", Json::array({to_hex(account), std::string(block_tag)})));
}

U256 EthClient::gas_price() { return big_quantity(rpc_.call("eth_gasPrice", Json::array())); }

U256 EthClient::max_priority_fee_per_gas() {
    return big_quantity(rpc_.call("eth_maxPriorityFeePerGas", Json::array()));
}

std::optional<U256> EthClient::latest_base_fee() {
    const Json block = rpc_.call("eth_getBlockByNumber", Json::array({"latest", false}));
    if (!block.is_object()) throw ProtocolError("eth_getBlockByNumber(latest) returned no block");
    const auto fee = block.find("baseFeePerGas");
    if (fee == block.end() || fee->is_null()) return std::nullopt;
    return big_quantity(*fee);
}

std::uint64_t EthClient::estimate_gas(const CallRequest& request) {
    return quantity(rpc_.call("eth_estimateGas", Json::array({call_object(request)})));
}

Bytes EthClient::call(const CallRequest& request) {
    return data(rpc_.call("eth_call", Json::array({call_object(request), "latest"})));
}

Hash EthClient::send_raw_transaction(ByteSpan raw) {
    return hash(rpc_.call("eth_sendRawTransaction", Json::array({to_hex(raw)})));
}

std::optional<Receipt> EthClient::transaction_receipt(const Hash& tx_hash) {
    const Json json = rpc_.call("eth_getTransactionReceipt", Json::array({to_hex(tx_hash)}));
    if (json.is_null()) return std::nullopt;
    Receipt receipt;
    receipt.transaction_hash = hash(field(json, "transactionHash"));
    receipt.block_number = quantity(field(json, "blockNumber"));
    receipt.success = quantity(field(json, "status")) == 1;
    receipt.gas_used = quantity(field(json, "gasUsed"));
    receipt.logs = parse_logs(field(json, "logs"));
    return receipt;
}

std::vector<Log> EthClient::logs(const LogFilter& filter) {
    Json topics = Json::array();
    for (const auto& topic : filter.topics) topics.push_back(topic ? Json(to_hex(*topic)) : Json());
    const Json params = Json::array({Json{{"address", to_hex(filter.address)},
                                          {"topics", topics},
                                          {"fromBlock", to_quantity(filter.from_block)},
                                          {"toBlock", filter.to_block ? Json(to_quantity(*filter.to_block))
                                                                      : Json("latest")}}});
    return parse_logs(rpc_.call("eth_getLogs", params));
}

}  // namespace medchain
