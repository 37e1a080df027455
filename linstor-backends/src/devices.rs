//! Physical storage: the node's block devices that could become a storage pool.
//!
//! | step | command |
//! |---|---|
//! | list | `lsblk -J -b -o NAME,SIZE,ROTA,TYPE,MODEL,SERIAL,WWN,FSTYPE,MOUNTPOINT` |
//! | loop backing files | `losetup -l -O NAME,BACK-FILE` |
//! | signature check per candidate | `blkid -p -o value -s TYPE <dev>` (exit 2: none) |
//!
//! A device is offered when it is a whole disk or a loop device of at least 1 GiB with no
//! partitions or holders, not mounted, and without any signature: lsblk's `FSTYPE` needs udev,
//! so every candidate is probed with `blkid -p` too. Loop devices backed by files under the
//! given directories (FILE pools' volumes) are never offered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::BackendError;
use crate::parse::lsblk::{BlockDevice, LSBLK_COLUMNS, parse_lsblk};
use crate::parse::util::parse_losetup_list;
use crate::runner::{Cmd, CommandRunner};

/// The smallest device offered.
pub const MIN_DEVICE_BYTES: u64 = 1 << 30;

/// One device that could become a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `/dev/…`.
    pub path: String,
    /// Bytes.
    pub size: u64,
    /// Spinning disk.
    pub rotational: bool,
    /// Model.
    pub model: Option<String>,
    /// Serial.
    pub serial: Option<String>,
    /// WWN.
    pub wwn: Option<String>,
}

fn candidate(d: &BlockDevice) -> bool {
    matches!(d.kind.as_str(), "disk" | "loop")
        && d.size >= MIN_DEVICE_BYTES
        && d.children == 0
        && d.mountpoint.is_none()
        && d.fstype.is_none()
}

/// The devices of this node that could become a pool (see the module docs); loop devices
/// backed by files under any of `exclude` are left out.
pub async fn unused_devices(
    runner: &Arc<dyn CommandRunner>,
    exclude: &[PathBuf],
) -> Result<Vec<Device>, BackendError> {
    let out = runner
        .run(&Cmd::new("lsblk").args(["-J", "-b", "-o", LSBLK_COLUMNS]))
        .await?;
    let mut devs: Vec<BlockDevice> = parse_lsblk(&out.stdout)?
        .into_iter()
        .filter(candidate)
        .collect();
    if devs.iter().any(|d| d.kind == "loop") {
        let out = runner
            .run(&Cmd::new("losetup").args(["-l", "-O", "NAME,BACK-FILE"]))
            .await?;
        let loops = parse_losetup_list(&out.stdout)?;
        devs.retain(|d| {
            let path = Path::new("/dev").join(&d.name);
            !loops
                .iter()
                .any(|l| l.device == path && exclude.iter().any(|x| l.back_file.starts_with(x)))
        });
    }
    let mut offered = Vec::new();
    for d in devs {
        let path = format!("/dev/{}", d.name);
        let probe = Cmd::new("blkid")
            .args(["-p", "-o", "value", "-s", "TYPE", &path])
            .any_exit_code();
        let out = runner.run(&probe).await?;
        // 2: nothing found; 0: a signature (filesystem, PV, DRBD metadata…).
        if out.status == 2 {
            offered.push(Device {
                path,
                size: d.size,
                rotational: d.rotational,
                model: d.model,
                serial: d.serial,
                wwn: d.wwn,
            });
        }
    }
    Ok(offered)
}
