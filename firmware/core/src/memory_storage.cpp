#include "medchain/memory_storage.hpp"

namespace medchain {

std::optional<std::string> MemoryStorage::read(const std::string& key) {
    const auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
}

void MemoryStorage::write(const std::string& key, const std::string& value) { values_[key] = value; }

void MemoryStorage::remove(const std::string& key) { values_.erase(key); }

std::vector<std::string> MemoryStorage::keys() {
    std::vector<std::string> out;
    out.reserve(values_.size());
    for (const auto& entry : values_) out.push_back(entry.first);
    return out;
}

}  // namespace medchain
