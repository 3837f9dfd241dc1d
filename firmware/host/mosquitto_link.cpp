#include "mosquitto_link.hpp"

#include <mosquitto.h>

#include <chrono>
#include <stdexcept>

namespace medchain::host {
namespace {

constexpr int kKeepAliveS = 10;
constexpr auto kConnectWait = std::chrono::milliseconds(3'000);
constexpr std::size_t kInboxMax = 64;

struct LibraryInit {
    LibraryInit() { mosquitto_lib_init(); }
    ~LibraryInit() { mosquitto_lib_cleanup(); }
};

void check(int rc, const char* what) {
    if (rc != MOSQ_ERR_SUCCESS) throw std::runtime_error(std::string(what) + ": " + mosquitto_strerror(rc));
}

}  // namespace

MosquittoLink::MosquittoLink(const MqttSettings& s) {
    static LibraryInit library;
    client_ = mosquitto_new(s.client_id.c_str(), /*clean_session=*/true, this);
    if (client_ == nullptr) throw std::runtime_error("mosquitto_new failed");
    mosquitto_connect_callback_set(client_, &MosquittoLink::on_connect);
    mosquitto_disconnect_callback_set(client_, &MosquittoLink::on_disconnect);
    mosquitto_message_callback_set(client_, &MosquittoLink::on_message);
    try {
        check(mosquitto_username_pw_set(client_, s.username.c_str(), s.password.c_str()), "MQTT user name");
        check(mosquitto_tls_set(client_, s.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr),
              ("MQTT CA file " + s.ca_file).c_str());
        check(mosquitto_tls_opts_set(client_, 1 /*verify the peer*/, "tlsv1.2", nullptr), "MQTT TLS options");
        check(mosquitto_tls_insecure_set(client_, false), "MQTT host name check");
        check(mosquitto_reconnect_delay_set(client_, 1, 5, false), "MQTT reconnect delay");
        // A refused first connection is retried by the network thread.
        const int rc = mosquitto_connect_async(client_, s.host.c_str(), s.port, kKeepAliveS);
        if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_ERRNO) check(rc, "MQTT connect");
        check(mosquitto_loop_start(client_), "MQTT network thread");
    } catch (...) {
        mosquitto_destroy(client_);
        throw;
    }
}

MosquittoLink::~MosquittoLink() {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, /*force=*/false);
    mosquitto_destroy(client_);
}

void MosquittoLink::on_connect(mosquitto* m, void* self, int rc) {
    auto* link = static_cast<MosquittoLink*>(self);
    std::lock_guard<std::mutex> lock(link->mutex_);
    if (rc != 0) {
        link->last_error_ = std::string("broker refused the connection: ") + mosquitto_connack_string(rc);
        return;
    }
    if (!link->topic_.empty()) mosquitto_subscribe(m, nullptr, link->topic_.c_str(), 1);
    link->connected_ = true;
    link->changed_.notify_all();
}

void MosquittoLink::on_disconnect(mosquitto*, void* self, int rc) {
    auto* link = static_cast<MosquittoLink*>(self);
    std::lock_guard<std::mutex> lock(link->mutex_);
    link->connected_ = false;
    if (rc != 0) link->last_error_ = "connection to the broker lost";
    link->changed_.notify_all();
}

void MosquittoLink::on_message(mosquitto*, void* self, const mosquitto_message* message) {
    auto* link = static_cast<MosquittoLink*>(self);
    std::lock_guard<std::mutex> lock(link->mutex_);
    if (link->topic_ != message->topic || message->payloadlen <= 0) return;
    if (link->inbox_.size() >= kInboxMax) link->inbox_.pop_front();
    link->inbox_.emplace_back(static_cast<const char*>(message->payload),
                              static_cast<std::size_t>(message->payloadlen));
    link->changed_.notify_all();
}

bool MosquittoLink::ensure_connected(const std::string& topic) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (topic_ != topic) {
        topic_ = topic;
        if (connected_) mosquitto_subscribe(client_, nullptr, topic_.c_str(), 1);
    }
    return changed_.wait_for(lock, kConnectWait, [this] { return connected_; });
}

bool MosquittoLink::publish(const std::string& topic, const std::string& payload) {
    const int rc =
        mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false);
    if (rc != MOSQ_ERR_SUCCESS) {
        std::lock_guard<std::mutex> lock(mutex_);
        last_error_ = std::string("publish: ") + mosquitto_strerror(rc);
    }
    return rc == MOSQ_ERR_SUCCESS;
}

std::optional<std::string> MosquittoLink::poll(std::uint32_t wait_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return !inbox_.empty(); });
    if (inbox_.empty()) return std::nullopt;
    std::string message = std::move(inbox_.front());
    inbox_.pop_front();
    return message;
}

std::string MosquittoLink::last_error() {
    std::lock_guard<std::mutex> lock(mutex_);
    return last_error_;
}

}  // namespace medchain::host
