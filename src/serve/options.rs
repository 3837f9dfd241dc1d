//! What `medchain serve` may listen on.
//!
//! Loopback only: the console has no TLS yet (its sign-in session travels
//! in clear), so it is for the operator's own machine (an SSH tunnel
//! reaches it from elsewhere).
//! Any other address is refused before anything starts.

use std::net::SocketAddr;

use crate::error::InputError;

/// The default address: loopback, a port the system picks.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8700";

/// Checks `--listen`: an `IP:PORT` on a loopback interface.
pub fn listen(text: &str) -> Result<SocketAddr, InputError> {
    let addr: SocketAddr = text.trim().parse().map_err(|_| {
        InputError::new(format!(
            "--listen {text:?}: expected IP:PORT, e.g. {DEFAULT_LISTEN} (port 0: any free port)"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(InputError::new(format!(
            "--listen {addr}: the console speaks plain HTTP (no TLS yet), so it listens on loopback only (127.0.0.1 or [::1]); reach it from another machine through an SSH tunnel"
        )));
    }
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_taken_and_anything_else_refused_naming_the_flag() {
        assert_eq!(listen("127.0.0.1:0").unwrap().port(), 0);
        assert!(listen("[::1]:8700").is_ok());
        for bad in ["0.0.0.0:8700", "192.0.2.1:80", "nope", "127.0.0.1"] {
            let e = listen(bad).unwrap_err().to_string();
            assert!(e.starts_with("--listen "), "{bad}: {e}");
        }
    }
}
