//! `medchain serve`: a web console for a running network (issue 17).
//!
//! One binary, no external web server: an axum server bound to loopback
//! ([`options`]) serves a static front end compiled into the binary
//! ([`assets`], from `web/serve/`) and a JSON API ([`routes`]) over what
//! [`live`] keeps current — the network's public view ([`view`]: only what
//! any node's JSON-RPC already shows, so it needs no sign-in) — pushed to
//! pages as Server-Sent Events. The Explorer decodes transactions with the
//! `tx` command's decoder, and [`history`] lists an address's (a device's)
//! transactions.
//!
//! Signed-in views: Sign-In with Ethereum ([`siwe`] the message,
//! [`signin`] its check, [`nonces`], [`session`], [`auth`] the routes)
//! gives a session the roles the chain records for the address
//! ([`roles`], read through [`chain`]); the patient and doctor views
//! ([`records`], [`directory`]) hand the page sealed readings and keys
//! wrapped to the reader, which it opens itself; [`reports`] serves the
//! network's bench reports. Writes are transactions the page signs itself:
//! [`consent_inputs`] gives it what the chain holds for a consent grant or
//! revocation, [`relay`] passes its transactions (and only a wallet's
//! methods) to the node. [`alarms`] streams `watch`'s alarms to doctors,
//! [`acks`] keeps their acknowledgements; [`https`] serves it all over TLS.

pub mod acks;
pub mod address_index;
pub mod alarms;
pub mod app;
pub mod assets;
pub mod auth;
pub mod chain;
pub mod consent_inputs;
pub mod directory;
pub mod history;
pub mod https;
pub mod live;
pub mod nonces;
pub mod options;
pub mod records;
pub mod relay;
pub mod reports;
pub mod roles;
pub mod routes;
pub mod session;
pub mod signin;
pub mod siwe;
pub mod view;
