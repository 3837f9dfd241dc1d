//! Whether the account that funds a bench's workers can still afford it.
//!
//! Every `bench` run funds fresh worker accounts with
//! [`WORKER_FUNDS_ETH`] each from the
//! network's first prefunded account, and that ether stays with them. A
//! network kept up across many runs therefore runs dry (1,000,000 ETH
//! covers 25 runs of one worker's four accounts, 6 of four workers'), and
//! the node's own refusal ("insufficient funds for gas * price + value")
//! came after some workers were already funded. The check below runs
//! first and says what to do.

use alloy::primitives::utils::Unit;
use alloy::primitives::{Address, U256};

/// Ether each worker account receives.
pub(crate) const WORKER_FUNDS_ETH: u64 = 10_000;

/// Wei in one ether.
fn ether() -> U256 {
    Unit::ETHER.wei()
}

/// What funding one worker account sends it, in wei.
pub(crate) fn per_account_wei() -> U256 {
    U256::from(WORKER_FUNDS_ETH) * ether()
}

/// The line to stop with when `balance` (wei) cannot fund `accounts`
/// worker accounts plus one ether of gas for the setup transactions;
/// `None` when it can.
pub(crate) fn shortfall(funder: Address, balance: U256, accounts: usize) -> Option<String> {
    let need = per_account_wei() * U256::from(accounts) + ether();
    (balance < need).then(|| {
        format!(
            "the funding account {funder} holds {} ETH, and funding {accounts} worker account(s) \
             needs {} ETH ({WORKER_FUNDS_ETH} ETH each; every run funds fresh accounts): \
             on a medchain network bring it up afresh (`medchain down --purge`, then \
             `medchain up`) or raise `account_balance_eth` in its topology; with `--key`, \
             send that key more ether",
            balance / ether(),
            need / ether()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_funder_short_of_the_accounts_and_their_setup_gas_is_named_with_what_to_do() {
        let a = Address::repeat_byte(0x11);
        let four = per_account_wei() * U256::from(4u64);
        assert_eq!(shortfall(a, four + ether(), 4), None);
        let line = shortfall(a, four, 4).expect("one ether short of setup gas");
        assert!(line.contains("holds 40000 ETH"), "{line}");
        assert!(line.contains("needs 40001 ETH"), "{line}");
        assert!(line.contains("medchain down --purge"), "{line}");
        assert!(line.contains(&a.to_string()), "{line}");
        assert!(shortfall(a, U256::ZERO, 1).is_some());
    }
}
