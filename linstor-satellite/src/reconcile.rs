//! One node's reconcile loop, one pass at a time: observe → `plan` (the core's pure
//! function) → execute → observe again → report.
//!
//! A failed action is recorded with its command, exit code and stderr, reported on its
//! resource, and retried with exponential back-off (never dropped); the remaining actions of
//! the same resource wait for it, other resources go on. A new projection resets the back-off
//! (the operator may have fixed the cause). Time is an input (`now_ms`), so passes are
//! deterministic under test.

use std::collections::{BTreeMap, BTreeSet};

use linstor_core::ResourceName;
use linstor_core::model::{Capabilities, ReplicationObserved, RscObserved, VlmObserved};
use linstor_core::plan::{self, Action};
use linstor_core::projection::NodeProjection;
use linstor_proto::{ActionFailure, PoolReport, SatelliteReport};

use crate::drbd::DrbdLayer;
use crate::error::SatError;
use crate::exec::{Ctx, local_disks};
use crate::observe::{Found, observe};
use crate::pools::Pools;

/// Passes of plan-and-execute per [`Reconciler::pass`] before it reports anyway.
const MAX_ROUNDS: usize = 3;

/// Back-off of failed actions.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First delay, ms.
    pub first_ms: u64,
    /// Longest delay, ms.
    pub max_ms: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            first_ms: 1_000,
            max_ms: 60_000,
        }
    }
}

#[derive(Debug, Clone)]
struct Failure {
    report: ActionFailure,
    next_ms: u64,
}

/// The node's state between passes.
#[derive(Debug)]
pub struct Reconciler {
    pools: Pools,
    /// The DRBD layer.
    pub drbd: DrbdLayer,
    caps: Capabilities,
    projection: Option<NodeProjection>,
    generation: u64,
    failures: BTreeMap<String, Failure>,
    backoff: Backoff,
}

impl Reconciler {
    /// A reconciler with no desired state yet.
    pub fn new(pools: Pools, drbd: DrbdLayer, caps: Capabilities, backoff: Backoff) -> Self {
        Reconciler {
            pools,
            drbd,
            caps,
            projection: None,
            generation: 0,
            failures: BTreeMap::new(),
            backoff,
        }
    }

    /// A new desired state from the controller.
    pub fn set_projection(&mut self, generation: u64, p: NodeProjection) {
        self.pools.sync(&p);
        self.projection = Some(p);
        self.generation = generation;
        for f in self.failures.values_mut() {
            f.next_ms = 0;
        }
    }

    /// Answers a physical-storage request of the controller.
    pub async fn answer(&self, req: &linstor_proto::SatRequest) -> linstor_proto::SatAnswer {
        crate::physical::answer(req, self.pools.runner(), &self.pools.file_dirs()).await
    }

    /// The earliest time a failed action may run again.
    pub fn next_retry_ms(&self) -> Option<u64> {
        self.failures.values().map(|f| f.next_ms).min()
    }

    /// One pass (see the module docs); returns the report.
    pub async fn pass(&mut self, now_ms: u64) -> SatelliteReport {
        let Some(p) = self.projection.take() else {
            return self.report_without_projection();
        };
        // The projection does not change during a pass: what it asks for is worked out once.
        let want = plan::desired(&p);
        let mut found = self.look().await;
        for _ in 0..MAX_ROUNDS {
            let actions = plan::plan_desired(&want, &found.local);
            if actions.is_empty() || !self.execute(&p, &actions, &mut found, now_ms).await {
                break;
            }
            found = self.look().await;
        }
        let left = plan::plan_desired(&want, &found.local);
        let wanted: BTreeSet<String> = left.iter().map(key).collect();
        self.failures.retain(|k, _| wanted.contains(k));
        let report = self.report(&p, &found, left.is_empty(), now_ms).await;
        self.projection = Some(p);
        report
    }

    async fn look(&mut self) -> Found {
        if let Err(e) = self.drbd.refresh().await {
            tracing::warn!("reading the DRBD state failed: {e}");
        }
        observe(&self.pools, &self.drbd).await
    }

    /// Runs what is due; true if any action ran without error. The devices in `found` follow
    /// the storage actions.
    async fn execute(
        &mut self,
        p: &NodeProjection,
        actions: &[Action],
        found: &mut Found,
        now_ms: u64,
    ) -> bool {
        let mut blocked: BTreeSet<ResourceName> = BTreeSet::new();
        let mut progressed = false;
        for a in actions {
            if blocked.contains(a.rsc()) {
                continue;
            }
            let k = key(a);
            if self.failures.get(&k).is_some_and(|f| f.next_ms > now_ms) {
                blocked.insert(a.rsc().clone());
                continue;
            }
            let mut ctx = Ctx {
                p,
                pools: &self.pools,
                drbd: &mut self.drbd,
                devices: &mut found.devices,
            };
            match ctx.run(a).await {
                Ok(_) => {
                    self.failures.remove(&k);
                    progressed = true;
                }
                Err(e) => {
                    tracing::warn!(rsc = %a.rsc(), "action failed: {e}");
                    self.record(k, a, &e, now_ms);
                    blocked.insert(a.rsc().clone());
                }
            }
        }
        progressed
    }

    fn record(&mut self, k: String, a: &Action, e: &SatError, now_ms: u64) {
        let attempts = self.failures.get(&k).map_or(0, |f| f.report.attempts) + 1;
        let shift = (attempts - 1).min(16);
        let delay = (self.backoff.first_ms << shift).min(self.backoff.max_ms);
        let (command, exit_code, stderr) = e.command().unwrap_or_default();
        let report = ActionFailure {
            rsc: a.rsc().clone(),
            action: serde_json::to_value(a).unwrap_or_default(),
            message: e.to_string(),
            command,
            exit_code,
            stderr,
            attempts,
            retry_in_ms: delay,
        };
        self.failures.insert(
            k,
            Failure {
                report,
                next_ms: now_ms + delay,
            },
        );
    }
}

/// Identity of an action across passes.
fn key(a: &Action) -> String {
    serde_json::to_string(a).unwrap_or_default()
}

impl Reconciler {
    fn report_without_projection(&self) -> SatelliteReport {
        SatelliteReport {
            generation: 0,
            converged: false,
            simulated_drbd: self.drbd.simulated(),
            capabilities: self.caps.clone(),
            ..SatelliteReport::default()
        }
    }

    async fn report(
        &mut self,
        p: &NodeProjection,
        found: &Found,
        plan_empty: bool,
        now_ms: u64,
    ) -> SatelliteReport {
        let mut out = self.report_without_projection();
        out.generation = self.generation;
        out.converged = plan_empty && self.failures.is_empty();
        for ps in &found.pools {
            let r = match &ps.capacity {
                Ok(c) => PoolReport {
                    capacity: Some(*c),
                    error: None,
                },
                Err(e) => PoolReport {
                    capacity: None,
                    error: Some(e.clone()),
                },
            };
            out.pools.insert(ps.pool.clone(), r);
        }
        for (name, rd) in &p.state.resource_definitions {
            let Some(r) = rd.resources.get(&p.node) else {
                continue;
            };
            if r.is_deleting() {
                // Its snapshots may stay on this node (found by the chaos run: an evacuated
                // replica with a snapshot was never confirmed deleted).
                if found
                    .local
                    .resources
                    .get(name)
                    .is_none_or(linstor_core::plan::LocalRsc::replica_gone)
                {
                    out.deleted.push(name.clone());
                }
                continue;
            }
            let mut rr = self.resource_report(p, name, found).await;
            rr.errors = self
                .failures
                .values()
                .filter(|f| &f.report.rsc == name)
                .map(|f| failure_line(&f.report))
                .collect();
            out.resources.insert(name.clone(), rr);
        }
        out.snapshots = taken(p, found);
        out.failures = self
            .failures
            .values()
            .map(|f| {
                let mut r = f.report.clone();
                r.retry_in_ms = f.next_ms.saturating_sub(now_ms);
                r
            })
            .collect();
        out
    }

    async fn resource_report(
        &self,
        p: &NodeProjection,
        rsc: &ResourceName,
        found: &Found,
    ) -> RscObserved {
        let disks = local_disks(p, &self.pools, &found.devices, rsc)
            .await
            .unwrap_or_default();
        let local = found.local.resources.get(rsc);
        let status = self.drbd.status(rsc);
        let drbd_rsc = p.state.resource_definitions.get(rsc).is_some_and(|d| {
            d.layer_stack
                .contains(&linstor_core::model::LayerKind::DRBD)
        });
        let mut volumes = BTreeMap::new();
        let wanted = p
            .state
            .resource_definitions
            .get(rsc)
            .and_then(|d| d.resources.get(&p.node))
            .map(|r| r.volumes.keys().copied().collect::<Vec<_>>())
            .unwrap_or_default();
        for nr in wanted {
            let usable = local
                .and_then(|l| l.volumes.get(&nr))
                .and_then(|c| c.values().next())
                .map_or(0, |s| s.kib());
            let dv = status
                .as_ref()
                .and_then(|s| s.volumes.iter().find(|v| v.volume == nr));
            let disk_state = match (dv, drbd_rsc) {
                (Some(v), _) => v.disk.to_string(),
                (None, true) => "DUnknown".to_owned(),
                (None, false) if usable > 0 => "UpToDate".to_owned(),
                (None, false) => "DUnknown".to_owned(),
            };
            let backing = disks.get(&nr).map(|d| d.device.display().to_string());
            let device_path = match dv.and_then(|v| v.minor) {
                Some(m) => Some(format!("/dev/drbd{m}")),
                None if !drbd_rsc => backing.clone(),
                None => None,
            };
            let replication = dv
                .map(|v| {
                    v.sync
                        .iter()
                        .map(|(peer, repl, done)| {
                            (
                                peer.clone(),
                                ReplicationObserved {
                                    state: repl.to_string(),
                                    done_hundredths: done.map(|d| d.0),
                                },
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            volumes.insert(
                nr,
                VlmObserved {
                    disk_state,
                    device_path,
                    backing_device: backing,
                    usable_kib: usable,
                    allocated_kib: None,
                    replication,
                },
            );
        }
        let mut observed = match &status {
            Some(s) => observed_of(s),
            None => RscObserved {
                in_use: false,
                up_to_date: !drbd_rsc
                    && volumes
                        .values()
                        .all(|v: &VlmObserved| v.disk_state == "UpToDate"),
                established: !drbd_rsc,
                ..RscObserved::default()
            },
        };
        observed.volumes = volumes.into_iter().collect();
        observed.summary = status.map(|s| s.summary());
        observed
    }
}

/// The core's summary of a DRBD status.
fn observed_of(s: &linstor_drbd::state::ResourceStatus) -> RscObserved {
    use linstor_drbd::events2::{ConnState, DiskState, ReplState, Role};
    RscObserved {
        in_use: s.role == Role::Primary,
        up_to_date: s
            .volumes
            .iter()
            .all(|v| v.disk == DiskState::UpToDate || v.disk == DiskState::Diskless),
        established: s.peers.iter().all(|p| {
            p.connection == ConnState::Connected
                && p.volumes
                    .iter()
                    .all(|(_, r, _)| *r == ReplState::Established)
        }),
        quorum: s.quorum,
        connections: s
            .peers
            .iter()
            .map(|p| (p.name.clone(), p.connection.to_string()))
            .collect(),
        ..RscObserved::default()
    }
}

/// The projection's snapshots on this node that exist for every volume.
fn taken(p: &NodeProjection, found: &Found) -> Vec<(ResourceName, linstor_core::SnapshotName)> {
    let mut out = Vec::new();
    for (name, rd) in &p.state.resource_definitions {
        let local = found.local.resources.get(name);
        for (sn, sd) in &rd.snapshots {
            let Some(mine) = sd.snapshots.get(&p.node) else {
                continue;
            };
            let complete = mine
                .volume_pools
                .iter()
                .all(|(nr, pool)| local.is_some_and(|l| l.has_snapshot(sn, *nr, pool)));
            if complete {
                out.push((name.clone(), sn.clone()));
            }
        }
    }
    out
}

/// One failure as a line: the error, and the command with its exit code and stderr.
fn failure_line(f: &ActionFailure) -> String {
    let mut line = format!("{} (attempt {})", f.message, f.attempts);
    if !f.command.is_empty() {
        let exit = f
            .exit_code
            .map_or_else(|| "a signal".to_owned(), |c| format!("exit code {c}"));
        line.push_str(&format!(
            "; `{}` ended with {exit}: {}",
            f.command.join(" "),
            f.stderr.trim()
        ));
    }
    line
}
