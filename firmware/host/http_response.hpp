// Parsing an HTTP/1.1 response as read off the socket.
#pragma once

#include <optional>
#include <string>

namespace medchain::host {

struct HttpResponse {
    int status = 0;
    std::string body;
};

// The response if `raw` holds a complete one (Content-Length, chunked, or
// read to end-of-stream when `at_eof`), nullopt if more bytes are needed.
// Throws std::runtime_error on a malformed response.
std::optional<HttpResponse> parse_http_response(const std::string& raw, bool at_eof);

}  // namespace medchain::host
