//! A device's token only sends its own transactions: the sender of an
//! `eth_sendRawTransaction` is recovered from the signature and must be the
//! device wallet the token was issued for. (A stolen device token can then
//! not be used to push transactions signed by other keys; it can still
//! read what the allow-list serves.) Operator-minted clients carry no
//! device and are not bound.

use alloy::consensus::TxEnvelope;
use alloy::eips::eip2718::Decodable2718;
use alloy::primitives::Address;
use serde_json::Value;

use super::allow::{RpcError, INVALID_PARAMS};

/// JSON-RPC error code for a transaction not signed by the client's device.
pub const SENDER_NOT_ALLOWED: i64 = -32003;

/// The sender of a raw transaction given as `0x…` hex.
pub fn sender(raw_hex: &str) -> Result<Address, String> {
    let bytes = hex::decode(raw_hex.strip_prefix("0x").unwrap_or(raw_hex))
        .map_err(|e| format!("not hex: {e}"))?;
    let tx = TxEnvelope::decode_2718(&mut bytes.as_slice())
        .map_err(|e| format!("not a signed transaction: {e}"))?;
    tx.signature()
        .recover_address_from_prehash(&tx.signature_hash())
        .map_err(|e| format!("cannot recover the sender: {e}"))
}

/// Whether a call to `method` with `params` may go out under a client
/// bound to `device` (`None`: not bound).
pub fn check(
    device: Option<Address>,
    method: &str,
    params: Option<&Value>,
) -> Result<(), RpcError> {
    let Some(device) = device else {
        return Ok(());
    };
    if method != "eth_sendRawTransaction" {
        return Ok(());
    }
    let raw = params
        .and_then(Value::as_array)
        .and_then(|p| p.first())
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::new(
                INVALID_PARAMS,
                "eth_sendRawTransaction: expected [\"0x…signed transaction\"]",
            )
        })?;
    let from = sender(raw)
        .map_err(|e| RpcError::new(INVALID_PARAMS, format!("eth_sendRawTransaction: {e}")))?;
    if from == device {
        Ok(())
    } else {
        Err(RpcError::new(
            SENDER_NOT_ALLOWED,
            format!(
                "transaction sender {} is not this client's device {} (its token's, or its MQTT topic's)",
                from.to_checksum(None),
                device.to_checksum(None)
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::consensus::{SignableTransaction, TxLegacy};
    use alloy::eips::eip2718::Encodable2718;
    use alloy::primitives::{TxKind, B256, U256};
    use alloy::signers::local::PrivateKeySigner;
    use alloy::signers::SignerSync;
    use serde_json::json;

    fn raw(key: &PrivateKeySigner) -> String {
        let tx = TxLegacy {
            chain_id: Some(1337),
            nonce: 0,
            gas_price: 1,
            gas_limit: 21_000,
            to: TxKind::Call(Address::ZERO),
            value: U256::from(1),
            input: Default::default(),
        };
        let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
        let env: TxEnvelope = tx.into_signed(sig).into();
        format!("0x{}", hex::encode(env.encoded_2718()))
    }

    #[test]
    fn only_the_tokens_device_may_send() {
        let me = PrivateKeySigner::from_bytes(&B256::repeat_byte(1)).unwrap();
        let other = PrivateKeySigner::from_bytes(&B256::repeat_byte(2)).unwrap();
        assert_eq!(sender(&raw(&me)).unwrap(), me.address());
        let send = |key: &PrivateKeySigner| json!([raw(key)]);
        let bound = Some(me.address());
        assert_eq!(
            check(bound, "eth_sendRawTransaction", Some(&send(&me))),
            Ok(())
        );
        let e = check(bound, "eth_sendRawTransaction", Some(&send(&other))).unwrap_err();
        assert_eq!(e.code, SENDER_NOT_ALLOWED);
        assert!(
            e.message.contains(&other.address().to_checksum(None)),
            "{e:?}"
        );
        // Unbound clients and other methods are not checked here.
        assert_eq!(
            check(None, "eth_sendRawTransaction", Some(&send(&other))),
            Ok(())
        );
        assert_eq!(check(bound, "eth_call", Some(&json!([{}]))), Ok(()));
        // Garbage is refused for a bound client.
        for p in [json!([]), json!(["0x1234"]), json!(["zz"]), json!([5])] {
            let e = check(bound, "eth_sendRawTransaction", Some(&p)).unwrap_err();
            assert_eq!(e.code, INVALID_PARAMS, "{p}");
        }
    }
}
