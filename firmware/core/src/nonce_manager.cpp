#include "medchain/nonce_manager.hpp"

#include <algorithm>

namespace medchain {

std::uint64_t NonceManager::next() {
    if (!next_) next_ = eth_.transaction_count(account_, "pending");
    return *next_;
}

void NonceManager::mark_used(std::uint64_t nonce) {
    if (next_) next_ = std::max(*next_, nonce + 1);
}

}  // namespace medchain
