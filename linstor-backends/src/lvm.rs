//! LVM (thick) and LVM thin providers, with LINSTOR's exact commands.
//!
//! Every LVM command gets LINSTOR's device filter
//! `--config 'devices { filter=['a|<pv>|',…,'r|.*|'] }'`, built from the volume group's PVs as
//! `pvdisplay` lists them (cached). If an LVM command fails, the filter is rebuilt and the command
//! retried once (`execWithRetry`). With `--config` among the user's `LvcreateOptions`, or with
//! [`LvmConfig::use_filter`] off, no filter is passed and nothing is retried.
//!
//! | operation | thick | thin |
//! |---|---|---|
//! | list volumes | `lvs … <vg>`: LVs outside thin pools named `<rsc>_<NNNNN>` | same `lvs`: LVs in the thin pool named `<rsc>_<NNNNN>` |
//! | list snapshots | none (no command) | the same one `lvs`: LVs in the thin pool named `<rsc>_<NNNNN>_<snap>` |
//! | space | `vgs` size / free | thin pool LV size, size × (1 − data%) |
//! | create | `pvdisplay … --sort pv_used` (PV selection), `lvcreate --size <n>k <vg> -n <lv> -y <opts…> <PVs…>` + quick wipe | `lvcreate --virtualsize <n>k <vg> --thinpool <pool> --name <lv>`, `lvchange -ay -K`, quick wipe |
//! | resize | `lvresize --size <n>k <vg>/<lv> -f` | same |
//! | delete | quick wipe, `lvremove -f <vg>/<lv>` (retried while busy) | `lvremove -f <vg>/<lv>` (retried while busy) |
//! | snapshot | unsupported | `lvcreate --snapshot --setactivationskip y --ignoreactivationskip --activate y --name <vg>/<lv>_<snap> <vg>/<lv>` |
//! | restore | unsupported | `lvcreate --snapshot --name <new> <vg>/<lv>_<snap>`, `lvchange -ay -K` |
//!
//! Every listing and lookup uses LINSTOR's one `lvs` call (`lvs -o` [`LVS_COLUMNS`]
//! `--separator ';' --noheadings --units k --nosuffix <vg>`). Snapshots are recognised as
//! LINSTOR names them, by name (`<lv>_<snap>`, read from the right with
//! [`BackingName::from_lv_name`]), not by `origin`: a thin snapshot keeps no origin once its
//! volume is deleted (LVM-thin snapshots are independent), and a volume restored from a
//! snapshot has one. Thick pools have no snapshots in LINSTOR: their listing is empty and runs
//! nothing.
//!
//! [`LvmProvider::check_thin_pool`] does LINSTOR's pool check: the thin pool must exist, and if
//! its `lv_attr` lacks `z` (new blocks not zeroed), `lvchange --zero y <vg>/<pool>` is run.
//!
//! The quick wipe is [`crate::wipe`]'s: `wipefs -a -f`, `blockdev --getsize64`, and `dd`
//! zeroing the DRBD metadata superblock areas at both ends ([`LvmConfig::wipe`] turns all of it
//! off). `lvremove` is retried while the LV is busy ([`is_busy`],
//! [`LvmConfig::lvremove_busy_retries`]); a busy failure does not rebuild the device filter.
//!
//! Thick `lvcreate` gets the VG's PVs appended in the order `pvdisplay <LvcreatePvSelection>`
//! lists them ([`LvmConfig::lvcreate_pv_selection`], default `--sort pv_used`, as in LINSTOR
//! 1.34); this `pvdisplay` runs with the same DRBD-rejecting filter as the filter's own.
//!
//! Not done (yet): rounding for striped LVs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use linstor_core::model::{PoolCapacity, ProviderKind};
use linstor_core::{SizeKib, SnapshotName};

use crate::error::BackendError;
use crate::exec::{BusyRetry, Exec, after_rollback};
use crate::naming::{
    BackingName, VolumeId, check_option_words, check_thin_pool_spec, check_vg_name,
};
use crate::parse::lvm::{
    LVS_COLUMNS, LvsRow, VGS_COLUMNS, VGS_THIN_COLUMNS, VgsRow, parse_lvs, parse_pv_names,
    parse_vgs, parse_vgs_with_lvs,
};
use crate::provider::{
    CreateOutcome, DeleteOutcome, ResizeOutcome, SnapshotInfo, SnapshotListing, StorageProvider,
    VolumeInfo, check_fits, check_size, round_up, size_matches, size_mismatch, unsupported,
};
use crate::runner::{CmdOutput, CommandRunner};
use crate::wipe::quick_wipe;

/// The filter `pvdisplay` runs with to find a VG's PVs (rejects DRBD devices, accepts the rest).
pub const PVDISPLAY_FILTER: &str = "devices { filter=[\"r|^/dev/drbd.*|\"] }";

/// Settings of an LVM pool.
#[derive(Debug, Clone)]
pub struct LvmConfig {
    /// Extra environment for every LVM command (e.g. `LVM_SYSTEM_DIR`).
    pub env: Vec<(String, String)>,
    /// Extra `lvcreate` words (`StorDriver/LvcreateOptions`), appended as LINSTOR does.
    pub lvcreate_options: Vec<String>,
    /// `StorDriver/LvcreatePvSelection`: extra `pvdisplay` words that order the VG's PVs for a
    /// thick `lvcreate`, which then gets the PV names appended (LINSTOR 1.34: new LVs go to the
    /// least-used PVs first). Default `--sort pv_used`; empty turns the selection off (no
    /// `pvdisplay`, no PVs appended). Not used for thin pools.
    pub lvcreate_pv_selection: Vec<String>,
    /// Pass LINSTOR's `--config` device filter (default true).
    pub use_filter: bool,
    /// Quick-wipe new volumes and thick volumes before delete (`wipefs -a -f` and zeroing the
    /// DRBD superblock areas, see [`crate::wipe`]; default true; a host without device-mapper
    /// has no LV device nodes to wipe, so nothing of the wipe runs there).
    pub wipe: bool,
    /// Timeout per command.
    pub timeout: Duration,
    /// How many more times `lvremove` is run while it fails because the LV is busy (stderr
    /// says "in use", "open" or "busy", see [`is_busy`]); default 5.
    pub lvremove_busy_retries: u32,
    /// The pause before each of those retries (default 1 s; tests make it short).
    pub lvremove_busy_delay: Duration,
}

impl Default for LvmConfig {
    fn default() -> Self {
        LvmConfig {
            env: Vec::new(),
            lvcreate_options: Vec::new(),
            lvcreate_pv_selection: vec!["--sort".into(), "pv_used".into()],
            use_filter: true,
            wipe: true,
            timeout: Duration::from_secs(120),
            lvremove_busy_retries: 5,
            lvremove_busy_delay: Duration::from_secs(1),
        }
    }
}

/// An LVM volume group (thick) or thin pool (thin).
#[derive(Debug)]
pub struct LvmProvider {
    exec: Exec,
    vg: String,
    thin_pool: Option<String>,
    pool: String,
    cfg: LvmConfig,
    filter: Mutex<Option<String>>,
}

/// Whether an LVM command failed because the LV is busy (open or in use), as `lvremove` reports
/// it: "Logical volume vg/lv in use.", "Can't remove open logical volume", or device-mapper's
/// "Device or resource busy". A new device filter does not help then, so such failures are not
/// retried with a rebuilt filter; `lvremove` is retried after a pause instead.
pub fn is_busy(e: &BackendError) -> bool {
    match e {
        BackendError::CommandFailed { stderr, .. } => {
            let s = stderr.to_ascii_lowercase();
            s.contains("in use") || s.contains("open logical volume") || s.contains("busy")
        }
        _ => false,
    }
}

/// Builds LINSTOR's `--config` value accepting exactly these PVs.
pub fn device_filter(pvs: &[String]) -> String {
    let mut parts: Vec<String> = pvs.iter().map(|pv| format!("'a|{pv}|'")).collect();
    parts.push("'r|.*|'".to_owned());
    format!("devices {{ filter=[{}] }}", parts.join(","))
}

impl LvmProvider {
    /// A thick pool on volume group `vg`.
    pub fn thick(
        runner: Arc<dyn CommandRunner>,
        vg: &str,
        cfg: LvmConfig,
    ) -> Result<Self, BackendError> {
        check_vg_name("storage pool volume group (StorDriver/StorPoolName)", vg)?;
        Self::build(runner, vg.to_owned(), None, vg.to_owned(), cfg)
    }

    /// A thin pool given as `<vg>/<thinpool>`.
    pub fn thin(
        runner: Arc<dyn CommandRunner>,
        spec: &str,
        cfg: LvmConfig,
    ) -> Result<Self, BackendError> {
        let (vg, pool) =
            check_thin_pool_spec("storage pool thin pool (StorDriver/StorPoolName)", spec)?;
        Self::build(
            runner,
            vg.to_owned(),
            Some(pool.to_owned()),
            spec.to_owned(),
            cfg,
        )
    }

    fn build(
        runner: Arc<dyn CommandRunner>,
        vg: String,
        thin_pool: Option<String>,
        pool: String,
        mut cfg: LvmConfig,
    ) -> Result<Self, BackendError> {
        check_option_words("LvcreateOptions", &cfg.lvcreate_options)?;
        check_option_words("LvcreatePvSelection", &cfg.lvcreate_pv_selection)?;
        for (k, _) in &cfg.env {
            if k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(BackendError::invalid(
                    "environment variable name",
                    k.clone(),
                    "use letters, digits and '_'",
                ));
            }
        }
        if cfg.lvcreate_options.iter().any(|o| o == "--config") {
            cfg.use_filter = false;
        }
        let exec = Exec {
            runner,
            env: cfg.env.clone(),
            timeout: cfg.timeout,
        };
        Ok(LvmProvider {
            exec,
            vg,
            thin_pool,
            pool,
            cfg,
            filter: Mutex::new(None),
        })
    }

    /// The volume group.
    pub fn vg(&self) -> &str {
        &self.vg
    }

    /// The thin pool LV, for thin pools.
    pub fn thin_pool(&self) -> Option<&str> {
        self.thin_pool.as_deref()
    }

    fn cached_filter(&self) -> Option<String> {
        self.filter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_filter(&self, f: Option<String>) {
        *self
            .filter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = f;
    }

    /// The VG's PVs as `pvdisplay` lists them, with `extra` words (e.g. `--sort pv_used`)
    /// appended to its argv.
    async fn pv_names(&self, extra: &[String]) -> Result<Vec<String>, BackendError> {
        let mut args: Vec<String> = vec![
            "--config".into(),
            PVDISPLAY_FILTER.into(),
            "--columns".into(),
            "-o".into(),
            "pv_name".into(),
            "-S".into(),
            format!("vg_name={}", self.vg),
            "--noheadings".into(),
            "--nosuffix".into(),
        ];
        args.extend(extra.iter().cloned());
        let out = self.exec.run("pvdisplay", args).await?;
        parse_pv_names(&out.stdout)
    }

    /// Lists the VG's PVs with `pvdisplay` and builds the filter.
    async fn build_filter(&self) -> Result<String, BackendError> {
        let filter = device_filter(&self.pv_names(&[]).await?);
        self.set_filter(Some(filter.clone()));
        Ok(filter)
    }

    fn with_filter(filter: Option<&str>, args: &[String]) -> Vec<String> {
        let mut v = Vec::with_capacity(args.len() + 2);
        if let Some(f) = filter {
            v.push("--config".to_owned());
            v.push(f.to_owned());
        }
        v.extend(args.iter().cloned());
        v
    }

    /// Runs an LVM command with the filter; on failure rebuilds the filter and retries once.
    async fn lvm(
        &self,
        tool: &str,
        args: Vec<String>,
        any_exit: bool,
    ) -> Result<CmdOutput, BackendError> {
        if !self.cfg.use_filter {
            let mut cmd = self.exec.cmd(tool, args);
            if any_exit {
                cmd = cmd.any_exit_code();
            }
            return self.exec.run_cmd(&cmd).await;
        }
        let filter = match self.cached_filter() {
            Some(f) => f,
            None => self.build_filter().await?,
        };
        let mut cmd = self.exec.cmd(tool, Self::with_filter(Some(&filter), &args));
        if any_exit {
            cmd = cmd.any_exit_code();
        }
        match self.exec.run_cmd(&cmd).await {
            Err(first @ BackendError::CommandFailed { .. }) if !is_busy(&first) => {
                tracing::info!(error = %first, "LVM command failed; rebuilding the device filter and retrying once");
                self.set_filter(None);
                let filter = self.build_filter().await?;
                let mut cmd = self.exec.cmd(tool, Self::with_filter(Some(&filter), &args));
                if any_exit {
                    cmd = cmd.any_exit_code();
                }
                self.exec.run_cmd(&cmd).await
            }
            other => other,
        }
    }

    async fn lvs(&self) -> Result<Vec<LvsRow>, BackendError> {
        let args = vec![
            "-o".into(),
            LVS_COLUMNS.into(),
            "--separator".into(),
            ";".into(),
            "--noheadings".into(),
            "--units".into(),
            "k".into(),
            "--nosuffix".into(),
            self.vg.clone(),
        ];
        // LINSTOR does not check lvs' exit code (a missing VG simply has no LVs).
        let out = self.lvm("lvs", args, true).await?;
        // `stripes` is a segment field, so an LV with several segments (e.g. after a resize)
        // is printed once per segment: keep the first row of each LV.
        let mut rows: Vec<LvsRow> = Vec::new();
        for r in parse_lvs(&out.stdout)? {
            if r.vg_name == self.vg && !rows.iter().any(|x| x.lv_name == r.lv_name) {
                rows.push(r);
            }
        }
        Ok(rows)
    }

    async fn find_lv(&self, name: &str) -> Result<Option<LvsRow>, BackendError> {
        Ok(self.lvs().await?.into_iter().find(|r| r.lv_name == name))
    }

    async fn vgs(&self) -> Result<VgsRow, BackendError> {
        let args = vec![
            "-o".into(),
            VGS_COLUMNS.into(),
            "--separator".into(),
            ";".into(),
            "--units".into(),
            "k".into(),
            "--noheadings".into(),
            "--nosuffix".into(),
            self.vg.clone(),
        ];
        let out = self
            .lvm("vgs", args, false)
            .await
            .map_err(|e| self.vg_not_found(e))?;
        parse_vgs(&out.stdout)?
            .into_iter()
            .find(|r| r.vg_name == self.vg)
            .ok_or_else(|| BackendError::NotFound {
                what: "volume group",
                name: self.vg.clone(),
            })
    }

    fn vg_not_found(&self, e: BackendError) -> BackendError {
        match &e {
            BackendError::CommandFailed { stderr, .. } if stderr.contains("not found") => {
                BackendError::NotFound {
                    what: "volume group",
                    name: self.vg.clone(),
                }
            }
            _ => e,
        }
    }

    fn device(&self, lv: &str) -> PathBuf {
        PathBuf::from(format!("/dev/{}/{}", self.vg, lv))
    }

    fn info(&self, id: &VolumeId, r: &LvsRow) -> VolumeInfo {
        VolumeInfo {
            id: id.clone(),
            name: r.lv_name.clone(),
            size: r.size,
            allocated: if self.thin_pool.is_some() {
                r.data_percent.map(|p| p.used_of(r.size))
            } else {
                None
            },
            device_path: Some(self.device(&r.lv_name)),
            simulated: false,
        }
    }

    fn is_ours(&self, r: &LvsRow) -> bool {
        match &self.thin_pool {
            Some(pool) => r.pool_lv.as_deref() == Some(pool.as_str()),
            None => !r.is_thin_pool() && r.pool_lv.is_none(),
        }
    }

    async fn wipe(&self, lv: &str) -> Result<(), BackendError> {
        if self.cfg.wipe {
            quick_wipe(&self.exec, &self.device(lv).display().to_string()).await?;
        }
        Ok(())
    }

    /// `lvremove -f <vg>/<lv>`, retried while the LV is busy ([`is_busy`]) up to
    /// [`LvmConfig::lvremove_busy_retries`] more times, [`LvmConfig::lvremove_busy_delay`] apart.
    /// If it is still busy then, the result is [`BackendError::InUse`] naming the last argv and
    /// its stderr.
    async fn lvremove(&self, lv: &str) -> Result<(), BackendError> {
        let target = format!("{}/{}", self.vg, lv);
        let retry = BusyRetry {
            retries: self.cfg.lvremove_busy_retries,
            delay: self.cfg.lvremove_busy_delay,
        };
        retry
            .run("logical volume", &target, is_busy, || {
                self.lvm("lvremove", vec!["-f".into(), target.clone()], false)
            })
            .await
            .map(|_| ())
    }

    async fn activate(&self, lv: &str) -> Result<(), BackendError> {
        self.lvm(
            "lvchange",
            vec!["-ay".into(), "-K".into(), format!("{}/{}", self.vg, lv)],
            false,
        )
        .await
        .map(|_| ())
    }

    /// Runs `steps` after a create; on failure removes the LV again.
    async fn finish_create(
        &self,
        lv: &str,
        activate: bool,
        wipe: bool,
    ) -> Result<(), BackendError> {
        let result = async {
            if activate {
                self.activate(lv).await?;
            }
            if wipe {
                self.wipe(lv).await?;
            }
            Ok(())
        }
        .await;
        if let Err(cause) = result {
            let rb = self.lvremove(lv).await;
            return Err(after_rollback(cause, rb, || format!("LV {}/{lv}", self.vg)));
        }
        Ok(())
    }

    async fn fresh_info(&self, id: &VolumeId) -> Result<VolumeInfo, BackendError> {
        let lv = id.lv_name();
        match self.find_lv(&lv).await? {
            Some(r) => Ok(self.info(id, &r)),
            None => Err(BackendError::NotFound {
                what: "logical volume",
                name: format!("{}/{lv}", self.vg),
            }),
        }
    }

    /// LINSTOR's thin pool check (call when the pool is configured): the thin pool LV must
    /// exist and be a thin pool; if it does not zero new blocks, `lvchange --zero y` turns
    /// zeroing on (a thin volume must never show another volume's old data). Returns whether
    /// zeroing had to be turned on. Thick pools only check that the volume group exists.
    pub async fn check_thin_pool(&self) -> Result<bool, BackendError> {
        let Some(pool) = &self.thin_pool else {
            self.vgs().await?;
            return Ok(false);
        };
        let rows = self.lvs().await?;
        let Some(row) = rows.iter().find(|r| &r.lv_name == pool) else {
            return Err(BackendError::NotFound {
                what: "thin pool",
                name: self.pool.clone(),
            });
        };
        if !row.is_thin_pool() {
            return Err(BackendError::invalid(
                "storage pool thin pool (StorDriver/StorPoolName)",
                self.pool.clone(),
                format!(
                    "LV {} is not a thin pool (lv_attr {}); give a thin pool LV",
                    self.pool, row.lv_attr
                ),
            ));
        }
        if row.zeroes_new_blocks() {
            return Ok(false);
        }
        self.lvm(
            "lvchange",
            vec!["--zero".into(), "y".into(), self.pool.clone()],
            false,
        )
        .await?;
        Ok(true)
    }

    async fn thin_capacity(&self, pool: &str) -> Result<(SizeKib, PoolCapacity), BackendError> {
        let args = vec![
            "-o".into(),
            VGS_THIN_COLUMNS.into(),
            "--separator".into(),
            ";".into(),
            "--units".into(),
            "k".into(),
            "--noheadings".into(),
            "--nosuffix".into(),
            self.vg.clone(),
        ];
        let out = self
            .lvm("vgs", args, false)
            .await
            .map_err(|e| self.vg_not_found(e))?;
        let row = parse_vgs_with_lvs(&out.stdout)?
            .into_iter()
            .find(|r| r.vg.vg_name == self.vg && r.lv_name.as_deref() == Some(pool))
            .ok_or_else(|| BackendError::NotFound {
                what: "thin pool",
                name: self.pool.clone(),
            })?;
        let total = row.lv_size.unwrap_or_default();
        let free = row.data_percent.unwrap_or_default().remaining_of(total);
        Ok((row.vg.extent_size, PoolCapacity { free, total }))
    }

    /// The extent size and the pool's space (one `vgs` call).
    async fn space(&self) -> Result<(SizeKib, PoolCapacity), BackendError> {
        match &self.thin_pool {
            Some(pool) => self.thin_capacity(pool).await,
            None => {
                let vg = self.vgs().await?;
                Ok((
                    vg.extent_size,
                    PoolCapacity {
                        free: vg.free,
                        total: vg.size,
                    },
                ))
            }
        }
    }
}

fn size_k(size: SizeKib) -> String {
    format!("{}k", size.kib())
}

#[async_trait]
impl StorageProvider for LvmProvider {
    fn kind(&self) -> ProviderKind {
        if self.thin_pool.is_some() {
            ProviderKind::LVM_THIN
        } else {
            ProviderKind::LVM
        }
    }

    fn pool(&self) -> &str {
        &self.pool
    }

    async fn capacity(&self) -> Result<PoolCapacity, BackendError> {
        Ok(self.space().await?.1)
    }

    async fn list_volumes(&self) -> Result<Vec<VolumeInfo>, BackendError> {
        let mut v: Vec<VolumeInfo> = self
            .lvs()
            .await?
            .iter()
            .filter(|r| self.is_ours(r))
            .filter_map(|r| match BackingName::from_lv_name(&r.lv_name)? {
                BackingName::Volume(id) => Some(self.info(&id, r)),
                BackingName::Snapshot(..) => None,
            })
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    async fn list_snapshots(&self) -> Result<Vec<SnapshotListing>, BackendError> {
        if self.thin_pool.is_none() {
            return Ok(Vec::new());
        }
        let mut v: Vec<SnapshotListing> = self
            .lvs()
            .await?
            .iter()
            .filter(|r| self.is_ours(r))
            .filter_map(|r| match BackingName::from_lv_name(&r.lv_name)? {
                BackingName::Snapshot(vol, snap) => Some(SnapshotListing {
                    vol,
                    snap,
                    info: SnapshotInfo {
                        name: r.lv_name.clone(),
                        size: r.size,
                        simulated: false,
                    },
                }),
                BackingName::Volume(_) => None,
            })
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
        let lv = vol.lv_name();
        let existing = self.find_lv(&lv).await?;
        let (extent, cap) = self.space().await?;
        if let Some(r) = existing {
            if size_matches(r.size, size, extent) {
                return Ok(CreateOutcome::AlreadyPresent(self.info(vol, &r)));
            }
            return Err(size_mismatch(&lv, r.size, size));
        }
        let mut args;
        match &self.thin_pool {
            None => {
                let rounded = round_up(size, extent);
                if rounded > cap.free {
                    return Err(BackendError::no_space(&self.pool, rounded, cap.free));
                }
                args = vec![
                    "--size".into(),
                    size_k(size),
                    self.vg.clone(),
                    "-n".into(),
                    lv.clone(),
                    "-y".into(),
                ];
            }
            Some(pool) => {
                check_fits(self.kind(), &self.pool, size, &cap)?;
                args = vec![
                    "--virtualsize".into(),
                    size_k(size),
                    self.vg.clone(),
                    "--thinpool".into(),
                    pool.clone(),
                    "--name".into(),
                    lv.clone(),
                ];
            }
        }
        args.extend(self.cfg.lvcreate_options.iter().cloned());
        if self.thin_pool.is_none() && !self.cfg.lvcreate_pv_selection.is_empty() {
            args.extend(self.pv_names(&self.cfg.lvcreate_pv_selection).await?);
        }
        self.lvm("lvcreate", args, false).await?;
        self.finish_create(&lv, self.thin_pool.is_some(), true)
            .await?;
        Ok(CreateOutcome::Created(self.fresh_info(vol).await?))
    }

    async fn delete_volume(&self, vol: &VolumeId) -> Result<DeleteOutcome, BackendError> {
        let lv = vol.lv_name();
        if self.find_lv(&lv).await?.is_none() {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        if self.thin_pool.is_none() {
            self.wipe(&lv).await?;
        }
        self.lvremove(&lv).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn resize_volume(
        &self,
        vol: &VolumeId,
        size: SizeKib,
    ) -> Result<ResizeOutcome, BackendError> {
        check_size(size)?;
        let lv = vol.lv_name();
        let Some(r) = self.find_lv(&lv).await? else {
            return Err(BackendError::NotFound {
                what: "logical volume",
                name: format!("{}/{lv}", self.vg),
            });
        };
        let (extent, cap) = self.space().await?;
        if size_matches(r.size, size, extent) {
            return Ok(ResizeOutcome::Unchanged(r.size));
        }
        if size < r.size && !self.capabilities().shrink {
            return Err(unsupported(
                self.kind(),
                "shrink",
                "LINSTOR does not shrink this kind",
            ));
        }
        if self.thin_pool.is_none() {
            let grow = round_up(size, extent).kib().saturating_sub(r.size.kib());
            if grow > cap.free.kib() {
                return Err(BackendError::no_space(&self.pool, SizeKib(grow), cap.free));
            }
        } else {
            check_fits(self.kind(), &self.pool, size, &cap)?;
        }
        self.lvm(
            "lvresize",
            vec![
                "--size".into(),
                size_k(size),
                format!("{}/{lv}", self.vg),
                "-f".into(),
            ],
            false,
        )
        .await?;
        let now = self.fresh_info(vol).await?;
        Ok(ResizeOutcome::Resized {
            from: r.size,
            to: now.size,
        })
    }

    async fn create_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<CreateOutcome<SnapshotInfo>, BackendError> {
        if self.thin_pool.is_none() {
            return Err(unsupported(
                self.kind(),
                "snapshots",
                "thick LVM has no snapshots in LINSTOR; use LVM_THIN",
            ));
        }
        let lv = vol.lv_name();
        let snap_lv = vol.lvm_snapshot_name(snap);
        let rows = self.lvs().await?;
        let Some(src) = rows.iter().find(|r| r.lv_name == lv) else {
            return Err(BackendError::NotFound {
                what: "logical volume",
                name: format!("{}/{lv}", self.vg),
            });
        };
        if let Some(s) = rows.iter().find(|r| r.lv_name == snap_lv) {
            return Ok(CreateOutcome::AlreadyPresent(SnapshotInfo {
                name: snap_lv,
                size: s.size,
                simulated: false,
            }));
        }
        let size = src.size;
        self.lvm(
            "lvcreate",
            vec![
                "--snapshot".into(),
                "--setactivationskip".into(),
                "y".into(),
                "--ignoreactivationskip".into(),
                "--activate".into(),
                "y".into(),
                "--name".into(),
                format!("{}/{snap_lv}", self.vg),
                format!("{}/{lv}", self.vg),
            ],
            false,
        )
        .await?;
        Ok(CreateOutcome::Created(SnapshotInfo {
            name: snap_lv,
            size,
            simulated: false,
        }))
    }

    async fn delete_snapshot(
        &self,
        vol: &VolumeId,
        snap: &SnapshotName,
    ) -> Result<DeleteOutcome, BackendError> {
        if self.thin_pool.is_none() {
            return Err(unsupported(
                self.kind(),
                "snapshots",
                "thick LVM has no snapshots in LINSTOR; use LVM_THIN",
            ));
        }
        let snap_lv = vol.lvm_snapshot_name(snap);
        if self.find_lv(&snap_lv).await?.is_none() {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        self.lvremove(&snap_lv).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn restore_snapshot(
        &self,
        source: &VolumeId,
        snap: &SnapshotName,
        target: &VolumeId,
    ) -> Result<CreateOutcome<VolumeInfo>, BackendError> {
        if self.thin_pool.is_none() {
            return Err(unsupported(
                self.kind(),
                "snapshots",
                "thick LVM has no snapshots in LINSTOR; use LVM_THIN",
            ));
        }
        let snap_lv = source.lvm_snapshot_name(snap);
        let new_lv = target.lv_name();
        let rows = self.lvs().await?;
        let Some(s) = rows.iter().find(|r| r.lv_name == snap_lv) else {
            return Err(BackendError::NotFound {
                what: "snapshot",
                name: format!("{}/{snap_lv}", self.vg),
            });
        };
        if let Some(t) = rows.iter().find(|r| r.lv_name == new_lv) {
            if t.size == s.size {
                return Ok(CreateOutcome::AlreadyPresent(self.info(target, t)));
            }
            return Err(size_mismatch(&new_lv, t.size, s.size));
        }
        self.lvm(
            "lvcreate",
            vec![
                "--snapshot".into(),
                "--name".into(),
                new_lv.clone(),
                format!("{}/{snap_lv}", self.vg),
            ],
            false,
        )
        .await?;
        self.finish_create(&new_lv, true, false).await?;
        Ok(CreateOutcome::Created(self.fresh_info(target).await?))
    }

    async fn device_path(&self, vol: &VolumeId) -> Result<Option<PathBuf>, BackendError> {
        let lv = vol.lv_name();
        Ok(self.find_lv(&lv).await?.map(|_| self.device(&lv)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ExitKind;

    fn failed(stderr: &str) -> BackendError {
        BackendError::CommandFailed {
            argv: vec!["lvremove".into()],
            exit: ExitKind::Code(5),
            stdout: String::new(),
            stderr: stderr.into(),
        }
    }

    fn check(stderr: &str, want: bool) {
        assert_eq!(is_busy(&failed(stderr)), want, "{stderr:?}");
    }

    #[test]
    fn busy_texts() {
        check("  Logical volume vg/lv in use.\n", true);
        check(
            "  Logical volume vg/lv contains a filesystem in use.\n",
            true,
        );
        check("  Can't remove open logical volume \"lv\"\n", true);
        check(
            "  device-mapper: remove ioctl on (253:3) failed: Device or resource busy\n",
            true,
        );
        check("  Failed to find logical volume \"vg/lv\"\n", false);
        check("  Volume group \"vg\" not found\n", false);
        check("", false);
        assert!(!is_busy(&BackendError::NotFound {
            what: "logical volume",
            name: "in use".into()
        }));
    }
}
