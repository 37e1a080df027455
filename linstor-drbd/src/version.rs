//! DRBD versions and host probing.
//!
//! [`DrbdVersion`] is a `major.minor.patch` triple. [`probe`] asks the host through the command
//! runner: `drbdadm --version` prints shell-style `KEY=value` lines (`DRBDADM_VERSION=9.22.0`,
//! `DRBD_KERNEL_VERSION=9.2.12`, or `0` when no module is loaded); `/proc/drbd` (its first line
//! `version: 9.2.12 (api:2/proto:86-122)`) is read through the [`ProcSource`] so tests can feed it.
//! The result, [`DrbdCapability`], says whether DRBD can be used here, and why not.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use linstor_backends::{BackendError, Cmd, CommandRunner};

/// Smallest DRBD kernel module that understands `tiebreaker` in a `.res` file.
pub const TIEBREAKER_KERNEL: DrbdVersion = DrbdVersion::new(9, 3, 1);
/// Smallest drbd-utils that understands `tiebreaker` in a `.res` file.
pub const TIEBREAKER_UTILS: DrbdVersion = DrbdVersion::new(9, 34, 0);
/// Smallest DRBD kernel module this crate drives (DRBD 9).
pub const MIN_KERNEL: DrbdVersion = DrbdVersion::new(9, 0, 0);
/// Smallest drbd-utils this crate drives (`events2` with `--statistics`, v09 metadata).
pub const MIN_UTILS: DrbdVersion = DrbdVersion::new(9, 0, 0);

/// A `major.minor.patch` version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DrbdVersion {
    /// Major.
    pub major: u32,
    /// Minor.
    pub minor: u32,
    /// Patch.
    pub patch: u32,
}

impl DrbdVersion {
    /// A version.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        DrbdVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses `9.22.0`, `9.2.12-rc.1`, `9.1` (missing parts are 0); `None` for `0` or garbage.
    pub fn parse(s: &str) -> Option<DrbdVersion> {
        let core = s.trim().split(['-', '+', ' ']).next()?;
        let mut parts = core.split('.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        let patch: u32 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        if major == 0 {
            return None;
        }
        Some(DrbdVersion {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for DrbdVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The DRBD versions of one node (either may be unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrbdVersions {
    /// The loaded kernel module.
    pub kernel: Option<DrbdVersion>,
    /// drbd-utils.
    pub utils: Option<DrbdVersion>,
}

impl DrbdVersions {
    /// Both versions known.
    pub fn new(kernel: DrbdVersion, utils: DrbdVersion) -> Self {
        DrbdVersions {
            kernel: Some(kernel),
            utils: Some(utils),
        }
    }

    /// Whether `tiebreaker yes|no;` may be written (kernel ≥ 9.3.1 and utils ≥ 9.34.0).
    pub fn supports_tiebreaker(&self) -> bool {
        self.kernel
            .is_some_and(|k| k.cmp(&TIEBREAKER_KERNEL) != Ordering::Less)
            && self.utils.is_some_and(|u| u >= TIEBREAKER_UTILS)
    }
}

/// What `drbdadm --version` reported.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DrbdadmVersionInfo {
    /// `DRBDADM_VERSION`.
    pub utils: Option<DrbdVersion>,
    /// `DRBD_KERNEL_VERSION` (absent or `0` without a loaded module).
    pub kernel: Option<DrbdVersion>,
}

/// Parses the `KEY=value` lines of `drbdadm --version` (other lines are ignored).
pub fn parse_drbdadm_version(stdout: &str) -> DrbdadmVersionInfo {
    let mut info = DrbdadmVersionInfo::default();
    for line in stdout.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        match key {
            "DRBDADM_VERSION" => info.utils = DrbdVersion::parse(value),
            "DRBD_KERNEL_VERSION" => info.kernel = DrbdVersion::parse(value),
            _ => {}
        }
    }
    info
}

/// Parses the kernel module version from `/proc/drbd` (`version: 9.2.12 (api:2/…)`).
pub fn parse_proc_drbd(text: &str) -> Option<DrbdVersion> {
    let first = text.lines().find(|l| l.starts_with("version:"))?;
    DrbdVersion::parse(first.trim_start_matches("version:").trim())
}

/// Where the kernel module's state is read from (the real `/proc`, or a fixture).
pub trait ProcSource: Send + Sync + fmt::Debug {
    /// The contents of `/proc/drbd`, or `None` when it does not exist.
    fn proc_drbd(&self) -> Option<String>;
}

/// Reads the real `/proc/drbd` (or another file given at construction).
#[derive(Debug, Clone)]
pub struct FsProc {
    path: std::path::PathBuf,
}

impl FsProc {
    /// Reads `/proc/drbd`.
    pub fn new() -> Self {
        FsProc {
            path: "/proc/drbd".into(),
        }
    }

    /// Reads `path` instead.
    pub fn at(path: impl AsRef<Path>) -> Self {
        FsProc {
            path: path.as_ref().to_path_buf(),
        }
    }
}

impl Default for FsProc {
    fn default() -> Self {
        Self::new()
    }
}

impl ProcSource for FsProc {
    fn proc_drbd(&self) -> Option<String> {
        std::fs::read_to_string(&self.path).ok()
    }
}

/// Whether this host can run DRBD resources, with the versions found and the reasons it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DrbdCapability {
    /// Versions found.
    pub versions: DrbdVersions,
    /// Why DRBD is not usable here; empty means usable.
    pub missing: Vec<String>,
}

impl DrbdCapability {
    /// Whether DRBD resources can be deployed on this host.
    pub fn usable(&self) -> bool {
        self.missing.is_empty()
    }

    /// Records this probe in the satellite's capability report: the kernel module version, and
    /// the DRBD layer either as supported or as unsupported with the reasons.
    pub fn report_into(&self, caps: &mut linstor_core::model::Capabilities) {
        use linstor_core::model::LayerKind;
        let short = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
        caps.drbd_version = self
            .versions
            .kernel
            .map(|k| (short(k.major), short(k.minor), short(k.patch)));
        caps.resource_layers.retain(|l| *l != LayerKind::DRBD);
        caps.unsupported_layers.remove(&LayerKind::DRBD);
        if self.usable() {
            caps.resource_layers.push(LayerKind::DRBD);
        } else {
            caps.unsupported_layers
                .insert(LayerKind::DRBD, self.missing.clone());
        }
    }
}

/// Probes the host: `drbdadm --version` through `runner`, `/proc/drbd` through `proc`.
///
/// Never fails: a missing tool or module becomes a reason in [`DrbdCapability::missing`].
pub async fn probe(runner: &dyn CommandRunner, proc: &dyn ProcSource) -> DrbdCapability {
    let mut cap = DrbdCapability::default();
    let mut adm = DrbdadmVersionInfo::default();
    match runner
        .run(&Cmd::new("drbdadm").arg("--version").any_exit_code())
        .await
    {
        Ok(out) => adm = parse_drbdadm_version(&out.stdout),
        Err(BackendError::ToolMissing { .. }) => {
            cap.missing
                .push("drbd-utils are not installed (drbdadm not found)".to_owned());
        }
        Err(e) => cap.missing.push(format!("drbdadm --version failed: {e}")),
    }
    cap.versions.utils = adm.utils;
    cap.versions.kernel = proc
        .proc_drbd()
        .as_deref()
        .and_then(parse_proc_drbd)
        .or(adm.kernel);
    match cap.versions.utils {
        Some(u) if u < MIN_UTILS => cap
            .missing
            .push(format!("drbd-utils {u} is older than {MIN_UTILS}")),
        None if cap.missing.is_empty() => {
            cap.missing
                .push("drbdadm --version did not report DRBDADM_VERSION".to_owned());
        }
        _ => {}
    }
    match cap.versions.kernel {
        None => cap
            .missing
            .push("the DRBD kernel module is not loaded (no /proc/drbd)".to_owned()),
        Some(k) if k < MIN_KERNEL => {
            cap.missing.push(format!(
                "DRBD kernel module {k} is not DRBD 9 (need >= {MIN_KERNEL})"
            ));
        }
        Some(_) => {}
    }
    cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        let v = DrbdVersion::new;
        let cases = [
            ("9.22.0", Some(v(9, 22, 0))),
            ("9.2.12-rc.1", Some(v(9, 2, 12))),
            ("9.1", Some(v(9, 1, 0))),
            ("0", None),
            ("x", None),
        ];
        for (s, want) in cases {
            assert_eq!(DrbdVersion::parse(s), want, "{s}");
        }
    }

    #[test]
    fn parses_drbdadm_version_and_proc() {
        let out = "DRBDADM_BUILDTAG=GIT-hash:\\ 409097\nDRBDADM_API_VERSION=2\nDRBD_KERNEL_VERSION_CODE=0x000000\nDRBD_KERNEL_VERSION=0\nDRBDADM_VERSION_CODE=0x091600\nDRBDADM_VERSION=9.22.0\n";
        let info = parse_drbdadm_version(out);
        assert_eq!(info.utils, Some(DrbdVersion::new(9, 22, 0)));
        assert_eq!(info.kernel, None);
        let proc = "version: 9.2.12 (api:2/proto:86-122)\nGIT-hash: abc build by x\nTransports (api:21): tcp (9.2.12)\n";
        assert_eq!(parse_proc_drbd(proc), Some(DrbdVersion::new(9, 2, 12)));
    }

    #[test]
    fn capability_report() {
        use linstor_core::model::{Capabilities, LayerKind};
        let mut caps = Capabilities::default();
        let ok = DrbdCapability {
            versions: DrbdVersions::new(DrbdVersion::new(9, 2, 12), DrbdVersion::new(9, 22, 0)),
            missing: Vec::new(),
        };
        ok.report_into(&mut caps);
        ok.report_into(&mut caps);
        assert_eq!(caps.resource_layers, [LayerKind::DRBD]);
        assert_eq!(caps.drbd_version, Some((9, 2, 12)));
        let bad = DrbdCapability {
            versions: DrbdVersions {
                kernel: None,
                utils: Some(DrbdVersion::new(9, 22, 0)),
            },
            missing: vec!["no module".into()],
        };
        bad.report_into(&mut caps);
        assert!(caps.resource_layers.is_empty());
        assert_eq!(
            caps.unsupported_layers.get(&LayerKind::DRBD),
            Some(&vec!["no module".to_owned()])
        );
        assert_eq!(caps.drbd_version, None);
    }

    #[test]
    fn tiebreaker_support_needs_both_versions() {
        let v = |k, u| DrbdVersions {
            kernel: k,
            utils: u,
        };
        assert!(v(Some(TIEBREAKER_KERNEL), Some(TIEBREAKER_UTILS)).supports_tiebreaker());
        assert!(!v(Some(DrbdVersion::new(9, 3, 0)), Some(TIEBREAKER_UTILS)).supports_tiebreaker());
        assert!(
            !v(Some(TIEBREAKER_KERNEL), Some(DrbdVersion::new(9, 22, 0))).supports_tiebreaker()
        );
        assert!(!v(None, Some(TIEBREAKER_UTILS)).supports_tiebreaker());
    }
}
