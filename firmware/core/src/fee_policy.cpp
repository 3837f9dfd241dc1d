#include "medchain/fee_policy.hpp"

namespace medchain {

Fees quote_fees(EthClient& eth, const FeeOptions& options) {
    Fees fees;
    const std::optional<U256> base_fee = eth.latest_base_fee();
    if (!base_fee) {
        fees.eip1559 = false;
        fees.gas_price = eth.gas_price();
        return fees;
    }
    fees.max_priority_fee_per_gas = eth.max_priority_fee_per_gas();
    fees.max_fee_per_gas = base_fee->mul_small(options.base_fee_multiplier) + fees.max_priority_fee_per_gas;
    return fees;
}

std::uint64_t gas_limit_with_headroom(std::uint64_t estimate, const FeeOptions& options) {
    return estimate + estimate / 100 * options.gas_headroom_percent +
           (estimate % 100) * options.gas_headroom_percent / 100;
}

}  // namespace medchain
