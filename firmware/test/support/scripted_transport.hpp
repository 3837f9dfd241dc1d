// A Transport that answers each request with the next scripted result (or
// error), echoing the request id, and records what it was asked.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "medchain/transport.hpp"

namespace medchain::test {

class ScriptedTransport : public Transport {
public:
    using Json = nlohmann::json;

    void reply_result(Json result) { replies_.push_back(Json{{"result", std::move(result)}}); }
    void reply_error(int code, const std::string& message, Json data = nullptr) {
        Json error{{"code", code}, {"message", message}};
        if (!data.is_null()) error["data"] = std::move(data);
        replies_.push_back(Json{{"error", std::move(error)}});
    }
    void reply_raw(const std::string& body) { replies_.push_back(Json{{"raw", body}}); }
    void fail(const std::string& why) { replies_.push_back(Json{{"fail", why}}); }

    std::string post(const std::string& body) override {
        requests.push_back(Json::parse(body));
        if (replies_.empty()) throw TransportError("scripted transport: no reply scripted");
        Json reply = std::move(replies_.front());
        replies_.pop_front();
        if (reply.contains("fail")) throw TransportError(reply.at("fail").get<std::string>());
        if (reply.contains("raw")) return reply.at("raw").get<std::string>();
        reply["jsonrpc"] = "2.0";
        reply["id"] = requests.back().at("id");
        return reply.dump();
    }

    std::vector<Json> requests;

private:
    std::deque<Json> replies_;
};

}  // namespace medchain::test
