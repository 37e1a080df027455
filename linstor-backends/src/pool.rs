//! Pool set-up for the physical-storage API: volume groups, thin pools, zpools, directories.
//!
//! | operation | commands |
//! |---|---|
//! | LVM pool | `pvcreate <devs…>`, `vgcreate <vg> <devs…>` (on failure: `pvremove <devs…>`) |
//! | LVM thin pool | the LVM pool, then `lvcreate -l 100%FREE -T -n <vg>/<thinpool>` |
//! | remove LVM pool | `vgremove <vg>`, `pvremove <devs…>` |
//! | zpool | `zpool create -f -m none <name> <devs…>`; remove: `zpool destroy <name>` |
//! | directory | created in-process (`mkdir -p`) |
//!
//! Existing pools are detected first (`vgs`, `lvs`, `zpool list -o name -H`), so every create
//! is idempotent. Devices must be absolute paths under `/dev/`; names are checked before any
//! command runs. Unlike LINSTOR we pass no `--config` device filter here (the PVs are new).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::BackendError;
use crate::exec::{Exec, after_rollback};
use crate::naming::{check_device, check_path, check_vg_name, check_zfs_dataset};
use crate::parse::lvm::parse_lvs;
use crate::parse::zfs::parse_zpool_names;
use crate::provider::{CreateOutcome, DeleteOutcome};
use crate::runner::CommandRunner;

/// Creates and removes pools.
#[derive(Debug, Clone)]
pub struct PoolSetup {
    exec: Exec,
}

fn dev_args(devices: &[PathBuf]) -> Result<Vec<String>, BackendError> {
    if devices.is_empty() {
        return Err(BackendError::invalid(
            "devices",
            "(none)",
            "give at least one block device",
        ));
    }
    devices
        .iter()
        .map(|d| check_device("device", d).map(|p| p.display().to_string()))
        .collect()
}

impl PoolSetup {
    /// Pool set-up through `runner`, with a 10-minute timeout per command.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Self {
        PoolSetup {
            exec: Exec {
                runner,
                env: Vec::new(),
                timeout: Duration::from_secs(600),
            },
        }
    }

    /// Adds environment for every command (e.g. `LVM_SYSTEM_DIR`).
    pub fn with_env(mut self, env: Vec<(String, String)>) -> Self {
        self.exec.env = env;
        self
    }

    /// Sets the timeout per command.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.exec.timeout = timeout;
        self
    }

    async fn vg_exists(&self, vg: &str) -> Result<bool, BackendError> {
        let cmd = self
            .exec
            .cmd(
                "vgs",
                vec![
                    "-o".into(),
                    "vg_name".into(),
                    "--noheadings".into(),
                    vg.to_owned(),
                ],
            )
            .any_exit_code();
        let out = self.exec.run_cmd(&cmd).await?;
        Ok(out.stdout.lines().any(|l| l.trim() == vg))
    }

    /// Creates volume group `vg` on `devices` (`pvcreate`, `vgcreate`).
    pub async fn create_lvm_pool(
        &self,
        vg: &str,
        devices: &[PathBuf],
    ) -> Result<CreateOutcome<String>, BackendError> {
        check_vg_name("volume group", vg)?;
        let devs = dev_args(devices)?;
        if self.vg_exists(vg).await? {
            return Ok(CreateOutcome::AlreadyPresent(vg.to_owned()));
        }
        self.exec.run("pvcreate", devs.clone()).await?;
        let mut args = vec![vg.to_owned()];
        args.extend(devs.iter().cloned());
        if let Err(cause) = self.exec.run("vgcreate", args).await {
            let rb = self.exec.run("pvremove", devs.clone()).await.map(|_| ());
            return Err(after_rollback(cause, rb, || {
                format!("PV labels on {}", devs.join(", "))
            }));
        }
        Ok(CreateOutcome::Created(vg.to_owned()))
    }

    /// Creates volume group `vg` on `devices` and a thin pool `thinpool` using all of it.
    pub async fn create_lvm_thin_pool(
        &self,
        vg: &str,
        thinpool: &str,
        devices: &[PathBuf],
    ) -> Result<CreateOutcome<String>, BackendError> {
        check_vg_name("thin pool", thinpool)?;
        let spec = format!("{vg}/{thinpool}");
        let vg_outcome = self.create_lvm_pool(vg, devices).await?;
        let cmd = self
            .exec
            .cmd(
                "lvs",
                vec![
                    "-o".into(),
                    crate::parse::lvm::LVS_COLUMNS.into(),
                    "--separator".into(),
                    ";".into(),
                    "--noheadings".into(),
                    "--units".into(),
                    "k".into(),
                    "--nosuffix".into(),
                    vg.to_owned(),
                ],
            )
            .any_exit_code();
        let lvs = parse_lvs(&self.exec.run_cmd(&cmd).await?.stdout)?;
        if lvs
            .iter()
            .any(|r| r.lv_name == thinpool && r.is_thin_pool())
        {
            return Ok(CreateOutcome::AlreadyPresent(spec));
        }
        let args = vec![
            "-l".into(),
            "100%FREE".into(),
            "-T".into(),
            "-n".into(),
            spec.clone(),
        ];
        if let Err(cause) = self.exec.run("lvcreate", args).await {
            if vg_outcome.is_changed() {
                let rb = self.delete_lvm_pool(vg, devices).await.map(|_| ());
                return Err(after_rollback(cause, rb, || {
                    format!(
                        "volume group {vg} on {}",
                        devices
                            .iter()
                            .map(|d| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }));
            }
            return Err(cause);
        }
        Ok(CreateOutcome::Created(spec))
    }

    /// Removes volume group `vg` and the PV labels on `devices`.
    pub async fn delete_lvm_pool(
        &self,
        vg: &str,
        devices: &[PathBuf],
    ) -> Result<DeleteOutcome, BackendError> {
        check_vg_name("volume group", vg)?;
        let devs = dev_args(devices)?;
        if !self.vg_exists(vg).await? {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        self.exec.run("vgremove", vec![vg.to_owned()]).await?;
        self.exec.run("pvremove", devs).await?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn zpools(&self) -> Result<Vec<String>, BackendError> {
        let out = self
            .exec
            .run(
                "zpool",
                vec!["list".into(), "-o".into(), "name".into(), "-H".into()],
            )
            .await?;
        parse_zpool_names(&out.stdout)
    }

    /// Creates zpool `name` on `devices`.
    pub async fn create_zpool(
        &self,
        name: &str,
        devices: &[PathBuf],
    ) -> Result<CreateOutcome<String>, BackendError> {
        check_zfs_dataset("zpool", name)?;
        if name.contains('/') {
            return Err(BackendError::invalid(
                "zpool",
                name,
                "give a pool name without '/'",
            ));
        }
        let devs = dev_args(devices)?;
        if self.zpools().await?.iter().any(|p| p == name) {
            return Ok(CreateOutcome::AlreadyPresent(name.to_owned()));
        }
        let mut args = vec![
            "create".into(),
            "-f".into(),
            "-m".into(),
            "none".into(),
            name.to_owned(),
        ];
        args.extend(devs);
        self.exec.run("zpool", args).await?;
        Ok(CreateOutcome::Created(name.to_owned()))
    }

    /// Destroys zpool `name`.
    pub async fn delete_zpool(&self, name: &str) -> Result<DeleteOutcome, BackendError> {
        check_zfs_dataset("zpool", name)?;
        if !self.zpools().await?.iter().any(|p| p == name) {
            return Ok(DeleteOutcome::AlreadyAbsent);
        }
        self.exec
            .run("zpool", vec!["destroy".into(), name.to_owned()])
            .await?;
        Ok(DeleteOutcome::Deleted)
    }

    /// Creates the directory of a FILE pool.
    pub async fn create_file_pool(
        &self,
        dir: &Path,
    ) -> Result<CreateOutcome<PathBuf>, BackendError> {
        let dir = check_path("directory", dir)?;
        if dir.is_dir() {
            return Ok(CreateOutcome::AlreadyPresent(dir));
        }
        std::fs::create_dir_all(&dir).map_err(|source| BackendError::Io {
            action: "create the pool directory",
            path: dir.clone(),
            source,
        })?;
        Ok(CreateOutcome::Created(dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{CmdOutput, ScriptedRunner};

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt")
    }

    #[test]
    fn fake_pool_setup_zpool_argv() {
        let runner = Arc::new(ScriptedRunner::new());
        let s = PoolSetup::new(runner.clone());
        runner.expect_ok(&["zpool", "list", "-o", "name", "-H"], "backup\n");
        runner.expect_ok(
            &[
                "zpool", "create", "-f", "-m", "none", "tank", "/dev/sdb", "/dev/sdc",
            ],
            "",
        );
        runner.expect_ok(&["zpool", "list", "-o", "name", "-H"], "backup\ntank\n");
        runner.expect_ok(&["zpool", "list", "-o", "name", "-H"], "backup\ntank\n");
        runner.expect_ok(&["zpool", "destroy", "tank"], "");
        let rt = rt();
        let devs = [PathBuf::from("/dev/sdb"), PathBuf::from("/dev/sdc")];
        assert!(
            rt.block_on(s.create_zpool("tank", &devs))
                .expect("create")
                .is_changed()
        );
        assert!(
            !rt.block_on(s.create_zpool("tank", &devs))
                .expect("again")
                .is_changed()
        );
        assert_eq!(
            rt.block_on(s.delete_zpool("tank")).expect("destroy"),
            DeleteOutcome::Deleted
        );
        runner.finish();
    }

    #[test]
    fn fake_pool_setup_lvm_thin_argv_and_rollback() {
        let runner = Arc::new(ScriptedRunner::new());
        let s = PoolSetup::new(runner.clone());
        let vgs = ["vgs", "-o", "vg_name", "--noheadings", "vg1"];
        runner.expect(
            &vgs,
            CmdOutput::exit(5, "", "Volume group \"vg1\" not found"),
        );
        runner.expect_ok(&["pvcreate", "/dev/loop3"], "");
        runner.expect_ok(&["vgcreate", "vg1", "/dev/loop3"], "");
        runner.expect_ok(
            &[
                "lvs",
                "-o",
                crate::parse::lvm::LVS_COLUMNS,
                "--separator",
                ";",
                "--noheadings",
                "--units",
                "k",
                "--nosuffix",
                "vg1",
            ],
            "",
        );
        runner.expect(
            &["lvcreate", "-l", "100%FREE", "-T", "-n", "vg1/thin"],
            CmdOutput::exit(5, "", "no dm-thin"),
        );
        // Rollback of the VG created here.
        runner.expect_ok(&vgs, "  vg1\n");
        runner.expect_ok(&["vgremove", "vg1"], "");
        runner.expect_ok(&["pvremove", "/dev/loop3"], "");
        let err = rt()
            .block_on(s.create_lvm_thin_pool("vg1", "thin", &[PathBuf::from("/dev/loop3")]))
            .expect_err("fails");
        assert!(err.to_string().contains("no dm-thin"), "{err}");
        runner.finish();
    }

    #[test]
    fn pool_setup_rejects_bad_input_before_running_anything() {
        let runner = Arc::new(ScriptedRunner::new());
        let s = PoolSetup::new(runner.clone());
        let rt = rt();
        let dev = [PathBuf::from("/dev/sdb")];
        for (vg, devs) in [
            ("vg;x", &dev[..]),
            ("vg", &[PathBuf::from("/etc/passwd")][..]),
            ("vg", &[PathBuf::from("/dev/sd b")][..]),
            ("vg", &[][..]),
            ("-vg", &dev[..]),
        ] {
            let e = rt
                .block_on(s.create_lvm_pool(vg, devs))
                .expect_err("invalid");
            assert!(matches!(e, BackendError::InvalidInput { .. }), "{e:?}");
        }
        assert!(rt.block_on(s.create_zpool("tank/x", &dev)).is_err());
        assert!(rt.block_on(s.create_zpool("$(x)", &dev)).is_err());
        assert!(
            rt.block_on(s.create_file_pool(Path::new("/tmp/../etc")))
                .is_err()
        );
        runner.finish();
    }
}
