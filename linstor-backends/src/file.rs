//! FILE and FILE_THIN providers: volume files in a directory, attached as loop devices.
//!
//! | operation | command |
//! |---|---|
//! | capacity / free | `df -B 1 --output=size <dir>`, `df -B 1 --output=avail <dir>` |
//! | create (thick) | `fallocate -x -l <n>KiB <file>` |
//! | create (thin) | `truncate -s <n>KiB <file>` |
//! | attach | `losetup -f --show <file>` (under the host-wide [`crate::hostlock`]); with [`FileConfig::wipe`], then the quick wipe of [`crate::wipe`] (`wipefs -a -f <dev>`, `blockdev --getsize64 <dev>`, `dd` zeroing the DRBD superblock areas) |
//! | list volumes | the directory with each file's size and, thin, allocated blocks, read in-process (`<rsc>_<NNNNN>.img`), then one `losetup -l -O NAME,BACK-FILE` for their devices |
//! | list snapshots | the directory, read in-process (`<rsc>_<NNNNN>_<snap>.img`); no command |
//! | list attachments | `losetup -l -O NAME,BACK-FILE` |
//! | allocated (thin) | the file's allocated blocks, read in-process (what `stat -c '%B %b'` prints) |
//! | resize | thick grow `fallocate -x -l`, otherwise `truncate -s`; then `losetup -c <dev>` |
//! | delete | `losetup -d <dev>`, then the file is removed (in-process, as LINSTOR does in Java) |
//! | snapshot | `cp --reflink=always <file> <dir>/<name>_<snap>.img` (needs btrfs or xfs) |
//! | restore | `cp <snapfile> <newfile>`, then attach |
//!
//! [`FileProvider::supports_reflink`] checks, as LINSTOR does, that snapshots can work.
//!
//! Volume and snapshot files share the directory and the `.img` ending; listings tell them apart
//! with [`BackingName::from_file_name`], from the right: `xy_00000_s1.img` is snapshot `s1` of
//! volume `xy_00000`, `xy_00000_s1_00002.img` is volume 2 of resource `xy_00000_s1` (see
//! [`crate::naming`] for the one ambiguous kind of snapshot name). Other files (LINSTOR's
//! reflink test files, anything not named like LINSTOR's) are skipped.
//!
//! File existence, sizes, allocated blocks and directory listings are read in-process
//! (`std::fs`), as LINSTOR's Java code reads sizes; every program runs through the
//! [`CommandRunner`].

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderKind};
use linstor_core::{SizeKib, SnapshotName};

use crate::error::BackendError;
use crate::exec::{Exec, after_rollback};
use crate::hostlock::HostLock;
use crate::naming::{BackingName, VolumeId, check_path};
use crate::parse::util::{LoopDevice, parse_df_bytes, parse_losetup_list};
use crate::parse::{bytes_to_kib_ceil, bytes_to_kib_floor};
use crate::provider::{
    CreateOutcome, DeleteOutcome, ResizeOutcome, SnapshotInfo, SnapshotListing, StorageProvider,
    VolumeInfo, check_fits, check_size, size_mismatch,
};
use crate::runner::CommandRunner;
use crate::wipe::quick_wipe;

/// Settings of a FILE pool.
#[derive(Debug, Clone)]
pub struct FileConfig {
    /// Quick-wipe new loop devices (`wipefs -a -f` and zeroing the DRBD superblock areas, see
    /// [`crate::wipe`]). Default false, where LINSTOR wipes: the wipe is for recycled storage
    /// (an LV's extents), and a volume file is only ever created where no file was, so it reads
    /// as zeros and the four commands would write zeros over zeros (`real_file` checks that
    /// a new volume's superblock areas read as zeros).
    pub wipe: bool,
    /// Timeout per command.
    pub timeout: Duration,
    /// The host-wide lock taken around `losetup -f` ([`crate::hostlock`]); `None`: no lock.
    pub loop_lock: Option<PathBuf>,
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            wipe: false,
            timeout: Duration::from_secs(120),
            loop_lock: Some(crate::hostlock::default_loop_lock()),
        }
    }
}

/// A directory of volume files (`<rsc>_<vlm:05>.img`), thick or thin.
#[derive(Debug)]
pub struct FileProvider {
    exec: Exec,
    dir: PathBuf,
    dir_str: String,
    thin: bool,
    cfg: FileConfig,
}

fn kib_arg(size: SizeKib) -> String {
    format!("{}KiB", size.kib())
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

enum Existing {
    Absent,
    Present(u64),
}

/// One of LINSTOR's files in the pool directory.
struct PoolFile {
    name: BackingName,
    path: PathBuf,
    /// Length in bytes.
    len: u64,
    /// Allocated space (thin pools only).
    allocated: Option<SizeKib>,
}

/// The loop devices of one `losetup -l` by backing file, for listings: the device
/// [`FileProvider::attached_to`] would find first, without a scan per file.
struct LoopIndex<'a> {
    first: std::collections::HashMap<&'a Path, (usize, &'a Path)>,
}

impl<'a> LoopIndex<'a> {
    fn new(loops: &'a [LoopDevice]) -> Self {
        let mut first = std::collections::HashMap::with_capacity(loops.len());
        for (i, l) in loops.iter().enumerate() {
            first
                .entry(l.back_file.as_path())
                .or_insert((i, l.device.as_path()));
        }
        LoopIndex { first }
    }

    /// The first device (in `losetup` order) backed by `file` or by its canonical path.
    fn first(&self, file: &Path) -> Option<PathBuf> {
        let direct = self.first.get(file);
        let canonical = std::fs::canonicalize(file).ok();
        let via = canonical.as_deref().and_then(|c| self.first.get(c));
        [direct, via]
            .into_iter()
            .flatten()
            .min_by_key(|(i, _)| *i)
            .map(|(_, d)| d.to_path_buf())
    }
}

impl FileProvider {
    /// A thick pool in `dir`.
    pub fn thick(
        runner: Arc<dyn CommandRunner>,
        dir: &Path,
        cfg: FileConfig,
    ) -> Result<Self, BackendError> {
        Self::build(runner, dir, false, cfg)
    }

    /// A thin (sparse file) pool in `dir`.
    pub fn thin(
        runner: Arc<dyn CommandRunner>,
        dir: &Path,
        cfg: FileConfig,
    ) -> Result<Self, BackendError> {
        Self::build(runner, dir, true, cfg)
    }

    fn build(
        runner: Arc<dyn CommandRunner>,
        dir: &Path,
        thin: bool,
        cfg: FileConfig,
    ) -> Result<Self, BackendError> {
        let dir = check_path("storage pool directory (StorDriver/StorPoolName)", dir)?;
        let exec = Exec {
            runner,
            env: Vec::new(),
            timeout: cfg.timeout,
        };
        let dir_str = path_arg(&dir);
        Ok(FileProvider {
            exec,
            dir,
            dir_str,
            thin,
            cfg,
        })
    }

    /// The pool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The volume file of `vol`.
    pub fn volume_file(&self, vol: &VolumeId) -> PathBuf {
        self.dir.join(vol.file_name())
    }

    fn snapshot_file(&self, vol: &VolumeId, snap: &SnapshotName) -> PathBuf {
        self.dir.join(vol.file_snapshot_name(snap))
    }

    fn existing(path: &Path) -> Result<Existing, BackendError> {
        match std::fs::metadata(path) {
            Ok(m) => Ok(Existing::Present(m.len())),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(Existing::Absent),
            Err(source) => Err(BackendError::Io {
                action: "look at",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn remove(path: &Path) -> Result<(), BackendError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(source) => Err(BackendError::Io {
                action: "remove",
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn check_dir(&self) -> Result<(), BackendError> {
        if self.dir.is_dir() {
            Ok(())
        } else {
            Err(BackendError::NotFound {
                what: "storage pool directory",
                name: self.dir_str.clone(),
            })
        }
    }

    async fn df(&self, field: &str) -> Result<u64, BackendError> {
        let out = self
            .exec
            .run(
                "df",
                vec![
                    "-B".into(),
                    "1".into(),
                    format!("--output={field}"),
                    self.dir_str.clone(),
                ],
            )
            .await?;
        parse_df_bytes(&out.stdout)
    }

    async fn loops(&self) -> Result<Vec<LoopDevice>, BackendError> {
        let out = self
            .exec
            .run(
                "losetup",
                vec!["-l".into(), "-O".into(), "NAME,BACK-FILE".into()],
            )
            .await?;
        parse_losetup_list(&out.stdout)
    }

    fn attached_to(loops: &[LoopDevice], file: &Path) -> Vec<PathBuf> {
        let canonical = std::fs::canonicalize(file).ok();
        loops
            .iter()
            .filter(|l| l.back_file == file || canonical.as_deref() == Some(l.back_file.as_path()))
            .map(|l| l.device.clone())
            .collect()
    }

    async fn attach(&self, file: &Path) -> Result<PathBuf, BackendError> {
        let _lock = match &self.cfg.loop_lock {
            Some(path) => HostLock::acquire(path, Duration::from_secs(5)).await,
            None => None,
        };
        let out = self
            .exec
            .run(
                "losetup",
                vec!["-f".into(), "--show".into(), path_arg(file)],
            )
            .await?;
        let dev = out.stdout.trim();
        if !dev.starts_with("/dev/loop") || dev.contains(char::is_whitespace) {
            return Err(BackendError::parse(
                "losetup",
                1,
                dev,
                "expected the new loop device path",
            ));
        }
        Ok(PathBuf::from(dev))
    }

    async fn detach(&self, dev: &Path) -> Result<(), BackendError> {
        self.exec
            .run("losetup", vec!["-d".into(), path_arg(dev)])
            .await
            .map(|_| ())
    }

    /// The space `file` occupies (thin pools only): its allocated 512-byte blocks, as
    /// `stat -c '%B %b'` reports them, read in-process.
    fn allocated(&self, file: &Path) -> Result<Option<SizeKib>, BackendError> {
        if !self.thin {
            return Ok(None);
        }
        let meta = std::fs::metadata(file).map_err(|source| BackendError::Io {
            action: "look at",
            path: file.to_path_buf(),
            source,
        })?;
        Ok(Some(Self::allocated_of(&meta)))
    }

    fn allocated_of(meta: &std::fs::Metadata) -> SizeKib {
        // `st_blocks` counts 512-byte units whatever the file system's block size.
        bytes_to_kib_ceil(meta.blocks().saturating_mul(512))
    }

    fn info(
        &self,
        id: &VolumeId,
        file: &Path,
        bytes: u64,
        allocated: Option<SizeKib>,
        dev: Option<PathBuf>,
    ) -> VolumeInfo {
        VolumeInfo {
            id: id.clone(),
            name: file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size: bytes_to_kib_ceil(bytes),
            allocated,
            device_path: dev,
            simulated: false,
        }
    }

    /// [`Self::info`] of a file just written or found: its allocation read now.
    fn info_now(
        &self,
        id: &VolumeId,
        file: &Path,
        bytes: u64,
        dev: Option<PathBuf>,
    ) -> Result<VolumeInfo, BackendError> {
        Ok(self.info(id, file, bytes, self.allocated(file)?, dev))
    }

    /// The files of the pool directory that are LINSTOR's (volumes and snapshots, read with
    /// [`BackingName::from_file_name`]) with their sizes, sorted by name; read in-process, as
    /// LINSTOR does.
    fn pool_files(&self) -> Result<Vec<PoolFile>, BackendError> {
        self.check_dir()?;
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| BackendError::Io {
                action,
                path,
                source,
            }
        };
        let entries = std::fs::read_dir(&self.dir).map_err(io("list", &self.dir))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io("list", &self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(b) = BackingName::from_file_name(&name) {
                let path = entry.path();
                let meta = entry.metadata().map_err(io("look at", &path))?;
                files.push(PoolFile {
                    name: b,
                    path,
                    len: meta.len(),
                    allocated: self.thin.then(|| Self::allocated_of(&meta)),
                });
            }
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(files)
    }

    /// Attaches `file` unless it is attached already; returns its device.
    async fn ensure_attached(&self, file: &Path) -> Result<PathBuf, BackendError> {
        let loops = self.loops().await?;
        match Self::attached_to(&loops, file).into_iter().next() {
            Some(dev) => Ok(dev),
            None => self.attach(file).await,
        }
    }

    /// Attaches a freshly written file and wipes the device; on failure detaches and removes it.
    async fn attach_new(&self, file: &Path, wipe: bool) -> Result<PathBuf, BackendError> {
        let dev = match self.attach(file).await {
            Ok(dev) => dev,
            Err(cause) => {
                let rb = Self::remove(file);
                return Err(after_rollback(cause, rb, || {
                    format!("file {}", file.display())
                }));
            }
        };
        if wipe && self.cfg.wipe {
            if let Err(cause) = quick_wipe(&self.exec, &path_arg(&dev)).await {
                let detached = self.detach(&dev).await;
                let removed = Self::remove(file);
                let left = match (&detached, &removed) {
                    (Err(_), Err(_)) => {
                        format!("loop device {} and file {}", dev.display(), file.display())
                    }
                    (Err(_), Ok(())) => format!("loop device {}", dev.display()),
                    _ => format!("file {}", file.display()),
                };
                return Err(after_rollback(cause, detached.and(removed), || left));
            }
        }
        Ok(dev)
    }

    /// Whether the pool's file system can make reflink copies (needed for snapshots), checked
    /// as LINSTOR does: `cp --reflink=always` of a small test file
    /// (`LinstorSnapshotTestSource.img` → `LinstorSnapshotTestTarget.img`), both removed after.
    pub async fn supports_reflink(&self) -> Result<bool, BackendError> {
        self.check_dir()?;
        let src = self.dir.join("LinstorSnapshotTestSource.img");
        let dst = self.dir.join("LinstorSnapshotTestTarget.img");
        std::fs::write(&src, [0u8; 4096]).map_err(|source| BackendError::Io {
            action: "write the reflink test file",
            path: src.clone(),
            source,
        })?;
        let result = self
            .exec
            .run(
                "cp",
                vec!["--reflink=always".into(), path_arg(&src), path_arg(&dst)],
            )
            .await;
        let cleanup = Self::remove(&src).and(Self::remove(&dst));
        match result {
            Ok(_) => cleanup.map(|()| true),
            Err(BackendError::CommandFailed { .. }) => cleanup.map(|()| false),
            Err(e) => Err(e),
        }
    }

    /// Runs a command that writes `file`; on failure removes whatever it left.
    async fn write_file(
        &self,
        program: &str,
        args: Vec<String>,
        file: &Path,
    ) -> Result<(), BackendError> {
        if let Err(cause) = self.exec.run(program, args).await {
            let rb = Self::remove(file);
            return Err(after_rollback(cause, rb, || {
                format!("file {}", file.display())
            }));
        }
        Ok(())
    }
}

#[async_trait]
impl StorageProvider for FileProvider {
    fn kind(&self) -> ProviderKind {
        if self.thin {
            ProviderKind::FILE_THIN
        } else {
            ProviderKind::FILE
        }
    }

    fn pool(&self) -> &str {
        &self.dir_str
    }

    async fn capacity(&self) -> Result<PoolCapacity, BackendError> {
        self.check_dir()?;
        let total = bytes_to_kib_floor(self.df("size").await?);
        let free = bytes_to_kib_floor(self.df("avail").await?);
        Ok(PoolCapacity { free, total })
    }

    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError> {
        let files: Vec<(VolumeId, PoolFile)> = self
            .pool_files()?
            .into_iter()
            .filter_map(|f| match &f.name {
                BackingName::Volume(id) => Some((id.clone(), f)),
                BackingName::Snapshot(..) => None,
            })
            .collect();
        let loops = self.loops().await?;
        let by_file = LoopIndex::new(&loops);
        Ok(files
            .into_iter()
            .map(|(id, f)| {
                let dev = by_file.first(&f.path);
                self.info(&id, &f.path, f.len, f.allocated, dev)
            })
            .collect())
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError> {
        Ok(self
            .pool_files()?
            .into_iter()
            .filter_map(|f| match f.name {
                BackingName::Snapshot(vol, snap) => Some(SnapshotListing {
                    vol,
                    snap,
                    info: SnapshotInfo {
                        name: f
                            .path
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        size: bytes_to_kib_ceil(f.len),
                        simulated: false,
                    },
                }),
                BackingName::Volume(_) => None,
            })
            .collect())
    }

    async fn create_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        check_size(size)?;
        self.check_dir()?;
        let file = self.volume_file(vol);
        if let Existing::Present(len) = Self::existing(&file)? {
            if len == size.bytes() {
                let dev = self.ensure_attached(&file).await?;
                return Ok(CreateOutcome::AlreadyPresent(self.info_now(
                    vol,
                    &file,
                    len,
                    Some(dev),
                )?));
            }
            return Err(size_mismatch(
                &vol.file_name(),
                bytes_to_kib_ceil(len),
                size,
            ));
        }
        let cap = self.capacity().await?;
        check_fits(self.kind(), &self.dir_str, size, &cap)?;
        let args = if self.thin {
            vec!["-s".into(), kib_arg(size), path_arg(&file)]
        } else {
            vec!["-x".into(), "-l".into(), kib_arg(size), path_arg(&file)]
        };
        self.write_file(
            if self.thin { "truncate" } else { "fallocate" },
            args,
            &file,
        )
        .await?;
        let dev = self.attach_new(&file, true).await?;
        Ok(CreateOutcome::Created(self.info_now(
            vol,
            &file,
            size.bytes(),
            Some(dev),
        )?))
    }

    async fn delete_volume(&self, vol: &VolumeId) -> Result<DeleteOutcome, BackendError> {
        let file = self.volume_file(vol);
        let exists = matches!(Self::existing(&file)?, Existing::Present(_));
        let loops = self.loops().await?;
        let devs = Self::attached_to(&loops, &file);
        if !exists && devs.is_empty() {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        for dev in &devs {
            self.detach(dev).await?;
        }
        Self::remove(&file)?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn resize_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError> {
        check_size(size)?;
        let file = self.volume_file(vol);
        let Existing::Present(len) = Self::existing(&file)? else {
            return Err(BackendError::NotFound {
                what: "volume file",
                name: path_arg(&file),
            });
        };
        let from = bytes_to_kib_ceil(len);
        if len == size.bytes() {
            return Ok(ResizeOutcome::Unchanged(from));
        }
        let grow = size > from;
        if grow {
            let cap = self.capacity().await?;
            if self.thin {
                check_fits(self.kind(), &self.dir_str, size, &cap)?;
            } else if size.kib() - from.kib() > cap.free.kib() {
                return Err(BackendError::no_space(
                    &self.dir_str,
                    SizeKib(size.kib() - from.kib()),
                    cap.free,
                ));
            }
        }
        if grow && !self.thin {
            self.exec
                .run(
                    "fallocate",
                    vec!["-x".into(), "-l".into(), kib_arg(size), path_arg(&file)],
                )
                .await?;
        } else {
            self.exec
                .run(
                    "truncate",
                    vec!["-s".into(), kib_arg(size), path_arg(&file)],
                )
                .await?;
        }
        let loops = self.loops().await?;
        for dev in Self::attached_to(&loops, &file) {
            self.exec
                .run("losetup", vec!["-c".into(), path_arg(&dev)])
                .await?;
        }
        Ok(ResizeOutcome::Resized { from, to: size })
    }

    async fn create_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError> {
        let file = self.volume_file(vol);
        let snap_file = self.snapshot_file(vol, snap);
        let Existing::Present(len) = Self::existing(&file)? else {
            return Err(BackendError::NotFound {
                what: "volume file",
                name: path_arg(&file),
            });
        };
        let info = |len| SnapshotInfo {
            name: vol.file_snapshot_name(snap),
            size: bytes_to_kib_ceil(len),
            simulated: false,
        };
        if let Existing::Present(slen) = Self::existing(&snap_file)? {
            return Ok(CreateOutcome::AlreadyPresent(info(slen)));
        }
        self.write_file(
            "cp",
            vec![
                "--reflink=always".into(),
                path_arg(&file),
                path_arg(&snap_file),
            ],
            &snap_file,
        )
        .await?;
        Ok(CreateOutcome::Created(info(len)))
    }

    async fn delete_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError> {
        let snap_file = self.snapshot_file(vol, snap);
        match Self::existing(&snap_file)? {
            Existing::Absent => Ok(DeleteOutcome::AlreadyAbsent),
            Existing::Present(_) => {
                Self::remove(&snap_file)?;
                Ok(DeleteOutcome::Deleted)
            }
        }
    }

    async fn restore_snapshot(
        &self,
        source: &VolumeId,
        snap: &SnapshotName,
        target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        let snap_file = self.snapshot_file(source, snap);
        let new_file = self.volume_file(target);
        let Existing::Present(slen) = Self::existing(&snap_file)? else {
            return Err(BackendError::NotFound {
                what: "snapshot file",
                name: path_arg(&snap_file),
            });
        };
        if let Existing::Present(len) = Self::existing(&new_file)? {
            if len == slen {
                let dev = self.ensure_attached(&new_file).await?;
                return Ok(CreateOutcome::AlreadyPresent(self.info_now(
                    target,
                    &new_file,
                    len,
                    Some(dev),
                )?));
            }
            return Err(size_mismatch(
                &target.file_name(),
                bytes_to_kib_ceil(len),
                bytes_to_kib_ceil(slen),
            ));
        }
        let cap = self.capacity().await?;
        check_fits(self.kind(), &self.dir_str, bytes_to_kib_ceil(slen), &cap)?;
        self.write_file(
            "cp",
            vec![path_arg(&snap_file), path_arg(&new_file)],
            &new_file,
        )
        .await?;
        let dev = self.attach_new(&new_file, false).await?;
        Ok(CreateOutcome::Created(self.info_now(
            target,
            &new_file,
            slen,
            Some(dev),
        )?))
    }

    async fn device_path(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        let file = self.volume_file(vol);
        let loops = self.loops().await?;
        Ok(Self::attached_to(&loops, &file).into_iter().next())
    }

    async fn activate(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        let file = self.volume_file(vol);
        match Self::existing(&file)? {
            Existing::Present(_) => self.ensure_attached(&file).await.map(Some),
            _ => Ok(None),
        }
    }
}
