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
pub(crate) fn yaml_location(e: &serde_yaml::Error, file: &str) -> (String, String) {
    let loc = e
        .location()
        .map(|l| format!("{file}:{}:{}", l.line(), l.column()))
        .unwrap_or_else(|| file.to_string());
    let msg = e.to_string();
    let cause = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    (loc, cause)
}

/// Maps a serde_yaml error to the one-line [`InputError`] every input file
/// gets: `file:line:column`, the field path serde_yaml names, the cause and
/// what to do. An unknown key gets the closest known key as a did-you-mean
/// hint (or the list of known keys), taken from serde's own "expected one
/// of" list so the hint always matches the struct that refused it. `hints`
/// are `(needle, advice)` pairs: the first whose needle occurs in the cause
/// replaces the generic advice (e.g. the list of a scenario's ops).
pub(crate) fn yaml_error(e: &serde_yaml::Error, file: &str, hints: &[(&str, &str)]) -> InputError {
    let (loc, cause) = yaml_location(e, file);
    if let Some(u) = UnknownKey::parse(&cause) {
        let advice = match did_you_mean(u.key, &u.expected) {
            Some(k) => format!("did you mean `{k}`?"),
            None if u.expected.is_empty() => "remove it".to_string(),
            None => format!("expected one of {}", u.expected.join(", ")),
        };
        return InputError::new(format!(
            "{loc}: {}unknown key `{}`; {advice}",
            u.path, u.key
        ));
    }
    let advice = hints
        .iter()
        .find(|(needle, _)| cause.contains(needle))
        .map(|(_, advice)| *advice)
        .unwrap_or(if cause.contains("unknown variant") {
            "fix the value"
        } else if cause.contains("missing field") {
            "add it"
        } else {
            "fix the file's syntax or the value's type"
        });
    InputError::new(format!("{loc}: {cause}; {advice}"))
}

/// Deserializes an input file's text into its raw form (every key
/// optional), mapping a YAML error with [`yaml_error`]. A blank file is the
/// raw form's default (no key given), so defaults apply to it as to any
/// absent key.
pub(crate) fn from_yaml<T>(text: &str, file: &str, hints: &[(&str, &str)]) -> Result<T, InputError>
where
    T: serde::de::DeserializeOwned + Default,
{
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_yaml::from_str(text).map_err(|e| yaml_error(&e, file, hints))
}

/// serde's "unknown field `x`, expected one of `a`, `b`" taken apart.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct UnknownKey<'a> {
    /// The field path serde_yaml puts before the cause, with its `": "`
    /// (`"hospitals[0]: "`), or empty at the top level.
    pub path: &'a str,
    /// The key that is not allowed.
    pub key: &'a str,
    /// The keys the struct accepts, in declaration order.
    pub expected: Vec<&'a str>,
}

impl<'a> UnknownKey<'a> {
    /// Parses a serde_yaml cause (without its location); `None` when the
    /// cause is not an unknown field.
    pub fn parse(cause: &'a str) -> Option<Self> {
        const MARK: &str = "unknown field `";
        let start = cause.find(MARK)?;
        let rest = &cause[start + MARK.len()..];
        let end = rest.find('`')?;
        let expected = rest[end + 1..].split('`').skip(1).step_by(2).collect();
        Some(Self {
            path: &cause[..start],
            key: &rest[..end],
            expected,
        })
    }
}

/// The known key closest to `unknown`, when it is close enough to be a typo.
fn did_you_mean<'a>(unknown: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(unknown, k), *k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// Every problem found in one input file, each as `file: field: what is
/// wrong; what to do`. Parsers check every field and add what they find
/// instead of stopping at the first mistake, so one run shows them all: the
/// first problem becomes the error's headline, the others its details.
#[derive(Debug)]
pub struct Problems {
    file: String,
    found: Vec<String>,
}

impl Problems {
    /// An empty list for `file` (as it is named in messages).
    pub fn new(file: &str) -> Self {
        Self {
            file: file.to_string(),
            found: Vec::new(),
        }
    }

    /// Records that `field` is wrong: `msg` says what was expected and what
    /// to do.
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.found
            .push(format!("{}: {field}: {}", self.file, msg.into()));
    }

    /// Whether nothing has been found so far.
    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// `value` when no problem was found, else the error listing them all.
    pub fn finish<T>(self, value: T) -> Result<T, InputError> {
        let mut it = self.found.into_iter();
        match it.next() {
            None => Ok(value),
            Some(first) => Err(InputError {
                message: first,
                details: it.collect(),
            }),
        }
    }
}

/// Shorthand for returning an [`InputError`] from a function that returns
/// `anyhow::Result`.
#[macro_export]
macro_rules! input_error {
    ($($arg:tt)*) => {
        anyhow::Error::new($crate::error::InputError::new(format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Raw {
        name: Option<String>,
        count: Option<u64>,
        inner: Option<Vec<Inner>>,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        sealers: Option<u64>,
    }

    fn err(text: &str, hints: &[(&str, &str)]) -> String {
        from_yaml::<Raw>(text, "f.yaml", hints).unwrap_err().message
    }

    #[test]
    fn unknown_keys_get_the_closest_key_or_the_list_and_keep_the_path() {
        assert_eq!(
            err("nmae: x\n", &[]),
            "f.yaml:1:1: unknown key `nmae`; did you mean `name`?"
        );
        assert_eq!(
            err("zzz: 1\n", &[]),
            "f.yaml:1:1: unknown key `zzz`; expected one of name, count, inner"
        );
        let e = err("inner:\n  - sealer: 1\n", &[]);
        assert!(
            e.starts_with("f.yaml:2:5: inner[0]: unknown key `sealer`; did you mean `sealers`?"),
            "{e}"
        );
    }

    #[test]
    fn other_errors_keep_the_cause_and_say_what_to_do() {
        let e = err("count: two\n", &[]);
        assert!(e.starts_with("f.yaml:1:8: count: invalid type"), "{e}");
        assert!(
            e.ends_with("; fix the file's syntax or the value's type"),
            "{e}"
        );
        let e = err("count: two\n", &[("invalid type", "write a number")]);
        assert!(e.ends_with("; write a number"), "{e}");
        assert!(err("name: [a\n", &[]).starts_with("f.yaml:"));
        assert!(from_yaml::<Raw>("  \n", "f.yaml", &[]).is_ok());
    }

    #[test]
    fn problems_become_one_headline_and_details() {
        let mut p = Problems::new("f.yaml");
        assert!(p.is_empty());
        p.add("a", "first");
        p.add("b[1].c", "second");
        let e = p.finish(()).unwrap_err();
        assert_eq!(e.message, "f.yaml: a: first");
        assert_eq!(e.details, vec!["f.yaml: b[1].c: second".to_string()]);
        assert_eq!(e.to_string(), "f.yaml: a: first\n  f.yaml: b[1].c: second");
        assert_eq!(Problems::new("f").finish(7), Ok(7));
    }
}
