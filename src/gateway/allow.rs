//! Which JSON-RPC calls the gateway forwards: the methods the firmware
//! (firmware/core/src/eth_client.cpp) and Caliper-style load clients use,
//! and nothing that reads the node's accounts, signs, or administers it.
//! A request body is one call or a batch; every entry is checked on its
//! own, so a batch may be partly refused.

use serde_json::{json, Value};

/// The forwarded methods. Everything else is refused with
/// [`METHOD_NOT_ALLOWED`].
pub const ALLOWED: &[&str] = &[
    "eth_chainId",
    "eth_blockNumber",
    "eth_getBlockByNumber",
    "eth_getTransactionCount",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_estimateGas",
    "eth_call",
    "eth_sendRawTransaction",
    "eth_getTransactionReceipt",
    "eth_getLogs",
    "net_version",
    "web3_clientVersion",
];

/// Most blocks one `eth_getLogs` may span (`toBlock - fromBlock + 1`).
pub const MAX_LOG_BLOCKS: u64 = 1000;

/// Most entries in one batch.
pub const MAX_BATCH: usize = 100;

/// JSON-RPC error code for a method outside [`ALLOWED`] (the code geth
/// uses for a method it does not serve).
pub const METHOD_NOT_ALLOWED: i64 = -32601;
/// Invalid params (e.g. an unbounded `eth_getLogs`).
pub const INVALID_PARAMS: i64 = -32602;
/// Invalid request (not a JSON-RPC call, a notification, a batch too big).
pub const INVALID_REQUEST: i64 = -32600;
/// The body is not JSON.
pub const PARSE_ERROR: i64 = -32700;

/// A JSON-RPC error the gateway answers with itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// JSON-RPC error code.
    pub code: i64,
    /// Message.
    pub message: String,
}

impl RpcError {
    /// An error with `code` and `message`.
    pub fn new(code: i64, message: impl Into<String>) -> RpcError {
        RpcError {
            code,
            message: message.into(),
        }
    }

    /// The response object for request `id`.
    pub fn response(&self, id: &Value) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "error": {"code": self.code, "message": self.message}})
    }
}

/// One call of a request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Its `id` (null when it had none or the entry was not a call).
    pub id: Value,
    /// Its method (empty when the entry was not a call).
    pub method: String,
    /// The entry as received.
    pub raw: Value,
    /// Forward it, or answer with this error.
    pub verdict: Result<(), RpcError>,
}

/// A parsed request body.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// Whether it was a batch (the answer is then an array).
    pub batch: bool,
    /// Its calls, in order.
    pub calls: Vec<Call>,
}

/// Parses a body into calls and checks each one; an error for a body that
/// is not JSON, an empty batch or one over [`MAX_BATCH`] entries.
pub fn parse(body: &[u8]) -> Result<Request, RpcError> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::new(PARSE_ERROR, format!("parse error: {e}")))?;
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(RpcError::new(INVALID_REQUEST, "empty batch"));
            }
            if items.len() > MAX_BATCH {
                return Err(RpcError::new(
                    INVALID_REQUEST,
                    format!(
                        "batch of {} calls; the gateway takes at most {MAX_BATCH}",
                        items.len()
                    ),
                ));
            }
            Ok(Request {
                batch: true,
                calls: items.into_iter().map(call).collect(),
            })
        }
        other => Ok(Request {
            batch: false,
            calls: vec![call(other)],
        }),
    }
}

/// One entry, checked.
fn call(raw: Value) -> Call {
    let id = raw.get("id").cloned().unwrap_or(Value::Null);
    let method = raw
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let verdict = shape(&raw).and_then(|()| check(&method, raw.get("params")));
    Call {
        id,
        method,
        raw,
        verdict,
    }
}

/// A JSON-RPC 2.0 call with an id (notifications get no answer, so they
/// are not served).
fn shape(raw: &Value) -> Result<(), RpcError> {
    let ok = raw.get("jsonrpc") == Some(&json!("2.0"))
        && raw.get("method").is_some_and(Value::is_string)
        && raw.get("id").is_some_and(|id| !id.is_null());
    if ok {
        Ok(())
    } else {
        Err(RpcError::new(
            INVALID_REQUEST,
            "invalid request: expected {\"jsonrpc\":\"2.0\",\"id\":…,\"method\":…} (notifications are not served)",
        ))
    }
}

/// Whether `method` with `params` may be forwarded.
pub fn check(method: &str, params: Option<&Value>) -> Result<(), RpcError> {
    if !ALLOWED.contains(&method) {
        return Err(RpcError::new(
            METHOD_NOT_ALLOWED,
            format!("method not allowed: {method} is not served by this gateway"),
        ));
    }
    if method == "eth_getLogs" {
        return check_logs(params);
    }
    Ok(())
}

/// `eth_getLogs` must name one block by hash, or give explicit numeric
/// `fromBlock` and `toBlock` at most [`MAX_LOG_BLOCKS`] apart.
fn check_logs(params: Option<&Value>) -> Result<(), RpcError> {
    let bad = |why: &str| {
        Err(RpcError::new(
            INVALID_PARAMS,
            format!(
                "eth_getLogs: {why}; give a blockHash, or numeric fromBlock and toBlock spanning at most {MAX_LOG_BLOCKS} blocks"
            ),
        ))
    };
    let Some(filter) = params
        .and_then(Value::as_array)
        .filter(|p| p.len() == 1)
        .and_then(|p| p[0].as_object())
    else {
        return bad("expected one filter object");
    };
    if filter.contains_key("blockHash") {
        if filter.contains_key("fromBlock") || filter.contains_key("toBlock") {
            return bad("blockHash together with a block range");
        }
        return Ok(());
    }
    let number = |k: &str| {
        filter
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix("0x"))
            .and_then(|h| u64::from_str_radix(h, 16).ok())
    };
    match (number("fromBlock"), number("toBlock")) {
        (Some(from), Some(to)) if to < from => bad("toBlock is before fromBlock"),
        (Some(from), Some(to)) if to - from >= MAX_LOG_BLOCKS => {
            bad(&format!("the range spans {} blocks", to - from + 1))
        }
        (Some(_), Some(_)) => Ok(()),
        _ => bad("fromBlock and toBlock must both be hex block numbers (not tags such as latest)"),
    }
}

/// The calls' methods for the access log: `eth_call` or `batch[3]:eth_call,…`.
pub fn methods(req: &Request) -> String {
    let names: Vec<&str> = req
        .calls
        .iter()
        .map(|c| {
            if c.method.is_empty() {
                "-"
            } else {
                c.method.as_str()
            }
        })
        .collect();
    if req.batch {
        format!("batch[{}]:{}", names.len(), names.join(","))
    } else {
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(method: &str, params: Value) -> Call {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let r = parse(body.to_string().as_bytes()).unwrap();
        assert!(!r.batch);
        r.calls.into_iter().next().unwrap()
    }

    #[test]
    fn the_firmwares_methods_pass_and_the_dangerous_ones_do_not() {
        for m in ALLOWED.iter().filter(|m| **m != "eth_getLogs") {
            assert_eq!(one(m, json!([])).verdict, Ok(()), "{m}");
        }
        for m in [
            "eth_sendTransaction",
            "eth_sign",
            "eth_accounts",
            "personal_unlockAccount",
            "admin_peers",
            "admin_addPeer",
            "debug_writeMemProfile",
            "debug_traceTransaction",
            "miner_stop",
            "clique_propose",
            "txpool_content",
            "eth_subscribe",
            "rpc_modules",
            "",
        ] {
            let e = one(m, json!([])).verdict.unwrap_err();
            assert_eq!(e.code, METHOD_NOT_ALLOWED, "{m}");
            assert!(e.message.starts_with("method not allowed"), "{m}: {e:?}");
        }
    }

    #[test]
    fn get_logs_needs_a_bounded_explicit_range() {
        let logs = |f: Value| one("eth_getLogs", json!([f])).verdict;
        assert_eq!(
            logs(json!({"fromBlock": "0x0", "toBlock": "0x3e7"})),
            Ok(())
        );
        assert_eq!(
            logs(json!({"fromBlock": "0x10", "toBlock": "0x10"})),
            Ok(())
        );
        assert_eq!(
            logs(json!({"blockHash": format!("0x{}", "ab".repeat(32))})),
            Ok(())
        );
        for bad in [
            json!({"fromBlock": "0x0", "toBlock": "0x3e8"}),
            json!({"fromBlock": "0x0", "toBlock": "latest"}),
            json!({"fromBlock": "0x0"}),
            json!({}),
            json!({"fromBlock": "0x5", "toBlock": "0x4"}),
            json!({"fromBlock": "12", "toBlock": "13"}),
            json!({"blockHash": "0x00", "fromBlock": "0x0", "toBlock": "0x1"}),
        ] {
            let e = logs(bad.clone()).unwrap_err();
            assert_eq!(e.code, INVALID_PARAMS, "{bad}");
            assert!(e.message.contains("at most 1000 blocks"), "{bad}: {e:?}");
        }
        assert!(one("eth_getLogs", json!([])).verdict.is_err());
        assert!(one("eth_getLogs", json!("x")).verdict.is_err());
    }

    #[test]
    fn batches_are_checked_entry_by_entry() {
        let body = json!([
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
            {"jsonrpc": "2.0", "id": "b", "method": "admin_peers"},
            {"jsonrpc": "2.0", "method": "eth_blockNumber"},
            7,
        ]);
        let r = parse(body.to_string().as_bytes()).unwrap();
        assert!(r.batch);
        let codes: Vec<Option<i64>> = r
            .calls
            .iter()
            .map(|c| c.verdict.as_ref().err().map(|e| e.code))
            .collect();
        assert_eq!(
            codes,
            [
                None,
                Some(METHOD_NOT_ALLOWED),
                Some(INVALID_REQUEST),
                Some(INVALID_REQUEST)
            ]
        );
        assert_eq!(r.calls[1].id, json!("b"));
        assert_eq!(
            methods(&r),
            "batch[4]:eth_chainId,admin_peers,eth_blockNumber,-"
        );
        let err = r.calls[1]
            .verdict
            .clone()
            .unwrap_err()
            .response(&r.calls[1].id);
        assert_eq!(err["error"]["code"], METHOD_NOT_ALLOWED);
        assert_eq!(err["id"], "b");
    }

    #[test]
    fn bodies_that_are_not_calls_are_refused_whole() {
        assert_eq!(parse(b"{nope").unwrap_err().code, PARSE_ERROR);
        assert_eq!(parse(b"[]").unwrap_err().code, INVALID_REQUEST);
        let big: Vec<Value> = (0..=MAX_BATCH)
            .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId"}))
            .collect();
        let e = parse(json!(big).to_string().as_bytes()).unwrap_err();
        assert!(e.message.contains("at most 100"), "{e:?}");
        let wrong_version = json!({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"});
        let r = parse(wrong_version.to_string().as_bytes()).unwrap();
        assert_eq!(
            r.calls[0].verdict.as_ref().unwrap_err().code,
            INVALID_REQUEST
        );
    }
}
