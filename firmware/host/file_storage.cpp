#include "file_storage.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace medchain::host {
namespace {

constexpr const char* kTempSuffix = ".tmp";

[[noreturn]] void fail(const std::string& what) { throw StorageError(what + ": " + std::strerror(errno)); }

bool valid_key(const std::string& key) {
    return !key.empty() && key.size() <= 32 && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

void make_directories(const std::string& path) {
    for (std::size_t at = 1; at <= path.size(); ++at) {
        if (at == path.size() || path[at] == '/') {
            const std::string prefix = path.substr(0, at);
            if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) fail("mkdir " + prefix);
        }
    }
}

}  // namespace

FileStorage::FileStorage(std::string directory) : directory_(std::move(directory)) {
    if (directory_.empty()) throw StorageError("empty storage directory");
    while (directory_.size() > 1 && directory_.back() == '/') directory_.pop_back();
    make_directories(directory_);
}

std::string FileStorage::path_of(const std::string& key) const {
    if (!valid_key(key)) throw StorageError("invalid storage key \"" + key + "\"");
    return directory_ + "/" + key;
}

std::optional<std::string> FileStorage::read(const std::string& key) {
    const std::string path = path_of(key);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail("open " + path);
    }
    std::string content;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            ::close(fd);
            errno = saved;
            fail("read " + path);
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return content;
}

void FileStorage::write(const std::string& key, const std::string& value) {
    const std::string path = path_of(key);
    const std::string temp = path + kTempSuffix;
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail("open " + temp);
    std::size_t written = 0;
    while (written < value.size()) {
        const ssize_t n = ::write(fd, value.data() + written, value.size() - written);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int saved = errno;
            ::close(fd);
            errno = saved;
            fail("write " + temp);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        const int saved = errno;
        ::close(fd);
        errno = saved;
        fail("fsync " + temp);
    }
    if (::close(fd) != 0) fail("close " + temp);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail("rename " + temp);
    sync_directory();
}

void FileStorage::remove(const std::string& key) {
    const std::string path = path_of(key);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail("unlink " + path);
    sync_directory();
}

std::vector<std::string> FileStorage::keys() {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory_.c_str()), ::closedir);
    if (!dir) fail("opendir " + directory_);
    std::vector<std::string> out;
    while (const dirent* entry = ::readdir(dir.get())) {
        const std::string name = entry->d_name;
        if (valid_key(name)) out.push_back(name);  // skips ".", "..", and leftover *.tmp
    }
    std::sort(out.begin(), out.end());
    return out;
}

void FileStorage::sync_directory() const {
    const int fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail("open " + directory_);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) fail("fsync " + directory_);
}

}  // namespace medchain::host
