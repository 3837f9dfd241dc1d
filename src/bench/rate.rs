//! Rate controllers: when may the next transaction be sent? Pure: the
//! engine reports what happened so far ([`Feedback`]) and the controller
//! answers with a [`Decision`], so every controller is unit-tested without
//! a network or a clock.

use std::time::Duration;

use super::scenario::{Length, Rate};

/// What the engine has observed since the round started.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Feedback {
    /// Time since the round started.
    pub elapsed: Duration,
    /// Transactions sent so far (the next one has this index).
    pub sent: u64,
    /// Transactions committed (or finished, for reads) so far.
    pub committed: u64,
    /// Sent but not yet committed or failed.
    pub in_flight: u64,
}

/// The controller's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    /// Send the next transaction at this offset from the round's start
    /// (immediately if it is already past).
    SendAt(Duration),
    /// Wait until an in-flight transaction completes, then ask again.
    WaitForCompletion,
    /// The controller has finished (maximum-rate found its knee).
    Stop,
}

/// Throughput must rise by this factor per step to count as still rising.
const RISE: f64 = 1.05;

/// A running controller for one round.
#[derive(Debug, Clone)]
pub struct Pacer {
    rate: Rate,
    length: Length,
    next_at: f64,
    step: u64,
    step_committed_start: u64,
    step_observed: Vec<f64>,
    knee: Option<f64>,
}

impl Pacer {
    /// A controller for `rate` over a round of `length`.
    pub fn new(rate: &Rate, length: Length) -> Self {
        Self {
            rate: rate.clone(),
            length,
            next_at: 0.0,
            step: 0,
            step_committed_start: 0,
            step_observed: Vec::new(),
            knee: None,
        }
    }

    /// `maximum-rate`: the send rate after which throughput stopped rising.
    pub(crate) fn knee(&self) -> Option<f64> {
        self.knee
    }

    /// The rate a `maximum-rate` controller asks for in step `k`.
    fn step_tps(start: f64, step: f64, k: u64) -> f64 {
        start + step * k as f64
    }

    /// When the transaction with index `fb.sent` may be sent.
    pub fn next(&mut self, fb: &Feedback) -> Decision {
        match self.rate.clone() {
            Rate::FixedRate { tps } => {
                Decision::SendAt(Duration::from_secs_f64(fb.sent as f64 / tps))
            }
            Rate::LinearRate { start_tps, end_tps } => {
                let progress = match self.length {
                    Length::Count(n) => fb.sent as f64 / n.max(1) as f64,
                    Length::Seconds(d) => self.next_at / d,
                }
                .clamp(0.0, 1.0);
                let at = self.next_at;
                self.next_at += 1.0 / (start_tps + (end_tps - start_tps) * progress);
                Decision::SendAt(Duration::from_secs_f64(at))
            }
            Rate::FixedLoad { in_flight } => {
                if fb.in_flight < in_flight {
                    Decision::SendAt(fb.elapsed)
                } else {
                    Decision::WaitForCompletion
                }
            }
            Rate::MaximumRate {
                start_tps,
                step_tps,
                step_s,
            } => {
                let t = fb.elapsed.as_secs_f64();
                while t >= (self.step + 1) as f64 * step_s {
                    let observed = (fb.committed - self.step_committed_start) as f64 / step_s;
                    self.step_committed_start = fb.committed;
                    if let Some(prev) = self.step_observed.last() {
                        if observed < prev * RISE {
                            self.knee = Some(Self::step_tps(start_tps, step_tps, self.step - 1));
                            return Decision::Stop;
                        }
                    }
                    self.step_observed.push(observed);
                    self.step += 1;
                    // A step boundary passed: the schedule restarts from here.
                    self.next_at = self.next_at.max(self.step as f64 * step_s);
                }
                let at = self.next_at;
                self.next_at += 1.0 / Self::step_tps(start_tps, step_tps, self.step);
                Decision::SendAt(Duration::from_secs_f64(at))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(d: Decision) -> f64 {
        match d {
            Decision::SendAt(t) => t.as_secs_f64(),
            other => panic!("expected SendAt, got {other:?}"),
        }
    }

    #[test]
    fn fixed_rate_spaces_sends_evenly() {
        let mut p = Pacer::new(&Rate::FixedRate { tps: 50.0 }, Length::Count(100));
        let fb = |sent| Feedback {
            sent,
            ..Default::default()
        };
        assert_eq!(at(p.next(&fb(0))), 0.0);
        assert!((at(p.next(&fb(50))) - 1.0).abs() < 1e-9);
        assert!((at(p.next(&fb(99))) - 1.98).abs() < 1e-9);
    }

    #[test]
    fn linear_rate_speeds_up() {
        let mut p = Pacer::new(
            &Rate::LinearRate {
                start_tps: 10.0,
                end_tps: 100.0,
            },
            Length::Count(1000),
        );
        let mut times = Vec::new();
        for i in 0..1000 {
            times.push(at(p.next(&Feedback {
                sent: i,
                ..Default::default()
            })));
        }
        let first_gap = times[1] - times[0];
        let last_gap = times[999] - times[998];
        assert!((first_gap - 0.1).abs() < 1e-6, "{first_gap}");
        assert!(last_gap < 0.011 && last_gap > 0.0099, "{last_gap}");
        // Mean rate of a linear ramp: total time = ∫ dn / r(n).
        let expected = (1000.0 / 90.0) * (100.0f64 / 10.0).ln();
        assert!(
            (times[999] - expected).abs() < 0.1,
            "{} vs {expected}",
            times[999]
        );
    }

    #[test]
    fn fixed_load_waits_when_full() {
        let mut p = Pacer::new(&Rate::FixedLoad { in_flight: 3 }, Length::Count(10));
        let now = Duration::from_millis(1500);
        let d = p.next(&Feedback {
            elapsed: now,
            sent: 2,
            committed: 0,
            in_flight: 2,
        });
        assert_eq!(d, Decision::SendAt(now));
        let d = p.next(&Feedback {
            elapsed: now,
            sent: 3,
            committed: 0,
            in_flight: 3,
        });
        assert_eq!(d, Decision::WaitForCompletion);
    }

    #[test]
    fn maximum_rate_steps_up_and_stops_at_the_knee() {
        let rate = Rate::MaximumRate {
            start_tps: 10.0,
            step_tps: 10.0,
            step_s: 2.0,
        };
        let mut p = Pacer::new(&rate, Length::Seconds(100.0));
        // Throughput follows the send rate up to 30 tps, then saturates.
        let served = |tps: f64| tps.min(30.0);
        let mut committed = 0.0;
        let mut t = 0.0;
        let mut last = Decision::SendAt(Duration::ZERO);
        for k in 0..10 {
            let tps = 10.0 + 10.0 * k as f64;
            // First decision inside step k.
            last = p.next(&Feedback {
                elapsed: Duration::from_secs_f64(t + 0.001),
                sent: 0,
                committed: committed as u64,
                in_flight: 0,
            });
            if last == Decision::Stop {
                break;
            }
            if k > 0 {
                let gap = at(last)
                    - at(p.next(&Feedback {
                        elapsed: Duration::from_secs_f64(t + 0.002),
                        committed: committed as u64,
                        ..Default::default()
                    }));
                assert!((gap.abs() - 1.0 / tps).abs() < 1e-9, "step {k}: gap {gap}");
            }
            committed += served(tps) * 2.0;
            t += 2.0;
        }
        assert_eq!(last, Decision::Stop);
        assert_eq!(p.knee(), Some(30.0));
    }
}
