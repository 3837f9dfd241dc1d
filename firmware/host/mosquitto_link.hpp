// The host's MQTT client: libmosquitto (Debian's libmosquitto) with its
// network thread, TLS 1.2+ verifying the broker's certificate against one
// pinned CA file and its host name, a user name and password. It
// reconnects by itself (1 to 5 s apart) and subscribes again on every
// connection; messages on the subscribed topic queue until polled.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

#include "medchain/mqtt_link.hpp"

struct mosquitto;
struct mosquitto_message;

namespace medchain::host {

struct MqttSettings {
    std::string host;  // a loopback address unless allowed otherwise
    int port = 8883;
    std::string username;
    std::string password;
    std::string tx_topic;
    std::string ca_file;  // PEM; the only CA trusted
    std::string client_id;
};

class MosquittoLink : public MqttLink {
public:
    // Starts connecting in the background; throws std::runtime_error when
    // libmosquitto refuses the settings (e.g. an unreadable CA file).
    explicit MosquittoLink(const MqttSettings& settings);
    ~MosquittoLink() override;
    MosquittoLink(const MosquittoLink&) = delete;
    MosquittoLink& operator=(const MosquittoLink&) = delete;

    bool ensure_connected(const std::string& topic) override;
    bool publish(const std::string& topic, const std::string& payload) override;
    std::optional<std::string> poll(std::uint32_t wait_ms) override;

    std::string last_error() override;

private:
    static void on_connect(mosquitto* m, void* self, int rc);
    static void on_disconnect(mosquitto* m, void* self, int rc);
    static void on_message(mosquitto* m, void* self, const mosquitto_message* message);

    mosquitto* client_ = nullptr;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool connected_ = false;
    std::string topic_;
    std::deque<std::string> inbox_;
    std::string last_error_;
};

}  // namespace medchain::host
