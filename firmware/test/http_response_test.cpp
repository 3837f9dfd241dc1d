#include <gtest/gtest.h>

#include "http_response.hpp"

namespace medchain::host {
namespace {

TEST(HttpResponse, WaitsForTheWholeBody) {
    const std::string full = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
    for (std::size_t cut = 0; cut < full.size(); ++cut) {
        EXPECT_FALSE(parse_http_response(full.substr(0, cut), false).has_value()) << cut;
    }
    const auto response = parse_http_response(full, false);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "hello");
}

TEST(HttpResponse, BodyUntilEndOfStream) {
    EXPECT_FALSE(parse_http_response("HTTP/1.0 200 OK\r\n\r\nabc", false).has_value());
    EXPECT_EQ(parse_http_response("HTTP/1.0 200 OK\r\n\r\nabc", true)->body, "abc");
}

TEST(HttpResponse, Chunked) {
    const std::string raw =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\na\r\n0123456789\r\n0\r\n\r\n";
    EXPECT_EQ(parse_http_response(raw, false)->body, "abc0123456789");
    EXPECT_FALSE(parse_http_response(raw.substr(0, raw.size() - 12), false).has_value());
    EXPECT_THROW(parse_http_response(raw.substr(0, raw.size() - 12), true), std::runtime_error);
}

TEST(HttpResponse, Malformed) {
    EXPECT_THROW(parse_http_response("garbage\r\n\r\n", false), std::runtime_error);
    EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", false), std::runtime_error);
    EXPECT_THROW(parse_http_response("HTTP/1.1 200", true), std::runtime_error);
    EXPECT_THROW(parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false),
                 std::runtime_error);
}

}  // namespace
}  // namespace medchain::host
