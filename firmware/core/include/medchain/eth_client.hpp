// The handful of eth_* methods a device needs, typed.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "medchain/bytes.hpp"
#include "medchain/json_rpc.hpp"
#include "medchain/u256.hpp"

namespace medchain {

// eth_call / eth_estimateGas arguments. `from` matters: the contract's
// access control looks at msg.sender.
struct CallRequest {
    Address from{};
    Address to{};
    Bytes data;
};

struct Log {
    Address address{};
    std::vector<Hash> topics;
    Bytes data;
    std::uint64_t block_number = 0;
    Hash transaction_hash{};
};

struct Receipt {
    Hash transaction_hash{};
    std::uint64_t block_number = 0;
    bool success = false;  // status 1
    std::uint64_t gas_used = 0;
    std::vector<Log> logs;
};

// eth_getLogs filter; a topic left empty matches anything.
struct LogFilter {
    Address address{};
    std::vector<std::optional<Hash>> topics;
    std::uint64_t from_block = 0;
    std::optional<std::uint64_t> to_block;  // nullopt: "latest"
};

// Every method throws TransportError, RpcError or ProtocolError.
class EthClient {
public:
    explicit EthClient(JsonRpcClient& rpc) : rpc_(rpc) {}

    std::uint64_t chain_id();
    std::uint64_t block_number();
    // eth_getTransactionCount at `block_tag` ("pending", "latest").
    std::uint64_t transaction_count(const Address& account, std::string_view block_tag);
    U256 gas_price();
    U256 max_priority_fee_per_gas();
    // baseFeePerGas of the latest block; nullopt before London.
    std::optional<U256> latest_base_fee();
    std::uint64_t estimate_gas(const CallRequest& request);
    // eth_call at "latest"; returns the return data.
    Bytes call(const CallRequest& request);
    // Returns the transaction hash the node reports.
    Hash send_raw_transaction(ByteSpan raw);
    // nullopt while the transaction is pending or unknown.
    std::optional<Receipt> transaction_receipt(const Hash& tx_hash);
    std::vector<Log> logs(const LogFilter& filter);

private:
    JsonRpcClient& rpc_;
};

}  // namespace medchain
