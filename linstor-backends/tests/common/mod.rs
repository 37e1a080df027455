//! Helpers shared by the integration tests: fixtures, runtimes, names.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

use linstor_backends::ScriptedRunner;
use linstor_backends::naming::VolumeId;
use linstor_core::SnapshotName;

/// The path of a fixture file.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The contents of a fixture file.
pub fn fixture(name: &str) -> String {
    let p = fixture_path(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A current-thread runtime with paused time (hangs resolve instantly).
pub fn paused_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime")
}

/// A current-thread runtime.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A data volume id.
pub fn vol(rsc: &str, nr: u16) -> VolumeId {
    VolumeId::parse(rsc, nr).expect("valid volume id")
}

/// A snapshot name.
pub fn snap(name: &str) -> SnapshotName {
    SnapshotName::new(name).expect("valid snapshot name")
}

/// Expects the quick wipe of `dev`, a device of `bytes` bytes: `wipefs`, `blockdev
/// --getsize64`, then `dd` zeroing the first and the last whole 4 KiB block.
pub fn expect_quick_wipe(runner: &ScriptedRunner, dev: &str, bytes: u64) {
    runner.expect_ok(&["wipefs", "-a", "-f", dev], "");
    runner.expect_ok(&["blockdev", "--getsize64", dev], &format!("{bytes}\n"));
    let of = format!("of={dev}");
    let last = bytes / 4096 - 1;
    for block in [0, last] {
        let seek = format!("seek={block}");
        runner.expect_ok(
            &[
                "dd",
                "if=/dev/zero",
                &of,
                "bs=4096",
                "count=1",
                &seek,
                "conv=notrunc",
                "oflag=direct",
            ],
            "",
        );
    }
}

pub mod real;
