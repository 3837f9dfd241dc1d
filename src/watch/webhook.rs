//! The webhook sink: each notice POSTed as JSON to the operator's URL,
//! signed so the receiver can tell it came from this `watch` and was not
//! replayed from long ago, and retried (by [`super::sink::feed`]) with
//! backoff until the receiver answers 2xx.
//!
//! Headers: `Idempotency-Key` (the notice's key, with `:retraction`
//! appended for a retraction: a receiver that stores it sees each notice
//! once even when a retry repeats it), `X-Medchain-Event` (`alarm` or
//! `retraction`), `X-Medchain-Timestamp` (Unix seconds) and
//! `X-Medchain-Signature`: `sha256=` and the hex HMAC-SHA256, under the
//! operator's secret, of `<timestamp>.<body>`.

use std::time::Duration;

use anyhow::{bail, Context};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::alarm::{Kind, Notice};

/// How long one POST may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The webhook of one `watch`.
pub struct Webhook {
    url: String,
    secret: Vec<u8>,
    client: reqwest_tls::Client,
}

impl Webhook {
    /// A webhook posting to `url`, signing with `secret`.
    pub fn new(url: &str, secret: Vec<u8>) -> anyhow::Result<Webhook> {
        let client = reqwest_tls::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .context("building the webhook's HTTP client")?;
        Ok(Webhook {
            url: url.to_string(),
            secret,
            client,
        })
    }

    /// POSTs `n`; Ok on a 2xx answer.
    pub async fn deliver(&self, n: &Notice) -> anyhow::Result<()> {
        let body = serde_json::to_vec(n)?;
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string();
        let (event, key) = match n.kind {
            Kind::Alarm => ("alarm", n.key.clone()),
            Kind::Retraction => ("retraction", format!("{}:retraction", n.key)),
        };
        let resp = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header("x-medchain-event", event)
            .header("x-medchain-timestamp", &ts)
            .header("x-medchain-signature", sign(&self.secret, &ts, &body))
            .body(body)
            .send()
            .await
            .with_context(|| format!("POST {}", self.url))?;
        let status = resp.status();
        if !status.is_success() {
            bail!("POST {} answered {status}", self.url);
        }
        Ok(())
    }
}

/// `sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>`.
pub fn sign(secret: &[u8], ts: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Expected value from Python's hmac module:
        // hmac.new(b'Jefe', b'1700000000.{"kind":"alarm"}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"Jefe", "1700000000", br#"{"kind":"alarm"}"#),
            "sha256=a74b06bee6220f702bb655b38c5c4ca44424a26fe277da860c960fceda37fbd9"
        );
    }
}
