//! The bench engine's transaction signer: libsecp256k1 (bitcoin-core's C
//! library, through the `secp256k1` crate) instead of alloy's pure-Rust
//! `k256` signer, because signing is most of the driver's cost per
//! transaction and libsecp256k1 needs 1.2–1.7× less CPU time for it on the
//! same core (benches/signing.rs, docs/performance.md). The output is byte-identical
//! to alloy's: both use RFC 6979 nonces and low-s signatures. Everything
//! outside the hot path keeps using alloy's `PrivateKeySigner`.
//!
//! The benchmark's transaction shape (EIP-1559 with fixed fees, [`sign`],
//! [`sign_value`]) and the check for a stale local nonce ([`nonce_error`])
//! live here too, so both senders (the engine's workers and the fleet's
//! devices) depend on this module rather than on each other.

use std::sync::OnceLock;

use alloy::consensus::transaction::RlpEcdsaEncodableTx;
use alloy::consensus::{SignableTransaction, TxEip1559};
use alloy::primitives::{keccak256, Address, Signature, TxKind, B256, U256};
use alloy::signers::local::PrivateKeySigner;
use secp256k1::{Message, Secp256k1, SecretKey, SignOnly};

use super::workload::Call;

/// Fee cap of benchmark transactions: far above any base fee these chains
/// reach, so a rising base fee never strands a transaction.
pub(crate) const MAX_FEE_WEI: u128 = 100_000_000_000;
/// Tip of benchmark transactions (nodes run with `--miner.gasprice 1`).
pub(crate) const TIP_WEI: u128 = 1;

/// One signing context for the whole process, created and randomized
/// against side channels once: rerandomizing costs about as much as a
/// signature, so doing it per call (as `secp256k1` 0.32+ does) would halve
/// the signing rate.
fn context() -> &'static Secp256k1<SignOnly> {
    static CONTEXT: OnceLock<Secp256k1<SignOnly>> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let mut ctx = Secp256k1::signing_only();
        ctx.seeded_randomize(&rand::random());
        ctx
    })
}

/// A sender's key, held in the form libsecp256k1 signs with.
#[derive(Clone)]
pub struct TxSigner {
    secret: SecretKey,
    address: Address,
}

impl std::fmt::Debug for TxSigner {
    /// Shows the address only: the key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxSigner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl From<&PrivateKeySigner> for TxSigner {
    fn from(signer: &PrivateKeySigner) -> Self {
        let bytes: [u8; 32] = signer.credential().to_bytes().into();
        Self {
            // A k256 signing key is a valid non-zero scalar, so it is a
            // valid libsecp256k1 secret key too.
            secret: SecretKey::from_byte_array(bytes).expect("a k256 key is a valid secp256k1 key"),
            address: signer.address(),
        }
    }
}

impl From<PrivateKeySigner> for TxSigner {
    fn from(signer: PrivateKeySigner) -> Self {
        Self::from(&signer)
    }
}

impl TxSigner {
    /// The sender's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `hash` (a transaction's signature hash) and returns the
    /// Ethereum signature: r, s (low-s) and the y parity.
    pub fn sign_hash(&self, hash: &B256) -> Signature {
        let sig = context().sign_ecdsa_recoverable(Message::from_digest(hash.0), &self.secret);
        let (id, rs) = sig.serialize_compact();
        // Ids 2 and 3 (r overflowed the group order) have probability
        // ~2^-127; Ethereum keeps only the parity.
        Signature::from_bytes_and_parity(&rs, i32::from(id) & 1 == 1)
    }

    /// Signs `tx` and returns its transaction hash and its EIP-2718 bytes,
    /// as `eth_sendRawTransaction` takes them. The envelope is encoded
    /// once and hashed, rather than encoded for the hash and again for the
    /// wire.
    pub fn sign_eip1559(&self, tx: &TxEip1559) -> (B256, Vec<u8>) {
        let sig = self.sign_hash(&tx.signature_hash());
        let mut raw = Vec::with_capacity(tx.eip2718_encoded_length(&sig));
        tx.eip2718_encode(&sig, &mut raw);
        (keccak256(&raw), raw)
    }
}

/// This thread's CPU time so far, seconds (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// The CPU time of one secp256k1 signature on this machine, in this
/// binary, microseconds: the median of five batches of `n / 5` signatures
/// of distinct hashes, each timed by the thread's CPU clock (so other
/// processes on the machine do not count). Blocking: run it off the async
/// runtime's threads.
pub fn signature_cost_us(n: u32) -> f64 {
    let signer = TxSigner::from(&PrivateKeySigner::random());
    let per_batch = (n / 5).max(1);
    let mut batches: Vec<f64> = (0..5u32)
        .map(|b| {
            let t0 = thread_cpu_s();
            for i in 0..per_batch {
                let hash = keccak256((b * per_batch + i).to_be_bytes());
                std::hint::black_box(signer.sign_hash(&hash));
            }
            (thread_cpu_s() - t0) * 1e6 / per_batch as f64
        })
        .collect();
    batches.sort_by(f64::total_cmp);
    batches[2]
}

/// Signs `call` as an EIP-1559 transaction; returns its hash and raw bytes.
pub fn sign(
    signer: &TxSigner,
    chain_id: u64,
    nonce: u64,
    call: &Call,
) -> anyhow::Result<(B256, Vec<u8>)> {
    sign_value(signer, chain_id, nonce, call, U256::ZERO)
}

/// Signs `call` carrying `value` wei (a plain transfer when the calldata
/// is empty), with the benchmark's fees.
pub(crate) fn sign_value(
    signer: &TxSigner,
    chain_id: u64,
    nonce: u64,
    call: &Call,
    value: U256,
) -> anyhow::Result<(B256, Vec<u8>)> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: call.gas,
        max_fee_per_gas: MAX_FEE_WEI,
        max_priority_fee_per_gas: TIP_WEI,
        to: TxKind::Call(call.to),
        value,
        access_list: Default::default(),
        input: call.input.clone(),
    };
    Ok(signer.sign_eip1559(&tx))
}

/// Whether a submission error means our local nonce is behind the chain.
pub(crate) fn nonce_error(e: &anyhow::Error) -> bool {
    let s = e.to_string();
    s.contains("nonce too low")
        || s.contains("already known")
        || s.contains("replacement transaction underpriced")
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::consensus::TxEnvelope;
    use alloy::eips::{Decodable2718, Encodable2718};
    use alloy::network::TxSignerSync;
    use alloy::primitives::{address, Bytes};

    fn tx(nonce: u64, input: &[u8]) -> TxEip1559 {
        TxEip1559 {
            chain_id: 1337,
            nonce,
            gas_limit: 100_000,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(address!("0x5FbDB2315678afecb367f032d93F642f64180aa3")),
            value: U256::ZERO,
            access_list: Default::default(),
            input: Bytes::copy_from_slice(input),
        }
    }

    /// What the engine produced before: alloy's k256 signer.
    fn alloy_path(signer: &PrivateKeySigner, mut tx: TxEip1559) -> (B256, Vec<u8>) {
        let sig = signer.sign_transaction_sync(&mut tx).unwrap();
        let signed = tx.into_signed(sig);
        let hash = *signed.hash();
        (hash, TxEnvelope::from(signed).encoded_2718())
    }

    #[test]
    fn byte_identical_to_alloys_signer_and_recovers_the_sender() {
        for seed in 1u8..=24 {
            let alloy = PrivateKeySigner::from_bytes(&B256::repeat_byte(seed)).unwrap();
            let ours = TxSigner::from(&alloy);
            assert_eq!(ours.address(), alloy.address());
            for nonce in [0u64, 1, 7, 1 << 20, u64::MAX - 1] {
                let t = tx(nonce, &[seed; 100][..(nonce % 100) as usize]);
                let (hash, raw) = ours.sign_eip1559(&t);
                assert_eq!(
                    (hash, raw.clone()),
                    alloy_path(&alloy, t.clone()),
                    "key {seed}, nonce {nonce}"
                );
                let env = TxEnvelope::decode_2718(&mut &raw[..]).unwrap();
                assert_eq!(*env.tx_hash(), hash);
                let signed = env.as_eip1559().unwrap();
                let from = signed
                    .signature()
                    .recover_address_from_prehash(&signed.tx().signature_hash())
                    .unwrap();
                assert_eq!(from, alloy.address());
            }
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let alloy = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).unwrap();
        let shown = format!("{:?}", TxSigner::from(alloy));
        assert!(!shown.contains("4242"), "{shown}");
    }

    #[test]
    fn sign_value_uses_the_benchmark_fees_and_the_calls_fields() {
        let alloy = PrivateKeySigner::from_bytes(&B256::repeat_byte(7)).unwrap();
        let call = Call {
            to: address!("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
            input: Bytes::from_static(&[1, 2, 3]),
            gas: 123_456,
            read: false,
        };
        let value = U256::from(5u64);
        let (hash, raw) = sign_value(&TxSigner::from(&alloy), 1337, 9, &call, value).unwrap();
        let env = TxEnvelope::decode_2718(&mut &raw[..]).unwrap();
        assert_eq!(*env.tx_hash(), hash);
        let t = env.as_eip1559().unwrap().tx();
        assert_eq!((t.chain_id, t.nonce, t.gas_limit), (1337, 9, 123_456));
        assert_eq!(
            (t.max_fee_per_gas, t.max_priority_fee_per_gas),
            (MAX_FEE_WEI, TIP_WEI)
        );
        assert_eq!((t.to, t.value), (TxKind::Call(call.to), value));
        assert_eq!(t.input, call.input);
        let plain = sign(&TxSigner::from(&alloy), 1337, 9, &call).unwrap().1;
        let t = TxEnvelope::decode_2718(&mut &plain[..]).unwrap();
        assert_eq!(t.as_eip1559().unwrap().tx().value, U256::ZERO);
    }

    #[test]
    fn nonce_errors_are_told_from_other_refusals() {
        for m in [
            "nonce too low: next nonce 5, tx nonce 4",
            "already known",
            "replacement transaction underpriced",
        ] {
            assert!(nonce_error(&anyhow::anyhow!("{m}")), "{m}");
        }
        assert!(!nonce_error(&anyhow::anyhow!("insufficient funds for gas")));
        assert!(!nonce_error(&anyhow::anyhow!("txpool is full")));
    }
}
