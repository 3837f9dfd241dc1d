//! Progress for long commands: an indicatif spinner on a terminal, plain
//! timestamped lines otherwise (CI logs, pipes), both on stderr so stdout
//! stays clean for results and JSON.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Reports the steps of one command.
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
    quiet: bool,
}

impl Progress {
    /// A reporter; `quiet` silences everything (used by `--json` output).
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Self {
            bar,
            start: Instant::now(),
            quiet,
        }
    }

    /// Announces the step now under way.
    pub fn step(&self, msg: impl AsRef<str>) {
        match &self.bar {
            Some(b) => {
                b.println(format!("  {}", msg.as_ref()));
                b.set_message(msg.as_ref().to_string());
            }
            None if !self.quiet => eprintln!(
                "[{:>6.1}s] {}",
                self.start.elapsed().as_secs_f64(),
                msg.as_ref()
            ),
            None => {}
        }
    }

    /// Time since the command started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Ends the spinner.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
