//! `medchain watch` (issue 15, item 1): follows a network, reads every new
//! medical record its reader may read, checks it against thresholds, and
//! sends alarms to the terminal, the network's MQTT broker and a webhook,
//! once per record per sink across restarts, with a retraction when a
//! reorganisation takes an alarmed record off the chain. See
//! docs/alarms.md.
//!
//! [`thresholds`] parses the thresholds file; [`alarm`] decides and shapes
//! notices; [`follow`] reads the chain into the [`journal`], keeping its
//! [`checkpoint`]; [`sink`] feeds each sink ([`mqtt`], [`webhook`], the
//! terminal) from its [`cursor`]; [`directory`] and [`pseudonym`] name
//! hospitals and patients; [`run`] puts them together. On a private network
//! [`private`] opens each sealed reading as one reader, and [`unreadable`]
//! counts the records that reader cannot open.

pub mod alarm;
pub mod checkpoint;
pub mod cursor;
pub mod directory;
pub mod exporter;
pub mod follow;
pub mod journal;
pub mod metrics;
pub mod mqtt;
pub mod private;
pub mod pseudonym;
pub mod run;
pub mod sink;
pub mod thresholds;
pub mod unreadable;
pub mod webhook;
