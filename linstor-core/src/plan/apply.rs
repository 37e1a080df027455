//! The model of each [`Action`]'s effect on what a node has ([`NodeLocal::apply`]): what the
//! satellite's executors do for real, with the preconditions the tools impose (a snapshot
//! needs its volume, a restore its snapshot in the same pool, a dependent snapshot keeps its
//! volume, `adjust` needs the configuration it applies). The proptests run plans through it.

use std::collections::BTreeSet;

use super::{Action, LocalDrbd, LocalRsc, NodeLocal};
use crate::name::{ResourceName, SnapshotName, StorPoolName};
use crate::size::SizeKib;

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
    /// A volume of a pool with dependent snapshots (ZFS) that still has snapshots.
    #[error("volume {vlm} of '{rsc}' in pool '{pool}' still has snapshots that depend on it")]
    HasSnapshots {
        /// Resource.
        rsc: ResourceName,
        /// Volume.
        vlm: u16,
        /// Pool.
        pool: StorPoolName,
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
    /// an action again changes nothing). `dependent` are the pools whose snapshots depend on
    /// their volume (ZFS; [`super::Desired::dependent`]). Errors say which precondition did not hold.
    pub fn apply(
        &mut self,
        a: &Action,
        dependent: &BTreeSet<StorPoolName>,
    ) -> Result<(), ApplyError> {
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
                let has = self.resources.get(source);
                if !has.is_some_and(|r| r.has_snapshot(snapshot, *vlm, pool)) {
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
                let has_snapshots = self
                    .resources
                    .get(rsc)
                    .is_some_and(|r| r.snapshots.keys().any(|s| r.has_snapshot(s, *vlm, pool)));
                if dependent.contains(pool) && has_snapshots {
                    return Err(ApplyError::HasSnapshots {
                        rsc: rsc.clone(),
                        vlm: *vlm,
                        pool: pool.clone(),
                    });
                }
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
                    .entry(*vlm)
                    .or_default()
                    .insert(pool.clone());
                Ok(())
            }
            Action::DeleteSnapshot {
                rsc,
                snapshot,
                vlm,
                pool,
            } => {
                self.delete_snapshot(rsc, snapshot, *vlm, pool);
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
            Action::CreateMetadata { rsc, vlm, pool } => {
                self.volume_mut(rsc, *vlm, Some(pool))?;
                self.drbd_mut(rsc).metadata.insert(*vlm, pool.clone());
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
                let md = self.drbd_mut(rsc).metadata.get(vlm).cloned();
                self.volume_mut(rsc, *vlm, md.as_ref())?;
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
            if let Some(d) = r.drbd.as_mut()
                && d.metadata.get(&vlm) == Some(pool)
            {
                d.metadata.remove(&vlm);
            }
        }
        self.prune(rsc);
    }

    fn delete_snapshot(
        &mut self,
        rsc: &ResourceName,
        snap: &SnapshotName,
        vlm: u16,
        pool: &StorPoolName,
    ) {
        if let Some(r) = self.resources.get_mut(rsc)
            && let Some(s) = r.snapshots.get_mut(snap)
            && let Some(pools) = s.get_mut(&vlm)
        {
            pools.remove(pool);
            if pools.is_empty() {
                s.remove(&vlm);
            }
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
