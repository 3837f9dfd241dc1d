// http:// and https:// URLs of the RPC endpoint: a member node on loopback
// (http) or the hospital's `medchain gateway` (https).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace medchain {

struct HttpUrl {
    std::string host;  // without brackets for IPv6 literals
    std::uint16_t port = 80;
    std::string path = "/";
    bool tls = false;  // https://
};

// Parses "http[s]://host[:port][/path]" (default port 80 or 443); throws
// std::invalid_argument for anything else (another scheme, user info, a
// bad port).
HttpUrl parse_http_url(std::string_view url);

// "localhost", 127.0.0.0/8 or ::1 written literally (no name resolution).
bool is_loopback_literal(std::string_view host);

}  // namespace medchain
