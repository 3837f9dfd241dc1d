//! `medchain serve`: a web console for a running network (issue 17).
//!
//! One binary, no external web server: an axum server bound to loopback
//! ([`options`]) serves a static front end compiled into the binary
//! ([`assets`], from `web/serve/`) and a JSON API ([`routes`]) over what
//! [`live`] keeps current — the network's public view ([`view`]: only what
//! any node's JSON-RPC already shows, so it needs no sign-in) — pushed to
//! pages as Server-Sent Events. The Explorer decodes transactions with the
//! `tx` command's decoder.
//!
//! Built so far: the Network and Explorer views. Sign-in with Ethereum and
//! the doctor, patient, hospital and admin views are not built yet
//! (docs/serve.md).

pub mod assets;
pub mod live;
pub mod options;
pub mod routes;
pub mod view;
