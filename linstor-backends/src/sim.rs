//! A simulated provider: volumes in memory, for demos and for controller and satellite tests on
//! machines without storage.
//!
//! It imitates one [`ProviderKind`] (capabilities, thin or thick accounting) with a fixed total
//! size. Thick volumes use their size from the pool; thin volumes use nothing until written
//! (and nothing is ever written), and are limited to total × 20 as LINSTOR's default
//! over-subscription allows. Snapshots use no space.
//!
//! Everything it produces says it is simulated: [`VolumeInfo::simulated`] and
//! [`SnapshotInfo::simulated`] are true (in listings too), device paths are
//! `/dev/linstor-sim/<pool>/<name>` (which never exist), pool names in errors end with
//! ` (simulated)`, and injected faults are [`BackendError::SimulatedFault`]. Listings
//! ([`StorageProvider::list_volumes`], [`StorageProvider::list_snapshots`]) come from its state,
//! with the identities the volumes and snapshots were made with, sorted by backing name as the
//! real providers sort them (`<lv>` and `<lv>_<snap>`, as on LVM).
//!
//! Faults ([`SimFault`]) are injected per operation, optionally for one volume only, for a number
//! of calls or forever: `Fail` returns an error, `Hang` never completes (the caller's timeout must
//! fire), `Slow` delays the operation and then performs it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderKind};
use linstor_core::{SizeKib, SnapshotName};

use crate::diskless::DISKLESS_SPACE;
use crate::error::BackendError;
use crate::naming::VolumeId;
use crate::provider::{
    CreateOutcome, DeleteOutcome, ResizeOutcome, SnapshotInfo, SnapshotListing, StorageProvider,
    VolumeInfo, check_fits, check_size, size_mismatch, unsupported,
};

/// The operations a fault can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimOp {
    /// [`StorageProvider::capacity`].
    Capacity,
    /// [`StorageProvider::list_volumes`].
    List,
    /// [`StorageProvider::list_snapshots`].
    ListSnapshots,
    /// [`StorageProvider::create_volume`].
    Create,
    /// [`StorageProvider::delete_volume`].
    Delete,
    /// [`StorageProvider::resize_volume`].
    Resize,
    /// [`StorageProvider::create_snapshot`].
    CreateSnapshot,
    /// [`StorageProvider::delete_snapshot`].
    DeleteSnapshot,
    /// [`StorageProvider::restore_snapshot`].
    Restore,
    /// [`StorageProvider::device_path`].
    DevicePath,
}

impl SimOp {
    fn label(self) -> &'static str {
        match self {
            SimOp::Capacity => "capacity",
            SimOp::List => "list",
            SimOp::ListSnapshots => "snapshot list",
            SimOp::Create => "create",
            SimOp::Delete => "delete",
            SimOp::Resize => "resize",
            SimOp::CreateSnapshot => "snapshot create",
            SimOp::DeleteSnapshot => "snapshot delete",
            SimOp::Restore => "snapshot restore",
            SimOp::DevicePath => "device path",
        }
    }
}

/// What an injected fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimFault {
    /// The operation fails with [`BackendError::SimulatedFault`] and changes nothing.
    Fail,
    /// The operation never completes.
    Hang,
    /// The operation waits this long, then runs normally.
    Slow(Duration),
}

#[derive(Debug, Clone)]
struct Injected {
    op: SimOp,
    volume: Option<String>,
    fault: SimFault,
    remaining: Option<u32>,
}

#[derive(Debug, Clone)]
struct SimVolume {
    id: VolumeId,
    size: SizeKib,
    restored_from: Option<(String, String)>,
}

#[derive(Debug, Clone)]
struct SimSnapshot {
    vol: VolumeId,
    snap: SnapshotName,
    /// The volume's size when taken.
    size: SizeKib,
}

#[derive(Debug, Default)]
struct SimState {
    /// Volumes by backing name.
    volumes: BTreeMap<String, SimVolume>,
    /// Snapshots by (volume name, snapshot name). They outlive their volume where the kind's
    /// snapshots are independent (LVM-thin snapshot LVs, FILE copies); where they are dependent
    /// (ZFS) the volume cannot be deleted first.
    snapshots: BTreeMap<(String, String), SimSnapshot>,
    faults: Vec<Injected>,
}

/// The simulated provider. See the module docs.
#[derive(Debug)]
pub struct SimProvider {
    kind: ProviderKind,
    pool: String,
    total: SizeKib,
    state: Mutex<SimState>,
}

impl SimProvider {
    /// A simulated pool named `pool` imitating `kind`, with `total` KiB.
    pub fn new(kind: ProviderKind, pool: &str, total: SizeKib) -> Self {
        SimProvider {
            kind,
            pool: pool.to_owned(),
            total,
            state: Mutex::new(SimState::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SimState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Injects `fault` into `op` (for the volume named like [`VolumeId::lv_name`] if given) for
    /// the next `times` calls (`None`: until [`clear_faults`](Self::clear_faults)).
    pub fn inject(
        &self,
        op: SimOp,
        volume: Option<&VolumeId>,
        fault: SimFault,
        times: Option<u32>,
    ) {
        self.state().faults.push(Injected {
            op,
            volume: volume.map(VolumeId::lv_name),
            fault,
            remaining: times,
        });
    }

    /// Removes all injected faults.
    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    fn sim_pool(&self) -> String {
        format!("{} (simulated)", self.pool)
    }

    /// Applies the first matching fault, if any.
    async fn fault(&self, op: SimOp, vol: Option<&VolumeId>) -> Result<(), BackendError> {
        let name = vol.map(VolumeId::lv_name);
        let fault = {
            let mut st = self.state();
            let hit = st.faults.iter_mut().find(|f| {
                f.op == op && f.remaining != Some(0) && (f.volume.is_none() || f.volume == name)
            });
            hit.map(|f| {
                if let Some(n) = f.remaining.as_mut() {
                    *n -= 1;
                }
                f.fault
            })
        };
        match fault {
            None => Ok(()),
            Some(SimFault::Fail) => Err(BackendError::SimulatedFault {
                operation: op.label(),
                target: name.unwrap_or_else(|| self.sim_pool()),
            }),
            Some(SimFault::Hang) => {
                tracing::warn!(operation = op.label(), "simulated hang");
                std::future::pending::<()>().await;
                Ok(())
            }
            Some(SimFault::Slow(d)) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }

    /// Every snapshot of the pool as (volume name, snapshot name), sorted, without faults
    /// (an inspector for tests; [`StorageProvider::list_snapshots`] gives parsed identities).
    pub fn snapshots(&self) -> Vec<(String, String)> {
        self.state().snapshots.keys().cloned().collect()
    }

    fn snapshot_info(name: &str, s: &SimSnapshot) -> SnapshotInfo {
        SnapshotInfo {
            name: format!("{name}_{}", s.snap),
            size: s.size,
            simulated: true,
        }
    }

    fn device(&self, name: &str) -> PathBuf {
        PathBuf::from(format!("/dev/linstor-sim/{}/{}", self.pool, name))
    }

    fn info(&self, name: &str, v: &SimVolume) -> VolumeInfo {
        VolumeInfo {
            id: v.id.clone(),
            name: name.to_owned(),
            size: v.size,
            allocated: Some(if self.kind.caps().thin {
                SizeKib(0)
            } else {
                v.size
            }),
            device_path: Some(self.device(name)),
            simulated: true,
        }
    }

    fn capacity_of(&self, st: &SimState) -> PoolCapacity {
        if self.kind == ProviderKind::DISKLESS {
            return PoolCapacity {
                free: DISKLESS_SPACE,
                total: DISKLESS_SPACE,
            };
        }
        let used: u64 = if self.kind.caps().thin {
            0
        } else {
            st.volumes.values().map(|v| v.size.kib()).sum()
        };
        PoolCapacity {
            free: SizeKib(self.total.kib().saturating_sub(used)),
            total: self.total,
        }
    }

    fn not_found(&self, what: &'static str, name: String) -> BackendError {
        BackendError::NotFound {
            what,
            name: format!("{name} in {}", self.sim_pool()),
        }
    }

    fn need_snapshots(&self) -> Result<(), BackendError> {
        if self.kind.caps().snapshots {
            Ok(())
        } else {
            Err(unsupported(
                self.kind,
                "snapshots",
                "the simulated pool imitates a kind without snapshots",
            ))
        }
    }
}

#[async_trait]
impl StorageProvider for SimProvider {
    fn kind(&self) -> ProviderKind {
        self.kind
    }

    fn pool(&self) -> &str {
        &self.pool
    }

    async fn capacity(&self) -> Result<PoolCapacity, BackendError> {
        self.fault(SimOp::Capacity, None).await?;
        Ok(self.capacity_of(&self.state()))
    }

    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError> {
        self.fault(SimOp::List, None).await?;
        let st = self.state();
        Ok(st.volumes.iter().map(|(n, v)| self.info(n, v)).collect())
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError> {
        self.fault(SimOp::ListSnapshots, None).await?;
        let st = self.state();
        let mut out: Vec<SnapshotListing> = st
            .snapshots
            .iter()
            .map(|((vol, _), s)| SnapshotListing {
                vol: s.vol.clone(),
                snap: s.snap.clone(),
                info: Self::snapshot_info(vol, s),
            })
            .collect();
        out.sort_by(|a, b| a.info.name.cmp(&b.info.name));
        Ok(out)
    }

    async fn create_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        check_size(size)?;
        self.fault(SimOp::Create, Some(vol)).await?;
        let name = vol.lv_name();
        let mut st = self.state();
        if let Some(v) = st.volumes.get(&name) {
            if v.size == size {
                return Ok(CreateOutcome::AlreadyPresent(self.info(&name, v)));
            }
            return Err(size_mismatch(&name, v.size, size));
        }
        check_fits(self.kind, &self.sim_pool(), size, &self.capacity_of(&st))?;
        let v = SimVolume {
            id: vol.clone(),
            size,
            restored_from: None,
        };
        let info = self.info(&name, &v);
        st.volumes.insert(name, v);
        Ok(CreateOutcome::Created(info))
    }

    async fn delete_volume(&self, vol: &VolumeId) -> Result<DeleteOutcome, BackendError> {
        self.fault(SimOp::Delete, Some(vol)).await?;
        let name = vol.lv_name();
        let mut st = self.state();
        if !st.volumes.contains_key(&name) {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        let snaps: Vec<&str> = st
            .snapshots
            .keys()
            .filter(|(v, _)| *v == name)
            .map(|(_, s)| s.as_str())
            .collect();
        if self.kind.caps().snapshot_dependent && !snaps.is_empty() {
            return Err(BackendError::InUse {
                what: "simulated volume",
                name,
                reason: format!("it has snapshots ({}); delete them first", snaps.join(", ")),
            });
        }
        st.volumes.remove(&name);
        Ok(DeleteOutcome::Deleted)
    }

    async fn resize_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError> {
        check_size(size)?;
        self.fault(SimOp::Resize, Some(vol)).await?;
        let name = vol.lv_name();
        let mut st = self.state();
        let cap = self.capacity_of(&st);
        let Some(v) = st.volumes.get_mut(&name) else {
            return Err(self.not_found("simulated volume", name));
        };
        let from = v.size;
        if from == size {
            return Ok(ResizeOutcome::Unchanged(from));
        }
        if size < from && !self.kind.caps().shrink {
            return Err(unsupported(
                self.kind,
                "shrink",
                "the imitated kind cannot shrink",
            ));
        }
        if size > from {
            if self.kind.caps().thin {
                check_fits(self.kind, &self.sim_pool(), size, &cap)?;
            } else if size.kib() - from.kib() > cap.free.kib() {
                return Err(BackendError::no_space(
                    self.sim_pool(),
                    SizeKib(size.kib() - from.kib()),
                    cap.free,
                ));
            }
        }
        v.size = size;
        Ok(ResizeOutcome::Resized { from, to: size })
    }

    async fn create_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError> {
        self.need_snapshots()?;
        self.fault(SimOp::CreateSnapshot, Some(vol)).await?;
        let name = vol.lv_name();
        let mut st = self.state();
        let key = (name.clone(), snap.as_str().to_owned());
        if let Some(s) = st.snapshots.get(&key) {
            return Ok(CreateOutcome::AlreadyPresent(Self::snapshot_info(&name, s)));
        }
        let Some(size) = st.volumes.get(&name).map(|v| v.size) else {
            return Err(self.not_found("simulated volume", name));
        };
        let s = SimSnapshot {
            vol: vol.clone(),
            snap: snap.clone(),
            size,
        };
        let info = Self::snapshot_info(&name, &s);
        st.snapshots.insert(key, s);
        Ok(CreateOutcome::Created(info))
    }

    async fn delete_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError> {
        self.need_snapshots()?;
        self.fault(SimOp::DeleteSnapshot, Some(vol)).await?;
        let name = vol.lv_name();
        let mut st = self.state();
        let key = (name.clone(), snap.as_str().to_owned());
        if !st.snapshots.contains_key(&key) {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        if self.kind.caps().snapshot_dependent {
            if let Some((clone, _)) = st
                .volumes
                .iter()
                .find(|(_, v)| v.restored_from.as_ref() == Some(&key))
            {
                return Err(BackendError::InUse {
                    what: "simulated snapshot",
                    name: format!("{name}_{snap}"),
                    reason: format!("volume {clone} was restored from it; delete it first"),
                });
            }
        }
        st.snapshots.remove(&key);
        Ok(DeleteOutcome::Deleted)
    }

    async fn restore_snapshot(
        &self,
        source: &VolumeId,
        snap: &SnapshotName,
        target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        self.need_snapshots()?;
        self.fault(SimOp::Restore, Some(target)).await?;
        let src = source.lv_name();
        let new = target.lv_name();
        let mut st = self.state();
        let Some(size) = st
            .snapshots
            .get(&(src.clone(), snap.as_str().to_owned()))
            .map(|s| s.size)
        else {
            return Err(self.not_found("simulated snapshot", format!("{src}_{snap}")));
        };
        if let Some(t) = st.volumes.get(&new) {
            if t.size == size {
                return Ok(CreateOutcome::AlreadyPresent(self.info(&new, t)));
            }
            return Err(size_mismatch(&new, t.size, size));
        }
        check_fits(self.kind, &self.sim_pool(), size, &self.capacity_of(&st))?;
        let v = SimVolume {
            id: target.clone(),
            size,
            restored_from: Some((src, snap.as_str().to_owned())),
        };
        let info = self.info(&new, &v);
        st.volumes.insert(new, v);
        Ok(CreateOutcome::Created(info))
    }

    async fn device_path(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        self.fault(SimOp::DevicePath, Some(vol)).await?;
        let name = vol.lv_name();
        Ok(self
            .state()
            .volumes
            .contains_key(&name)
            .then(|| self.device(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .expect("rt")
    }

    fn vol(r: &str) -> VolumeId {
        VolumeId::parse(r, 0).expect("valid")
    }

    fn snap(s: &str) -> SnapshotName {
        SnapshotName::new(s).expect("valid")
    }

    #[test]
    fn sim_thick_accounting_and_idempotency() {
        let rt = rt();
        let p = SimProvider::new(ProviderKind::LVM, "sim_vg", SizeKib(1000));
        let c = rt
            .block_on(p.create_volume(&vol("aa"), SizeKib(600)))
            .expect("create");
        assert!(c.is_changed());
        assert!(c.info().simulated);
        assert_eq!(
            c.info().device_path.as_deref(),
            Some(std::path::Path::new("/dev/linstor-sim/sim_vg/aa_00000"))
        );
        assert!(
            !rt.block_on(p.create_volume(&vol("aa"), SizeKib(600)))
                .expect("again")
                .is_changed()
        );
        assert!(matches!(
            rt.block_on(p.create_volume(&vol("aa"), SizeKib(601))),
            Err(BackendError::AlreadyExists { .. })
        ));
        assert_eq!(
            rt.block_on(p.capacity()).expect("cap"),
            PoolCapacity {
                free: SizeKib(400),
                total: SizeKib(1000)
            }
        );
        let e = rt
            .block_on(p.create_volume(&vol("bb"), SizeKib(401)))
            .expect_err("full");
        assert!(e.to_string().contains("sim_vg (simulated)"), "{e}");
        assert!(matches!(
            rt.block_on(p.resize_volume(&vol("aa"), SizeKib(1001))),
            Err(BackendError::InsufficientSpace { .. })
        ));
        assert_eq!(
            rt.block_on(p.resize_volume(&vol("aa"), SizeKib(1000)))
                .expect("grow"),
            ResizeOutcome::Resized {
                from: SizeKib(600),
                to: SizeKib(1000)
            }
        );
        assert!(matches!(
            rt.block_on(p.create_snapshot(&vol("aa"), &snap("s1"))),
            Err(BackendError::Unsupported { .. })
        ));
        assert_eq!(
            rt.block_on(p.delete_volume(&vol("aa"))).expect("del"),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            rt.block_on(p.delete_volume(&vol("aa"))).expect("del"),
            DeleteOutcome::AlreadyAbsent
        );
        assert_eq!(rt.block_on(p.capacity()).expect("cap").free, SizeKib(1000));
    }

    #[test]
    fn sim_zfs_snapshots_are_dependent() {
        let rt = rt();
        let p = SimProvider::new(ProviderKind::ZFS_THIN, "tank", SizeKib(1000));
        rt.block_on(p.create_volume(&vol("aa"), SizeKib(5000)))
            .expect("thin over-subscribes");
        rt.block_on(p.create_snapshot(&vol("aa"), &snap("s1")))
            .expect("snap");
        let r = rt
            .block_on(p.restore_snapshot(&vol("aa"), &snap("s1"), &vol("bb")))
            .expect("restore");
        assert_eq!(r.info().size, SizeKib(5000));
        let ids: Vec<VolumeId> = rt
            .block_on(p.list_volumes())
            .expect("list")
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, [vol("aa"), vol("bb")]);
        let snaps = rt.block_on(p.list_snapshots()).expect("list");
        let got: Vec<(&VolumeId, &str, bool)> = snaps
            .iter()
            .map(|s| (&s.vol, s.snap.as_str(), s.info.simulated))
            .collect();
        assert_eq!(got, [(&vol("aa"), "s1", true)]);
        assert!(matches!(
            rt.block_on(p.delete_volume(&vol("aa"))),
            Err(BackendError::InUse { .. })
        ));
        assert!(matches!(
            rt.block_on(p.delete_snapshot(&vol("aa"), &snap("s1"))),
            Err(BackendError::InUse { .. })
        ));
        rt.block_on(p.delete_volume(&vol("bb"))).expect("del clone");
        assert_eq!(
            rt.block_on(p.delete_snapshot(&vol("aa"), &snap("s1")))
                .expect("del"),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            rt.block_on(p.delete_volume(&vol("aa"))).expect("del"),
            DeleteOutcome::Deleted
        );
    }

    #[test]
    fn sim_independent_snapshots_outlive_their_volume() {
        let rt = rt();
        let p = SimProvider::new(ProviderKind::FILE_THIN, "sim_dir", SizeKib(1000));
        rt.block_on(p.create_volume(&vol("aa"), SizeKib(100)))
            .expect("create");
        rt.block_on(p.create_snapshot(&vol("aa"), &snap("s1")))
            .expect("snap");
        assert_eq!(
            rt.block_on(p.delete_volume(&vol("aa"))).expect("del"),
            DeleteOutcome::Deleted
        );
        assert_eq!(p.snapshots(), [("aa_00000".to_owned(), "s1".to_owned())]);
        let listed = rt.block_on(p.list_snapshots()).expect("list");
        assert_eq!(
            listed,
            [SnapshotListing {
                vol: vol("aa"),
                snap: snap("s1"),
                info: SnapshotInfo {
                    name: "aa_00000_s1".into(),
                    size: SizeKib(100),
                    simulated: true
                }
            }]
        );
        assert!(rt.block_on(p.list_volumes()).expect("list").is_empty());
        let r = rt
            .block_on(p.restore_snapshot(&vol("aa"), &snap("s1"), &vol("bb")))
            .expect("restore from the copy");
        assert_eq!(r.info().size, SizeKib(100));
        assert!(matches!(
            rt.block_on(p.create_snapshot(&vol("aa"), &snap("s2"))),
            Err(BackendError::NotFound { .. })
        ));
    }

    #[test]
    fn sim_faults_fail_hang_and_slow() {
        let rt = rt();
        let p = SimProvider::new(ProviderKind::FILE_THIN, "sim_dir", SizeKib(1000));
        p.inject(SimOp::Create, Some(&vol("aa")), SimFault::Fail, Some(1));
        let e = rt
            .block_on(p.create_volume(&vol("aa"), SizeKib(10)))
            .expect_err("fails once");
        assert_eq!(
            e.to_string(),
            "simulated fault injected into create of 'aa_00000'"
        );
        assert!(
            rt.block_on(p.list_volumes()).expect("list").is_empty(),
            "nothing was created"
        );
        p.inject(SimOp::ListSnapshots, None, SimFault::Fail, Some(1));
        let e = rt.block_on(p.list_snapshots()).expect_err("fails once");
        assert_eq!(
            e.to_string(),
            "simulated fault injected into snapshot list of 'sim_dir (simulated)'"
        );
        assert_eq!(rt.block_on(p.list_snapshots()).expect("then works"), []);
        rt.block_on(p.create_volume(&vol("aa"), SizeKib(10)))
            .expect("second try works");
        rt.block_on(p.create_volume(&vol("bb"), SizeKib(10)))
            .expect("other volume unaffected");

        p.inject(SimOp::Delete, None, SimFault::Hang, None);
        let r = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(30), p.delete_volume(&vol("aa"))).await
        });
        assert!(r.is_err(), "hangs until the caller's timeout");
        p.clear_faults();

        p.inject(
            SimOp::Resize,
            None,
            SimFault::Slow(Duration::from_secs(5)),
            None,
        );
        let started = tokio::time::Instant::now();
        let out = rt.block_on(async {
            let out = p.resize_volume(&vol("aa"), SizeKib(20)).await;
            (out, started.elapsed())
        });
        assert!(out.0.is_ok());
        assert!(out.1 >= Duration::from_secs(5));
    }
}
