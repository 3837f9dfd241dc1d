// Storage as one file per key in a directory: the host's stand-in for the
// ESP32's LittleFS partition.
#pragma once

#include <string>

#include "medchain/storage.hpp"

namespace medchain::host {

class FileStorage : public Storage {
public:
    // Creates `directory` if needed; throws StorageError.
    explicit FileStorage(std::string directory);

    std::optional<std::string> read(const std::string& key) override;
    // Temporary file, fsync, rename over the old one, fsync the directory.
    void write(const std::string& key, const std::string& value) override;
    void remove(const std::string& key) override;
    std::vector<std::string> keys() override;

private:
    std::string path_of(const std::string& key) const;
    void sync_directory() const;

    std::string directory_;
};

}  // namespace medchain::host
