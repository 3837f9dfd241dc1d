#include "medchain/http_url.hpp"

#include <optional>
#include <stdexcept>

namespace medchain {
namespace {

bool is_ipv4_octet(std::string_view text) {
    if (text.empty() || text.size() > 3) return false;
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 255;
}

std::uint16_t parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) throw std::invalid_argument("bad port in URL: \"" + std::string(text) + "\"");
    unsigned value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') throw std::invalid_argument("bad port in URL: \"" + std::string(text) + "\"");
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) throw std::invalid_argument("port out of range in URL");
    return static_cast<std::uint16_t>(value);
}

}  // namespace

HttpUrl parse_http_url(std::string_view url) {
    constexpr std::string_view kHttp = "http://";
    constexpr std::string_view kHttps = "https://";
    HttpUrl out;
    std::string_view rest;
    if (url.substr(0, kHttp.size()) == kHttp) {
        rest = url.substr(kHttp.size());
    } else if (url.substr(0, kHttps.size()) == kHttps) {
        rest = url.substr(kHttps.size());
        out.tls = true;
        out.port = 443;
    } else {
        throw std::invalid_argument("only http:// and https:// URLs are supported: \"" + std::string(url) + "\"");
    }
    const std::size_t slash = rest.find('/');
    if (slash != std::string_view::npos) {
        out.path = std::string(rest.substr(slash));
        rest = rest.substr(0, slash);
    }
    if (rest.find('@') != std::string_view::npos) throw std::invalid_argument("URLs with user info are not supported");
    std::optional<std::string_view> port;
    if (!rest.empty() && rest.front() == '[') {
        const std::size_t close = rest.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("unterminated IPv6 literal in URL");
        out.host = std::string(rest.substr(1, close - 1));
        const std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw std::invalid_argument("junk after IPv6 literal in URL");
            port = after.substr(1);
        }
    } else {
        const std::size_t colon = rest.find(':');
        out.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (out.host.empty()) throw std::invalid_argument("URL has no host: \"" + std::string(url) + "\"");
    if (port) out.port = parse_port(*port);
    return out;
}

bool is_loopback_literal(std::string_view host) {
    if (host == "localhost" || host == "::1") return true;
    // 127.a.b.c
    std::size_t start = 0;
    for (int octet = 0; octet < 4; ++octet) {
        const std::size_t dot = host.find('.', start);
        const bool last = octet == 3;
        if (last != (dot == std::string_view::npos)) return false;
        const std::string_view part = host.substr(start, last ? std::string_view::npos : dot - start);
        if (!is_ipv4_octet(part) || (octet == 0 && part != "127")) return false;
        start = dot + 1;
    }
    return true;
}

}  // namespace medchain
