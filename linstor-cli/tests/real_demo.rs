//! `scripts/demo`, the README's main job, end to end as root: it brings up a local cluster
//! (real FILE_THIN pools on btrfs loops, SIMULATED DRBD), walks through the `linstor` commands,
//! and must end with exit 0 and nothing left behind (the script checks loop devices and mounts
//! itself; this test checks its temp directory is gone too).

#![allow(clippy::print_stdout)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{cargo_build, run, target_dir, workspace_root};

#[test]
fn real_demo_runs_end_to_end_and_leaves_nothing() {
    // The demo needs loop devices and mounts.
    let root = run(Command::new("id").arg("-u"), Duration::from_secs(10));
    if root.stdout.trim() != "0" {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root; the demo must run there"
        );
        println!("SKIP real_demo: not root");
        return;
    }
    let bin = target_dir().join("debug");
    if !bin.join("linstor-controller").is_file() || !bin.join("linstor-satellite").is_file() {
        cargo_build(&["-p", "linstor-controller", "-p", "linstor-satellite"]);
    }
    let linstor = std::path::Path::new(env!("CARGO_BIN_EXE_linstor"));
    assert_eq!(
        linstor.parent(),
        Some(bin.as_path()),
        "the binaries share target/debug"
    );
    let before = demo_dirs();
    let out = run(
        Command::new("bash")
            .arg(workspace_root().join("scripts/demo"))
            .env("LINSTOR_BIN_DIR", &bin),
        Duration::from_secs(600),
    );
    assert!(out.ok(), "scripts/demo failed:\n{out}");
    for step in [
        "$ linstor resource-group spawn-resources demo web 64M",
        "UpToDate",
        "$ linstor snapshot resource restore",
        "$ linstor advise failure --domain Aux/zone=b",
        "Not enough available nodes",
        "(exit code 10",
        "demo: done; nothing left behind.",
    ] {
        assert!(out.stdout.contains(step), "missing {step:?} in:\n{out}");
    }
    assert_eq!(demo_dirs(), before, "the demo's temp directory is removed");
}

/// `/tmp/linstor-demo.*` directories.
fn demo_dirs() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/tmp")
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("linstor-demo."))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
