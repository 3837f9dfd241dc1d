#include "http_response.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace medchain::host {
namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

std::string trim(const std::string& text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) return "";
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Decodes a chunked body; nullopt while incomplete.
std::optional<std::string> dechunk(const std::string& raw, std::size_t at) {
    std::string body;
    for (;;) {
        const std::size_t line_end = raw.find("\r\n", at);
        if (line_end == std::string::npos) return std::nullopt;
        const std::string size_line = raw.substr(at, line_end - at);
        const std::string size_text = trim(size_line.substr(0, size_line.find(';')));  // drop chunk extensions
        if (size_text.empty() ||
            !std::all_of(size_text.begin(), size_text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; })) {
            throw std::runtime_error("malformed chunk size in HTTP response");
        }
        const std::size_t size = std::stoul(size_text, nullptr, 16);
        at = line_end + 2;
        if (size == 0) return body;  // trailers, if any, are ignored
        if (raw.size() < at + size + 2) return std::nullopt;
        body.append(raw, at, size);
        at += size + 2;
    }
}

}  // namespace

std::optional<HttpResponse> parse_http_response(const std::string& raw, bool at_eof) {
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (at_eof) throw std::runtime_error("connection closed before the HTTP headers ended");
        return std::nullopt;
    }
    const std::size_t status_end = raw.find("\r\n");
    const std::string status_line = raw.substr(0, status_end);
    if (status_line.compare(0, 5, "HTTP/") != 0 || status_line.size() < 12) {
        throw std::runtime_error("malformed HTTP status line: " + status_line);
    }
    HttpResponse response;
    try {
        response.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
    } catch (const std::exception&) {
        throw std::runtime_error("malformed HTTP status line: " + status_line);
    }

    std::optional<std::size_t> content_length;
    bool chunked = false;
    std::size_t at = status_end + 2;
    while (at < head_end) {
        const std::size_t line_end = raw.find("\r\n", at);
        const std::string line = raw.substr(at, line_end - at);
        at = line_end + 2;
        const std::size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string name = lower(trim(line.substr(0, colon)));
        const std::string value = trim(line.substr(colon + 1));
        if (name == "content-length") {
            try {
                content_length = std::stoul(value);
            } catch (const std::exception&) {
                throw std::runtime_error("malformed Content-Length: " + value);
            }
        } else if (name == "transfer-encoding" && lower(value).find("chunked") != std::string::npos) {
            chunked = true;
        }
    }

    const std::size_t body_start = head_end + 4;
    if (chunked) {
        std::optional<std::string> body = dechunk(raw, body_start);
        if (!body) {
            if (at_eof) throw std::runtime_error("connection closed inside a chunked HTTP body");
            return std::nullopt;
        }
        response.body = std::move(*body);
        return response;
    }
    if (content_length) {
        if (raw.size() - body_start < *content_length) {
            if (at_eof) throw std::runtime_error("connection closed before the HTTP body ended");
            return std::nullopt;
        }
        response.body = raw.substr(body_start, *content_length);
        return response;
    }
    if (!at_eof) return std::nullopt;  // body delimited by end of stream
    response.body = raw.substr(body_start);
    return response;
}

}  // namespace medchain::host
