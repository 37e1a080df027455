//! Several controllers on one etcd or PostgreSQL database, one active: the campaign, the lease
//! keeper and the watchdog that stops a controller whose leadership may have ended.
//!
//! A controller on a shared database starts as a standby: it listens (answering with where the
//! active controller is, `http::standby`) and tries to take the leadership every
//! [`Ha::poll_every`]. Once it leads, it opens the store with its [`Fence`], loads the state,
//! starts the engine and connects the satellites; the keeper renews the lease every third of its
//! length, and the watchdog ends the process as soon as the lease may have run out without a
//! renewal (a paused process, a lost database), before any successor can be elected. A commit
//! the store refuses as fenced ends the process the same way ([`lost`]). Ending the process is
//! the one safe answer: every task that could talk to a satellite stops at once; the service
//! manager starts it again, as a standby.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::store::StoreError;
use crate::store::lease::{Candidate, Election, Fence, Leader};

/// The exit status of a controller that stopped because its leadership ended.
pub const EXIT_LOST_LEADERSHIP: i32 = 75;

/// What a standby knows, for its answers.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The database, as logs name it.
    pub store: String,
    /// The active controller, when one is known.
    pub leader: Option<Leader>,
    /// This controller's own URL.
    pub me: String,
}

/// The election of one controller.
pub struct Ha {
    election: Arc<Mutex<Box<dyn Election>>>,
    candidate: Candidate,
    view: Arc<RwLock<View>>,
    /// Set by a clean shutdown: the keeper and the watchdog stop quietly.
    resigned: Arc<AtomicBool>,
}

impl std::fmt::Debug for Ha {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ha")
            .field("candidate", &self.candidate)
            .finish_non_exhaustive()
    }
}

/// This machine's host name (`localhost` when it cannot be read).
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// A unique identity for this process: host, pid and a random part.
fn holder() -> String {
    let host = hostname();
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!("{}:{}:{}", host, std::process::id(), hex::encode(r))
}

impl Ha {
    /// The election of the configured database; `None` for SQLite (one controller).
    pub fn open(config: &Config, url: String) -> Result<Option<Ha>, StoreError> {
        let candidate = Candidate {
            holder: holder(),
            url: url.clone(),
            lease: config.lease,
        };
        let Some(election) = crate::store::open_election(&config.db, candidate.clone())? else {
            return Ok(None);
        };
        let view = View {
            store: config.db.describe(),
            leader: None,
            me: url,
        };
        Ok(Some(Ha {
            election: Arc::new(Mutex::new(election)),
            candidate,
            view: Arc::new(RwLock::new(view)),
            resigned: Arc::new(AtomicBool::new(false)),
        }))
    }

    /// What standbys answer from.
    pub fn view(&self) -> Arc<RwLock<View>> {
        self.view.clone()
    }

    /// How often a standby tries to take over: an eighth of the lease, 50 to 250 ms.
    pub fn poll_every(&self) -> Duration {
        (self.candidate.lease / 8).clamp(Duration::from_millis(50), Duration::from_millis(250))
    }

    /// Runs `f` on the election on a blocking thread (its client blocks).
    async fn with<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Election) -> R + Send + 'static,
    ) -> R {
        let e = self.election.clone();
        tokio::task::spawn_blocking(move || {
            let mut g = e.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(g.as_mut())
        })
        .await
        .unwrap_or_else(|p| std::panic::resume_unwind(p.into_panic()))
    }

    /// Campaigns until this controller leads; then starts the keeper and the watchdog and
    /// returns the fence.
    pub async fn campaign(&self) -> Fence {
        let mut last_error = None;
        loop {
            if let Some(fence) = self.try_once(&mut last_error).await {
                return fence;
            }
            tokio::time::sleep(self.poll_every()).await;
        }
    }

    /// One attempt: the fence when this controller now leads (keeper and watchdog started),
    /// else `None` (the known leader recorded for the standby's answers). Errors are logged at
    /// most every 10 s (`last_error`).
    pub async fn try_once(&self, last_error: &mut Option<Instant>) -> Option<Fence> {
        // The lease runs from before the request: the server may start it any time after.
        let asked = Instant::now();
        match self.with(|e| e.try_acquire()).await {
            Ok(Some(fence)) => {
                tracing::info!(term = fence.term, holder = %fence.holder, "this controller is now the active one");
                self.keep(asked);
                Some(fence)
            }
            Ok(None) => {
                if let Ok(leader) = self.with(|e| e.leader()).await {
                    self.set_leader(leader);
                }
                None
            }
            Err(e) => {
                if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!(error = %e, "cannot take part in the election; retrying");
                    *last_error = Some(Instant::now());
                }
                None
            }
        }
    }

    fn set_leader(&self, leader: Option<Leader>) {
        let mut v = self
            .view
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if v.leader != leader {
            if let Some(l) = &leader {
                tracing::info!(active = %l.url, term = l.term, "standby; the active controller is elsewhere");
            }
            v.leader = leader;
        }
    }

    /// Starts the lease keeper and the watchdog, the lease counted from `won`.
    fn keep(&self, won: Instant) {
        let lease = self.candidate.lease;
        // Stop a tenth of the lease before the server could expire it.
        let margin = lease / 10;
        let base = Instant::now();
        let deadline = Arc::new(AtomicU64::new(millis(base, won + lease - margin)));
        let (d, e) = (deadline.clone(), self.election.clone());
        let (quit, quit2) = (self.resigned.clone(), self.resigned.clone());
        spawn("lease-keeper", move || {
            loop {
                std::thread::sleep(lease / 3);
                let sent = Instant::now();
                let renewed = e
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .renew();
                if quit.load(Ordering::SeqCst) {
                    return;
                }
                match renewed {
                    Ok(true) => d.store(millis(base, sent + lease - margin), Ordering::SeqCst),
                    Ok(false) => {
                        lost("the lease could not be renewed: another controller took over")
                    }
                    Err(err) => tracing::warn!(error = %err, "renewing the lease failed; retrying"),
                }
            }
        });
        spawn("lease-watchdog", move || {
            loop {
                if quit2.load(Ordering::SeqCst) {
                    return;
                }
                if millis(base, Instant::now()) >= deadline.load(Ordering::SeqCst) {
                    lost(
                        "no lease renewal for the whole lease (paused, or the database is unreachable)",
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
    }

    /// Gives the leadership up (clean shutdown), so that a standby takes over at once.
    pub async fn resign(&self) {
        self.resigned.store(true, Ordering::SeqCst);
        if let Err(e) = self.with(|e| e.resign()).await {
            tracing::warn!(error = %e, "resigning the leadership failed; the lease will expire");
        }
    }
}

fn millis(base: Instant, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(base).as_millis()).unwrap_or(u64::MAX)
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.to_owned()).spawn(f) {
        lost(&format!("cannot start the {name} thread: {e}"));
    }
}

/// The leadership ended (or may have): stop the process now, before a successor starts.
pub fn lost(why: &str) -> ! {
    tracing::error!(
        "stopping: this controller may no longer be the active one ({why}); it will not write \
         or talk to satellites again; start it again to rejoin as a standby"
    );
    std::process::exit(EXIT_LOST_LEADERSHIP)
}
