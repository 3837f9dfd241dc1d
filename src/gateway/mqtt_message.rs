//! What devices publish to the gateway over MQTT and what it answers
//! (docs/mqtt.md, "Messages"). Pure: no I/O.
//!
//! On `medchain/<network>/<hospital>/devices/<address>/tx` a device
//! publishes one JSON object, either
//!
//! - `{"id": 7, "raw": "0x…"}`: a signed raw transaction, answered on
//!   `…/ack` with `{"id": 7, "hash": "0x…"}` or
//!   `{"id": 7, "error": {"code": …, "message": …}}`; or
//! - one JSON-RPC 2.0 call (`{"jsonrpc":"2.0","id":7,"method":…}`) of the
//!   gateway's allow-list, answered on `…/ack` with the JSON-RPC response,
//!   so a device can run its whole protocol (nonce, fees, receipts) over
//!   MQTT.
//!
//! The address in the topic is the device's (the broker's ACL lets each
//! device publish only on its own topic); a transaction must be signed by
//! it ([`super::binding`]), so a device cannot make the gateway answer on
//! another device's `ack` topic with a transaction of its own.

use alloy::primitives::{keccak256, Address, B256};
use serde_json::{json, Value};

use super::allow::{self, RpcError, INVALID_REQUEST};

/// Largest message the gateway reads (a raw transaction is a few hundred
/// bytes; the HTTP side's default body limit is 64 KiB).
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// The device topics a hospital's gateway subscribes to.
pub fn tx_filter(network: &str, hospital: &str) -> String {
    format!("medchain/{network}/{hospital}/devices/+/tx")
}

/// The device address of a transaction topic of `network` and `hospital`,
/// and the topic its answers go to.
pub fn parse_tx_topic(network: &str, hospital: &str, topic: &str) -> Option<(Address, String)> {
    let rest = topic.strip_prefix(&format!("medchain/{network}/{hospital}/devices/"))?;
    let address = rest.strip_suffix("/tx")?;
    if address.contains('/') {
        return None;
    }
    let parsed: Address = address.parse().ok()?;
    Some((
        parsed,
        format!("medchain/{network}/{hospital}/devices/{address}/ack"),
    ))
}

/// How a message was written, which decides how it is answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    /// `{"id", "raw"}`, answered `{"id", "hash" | "error"}`.
    Raw { id: Value },
    /// A JSON-RPC call, answered with the JSON-RPC response.
    Rpc,
}

/// A message, checked: one call for the member node.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub form: Form,
    /// One call (never a batch), with the allow-list's verdict.
    pub request: allow::Request,
}

/// Parses a payload; an error with the id to answer it under.
pub fn parse(payload: &[u8]) -> Result<Message, (Value, RpcError)> {
    let bad = |id: Value, msg: String| (id, RpcError::new(INVALID_REQUEST, msg));
    if payload.len() > MAX_PAYLOAD {
        let msg = format!("message over {} KiB", MAX_PAYLOAD / 1024);
        return Err(bad(Value::Null, msg));
    }
    let v: Value = serde_json::from_slice(payload).map_err(|e| {
        (
            Value::Null,
            RpcError::new(allow::PARSE_ERROR, format!("not JSON: {e}")),
        )
    })?;
    let Value::Object(obj) = &v else {
        let msg = "expected one JSON object: {\"id\":…,\"raw\":\"0x…\"} or one JSON-RPC call (no batches)";
        return Err(bad(Value::Null, msg.into()));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    if let Some(raw) = obj.get("raw") {
        let Some(raw) = raw.as_str() else {
            return Err(bad(
                id,
                "\"raw\": expected \"0x…\" (a signed transaction in hex)".into(),
            ));
        };
        if id.is_null() {
            return Err(bad(
                id,
                "\"id\": expected a number or a string the answer repeats".into(),
            ));
        }
        let call = json!({"jsonrpc": "2.0", "id": id, "method": "eth_sendRawTransaction", "params": [raw]});
        let request = allow::parse(call.to_string().as_bytes()).map_err(|e| (id.clone(), e))?;
        return Ok(Message {
            form: Form::Raw { id },
            request,
        });
    }
    let request = allow::parse(payload).map_err(|e| (id.clone(), e))?;
    Ok(Message {
        form: Form::Rpc,
        request,
    })
}

/// The answer to publish for a message answered by `response` (a JSON-RPC
/// response object).
pub fn ack(form: &Form, response: &Value) -> Value {
    match form {
        Form::Rpc => response.clone(),
        Form::Raw { id } => match response.get("result") {
            Some(hash) if !hash.is_null() => json!({"id": id, "hash": hash}),
            _ => {
                let error = response.get("error").cloned().unwrap_or_else(
                    || json!({"code": allow::INVALID_REQUEST, "message": "no answer"}),
                );
                json!({"id": id, "error": error})
            }
        },
    }
}

/// The answer to a message that could not be parsed or was refused as a
/// whole, in the form it was written in when that is known.
pub fn refusal(form: Option<&Form>, id: &Value, e: &RpcError) -> Value {
    ack(form.unwrap_or(&Form::Rpc), &e.response(id))
}

/// What a node's error to an `eth_sendRawTransaction` says about a
/// transaction sent before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resent {
    /// The node has it in its pool: the send succeeded before.
    Known,
    /// The nonce is used: by this very transaction if it was mined, which
    /// only a look-up tells.
    NonceUsed,
    /// Anything else.
    Other,
}

/// Classifies a node's error message (geth's wording).
pub fn resent(message: &str) -> Resent {
    let m = message.to_ascii_lowercase();
    if m.contains("already known") || m.contains("known transaction") {
        Resent::Known
    } else if m.contains("nonce too low") {
        Resent::NonceUsed
    } else {
        Resent::Other
    }
}

/// The hash of a raw transaction given in hex.
pub fn tx_hash(raw_hex: &str) -> Option<B256> {
    let bytes = hex::decode(raw_hex.strip_prefix("0x").unwrap_or(raw_hex)).ok()?;
    Some(keccak256(bytes))
}

/// The successful JSON-RPC response `{"result": hash}` to call `id`.
pub fn success(id: &Value, hash: B256) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": format!("{hash:#x}")})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_name_the_device_of_this_hospital_only() {
        let a = "0x00000000000000000000000000000000000000ab";
        let t = format!("medchain/n/ward/devices/{a}/tx");
        let (addr, ack) = parse_tx_topic("n", "ward", &t).unwrap();
        assert_eq!(format!("{addr:#x}"), a);
        assert_eq!(ack, format!("medchain/n/ward/devices/{a}/ack"));
        for other in [
            format!("medchain/n/icu/devices/{a}/tx"),
            format!("medchain/m/ward/devices/{a}/tx"),
            format!("medchain/n/ward/devices/{a}/ack"),
            "medchain/n/ward/devices/0xzz/tx".to_string(),
            format!("medchain/n/ward/devices/x/{a}/tx"),
        ] {
            assert_eq!(parse_tx_topic("n", "ward", &other), None, "{other}");
        }
        assert_eq!(tx_filter("n", "ward"), "medchain/n/ward/devices/+/tx");
    }

    #[test]
    fn raw_messages_become_one_send_and_are_answered_with_the_hash() {
        let m = parse(br#"{"id": 3, "raw": "0x01"}"#).unwrap();
        assert_eq!(m.form, Form::Raw { id: json!(3) });
        assert!(!m.request.batch);
        assert_eq!(m.request.calls[0].method, "eth_sendRawTransaction");
        assert_eq!(m.request.calls[0].raw["params"], json!(["0x01"]));
        let ok = json!({"jsonrpc":"2.0","id":3,"result":"0xaa"});
        assert_eq!(ack(&m.form, &ok), json!({"id":3,"hash":"0xaa"}));
        let err = json!({"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"nonce too low"}});
        assert_eq!(
            ack(&m.form, &err),
            json!({"id":3,"error":{"code":-32000,"message":"nonce too low"}})
        );
    }

    #[test]
    fn rpc_calls_are_checked_against_the_allow_list_and_batches_refused() {
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#).unwrap();
        assert_eq!(m.form, Form::Rpc);
        assert!(m.request.calls[0].verdict.is_ok());
        let m = parse(br#"{"jsonrpc":"2.0","id":1,"method":"personal_sign","params":[]}"#).unwrap();
        assert!(m.request.calls[0].verdict.is_err());
        for bad in [
            &b"[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}]"[..],
            b"not json",
            b"{\"id\":1,\"raw\":5}",
            b"{\"raw\":\"0x01\"}",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let (id, e) = parse(br#"{"id":"x","raw":7}"#).unwrap_err();
        assert_eq!(
            refusal(Some(&Form::Raw { id: id.clone() }), &id, &e)["id"],
            "x"
        );
    }

    #[test]
    fn resends_are_recognised_by_gets_wording() {
        assert_eq!(resent("already known"), Resent::Known);
        assert_eq!(
            resent("nonce too low: next nonce 5, tx nonce 4"),
            Resent::NonceUsed
        );
        assert_eq!(resent("insufficient funds"), Resent::Other);
        assert_eq!(
            tx_hash("0x01"),
            Some(keccak256([1u8])),
            "the hash is keccak256 of the raw bytes"
        );
    }
}
