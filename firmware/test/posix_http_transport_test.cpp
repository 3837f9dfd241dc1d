#include <gtest/gtest.h>

#include "medchain/eth_client.hpp"
#include "posix_http_transport.hpp"
#include "support/loopback_server.hpp"

namespace medchain::host {
namespace {

std::string url(std::uint16_t port, const std::string& path = "/") {
    return "http://127.0.0.1:" + std::to_string(port) + path;
}

std::string ok(const std::string& body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

TEST(PosixHttpTransport, PostsJsonAndReturnsTheBody) {
    test::LoopbackServer server(ok(R"({"ok":true})"));
    PosixHttpTransport transport(url(server.port(), "/rpc"));
    EXPECT_EQ(transport.post(R"({"hello":1})"), R"({"ok":true})");
    const std::string request = server.request();
    EXPECT_EQ(request.rfind("POST /rpc HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("Content-Type: application/json\r\n"), std::string::npos);
    EXPECT_NE(request.find("Content-Length: 11\r\n"), std::string::npos);
    EXPECT_NE(request.find("\r\n\r\n{\"hello\":1}"), std::string::npos);
}

TEST(PosixHttpTransport, SendsTheBearerToken) {
    test::LoopbackServer server(ok(R"({"ok":true})"));
    HttpOptions options;
    options.bearer_token = "mcg_abc123";
    PosixHttpTransport transport(url(server.port()), options);
    transport.post("{}");
    const std::string request = server.request();
    EXPECT_NE(request.find("\r\nAuthorization: Bearer mcg_abc123\r\n"), std::string::npos) << request;
}

TEST(PosixHttpTransport, NoTokenNoAuthorizationHeader) {
    test::LoopbackServer server(ok(R"({"ok":true})"));
    PosixHttpTransport transport(url(server.port()));
    transport.post("{}");
    EXPECT_EQ(server.request().find("Authorization"), std::string::npos);
}

TEST(PosixHttpTransport, PutsBytesOnTheSameOriginAndReturnsAnyStatus) {
    test::LoopbackServer server("HTTP/1.1 400 Bad Request\r\nContent-Length: 7\r\n\r\n{\"e\":1}");
    HttpOptions options;
    options.bearer_token = "mcg_abc123";
    PosixHttpTransport transport(url(server.port(), "/"), options);
    const PutReply reply = transport.put(url(server.port(), "/store/bafkreiabc"), std::string("\x02\x00\x01", 3));
    EXPECT_EQ(reply.status, 400);
    EXPECT_EQ(reply.body, R"({"e":1})");
    const std::string request = server.request();
    EXPECT_EQ(request.rfind("PUT /store/bafkreiabc HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("Content-Type: application/octet-stream\r\n"), std::string::npos);
    EXPECT_NE(request.find("\r\nAuthorization: Bearer mcg_abc123\r\n"), std::string::npos);
    EXPECT_NE(request.find(std::string("\r\n\r\n\x02\x00\x01", 7)), std::string::npos);
}

TEST(PosixHttpTransport, PutsOnlyToTheRpcOrigin) {
    PosixHttpTransport transport("http://127.0.0.1:8545/");
    EXPECT_THROW(transport.put("http://127.0.0.1:8546/store/x", "b"), std::invalid_argument);
    EXPECT_THROW(transport.put("http://127.0.0.2:8545/store/x", "b"), std::invalid_argument);
    EXPECT_THROW(transport.put("ftp://127.0.0.1:8545/store/x", "b"), std::invalid_argument);
}

TEST(PosixHttpTransport, HttpsNeedsAPinnedCa) {
    EXPECT_THROW(PosixHttpTransport("https://127.0.0.1:8600"), std::invalid_argument);
    HttpOptions options;
    options.ca_pem = "not a certificate";
    EXPECT_THROW(PosixHttpTransport("https://127.0.0.1:8600", options), std::invalid_argument);
    options.bearer_token = "a\r\nX-Injected: 1";
    EXPECT_THROW(PosixHttpTransport("http://127.0.0.1:8600", options), std::invalid_argument);
}

TEST(PosixHttpTransport, TlsToAPlainServerIsATransportError) {
    // A real (self-signed) CA to pin; the server answers in plaintext, so
    // the handshake fails and nothing is taken as an answer.
    HttpOptions options;
    options.ca_pem =
        "-----BEGIN CERTIFICATE-----\n"
        "MIIBfDCCASGgAwIBAgIUSEx3oePzQ53W7jkx+PDgvXKm9OgwCgYIKoZIzj0EAwIw\n"
        "EjEQMA4GA1UEAwwHdGVzdC1jYTAgFw0yNjEyMDUwNzEyMTlaGA8yMTI2MTExMTA3\n"
        "MTIxOVowEjEQMA4GA1UEAwwHdGVzdC1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEH\n"
        "A0IABJvkL2wTMSzE/LsmussFeRar3AphAPrkeCndQS6wXiF5Ti5tUvv0F4viXwFb\n"
        "6VjAPQUnFT4BaFYjCKNBGqliQxmjUzBRMB0GA1UdDgQWBBRVUj7rSd1AfNpjtlVP\n"
        "SuWCfvBDtjAfBgNVHSMEGDAWgBRVUj7rSd1AfNpjtlVPSuWCfvBDtjAPBgNVHRMB\n"
        "Af8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDdl9piKoLsSDjKmmw2tlDoK7VO\n"
        "8TuZhxaDz7o5iJRtSgIhAJOBGEi2z4LBhcklNgPCxBpu0YssBk8EvQ1F4QaXWbm0\n"
        "-----END CERTIFICATE-----\n";
    options.io_timeout_ms = 3'000;
    test::LoopbackServer server(ok(R"({"ok":true})"));
    PosixHttpTransport transport("https://127.0.0.1:" + std::to_string(server.port()), options);
    EXPECT_THROW(transport.post("{}"), TransportError);
}

TEST(PosixHttpTransport, DrivesEthClientEndToEnd) {
    test::LoopbackServer server(ok(R"({"jsonrpc":"2.0","id":1,"result":"0x539"})"));
    PosixHttpTransport transport(url(server.port()));
    JsonRpcClient rpc(transport);
    EthClient eth(rpc);
    EXPECT_EQ(eth.chain_id(), 1337u);
}

TEST(PosixHttpTransport, ReadsChunkedResponses) {
    test::LoopbackServer server(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n4;x=y\r\n:12}\r\n0\r\n\r\n");
    PosixHttpTransport transport(url(server.port()));
    EXPECT_EQ(transport.post("{}"), R"({"a":12})");
}

TEST(PosixHttpTransport, Non200IsATransportError) {
    test::LoopbackServer server("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy");
    PosixHttpTransport transport(url(server.port()));
    try {
        transport.post("{}");
        FAIL() << "expected TransportError";
    } catch (const TransportError& e) {
        EXPECT_NE(std::string(e.what()).find("HTTP 503"), std::string::npos) << e.what();
    }
}

TEST(PosixHttpTransport, ConnectionRefusedIsATransportError) {
    PosixHttpTransport transport(url(test::closed_port()));
    EXPECT_THROW(transport.post("{}"), TransportError);
}

TEST(PosixHttpTransport, SilentServerTimesOut) {
    test::LoopbackServer server("", /*silent=*/true);
    HttpOptions options;
    options.io_timeout_ms = 200;
    PosixHttpTransport transport(url(server.port()), options);
    EXPECT_THROW(transport.post("{}"), TransportError);
}

TEST(PosixHttpTransport, RefusesNonLoopbackHostsUnlessAllowed) {
    // Refused at construction: no connection is ever attempted.
    EXPECT_THROW(PosixHttpTransport("http://10.1.2.3:8545"), std::invalid_argument);
    EXPECT_THROW(PosixHttpTransport("http://node.example:8545"), std::invalid_argument);
    EXPECT_THROW(PosixHttpTransport("https://127.0.0.1:8545"), std::invalid_argument);
    HttpOptions remote;
    remote.allow_remote = true;
    EXPECT_NO_THROW(PosixHttpTransport("http://10.1.2.3:8545", remote));
    EXPECT_NO_THROW(PosixHttpTransport("http://localhost:8545"));
}

}  // namespace
}  // namespace medchain::host
