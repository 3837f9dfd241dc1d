#include "support/http_node_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace medchain::test {

HttpNodeServer::HttpNodeServer(FakeNode& node) : node_(node) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 8) != 0) {
        throw std::runtime_error("HttpNodeServer: cannot listen on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
}

HttpNodeServer::~HttpNodeServer() {
    stopping_ = true;
    thread_.join();
    ::close(listener_);
}

void HttpNodeServer::serve() {
    while (!stopping_) {
        pollfd waiting{listener_, POLLIN, 0};
        if (::poll(&waiting, 1, 50) <= 0) continue;
        const int fd = ::accept(listener_, nullptr, nullptr);
        if (fd >= 0) handle(fd);
    }
}

void HttpNodeServer::handle(int fd) {
    std::string request;
    char buffer[4096];
    std::size_t body_start = std::string::npos;
    std::size_t length = 0;
    while (body_start == std::string::npos || request.size() < body_start + length) {
        pollfd readable{fd, POLLIN, 0};
        if (::poll(&readable, 1, 2'000) <= 0) break;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
        if (body_start == std::string::npos) {
            const std::size_t head_end = request.find("\r\n\r\n");
            if (head_end == std::string::npos) continue;
            body_start = head_end + 4;
            const std::size_t at = request.find("Content-Length: ");
            length = at == std::string::npos ? 0 : std::stoul(request.substr(at + 16));
        }
    }
    std::string response;
    try {
        const std::string body = request.substr(body_start == std::string::npos ? 0 : body_start);
        PutReply reply{200, ""};
        if (request.rfind("PUT ", 0) == 0) {
            // The store: FakeNode sees the full URL, as the device names it.
            const std::string path = request.substr(4, request.find(' ', 4) - 4);
            reply = node_.put("http://127.0.0.1:" + std::to_string(port_) + path, body);
        } else {
            reply.body = node_.post(body);
        }
        response = "HTTP/1.1 " + std::to_string(reply.status) +
                   " X\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(reply.body.size()) +
                   "\r\n\r\n" + reply.body;
    } catch (const std::exception&) {
        // FakeNode's injected link failures: hang up without answering.
    }
    if (!response.empty()) ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    ::close(fd);
}

}  // namespace medchain::test
