#include "support/loopback_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace medchain::test {
namespace {

std::uint16_t bind_loopback(int fd) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind");
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

}  // namespace

LoopbackServer::LoopbackServer(std::string response, bool silent) : response_(std::move(response)), silent_(silent) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    port_ = bind_loopback(listener_);
    ::listen(listener_, 1);
    thread_ = std::thread([this] { serve(); });
}

LoopbackServer::~LoopbackServer() {
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
}

std::string LoopbackServer::request() {
    if (thread_.joinable()) thread_.join();
    return request_;
}

void LoopbackServer::serve() {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 5'000) <= 0) return;  // no client came
    const int fd = ::accept(listener_, nullptr, nullptr);
    if (fd < 0) return;
    char buffer[4096];
    // Read headers, then as much body as Content-Length says.
    for (;;) {
        pollfd readable{fd, POLLIN, 0};
        if (::poll(&readable, 1, 5'000) <= 0) break;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request_.append(buffer, static_cast<std::size_t>(n));
        const std::size_t head_end = request_.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        const std::size_t at = request_.find("Content-Length: ");
        const std::size_t length = at == std::string::npos ? 0 : std::stoul(request_.substr(at + 16));
        if (request_.size() >= head_end + 4 + length) break;
    }
    if (silent_) {
        pollfd closed{fd, POLLIN, 0};
        ::poll(&closed, 1, 5'000);  // until the client hangs up
    } else {
        ::send(fd, response_.data(), response_.size(), MSG_NOSIGNAL);
    }
    ::close(fd);
}

std::uint16_t closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const std::uint16_t port = bind_loopback(fd);
    ::close(fd);
    return port;
}

}  // namespace medchain::test
