#include "posix_http_transport.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "http_response.hpp"

namespace medchain::host {
namespace {

using Deadline = std::chrono::steady_clock::time_point;

class Socket {
public:
    explicit Socket(int fd) : fd_(fd) {}
    ~Socket() {
        if (fd_ >= 0) ::close(fd_);
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

bool is_loopback(const sockaddr* address) {
    if (address->sa_family == AF_INET) {
        sockaddr_in v4{};
        std::memcpy(&v4, address, sizeof v4);
        return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
    }
    if (address->sa_family == AF_INET6) {
        sockaddr_in6 v6{};
        std::memcpy(&v6, address, sizeof v6);
        return IN6_IS_ADDR_LOOPBACK(&v6.sin6_addr);
    }
    return false;
}

int remaining_ms(Deadline deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on `fd`; false on timeout.
bool wait_for(int fd, short events, Deadline deadline) {
    for (;;) {
        pollfd entry{fd, events, 0};
        const int ready = ::poll(&entry, 1, remaining_ms(deadline));
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) throw TransportError(std::string("poll: ") + std::strerror(errno));
    }
}

std::string describe(const HttpUrl& url) { return url.host + ":" + std::to_string(url.port); }

}  // namespace

PosixHttpTransport::PosixHttpTransport(const std::string& url, HttpOptions options)
    : url_(parse_http_url(url)), options_(options) {
    if (!options_.allow_remote && !is_loopback_literal(url_.host)) {
        throw std::invalid_argument("refusing non-loopback RPC host \"" + url_.host +
                                    "\" (only 127.0.0.0/8, ::1 and localhost unless remote hosts are allowed)");
    }
}

int PosixHttpTransport::connect_socket() const {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(url_.port);
    if (const int rc = ::getaddrinfo(url_.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw TransportError("cannot resolve " + url_.host + ": " + ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> addresses(found, ::freeaddrinfo);

    std::string last_error = "no usable address";
    for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
        if (!options_.allow_remote && !is_loopback(ai->ai_addr)) {
            last_error = "resolved to a non-loopback address; refused";
            continue;
        }
        const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        const Deadline deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.connect_timeout_ms);
        if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return fd;
        if (errno == EINPROGRESS && wait_for(fd, POLLOUT, deadline)) {
            int error = 0;
            socklen_t length = sizeof error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error == 0) return fd;
            last_error = std::strerror(error);
        } else {
            last_error = errno == EINPROGRESS ? "connect timed out" : std::strerror(errno);
        }
        ::close(fd);
    }
    throw TransportError("cannot connect to " + describe(url_) + ": " + last_error);
}

std::string PosixHttpTransport::post(const std::string& body) {
    const Socket socket(connect_socket());
    const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.io_timeout_ms);

    const std::string request = "POST " + url_.path + " HTTP/1.1\r\n" + "Host: " + describe(url_) + "\r\n" +
                                "Content-Type: application/json\r\n" + "Accept: application/json\r\n" +
                                "Content-Length: " + std::to_string(body.size()) + "\r\n" +
                                "Connection: close\r\n\r\n" + body;
    std::size_t sent = 0;
    while (sent < request.size()) {
        if (!wait_for(socket.fd(), POLLOUT, deadline)) throw TransportError("timed out sending to " + describe(url_));
        const ssize_t n = ::send(socket.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            throw TransportError("send to " + describe(url_) + ": " + std::strerror(errno));
        }
        sent += static_cast<std::size_t>(n);
    }

    std::string raw;
    char buffer[8192];
    for (;;) {
        if (!wait_for(socket.fd(), POLLIN, deadline)) throw TransportError("timed out waiting for " + describe(url_));
        const ssize_t n = ::recv(socket.fd(), buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            throw TransportError("recv from " + describe(url_) + ": " + std::strerror(errno));
        }
        raw.append(buffer, static_cast<std::size_t>(n));
        if (raw.size() > options_.max_response_bytes) throw TransportError("HTTP response too large");
        std::optional<HttpResponse> response;
        try {
            response = parse_http_response(raw, n == 0);
        } catch (const std::runtime_error& e) {
            throw TransportError(std::string("from ") + describe(url_) + ": " + e.what());
        }
        if (response) {
            if (response->status != 200) {
                throw TransportError("HTTP " + std::to_string(response->status) + " from " + describe(url_) + ": " +
                                     response->body.substr(0, 200));
            }
            return std::move(response->body);
        }
    }
}

}  // namespace medchain::host
