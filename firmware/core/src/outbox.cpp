#include "medchain/outbox.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "medchain/hex.hpp"

namespace medchain {
namespace {

using Json = nlohmann::json;

constexpr char kEntryPrefix = 'r';
constexpr char kRejectedPrefix = 'x';
constexpr const char* kNextSequenceKey = "next_seq";

std::string entry_key(std::uint64_t sequence) {
    char key[18];
    std::snprintf(key, sizeof key, "%c%016llx", kEntryPrefix, static_cast<unsigned long long>(sequence));
    return key;
}

bool is_key_with_prefix(const std::string& key, char prefix) {
    return key.size() == 17 && key[0] == prefix &&
           std::all_of(key.begin() + 1, key.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool is_entry_key(const std::string& key) { return is_key_with_prefix(key, kEntryPrefix); }

std::uint64_t key_number(const std::string& key) {
    return static_cast<std::uint64_t>(std::stoull(key.substr(1), nullptr, 16));
}

Json to_json(const OutboxEntry& e) {
    Json json{
        {"sequence", e.sequence},
        {"patient", to_hex(e.patient)},
        {"heart_rate", e.vitals.heart_rate},
        {"spo2", e.vitals.spo2},
        {"systolic", e.vitals.systolic},
        {"diastolic", e.vitals.diastolic},
        {"temperature_centi_c", e.vitals.temperature_centi_c},
        {"device_timestamp", e.device_timestamp},
        {"broadcast", e.broadcast},
    };
    if (e.submission) {
        json["submission"] = {
            {"tx_hash", to_hex(e.submission->tx_hash)},
            {"nonce", e.submission->nonce},
            {"raw", to_hex(e.submission->raw)},
        };
    }
    return json;
}

OutboxEntry from_json(const Json& json, const std::string& key) {
    OutboxEntry e;
    e.key = key;
    e.sequence = json.at("sequence").get<std::uint64_t>();
    e.patient = fixed_from_hex<32>(json.at("patient").get<std::string>());
    e.vitals.heart_rate = json.at("heart_rate").get<std::uint16_t>();
    e.vitals.spo2 = json.at("spo2").get<std::uint16_t>();
    e.vitals.systolic = json.at("systolic").get<std::uint16_t>();
    e.vitals.diastolic = json.at("diastolic").get<std::uint16_t>();
    e.vitals.temperature_centi_c = json.at("temperature_centi_c").get<std::int16_t>();
    e.device_timestamp = json.at("device_timestamp").get<std::uint64_t>();
    e.broadcast = json.at("broadcast").get<bool>();
    if (const auto sub = json.find("submission"); sub != json.end()) {
        Submission s;
        s.tx_hash = fixed_from_hex<32>(sub->at("tx_hash").get<std::string>());
        s.nonce = sub->at("nonce").get<std::uint64_t>();
        s.raw = from_hex(sub->at("raw").get<std::string>());
        e.submission = std::move(s);
    }
    return e;
}

}  // namespace

Outbox::Outbox(Storage& storage) : storage_(storage) {
    std::vector<std::string> keys = storage_.keys();
    rejected_count_ = static_cast<std::size_t>(std::count_if(
        keys.begin(), keys.end(), [](const std::string& k) { return is_key_with_prefix(k, kRejectedPrefix); }));
    keys.erase(std::remove_if(keys.begin(), keys.end(), [](const std::string& k) { return !is_entry_key(k); }),
               keys.end());
    std::sort(keys.begin(), keys.end());  // fixed-width hex: creation order
    for (const std::string& key : keys) {
        const std::optional<std::string> text = storage_.read(key);
        if (!text) continue;  // removed between keys() and read()
        try {
            entries_.push_back(from_json(Json::parse(*text), key));
        } catch (const std::exception& e) {
            throw StorageError("outbox entry " + key + " is unreadable: " + e.what());
        }
        next_sequence_ = std::max({next_sequence_, entries_.back().sequence + 1, key_number(key) + 1});
    }
    if (const std::optional<std::string> text = storage_.read(kNextSequenceKey)) {
        try {
            next_sequence_ = std::max(next_sequence_, static_cast<std::uint64_t>(std::stoull(*text)));
        } catch (const std::exception&) {
            throw StorageError("outbox sequence counter is unreadable: " + *text);
        }
    }
}

const OutboxEntry& Outbox::enqueue(const Bytes32& patient, const VitalSigns& vitals, std::uint64_t device_timestamp) {
    OutboxEntry entry;
    entry.sequence = next_sequence_;
    entry.patient = patient;
    entry.vitals = vitals;
    entry.device_timestamp = device_timestamp;
    entry.key = entry_key(entry.sequence);
    // Entry first, counter second: a power cut in between is healed on load,
    // which takes the larger of the counter and every stored sequence.
    persist(entry);
    ++next_sequence_;
    persist_next_sequence();
    entries_.push_back(std::move(entry));
    return entries_.back();
}

const OutboxEntry& Outbox::front() const {
    if (entries_.empty()) throw std::logic_error("Outbox::front on an empty outbox");
    return entries_.front();
}

void Outbox::save_front(const OutboxEntry& entry) {
    if (entries_.empty() || entries_.front().key != entry.key) {
        throw std::logic_error("Outbox::save_front with an entry that is not the front");
    }
    persist(entry);
    entries_.front() = entry;
}

void Outbox::pop_front() {
    if (entries_.empty()) throw std::logic_error("Outbox::pop_front on an empty outbox");
    storage_.remove(entries_.front().key);
    entries_.erase(entries_.begin());
}

void Outbox::reject_front(const std::string& reason) {
    if (entries_.empty()) throw std::logic_error("Outbox::reject_front on an empty outbox");
    const OutboxEntry& front = entries_.front();
    Json json = to_json(front);
    json["rejected_reason"] = reason;
    // Copy first, then drop from the queue: a power cut in between leaves the
    // reading queued, and rejecting it again overwrites the same copy.
    std::string rejected_key = front.key;
    rejected_key[0] = kRejectedPrefix;
    const bool known = storage_.read(rejected_key).has_value();
    storage_.write(rejected_key, json.dump());
    storage_.remove(front.key);
    entries_.erase(entries_.begin());
    if (!known) ++rejected_count_;
}

void Outbox::raise_sequence_floor(std::uint64_t last_on_chain) {
    const std::uint64_t floor = last_on_chain + 1;
    std::uint64_t next = floor;
    bool renumber = false;
    std::uint64_t previous = 0;
    for (const OutboxEntry& e : entries_) {
        if (e.broadcast) {
            next = std::max(next, e.sequence + 1);
        } else if (e.sequence < floor) {
            renumber = true;
        }
        // A power cut part-way through an earlier renumbering can leave the
        // order broken; renumbering again restores it.
        if (e.sequence <= previous) renumber = true;
        previous = e.sequence;
    }
    if (renumber) {
        for (OutboxEntry& e : entries_) {
            if (e.broadcast) continue;
            OutboxEntry renumbered = e;
            renumbered.sequence = next++;
            persist(renumbered);
            e = std::move(renumbered);
        }
    }
    if (next > next_sequence_) {
        next_sequence_ = next;
        persist_next_sequence();
    }
}

void Outbox::persist(const OutboxEntry& entry) { storage_.write(entry.key, to_json(entry).dump()); }

void Outbox::persist_next_sequence() { storage_.write(kNextSequenceKey, std::to_string(next_sequence_)); }

}  // namespace medchain
