#include "hal/littlefs_storage.hpp"

#include <LittleFS.h>

namespace {

constexpr const char* kTempSuffix = ".tmp";

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

LittleFsStorage::LittleFsStorage(std::string directory) : directory_(std::move(directory)) {
    if (!LittleFS.exists(directory_.c_str()) && !LittleFS.mkdir(directory_.c_str())) {
        throw medchain::StorageError("cannot create " + directory_ + " on LittleFS");
    }
}

std::optional<std::string> LittleFsStorage::read(const std::string& key) {
    const std::string path = path_of(key);
    if (!LittleFS.exists(path.c_str())) return std::nullopt;
    File file = LittleFS.open(path.c_str(), "r");
    if (!file) throw medchain::StorageError("cannot open " + path);
    std::string content;
    content.reserve(file.size());
    std::uint8_t buffer[256];
    while (file.available() > 0) {
        const std::size_t n = file.read(buffer, sizeof buffer);
        if (n == 0) break;
        content.append(reinterpret_cast<const char*>(buffer), n);
    }
    file.close();
    return content;
}

void LittleFsStorage::write(const std::string& key, const std::string& value) {
    const std::string path = path_of(key);
    const std::string temp = path + kTempSuffix;
    File file = LittleFS.open(temp.c_str(), "w");
    if (!file) throw medchain::StorageError("cannot create " + temp);
    const std::size_t written = file.write(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
    file.flush();
    file.close();
    if (written != value.size()) throw medchain::StorageError("short write to " + temp + " (flash full?)");
    if (!LittleFS.rename(temp.c_str(), path.c_str())) throw medchain::StorageError("cannot rename " + temp);
}

void LittleFsStorage::remove(const std::string& key) {
    const std::string path = path_of(key);
    if (LittleFS.exists(path.c_str()) && !LittleFS.remove(path.c_str())) {
        throw medchain::StorageError("cannot remove " + path);
    }
}

std::vector<std::string> LittleFsStorage::keys() {
    std::vector<std::string> out;
    File directory = LittleFS.open(directory_.c_str());
    if (!directory || !directory.isDirectory()) throw medchain::StorageError("cannot list " + directory_);
    for (File file = directory.openNextFile(); file; file = directory.openNextFile()) {
        std::string name = file.name();
        const std::size_t slash = name.rfind('/');  // older cores return the full path
        if (slash != std::string::npos) name = name.substr(slash + 1);
        if (!file.isDirectory() && !ends_with(name, kTempSuffix)) out.push_back(name);
    }
    return out;
}
