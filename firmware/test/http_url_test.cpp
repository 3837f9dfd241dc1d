#include <gtest/gtest.h>

#include "medchain/http_url.hpp"

namespace medchain {
namespace {

TEST(HttpUrl, Parses) {
    HttpUrl url = parse_http_url("http://127.0.0.1:8545");
    EXPECT_EQ(url.host, "127.0.0.1");
    EXPECT_EQ(url.port, 8545);
    EXPECT_EQ(url.path, "/");
    url = parse_http_url("http://localhost/rpc/v1");
    EXPECT_EQ(url.host, "localhost");
    EXPECT_EQ(url.port, 80);
    EXPECT_EQ(url.path, "/rpc/v1");
    url = parse_http_url("http://[::1]:8545/");
    EXPECT_EQ(url.host, "::1");
    EXPECT_EQ(url.port, 8545);
    EXPECT_FALSE(url.tls);
}

TEST(HttpUrl, ParsesHttps) {
    HttpUrl url = parse_http_url("https://192.168.1.10:8600");
    EXPECT_TRUE(url.tls);
    EXPECT_EQ(url.host, "192.168.1.10");
    EXPECT_EQ(url.port, 8600);
    EXPECT_EQ(url.path, "/");
    url = parse_http_url("https://gw.ward.example/");
    EXPECT_TRUE(url.tls);
    EXPECT_EQ(url.port, 443);
}

TEST(HttpUrl, Rejects) {
    for (const char* bad : {"ftp://127.0.0.1:8545", "httpx://h", "127.0.0.1:8545", "https://", "http://", "http://:8545", "http://h:0",
                            "http://h:65536", "http://h:80x", "http://u@h", "http://[::1", "http://[::1]x"}) {
        EXPECT_THROW(parse_http_url(bad), std::invalid_argument) << bad;
    }
}

TEST(HttpUrl, LoopbackLiterals) {
    for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1"})
        EXPECT_TRUE(is_loopback_literal(host)) << host;
    for (const char* host : {"10.0.0.1", "192.168.1.1", "128.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256",
                             "example.com", "localhost.example.com", ""}) {
        EXPECT_FALSE(is_loopback_literal(host)) << host;
    }
}

}  // namespace
}  // namespace medchain
