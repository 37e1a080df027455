//! ZFS and ZFS thin providers, with LINSTOR's exact commands.
//!
//! | operation | command |
//! |---|---|
//! | list volumes | `zfs list -r -H -p -o name,refer,volsize,type,volblocksize,origin,clones -t volume,snapshot <ds>` (exit 1 tolerated): zvols `<ds>/<rsc>_<NNNNN>` |
//! | list snapshots | the same one `zfs list`: snapshots `<ds>/<rsc>_<NNNNN>@<snap>`, size from their `volsize` |
//! | free (thick) | `zfs get available -o name,value -Hp <ds>` |
//! | free (thin) | `zfs list -r -H -p -o name,available,type -t filesystem <ds>` |
//! | total | `zfs get quota -o name,value -Hp <ds>`; if 0, `zpool get size -Hp <zpool>` |
//! | create | `zfs create [-s] -V <n>KB <ZfscreateOptions…> <ds>/<name>` |
//! | resize | `zfs set volsize=<n>KB <ds>/<name>` |
//! | delete | `zfs destroy <ds>/<name>` (refused while snapshots exist: ZFS is snapshot-dependent); retried while "dataset is busy" ([`is_busy`]) |
//! | snapshot | `zfs snapshot <ds>/<name>@<snap>`; delete: `zfs destroy <ds>/<name>@<snap>` |
//! | restore | `zfs clone <ds>/<name>@<snap> <ds>/<new>` |
//!
//! Listings read names with [`BackingName::from_zfs_name`]: zvols in child datasets, and
//! snapshots whose name is not a LINSTOR snapshot name (e.g. sanoid's `autosnap_…:…` with `:`),
//! are skipped; `zfs-auto-snap_…` names are valid snapshot names and are listed.
//!
//! Device path: `/dev/zvol/<ds>/<name>`. No wipe (new zvols read zeros; LINSTOR 1.34 stopped
//! wiping ZFS). Sizes are rounded up to [`ZfsConfig::extent_size`] (LINSTOR asks ZFS for the
//! pool's default `volblocksize` with a dry-run create; we take it from the configuration).
//! Not done: LINSTOR's rename-on-delete strategy for volumes with snapshots (we refuse with
//! `InUse` instead), `snapdev`, user properties, rollback.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderKind};
use linstor_core::{SizeKib, SnapshotName};

use crate::error::BackendError;
use crate::exec::{BusyRetry, Exec};
use crate::naming::{BackingName, VolumeId, check_option_words, check_zfs_dataset};
use crate::parse::zfs::{
    ZFS_LIST_COLUMNS, ZfsListRow, ZfsType, parse_zfs_available, parse_zfs_get_value,
    parse_zfs_list, parse_zpool_get,
};
use crate::parse::{bytes_to_kib_ceil, bytes_to_kib_floor};
use crate::provider::{
    CreateOutcome, DeleteOutcome, ResizeOutcome, SnapshotInfo, SnapshotListing, StorageProvider,
    VolumeInfo, check_fits, check_size, round_up, size_matches, size_mismatch,
};
use crate::runner::CommandRunner;

/// Settings of a ZFS pool.
#[derive(Debug, Clone)]
pub struct ZfsConfig {
    /// Extra `zfs create` words (`StorDriver/ZfscreateOptions`).
    pub zfscreate_options: Vec<String>,
    /// Volume sizes are rounded up to a multiple of this (the zvols' `volblocksize`; 16 KiB is
    /// the OpenZFS ≥ 2.2 default and also a multiple of the older 8 KiB default).
    pub extent_size: SizeKib,
    /// Timeout per command.
    pub timeout: Duration,
    /// How many more times `zfs destroy` is run while it fails with "dataset is busy" (see
    /// [`is_busy`]); default 5.
    pub destroy_busy_retries: u32,
    /// The pause before each of those retries (default 1 s; tests make it short).
    pub destroy_busy_delay: Duration,
}

/// Whether a `zfs` command failed because the dataset is busy ("cannot destroy 'tank/x':
/// dataset is busy", e.g. a zvol still open by DRBD or udev).
pub fn is_busy(e: &BackendError) -> bool {
    matches!(e, BackendError::CommandFailed { stderr, .. } if stderr.to_ascii_lowercase().contains("busy"))
}

impl Default for ZfsConfig {
    fn default() -> Self {
        ZfsConfig {
            zfscreate_options: Vec::new(),
            extent_size: SizeKib(16),
            timeout: Duration::from_secs(120),
            destroy_busy_retries: 5,
            destroy_busy_delay: Duration::from_secs(1),
        }
    }
}

/// A zpool or dataset holding zvols, thick or thin.
#[derive(Debug)]
pub struct ZfsProvider {
    exec: Exec,
    dataset: String,
    thin: bool,
    cfg: ZfsConfig,
}

fn kb(size: SizeKib) -> String {
    format!("{}KB", size.kib())
}

impl ZfsProvider {
    /// `zfs destroy <ds>`, retried while the dataset is busy ([`is_busy`]) up to
    /// [`ZfsConfig::destroy_busy_retries`] more times, [`ZfsConfig::destroy_busy_delay`] apart;
    /// still busy then: [`BackendError::InUse`].
    async fn destroy(&self, what: &'static str, ds: &str) -> Result<(), BackendError> {
        let retry = BusyRetry {
            retries: self.cfg.destroy_busy_retries,
            delay: self.cfg.destroy_busy_delay,
        };
        retry
            .run(what, ds, is_busy, || {
                self.exec.run("zfs", vec!["destroy".into(), ds.to_owned()])
            })
            .await
            .map(|_| ())
    }

    /// A thick pool on `dataset` (`zpool` or `zpool/dataset`).
    pub fn thick(
        runner: Arc<dyn CommandRunner>,
        dataset: &str,
        cfg: ZfsConfig,
    ) -> Result<Self, BackendError> {
        Self::build(runner, dataset, false, cfg)
    }

    /// A thin (sparse zvol) pool on `dataset`.
    pub fn thin(
        runner: Arc<dyn CommandRunner>,
        dataset: &str,
        cfg: ZfsConfig,
    ) -> Result<Self, BackendError> {
        Self::build(runner, dataset, true, cfg)
    }

    fn build(
        runner: Arc<dyn CommandRunner>,
        dataset: &str,
        thin: bool,
        cfg: ZfsConfig,
    ) -> Result<Self, BackendError> {
        check_zfs_dataset("storage pool dataset (StorDriver/StorPoolName)", dataset)?;
        check_option_words("ZfscreateOptions", &cfg.zfscreate_options)?;
        let exec = Exec {
            runner,
            env: Vec::new(),
            timeout: cfg.timeout,
        };
        Ok(ZfsProvider {
            exec,
            dataset: dataset.to_owned(),
            thin,
            cfg,
        })
    }

    fn root_pool(&self) -> &str {
        self.dataset.split('/').next().unwrap_or(&self.dataset)
    }

    fn full(&self, name: &str) -> String {
        format!("{}/{}", self.dataset, name)
    }

    async fn list(&self) -> Result<Vec<ZfsListRow>, BackendError> {
        let cmd = self
            .exec
            .cmd(
                "zfs",
                vec![
                    "list".into(),
                    "-r".into(),
                    "-H".into(),
                    "-p".into(),
                    "-o".into(),
                    ZFS_LIST_COLUMNS.into(),
                    "-t".into(),
                    "volume,snapshot".into(),
                    self.dataset.clone(),
                ],
            )
            .ok_exit_codes(&[0, 1]);
        let out = self.exec.run_cmd(&cmd).await?;
        parse_zfs_list(&out.stdout)
    }

    fn info(&self, id: &VolumeId, r: &ZfsListRow) -> VolumeInfo {
        let size = bytes_to_kib_ceil(r.volsize.unwrap_or(0));
        VolumeInfo {
            id: id.clone(),
            name: r.name.clone(),
            size,
            allocated: self.thin.then(|| bytes_to_kib_ceil(r.refer)),
            device_path: Some(PathBuf::from(format!("/dev/zvol/{}", r.name))),
            simulated: false,
        }
    }

    async fn get_bytes(&self, prop: &str) -> Result<u64, BackendError> {
        let out = self
            .exec
            .run(
                "zfs",
                vec![
                    "get".into(),
                    prop.into(),
                    "-o".into(),
                    "name,value".into(),
                    "-Hp".into(),
                    self.dataset.clone(),
                ],
            )
            .await
            .map_err(|e| self.not_found(e))?;
        parse_zfs_get_value(&out.stdout, &self.dataset)
    }

    fn not_found(&self, e: BackendError) -> BackendError {
        match &e {
            BackendError::CommandFailed { stderr, .. }
                if stderr.contains("does not exist") || stderr.contains("no such pool") =>
            {
                BackendError::NotFound {
                    what: "zfs dataset",
                    name: self.dataset.clone(),
                }
            }
            _ => e,
        }
    }

    async fn free(&self) -> Result<SizeKib, BackendError> {
        if self.thin {
            let out = self
                .exec
                .run(
                    "zfs",
                    vec![
                        "list".into(),
                        "-r".into(),
                        "-H".into(),
                        "-p".into(),
                        "-o".into(),
                        "name,available,type".into(),
                        "-t".into(),
                        "filesystem".into(),
                        self.dataset.clone(),
                    ],
                )
                .await
                .map_err(|e| self.not_found(e))?;
            Ok(bytes_to_kib_floor(parse_zfs_available(
                &out.stdout,
                &self.dataset,
            )?))
        } else {
            Ok(bytes_to_kib_floor(self.get_bytes("available").await?))
        }
    }

    async fn total(&self) -> Result<SizeKib, BackendError> {
        let quota = self.get_bytes("quota").await?;
        if quota != 0 {
            return Ok(bytes_to_kib_floor(quota));
        }
        let root = self.root_pool().to_owned();
        let out = self
            .exec
            .run(
                "zpool",
                vec!["get".into(), "size".into(), "-Hp".into(), root.clone()],
            )
            .await
            .map_err(|e| self.not_found(e))?;
        Ok(bytes_to_kib_floor(parse_zpool_get(&out.stdout, &root)?))
    }

    fn find<'a>(rows: &'a [ZfsListRow], name: &str) -> Option<&'a ZfsListRow> {
        rows.iter().find(|r| r.name == name)
    }

    fn snapshots_of<'a>(rows: &'a [ZfsListRow], full: &str) -> Vec<&'a ZfsListRow> {
        rows.iter()
            .filter(|r| {
                r.kind == ZfsType::Snapshot
                    && r.name.split_once('@').is_some_and(|(v, _)| v == full)
            })
            .collect()
    }

    async fn fresh_info(&self, id: &VolumeId) -> Result<VolumeInfo, BackendError> {
        let full = self.full(&id.lv_name());
        let rows = self.list().await?;
        Self::find(&rows, &full)
            .map(|r| self.info(id, r))
            .ok_or(BackendError::NotFound {
                what: "zvol",
                name: full,
            })
    }
}

#[async_trait]
impl StorageProvider for ZfsProvider {
    fn kind(&self) -> ProviderKind {
        if self.thin {
            ProviderKind::ZFS_THIN
        } else {
            ProviderKind::ZFS
        }
    }

    fn pool(&self) -> &str {
        &self.dataset
    }

    async fn capacity(&self) -> Result<PoolCapacity, BackendError> {
        let free = self.free().await?;
        let total = self.total().await?;
        Ok(PoolCapacity { free, total })
    }

    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError> {
        let mut v: Vec<VolumeInfo> = self
            .list()
            .await?
            .iter()
            .filter(|r| r.kind == ZfsType::Volume)
            .filter_map(
                |r| match BackingName::from_zfs_name(&self.dataset, &r.name)? {
                    BackingName::Volume(id) => Some(self.info(&id, r)),
                    BackingName::Snapshot(..) => None,
                },
            )
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError> {
        let mut v: Vec<SnapshotListing> = self
            .list()
            .await?
            .iter()
            .filter(|r| r.kind == ZfsType::Snapshot)
            .filter_map(
                |r| match BackingName::from_zfs_name(&self.dataset, &r.name)? {
                    BackingName::Snapshot(vol, snap) => Some(SnapshotListing {
                        vol,
                        snap,
                        info: SnapshotInfo {
                            name: r.name.clone(),
                            size: bytes_to_kib_ceil(r.volsize.unwrap_or(0)),
                            simulated: false,
                        },
                    }),
                    BackingName::Volume(_) => None,
                },
            )
            .collect();
        v.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(v)
    }

    async fn create_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        check_size(size)?;
        let full = self.full(&vol.lv_name());
        let rows = self.list().await?;
        if let Some(r) = Self::find(&rows, &full) {
            let info = self.info(vol, r);
            let gran = r
                .volblocksize
                .map_or(self.cfg.extent_size, bytes_to_kib_ceil)
                .max(self.cfg.extent_size);
            if size_matches(info.size, size, gran) {
                return Ok(CreateOutcome::AlreadyPresent(info));
            }
            return Err(size_mismatch(&full, info.size, size));
        }
        let rounded = round_up(size, self.cfg.extent_size);
        let cap = self.capacity().await?;
        check_fits(self.kind(), &self.dataset, rounded, &cap)?;
        let mut args = vec!["create".to_owned()];
        if self.thin {
            args.push("-s".into());
        }
        args.extend(["-V".to_owned(), kb(rounded)]);
        args.extend(self.cfg.zfscreate_options.iter().cloned());
        args.push(full.clone());
        self.exec.run("zfs", args).await?;
        Ok(CreateOutcome::Created(self.fresh_info(vol).await?))
    }

    async fn delete_volume(&self, vol: &VolumeId) -> Result<DeleteOutcome, BackendError> {
        let full = self.full(&vol.lv_name());
        let rows = self.list().await?;
        if Self::find(&rows, &full).is_none() {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        let snaps = Self::snapshots_of(&rows, &full);
        if !snaps.is_empty() {
            let names: Vec<&str> = snaps.iter().map(|s| s.name.as_str()).collect();
            return Err(BackendError::InUse {
                what: "zvol",
                name: full,
                reason: format!("it has snapshots ({}); delete them first", names.join(", ")),
            });
        }
        self.destroy("zvol", &full).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn resize_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError> {
        check_size(size)?;
        let full = self.full(&vol.lv_name());
        let rows = self.list().await?;
        let Some(r) = Self::find(&rows, &full) else {
            return Err(BackendError::NotFound {
                what: "zvol",
                name: full,
            });
        };
        let from = bytes_to_kib_ceil(r.volsize.unwrap_or(0));
        let rounded = round_up(size, self.cfg.extent_size);
        if from == rounded || size_matches(from, size, self.cfg.extent_size) {
            return Ok(ResizeOutcome::Unchanged(from));
        }
        if rounded > from {
            let cap = self.capacity().await?;
            if self.thin {
                check_fits(self.kind(), &self.dataset, rounded, &cap)?;
            } else if rounded.kib() - from.kib() > cap.free.kib() {
                return Err(BackendError::no_space(
                    &self.dataset,
                    SizeKib(rounded.kib() - from.kib()),
                    cap.free,
                ));
            }
        }
        self.exec
            .run(
                "zfs",
                vec![
                    "set".into(),
                    format!("volsize={}", kb(rounded)),
                    full.clone(),
                ],
            )
            .await?;
        let to = self.fresh_info(vol).await?.size;
        Ok(ResizeOutcome::Resized { from, to })
    }

    async fn create_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError> {
        let full = self.full(&vol.lv_name());
        let snap_full = self.full(&vol.zfs_snapshot_name(snap));
        let rows = self.list().await?;
        let Some(src) = Self::find(&rows, &full) else {
            return Err(BackendError::NotFound {
                what: "zvol",
                name: full,
            });
        };
        let size = bytes_to_kib_ceil(src.volsize.unwrap_or(0));
        if Self::find(&rows, &snap_full).is_some() {
            return Ok(CreateOutcome::AlreadyPresent(SnapshotInfo {
                name: snap_full,
                size,
                simulated: false,
            }));
        }
        self.exec
            .run("zfs", vec!["snapshot".into(), snap_full.clone()])
            .await?;
        Ok(CreateOutcome::Created(SnapshotInfo {
            name: snap_full,
            size,
            simulated: false,
        }))
    }

    async fn delete_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError> {
        let snap_full = self.full(&vol.zfs_snapshot_name(snap));
        let rows = self.list().await?;
        let Some(s) = Self::find(&rows, &snap_full) else {
            return Ok(DeleteOutcome::AlreadyAbsent);
        };
        if !s.clones.is_empty() {
            return Err(BackendError::InUse {
                what: "zfs snapshot",
                name: snap_full,
                reason: format!(
                    "volumes were restored from it ({}); delete them first",
                    s.clones.join(", ")
                ),
            });
        }
        self.destroy("zfs snapshot", &snap_full).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn restore_snapshot(
        &self,
        source: &VolumeId,
        snap: &SnapshotName,
        target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        let snap_full = self.full(&source.zfs_snapshot_name(snap));
        let new_full = self.full(&target.lv_name());
        let rows = self.list().await?;
        let Some(s) = Self::find(&rows, &snap_full) else {
            return Err(BackendError::NotFound {
                what: "zfs snapshot",
                name: snap_full,
            });
        };
        let snap_size = bytes_to_kib_ceil(s.volsize.unwrap_or(0));
        if let Some(t) = Self::find(&rows, &new_full) {
            let info = self.info(target, t);
            if info.size == snap_size {
                return Ok(CreateOutcome::AlreadyPresent(info));
            }
            return Err(size_mismatch(&new_full, info.size, snap_size));
        }
        self.exec
            .run("zfs", vec!["clone".into(), snap_full, new_full])
            .await?;
        Ok(CreateOutcome::Created(self.fresh_info(target).await?))
    }

    async fn device_path(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        let full = self.full(&vol.lv_name());
        let rows = self.list().await?;
        Ok(Self::find(&rows, &full).map(|r| PathBuf::from(format!("/dev/zvol/{}", r.name))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitKind;

    fn check(stderr: &str, want: bool) {
        let e = BackendError::CommandFailed {
            argv: vec!["zfs".into(), "destroy".into()],
            exit: ExitKind::Code(1),
            stdout: String::new(),
            stderr: stderr.into(),
        };
        assert_eq!(is_busy(&e), want, "{stderr:?}");
    }

    #[test]
    fn busy_texts() {
        check("cannot destroy 'tank/x': dataset is busy\n", true);
        check("cannot destroy 'tank/x': dataset does not exist\n", false);
        check(
            "cannot destroy 'tank/x': volume has children\nuse '-r' to destroy the following datasets:\n",
            false,
        );
        check("", false);
    }
}
