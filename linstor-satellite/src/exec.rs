//! Executing one [`Action`] of the core's plan on this node: storage actions through the
//! pool's provider, DRBD actions through the [`DrbdLayer`]. Every action is idempotent (the
//! providers and drbd-utils wrappers say which way each went), so a pass that crashed midway is
//! simply planned and run again.
//!
//! The backing devices DRBD actions need come from [`Devices`]: the pass's last listing, kept
//! current by the storage actions (a create or restore records the device it attached, a
//! delete removes it), so no action lists a pool again; only a pool whose listing failed is
//! asked per volume.

use std::collections::BTreeMap;

use linstor_backends::naming::VolumeId;
use linstor_backends::provider::{DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_core::plan::Action;
use linstor_core::projection::NodeProjection;
use linstor_core::{ResourceName, SizeKib, SnapshotName, StorPoolName};

use crate::drbd::{DrbdLayer, LocalDisk};
use crate::error::SatError;
use crate::observe::{Devices, Known};
use crate::pools::Pools;

/// What an action did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// It changed something.
    Changed,
    /// Everything was already as asked.
    AlreadyDone,
}

fn done(changed: bool) -> Done {
    if changed {
        Done::Changed
    } else {
        Done::AlreadyDone
    }
}

/// The node an action runs on.
#[derive(Debug)]
pub struct Ctx<'a> {
    /// The desired state.
    pub p: &'a NodeProjection,
    /// Its pools.
    pub pools: &'a Pools,
    /// Its DRBD layer.
    pub drbd: &'a mut DrbdLayer,
    /// The devices of its volumes (updated by the storage actions).
    pub devices: &'a mut Devices,
}

impl<'a> Ctx<'a> {
    fn provider(&self, pool: &StorPoolName) -> Result<&'a dyn StorageProvider, SatError> {
        let p = self.pools.get(pool).ok_or_else(|| SatError::Pool {
            pool: pool.to_string(),
            reason: "the node has no such pool".to_owned(),
        })?;
        match &p.provider {
            Ok(p) => Ok(p.as_ref()),
            Err(reason) => Err(SatError::Pool {
                pool: pool.to_string(),
                reason: reason.clone(),
            }),
        }
    }

    /// The backing devices of the resource's local volumes (those that exist).
    pub async fn disks(&self, rsc: &ResourceName) -> Result<BTreeMap<u16, LocalDisk>, SatError> {
        local_disks(self.p, self.pools, self.devices, rsc).await
    }

    /// Runs one action. One exhaustive match: a new kind of action does not compile until it
    /// is routed here.
    pub async fn run(&mut self, a: &Action) -> Result<Done, SatError> {
        match a {
            Action::CreateVolume {
                rsc,
                vlm,
                pool,
                size,
            } => self.create_volume(rsc, *vlm, pool, *size).await,
            Action::RestoreVolume {
                rsc,
                vlm,
                pool,
                size,
                source,
                snapshot,
            } => {
                self.restore_volume(rsc, *vlm, pool, *size, (source, snapshot))
                    .await
            }
            Action::ResizeVolume {
                rsc,
                vlm,
                pool,
                size,
            } => self.resize_volume(rsc, *vlm, pool, *size).await,
            Action::DeleteVolume { rsc, vlm, pool } => self.delete_volume(rsc, *vlm, pool).await,
            Action::CreateSnapshot {
                rsc,
                snapshot,
                vlm,
                pool,
            } => {
                let id = VolumeId::new(rsc.clone(), *vlm)?;
                let out = self.provider(pool)?.create_snapshot(&id, snapshot).await?;
                Ok(done(out.is_changed()))
            }
            Action::DeleteSnapshot {
                rsc,
                snapshot,
                vlm,
                pool,
            } => {
                let id = VolumeId::new(rsc.clone(), *vlm)?;
                let out = self.provider(pool)?.delete_snapshot(&id, snapshot).await?;
                Ok(done(out == DeleteOutcome::Deleted))
            }
            Action::WriteResFile { rsc, digest } => {
                let disks = self.disks(rsc).await?;
                self.drbd.write_res(self.p, rsc, *digest, &disks).await?;
                Ok(Done::Changed)
            }
            Action::CreateMetadata { rsc, vlm, .. } => {
                let disks = self.disks(rsc).await?;
                self.drbd.create_md(self.p, rsc, *vlm, &disks).await?;
                Ok(Done::Changed)
            }
            Action::Adjust { rsc, digest } => {
                let disks = self.disks(rsc).await?;
                self.drbd.adjust(self.p, rsc, *digest, &disks).await?;
                Ok(Done::Changed)
            }
            Action::DrbdResize { rsc, vlm } => {
                let disks = self.disks(rsc).await?;
                let thin = disks.get(vlm).is_some_and(|d| d.kind.caps().thin);
                self.drbd.resize(self.p, rsc, *vlm, thin).await?;
                Ok(Done::Changed)
            }
            Action::Down { rsc } => {
                self.drbd.down(self.p, rsc).await?;
                Ok(Done::Changed)
            }
            Action::RemoveResFile { rsc } => {
                self.drbd.remove_res(rsc)?;
                Ok(Done::Changed)
            }
        }
    }

    async fn create_volume(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
        size: SizeKib,
    ) -> Result<Done, SatError> {
        let id = VolumeId::new(rsc.clone(), vlm)?;
        let out = self.provider(pool)?.create_volume(&id, size).await?;
        self.devices.set(pool, &id, out.info().device_path.clone());
        Ok(done(out.is_changed()))
    }

    /// Restores `snapshot` of `source` into a new volume (restored before and perhaps grown
    /// since: only the growth is left).
    async fn restore_volume(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
        size: SizeKib,
        (source, snapshot): (&ResourceName, &SnapshotName),
    ) -> Result<Done, SatError> {
        let prov = self.provider(pool)?;
        let from = VolumeId::new(source.clone(), vlm)?;
        let to = VolumeId::new(rsc.clone(), vlm)?;
        let existing = prov.list_volumes().await?;
        let (restored, have, device) = match existing.iter().find(|v| v.id == to) {
            Some(v) => (false, v.size, v.device_path.clone()),
            None => {
                let out = prov.restore_snapshot(&from, snapshot, &to).await?;
                let info = out.info();
                (out.is_changed(), info.size, info.device_path.clone())
            }
        };
        self.devices.set(pool, &to, device);
        let grown = if have < size {
            let r = prov.resize_volume(&to, size).await?;
            matches!(r, ResizeOutcome::Resized { .. })
        } else {
            false
        };
        Ok(done(restored || grown))
    }

    async fn resize_volume(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
        size: SizeKib,
    ) -> Result<Done, SatError> {
        let id = VolumeId::new(rsc.clone(), vlm)?;
        let r = self.provider(pool)?.resize_volume(&id, size).await?;
        Ok(done(matches!(r, ResizeOutcome::Resized { .. })))
    }

    async fn delete_volume(
        &mut self,
        rsc: &ResourceName,
        vlm: u16,
        pool: &StorPoolName,
    ) -> Result<Done, SatError> {
        let id = VolumeId::new(rsc.clone(), vlm)?;
        let out = self.provider(pool)?.delete_volume(&id).await?;
        self.devices.set(pool, &id, None);
        self.drbd.volume_deleted(rsc, vlm);
        Ok(done(out == DeleteOutcome::Deleted))
    }
}

/// The backing devices of `rsc`'s local volumes on the projection's node (those that exist), from
/// `devices`; a pool `devices` did not list is asked.
pub async fn local_disks(
    p: &NodeProjection,
    pools: &Pools,
    devices: &Devices,
    rsc: &ResourceName,
) -> Result<BTreeMap<u16, LocalDisk>, SatError> {
    let mut out = BTreeMap::new();
    let Some(r) = p
        .state
        .resource_definitions
        .get(rsc)
        .and_then(|d| d.resources.get(&p.node))
    else {
        return Ok(out);
    };
    for (nr, v) in &r.volumes {
        let Some(pool) = pools.get(&v.storage_pool) else {
            continue;
        };
        if !pool.kind.caps().backing_device {
            continue;
        }
        let prov = match &pool.provider {
            Ok(prov) => prov.as_ref(),
            Err(reason) => {
                return Err(SatError::Pool {
                    pool: v.storage_pool.to_string(),
                    reason: reason.clone(),
                });
            }
        };
        let id = VolumeId::new(rsc.clone(), *nr)?;
        // A volume that exists without its device (a FILE volume whose attach a crash cut
        // short, or whose loop device a reboot removed) is made available again here.
        let device = match devices.get(&v.storage_pool, &id) {
            Known::Device(d) => Some(d.to_path_buf()),
            Known::NoDevice | Known::Unknown => prov.activate(&id).await?,
        };
        if let Some(device) = device {
            let disk = LocalDisk {
                device,
                pool: v.storage_pool.clone(),
                kind: pool.kind,
            };
            out.insert(*nr, disk);
        }
    }
    Ok(out)
}
