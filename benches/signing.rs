//! The driver's per-transaction hot path: build an EIP-1559 transaction
//! calling `Simple.transfer(string,string,int256)` (Caliper's simple
//! benchmark), sign it with a local secp256k1 key and encode it as the
//! EIP-2718 bytes `eth_sendRawTransaction` takes. `medchain bench` signs
//! every transaction ahead of its send time, so this rate bounds the send
//! rate one driver core can sustain (target: ≥ 20,000 per second).
//!
//! Two signers produce the same bytes: alloy's local signer (pure-Rust
//! `k256`, `k256/…`) and libsecp256k1 through the engine's own
//! `TxSigner` (`libsecp256k1/…`), which the engine uses. `split/…` cases
//! take the path apart (RLP, keccak, signature); `secp256k1-0.33/…` and
//! `context-per-call` show what the two ways of misusing libsecp256k1 cost.
//!
//! Run: `cargo bench --bench signing -- --warm-up-time 1 --measurement-time 5`

use alloy::consensus::transaction::RlpEcdsaEncodableTx;
use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::Encodable2718;
use alloy::primitives::{address, keccak256, Address, Bytes, TxKind, B256, I256, U256};
use alloy::signers::local::PrivateKeySigner;
use alloy::signers::SignerSync;
use alloy::sol;
use alloy::sol_types::SolCall;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use medchain::bench::signer::TxSigner;
use std::hint::black_box;
use std::time::Duration;

sol! {
    function transfer(string acc_from, string acc_to, int256 amount);
}

/// A fixed contract address: any address encodes the same way.
const SIMPLE: Address = address!("0x5FbDB2315678afecb367f032d93F642f64180aa3");
const CHAIN_ID: u64 = 1337;

/// Calldata of a transfer between two Caliper-style account names.
fn calldata(nonce: u64) -> Bytes {
    transferCall {
        acc_from: format!("acc{}", nonce % 1000),
        acc_to: format!("acc{}", (nonce + 1) % 1000),
        amount: I256::ONE,
    }
    .abi_encode()
    .into()
}

/// The unsigned transaction.
fn transaction(nonce: u64, input: Bytes) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 100_000,
        max_fee_per_gas: 2_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(SIMPLE),
        value: U256::ZERO,
        access_list: Default::default(),
        input,
    }
}

/// Signs and encodes one transaction with alloy's local signer (pure-Rust
/// `k256`); returns the raw EIP-2718 bytes.
fn sign_and_encode(signer: &PrivateKeySigner, nonce: u64, input: Bytes) -> Vec<u8> {
    let tx = transaction(nonce, input);
    let sig = signer
        .sign_hash_sync(&tx.signature_hash())
        .expect("a local key always signs");
    TxEnvelope::from(tx.into_signed(sig)).encoded_2718()
}

/// The same with the engine's libsecp256k1 signer.
fn sign_and_encode_secp(signer: &TxSigner, nonce: u64, input: Bytes) -> Vec<u8> {
    signer.sign_eip1559(&transaction(nonce, input)).1
}

/// CPU time this thread has used. Measuring in CPU time rather than wall
/// time keeps the figure meaningful on a shared machine: other processes
/// taking the core do not count against the code under test.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_THREAD_CPUTIME_ID is available on Linux");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `iters` times and returns the thread CPU time it took.
fn cpu_timed(iters: u64, mut f: impl FnMut(u64)) -> Duration {
    let start = thread_cpu_time();
    for i in 0..iters {
        f(i);
    }
    thread_cpu_time() - start
}

fn signing(c: &mut Criterion) {
    let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).expect("valid key");
    let secp = TxSigner::from(&signer);
    let input = calldata(0);
    let mut group = c.benchmark_group("simple_transfer");
    group.throughput(Throughput::Elements(1));

    // The figure: sign + encode, calldata prepared beforehand, in
    // wall-clock time (criterion's default clock), then the same in this
    // thread's CPU time (the rate one core sustains even while the machine
    // is busy with other work), then the whole per-transaction path with
    // the calldata encoding (CPU time), then the signature alone.
    let mut nonce = 0u64;
    group.bench_function("k256/sign+encode", |b| {
        b.iter(|| {
            nonce += 1;
            black_box(sign_and_encode(&signer, black_box(nonce), input.clone()))
        })
    });
    group.bench_function("k256/sign+encode/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |i| {
                black_box(sign_and_encode(&signer, black_box(i), input.clone()));
            })
        })
    });
    group.bench_function("k256/build+sign+encode/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |i| {
                black_box(sign_and_encode(&signer, i, calldata(black_box(i))));
            })
        })
    });
    let hash = B256::repeat_byte(0x17);
    group.bench_function("k256/sign-only/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                black_box(signer.sign_hash_sync(black_box(&hash)).expect("signs"));
            })
        })
    });

    // The same four with libsecp256k1, as the engine signs.
    let mut nonce = 0u64;
    group.bench_function("libsecp256k1/sign+encode", |b| {
        b.iter(|| {
            nonce += 1;
            black_box(sign_and_encode_secp(&secp, black_box(nonce), input.clone()))
        })
    });
    group.bench_function("libsecp256k1/sign+encode/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |i| {
                black_box(sign_and_encode_secp(&secp, black_box(i), input.clone()));
            })
        })
    });
    group.bench_function("libsecp256k1/build+sign+encode/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |i| {
                black_box(sign_and_encode_secp(&secp, i, calldata(black_box(i))));
            })
        })
    });
    group.bench_function("libsecp256k1/sign-only/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                black_box(secp.sign_hash(black_box(&hash)));
            })
        })
    });

    // Where the rest of the time goes (CPU time): the RLP of the signing
    // payload, its keccak, and the RLP of the signed envelope.
    let tx = transaction(1, input.clone());
    let payload = tx.encoded_for_signing();
    let sig = secp.sign_hash(&tx.signature_hash());
    group.bench_function("split/signing-rlp/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                black_box(black_box(&tx).encoded_for_signing());
            })
        })
    });
    group.bench_function("split/keccak/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                black_box(keccak256(black_box(&payload)));
            })
        })
    });
    group.bench_function("split/envelope-rlp/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                let mut raw = Vec::with_capacity(tx.eip2718_encoded_length(&sig));
                black_box(&tx).eip2718_encode(black_box(&sig), &mut raw);
                black_box(raw);
            })
        })
    });

    // The two slow ways to use libsecp256k1: a new context per signature,
    // and the current crate (0.32+), which rerandomizes its global context
    // before every signature.
    let key = secp256k1::SecretKey::from_byte_array([0x42; 32]).expect("valid key");
    let msg = secp256k1::Message::from_digest(hash.0);
    group.bench_function("libsecp256k1/context-per-call/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                let ctx = secp256k1::Secp256k1::signing_only();
                black_box(ctx.sign_ecdsa_recoverable(black_box(msg), &key));
            })
        })
    });
    let key33 = secp256k1_033::SecretKey::from_secret_bytes([0x42; 32]).expect("valid key");
    let msg33 = secp256k1_033::Message::from_digest(hash.0);
    group.bench_function("secp256k1-0.33/sign-only/cpu-time", |b| {
        b.iter_custom(|iters| {
            cpu_timed(iters, |_| {
                black_box(
                    secp256k1_033::ecdsa::RecoverableSignature::sign_ecdsa_recoverable(
                        black_box(msg33),
                        &key33,
                    ),
                );
            })
        })
    });

    group.finish();
}

/// A signed transaction must recover to the signer, and both signers must
/// produce the same bytes: the bench measures real signatures, not a
/// broken shortcut (src/bench/signer.rs tests this more widely).
fn check_roundtrip() {
    let signer = PrivateKeySigner::from_bytes(&B256::repeat_byte(0x42)).expect("valid key");
    let raw = sign_and_encode(&signer, 7, calldata(7));
    check_recovers(&raw, signer.address());
    let secp = sign_and_encode_secp(&TxSigner::from(&signer), 7, calldata(7));
    assert_eq!(raw, secp, "k256 and libsecp256k1 sign the same bytes");
}

fn check_recovers(raw: &[u8], want: Address) {
    use alloy::eips::Decodable2718;
    let env = TxEnvelope::decode_2718(&mut &raw[..]).expect("decodes");
    let signed = env.as_eip1559().expect("an EIP-1559 envelope");
    let from = signed
        .signature()
        .recover_address_from_prehash(&signed.tx().signature_hash())
        .expect("recovers");
    assert_eq!(from, want);
}

fn benches(c: &mut Criterion) {
    check_roundtrip();
    signing(c);
}

criterion_group!(signing_benches, benches);
criterion_main!(signing_benches);
