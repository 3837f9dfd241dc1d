// An in-process stand-in for a geth node running the MedicalRecords
// contract (or, with `private_records`, PrivateRecords and the gateway's
// store of sealed readings), reached through the core's Transport interface. It decodes the
// raw transactions it is sent, recovers their sender from the signature,
// enforces nonces and the contract's rules (registered device, bound
// patient, strictly increasing sequence), and can lose requests, lose
// responses, or drop its transaction pool to simulate failures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medchain/bytes.hpp"
#include "medchain/transport.hpp"
#include "medchain/u256.hpp"
#include "medchain/vital_signs.hpp"

namespace medchain::test {

class FakeNode : public Transport {
public:
    using Json = nlohmann::json;

    struct Device {
        Bytes32 patient{};
        std::uint64_t last_sequence = 0;
        bool active = false;
    };

    struct StoredRecord {
        Bytes32 patient{};
        VitalSigns vitals;
        std::uint64_t device_timestamp = 0;
        std::uint64_t sequence = 0;
        Address device{};
        std::uint64_t block_timestamp = 0;
        // PrivateRecords: what the chain keeps instead of the vitals.
        Bytes32 cid_digest{};
        std::uint32_t key_version = 0;
    };

    struct PoolTx {
        Hash hash{};
        Address from{};
        std::uint64_t nonce = 0;
        Address to{};
        Bytes data;
        std::uint64_t gas_limit = 0;
        bool typed = false;  // EIP-1559
    };

    explicit FakeNode(std::uint64_t chain_id = 1337);

    std::string post(const std::string& body) override;
    // The gateway's store (private_records): 201 when the body is what the
    // CID in `url` names, 400 otherwise, as `medchain gateway` answers.
    PutReply put(const std::string& url, const std::string& body) override;

    // Includes every executable pool transaction in one new block.
    void mine();
    // A node restart that loses the transaction pool.
    void drop_pool() { pool.clear(); }
    std::size_t calls(const std::string& method) const;

    // Chain.
    std::uint64_t chain_id;
    std::uint64_t block_number = 100;
    std::optional<U256> base_fee = U256(7);  // nullopt: pre-London, legacy only
    U256 priority_fee = U256(1'000'000'000);
    U256 gas_price = U256(2'000'000'000);
    std::map<Address, std::uint64_t> mined_nonces;
    std::vector<PoolTx> pool;
    std::vector<PoolTx> included;  // every transaction ever mined
    std::map<Hash, Json> receipts;
    std::vector<Json> logs;

    // Contract.
    Address contract{};
    std::map<Address, Device> devices;
    std::vector<Address> readers;  // may call getMedicalRecords/medicalRecordCount
    std::vector<StoredRecord> records;

    // PrivateRecords and the store.
    bool private_records = false;
    std::uint32_t key_version = 1;             // the patient's current data key version
    std::map<std::uint32_t, Bytes> data_keys;  // version -> compressed public key
    std::string store_url = "http://127.0.0.1:8600/store";
    std::map<std::string, Bytes> store;    // CID -> sealed bytes
    std::size_t puts = 0;                  // PUTs that reached the store
    std::size_t patients_calls = 0;        // eth_call patients(id)
    std::size_t records_without_blob = 0;  // addRecord mined before its bytes were stored
    int fail_put = 0;                      // the next N PUTs never arrive
    int lose_put_response = 0;             // the next N PUTs are stored, the answer lost
    int refuse_put = 0;                    // the next N PUTs get a 400

    // Failure injection and behaviour.
    bool auto_mine = false;  // mine each accepted transaction at once
    int fail_requests = 0;   // the next N requests never reach the node (link down)
    // Per method: the next N such requests never reach the node.
    std::map<std::string, int> fail_method;
    // Per method: the next N such requests run, then the reply is lost.
    std::map<std::string, int> lose_response;
    std::uint64_t estimate = 90'000;
    std::vector<std::string> methods;  // every method called, in order

private:
    Json dispatch(const std::string& method, const Json& params);
    Json send_raw_transaction(const std::string& raw_hex);
    Json call(const Json& request);
    void log_record_added(const PoolTx& tx, const StoredRecord& record, const Bytes& data);
    Json estimate_gas(const Json& request);
    // Checks addMedicalRecord from `from`; the revert reason, or nullopt.
    std::optional<std::string> add_record_error(const Address& from, const Bytes& data) const;
    // The same for PrivateRecords' addRecord.
    std::optional<std::string> private_add_error(const Address& from, const Bytes& data) const;
    bool is_add(const Bytes& data) const;
    void execute_private(const PoolTx& tx);
    Json private_call(const Bytes& data) const;
    void execute(const PoolTx& tx);
    Json get_logs(const Json& filter) const;
    std::uint64_t pending_nonce(const Address& account) const;
};

}  // namespace medchain::test
