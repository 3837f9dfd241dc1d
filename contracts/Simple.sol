// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.24;

/// @title Simple
/// @notice Behaviourally identical to Hyperledger Caliper's Ethereum "simple" benchmark
///         contract (caliper-benchmarks src/ethereum/simple/simple.sol): same functions,
///         parameter names, storage layout and semantics, so Caliper workloads
///         (open / query / transfer) run against it unchanged.
/// @dev No access control, no balance checks and no events, exactly like Caliper's.
///      As in Caliper's Solidity 0.8 version, int256 arithmetic is checked, so only a
///      transfer that would overflow int256 reverts (a negative balance is allowed).
contract Simple {
    mapping(string => int) private accounts;

    /// @notice Set `acc_id`'s balance to `amount` (overwrites any previous balance).
    function open(string memory acc_id, int amount) public {
        accounts[acc_id] = amount;
    }

    /// @notice Balance of `acc_id` (0 if never opened).
    function query(string memory acc_id) public view returns (int amount) {
        amount = accounts[acc_id];
    }

    /// @notice Move `amount` from `acc_from` to `acc_to`, unchecked against balances.
    function transfer(string memory acc_from, string memory acc_to, int amount) public {
        accounts[acc_from] -= amount;
        accounts[acc_to] += amount;
    }
}
