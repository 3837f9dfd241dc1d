#include "hal/wifi_transport.hpp"

#include <HTTPClient.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>

#include <memory>

std::string WifiTransport::post(const std::string& body) {
    if (WiFi.status() != WL_CONNECTED) throw medchain::TransportError("Wi-Fi not connected");
    const bool https = url_.rfind("https://", 0) == 0;
    // Plain http only reaches a node on the same host; on a LAN the device
    // talks https to the gateway, trusting only the pinned CA.
    std::unique_ptr<WiFiClient> client;
    if (https) {
        if (ca_pem_.empty()) throw medchain::TransportError("https RPC URL without a pinned CA (tls_ca)");
        auto secure = std::make_unique<WiFiClientSecure>();
        secure->setCACert(ca_pem_.c_str());
        client = std::move(secure);
    } else {
        client = std::make_unique<WiFiClient>();
    }
    HTTPClient http;
    http.setConnectTimeout(3'000);
    http.setTimeout(timeout_ms_);
    if (!http.begin(*client, url_.c_str())) throw medchain::TransportError("cannot use RPC URL " + url_);
    http.addHeader("Content-Type", "application/json");
    if (!token_.empty()) http.addHeader("Authorization", ("Bearer " + token_).c_str());
    const int status = http.POST(reinterpret_cast<std::uint8_t*>(const_cast<char*>(body.data())), body.size());
    if (status != HTTP_CODE_OK) {
        const String why = status < 0 ? HTTPClient::errorToString(status) : String("HTTP ") + String(status);
        http.end();
        throw medchain::TransportError(std::string("RPC request failed: ") + why.c_str());
    }
    const String response = http.getString();
    http.end();
    return std::string(response.c_str(), response.length());
}
