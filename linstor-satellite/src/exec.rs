//! Executing one [`Action`] of the core's plan on this node: storage actions through the
//! pool's provider, DRBD actions through the [`DrbdLayer`]. Every action is idempotent (the
//! providers and drbd-utils wrappers say which way each went), so a pass that crashed midway is
//! simply planned and run again.

use std::collections::BTreeMap;

use linstor_backends::naming::VolumeId;
use linstor_backends::provider::StorageProvider;
use linstor_core::plan::Action;
use linstor_core::projection::NodeProjection;
use linstor_core::{ResourceName, StorPoolName};

use crate::drbd::{DrbdLayer, LocalDisk};
use crate::error::SatError;
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
}

impl Ctx<'_> {
    fn provider(&self, pool: &StorPoolName) -> Result<&dyn StorageProvider, SatError> {
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
        let mut out = BTreeMap::new();
        let Some(r) = self
            .p
            .state
            .resource_definitions
            .get(rsc)
            .and_then(|d| d.resources.get(&self.p.node))
        else {
            return Ok(out);
        };
        for (nr, v) in &r.volumes {
            let Some(pool) = self.pools.get(&v.storage_pool) else {
                continue;
            };
            if !pool.kind.caps().backing_device {
                continue;
            }
            let prov = self.provider(&v.storage_pool)?;
            if let Some(device) = prov.device_path(&VolumeId::new(rsc.clone(), *nr)?).await? {
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

    /// Runs one action.
    pub async fn run(&mut self, a: &Action) -> Result<Done, SatError> {
        match a {
            Action::CreateVolume {
                rsc,
                vlm,
                pool,
                size,
            } => {
                let id = VolumeId::new(rsc.clone(), *vlm)?;
                let out = self.provider(pool)?.create_volume(&id, *size).await?;
                Ok(done(out.is_changed()))
            }
            Action::RestoreVolume {
                rsc,
                vlm,
                pool,
                size,
                source,
                snapshot,
            } => {
                let prov = self.provider(pool)?;
                let from = VolumeId::new(source.clone(), *vlm)?;
                let to = VolumeId::new(rsc.clone(), *vlm)?;
                // Restored before (and perhaps grown since): only the growth is left.
                let existing = prov.list_volumes().await?;
                let (restored, have) = match existing.iter().find(|v| v.id == to) {
                    Some(v) => (false, v.size),
                    None => {
                        let out = prov.restore_snapshot(&from, snapshot, &to).await?;
                        (out.is_changed(), out.info().size)
                    }
                };
                let grown = if have < *size {
                    let r = prov.resize_volume(&to, *size).await?;
                    matches!(r, linstor_backends::provider::ResizeOutcome::Resized { .. })
                } else {
                    false
                };
                Ok(done(restored || grown))
            }
            Action::ResizeVolume {
                rsc,
                vlm,
                pool,
                size,
            } => {
                let id = VolumeId::new(rsc.clone(), *vlm)?;
                let r = self.provider(pool)?.resize_volume(&id, *size).await?;
                Ok(done(matches!(
                    r,
                    linstor_backends::provider::ResizeOutcome::Resized { .. }
                )))
            }
            Action::DeleteVolume { rsc, vlm, pool } => {
                let id = VolumeId::new(rsc.clone(), *vlm)?;
                let out = self.provider(pool)?.delete_volume(&id).await?;
                self.drbd.volume_deleted(rsc, *vlm);
                Ok(done(
                    out == linstor_backends::provider::DeleteOutcome::Deleted,
                ))
            }
            other => self.run_more(other).await,
        }
    }

    async fn run_more(&mut self, a: &Action) -> Result<Done, SatError> {
        match a {
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
                Ok(done(
                    out == linstor_backends::provider::DeleteOutcome::Deleted,
                ))
            }
            other => self.run_drbd(other).await,
        }
    }

    async fn run_drbd(&mut self, a: &Action) -> Result<Done, SatError> {
        let p = self.p;
        match a {
            Action::WriteResFile { rsc, digest } => {
                let disks = self.disks(rsc).await?;
                self.drbd.write_res(p, rsc, *digest, &disks).await?;
            }
            Action::CreateMetadata { rsc, vlm, .. } => {
                let disks = self.disks(rsc).await?;
                self.drbd.create_md(p, rsc, *vlm, &disks).await?;
            }
            Action::Adjust { rsc, digest } => {
                let disks = self.disks(rsc).await?;
                self.drbd.adjust(p, rsc, *digest, &disks).await?;
            }
            Action::DrbdResize { rsc, vlm } => {
                let disks = self.disks(rsc).await?;
                let thin = disks.get(vlm).is_some_and(|d| d.kind.caps().thin);
                self.drbd.resize(p, rsc, *vlm, thin).await?;
            }
            Action::Down { rsc } => self.drbd.down(p, rsc).await?,
            Action::RemoveResFile { rsc } => self.drbd.remove_res(rsc)?,
            _ => unreachable!("storage actions are run by Ctx::run"),
        }
        Ok(Done::Changed)
    }
}
