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

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http_response.hpp"

namespace medchain::host {

struct TlsContext {
    SSL_CTX* ctx = nullptr;
    ~TlsContext() {
        if (ctx != nullptr) SSL_CTX_free(ctx);
    }
};

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

// OpenSSL's queued error, as text.
std::string ssl_error_text() {
    const unsigned long code = ERR_get_error();
    if (code == 0) return "unknown TLS error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
}

// A client context that trusts exactly the certificates in `ca_pem`.
std::shared_ptr<TlsContext> make_tls_context(const std::string& ca_pem) {
    auto tls = std::make_shared<TlsContext>();
    tls->ctx = SSL_CTX_new(TLS_client_method());
    if (tls->ctx == nullptr) throw std::invalid_argument("TLS: " + ssl_error_text());
    SSL_CTX_ctrl(tls->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, nullptr);
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
    X509_STORE* store = SSL_CTX_get_cert_store(tls->ctx);
    const std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())),
                                                   BIO_free);
    int added = 0;
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
        if (X509_STORE_add_cert(store, cert) == 1) ++added;
        X509_free(cert);
    }
    ERR_clear_error();  // the end of the PEM data reads as an error
    if (added == 0) throw std::invalid_argument("tls_ca holds no PEM certificate to pin");
    return tls;
}

// One connection: the socket, and the TLS session over it for https.
class Connection {
public:
    Connection(int fd, const HttpUrl& url, TlsContext* tls, Deadline deadline) : socket_(fd), where_(describe(url)) {
        if (tls == nullptr) return;
        ssl_.reset(SSL_new(tls->ctx));
        if (ssl_ == nullptr || SSL_set_fd(ssl_.get(), fd) != 1) throw TransportError("TLS: " + ssl_error_text());
        in6_addr ip6{};
        in_addr ip4{};
        const bool literal = ::inet_pton(AF_INET, url.host.c_str(), &ip4) == 1 ||
                             ::inet_pton(AF_INET6, url.host.c_str(), &ip6) == 1;
        if (literal) {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), url.host.c_str());
        } else {
            SSL_set1_host(ssl_.get(), url.host.c_str());
            SSL_ctrl(ssl_.get(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                     static_cast<void*>(const_cast<char*>(url.host.c_str())));
        }
        for (;;) {
            const int rc = SSL_connect(ssl_.get());
            if (rc == 1) return;
            if (!wait_ssl(rc, deadline, "TLS handshake with")) {
                const long verify = SSL_get_verify_result(ssl_.get());
                const std::string why =
                    verify != X509_V_OK ? X509_verify_cert_error_string(verify) : ssl_error_text();
                throw TransportError("TLS handshake with " + where_ + " failed: " + why);
            }
        }
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    void send_all(const std::string& data, Deadline deadline) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            if (ssl_ != nullptr) {
                const int n = SSL_write(ssl_.get(), data.data() + sent, static_cast<int>(data.size() - sent));
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                } else if (!wait_ssl(n, deadline, "sending to")) {
                    throw TransportError("TLS send to " + where_ + ": " + ssl_error_text());
                }
                continue;
            }
            if (!wait_for(socket_.fd(), POLLOUT, deadline)) throw TransportError("timed out sending to " + where_);
            const ssize_t n = ::send(socket_.fd(), data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
                throw TransportError("send to " + where_ + ": " + std::strerror(errno));
            }
            sent += static_cast<std::size_t>(n);
        }
    }

    // Some bytes of the answer; 0 at its end (the server closed).
    std::size_t receive(char* buffer, std::size_t size, Deadline deadline) {
        for (;;) {
            if (ssl_ != nullptr) {
                const int n = SSL_read(ssl_.get(), buffer, static_cast<int>(size));
                if (n > 0) return static_cast<std::size_t>(n);
                const int error = SSL_get_error(ssl_.get(), n);
                // A clean close_notify, or a close without one after the
                // answer (its framing tells whether it is complete).
                if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) return 0;
                if (!wait_ssl(n, deadline, "waiting for")) {
                    throw TransportError("TLS receive from " + where_ + ": " + ssl_error_text());
                }
                continue;
            }
            if (!wait_for(socket_.fd(), POLLIN, deadline)) throw TransportError("timed out waiting for " + where_);
            const ssize_t n = ::recv(socket_.fd(), buffer, size, 0);
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
                throw TransportError("recv from " + where_ + ": " + std::strerror(errno));
            }
            return static_cast<std::size_t>(n);
        }
    }

private:
    // After an SSL call returned `rc`: waits for the socket when OpenSSL
    // wants it (true), false on any other error; throws on timeout.
    bool wait_ssl(int rc, Deadline deadline, const char* doing) {
        const int error = SSL_get_error(ssl_.get(), rc);
        short events = 0;
        if (error == SSL_ERROR_WANT_READ) events = POLLIN;
        if (error == SSL_ERROR_WANT_WRITE) events = POLLOUT;
        if (events == 0) return false;
        if (!wait_for(socket_.fd(), events, deadline)) throw TransportError(std::string("timed out ") + doing + " " + where_);
        return true;
    }

    Socket socket_;
    std::string where_;
    std::unique_ptr<SSL, void (*)(SSL*)> ssl_{nullptr, SSL_free};
};

}  // namespace

PosixHttpTransport::PosixHttpTransport(const std::string& url, HttpOptions options)
    : url_(parse_http_url(url)), options_(options) {
    if (!options_.allow_remote && !is_loopback_literal(url_.host)) {
        throw std::invalid_argument("refusing non-loopback RPC host \"" + url_.host +
                                    "\" (only 127.0.0.0/8, ::1 and localhost unless remote hosts are allowed)");
    }
    if (options_.bearer_token.find_first_of("\r\n") != std::string::npos) {
        throw std::invalid_argument("the RPC token must not contain line breaks");
    }
    if (url_.tls) {
        if (options_.ca_pem.empty()) {
            throw std::invalid_argument("https RPC URL \"" + url + "\" needs the CA to pin (tls_ca in the config)");
        }
        tls_ = make_tls_context(options_.ca_pem);
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
    PutReply reply = exchange("POST", url_.path, "application/json", body);
    if (reply.status != 200) {
        throw TransportError("HTTP " + std::to_string(reply.status) + " from " + describe(url_) + ": " +
                             reply.body.substr(0, 200));
    }
    return std::move(reply.body);
}

PutReply PosixHttpTransport::put(const std::string& url, const std::string& body) {
    const HttpUrl target = parse_http_url(url);
    if (target.tls != url_.tls || target.host != url_.host || target.port != url_.port) {
        throw std::invalid_argument("refusing to PUT to " + url + ": not on the RPC URL's origin " +
                                    std::string(url_.tls ? "https://" : "http://") + describe(url_));
    }
    return exchange("PUT", target.path, "application/octet-stream", body);
}

PutReply PosixHttpTransport::exchange(const std::string& method, const std::string& path,
                                      const std::string& content_type, const std::string& body) {
    const Deadline deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.io_timeout_ms);
    Connection connection(connect_socket(), url_, tls_.get(), deadline);

    std::string request = method + " " + path + " HTTP/1.1\r\n" + "Host: " + describe(url_) + "\r\n" +
                          "Content-Type: " + content_type + "\r\n" + "Accept: application/json\r\n";
    if (!options_.bearer_token.empty()) request += "Authorization: Bearer " + options_.bearer_token + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n" + "Connection: close\r\n\r\n" + body;
    connection.send_all(request, deadline);

    std::string raw;
    char buffer[8192];
    for (;;) {
        const std::size_t n = connection.receive(buffer, sizeof buffer, deadline);
        raw.append(buffer, n);
        if (raw.size() > options_.max_response_bytes) throw TransportError("HTTP response too large");
        std::optional<HttpResponse> response;
        try {
            response = parse_http_response(raw, n == 0);
        } catch (const std::runtime_error& e) {
            throw TransportError(std::string("from ") + describe(url_) + ": " + e.what());
        }
        if (response) return PutReply{response->status, std::move(response->body)};
    }
}

}  // namespace medchain::host
