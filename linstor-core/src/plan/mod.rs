//! The satellite's plan: what to do on one node so that what exists there matches its
//! [`NodeProjection`].
//!
//! [`plan`] is a pure function of the desired projection and the node's [`NodeLocal`] (what the
//! satellite found on the node: backing volumes, snapshots, DRBD configuration files, metadata
//! and which configuration is applied). It returns [`Action`]s in the order they must run:
//!
//! 1. DRBD down and configuration removal for resources that leave the node (or go inactive);
//! 2. deletions of snapshots no longer wanted;
//! 3. volume creation, and growth of volumes without DRBD;
//! 4. snapshots, of volumes that exist (a snapshot of a volume being created would be empty);
//! 5. volumes restored from snapshots (after the snapshots of step 4 exist);
//! 6. DRBD: the `.res` file, metadata on new backing volumes, `adjust` (which also brings the
//!    resource up), then growth of backing volumes of running resources followed by `drbdadm
//!    resize` (internal metadata sits at the device's end: DRBD moves it only online; a
//!    resource that is down keeps its size until it runs again);
//! 7. deletions of volumes no longer wanted and of copies in other pools (after `adjust` has
//!    detached them), except where dependent snapshots (ZFS) still need them.
//!
//! Every action is idempotent: running it twice is the same as once, so a satellite that
//! crashed halfway plans again from what it finds and goes on. Applying the whole plan and
//! planning again yields nothing ([`NodeLocal::apply`] is the model of each action's effect that
//! the proptests check this with; the satellite's executors perform the same effects for real).
//!
//! Backing volumes of DRBD resources are sized gross: the net size plus DRBD's internal
//! metadata ([`drbd_gross_size`]). Shrinking is never planned: a volume that is larger than
//! wanted (tools round up) is left as it is. Nothing the projection cannot resolve (a volume
//! whose definition or pool is missing) is deleted: it is kept as found.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{LayerKind, ProviderKind, ResourceDefinition, RscFlags, SnapshotDfnFlags};
use crate::name::{ResourceName, SnapshotName, StorPoolName};
use crate::projection::NodeProjection;
use crate::size::SizeKib;

use crate::keys::{RESTORE_FROM_RESOURCE, RESTORE_FROM_SNAPSHOT};

mod apply;
mod size;

pub use apply::ApplyError;
pub use size::{drbd_gross_size, drbd_gross_size_with, drbd_md_size};

/// One snapshot's volumes: per volume number, the pools holding that volume's snapshot (one
/// when wanted; found ones may be in several, like volume copies).
pub type SnapshotCopies = BTreeMap<u16, BTreeSet<StorPoolName>>;

/// The backing volumes of one volume number: size per pool. What a satellite finds may hold a
/// volume in more than one pool (after a crash, or by hand); what is wanted holds exactly one.
pub type Copies = BTreeMap<StorPoolName, SizeKib>;

/// A resource's DRBD state on the node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalDrbd {
    /// Digest ([`NodeProjection::drbd_digest`]) of the `.res` file written, if there is one.
    pub res_file: Option<u64>,
    /// Digest of the configuration applied (`adjust`), if the resource is up.
    pub up: Option<u64>,
    /// Volumes whose backing device carries DRBD metadata, and the pool of that copy.
    #[serde(default)]
    pub metadata: BTreeMap<u16, StorPoolName>,
}

/// One resource's local objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRsc {
    /// Backing volumes by number, then by pool.
    #[serde(default)]
    pub volumes: BTreeMap<u16, Copies>,
    /// Snapshots: per snapshot, the pool of each volume's snapshot.
    #[serde(default)]
    pub snapshots: BTreeMap<SnapshotName, SnapshotCopies>,
    /// DRBD state (`None`: no file, not up, no metadata).
    #[serde(default)]
    pub drbd: Option<LocalDrbd>,
}

impl LocalRsc {
    fn is_empty(&self) -> bool {
        self.volumes.is_empty() && self.snapshots.is_empty() && self.drbd.is_none()
    }

    /// True if nothing of the replica itself is left: no backing volume and no DRBD state.
    /// Snapshots may remain; they belong to their snapshot definition, not to the replica,
    /// so a replica being deleted is gone once this holds.
    pub fn replica_gone(&self) -> bool {
        self.volumes.is_empty() && self.drbd.is_none()
    }

    /// True if volume `nr`'s snapshot `snap` exists in `pool`.
    pub fn has_snapshot(&self, snap: &SnapshotName, nr: u16, pool: &StorPoolName) -> bool {
        self.snapshots
            .get(snap)
            .and_then(|v| v.get(&nr))
            .is_some_and(|pools| pools.contains(pool))
    }

    /// True if volume `nr` exists in `pool`.
    pub fn has_volume(&self, nr: u16, pool: &StorPoolName) -> bool {
        self.volumes.get(&nr).is_some_and(|c| c.contains_key(pool))
    }

    /// The one wanted copy of volume `nr` (desired states hold exactly one).
    fn wanted(&self, nr: u16) -> Option<(&StorPoolName, SizeKib)> {
        self.volumes
            .get(&nr)
            .and_then(|c| c.iter().next())
            .map(|(p, s)| (p, *s))
    }
}

/// What exists on one node, as the satellite found it (or, from [`desired`], should find it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeLocal {
    /// Per resource; resources with nothing local are absent.
    #[serde(default)]
    pub resources: BTreeMap<ResourceName, LocalRsc>,
}

/// One step of a plan. Each is idempotent (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Creates a backing volume of at least `size` KiB.
    CreateVolume {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
        /// Gross size.
        size: SizeKib,
    },
    /// Creates a backing volume from a snapshot of another resource's volume, then grows it to
    /// `size` if the snapshot is smaller. Idempotent as a whole: when the volume exists already
    /// (restored before, perhaps grown), only the growth is done.
    RestoreVolume {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
        /// Gross size.
        size: SizeKib,
        /// Resource the snapshot belongs to.
        source: ResourceName,
        /// Snapshot.
        snapshot: SnapshotName,
    },
    /// Grows a backing volume.
    ResizeVolume {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
        /// New gross size.
        size: SizeKib,
    },
    /// Deletes a backing volume (and the DRBD metadata on it).
    DeleteVolume {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
    },
    /// Takes a snapshot of a volume.
    CreateSnapshot {
        /// Resource.
        rsc: ResourceName,
        /// Snapshot.
        snapshot: SnapshotName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
    },
    /// Deletes a volume's snapshot.
    DeleteSnapshot {
        /// Resource.
        rsc: ResourceName,
        /// Snapshot.
        snapshot: SnapshotName,
        /// Volume number.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
    },
    /// Writes the resource's `.res` file (rendered from the projection), with this digest.
    WriteResFile {
        /// Resource.
        rsc: ResourceName,
        /// [`NodeProjection::drbd_digest`].
        digest: u64,
    },
    /// Writes DRBD metadata on a volume's backing device (`create-md`).
    CreateMetadata {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
        /// Pool of the backing volume.
        pool: StorPoolName,
    },
    /// Applies the written configuration (`drbdadm adjust`; brings the resource up).
    Adjust {
        /// Resource.
        rsc: ResourceName,
        /// Digest of the configuration it applies.
        digest: u64,
    },
    /// Grows a DRBD volume to its grown backing device (`drbdadm resize`).
    DrbdResize {
        /// Resource.
        rsc: ResourceName,
        /// Volume number.
        vlm: u16,
    },
    /// Takes the resource down (`drbdadm down`).
    Down {
        /// Resource.
        rsc: ResourceName,
    },
    /// Removes the resource's `.res` file.
    RemoveResFile {
        /// Resource.
        rsc: ResourceName,
    },
}

impl Action {
    /// The resource the action is about.
    pub fn rsc(&self) -> &ResourceName {
        match self {
            Action::CreateVolume { rsc, .. }
            | Action::RestoreVolume { rsc, .. }
            | Action::ResizeVolume { rsc, .. }
            | Action::DeleteVolume { rsc, .. }
            | Action::CreateSnapshot { rsc, .. }
            | Action::DeleteSnapshot { rsc, .. }
            | Action::WriteResFile { rsc, .. }
            | Action::CreateMetadata { rsc, .. }
            | Action::Adjust { rsc, .. }
            | Action::DrbdResize { rsc, .. }
            | Action::Down { rsc }
            | Action::RemoveResFile { rsc } => rsc,
        }
    }
}

/// What should exist on the projection's node, with what the phases need to know about it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// The local objects.
    pub local: NodeLocal,
    /// Resources restored from a snapshot: the source resource, the snapshot and the volume
    /// numbers it holds (only resources flagged `RESTORE_FROM_SNAPSHOT`).
    pub restore: BTreeMap<ResourceName, Restore>,
    /// Volumes the projection names but cannot resolve (definition or pool missing): what
    /// exists of them is kept, never deleted on a guess.
    pub keep: BTreeSet<(ResourceName, u16)>,
    /// Pools whose snapshots depend on their volume (ZFS): such a volume is not deleted while
    /// it has snapshots.
    pub dependent: BTreeSet<StorPoolName>,
}

/// Where a restored resource's volumes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restore {
    /// The resource the snapshot belongs to.
    pub source: ResourceName,
    /// The snapshot.
    pub snapshot: SnapshotName,
    /// The volume numbers the snapshot holds (others are created empty).
    pub volumes: BTreeSet<u16>,
}

/// The local objects the projection asks for.
pub fn desired(p: &NodeProjection) -> Desired {
    let mut out = Desired::default();
    let pools = p.state.nodes.get(&p.node).map(|n| &n.storage_pools);
    let kind = |pool: &StorPoolName| pools.and_then(|m| m.get(pool)).map(|sp| sp.kind);
    if let Some(pools) = pools {
        let dependent = pools
            .values()
            .filter(|sp| sp.kind.caps().snapshot_dependent);
        out.dependent = dependent.map(|sp| sp.name.clone()).collect();
    }
    for rd in p.state.resource_definitions.values() {
        let mut l = LocalRsc::default();
        if let Some(r) = rd.resources.get(&p.node).filter(|r| !r.is_deleting()) {
            desired_volumes(&mut out, &mut l, rd, r, &kind);
            if rd.layer_stack.contains(&LayerKind::DRBD) {
                let digest = p.drbd_digest(&rd.name);
                let active = !r.flags.contains(RscFlags::INACTIVE);
                let metadata = l
                    .volumes
                    .iter()
                    .filter_map(|(nr, c)| c.keys().next().map(|pool| (*nr, pool.clone())));
                l.drbd = Some(LocalDrbd {
                    res_file: Some(digest),
                    up: active.then_some(digest),
                    metadata: metadata.collect(),
                });
            }
            if r.flags.contains(RscFlags::RESTORE_FROM_SNAPSHOT)
                && let Some(from) = restore_source(p, rd)
            {
                out.restore.insert(rd.name.clone(), from);
            }
        }
        l.snapshots = desired_snapshots(p, rd, &kind);
        if !l.is_empty() {
            out.local.resources.insert(rd.name.clone(), l);
        }
    }
    out
}

/// The backing volumes of a live resource `r` of `rd` on the node (none when diskless).
fn desired_volumes(
    out: &mut Desired,
    l: &mut LocalRsc,
    rd: &ResourceDefinition,
    r: &crate::model::Resource,
    kind: &dyn Fn(&StorPoolName) -> Option<ProviderKind>,
) {
    let drbd = rd.layer_stack.contains(&LayerKind::DRBD);
    for (nr, v) in &r.volumes {
        let (Some(vd), Some(k)) = (rd.volume_definitions.get(nr), kind(&v.storage_pool)) else {
            out.keep.insert((rd.name.clone(), *nr));
            continue;
        };
        if r.is_diskless() || k == ProviderKind::DISKLESS {
            continue;
        }
        let size = if drbd {
            drbd_gross_size(vd.size, rd)
        } else {
            vd.size
        };
        l.volumes
            .insert(*nr, Copies::from([(v.storage_pool.clone(), size)]));
    }
}

/// The node's snapshots of `rd` that are wanted, on pools that take snapshots.
fn desired_snapshots(
    p: &NodeProjection,
    rd: &ResourceDefinition,
    kind: &dyn Fn(&StorPoolName) -> Option<ProviderKind>,
) -> BTreeMap<SnapshotName, SnapshotCopies> {
    let mut out = BTreeMap::new();
    for s in rd.snapshots.values() {
        if s.flags.contains(SnapshotDfnFlags::DELETE) {
            continue;
        }
        let Some(local) = s.snapshots.get(&p.node) else {
            continue;
        };
        let pools: SnapshotCopies = local
            .volume_pools
            .iter()
            .filter(|(_, pool)| kind(pool).is_some_and(|k| k.caps().snapshots))
            .map(|(nr, pool)| (*nr, BTreeSet::from([pool.clone()])))
            .collect();
        if !pools.is_empty() {
            out.insert(s.name.clone(), pools);
        }
    }
    out
}

/// The snapshot a restored definition comes from, with the volumes it holds on this node.
fn restore_source(p: &NodeProjection, rd: &ResourceDefinition) -> Option<Restore> {
    let source = ResourceName::new(rd.props.get(RESTORE_FROM_RESOURCE)?).ok()?;
    let snapshot = SnapshotName::new(rd.props.get(RESTORE_FROM_SNAPSHOT)?).ok()?;
    let volumes = p
        .state
        .resource_definitions
        .get(&source)
        .and_then(|d| d.snapshots.get(&snapshot))
        .and_then(|s| s.snapshots.get(&p.node))
        .map(|s| s.volume_pools.keys().copied().collect())
        .unwrap_or_default();
    Some(Restore {
        source,
        snapshot,
        volumes,
    })
}

/// The actions that make `observed` what `p` asks for, in order (see the module docs).
pub fn plan(p: &NodeProjection, observed: &NodeLocal) -> Vec<Action> {
    plan_desired(&desired(p), observed)
}

/// [`plan`] from the projection's [`desired`] state, for a caller that plans the same
/// projection again and again (the satellite, within a pass): `plan(p, o)` is
/// `plan_desired(&desired(p), o)`.
pub fn plan_desired(want: &Desired, observed: &NodeLocal) -> Vec<Action> {
    let mut steps = Steps::default();
    let names: BTreeSet<&ResourceName> = want
        .local
        .resources
        .keys()
        .chain(observed.resources.keys())
        .collect();
    let empty = LocalRsc::default();
    for rsc in names {
        let r = Rsc {
            name: rsc,
            d: want.local.resources.get(rsc).unwrap_or(&empty),
            o: observed.resources.get(rsc).unwrap_or(&empty),
            want,
        };
        r.plan(&mut steps);
    }
    steps.into_actions()
}

/// The actions of each phase, collected per phase and concatenated at the end.
#[derive(Default)]
struct Steps {
    teardown: Vec<Action>,
    remove: Vec<Action>,
    volumes: Vec<Action>,
    snapshots: Vec<Action>,
    restores: Vec<Action>,
    drbd: Vec<Action>,
    cleanup: Vec<Action>,
}

impl Steps {
    fn into_actions(self) -> Vec<Action> {
        [
            self.teardown,
            self.remove,
            self.volumes,
            self.snapshots,
            self.restores,
            self.drbd,
            self.cleanup,
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

/// One resource: what is wanted (`d`) and what was found (`o`).
struct Rsc<'a> {
    name: &'a ResourceName,
    d: &'a LocalRsc,
    o: &'a LocalRsc,
    want: &'a Desired,
}

impl Rsc<'_> {
    fn plan(&self, steps: &mut Steps) {
        self.teardown(steps);
        self.snapshot_removal(steps);
        let grown = self.volumes(steps);
        self.snapshots(steps);
        self.drbd(steps, &grown);
        self.cleanup(steps);
    }

    fn rsc(&self) -> ResourceName {
        self.name.clone()
    }

    /// True if the resource runs DRBD now and keeps running it.
    fn runs_drbd(&self) -> bool {
        self.d.drbd.as_ref().is_some_and(|d| d.up.is_some())
    }

    /// Phase 1: down and file removal for a resource that should not run or not exist.
    fn teardown(&self, steps: &mut Steps) {
        let Some(od) = &self.o.drbd else {
            return;
        };
        if od.up.is_some() && !self.runs_drbd() {
            steps.teardown.push(Action::Down { rsc: self.rsc() });
        }
        if od.res_file.is_some() && self.d.drbd.is_none() {
            steps
                .teardown
                .push(Action::RemoveResFile { rsc: self.rsc() });
        }
    }

    /// Phase 2: snapshots not wanted (or in another pool) — but not one a restored volume of a
    /// dependent pool (ZFS clone) still hangs on.
    fn snapshot_removal(&self, steps: &mut Steps) {
        for (snap, vols) in &self.o.snapshots {
            for (nr, pools) in vols {
                for pool in pools {
                    if self.d.has_snapshot(snap, *nr, pool) || self.has_clone(snap, *nr, pool) {
                        continue;
                    }
                    steps.remove.push(Action::DeleteSnapshot {
                        rsc: self.rsc(),
                        snapshot: snap.clone(),
                        vlm: *nr,
                        pool: pool.clone(),
                    });
                }
            }
        }
    }

    /// True if a wanted resource was restored from this snapshot into a dependent pool.
    fn has_clone(&self, snap: &SnapshotName, nr: u16, pool: &StorPoolName) -> bool {
        self.want.dependent.contains(pool)
            && self.want.restore.iter().any(|(target, r)| {
                &r.source == self.name
                    && &r.snapshot == snap
                    && self
                        .want
                        .local
                        .resources
                        .get(target)
                        .is_some_and(|t| t.has_volume(nr, pool))
            })
    }

    /// Phases 3 and 5: creation and restore of missing volumes; growth of volumes without
    /// DRBD. Returns the DRBD volumes to grow in phase 6.
    fn volumes(&self, steps: &mut Steps) -> Vec<(u16, StorPoolName, SizeKib)> {
        let mut grow = Vec::new();
        for nr in self.d.volumes.keys() {
            let Some((pool, size)) = self.d.wanted(*nr) else {
                continue;
            };
            match self.o.volumes.get(nr).and_then(|c| c.get(pool)) {
                Some(have) if have.0 < size.0 => {
                    if self.d.drbd.is_none() {
                        steps.volumes.push(self.resize(*nr, pool, size));
                    } else if self.runs_drbd() {
                        grow.push((*nr, pool.clone(), size));
                    }
                }
                Some(_) => {}
                None => self.new_volume(steps, *nr, pool, size),
            }
        }
        grow
    }

    fn resize(&self, vlm: u16, pool: &StorPoolName, size: SizeKib) -> Action {
        Action::ResizeVolume {
            rsc: self.rsc(),
            vlm,
            pool: pool.clone(),
            size,
        }
    }

    /// A volume that does not exist yet: restored from the resource's snapshot (phase 5, once
    /// the snapshots exist; a snapshot that is not there fails the restore visibly rather than
    /// giving an empty volume), else created empty (phase 3).
    fn new_volume(&self, steps: &mut Steps, vlm: u16, pool: &StorPoolName, size: SizeKib) {
        let (rsc, pool) = (self.rsc(), pool.clone());
        match self
            .want
            .restore
            .get(self.name)
            .filter(|r| r.volumes.contains(&vlm))
        {
            Some(r) => steps.restores.push(Action::RestoreVolume {
                rsc,
                vlm,
                pool,
                size,
                source: r.source.clone(),
                snapshot: r.snapshot.clone(),
            }),
            None => steps.volumes.push(Action::CreateVolume {
                rsc,
                vlm,
                pool,
                size,
            }),
        }
    }

    /// Phase 4: snapshots wanted and missing, of volumes that exist now in that pool (one of
    /// a volume created in this plan would be empty; a snapshot whose volume is gone cannot
    /// be taken any more).
    fn snapshots(&self, steps: &mut Steps) {
        for (snap, vols) in &self.d.snapshots {
            for (nr, pools) in vols {
                for pool in pools {
                    if self.o.has_snapshot(snap, *nr, pool) || !self.o.has_volume(*nr, pool) {
                        continue;
                    }
                    steps.snapshots.push(Action::CreateSnapshot {
                        rsc: self.rsc(),
                        snapshot: snap.clone(),
                        vlm: *nr,
                        pool: pool.clone(),
                    });
                }
            }
        }
    }

    /// Phase 6: configuration file, metadata, adjust, then online growth.
    fn drbd(&self, steps: &mut Steps, grow: &[(u16, StorPoolName, SizeKib)]) {
        let Some(dd) = &self.d.drbd else {
            return;
        };
        let od = self.o.drbd.clone().unwrap_or_default();
        if od.res_file != dd.res_file {
            let digest = dd.res_file.unwrap_or_default();
            steps.drbd.push(Action::WriteResFile {
                rsc: self.rsc(),
                digest,
            });
        }
        let mut new_md = false;
        for (nr, pool) in &dd.metadata {
            if od.metadata.get(nr) != Some(pool) || !self.o.has_volume(*nr, pool) {
                new_md = true;
                steps.drbd.push(Action::CreateMetadata {
                    rsc: self.rsc(),
                    vlm: *nr,
                    pool: pool.clone(),
                });
            }
        }
        let Some(up) = dd.up else {
            return;
        };
        if od.up != Some(up) || new_md {
            steps.drbd.push(Action::Adjust {
                rsc: self.rsc(),
                digest: up,
            });
        }
        for (nr, pool, size) in grow {
            steps.drbd.push(self.resize(*nr, pool, *size));
            steps.drbd.push(Action::DrbdResize {
                rsc: self.rsc(),
                vlm: *nr,
            });
        }
    }

    /// Phase 7: copies not wanted, unless unresolved (kept as found) or a dependent pool's
    /// volume that still has snapshots.
    fn cleanup(&self, steps: &mut Steps) {
        for (nr, copies) in &self.o.volumes {
            if self.want.keep.contains(&(self.name.clone(), *nr)) {
                continue;
            }
            let wanted = self.d.wanted(*nr).map(|(p, _)| p);
            for pool in copies.keys().filter(|p| Some(*p) != wanted) {
                let snapshots_left =
                    self.want.dependent.contains(pool) && self.snapshots_after(*nr, pool);
                if !snapshots_left {
                    steps.cleanup.push(Action::DeleteVolume {
                        rsc: self.rsc(),
                        vlm: *nr,
                        pool: pool.clone(),
                    });
                }
            }
        }
    }

    /// True if volume `nr` in `pool` still has snapshots once phase 2 has run.
    fn snapshots_after(&self, nr: u16, pool: &StorPoolName) -> bool {
        self.o.snapshots.keys().any(|snap| {
            self.o.has_snapshot(snap, nr, pool)
                && (self.d.has_snapshot(snap, nr, pool) || self.has_clone(snap, nr, pool))
        })
    }
}

#[cfg(test)]
mod tests;
