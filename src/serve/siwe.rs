//! Sign-In with Ethereum messages (EIP-4361): the text a wallet signs to
//! prove an address to the console, parsed and built exactly as the EIP's
//! ABNF lays it out.
//!
//! ```text
//! [scheme "://"] domain " wants you to sign in with your Ethereum account:"
//! address (EIP-55)
//!
//! [statement
//! ]
//! URI: uri
//! Version: 1
//! Chain ID: chain-id
//! Nonce: nonce (8+ alphanumerics)
//! Issued At: RFC 3339
//! [Expiration Time: RFC 3339]
//! [Not Before: RFC 3339]
//! [Request ID: text]
//! [Resources:
//! - uri…]
//! ```
//!
//! A small serde-free struct: the crates that do this pull their own
//! secp256k1 and hashing stacks beside alloy's. Checking a message against
//! what the console expects is [`super::signin`]'s job, not the parser's.

use alloy::primitives::Address;
use chrono::{DateTime, FixedOffset};

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";

/// One EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `http`, `https`… when the message names one before the domain.
    pub scheme: Option<String>,
    /// The authority asking for the sign-in (`host[:port]`).
    pub domain: String,
    /// The signing address.
    pub address: Address,
    /// A human-readable assertion, without newlines.
    pub statement: Option<String>,
    /// The resource the sign-in is for.
    pub uri: String,
    /// Always `1`.
    pub version: String,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// The server's nonce: at least 8 alphanumeric characters.
    pub nonce: String,
    /// When the message was made.
    pub issued_at: DateTime<FixedOffset>,
    /// When the signed message stops being valid.
    pub expiration_time: Option<DateTime<FixedOffset>>,
    /// When it starts being valid.
    pub not_before: Option<DateTime<FixedOffset>>,
    /// A system-specific request id.
    pub request_id: Option<String>,
    /// Further resources the user agrees to.
    pub resources: Vec<String>,
}

/// Why a text is not an EIP-4361 message: the line and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "not a Sign-In with Ethereum (EIP-4361) message: {}",
            self.0
        )
    }
}

impl std::error::Error for ParseError {}

fn bad(what: impl Into<String>) -> ParseError {
    ParseError(what.into())
}

/// An RFC 3339 time of field `field`.
fn time(field: &str, v: &str) -> Result<DateTime<FixedOffset>, ParseError> {
    DateTime::parse_from_rfc3339(v)
        .map_err(|_| bad(format!("{field} {v:?} is not an RFC 3339 time")))
}

/// The value of the `Name: value` line `line`, when it has that name.
fn field<'a>(line: Option<&'a str>, name: &str) -> Option<&'a str> {
    line.and_then(|l| l.strip_prefix(name))
        .and_then(|l| l.strip_prefix(": "))
}

/// An EIP-55 checksummed address, as the EIP requires.
fn address(text: &str) -> Result<Address, ParseError> {
    let checked = Address::parse_checksummed(text, None);
    checked.map_err(|_| {
        bad(format!(
            "line 2: {text:?} is not an EIP-55 checksummed address (0x and 40 hex digits)"
        ))
    })
}

impl Message {
    /// Parses the text a wallet signed (`\n` line ends, as the EIP says).
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut lines = text.split('\n').peekable();
        let first = lines.next().unwrap_or("");
        let authority = first
            .strip_suffix(PREAMBLE)
            .ok_or_else(|| bad(format!("line 1 must end {PREAMBLE:?}")))?;
        let (scheme, domain) = match authority.split_once("://") {
            Some((s, d)) => (Some(s.to_string()), d.to_string()),
            None => (None, authority.to_string()),
        };
        if domain.is_empty() || domain.contains(char::is_whitespace) {
            return Err(bad(format!("line 1: {domain:?} is not a domain")));
        }
        let address = address(lines.next().unwrap_or(""))?;
        if lines.next() != Some("") {
            return Err(bad("line 3 must be empty"));
        }
        let statement = match lines.next() {
            Some("") => None,
            Some(s) if !s.starts_with("URI: ") => {
                if lines.next() != Some("") {
                    return Err(bad(
                        "the statement must be one line followed by an empty one",
                    ));
                }
                Some(s.to_string())
            }
            _ => return Err(bad("expected a statement or an empty line before URI")),
        };
        Self::fields(scheme, domain, address, statement, lines)
    }

    /// The `Name: value` part, from `URI:` on.
    fn fields<'a>(
        scheme: Option<String>,
        domain: String,
        address: Address,
        statement: Option<String>,
        mut lines: std::iter::Peekable<impl Iterator<Item = &'a str>>,
    ) -> Result<Self, ParseError> {
        let mut need = |name: &str| {
            field(lines.next(), name)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("expected the {name:?} line")))
        };
        let uri = need("URI")?;
        let version = need("Version")?;
        if version != "1" {
            return Err(bad(format!("Version {version:?}: only version 1 exists")));
        }
        let chain = need("Chain ID")?;
        let chain_id = chain
            .parse()
            .map_err(|_| bad(format!("Chain ID {chain:?} is not a number")))?;
        let nonce = need("Nonce")?;
        if nonce.len() < 8 || !nonce.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(bad(format!(
                "Nonce {nonce:?} must be at least 8 letters and digits"
            )));
        }
        let issued_at = time("Issued At", &need("Issued At")?)?;
        let mut optional = |name: &str| {
            let v = field(lines.peek().copied(), name).map(str::to_string);
            if v.is_some() {
                lines.next();
            }
            v
        };
        let expiration_time = optional("Expiration Time");
        let not_before = optional("Not Before");
        let request_id = optional("Request ID");
        let resources = Self::resources(&mut lines)?;
        Ok(Self {
            scheme,
            domain,
            address,
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            expiration_time: expiration_time
                .map(|v| time("Expiration Time", &v))
                .transpose()?,
            not_before: not_before.map(|v| time("Not Before", &v)).transpose()?,
            request_id,
            resources,
        })
    }

    /// The optional `Resources:` list, and nothing after it.
    fn resources<'a>(lines: &mut impl Iterator<Item = &'a str>) -> Result<Vec<String>, ParseError> {
        let mut out = Vec::new();
        match lines.next() {
            None => return Ok(out),
            Some("Resources:") => {}
            Some(other) => return Err(bad(format!("unexpected line {other:?}"))),
        }
        for l in lines {
            let r = l
                .strip_prefix("- ")
                .ok_or_else(|| bad(format!("resource line {l:?} must start \"- \"")))?;
            out.push(r.to_string());
        }
        Ok(out)
    }
}

impl std::fmt::Display for Message {
    /// The message as a wallet is asked to sign it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rfc =
            |t: &DateTime<FixedOffset>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        if let Some(s) = &self.scheme {
            write!(f, "{s}://")?;
        }
        writeln!(f, "{}{PREAMBLE}", self.domain)?;
        writeln!(f, "{}", self.address.to_checksum(None))?;
        writeln!(f)?;
        if let Some(s) = &self.statement {
            writeln!(f, "{s}")?;
        }
        writeln!(f)?;
        writeln!(f, "URI: {}", self.uri)?;
        writeln!(f, "Version: {}", self.version)?;
        writeln!(f, "Chain ID: {}", self.chain_id)?;
        writeln!(f, "Nonce: {}", self.nonce)?;
        write!(f, "Issued At: {}", rfc(&self.issued_at))?;
        if let Some(t) = &self.expiration_time {
            write!(f, "\nExpiration Time: {}", rfc(t))?;
        }
        if let Some(t) = &self.not_before {
            write!(f, "\nNot Before: {}", rfc(t))?;
        }
        if let Some(r) = &self.request_id {
            write!(f, "\nRequest ID: {r}")?;
        }
        if !self.resources.is_empty() {
            write!(f, "\nResources:")?;
            for r in &self.resources {
                write!(f, "\n- {r}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The EIP's own example, with a statement and resources.
    const EXAMPLE: &str = "service.invalid wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ServiceOrg Terms of Service: https://service.invalid/tos

URI: https://service.invalid/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json";

    #[test]
    fn the_eips_example_parses_and_prints_back_byte_for_byte() {
        let m = Message::parse(EXAMPLE).unwrap();
        assert_eq!(m.domain, "service.invalid");
        assert_eq!(m.scheme, None);
        assert_eq!(
            m.address,
            "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(
            m.statement.as_deref(),
            Some("I accept the ServiceOrg Terms of Service: https://service.invalid/tos")
        );
        assert_eq!(
            (m.uri.as_str(), m.chain_id, m.nonce.as_str()),
            ("https://service.invalid/login", 1, "32891756")
        );
        assert_eq!(m.issued_at.timestamp(), 1_633_019_124);
        assert_eq!(m.resources.len(), 2);
        assert_eq!(m.to_string(), EXAMPLE);
    }

    #[test]
    fn optional_parts_and_a_scheme_round_trip() {
        let text = "http://127.0.0.1:8700 wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2


URI: http://127.0.0.1:8700/
Version: 1
Chain ID: 48176
Nonce: abcdEFGH1234
Issued At: 2026-01-02T03:04:05.678Z
Expiration Time: 2026-01-02T03:09:05.678Z
Not Before: 2026-01-02T03:04:05Z
Request ID: r-1";
        let m = Message::parse(text).unwrap();
        assert_eq!(m.scheme.as_deref(), Some("http"));
        assert_eq!(m.domain, "127.0.0.1:8700");
        assert_eq!(m.statement, None);
        assert_eq!(m.request_id.as_deref(), Some("r-1"));
        assert!(m.expiration_time.unwrap() > m.issued_at);
        assert_eq!(m.to_string(), text);
    }

    #[test]
    fn malformed_messages_say_which_part_is_wrong() {
        let cases = [
            (EXAMPLE.replace(" wants you", " would like you"), "line 1"),
            (
                EXAMPLE.replace(
                    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
                    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756CC2",
                ),
                "EIP-55",
            ),
            (
                EXAMPLE.replace("Version: 1", "Version: 2"),
                "only version 1",
            ),
            (EXAMPLE.replace("Chain ID: 1", "Chain ID: one"), "Chain ID"),
            (
                EXAMPLE.replace("Nonce: 32891756", "Nonce: 123"),
                "at least 8",
            ),
            (
                EXAMPLE.replace("Nonce: 32891756", "Nonce: 1234-5678"),
                "at least 8",
            ),
            (
                EXAMPLE.replace("2021-09-30T16:25:24Z", "yesterday"),
                "RFC 3339",
            ),
            (EXAMPLE.replace("URI: ", "Uri: "), "URI"),
            (format!("{EXAMPLE}\nExtra: line"), "resource line"),
            (
                EXAMPLE.replace("Resources:", "Resourcez:"),
                "unexpected line",
            ),
            (String::new(), "line 1"),
        ];
        for (text, want) in cases {
            let e = Message::parse(&text).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
    }
}
