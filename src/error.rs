//! Error classes shared by every command, and their exit codes.
//!
//! The contract is: exit 0 on success, 1 when a run fails (a node would not
//! start, a peer never appeared), 2 when the input is wrong (config, flags,
//! names). Library modules return typed errors; `main` only asks this module
//! which code an error deserves.

use std::fmt;

/// Bad input from the user: a malformed file, an unknown key, an impossible
/// value or a flag that cannot apply. Always maps to exit code 2.
///
/// The message is one line that names the file or flag, the field, what was
/// expected and what to do; `details` may add further lines (other problems
/// found in the same file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The one-line cause, printed first.
    pub message: String,
    /// Further problems or hints, printed after the cause.
    pub details: Vec<String>,
}

impl InputError {
    /// An input error with a single line of explanation.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: Vec::new(),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for d in &self.details {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}

/// The process exit code an error deserves: 2 when any cause in its chain is
/// an [`InputError`], 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.chain().any(|c| c.is::<InputError>()) {
        2
    } else {
        1
    }
}

/// Splits a serde_yaml error into `file:line:column` (or just `file`) and
/// its cause without serde_yaml's trailing " at line L column C", so every
/// parser leads its message with the location.
pub fn yaml_location(e: &serde_yaml::Error, file: &str) -> (String, String) {
    let loc = e
        .location()
        .map(|l| format!("{file}:{}:{}", l.line(), l.column()))
        .unwrap_or_else(|| file.to_string());
    let msg = e.to_string();
    let cause = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    (loc, cause)
}

/// Shorthand for returning an [`InputError`] from a function that returns
/// `anyhow::Result`.
#[macro_export]
macro_rules! input_error {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::error::InputError::new(format!($($arg)*)))
    };
}
