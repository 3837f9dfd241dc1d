//! A simulated device whose node stops answering moves on to the round's
//! next target, as a device given several gateways would: it reads its
//! pending nonce there, hands over again what it sent lately that the new
//! node lacks (what vanished with the dead node's pool; the same signed
//! bytes, so the same hashes, counted once when they commit wherever),
//! then sends the reading that found the node dead.
//!
//! Only fleets over HTTP fail over: over MQTT a device's broker and bridge
//! stay up while a node dies, and the bridge forwards to its hospital's
//! member.

use std::collections::VecDeque;

use alloy::primitives::Address;
use serde_json::json;

use super::failover::Targets;
use super::fresh_http::{CallError, FreshHttp};
use super::result::Cause;
use crate::rpc::parse_hex_u64;

/// Readings a device keeps after sending them, to hand over on failover:
/// more than a dead node's pool holds of one device at the fleet's
/// shortest interval and the drain's stall detection.
const KEPT: usize = 16;

/// What a device sent lately, oldest first: (nonce, signed bytes).
#[derive(Debug, Default)]
pub struct Recent(VecDeque<(u64, Vec<u8>)>);

impl Recent {
    /// Remembers the reading with `nonce` that a node took.
    pub fn keep(&mut self, nonce: u64, raw: Vec<u8>) {
        if self.0.len() >= KEPT {
            self.0.pop_front();
        }
        self.0.push_back((nonce, raw));
    }
}

/// The node at `url` did not answer `raw` (nonce `nonce`) and neither did
/// its nonce read: `url` becomes the next target of `targets`, where what
/// `recent` holds from the new node's pending nonce on is sent again, then
/// `raw`. `Ok(nonce)` when the new node took `raw` at `nonce`; otherwise
/// why not, with `nonce` moved to where the device's next reading goes
/// (the new node's pending nonce when `recent` could not fill the gap).
pub(crate) async fn fail_over(
    http: &FreshHttp,
    targets: &Targets,
    (url, nonce): (&mut String, &mut u64),
    address: Address,
    recent: &Recent,
    raw: &[u8],
) -> Result<(), Cause> {
    if targets.len() < 2 {
        return Err(Cause::Unreachable);
    }
    let from = (0..targets.len())
        .position(|i| targets.url(i) == url.as_str())
        .unwrap_or(0);
    *url = targets.url(targets.next(from)).to_string();
    let pending = pending_nonce(http, url, address)
        .await
        .ok_or(Cause::Unreachable)?;
    let mut next = pending;
    for (n, r) in recent.0.iter().filter(|(n, _)| *n >= pending) {
        if *n != next || send(http, url, r).await.is_err() {
            break;
        }
        next += 1;
    }
    if next < *nonce {
        // A gap the kept readings do not fill: the reading would wait
        // behind it for ever. The device's next reading takes `next`.
        *nonce = next;
        return Err(Cause::Unreachable);
    }
    send(http, url, raw).await
}

/// Sends `raw` to `url`: taken (or already known there), or why not.
async fn send(http: &FreshHttp, url: &str, raw: &[u8]) -> Result<(), Cause> {
    let params = json!([format!("0x{}", hex::encode(raw))]);
    match http.call(url, "eth_sendRawTransaction", params).await {
        Ok(_) => Ok(()),
        Err(CallError::Node(m)) if m.contains("already known") => Ok(()),
        Err(CallError::Node(_)) => Err(Cause::Rejected),
        Err(CallError::Transport(_)) => Err(Cause::Unreachable),
    }
}

/// The node's pending nonce for `address`, over a new connection.
pub(crate) async fn pending_nonce(http: &FreshHttp, url: &str, address: Address) -> Option<u64> {
    let v = http
        .call(url, "eth_getTransactionCount", json!([address, "pending"]))
        .await
        .ok()?;
    parse_hex_u64(v.as_str()?).ok()
}
