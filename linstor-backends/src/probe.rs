//! Capability probing: which providers work on this host, and why the others do not.
//!
//! The answer has the shape of LINSTOR's node capabilities: a list of working provider kinds and
//! `unsupported_providers`, a map from kind to human-readable reasons. Reasons come from three
//! checks, in order: tools not installed (asked through [`CommandRunner::missing_tools`]), kernel
//! support missing (device-mapper for LVM and the `loop-control` device for FILE, both read from
//! `/proc/misc`, or their `/sys/module` entries; the `zfs` module for ZFS; all read under a
//! configurable root, `/` by default), and configured pools that cannot be
//! queried (a volume group, thin pool, zpool or directory that is not there).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use linstor_core::model::{Capabilities, ProviderKind};

use crate::provider::StorageProvider;
use crate::runner::CommandRunner;

/// Programs the LVM providers run.
pub const LVM_TOOLS: &[&str] = &[
    "pvdisplay",
    "lvs",
    "vgs",
    "lvcreate",
    "lvresize",
    "lvremove",
    "lvchange",
    "wipefs",
    "blockdev",
    "dd",
];
/// Programs the ZFS providers run.
pub const ZFS_TOOLS: &[&str] = &["zfs", "zpool"];
/// Programs the FILE providers run.
pub const FILE_TOOLS: &[&str] = &[
    "losetup",
    "fallocate",
    "truncate",
    "cp",
    "df",
    "wipefs",
    "blockdev",
    "dd",
];

/// The programs a provider kind needs.
pub fn tools_for(kind: ProviderKind) -> &'static [&'static str] {
    match kind {
        ProviderKind::DISKLESS => &[],
        ProviderKind::LVM | ProviderKind::LVM_THIN => LVM_TOOLS,
        ProviderKind::ZFS | ProviderKind::ZFS_THIN => ZFS_TOOLS,
        ProviderKind::FILE | ProviderKind::FILE_THIN => FILE_TOOLS,
    }
}

/// What probing found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProbeReport {
    /// Kinds that work, in LINSTOR's order.
    pub storage_providers: Vec<ProviderKind>,
    /// Kinds that do not, with the reasons.
    pub unsupported_providers: BTreeMap<ProviderKind, Vec<String>>,
}

impl ProbeReport {
    /// Copies the provider part into LINSTOR's node capabilities.
    pub fn apply_to(&self, caps: &mut Capabilities) {
        caps.storage_providers = self.storage_providers.clone();
        caps.unsupported_providers = self.unsupported_providers.clone();
    }
}

/// Probes providers with a runner (for tools) and a root directory (for kernel facts).
#[derive(Debug)]
pub struct Prober<'a> {
    runner: &'a dyn CommandRunner,
    root: PathBuf,
}

impl<'a> Prober<'a> {
    /// Probes the real host (`/`).
    pub fn new(runner: &'a dyn CommandRunner) -> Self {
        Prober {
            runner,
            root: PathBuf::from("/"),
        }
    }

    /// Reads kernel facts (`proc/misc`, `sys/module/…`, `dev/…`) under `root` instead of `/`.
    pub fn with_root(mut self, root: &Path) -> Self {
        self.root = root.to_path_buf();
        self
    }

    fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }

    fn file_mentions(&self, rel: &str, word: &str) -> bool {
        std::fs::read_to_string(self.root.join(rel))
            .is_ok_and(|s| s.lines().any(|l| l.split_whitespace().any(|w| w == word)))
    }

    fn kernel_problems(&self, kind: ProviderKind) -> Vec<String> {
        let mut why = Vec::new();
        match kind {
            ProviderKind::DISKLESS => {}
            ProviderKind::LVM | ProviderKind::LVM_THIN => {
                // /dev/mapper/control may exist as a stale node; /proc/misc is authoritative.
                let dm = self.exists("sys/module/dm_mod")
                    || self.file_mentions("proc/misc", "device-mapper");
                if !dm {
                    why.push(
                        "device-mapper is not available in the kernel (no device-mapper in \
                         /proc/misc, no /sys/module/dm_mod); load dm_mod"
                            .to_owned(),
                    );
                }
            }
            ProviderKind::ZFS | ProviderKind::ZFS_THIN => {
                if !self.exists("sys/module/zfs") {
                    why.push("the ZFS kernel module is not loaded (/sys/module/zfs/version is missing); load zfs".to_owned());
                }
            }
            ProviderKind::FILE | ProviderKind::FILE_THIN => {
                if !self.file_mentions("proc/misc", "loop-control")
                    && !self.exists("sys/module/loop")
                {
                    why.push(
                        "loop devices are not available (no loop-control in /proc/misc, no \
                         /sys/module/loop); load loop"
                            .to_owned(),
                    );
                }
            }
        }
        why
    }

    /// Why `kind` cannot work on this host (empty if it can), without looking at pools.
    pub fn host_problems(&self, kind: ProviderKind) -> Vec<String> {
        let mut why: Vec<String> = self
            .runner
            .missing_tools(tools_for(kind))
            .into_iter()
            .map(|t| format!("'{t}' is not installed"))
            .collect();
        why.extend(self.kernel_problems(kind));
        why
    }

    /// Probes every kind; each of `pools` whose capacity cannot be read adds a reason to its
    /// kind (only kinds whose tools and kernel support are there query their pools).
    pub async fn probe(&self, pools: &[&dyn StorageProvider]) -> ProbeReport {
        let mut report = ProbeReport::default();
        for kind in ProviderKind::ALL {
            let mut why = self.host_problems(kind);
            if why.is_empty() {
                for p in pools.iter().filter(|p| p.kind() == kind) {
                    if let Err(e) = p.capacity().await {
                        why.push(format!("storage pool '{}': {e}", p.pool()));
                    }
                }
            }
            if why.is_empty() {
                report.storage_providers.push(kind);
            } else {
                report.unsupported_providers.insert(kind, why);
            }
        }
        report
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::file::{FileConfig, FileProvider};
    use crate::lvm::{LvmConfig, LvmProvider};
    use crate::runner::{CmdOutput, ScriptedRunner};

    fn host(files: &[&str]) -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        for f in files {
            let p = root.path().join(f);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            if f.ends_with('/') {
                std::fs::create_dir_all(&p).expect("mkdir");
            } else {
                std::fs::write(
                    &p,
                    if f.ends_with("misc") {
                        " 236 device-mapper\n 237 loop-control\n"
                    } else {
                        ""
                    },
                )
                .expect("write");
            }
        }
        root
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt")
    }

    #[test]
    fn fake_probe_reports_reasons_like_linstor() {
        // A stale /dev/mapper/control node does not mean device-mapper works.
        let root = host(&["sys/module/loop/", "dev/mapper/control"]);
        let runner = ScriptedRunner::new();
        runner.set_missing_tools(&["zfs", "zpool"]);
        let report = rt().block_on(Prober::new(&runner).with_root(root.path()).probe(&[]));
        assert_eq!(
            report.storage_providers,
            [
                ProviderKind::DISKLESS,
                ProviderKind::FILE,
                ProviderKind::FILE_THIN
            ]
        );
        let lvm = &report.unsupported_providers[&ProviderKind::LVM];
        assert_eq!(lvm.len(), 1);
        assert!(
            lvm[0].starts_with("device-mapper is not available"),
            "{lvm:?}"
        );
        assert_eq!(
            report.unsupported_providers[&ProviderKind::ZFS_THIN],
            [
                "'zfs' is not installed",
                "'zpool' is not installed",
                "the ZFS kernel module is not loaded (/sys/module/zfs/version is missing); load zfs"
            ]
        );
        let mut caps = Capabilities::default();
        report.apply_to(&mut caps);
        assert_eq!(caps.unsupported_providers.len(), 4);
        runner.finish();
    }

    #[test]
    fn fake_probe_with_device_mapper_checks_pools() {
        let root = host(&["proc/misc", "sys/module/zfs/", "sys/module/loop/"]);
        let runner = Arc::new(ScriptedRunner::new());
        runner.expect(
            &[
                "vgs",
                "-o",
                "vg_name,vg_extent_size,vg_size,vg_free",
                "--separator",
                ";",
                "--units",
                "k",
                "--noheadings",
                "--nosuffix",
                "novg",
            ],
            CmdOutput::exit(
                5,
                "",
                "  Volume group \"novg\" not found\n  Cannot process volume group novg\n",
            ),
        );
        let cfg = LvmConfig {
            use_filter: false,
            ..LvmConfig::default()
        };
        let lvm = LvmProvider::thick(runner.clone(), "novg", cfg).expect("valid");
        let dir = FileProvider::thick(
            runner.clone(),
            &root.path().join("nodir"),
            FileConfig::default(),
        )
        .expect("valid");
        let report = rt().block_on(
            Prober::new(runner.as_ref())
                .with_root(root.path())
                .probe(&[&lvm, &dir]),
        );
        assert_eq!(
            report.unsupported_providers[&ProviderKind::LVM],
            ["storage pool 'novg': volume group 'novg' not found"]
        );
        assert!(
            report.unsupported_providers[&ProviderKind::FILE][0].contains("storage pool directory")
        );
        assert!(report.storage_providers.contains(&ProviderKind::LVM_THIN));
        assert!(report.storage_providers.contains(&ProviderKind::ZFS));
        runner.finish();
    }
}
