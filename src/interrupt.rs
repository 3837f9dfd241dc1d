//! Ctrl-C (SIGINT) for the whole command.
//!
//! Once tokio listens for SIGINT the default action (exit) is gone for the
//! rest of the process, so a handler installed for one phase would make
//! every later phase ignore Ctrl-C. Instead [`install`] listens once, for
//! the whole run, and remembers that Ctrl-C came:
//!
//! - work that must clean up runs through [`cancellable`], which ends it
//!   with [`Interrupted`] at once (even when Ctrl-C came before it began);
//!   the caller then stops what this invocation started and saves a
//!   consistent state, holding a [`Cleanup`] guard meanwhile;
//! - [`backstop`] ends the process (exit 130): at once in a command that
//!   does not end itself on Ctrl-C (none holds [`handled_here`]: `status`,
//!   `records`, …, as without a handler), else [`GRACE`] after Ctrl-C
//!   unless a cleanup is in progress, so a phase that does not check (a
//!   blocking call, a long wait) cannot keep the command alive;
//! - a second Ctrl-C ends the process at once.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long a command may go on after Ctrl-C when no cleanup runs.
pub const GRACE: Duration = Duration::from_millis(4500);

/// The longest a cleanup may hold the process after Ctrl-C.
const CLEANUP_LIMIT: Duration = Duration::from_secs(60);

/// Exit code of an interrupted command (128 + SIGINT).
pub const EXIT_CODE: i32 = 130;

static FLAG: OnceLock<watch::Sender<bool>> = OnceLock::new();
static CLEANING: AtomicUsize = AtomicUsize::new(0);
static HANDLING: AtomicUsize = AtomicUsize::new(0);
static LAST_CLEANUP: Mutex<Option<Instant>> = Mutex::new(None);

/// How long a command may go on after its cleanup ended.
const AFTER_CLEANUP: Duration = Duration::from_secs(1);

/// The error of work ended by Ctrl-C.
#[derive(Debug, Clone, Copy)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted by Ctrl-C")
    }
}

impl std::error::Error for Interrupted {}

/// Whether `err` (or one of its causes) is an [`Interrupted`].
pub fn is_interrupted(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.is::<Interrupted>())
}

/// Starts listening for Ctrl-C for the rest of the process (once; later
/// calls do nothing). Must run inside the tokio runtime.
pub fn install() {
    FLAG.get_or_init(|| {
        let (tx, _) = watch::channel(false);
        let flag = tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return;
            }
            flag.send_replace(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("error: interrupted twice; exiting now");
                std::process::exit(EXIT_CODE);
            }
        });
        tx
    });
}

/// Whether Ctrl-C came.
pub fn requested() -> bool {
    FLAG.get().is_some_and(|f| *f.borrow())
}

/// Resolves once Ctrl-C came (at once when it already did).
pub async fn wait() {
    install();
    let Some(flag) = FLAG.get() else {
        return std::future::pending().await;
    };
    let mut rx = flag.subscribe();
    let _ = rx.wait_for(|v| *v).await;
}

/// Completes on Ctrl-C or SIGTERM: how a foreground server (`gateway`,
/// `watch`, `serve`) is asked to stop.
pub async fn ctrl_c_or_term() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        wait().await;
        return;
    };
    tokio::select! {
        _ = wait() => {}
        _ = term.recv() => {}
    }
}

/// Runs `work` until it ends or Ctrl-C comes, whichever is first; on
/// Ctrl-C `work` is dropped and the result is [`Interrupted`].
pub async fn cancellable<T>(work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    if requested() {
        return Err(Interrupted.into());
    }
    tokio::select! {
        r = work => r,
        _ = wait() => Err(Interrupted.into()),
    }
}

/// Held by a command that ends itself on Ctrl-C (`up`, `deploy`,
/// `bench`): the [`backstop`] gives it [`GRACE`].
pub struct Handled(());

/// Marks the running command as one that ends itself on Ctrl-C, until the
/// guard is dropped.
pub fn handled_here() -> Handled {
    HANDLING.fetch_add(1, Ordering::SeqCst);
    Handled(())
}

impl Drop for Handled {
    fn drop(&mut self) {
        HANDLING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Held while a command stops what it started after Ctrl-C: the
/// [`backstop`] waits for it (up to a minute), and a second after it.
pub struct Cleanup(());

/// Marks a cleanup in progress until the guard is dropped.
pub fn cleaning() -> Cleanup {
    CLEANING.fetch_add(1, Ordering::SeqCst);
    Cleanup(())
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Ok(mut last) = LAST_CLEANUP.lock() {
            *last = Some(Instant::now());
        }
        CLEANING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a cleanup is in progress or ended less than [`AFTER_CLEANUP`]
/// ago (the command is saying what it did and writing its report).
fn cleaning_now() -> bool {
    CLEANING.load(Ordering::SeqCst) > 0
        || LAST_CLEANUP
            .lock()
            .ok()
            .and_then(|l| *l)
            .is_some_and(|t| t.elapsed() < AFTER_CLEANUP)
}

/// After Ctrl-C, ends the process with [`EXIT_CODE`]: at once when the
/// command does not handle Ctrl-C, else once [`GRACE`] has passed with no
/// cleanup in progress (or a cleanup overran a minute). Spawn it beside
/// the command; the command ending first wins.
pub async fn backstop() {
    wait().await;
    let since = Instant::now();
    loop {
        let cleaning = cleaning_now();
        let handled = cleaning || HANDLING.load(Ordering::SeqCst) > 0;
        let late = since.elapsed() >= GRACE;
        if !handled || (late && !cleaning) || since.elapsed() >= CLEANUP_LIMIT {
            eprintln!("error: interrupted by Ctrl-C");
            std::process::exit(EXIT_CODE);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_to_its_end_without_ctrl_c() {
        let r = cancellable(async { Ok(7) }).await.unwrap();
        assert_eq!(r, 7);
        let e = anyhow::Error::from(Interrupted).context("deploying");
        assert!(is_interrupted(&e));
        assert!(!is_interrupted(&anyhow::anyhow!("other")));
        let g = cleaning();
        assert_eq!(CLEANING.load(Ordering::SeqCst), 1);
        drop(g);
        let h = handled_here();
        assert_eq!(HANDLING.load(Ordering::SeqCst), 1);
        drop(h);
    }
}
