#include "hal/wifi_transport.hpp"

#include <HTTPClient.h>
#include <WiFi.h>

std::string WifiTransport::post(const std::string& body) {
    if (WiFi.status() != WL_CONNECTED) throw medchain::TransportError("Wi-Fi not connected");
    HTTPClient http;
    http.setConnectTimeout(3'000);
    http.setTimeout(timeout_ms_);
    if (!http.begin(url_.c_str())) throw medchain::TransportError("cannot use RPC URL " + url_);
    http.addHeader("Content-Type", "application/json");
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
