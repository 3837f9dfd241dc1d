//! One module per subcommand: its clap arguments (each flag's doc comment
//! is its help), their conversion into the library's options (with the
//! validation that belongs to arguments), `execute`, and its output.
//! [`crate::cli`] holds only the top-level parser and the dispatch.
//!
//! Output goes through [`outln!`](crate::outln) / [`out!`](crate::out),
//! which turn a closed stdout (`medchain status | head -1`) into an error
//! that `main` ends on quietly with exit 0, instead of `println!`'s panic.

pub mod accounts;
pub mod authorize;
pub mod bench;
pub mod broker;
pub mod compose;
pub mod consent;
pub mod deploy;
pub mod device;
pub mod doctor;
pub mod down;
pub mod fault;
pub mod gateway;
pub mod geth;
pub mod image;
pub mod logs;
pub mod monitor;
pub mod patient;
pub mod records;
pub mod serve;
pub mod status;
pub mod toxiproxy;
pub mod tx;
pub mod up;
pub mod watch;

use std::path::{Path, PathBuf};

use clap::Args;

use crate::network::lock::NetworkLock;
use crate::network::{self, lifecycle::DEFAULT_FILE};
use crate::runtime::Kind;
use crate::state::State;

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Directory holding every network's state, keys, datadirs and logs.
    #[arg(
        long,
        global = true,
        env = "MEDCHAIN_HOME",
        default_value = ".medchain",
        help_heading = "Global"
    )]
    pub home: PathBuf,
    /// Network to act on (default: the one in ./medchain.yaml, else the only one running in --home).
    #[arg(long, global = true, help_heading = "Global")]
    pub network: Option<String>,
}

/// Writes a line to stdout; an error (a closed pipe) returns from the
/// calling function.
#[macro_export]
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?;
    }};
}

/// Writes to stdout without a newline; an error (a closed pipe) returns
/// from the calling function.
#[macro_export]
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($t)*)?;
    }};
}

/// Whether `err` was caused by writing to a closed pipe: the reader went
/// away (`| head`), which is not a failure of the command.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The state of the network a command acts on: `--network`, else the one
/// `./medchain.yaml` names when it has state, else the only one running
/// under `--home`. For commands that only read it: no lock.
pub fn load(g: &Global) -> anyhow::Result<State> {
    let name = network::select(&g.home, g.network.as_deref(), Path::new(DEFAULT_FILE))?;
    State::load(&g.home, &name)
}

/// For a command that changes the network [`load`] selects: its lock,
/// held until dropped (exit 1 at once when another command holds it), and
/// its state as of holding it. A network without state is the input error
/// of [`load`], and nothing is created.
pub fn load_to_change(g: &Global) -> anyhow::Result<(State, NetworkLock)> {
    let name = load(g)?.plan.topology.network;
    let lock = NetworkLock::acquire(&g.home, &name)?;
    Ok((State::load(&g.home, &name)?, lock))
}

/// The `--runtime` flag's parser: one of [`Kind::NAMES`], parsed by the
/// runtime module so this folder never names a kind.
pub fn runtime_arg() -> impl clap::builder::TypedValueParser<Value = Kind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(Kind::NAMES).try_map(|s| s.parse::<Kind>())
}
