// medchain::Storage on the LittleFS data partition: one file per key in a
// directory, replaced atomically (write a temporary file, then rename over
// the old one; LittleFS renames are atomic and power-loss safe).
#pragma once

#include <string>

#include "medchain/storage.hpp"

class LittleFsStorage : public medchain::Storage {
public:
    // LittleFS must already be mounted.
    explicit LittleFsStorage(std::string directory);

    std::optional<std::string> read(const std::string& key) override;
    void write(const std::string& key, const std::string& value) override;
    void remove(const std::string& key) override;
    std::vector<std::string> keys() override;

private:
    std::string path_of(const std::string& key) const { return directory_ + "/" + key; }

    std::string directory_;
};
