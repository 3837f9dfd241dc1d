//! One worker's open-loop scheduler: each request leaves at the time the
//! rate controller gave it, not after the previous answer, with at most a
//! window of requests in flight. Requests are started strictly in the
//! order the worker received them (so one account's nonces reach the node
//! in order), whatever order their answers come back in.
//!
//! When an answer says the worker must recover (its node stopped
//! answering, or refused a transaction so that its nonce is a hole), the
//! scheduler starts nothing more, waits until every request in flight has
//! been answered (each is bounded by the transport's timeout), lets the
//! worker recover (fail over, resynchronise its nonce), and has the job it
//! holds prepared again before sending it.
//!
//! Generic over [`Work`], so tests drive it with a fake node on tokio's
//! paused clock.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;

use super::failover::CallError;
use super::transport::{answer, Answer};

/// A transaction index and the time it must leave.
pub(crate) type Job = (u64, std::time::Instant);

/// What the scheduler asks of a worker.
pub(crate) trait Work {
    /// A request made ready to send (signed, for a transaction).
    type Req: Send + 'static;
    /// Prepares `job` (with the worker's next nonce); `None` skips it.
    fn prepare(&mut self, job: Job) -> Option<Self::Req>;
    /// Writes `req` to the node now; the answer comes later.
    fn start(&mut self, req: &mut Self::Req) -> impl Future<Output = Answer> + Send;
    /// Handles an answer; true when the worker must recover before it
    /// sends anything else.
    fn answered(&mut self, req: Self::Req, answer: Result<Value, CallError>) -> bool;
    /// Recovers, with nothing in flight.
    fn recover(&mut self) -> impl Future<Output = ()> + Send;
}

/// Where a worker's time went while its requests were late: the figures
/// that tell why a round missed its rate ([`super::shortfall`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SendFigures {
    /// Requests started.
    pub sent: u64,
    /// How far behind its schedule the last request left (start −
    /// scheduled), s: the wall time the worker fell behind, which the
    /// waits below explain (summed over workers when added).
    pub behind_s: f64,
    /// Time a due request waited because the window was full, s.
    pub window_wait_s: f64,
    /// Time spent writing requests (the node not reading fast enough
    /// shows here), s.
    pub write_s: f64,
    /// Answers received.
    pub answers: u64,
    /// Sum of round trips (start → answer), s.
    pub rtt_sum_s: f64,
    /// Shortest round trip, s (0 when none).
    pub rtt_min_s: f64,
    /// Most requests in flight at once.
    pub max_in_flight: u64,
    /// The window.
    pub window: u64,
}

impl SendFigures {
    /// Adds another worker's figures.
    pub fn add(&mut self, o: &SendFigures) {
        self.sent += o.sent;
        self.behind_s += o.behind_s;
        self.window_wait_s += o.window_wait_s;
        self.write_s += o.write_s;
        self.answers += o.answers;
        self.rtt_sum_s += o.rtt_sum_s;
        if o.answers > 0 && (self.rtt_min_s == 0.0 || o.rtt_min_s < self.rtt_min_s) {
            self.rtt_min_s = o.rtt_min_s;
        }
        self.max_in_flight = self.max_in_flight.max(o.max_in_flight);
        self.window = self.window.max(o.window);
    }

    /// Mean round trip, s (0 when none).
    pub fn rtt_avg_s(&self) -> f64 {
        if self.answers == 0 {
            0.0
        } else {
            self.rtt_sum_s / self.answers as f64
        }
    }

    fn answered(&mut self, rtt: Duration) {
        let rtt = rtt.as_secs_f64();
        self.answers += 1;
        self.rtt_sum_s += rtt;
        if self.rtt_min_s == 0.0 || rtt < self.rtt_min_s {
            self.rtt_min_s = rtt;
        }
    }
}

/// A request in flight: resolves to the request, its answer and its
/// round trip.
type InFlight<R> =
    std::pin::Pin<Box<dyn Future<Output = (R, Result<Value, CallError>, Duration)> + Send>>;

/// The scheduler's state for one run of [`run`].
struct State<R> {
    in_flight: FuturesUnordered<InFlight<R>>,
    next: Option<(Job, Option<R>)>,
    recovering: bool,
    closed: bool,
    /// Since when the window has been full.
    full_at: Option<Instant>,
    figures: SendFigures,
}

/// Sends `jobs` through `work`, each at its time, at most `window` in
/// flight, until the queue closes and every answer is in, or until
/// `stop` resolves (answers still awaited are then dropped).
pub(crate) async fn run<W: Work>(
    work: &mut W,
    jobs: &mut mpsc::Receiver<Job>,
    window: usize,
    stop: impl Future<Output = ()>,
) -> SendFigures {
    let window = window.max(1);
    let mut s = State {
        in_flight: FuturesUnordered::new(),
        next: None,
        recovering: false,
        closed: false,
        full_at: None,
        figures: SendFigures {
            window: window as u64,
            ..Default::default()
        },
    };
    tokio::pin!(stop);
    loop {
        if s.recovering && s.in_flight.is_empty() {
            work.recover().await;
            s.recovering = false;
            // Its nonce may have moved: sign it again.
            s.next = s.next.take().map(|(job, _)| (job, work.prepare(job)));
        }
        if s.closed && s.next.is_none() && s.in_flight.is_empty() {
            break;
        }
        let room = s.in_flight.len() < window && !s.recovering;
        // tokio's clock (the same as std's, but for paused tests).
        let due = s.next.as_ref().map(|((_, at), _)| Instant::from_std(*at));
        tokio::select! {
            biased;
            _ = &mut stop => break,
            Some((req, ans, rtt)) = s.in_flight.next(), if !s.in_flight.is_empty() => {
                s.figures.answered(rtt);
                // A slot is free again: a due job waited from when it came
                // due (or the window filled, if later) until now.
                if let (Some(full), Some(at)) = (s.full_at.take(), due) {
                    let waited = Instant::now().saturating_duration_since(full.max(at));
                    s.figures.window_wait_s += waited.as_secs_f64();
                }
                s.recovering |= work.answered(req, ans);
            }
            _ = sleep_until(due), if room && due.is_some() => send(work, &mut s).await,
            job = jobs.recv(), if s.next.is_none() && !s.closed => match job {
                Some(job) => s.next = Some((job, work.prepare(job))),
                None => s.closed = true,
            },
        }
    }
    s.figures
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

/// Starts the job `s` holds (it is due and there is room).
async fn send<W: Work>(work: &mut W, s: &mut State<W::Req>) {
    let Some(((_, at), req)) = s.next.take() else {
        return;
    };
    let Some(mut req) = req else {
        return;
    };
    let began = Instant::now();
    s.figures.behind_s = began
        .saturating_duration_since(Instant::from_std(at))
        .as_secs_f64();
    let pending = work.start(&mut req).await;
    let written = Instant::now();
    s.figures.write_s += (written - began).as_secs_f64();
    s.figures.sent += 1;
    s.in_flight.push(Box::pin(async move {
        let a = answer(pending).await;
        (req, a, written.elapsed())
    }));
    s.figures.max_in_flight = s.figures.max_in_flight.max(s.in_flight.len() as u64);
    if s.in_flight.len() as u64 >= s.figures.window {
        s.full_at = Some(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::result::Cause;
    use rand::{Rng, SeedableRng};
    use std::sync::{Arc, Mutex};

    /// What the fake node saw.
    #[derive(Default)]
    struct Node {
        /// Nonces in the order they were written.
        arrivals: Vec<u64>,
        in_flight: usize,
        max_in_flight: usize,
        /// Requests in flight when a recovery began (must be 0).
        recovered_with: Vec<usize>,
    }

    /// A worker with one account whose fake node answers each request
    /// after a random delay (so answers come back out of order) and
    /// refuses the nonces in `refuse` once.
    struct Fake {
        /// The next new nonce.
        nonce: u64,
        /// Refused nonces to send again first.
        holes: Vec<u64>,
        node: Arc<Mutex<Node>>,
        rng: rand_chacha::ChaCha8Rng,
        refuse: Vec<u64>,
        resyncs: u64,
    }

    impl Work for Fake {
        type Req = u64;
        fn prepare(&mut self, _job: Job) -> Option<u64> {
            Some(self.holes.first().copied().unwrap_or(self.nonce))
        }
        fn start(&mut self, req: &mut u64) -> impl Future<Output = Answer> + Send {
            if self.holes.first() == Some(req) {
                self.holes.remove(0);
            } else {
                self.nonce = *req + 1;
            }
            let mut n = self.node.lock().unwrap();
            n.arrivals.push(*req);
            n.in_flight += 1;
            n.max_in_flight = n.max_in_flight.max(n.in_flight);
            let delay = Duration::from_micros(self.rng.gen_range(100..20_000));
            let refuse = self.refuse.contains(req);
            let (tx, rx) = tokio::sync::oneshot::channel();
            let node = self.node.clone();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                node.lock().unwrap().in_flight -= 1;
                let r = if refuse {
                    Err(CallError {
                        cause: Cause::Rejected,
                        delivered: true,
                        message: "txpool is full".into(),
                    })
                } else {
                    Ok(Value::Null)
                };
                let _ = tx.send(r);
            });
            std::future::ready(rx)
        }
        fn answered(&mut self, req: u64, a: Result<Value, CallError>) -> bool {
            if a.is_err() {
                // The refused nonce is a hole: the next job refills it.
                self.refuse.retain(|n| *n != req);
                self.holes.push(req);
                return true;
            }
            false
        }
        fn recover(&mut self) -> impl Future<Output = ()> + Send {
            let n = self.node.lock().unwrap().in_flight;
            self.node.lock().unwrap().recovered_with.push(n);
            self.resyncs += 1;
            async {}
        }
    }

    fn fake(refuse: Vec<u64>) -> (Fake, Arc<Mutex<Node>>) {
        let node = Arc::new(Mutex::new(Node::default()));
        let f = Fake {
            nonce: 0,
            holes: Vec::new(),
            node: node.clone(),
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(7),
            refuse,
            resyncs: 0,
        };
        (f, node)
    }

    /// Feeds `n` jobs at `tps` from now and runs the scheduler.
    async fn drive(f: &mut Fake, n: u64, tps: f64, window: usize) -> (SendFigures, Duration) {
        let (tx, mut rx) = mpsc::channel(16);
        let t0 = tokio::time::Instant::now().into_std();
        tokio::spawn(async move {
            for i in 0..n {
                let at = t0 + Duration::from_secs_f64(i as f64 / tps);
                if tx.send((i, at)).await.is_err() {
                    return;
                }
            }
        });
        let figures = run(f, &mut rx, window, std::future::pending()).await;
        (figures, tokio::time::Instant::from_std(t0).elapsed())
    }

    #[tokio::test(start_paused = true)]
    async fn requests_leave_on_schedule_without_waiting_for_answers() {
        let (mut f, node) = fake(Vec::new());
        // 1000 per second with answers taking up to 20 ms: a closed loop
        // would manage ~100 per second.
        let (fig, took) = drive(&mut f, 2000, 1000.0, 64).await;
        assert_eq!(fig.sent, 2000);
        let n = node.lock().unwrap();
        assert_eq!(n.arrivals, (0..2000).collect::<Vec<_>>());
        assert!(
            n.max_in_flight > 1 && n.max_in_flight <= 64,
            "{}",
            n.max_in_flight
        );
        // The last leaves at 1.999 s; its answer within 20 ms.
        assert!(took < Duration::from_millis(2030), "{took:?}");
        assert!(fig.behind_s < 2e-3, "the last left {} s late", fig.behind_s);
        assert_eq!(fig.window_wait_s, 0.0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_bounds_what_is_in_flight() {
        let (mut f, node) = fake(Vec::new());
        // All due at once: only the window's worth may be out.
        let (fig, _) = drive(&mut f, 500, 1e9, 8).await;
        let n = node.lock().unwrap();
        assert_eq!(n.max_in_flight, 8);
        assert_eq!(fig.max_in_flight, 8);
        assert_eq!(n.arrivals, (0..500).collect::<Vec<_>>());
        assert!(fig.window_wait_s > 0.0, "jobs waited for room");
        // All were due at once: falling behind is all window wait.
        assert!((fig.window_wait_s - fig.behind_s).abs() < 1e-3, "{fig:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_refused_nonce_stops_sending_until_everything_is_answered_then_is_refilled() {
        let (mut f, node) = fake(vec![100, 300]);
        let (fig, _) = drive(&mut f, 1000, 2000.0, 32).await;
        let n = node.lock().unwrap();
        assert_eq!(f.resyncs, 2);
        assert_eq!(
            n.recovered_with,
            vec![0, 0],
            "recovery with nothing in flight"
        );
        assert_eq!(fig.sent, 1000);
        // Every nonce once, the two refused ones twice; new nonces reach
        // the node in increasing order, and each hole is refilled before
        // anything new once the answers in flight are in (the node saw at
        // most a window of later nonces before the refusal came back, as
        // a pool holds queued transactions).
        let a = &n.arrivals;
        let mut counts = std::collections::BTreeMap::new();
        for x in a {
            *counts.entry(*x).or_insert(0) += 1;
        }
        assert_eq!(counts.len(), 998);
        assert!(counts
            .iter()
            .all(|(k, c)| *c == if [100, 300].contains(k) { 2 } else { 1 }));
        let hole = a.iter().position(|x| *x == 100).unwrap();
        let refill = hole + 1 + a[hole + 1..].iter().position(|x| *x == 100).unwrap();
        let fresh: Vec<u64> = a
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != refill && a[..*i].iter().all(|y| y != &a[*i]))
            .map(|(_, x)| *x)
            .collect();
        assert!(
            fresh.windows(2).all(|w| w[1] == w[0] + 1),
            "new nonces in order"
        );
        assert!(
            refill - hole <= 33,
            "at most the window went out after the hole"
        );
    }
}
