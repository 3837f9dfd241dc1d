#include "medchain/rpc_errors.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "medchain/abi.hpp"
#include "medchain/hex.hpp"

namespace medchain {
namespace {

bool contains_ignoring_case(std::string_view text, std::string_view needle) {
    const auto it = std::search(text.begin(), text.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != text.end();
}

}  // namespace

std::optional<std::string> revert_reason(const RpcError& error) {
    if (error.data().is_string()) {
        try {
            if (auto reason = abi::decode_revert_reason(from_hex(error.data().get<std::string>()))) return reason;
        } catch (const std::invalid_argument&) {
            // Not hex: fall back to the message.
        }
    }
    constexpr std::string_view kPrefix = "execution reverted: ";
    const std::string& message = error.message();
    if (message.compare(0, kPrefix.size(), kPrefix) == 0) return message.substr(kPrefix.size());
    return std::nullopt;
}

bool is_nonce_too_low(const RpcError& error) { return contains_ignoring_case(error.message(), "nonce too low"); }

bool is_already_known(const RpcError& error) {
    return contains_ignoring_case(error.message(), "already known") ||
           contains_ignoring_case(error.message(), "known transaction");
}

}  // namespace medchain
