//! The satellite's plan: what to do on one node so that what exists there matches its
//! [`NodeProjection`].
//!
//! [`plan`] is a pure function of the desired projection and the node's [`NodeLocal`] (what the
//! satellite found on the node: backing volumes, snapshots, DRBD configuration files, metadata
//! and which configuration is applied). It returns [`Action`]s in the order they must run:
//!
//! 1. DRBD down and configuration removal for resources that leave the node (or go inactive);
//! 2. snapshot deletions, and deletions of volumes that sit in the wrong pool;
//! 3. volume creation and growth;
//! 4. snapshots;
//! 5. volumes restored from snapshots (after the snapshots of step 4 exist);
//! 6. DRBD: the `.res` file, metadata on new backing volumes, `adjust` (which also brings the
//!    resource up), `resize` of grown volumes;
//! 7. deletions of volumes no longer wanted (after `adjust` has detached them).
//!
//! Every action is idempotent: running it twice is the same as once, so a satellite that
//! crashed halfway plans again from what it finds and goes on. Applying the whole plan and
//! planning again yields nothing ([`NodeLocal::apply`] is the model of each action's effect that
//! the proptests check this with; the satellite's executors perform the same effects for real).
//!
//! Backing volumes of DRBD resources are sized gross: the net size plus DRBD's internal
//! metadata ([`drbd_gross_size`]). Shrinking is never planned: a volume that is larger than
//! wanted (tools round up) is left as it is.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{LayerKind, ProviderKind, ResourceDefinition, RscFlags, SnapshotDfnFlags};
use crate::name::{ResourceName, SnapshotName, StorPoolName};
use crate::projection::NodeProjection;
use crate::size::SizeKib;

use crate::keys::{RESTORE_FROM_RESOURCE, RESTORE_FROM_SNAPSHOT};

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
    /// Volumes whose backing device carries DRBD metadata.
    pub metadata: BTreeSet<u16>,
}

/// One resource's local objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalRsc {
    /// Backing volumes by number, then by pool.
    #[serde(default)]
    pub volumes: BTreeMap<u16, Copies>,
    /// Snapshots: per snapshot, the pool of each volume's snapshot.
    #[serde(default)]
    pub snapshots: BTreeMap<SnapshotName, BTreeMap<u16, StorPoolName>>,
    /// DRBD state (`None`: no file, not up, no metadata).
    #[serde(default)]
    pub drbd: Option<LocalDrbd>,
}

impl LocalRsc {
    fn is_empty(&self) -> bool {
        self.volumes.is_empty() && self.snapshots.is_empty() && self.drbd.is_none()
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

/// DRBD's internal metadata (format v09) on a backing device of `device` KiB, KiB: the bitmap
/// (one bit per 4 KiB of the whole device, rounded up to 64 bits, for each of `peers` slots,
/// the area rounded up to 4 KiB), the activity log (`al_stripes` × `al_stripe_size_kib`,
/// default 1 × 32 KiB) and the 4 KiB superblock — the layout `drbdmeta create-md` writes
/// (checked against the real drbdmeta in `linstor-drbd/tests/real_drbdmeta.rs`).
pub fn drbd_md_size(
    device: SizeKib,
    peers: u8,
    al_stripes: u32,
    al_stripe_size_kib: u32,
) -> SizeKib {
    let bits = device.0.div_ceil(4).next_multiple_of(64);
    let bitmap_bytes = bits / 8 * u64::from(peers.max(1));
    let bitmap = bitmap_bytes.div_ceil(4096) * 4;
    let al = u64::from(al_stripes.max(1)) * u64::from(al_stripe_size_kib.max(32));
    SizeKib(bitmap + al + 4)
}

/// The backing size of a DRBD volume of `rd` with internal metadata: [`drbd_gross_size_with`]
/// for its peer slots and activity log.
pub fn drbd_gross_size(net: SizeKib, rd: &ResourceDefinition) -> SizeKib {
    let d = &rd.drbd;
    drbd_gross_size_with(net, d.peer_slots, d.al_stripes, d.al_stripe_size_kib)
}

/// The smallest backing device that leaves `net` KiB of data beside DRBD's internal metadata
/// ([`drbd_md_size`] grows with the device, so this iterates to the least fixed point; two or
/// three rounds).
pub fn drbd_gross_size_with(net: SizeKib, peers: u8, al_stripes: u32, al_kib: u32) -> SizeKib {
    let md = |device: u64| drbd_md_size(SizeKib(device), peers, al_stripes, al_kib).0;
    let mut device = net.0.saturating_add(md(net.0));
    loop {
        let need = net.0.saturating_add(md(device));
        if need <= device {
            return SizeKib(device);
        }
        device = need;
    }
}

/// What should exist on the projection's node, and where restored volumes come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// The local objects.
    pub local: NodeLocal,
    /// Definitions restored from a snapshot: (source resource, snapshot).
    pub restore: BTreeMap<ResourceName, (ResourceName, SnapshotName)>,
}

/// The local objects the projection asks for.
pub fn desired(p: &NodeProjection) -> Desired {
    let mut out = Desired::default();
    let pool_kind = |pool: &StorPoolName| {
        p.state
            .nodes
            .get(&p.node)
            .and_then(|n| n.storage_pools.get(pool))
            .map(|sp| sp.kind)
    };
    for rd in p.state.resource_definitions.values() {
        let mut l = LocalRsc::default();
        let drbd = rd.layer_stack.contains(&LayerKind::DRBD);
        if let Some(r) = rd.resources.get(&p.node).filter(|r| !r.is_deleting()) {
            let diskful = !r.is_diskless();
            for (nr, v) in &r.volumes {
                let (Some(vd), Some(kind)) =
                    (rd.volume_definitions.get(nr), pool_kind(&v.storage_pool))
                else {
                    continue;
                };
                if diskful && kind != ProviderKind::DISKLESS {
                    let size = if drbd {
                        drbd_gross_size(vd.size, rd)
                    } else {
                        vd.size
                    };
                    let pool = v.storage_pool.clone();
                    l.volumes.insert(*nr, Copies::from([(pool, size)]));
                }
            }
            if drbd {
                let digest = p.drbd_digest(&rd.name);
                let active = !r.flags.contains(RscFlags::INACTIVE);
                l.drbd = Some(LocalDrbd {
                    res_file: Some(digest),
                    up: active.then_some(digest),
                    metadata: l.volumes.keys().copied().collect(),
                });
            }
            if let (Some(src), Some(snap)) = (
                rd.props.get(RESTORE_FROM_RESOURCE),
                rd.props.get(RESTORE_FROM_SNAPSHOT),
            ) && let (Ok(src), Ok(snap)) = (ResourceName::new(src), SnapshotName::new(snap))
            {
                out.restore.insert(rd.name.clone(), (src, snap));
            }
        }
        for s in rd.snapshots.values() {
            if s.flags.contains(SnapshotDfnFlags::DELETE) {
                continue;
            }
            let Some(local) = s.snapshots.get(&p.node) else {
                continue;
            };
            let pools: BTreeMap<u16, StorPoolName> = local
                .volume_pools
                .iter()
                .filter(|(_, pool)| pool_kind(pool).is_some_and(|k| k.caps().snapshots))
                .map(|(nr, pool)| (*nr, pool.clone()))
                .collect();
            if !pools.is_empty() {
                l.snapshots.insert(s.name.clone(), pools);
            }
        }
        if !l.is_empty() {
            out.local.resources.insert(rd.name.clone(), l);
        }
    }
    out
}

/// The actions that make `observed` what `p` asks for, in order (see the module docs).
pub fn plan(p: &NodeProjection, observed: &NodeLocal) -> Vec<Action> {
    let want = desired(p);
    let mut steps = Steps::default();
    let names: BTreeSet<&ResourceName> = want
        .local
        .resources
        .keys()
        .chain(observed.resources.keys())
        .collect();
    let empty = LocalRsc::default();
    for rsc in names {
        let d = want.local.resources.get(rsc).unwrap_or(&empty);
        let o = observed.resources.get(rsc).unwrap_or(&empty);
        let restore = want.restore.get(rsc);
        plan_rsc(&mut steps, rsc, d, o, restore);
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
    /// A volume that does not exist yet: restored from the definition's snapshot (phase 5, once
    /// the snapshots exist; a snapshot that is not there fails the restore visibly rather than
    /// giving an empty volume), else created empty (phase 3).
    fn volumes_new(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
        size: SizeKib,
        restore: Option<&(ResourceName, SnapshotName)>,
    ) {
        let (rsc, pool) = (rsc.clone(), pool.clone());
        match restore {
            Some((source, snapshot)) => self.restores.push(Action::RestoreVolume {
                rsc,
                vlm,
                pool,
                size,
                source: source.clone(),
                snapshot: snapshot.clone(),
            }),
            None => self.volumes.push(Action::CreateVolume {
                rsc,
                vlm,
                pool,
                size,
            }),
        }
    }

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

/// One resource's actions, into their phases.
fn plan_rsc(
    steps: &mut Steps,
    rsc: &ResourceName,
    d: &LocalRsc,
    o: &LocalRsc,
    restore: Option<&(ResourceName, SnapshotName)>,
) {
    plan_teardown(steps, rsc, d, o);
    plan_snapshot_removal(steps, rsc, d, o);
    let grown = plan_volumes(steps, rsc, d, o, restore);
    plan_snapshots(steps, rsc, d, o);
    plan_drbd(steps, rsc, d, o, &grown);
    for (nr, copies) in &o.volumes {
        if !d.volumes.contains_key(nr) {
            for pool in copies.keys() {
                steps.cleanup.push(Action::DeleteVolume {
                    rsc: rsc.clone(),
                    vlm: *nr,
                    pool: pool.clone(),
                });
            }
        }
    }
}

/// Phase 1: down and file removal for a resource that should not run or not exist.
fn plan_teardown(steps: &mut Steps, rsc: &ResourceName, d: &LocalRsc, o: &LocalRsc) {
    let Some(od) = &o.drbd else {
        return;
    };
    let dd = d.drbd.as_ref();
    if od.up.is_some() && dd.is_none_or(|dd| dd.up.is_none()) {
        steps.teardown.push(Action::Down { rsc: rsc.clone() });
    }
    if od.res_file.is_some() && dd.is_none() {
        steps
            .teardown
            .push(Action::RemoveResFile { rsc: rsc.clone() });
    }
}

/// Phase 2: snapshots not wanted (or in another pool).
fn plan_snapshot_removal(steps: &mut Steps, rsc: &ResourceName, d: &LocalRsc, o: &LocalRsc) {
    for (snap, vols) in &o.snapshots {
        let wanted = d.snapshots.get(snap);
        for (nr, pool) in vols {
            if wanted.and_then(|w| w.get(nr)) != Some(pool) {
                steps.remove.push(Action::DeleteSnapshot {
                    rsc: rsc.clone(),
                    snapshot: snap.clone(),
                    vlm: *nr,
                    pool: pool.clone(),
                });
            }
        }
    }
}

/// Phases 2, 3 and 5 for volumes: copies in other pools removed first, then creation, restore
/// and growth. Returns the volumes that grow (DRBD resizes them in phase 6).
fn plan_volumes(
    steps: &mut Steps,
    rsc: &ResourceName,
    d: &LocalRsc,
    o: &LocalRsc,
    restore: Option<&(ResourceName, SnapshotName)>,
) -> Vec<u16> {
    let mut grown = Vec::new();
    let none = Copies::new();
    for nr in d.volumes.keys() {
        let Some((pool, size)) = d.wanted(*nr) else {
            continue;
        };
        let have = o.volumes.get(nr).unwrap_or(&none);
        for other in have.keys().filter(|p| *p != pool) {
            steps.remove.push(Action::DeleteVolume {
                rsc: rsc.clone(),
                vlm: *nr,
                pool: other.clone(),
            });
        }
        match have.get(pool) {
            Some(existing) if existing.0 < size.0 => {
                grown.push(*nr);
                steps.volumes.push(Action::ResizeVolume {
                    rsc: rsc.clone(),
                    vlm: *nr,
                    pool: pool.clone(),
                    size,
                });
            }
            Some(_) => {}
            None => steps.volumes_new(rsc, *nr, pool, size, restore),
        }
    }
    grown
}

/// True if `local` has the snapshot of volume `nr`.
fn snapshot_available(local: &NodeLocal, rsc: &ResourceName, snap: &SnapshotName, nr: u16) -> bool {
    local
        .resources
        .get(rsc)
        .and_then(|r| r.snapshots.get(snap))
        .is_some_and(|v| v.contains_key(&nr))
}

/// Phase 4: snapshots wanted and missing, of volumes that exist or are being created (a
/// snapshot of a volume that is gone cannot be taken any more).
fn plan_snapshots(steps: &mut Steps, rsc: &ResourceName, d: &LocalRsc, o: &LocalRsc) {
    for (snap, vols) in &d.snapshots {
        let have = o.snapshots.get(snap);
        for (nr, pool) in vols {
            if have.and_then(|h| h.get(nr)) == Some(pool) {
                continue;
            }
            let in_pool =
                d.has_volume(*nr, pool) || (o.has_volume(*nr, pool) && !d.volumes.contains_key(nr));
            if in_pool {
                steps.snapshots.push(Action::CreateSnapshot {
                    rsc: rsc.clone(),
                    snapshot: snap.clone(),
                    vlm: *nr,
                    pool: pool.clone(),
                });
            }
        }
    }
}

/// Phase 6: configuration file, metadata, adjust and resize.
fn plan_drbd(steps: &mut Steps, rsc: &ResourceName, d: &LocalRsc, o: &LocalRsc, grown: &[u16]) {
    let Some(dd) = &d.drbd else {
        return;
    };
    let od = o.drbd.clone().unwrap_or_default();
    // Metadata is kept only where the volume stays as it is: its one copy, in the wanted pool
    // (a copy elsewhere is deleted first and may have carried it).
    fn pools<'a>(l: &'a LocalRsc, nr: &u16) -> Option<Vec<&'a StorPoolName>> {
        l.volumes.get(nr).map(|c| c.keys().collect())
    }
    let kept = |nr: &u16| od.metadata.contains(nr) && pools(o, nr) == pools(d, nr);
    let digest = dd.res_file.unwrap_or_default();
    let file_changed = od.res_file != dd.res_file;
    if file_changed {
        steps.drbd.push(Action::WriteResFile {
            rsc: rsc.clone(),
            digest,
        });
    }
    for nr in &dd.metadata {
        if !kept(nr) {
            steps.drbd.push(Action::CreateMetadata {
                rsc: rsc.clone(),
                vlm: *nr,
            });
        }
    }
    let Some(up) = dd.up else {
        return;
    };
    if od.up != Some(up) || dd.metadata.iter().any(|nr| !kept(nr)) {
        steps.drbd.push(Action::Adjust {
            rsc: rsc.clone(),
            digest: up,
        });
    }
    if od.up.is_some() {
        for nr in grown {
            steps.drbd.push(Action::DrbdResize {
                rsc: rsc.clone(),
                vlm: *nr,
            });
        }
    }
}

/// Why an action could not be applied to a [`NodeLocal`] (a plan in the wrong order, or an
/// action that does not fit what exists).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The action needs a volume that does not exist.
    #[error("volume {vlm} of '{rsc}' does not exist")]
    NoVolume {
        /// Resource.
        rsc: ResourceName,
        /// Volume.
        vlm: u16,
    },
    /// A volume exists already in that pool, smaller than asked (tools refuse to create over it).
    #[error("volume {vlm} of '{rsc}' exists already in pool '{pool}' with another size")]
    VolumeExists {
        /// Resource.
        rsc: ResourceName,
        /// Volume.
        vlm: u16,
        /// Its pool.
        pool: StorPoolName,
    },
    /// A restore from a snapshot that does not exist.
    #[error("snapshot '{snapshot}' of '{rsc}' volume {vlm} does not exist")]
    NoSnapshot {
        /// Resource.
        rsc: ResourceName,
        /// Snapshot.
        snapshot: SnapshotName,
        /// Volume.
        vlm: u16,
    },
    /// `adjust` without the matching configuration file.
    #[error("cannot adjust '{rsc}': {reason}")]
    NotReady {
        /// Resource.
        rsc: ResourceName,
        /// Why.
        reason: String,
    },
}

impl NodeLocal {
    /// The effect of one action, as the satellite's executors perform it (idempotent: applying
    /// an action again changes nothing). Errors say which precondition did not hold.
    pub fn apply(&mut self, a: &Action) -> Result<(), ApplyError> {
        match a {
            Action::CreateVolume {
                rsc,
                vlm,
                pool,
                size,
            } => self.put_volume(rsc, *vlm, pool, *size),
            Action::RestoreVolume {
                rsc,
                vlm,
                pool,
                size,
                source,
                snapshot,
            } => {
                if !snapshot_available(self, source, snapshot, *vlm) {
                    return Err(ApplyError::NoSnapshot {
                        rsc: source.clone(),
                        snapshot: snapshot.clone(),
                        vlm: *vlm,
                    });
                }
                self.put_volume(rsc, *vlm, pool, *size)
            }
            Action::ResizeVolume {
                rsc,
                vlm,
                pool,
                size,
            } => {
                let v = self.volume_mut(rsc, *vlm, Some(pool))?;
                *v = SizeKib(v.0.max(size.0));
                Ok(())
            }
            Action::DeleteVolume { rsc, vlm, pool } => {
                self.delete_volume(rsc, *vlm, pool);
                Ok(())
            }
            Action::CreateSnapshot {
                rsc,
                snapshot,
                vlm,
                pool,
            } => {
                self.volume_mut(rsc, *vlm, Some(pool))?;
                self.rsc_mut(rsc)
                    .snapshots
                    .entry(snapshot.clone())
                    .or_default()
                    .insert(*vlm, pool.clone());
                Ok(())
            }
            Action::DeleteSnapshot {
                rsc, snapshot, vlm, ..
            } => {
                self.delete_snapshot(rsc, snapshot, *vlm);
                Ok(())
            }
            Action::WriteResFile { .. }
            | Action::CreateMetadata { .. }
            | Action::Adjust { .. }
            | Action::DrbdResize { .. }
            | Action::Down { .. }
            | Action::RemoveResFile { .. } => self.apply_drbd(a),
        }
    }

    /// The DRBD actions of [`NodeLocal::apply`] (storage actions are no-ops here).
    fn apply_drbd(&mut self, a: &Action) -> Result<(), ApplyError> {
        match a {
            Action::WriteResFile { rsc, digest } => {
                self.drbd_mut(rsc).res_file = Some(*digest);
            }
            Action::CreateMetadata { rsc, vlm } => {
                self.volume_mut(rsc, *vlm, None)?;
                self.drbd_mut(rsc).metadata.insert(*vlm);
            }
            Action::Adjust { rsc, digest } => {
                let r = self.rsc_mut(rsc);
                let not_ready = |reason: String| ApplyError::NotReady {
                    rsc: rsc.clone(),
                    reason,
                };
                let d = r.drbd.get_or_insert_default();
                if d.res_file != Some(*digest) {
                    return Err(not_ready("the configuration file differs".into()));
                }
                d.up = Some(*digest);
            }
            Action::DrbdResize { rsc, vlm } => {
                self.volume_mut(rsc, *vlm, None)?;
            }
            Action::Down { rsc } => {
                if let Some(d) = self.rsc_mut(rsc).drbd.as_mut() {
                    d.up = None;
                }
                self.prune(rsc);
            }
            Action::RemoveResFile { rsc } => {
                let r = self.rsc_mut(rsc);
                if r.drbd.as_ref().is_some_and(|d| d.up.is_none()) {
                    r.drbd = None;
                }
                self.prune(rsc);
            }
            _ => {}
        }
        Ok(())
    }

    fn rsc_mut(&mut self, rsc: &ResourceName) -> &mut LocalRsc {
        self.resources.entry(rsc.clone()).or_default()
    }

    fn drbd_mut(&mut self, rsc: &ResourceName) -> &mut LocalDrbd {
        self.rsc_mut(rsc).drbd.get_or_insert_default()
    }

    /// Volume `vlm` of `rsc` in `pool` (or in its only pool when `None`).
    fn volume_mut(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: Option<&StorPoolName>,
    ) -> Result<&mut SizeKib, ApplyError> {
        let copies = self
            .resources
            .get_mut(rsc)
            .and_then(|r| r.volumes.get_mut(&vlm));
        let found = copies.and_then(|c| match pool {
            Some(p) => c.get_mut(p),
            None if c.len() == 1 => c.values_mut().next(),
            None => None,
        });
        found.ok_or_else(|| ApplyError::NoVolume {
            rsc: rsc.clone(),
            vlm,
        })
    }

    fn put_volume(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
        size: SizeKib,
    ) -> Result<(), ApplyError> {
        let copies = self.rsc_mut(rsc).volumes.entry(vlm).or_default();
        match copies.get(pool) {
            Some(have) if have.0 >= size.0 => Ok(()),
            Some(_) => Err(ApplyError::VolumeExists {
                rsc: rsc.clone(),
                vlm,
                pool: pool.clone(),
            }),
            None => {
                copies.insert(pool.clone(), size);
                Ok(())
            }
        }
    }

    fn delete_volume(&mut self, rsc: &ResourceName, vlm: u16, pool: &StorPoolName) {
        if let Some(r) = self.resources.get_mut(rsc)
            && let Some(copies) = r.volumes.get_mut(&vlm)
            && copies.remove(pool).is_some()
        {
            if copies.is_empty() {
                r.volumes.remove(&vlm);
            }
            if let Some(d) = r.drbd.as_mut() {
                d.metadata.remove(&vlm);
            }
        }
        self.prune(rsc);
    }

    fn delete_snapshot(&mut self, rsc: &ResourceName, snap: &SnapshotName, vlm: u16) {
        if let Some(r) = self.resources.get_mut(rsc)
            && let Some(s) = r.snapshots.get_mut(snap)
        {
            s.remove(&vlm);
            if s.is_empty() {
                r.snapshots.remove(snap);
            }
        }
        self.prune(rsc);
    }

    /// Drops a resource entry with nothing left in it.
    fn prune(&mut self, rsc: &ResourceName) {
        if self.resources.get(rsc).is_some_and(LocalRsc::is_empty) {
            self.resources.remove(rsc);
        }
    }
}

#[cfg(test)]
mod tests;
