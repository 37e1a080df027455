//! What exists on this node: every pool's volumes (and snapshots) and every resource's DRBD
//! side, as the core's [`NodeLocal`], plus each pool's capacity for the report and the block
//! devices of the volumes found ([`Devices`]).
//!
//! Only the pools the controller configured for this node are looked at; within them, only
//! volumes with LINSTOR's name shape (the providers' listings) count.
//!
//! One listing per pool per look: the devices come with it (FILE: one `losetup -l` for all
//! volumes), so neither the actions of a pass nor its report ask a provider per volume.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use linstor_backends::naming::{LayerSuffix, VolumeId};
use linstor_backends::provider::{VolumeInfo, add_listings};
use linstor_core::model::PoolCapacity;
use linstor_core::plan::NodeLocal;
use linstor_core::{ResourceName, StorPoolName};

use crate::drbd::DrbdLayer;
use crate::pools::Pools;

/// One pool's capacity, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolState {
    /// Pool.
    pub pool: StorPoolName,
    /// Capacity, or the error.
    pub capacity: Result<PoolCapacity, String>,
}

/// What was found: the local objects, each pool's state, and listing errors (a pool whose
/// listing failed contributes nothing, so nothing in it is planned for deletion).
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// Local objects.
    pub local: NodeLocal,
    /// Per pool.
    pub pools: Vec<PoolState>,
    /// The block devices of the data volumes found.
    pub devices: Devices,
}

/// The block devices of data volumes, per pool, as the last listing found them and the actions
/// since changed them (a created volume's device is added, a deleted one's removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Devices {
    listed: BTreeSet<StorPoolName>,
    devices: BTreeMap<(StorPoolName, ResourceName, u16), PathBuf>,
}

/// What [`Devices`] knows of one volume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known<'a> {
    /// It has this device.
    Device(&'a std::path::Path),
    /// The pool was listed and the volume has no device (or does not exist).
    NoDevice,
    /// The pool was not listed (its listing failed): ask the provider.
    Unknown,
}

impl Devices {
    /// Records one pool's listing (replacing what was known of that pool).
    pub fn listed(&mut self, pool: &StorPoolName, volumes: &[VolumeInfo]) {
        self.devices.retain(|(p, _, _), _| p != pool);
        self.listed.insert(pool.clone());
        for v in volumes.iter().filter(|v| v.id.suffix == LayerSuffix::Data) {
            if let Some(dev) = &v.device_path {
                let key = (pool.clone(), v.id.rsc.clone(), v.id.vlm_nr);
                self.devices.insert(key, dev.clone());
            }
        }
    }

    /// The device of data volume `vol` in `pool`, as far as known.
    pub fn get(&self, pool: &StorPoolName, vol: &VolumeId) -> Known<'_> {
        if !self.listed.contains(pool) {
            return Known::Unknown;
        }
        let key = (pool.clone(), vol.rsc.clone(), vol.vlm_nr);
        match self.devices.get(&key) {
            Some(d) if vol.suffix == LayerSuffix::Data => Known::Device(d),
            _ => Known::NoDevice,
        }
    }

    /// Records what an action left: `vol` in `pool` now has `device` (`None`: it has none, or
    /// is gone).
    pub fn set(&mut self, pool: &StorPoolName, vol: &VolumeId, device: Option<PathBuf>) {
        if vol.suffix != LayerSuffix::Data {
            return;
        }
        let key = (pool.clone(), vol.rsc.clone(), vol.vlm_nr);
        match device {
            Some(d) => {
                self.devices.insert(key, d);
            }
            None => {
                self.devices.remove(&key);
            }
        }
    }
}

/// Looks at every pool and the DRBD layer (refresh the latter first).
pub async fn observe(pools: &Pools, drbd: &DrbdLayer) -> Found {
    let mut found = Found::default();
    for (name, pool) in pools.iter() {
        let prov = match &pool.provider {
            Ok(p) => p,
            Err(e) => {
                found.pools.push(PoolState {
                    pool: name.clone(),
                    capacity: Err(e.clone()),
                });
                continue;
            }
        };
        let capacity = prov.capacity().await.map_err(|e| e.to_string());
        found.pools.push(PoolState {
            pool: name.clone(),
            capacity,
        });
        // A pool whose listing fails contributes nothing, so nothing in it is deleted.
        let listing = match prov.list_volumes().await {
            Ok(volumes) => prov.list_snapshots().await.map(|s| (volumes, s)),
            Err(e) => Err(e),
        };
        match listing {
            Ok((volumes, snapshots)) => {
                add_listings(&mut found.local, name, &volumes, &snapshots);
                found.devices.listed(name, &volumes);
            }
            Err(e) => tracing::warn!(pool = %name, "cannot list the pool: {e}"),
        }
    }
    for rsc in drbd.names() {
        let volumes = found.local.resources.get(&rsc).map(|r| &r.volumes);
        if let Some(d) = drbd.local(&rsc, volumes) {
            found.local.resources.entry(rsc).or_default().drbd = Some(d);
        }
    }
    found
}
