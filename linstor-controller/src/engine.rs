//! The one owner of the `Cluster`: a dedicated thread that takes jobs from a queue, executes
//! their commands, commits the change sets of a whole batch in one transaction and only then
//! answers every job of the batch.
//!
//! Readers take a shared lock on the cluster for the time it takes to build their answer in
//! memory (never while a client receives it). The writer holds the exclusive lock from the
//! first command of a batch until the batch is durable, so nobody ever reads a change that
//! could still be lost. A failed commit drops the in-memory state and reloads it from the
//! store; every job of that batch is answered with the failure, none with success.

use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Instant;

use linstor_core::cluster::{ChangeSet, Cluster, Command, Env, Outcome};
use linstor_core::rc::{ApiCallRc, Obj, Op, RcEntry};
use linstor_core::state::ClusterState;
use tokio::sync::{mpsc, oneshot};

use crate::reports::ErrorReports;
use crate::simulate::{self, Simulation};
use crate::store::{self, Store, StoreError};

/// Jobs taken into one batch at most (one transaction).
const MAX_BATCH: usize = 256;
/// Jobs waiting at most before senders wait too.
const QUEUE_DEPTH: usize = 4096;
/// LINSTOR's FAIL_SQL code.
const FAIL_SQL: u16 = 100;

/// The environment of a real controller: the system clock and the OS's random numbers.
#[derive(Debug, Default)]
pub struct SystemEnv;

impl Env for SystemEnv {
    fn now_ms(&mut self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    fn fill_random(&mut self, buf: &mut [u8]) {
        if let Err(e) = getrandom::fill(buf) {
            // No entropy source is a broken host: nothing the controller can answer around.
            panic!("the operating system gave no random numbers: {e}");
        }
    }
}

/// One request's commands and where to send their outcomes.
struct Job {
    cmds: Vec<Command>,
    reply: oneshot::Sender<Vec<Outcome>>,
}

/// What the engine shares with readers.
#[derive(Debug)]
pub struct Shared {
    cluster: RwLock<Cluster>,
    commits: tokio::sync::broadcast::Sender<Committed>,
}

/// A batch made durable: what changed (for events and satellites).
#[derive(Debug, Clone)]
pub struct Committed {
    /// The change sets of the batch, in order.
    pub changes: Arc<Vec<ChangeSet>>,
}

/// Handle to the engine: submit commands, read the state.
#[derive(Debug, Clone)]
pub struct Engine {
    tx: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

/// Why the engine did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The state could not be loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The owner thread could not be started.
    #[error("cannot start the engine thread: {0}")]
    Thread(std::io::Error),
}

/// The engine stopped (its thread ended); the controller is shutting down.
#[derive(Debug, thiserror::Error)]
#[error("the controller is shutting down; retry against the restarted controller")]
pub struct Stopped;

impl Engine {
    /// Loads the state from `store` and starts the owner thread.
    pub fn start(
        mut store: Box<dyn Store>,
        simulate: Option<Simulation>,
        reports: Arc<ErrorReports>,
    ) -> Result<Engine, StartError> {
        let mut cluster = open_cluster(store.as_mut())?;
        let mut env = SystemEnv;
        if let Some(sim) = simulate {
            for cmd in simulate::at_start(sim, cluster.state()) {
                cluster.execute(cmd, &mut env);
            }
        }
        let (commits, _) = tokio::sync::broadcast::channel(1024);
        let shared = Arc::new(Shared {
            cluster: RwLock::new(cluster),
            commits,
        });
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let owner = Owner {
            store,
            reports,
            shared: shared.clone(),
            env,
            simulate,
        };
        std::thread::Builder::new()
            .name("cluster-owner".into())
            .spawn(move || owner.run(rx))
            .map_err(StartError::Thread)?;
        Ok(Engine { tx, shared })
    }

    /// Executes `cmds` in order (each on the state the previous left) and answers once they
    /// are committed.
    pub async fn submit(&self, cmds: Vec<Command>) -> Result<Vec<Outcome>, Stopped> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job { cmds, reply })
            .await
            .map_err(|_| Stopped)?;
        rx.await.map_err(|_| Stopped)
    }

    /// A shared view of the cluster; keep it only while building an answer.
    pub fn read(&self) -> RwLockReadGuard<'_, Cluster> {
        self.shared
            .cluster
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Committed batches, for event streams.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Committed> {
        self.shared.commits.subscribe()
    }
}

struct Owner {
    store: Box<dyn Store>,
    reports: Arc<ErrorReports>,
    shared: Arc<Shared>,
    env: SystemEnv,
    simulate: Option<Simulation>,
}

impl Owner {
    fn run(mut self, mut rx: mpsc::Receiver<Job>) {
        while let Some(first) = rx.blocking_recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(j) => batch.push(j),
                    Err(_) => break,
                }
            }
            self.run_batch(batch);
        }
        tracing::info!("engine: queue closed, owner thread ends");
    }

    fn run_batch(&mut self, mut batch: Vec<Job>) {
        let started = Instant::now();
        let shared = self.shared.clone();
        let mut guard = shared
            .cluster
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let outcomes = loop {
            match execute_all(&mut guard, &mut self.env, self.simulate, &batch) {
                Ok(outcomes) => break outcomes,
                Err((k, what)) => {
                    // The panicking job is answered alone; the state goes back to the last
                    // commit and the rest of the batch runs again on it.
                    let job = batch.remove(k);
                    let id = self.reports.record("engine panic", &what);
                    tracing::error!(report = %id, "a command panicked: {what}");
                    let _ = job.reply.send(panicked(&id, &what));
                    self.reload(&mut guard);
                }
            }
        };
        let changes: Vec<ChangeSet> = outcomes
            .iter()
            .flatten()
            .filter(|o| !o.changes.is_empty())
            .map(|o| o.changes.clone())
            .collect();
        let refs: Vec<&ChangeSet> = changes.iter().collect();
        let committed = refs.is_empty() || self.commit(&mut guard, &refs);
        drop(guard);
        let outcomes = if committed {
            if !changes.is_empty() {
                let _ = self.shared.commits.send(Committed {
                    changes: Arc::new(changes),
                });
            }
            outcomes
        } else {
            outcomes.into_iter().map(|o| failed(&o)).collect()
        };
        tracing::debug!(jobs = batch.len(), elapsed = ?started.elapsed(), "batch done");
        for (job, out) in batch.into_iter().zip(outcomes) {
            let _ = job.reply.send(out);
        }
    }

    /// Replaces the in-memory cluster with the store's (plus what simulated satellites
    /// report); a store that cannot be read stops the controller rather than serve a guess.
    fn reload(&mut self, cluster: &mut Cluster) {
        match store::load_cluster(self.store.as_mut()) {
            Ok(mut c) => {
                if let Some(sim) = self.simulate {
                    for cmd in simulate::at_start(sim, c.state()) {
                        c.execute(cmd, &mut self.env);
                    }
                }
                *cluster = c;
            }
            Err(e) => {
                tracing::error!(error = %e, "reloading the state failed; stopping so nothing unsaved is served");
                std::process::exit(70);
            }
        }
    }

    /// Commits; on failure reloads the state from the store and says so.
    fn commit(&mut self, cluster: &mut Cluster, changes: &[&ChangeSet]) -> bool {
        let Err(e) = self.store.commit(cluster.state(), changes) else {
            return true;
        };
        if let StoreError::Fenced { .. } = e {
            // Nothing was written; another controller may be active: stop at once.
            crate::ha::lost(&e.to_string());
        }
        tracing::error!(error = %e, store = %self.store.describe(), "commit failed; reloading the state from the store");
        self.reload(cluster);
        false
    }
}

/// The stored cluster; an empty store gets a new cluster (`DfltRscGrp`, the diskless pool
/// definition) committed before anything is served.
fn open_cluster(store: &mut dyn Store) -> Result<Cluster, StoreError> {
    let state = store.load()?;
    if state != ClusterState::default() {
        // The state just read, not a second copy (two at once would double the peak and leave
        // the first one's memory as a hole in the heap).
        return store::cluster_of(state);
    }
    let c = Cluster::new(&mut SystemEnv);
    store.commit(c.state(), &[&store::rows::full_change_set(c.state())])?;
    tracing::info!(store = %store.describe(), "new cluster created in an empty store");
    Ok(c)
}

/// Executes every job of the batch in order; a panicking command stops the batch and names
/// its job and the panic's message (the cluster may then be half-changed: reload it).
fn execute_all(
    cluster: &mut Cluster,
    env: &mut dyn Env,
    simulate: Option<Simulation>,
    batch: &[Job],
) -> Result<Vec<Vec<Outcome>>, (usize, String)> {
    let mut outcomes = Vec::with_capacity(batch.len());
    for (i, job) in batch.iter().enumerate() {
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            execute_job(cluster, env, simulate, &job.cmds)
        }));
        match run {
            Ok(outs) => outcomes.push(outs),
            Err(p) => return Err((i, panic_message(p.as_ref()))),
        }
    }
    Ok(outcomes)
}

fn execute_job(
    cluster: &mut Cluster,
    env: &mut dyn Env,
    simulate: Option<Simulation>,
    cmds: &[Command],
) -> Vec<Outcome> {
    let mut outs = Vec::with_capacity(cmds.len());
    for cmd in cmds {
        let out = cluster.execute(cmd.clone(), env);
        if let Some(sim) = simulate {
            // Simulated satellites answer at once; their reports change observed state only.
            for report in simulate::follow_ups(sim, cluster.state(), &out.changes) {
                cluster.execute(report, env);
            }
        }
        outs.push(out);
    }
    outs
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The answer to a command that panicked: nothing of it was applied.
fn panicked(id: &str, what: &str) -> Vec<Outcome> {
    let entry = RcEntry::error(Op::None, Obj::None, linstor_core::rc::code::IMPL_ERROR, "The controller failed to execute this request; nothing of it was applied.")
        .cause(format!("Internal error: {what}"))
        .correction(format!("Send error report {id} (GET /v1/error-reports/{id}) to the developers; the controller keeps serving other requests."));
    vec![Outcome {
        rc: ApiCallRc(vec![entry]),
        changes: ChangeSet::default(),
    }]
}

/// The answer to commands whose commit failed: nothing of them was saved.
fn failed(outs: &[Outcome]) -> Vec<Outcome> {
    let entry = RcEntry::error(Op::None, Obj::None, FAIL_SQL, "The change could not be saved to the database; nothing of it was applied.")
        .cause("The database transaction failed (the controller's log has the reason).")
        .correction("Check the database (disk space, permissions of the data directory), then retry the request.");
    vec![
        Outcome {
            rc: ApiCallRc(vec![entry]),
            changes: ChangeSet::default(),
        };
        outs.len().max(1)
    ]
}
