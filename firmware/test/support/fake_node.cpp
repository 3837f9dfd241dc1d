#include "support/fake_node.hpp"

#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include <algorithm>
#include <stdexcept>

#include "medchain/abi.hpp"
#include "medchain/address.hpp"
#include "medchain/content_id.hpp"
#include "medchain/hex.hpp"
#include "medchain/json_rpc.hpp"
#include "medchain/keccak.hpp"
#include "medchain/medical_records.hpp"
#include "medchain/private_records.hpp"
#include "medchain/rlp.hpp"
#include "support/rlp_decode.hpp"

namespace medchain::test {
namespace {

namespace mr = medical_records;
namespace pr = private_records;
using Json = nlohmann::json;

struct NodeError {
    int code;
    std::string message;
    Json data;
};

Bytes error_string_data(const std::string& reason) {
    Bytes out{0x08, 0xc3, 0x79, 0xa0};
    append(out, U256(32).to_big_endian());
    append(out, U256(reason.size()).to_big_endian());
    append(out, reason);
    out.resize(out.size() + (32 - reason.size() % 32) % 32, 0);
    return out;
}

NodeError revert(const std::string& reason) {
    return {3, "execution reverted: " + reason, to_hex(error_string_data(reason))};
}

Bytes reencode(const RlpItem& item) {
    if (!item.is_list) return rlp::encode_bytes(item.bytes);
    std::vector<Bytes> inner;
    for (const RlpItem& child : item.items) inner.push_back(reencode(child));
    return rlp::encode_list(inner);
}

Address recover(const Hash& digest, const Bytes& r, const Bytes& s, int recovery_id) {
    secp256k1_context* ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
    std::uint8_t compact[64] = {};
    std::copy(r.begin(), r.end(), compact + 32 - r.size());
    std::copy(s.begin(), s.end(), compact + 64 - s.size());
    secp256k1_ecdsa_recoverable_signature sig;
    secp256k1_pubkey pubkey;
    const bool ok = secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &sig, compact, recovery_id) == 1 &&
                    secp256k1_ecdsa_recover(ctx, &pubkey, &sig, digest.data()) == 1;
    std::uint8_t serialized[65] = {};
    std::size_t length = sizeof serialized;
    if (ok) secp256k1_ec_pubkey_serialize(ctx, serialized, &length, &pubkey, SECP256K1_EC_UNCOMPRESSED);
    secp256k1_context_destroy(ctx);
    if (!ok) throw NodeError{-32000, "invalid sender", nullptr};
    PublicKey key{};
    std::copy(serialized + 1, serialized + 65, key.begin());
    return address_from_public_key(key);
}

Address to_address(const Bytes& bytes) {
    if (bytes.size() != 20) throw NodeError{-32000, "contract creation not supported", nullptr};
    Address out{};
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

Json receipt_json(const Hash& hash, std::uint64_t block, bool success, const Json& tx_logs) {
    return Json{{"transactionHash", to_hex(hash)},
                {"blockNumber", to_quantity(block)},
                {"status", success ? "0x1" : "0x0"},
                {"gasUsed", "0x15f90"},
                {"logs", tx_logs}};
}

}  // namespace

FakeNode::FakeNode(std::uint64_t chain) : chain_id(chain) {
    contract = parse_address("0x5fbdb2315678afecb367f032d93f642f64180aa3");
}

std::size_t FakeNode::calls(const std::string& method) const {
    return static_cast<std::size_t>(std::count(methods.begin(), methods.end(), method));
}

std::string FakeNode::post(const std::string& body) {
    if (fail_requests > 0) {
        --fail_requests;
        throw TransportError("fake node: connection refused");
    }
    const Json request = Json::parse(body);
    const std::string method = request.at("method").get<std::string>();
    if (int& failures = fail_method[method]; failures > 0) {
        --failures;
        throw TransportError("fake node: " + method + " never arrived");
    }
    methods.push_back(method);
    Json response{{"jsonrpc", "2.0"}, {"id", request.at("id")}};
    try {
        response["result"] = dispatch(method, request.at("params"));
    } catch (const NodeError& e) {
        response["error"] = Json{{"code", e.code}, {"message", e.message}};
        if (!e.data.is_null()) response["error"]["data"] = e.data;
    }
    if (int& losses = lose_response[method]; losses > 0) {
        --losses;
        throw TransportError("fake node: response to " + method + " lost");
    }
    return response.dump();
}

FakeNode::Json FakeNode::dispatch(const std::string& method, const Json& params) {
    if (method == "eth_chainId") return to_quantity(chain_id);
    if (method == "eth_blockNumber") return to_quantity(block_number);
    if (method == "eth_gasPrice") return gas_price.to_quantity();
    if (method == "eth_maxPriorityFeePerGas") return priority_fee.to_quantity();
    if (method == "eth_getBlockByNumber") {
        Json block{{"number", to_quantity(block_number)}};
        if (base_fee) block["baseFeePerGas"] = base_fee->to_quantity();
        return block;
    }
    if (method == "eth_getTransactionCount") {
        const Address account = parse_address(params.at(0).get<std::string>());
        const std::string tag = params.at(1).get<std::string>();
        if (tag == "pending") return to_quantity(pending_nonce(account));
        const auto it = mined_nonces.find(account);
        return to_quantity(it == mined_nonces.end() ? 0 : it->second);
    }
    if (method == "eth_sendRawTransaction") return send_raw_transaction(params.at(0).get<std::string>());
    if (method == "eth_getTransactionReceipt") {
        const auto it = receipts.find(fixed_from_hex<32>(params.at(0).get<std::string>()));
        return it == receipts.end() ? Json() : it->second;
    }
    if (method == "eth_estimateGas") return estimate_gas(params.at(0));
    if (method == "eth_call") return call(params.at(0));
    if (method == "eth_getLogs") return get_logs(params.at(0));
    throw NodeError{-32601, "the method " + method + " does not exist/is not available", nullptr};
}

std::uint64_t FakeNode::pending_nonce(const Address& account) const {
    const auto it = mined_nonces.find(account);
    std::uint64_t next = it == mined_nonces.end() ? 0 : it->second;
    bool advanced = true;
    while (advanced) {
        advanced = false;
        for (const PoolTx& tx : pool) {
            if (tx.from == account && tx.nonce == next) {
                ++next;
                advanced = true;
            }
        }
    }
    return next;
}

FakeNode::Json FakeNode::send_raw_transaction(const std::string& raw_hex) {
    const Bytes raw = from_hex(raw_hex);
    const bool typed = !raw.empty() && raw[0] == 0x02;
    const RlpItem tx = rlp_decode(typed ? ByteSpan(raw).subspan(1, raw.size() - 1) : ByteSpan(raw));
    PoolTx entry;
    entry.hash = keccak256(raw);
    entry.typed = typed;
    if (typed) {
        // [chainId, nonce, tip, maxFee, gas, to, value, data, accessList, yParity, r, s]
        if (!tx.is_list || tx.items.size() != 12) throw NodeError{-32000, "rlp: bad typed transaction", nullptr};
        if (rlp_uint(tx.items[0]) != chain_id) throw NodeError{-32000, "invalid chain id for signer", nullptr};
        std::vector<Bytes> unsigned_fields;
        for (std::size_t i = 0; i < 9; ++i) unsigned_fields.push_back(reencode(tx.items[i]));
        Bytes preimage{0x02};
        append(preimage, rlp::encode_list(unsigned_fields));
        entry.from = recover(keccak256(preimage), tx.items[10].bytes, tx.items[11].bytes,
                             static_cast<int>(rlp_uint(tx.items[9])));
        entry.nonce = rlp_uint(tx.items[1]);
        entry.gas_limit = rlp_uint(tx.items[4]);
        entry.to = to_address(tx.items[5].bytes);
        entry.data = tx.items[7].bytes;
    } else {
        // [nonce, gasPrice, gas, to, value, data, v, r, s] with EIP-155 v
        if (!tx.is_list || tx.items.size() != 9) throw NodeError{-32000, "rlp: bad legacy transaction", nullptr};
        const std::uint64_t v = rlp_uint(tx.items[6]);
        if (v != chain_id * 2 + 35 && v != chain_id * 2 + 36) {
            throw NodeError{-32000, "invalid chain id for signer", nullptr};
        }
        std::vector<Bytes> unsigned_fields;
        for (std::size_t i = 0; i < 6; ++i) unsigned_fields.push_back(reencode(tx.items[i]));
        unsigned_fields.push_back(rlp::encode_uint(chain_id));
        unsigned_fields.push_back(rlp::encode_uint(0));
        unsigned_fields.push_back(rlp::encode_uint(0));
        entry.from = recover(keccak256(rlp::encode_list(unsigned_fields)), tx.items[7].bytes, tx.items[8].bytes,
                             static_cast<int>(v - chain_id * 2 - 35));
        entry.nonce = rlp_uint(tx.items[0]);
        entry.gas_limit = rlp_uint(tx.items[2]);
        entry.to = to_address(tx.items[3].bytes);
        entry.data = tx.items[5].bytes;
    }
    for (const PoolTx& pending : pool) {
        if (pending.hash == entry.hash) throw NodeError{-32000, "already known", nullptr};
        if (pending.from == entry.from && pending.nonce == entry.nonce) {
            throw NodeError{-32000, "replacement transaction underpriced", nullptr};
        }
    }
    const auto mined = mined_nonces.find(entry.from);
    if (entry.nonce < (mined == mined_nonces.end() ? 0 : mined->second)) {
        throw NodeError{-32000, "nonce too low", nullptr};
    }
    pool.push_back(entry);
    if (auto_mine) mine();
    return to_hex(entry.hash);
}

void FakeNode::mine() {
    ++block_number;
    bool progress = true;
    while (progress) {
        progress = false;
        for (auto it = pool.begin(); it != pool.end(); ++it) {
            if (it->nonce == mined_nonces[it->from]) {
                const PoolTx tx = *it;
                pool.erase(it);
                execute(tx);
                progress = true;
                break;
            }
        }
    }
}

bool FakeNode::is_add(const Bytes& data) const {
    const abi::Selector sel = abi::selector(private_records ? pr::kAddRecord : mr::kAddMedicalRecord);
    return data.size() >= 4 && std::equal(data.begin(), data.begin() + 4, sel.begin());
}

void FakeNode::execute(const PoolTx& tx) {
    ++mined_nonces[tx.from];
    included.push_back(tx);
    const auto error = [&] {
        return private_records ? private_add_error(tx.from, tx.data) : add_record_error(tx.from, tx.data);
    };
    if (tx.to != contract || !is_add(tx.data) || error() || tx.gas_limit < estimate) {
        receipts[tx.hash] = receipt_json(tx.hash, block_number, false, Json::array());
        return;
    }
    if (private_records) return execute_private(tx);
    const abi::Decoder args(ByteSpan(tx.data).subspan(4, tx.data.size() - 4));
    StoredRecord record;
    record.patient = args.bytes32_at(0);
    record.vitals.heart_rate = static_cast<std::uint16_t>(args.uint_at(32, 16));
    record.vitals.spo2 = static_cast<std::uint16_t>(args.uint_at(64, 16));
    record.vitals.systolic = static_cast<std::uint16_t>(args.uint_at(96, 16));
    record.vitals.diastolic = static_cast<std::uint16_t>(args.uint_at(128, 16));
    record.vitals.temperature_centi_c = static_cast<std::int16_t>(args.int_at(160, 16));
    record.device_timestamp = args.uint_at(192, 64);
    record.sequence = args.uint_at(224, 64);
    Bytes data;
    append(data, U256(record.sequence).to_big_endian());
    append(data, U256(record.device_timestamp).to_big_endian());
    log_record_added(tx, record, data);
}

// PrivateRecords.addRecord: only the digest, key version and sequence.
void FakeNode::execute_private(const PoolTx& tx) {
    const abi::Decoder args(ByteSpan(tx.data).subspan(4, tx.data.size() - 4));
    StoredRecord record;
    record.patient = args.bytes32_at(0);
    record.cid_digest = args.bytes32_at(32);
    record.key_version = static_cast<std::uint32_t>(args.uint_at(64, 32));
    record.device_timestamp = args.uint_at(96, 64);
    record.sequence = args.uint_at(128, 64);
    if (store.count(content_id::from_digest(record.cid_digest)) == 0) ++records_without_blob;
    log_record_added(tx, record, to_bytes(U256(record.sequence).to_big_endian()));
}

// Stores `stored` and logs RecordAdded with `data` (the record id is the
// patient's record count so far).
void FakeNode::log_record_added(const PoolTx& tx, const StoredRecord& stored, const Bytes& data) {
    StoredRecord record = stored;
    record.device = tx.from;
    record.block_timestamp = 1'700'000'000 + block_number;
    devices[tx.from].last_sequence = record.sequence;
    const auto record_id = static_cast<std::uint64_t>(std::count_if(
        records.begin(), records.end(), [&](const StoredRecord& r) { return r.patient == record.patient; }));
    records.push_back(record);
    const Hash& topic = private_records ? pr::record_added_topic() : mr::record_added_topic();
    const Json log{{"address", to_hex(contract)},
                   {"topics", Json::array({to_hex(topic), to_hex(record.patient), to_hex(abi::address_word(tx.from)),
                                           to_hex(U256(record_id).to_big_endian())})},
                   {"data", to_hex(data)},
                   {"blockNumber", to_quantity(block_number)},
                   {"transactionHash", to_hex(tx.hash)}};
    logs.push_back(log);
    receipts[tx.hash] = receipt_json(tx.hash, block_number, true, Json::array({log}));
}

std::optional<std::string> FakeNode::private_add_error(const Address& from, const Bytes& data) const {
    const abi::Decoder args(ByteSpan(data).subspan(4, data.size() - 4));
    const auto it = devices.find(from);
    if (it == devices.end() || !it->second.active) return "PrivateRecords: caller is not a registered device";
    if (it->second.patient != args.bytes32_at(0)) return std::string(pr::kNotBoundReason);
    if (args.uint_at(128, 64) <= it->second.last_sequence) return std::string(pr::kDuplicateSequenceReason);
    if (args.uint_at(64, 32) != key_version) return std::string(pr::kRetiredKeyReason);
    if (args.bytes32_at(32) == Bytes32{}) return "PrivateRecords: zero content digest";
    return std::nullopt;
}

// devices(address), patients(id) and dataPublicKey(id, version) as
// PrivateRecords lays them out.
FakeNode::Json FakeNode::private_call(const Bytes& data) const {
    const auto is = [&](std::string_view signature) {
        const abi::Selector sel = abi::selector(signature);
        return data.size() >= 4 && std::equal(sel.begin(), sel.end(), data.begin());
    };
    const abi::Decoder args(ByteSpan(data).subspan(4, data.size() - 4));
    Bytes out;
    if (is(pr::kDevices)) {
        const auto it = devices.find(args.address_at(0));
        const Device device = it == devices.end() ? Device{} : it->second;
        append(out, device.patient);
        append(out, Bytes32{});  // registeredBy
        append(out, U256(device.last_sequence).to_big_endian());
        append(out, U256(device.active ? 1 : 0).to_big_endian());
        return to_hex(out);
    }
    if (is(pr::kPatients)) {
        append(out, Bytes32{});  // wallet
        append(out, Bytes32{});  // custodian
        append(out, U256(key_version).to_big_endian());
        return to_hex(out);
    }
    if (is(pr::kDataPublicKey)) {
        const auto it = data_keys.find(static_cast<std::uint32_t>(args.uint_at(32, 32)));
        const Bytes key = it == data_keys.end() ? Bytes{} : it->second;
        append(out, U256(32).to_big_endian());
        append(out, U256(key.size()).to_big_endian());
        append(out, key);
        out.resize(out.size() + (32 - key.size() % 32) % 32, 0);
        return to_hex(out);
    }
    throw revert("fake node: unknown call");
}

PutReply FakeNode::put(const std::string& url, const std::string& body) {
    if (fail_put > 0) {
        --fail_put;
        throw TransportError("fake store: PUT never arrived");
    }
    const std::string cid = content_id::of(body);
    if (refuse_put > 0 || url != store_url + "/" + cid) {
        refuse_put = std::max(0, refuse_put - 1);
        return {400, R"({"error":{"message":"the body is not what the CID names"}})"};
    }
    ++puts;
    store[cid] = Bytes(body.begin(), body.end());
    if (lose_put_response > 0) {
        --lose_put_response;
        throw TransportError("fake store: answer to the PUT lost");
    }
    return {201, R"({"cid":")" + cid + R"("})"};
}

std::optional<std::string> FakeNode::add_record_error(const Address& from, const Bytes& data) const {
    const abi::Decoder args(ByteSpan(data).subspan(4, data.size() - 4));
    const auto it = devices.find(from);
    if (it == devices.end() || !it->second.active) return "MedicalRecords: caller is not a registered device";
    if (it->second.patient != args.bytes32_at(0)) return "MedicalRecords: device not bound to this patient";
    if (args.uint_at(224, 64) <= it->second.last_sequence) return std::string(mr::kDuplicateSequenceReason);
    return std::nullopt;
}

FakeNode::Json FakeNode::estimate_gas(const Json& request) {
    const Address from = parse_address(request.at("from").get<std::string>());
    const Bytes data = from_hex(request.at("data").get<std::string>());
    const auto reason = private_records ? private_add_error(from, data) : add_record_error(from, data);
    if (reason) throw revert(*reason);
    return to_quantity(estimate);
}

FakeNode::Json FakeNode::call(const Json& request) {
    const Address from = parse_address(request.at("from").get<std::string>());
    const Bytes data = from_hex(request.at("data").get<std::string>());
    const auto is = [&](std::string_view signature) {
        const abi::Selector sel = abi::selector(signature);
        return data.size() >= 4 && std::equal(sel.begin(), sel.end(), data.begin());
    };
    if (private_records) {
        if (is(pr::kPatients)) ++patients_calls;
        return private_call(data);
    }
    const abi::Decoder args(ByteSpan(data).subspan(4, data.size() - 4));
    Bytes out;
    if (is(mr::kDevices)) {
        const auto it = devices.find(args.address_at(0));
        const Device device = it == devices.end() ? Device{} : it->second;
        append(out, device.patient);
        append(out, U256(device.last_sequence).to_big_endian());
        append(out, U256(device.active ? 1 : 0).to_big_endian());
        return to_hex(out);
    }
    if (is(mr::kMedicalRecordCount) || is(mr::kGetMedicalRecords)) {
        if (std::find(readers.begin(), readers.end(), from) == readers.end()) {
            throw revert("MedicalRecords: caller not authorized to read");
        }
        const Bytes32 patient = args.bytes32_at(0);
        std::vector<StoredRecord> mine;
        for (const StoredRecord& r : records) {
            if (r.patient == patient) mine.push_back(r);
        }
        if (is(mr::kMedicalRecordCount)) return to_hex(U256(mine.size()).to_big_endian());
        const std::uint64_t offset = args.uint_at(32, 64);
        const std::uint64_t limit = args.uint_at(64, 64);
        const std::size_t first = std::min<std::size_t>(offset, mine.size());
        const std::size_t count = std::min<std::size_t>(limit, mine.size() - first);
        append(out, U256(32).to_big_endian());
        append(out, U256(count).to_big_endian());
        for (std::size_t i = first; i < first + count; ++i) {
            const StoredRecord& r = mine[i];
            append(out, U256(r.vitals.heart_rate).to_big_endian());
            append(out, U256(r.vitals.spo2).to_big_endian());
            append(out, U256(r.vitals.systolic).to_big_endian());
            append(out, U256(r.vitals.diastolic).to_big_endian());
            Bytes32 temperature{};
            temperature.fill(r.vitals.temperature_centi_c < 0 ? 0xff : 0x00);
            temperature[30] = static_cast<std::uint8_t>(static_cast<std::uint16_t>(r.vitals.temperature_centi_c) >> 8);
            temperature[31] = static_cast<std::uint8_t>(r.vitals.temperature_centi_c);
            append(out, temperature);
            append(out, U256(r.device_timestamp).to_big_endian());
            append(out, U256(r.sequence).to_big_endian());
            append(out, abi::address_word(r.device));
            append(out, U256(r.block_timestamp).to_big_endian());
        }
        return to_hex(out);
    }
    throw revert("fake node: unknown call");
}

FakeNode::Json FakeNode::get_logs(const Json& filter) const {
    // As a medchain gateway serves it: explicit numbers, at most 1000 blocks.
    const auto number = [&](const char* key) -> std::uint64_t {
        const auto it = filter.find(key);
        if (it == filter.end() || !it->is_string() || it->get<std::string>().rfind("0x", 0) != 0) {
            throw NodeError{-32602, std::string("eth_getLogs: ") + key + " must be a hex block number", nullptr};
        }
        return parse_quantity(it->get<std::string>());
    };
    const std::uint64_t from = number("fromBlock");
    const std::uint64_t to = number("toBlock");
    if (to < from || to - from >= 1000) throw NodeError{-32602, "eth_getLogs: range over 1000 blocks", nullptr};
    Json out = Json::array();
    for (const Json& log : logs) {
        if (log.at("address") != filter.at("address")) continue;
        const std::uint64_t at = parse_quantity(log.at("blockNumber").get<std::string>());
        if (at < from || at > to) continue;
        const Json& wanted = filter.at("topics");
        bool match = true;
        for (std::size_t i = 0; i < wanted.size(); ++i) {
            if (!wanted[i].is_null() && (i >= log.at("topics").size() || log.at("topics")[i] != wanted[i])) {
                match = false;
            }
        }
        if (match) out.push_back(log);
    }
    return out;
}

}  // namespace medchain::test
