//! The [`StorageProvider`] trait and its idempotent result types.
//!
//! Satellites replay the whole desired state after every reconnect, so every mutating method
//! is idempotent and says which way it went: [`CreateOutcome::Created`] or
//! [`CreateOutcome::AlreadyPresent`], [`DeleteOutcome::Deleted`] or
//! [`DeleteOutcome::AlreadyAbsent`], [`ResizeOutcome::Resized`] or [`ResizeOutcome::Unchanged`].
//!
//! Listings ([`StorageProvider::list_volumes`], [`StorageProvider::list_snapshots`]) carry
//! identities read from the backing names ([`VolumeInfo::id`], [`SnapshotListing`]), so no
//! caller parses names; [`observe_pool`] folds them into the `NodeLocal` a satellite plans
//! from.
//!
//! Contract for every implementation:
//! * inputs are validated before any command runs ([`BackendError::InvalidInput`]);
//! * a size of 0, or one the pool cannot hold, is refused before anything is created
//!   ([`BackendError::InvalidInput`], [`BackendError::InsufficientSpace`]);
//! * a failure midway undoes the steps already done; if the undo fails too, the error is
//!   [`BackendError::RollbackFailed`] and says exactly what was left behind.

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderCaps, ProviderKind};
use linstor_core::plan::NodeLocal;
use linstor_core::{SizeKib, SnapshotName, StorPoolName};

use crate::error::BackendError;
use crate::naming::{LayerSuffix, VolumeId};

/// What the provider knows about one volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Which volume it is (read from the backing name by [`crate::naming::BackingName`] in
    /// listings; the requested volume otherwise).
    pub id: VolumeId,
    /// The backing name (`rsc_00000`, `rsc_00000.img`, `pool/rsc_00000`).
    pub name: String,
    /// The usable size (LVM rounds up to whole extents, ZFS to the volume block size).
    pub size: SizeKib,
    /// Space actually allocated, where the provider knows it (thin volumes).
    pub allocated: Option<SizeKib>,
    /// The block device, once there is one (`/dev/vg/lv`, `/dev/zvol/…`, `/dev/loopN`).
    pub device_path: Option<PathBuf>,
    /// True only for volumes of the simulated provider, which have no real storage.
    pub simulated: bool,
}

/// What the provider knows about one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The backing name (`rsc_00000_snap`, `pool/rsc_00000@snap`, `rsc_00000_snap.img`).
    pub name: String,
    /// The size of the volume when the snapshot was taken.
    pub size: SizeKib,
    /// True only for the simulated provider.
    pub simulated: bool,
}

/// One snapshot found in a pool by [`StorageProvider::list_snapshots`], with its identity read
/// from the backing name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotListing {
    /// The volume the snapshot was taken of. Where snapshots are independent (LVM thin, FILE)
    /// that volume may be gone.
    pub vol: VolumeId,
    /// The snapshot.
    pub snap: SnapshotName,
    /// Backing name and size.
    pub info: SnapshotInfo,
}

/// The result of an idempotent create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome<T> {
    /// It was created now.
    Created(T),
    /// It existed already, with a matching size.
    AlreadyPresent(T),
}

impl<T> CreateOutcome<T> {
    /// The object, either way.
    pub fn into_inner(self) -> T {
        match self {
            CreateOutcome::Created(t) | CreateOutcome::AlreadyPresent(t) => t,
        }
    }

    /// The object, either way.
    pub fn info(&self) -> &T {
        match self {
            CreateOutcome::Created(t) | CreateOutcome::AlreadyPresent(t) => t,
        }
    }

    /// Whether anything changed.
    pub fn is_changed(&self) -> bool {
        matches!(self, CreateOutcome::Created(_))
    }
}

/// The result of an idempotent delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// It was deleted now.
    Deleted,
    /// It was not there.
    AlreadyAbsent,
}

/// The result of an idempotent resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeOutcome {
    /// The size changed.
    Resized {
        /// Size before.
        from: SizeKib,
        /// Size after (rounded up by the tool, e.g. to whole extents).
        to: SizeKib,
    },
    /// It already had the requested size.
    Unchanged(SizeKib),
}

/// One storage pool driven by one provider kind.
///
/// Sizes are KiB. Volume names are built from [`VolumeId`] the way LINSTOR builds them.
#[async_trait]
pub trait StorageProvider: Send + Sync + fmt::Debug {
    /// The provider kind this pool imitates or drives.
    fn kind(&self) -> ProviderKind;

    /// What it can do (LINSTOR's capability matrix for [`Self::kind`]).
    fn capabilities(&self) -> ProviderCaps {
        self.kind().caps()
    }

    /// The pool as configured (`vg`, `vg/thinpool`, `tank/linstor`, a directory), for messages.
    fn pool(&self) -> &str;

    /// Free and total space, KiB. Diskless pools report `i64::MAX` for both (as LINSTOR does).
    async fn capacity(&self) -> Result<PoolCapacity, BackendError>;

    /// All volumes of this pool whose backing name reads as a LINSTOR volume
    /// (`<rsc><suffix>_<NNNNN>`, see [`crate::naming::BackingName`]), sorted by backing name.
    /// Names that do not read back are not LINSTOR's and are skipped.
    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError>;

    /// All snapshots of this pool whose backing name reads as a LINSTOR snapshot of a LINSTOR
    /// volume (see [`crate::naming::BackingName`]), sorted by backing name; others are skipped.
    /// Every snapshot with that name shape is listed, whoever took it (a `zfs-auto-snap_…`
    /// snapshot of a LINSTOR zvol is a valid snapshot name). Kinds without snapshots (LVM thick,
    /// DISKLESS) list none and run nothing.
    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError>;

    /// Creates the volume with at least `size` KiB (thick or thin per the kind).
    ///
    /// Idempotent: if the volume exists with this size (after the tool's rounding) the answer is
    /// [`CreateOutcome::AlreadyPresent`]; with another size it is [`BackendError::AlreadyExists`].
    /// A size of 0 is [`BackendError::InvalidInput`]; more than the pool can hold is
    /// [`BackendError::InsufficientSpace`]; in both cases nothing is run that changes anything.
    async fn create_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError>;

    /// Deletes the volume (wiping it first where LINSTOR does).
    ///
    /// Idempotent: [`DeleteOutcome::AlreadyAbsent`] if it is not there. Where snapshots depend
    /// on the volume (ZFS), the answer is [`BackendError::InUse`].
    async fn delete_volume(&self, vol: &VolumeId) -> Result<DeleteOutcome, BackendError>;

    /// Changes the size. Growing is always allowed; shrinking only where
    /// [`ProviderCaps::shrink`] says so. [`BackendError::NotFound`] if the volume is missing.
    async fn resize_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError>;

    /// Takes a snapshot. [`BackendError::Unsupported`] if the kind has no snapshots.
    /// Idempotent: [`CreateOutcome::AlreadyPresent`] if it exists.
    async fn create_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError>;

    /// Deletes a snapshot. Idempotent.
    async fn delete_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError>;

    /// Creates the new volume `target` from snapshot `snap` of `source`.
    /// Idempotent: [`CreateOutcome::AlreadyPresent`] if `target` exists.
    async fn restore_snapshot(
        &self,
        source: &VolumeId,
        snap: &SnapshotName,
        target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError>;

    /// The block device of the volume, or `None` if it does not exist (or, diskless, never has
    /// one).
    async fn device_path(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError>;

    /// The block device of an existing volume, made available if it is not (a FILE volume
    /// whose loop device is gone after a reboot, or whose attach a crash interrupted, is
    /// attached again); `None` if the volume does not exist. Idempotent. By default the same
    /// as [`device_path`](Self::device_path): LVM and ZFS devices exist while the volume does.
    async fn activate(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        self.device_path(vol).await
    }
}

/// Opens the provider for a pool given as LINSTOR configures it: `kind` plus the value of
/// `StorDriver/StorPoolName` (`vg`, `vg/thinpool`, `zpool[/dataset]`, a directory; ignored for
/// DISKLESS), with default settings. The pool string is validated before anything runs.
pub fn open_provider(
    kind: ProviderKind,
    pool: &str,
    runner: std::sync::Arc<dyn crate::runner::CommandRunner>,
) -> Result<Box<dyn StorageProvider>, BackendError> {
    use crate::file::{FileConfig, FileProvider};
    use crate::lvm::{LvmConfig, LvmProvider};
    use crate::zfs::{ZfsConfig, ZfsProvider};
    let dir = std::path::Path::new(pool);
    Ok(match kind {
        ProviderKind::DISKLESS => Box::new(crate::diskless::DisklessProvider::new(pool)),
        ProviderKind::LVM => Box::new(LvmProvider::thick(runner, pool, LvmConfig::default())?),
        ProviderKind::LVM_THIN => Box::new(LvmProvider::thin(runner, pool, LvmConfig::default())?),
        ProviderKind::ZFS => Box::new(ZfsProvider::thick(runner, pool, ZfsConfig::default())?),
        ProviderKind::ZFS_THIN => Box::new(ZfsProvider::thin(runner, pool, ZfsConfig::default())?),
        ProviderKind::FILE => Box::new(FileProvider::thick(runner, dir, FileConfig::default())?),
        ProviderKind::FILE_THIN => {
            Box::new(FileProvider::thin(runner, dir, FileConfig::default())?)
        }
    })
}

/// Adds what one pool holds to `local` (what a satellite finds on its node, the input of
/// `linstor_core::plan::plan`): each data volume's size in `pool` under its resource and
/// number, and each snapshot of a data volume under its resource, name and number. Volumes and
/// snapshots of other layers (`.meta`, caches) have no place in [`NodeLocal`] and are left out.
pub fn add_listings(
    local: &mut NodeLocal,
    pool: &StorPoolName,
    volumes: &[VolumeInfo],
    snapshots: &[SnapshotListing],
) {
    for v in volumes.iter().filter(|v| v.id.suffix == LayerSuffix::Data) {
        let rsc = local.resources.entry(v.id.rsc.clone()).or_default();
        let copies = rsc.volumes.entry(v.id.vlm_nr).or_default();
        copies.insert(pool.clone(), v.size);
    }
    for s in snapshots
        .iter()
        .filter(|s| s.vol.suffix == LayerSuffix::Data)
    {
        let rsc = local.resources.entry(s.vol.rsc.clone()).or_default();
        let pools = rsc.snapshots.entry(s.snap.clone()).or_default();
        pools.entry(s.vol.vlm_nr).or_default().insert(pool.clone());
    }
}

/// Lists one pool ([`StorageProvider::list_volumes`], then
/// [`StorageProvider::list_snapshots`]) into `local`, as [`add_listings`] does.
pub async fn observe_pool(
    provider: &dyn StorageProvider,
    pool: &StorPoolName,
    local: &mut NodeLocal,
) -> Result<(), BackendError> {
    let volumes = provider.list_volumes().await?;
    let snapshots = provider.list_snapshots().await?;
    add_listings(local, pool, &volumes, &snapshots);
    Ok(())
}

/// Checks a requested size: not 0, and its bytes fit in `u64`.
pub fn check_size(size: SizeKib) -> Result<(), BackendError> {
    if size.kib() == 0 {
        return Err(BackendError::invalid(
            "size",
            "0 KiB",
            "give a size of at least 1 KiB",
        ));
    }
    if size.kib() > u64::MAX / 1024 {
        return Err(BackendError::invalid(
            "size",
            format!("{} KiB", size.kib()),
            "give a size below 16 EiB",
        ));
    }
    Ok(())
}

/// Rounds `size` up to a multiple of `granularity` (KiB; 0 or 1 means no rounding).
pub fn round_up(size: SizeKib, granularity: SizeKib) -> SizeKib {
    let g = granularity.kib().max(1);
    SizeKib(size.kib().div_ceil(g).saturating_mul(g))
}

/// Whether an existing volume of `existing` KiB satisfies a request for `requested` KiB, given
/// the tool's rounding `granularity`: it must be at least the request and at most the request
/// rounded up.
pub fn size_matches(existing: SizeKib, requested: SizeKib, granularity: SizeKib) -> bool {
    existing >= requested && existing <= round_up(requested, granularity)
}

/// The "already exists with another size" error.
pub fn size_mismatch(name: &str, existing: SizeKib, requested: SizeKib) -> BackendError {
    BackendError::AlreadyExists {
        name: name.to_owned(),
        existing: existing.kib(),
        requested: requested.kib(),
    }
}

/// Refuses an operation the kind cannot do.
pub fn unsupported(
    kind: ProviderKind,
    operation: &'static str,
    reason: impl Into<String>,
) -> BackendError {
    BackendError::Unsupported {
        provider: kind.as_str(),
        operation,
        reason: reason.into(),
    }
}

/// Checks that a thick create of `size` fits into `free`, and a thin one into
/// `total × oversubscription` (LINSTOR's default ratio for the kind).
pub fn check_fits(
    kind: ProviderKind,
    pool: &str,
    size: SizeKib,
    cap: &PoolCapacity,
) -> Result<(), BackendError> {
    let caps = kind.caps();
    if caps.thin {
        // Ratio 20 for every thin kind: the limit is total × 20.
        let ratio = if caps.default_oversubscription.is_finite() {
            20
        } else {
            u64::MAX
        };
        let limit = SizeKib(cap.total.kib().saturating_mul(ratio));
        if size > limit {
            return Err(BackendError::no_space(pool, size, limit));
        }
    } else if size > cap.free {
        return Err(BackendError::no_space(pool, size, cap.free));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_matching() {
        assert_eq!(round_up(SizeKib(5000), SizeKib(4096)), SizeKib(8192));
        assert_eq!(round_up(SizeKib(5000), SizeKib(0)), SizeKib(5000));
        for (existing, requested, g, ok) in [
            (8192, 5000, 4096, true),
            (8192, 8192, 4096, true),
            (12288, 5000, 4096, false),
            (4096, 5000, 4096, false),
            (5000, 5000, 1, true),
            (5001, 5000, 1, false),
        ] {
            assert_eq!(
                size_matches(SizeKib(existing), SizeKib(requested), SizeKib(g)),
                ok
            );
        }
    }

    #[test]
    fn open_provider_validates_the_pool_string() {
        let runner = std::sync::Arc::new(crate::runner::ScriptedRunner::new());
        for (kind, pool, ok) in [
            (ProviderKind::DISKLESS, "DfltDisklessStorPool", true),
            (ProviderKind::LVM, "vg0", true),
            (ProviderKind::LVM, "vg0;reboot", false),
            (ProviderKind::LVM_THIN, "vg0/thin", true),
            (ProviderKind::LVM_THIN, "vg0", false),
            (ProviderKind::ZFS, "tank/linstor", true),
            (ProviderKind::ZFS_THIN, "tank/$(id)", false),
            (ProviderKind::FILE, "/var/lib/linstor-pools/p1", true),
            (ProviderKind::FILE_THIN, "../p1", false),
        ] {
            match open_provider(kind, pool, runner.clone()) {
                Ok(p) => {
                    assert!(ok, "{kind} {pool} accepted");
                    assert_eq!(p.kind(), kind);
                    assert_eq!(p.pool(), pool);
                }
                Err(e) => {
                    assert!(!ok, "{kind} {pool}: {e}");
                    assert!(matches!(e, BackendError::InvalidInput { .. }), "{e:?}");
                }
            }
        }
        runner.finish();
    }

    #[test]
    fn listings_fold_into_node_local_data_volumes_only() {
        let id = |rsc: &str, suffix, nr| {
            let rsc = linstor_core::ResourceName::new(rsc).expect("valid");
            VolumeId::with_suffix(rsc, suffix, nr).expect("valid")
        };
        let info = |id: VolumeId, kib| VolumeInfo {
            name: id.lv_name(),
            id,
            size: SizeKib(kib),
            allocated: None,
            device_path: None,
            simulated: false,
        };
        let listing = |vol: VolumeId, snap: &str| SnapshotListing {
            info: SnapshotInfo {
                name: format!("{vol}_{snap}"),
                size: SizeKib(1),
                simulated: false,
            },
            vol,
            snap: SnapshotName::new(snap).expect("valid"),
        };
        let (p1, p2) = (
            StorPoolName::new("pool1").expect("valid"),
            StorPoolName::new("pool2").expect("valid"),
        );
        let mut local = NodeLocal::default();
        add_listings(
            &mut local,
            &p1,
            &[
                info(id("r_00001_x", LayerSuffix::Data, 0), 100),
                info(id("r_00001_x", LayerSuffix::DrbdMeta, 0), 4),
                info(id("rb", LayerSuffix::Data, 2), 7),
            ],
            &[
                listing(id("r_00001_x", LayerSuffix::Data, 0), "snap_2"),
                listing(id("r_00001_x", LayerSuffix::DrbdMeta, 0), "snap_2"),
                listing(id("gone", LayerSuffix::Data, 1), "old"),
            ],
        );
        add_listings(
            &mut local,
            &p2,
            &[info(id("r_00001_x", LayerSuffix::Data, 0), 200)],
            &[listing(id("r_00001_x", LayerSuffix::Data, 0), "snap_2")],
        );
        let json = serde_json::to_value(&local).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"resources": {
                "gone": {"volumes": {}, "snapshots": {"old": {"1": ["pool1"]}}, "drbd": null},
                "r_00001_x": {
                    "volumes": {"0": {"pool1": 100, "pool2": 200}},
                    "snapshots": {"snap_2": {"0": ["pool1", "pool2"]}},
                    "drbd": null
                },
                "rb": {"volumes": {"2": {"pool1": 7}}, "snapshots": {}, "drbd": null}
            }})
        );
    }

    #[test]
    fn sizes_and_fit() {
        assert!(matches!(
            check_size(SizeKib(0)),
            Err(BackendError::InvalidInput { .. })
        ));
        assert!(check_size(SizeKib(1)).is_ok());
        assert!(check_size(SizeKib(u64::MAX)).is_err());
        let cap = PoolCapacity {
            free: SizeKib(100),
            total: SizeKib(1000),
        };
        assert!(check_fits(ProviderKind::LVM, "vg", SizeKib(100), &cap).is_ok());
        let e = check_fits(ProviderKind::LVM, "vg", SizeKib(101), &cap).expect_err("too big");
        assert_eq!(
            e.to_string(),
            "storage pool 'vg' has 100 KiB free, but 101 KiB were requested; choose a smaller size or another pool"
        );
        assert!(check_fits(ProviderKind::LVM_THIN, "vg/t", SizeKib(20_000), &cap).is_ok());
        assert!(check_fits(ProviderKind::LVM_THIN, "vg/t", SizeKib(20_001), &cap).is_err());
        assert!(check_fits(ProviderKind::DISKLESS, "d", SizeKib(u64::MAX / 2048), &cap).is_ok());
    }
}
