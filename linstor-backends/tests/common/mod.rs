//! Helpers shared by the integration tests: fixtures, runtimes, names.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::PathBuf;

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

pub mod real;
