// Storage in RAM: for tests, and a fallback that keeps a device usable (but
// not reboot-safe) when its flash cannot be mounted.
#pragma once

#include <map>

#include "medchain/storage.hpp"

namespace medchain {

class MemoryStorage : public Storage {
public:
    std::optional<std::string> read(const std::string& key) override;
    void write(const std::string& key, const std::string& value) override;
    void remove(const std::string& key) override;
    std::vector<std::string> keys() override;

private:
    std::map<std::string, std::string> values_;
};

}  // namespace medchain
