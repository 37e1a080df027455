//! The DISKLESS provider: no storage, no commands.
//!
//! Volumes "exist" only as far as DRBD's diskless attachment is concerned, so every create and
//! delete succeeds without doing anything, nothing is listed (neither volumes nor snapshots:
//! there is no storage to hold any), there is no device, and the pool reports `i64::MAX` KiB
//! for both free and total space, as LINSTOR does.

use std::path::PathBuf;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderKind};
use linstor_core::{SizeKib, SnapshotName};

use crate::error::BackendError;
use crate::naming::VolumeId;
use crate::provider::{
    CreateOutcome, DeleteOutcome, ResizeOutcome, SnapshotInfo, SnapshotListing, StorageProvider,
    VolumeInfo, check_size, unsupported,
};

/// What LINSTOR reports as a diskless pool's free and total space.
pub const DISKLESS_SPACE: SizeKib = SizeKib(i64::MAX as u64);

/// A diskless pool.
#[derive(Debug, Clone, Default)]
pub struct DisklessProvider {
    name: String,
}

impl DisklessProvider {
    /// A diskless pool named `name` (for messages only).
    pub fn new(name: &str) -> Self {
        DisklessProvider {
            name: name.to_owned(),
        }
    }
}

#[async_trait]
impl StorageProvider for DisklessProvider {
    fn kind(&self) -> ProviderKind {
        ProviderKind::DISKLESS
    }

    fn pool(&self) -> &str {
        &self.name
    }

    async fn capacity(&self) -> Result<PoolCapacity, BackendError> {
        Ok(PoolCapacity {
            free: DISKLESS_SPACE,
            total: DISKLESS_SPACE,
        })
    }

    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError> {
        Ok(Vec::new())
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError> {
        Ok(Vec::new())
    }

    async fn create_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        check_size(size)?;
        Ok(CreateOutcome::Created(VolumeInfo {
            id: vol.clone(),
            name: vol.lv_name(),
            size,
            allocated: Some(SizeKib(0)),
            device_path: None,
            simulated: false,
        }))
    }

    async fn delete_volume(&self, _vol: &VolumeId) -> Result<DeleteOutcome, BackendError> {
        Ok(DeleteOutcome::AlreadyAbsent)
    }

    async fn resize_volume(
        &self,
        _vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError> {
        check_size(size)?;
        Ok(ResizeOutcome::Unchanged(size))
    }

    async fn create_snapshot(
        &self,
        _vol: &VolumeId,
        _snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError> {
        Err(unsupported(
            ProviderKind::DISKLESS,
            "snapshots",
            "a diskless volume has no data to snapshot",
        ))
    }

    async fn delete_snapshot(
        &self,
        _vol: &VolumeId,
        _snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError> {
        Err(unsupported(
            ProviderKind::DISKLESS,
            "snapshots",
            "a diskless volume has no data to snapshot",
        ))
    }

    async fn restore_snapshot(
        &self,
        _source: &VolumeId,
        _snap: &SnapshotName,
        _target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        Err(unsupported(
            ProviderKind::DISKLESS,
            "snapshots",
            "a diskless volume has no data to snapshot",
        ))
    }

    async fn device_path(&self, _vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diskless_does_nothing_and_reports_max_space() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt");
        let p = DisklessProvider::new("DfltDisklessStorPool");
        let v = VolumeId::parse("rsc", 0).expect("valid");
        let cap = rt.block_on(p.capacity()).expect("cap");
        assert_eq!(cap.free.kib(), 9_223_372_036_854_775_807);
        assert_eq!(cap.total, cap.free);
        assert!(
            rt.block_on(p.create_volume(&v, SizeKib(10)))
                .expect("ok")
                .is_changed()
        );
        assert!(rt.block_on(p.create_volume(&v, SizeKib(0))).is_err());
        assert_eq!(
            rt.block_on(p.delete_volume(&v)).expect("ok"),
            DeleteOutcome::AlreadyAbsent
        );
        assert_eq!(rt.block_on(p.device_path(&v)).expect("ok"), None);
        let s = SnapshotName::new("s1").expect("valid");
        assert!(matches!(
            rt.block_on(p.create_snapshot(&v, &s)),
            Err(BackendError::Unsupported { .. })
        ));
        assert!(!p.capabilities().snapshots);
        assert_eq!(rt.block_on(p.list_volumes()).expect("ok"), []);
        assert_eq!(rt.block_on(p.list_snapshots()).expect("ok"), []);
    }
}
