// Small persistent key-value store: LittleFS on the ESP32, a directory on the
// host, a map in tests. Keys are short names of [a-z0-9_] (LittleFS/SPIFFS
// name limits).
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace medchain {

class StorageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Storage {
public:
    virtual ~Storage() = default;
    virtual std::optional<std::string> read(const std::string& key) = 0;
    // Replaces the value atomically: after a power cut the key holds either
    // the old or the new value, never a mix. Durable when it returns.
    virtual void write(const std::string& key, const std::string& value) = 0;
    virtual void remove(const std::string& key) = 0;
    virtual std::vector<std::string> keys() = 0;
};

}  // namespace medchain
