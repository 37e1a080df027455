//! The CI chaos run: 20 rounds with a SIGKILL each (controller or a satellite) on a real
//! local-cluster (FILE_THIN on btrfs loop devices, DRBD SIMULATED), through the real binaries.

#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Command;

fn can_run() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let tools = ["losetup", "mkfs.btrfs", "drbdadm", "drbdmeta", "curl"]
        .iter()
        .all(|t| {
            Command::new("sh")
                .args(["-c", &format!("command -v {t} >/dev/null")])
                .status()
                .is_ok_and(|s| s.success())
        });
    if root && tools {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the chaos run as root with losetup, btrfs-progs, drbd-utils and curl"
    );
    eprintln!("SKIP real_chaos: needs root, losetup, mkfs.btrfs, drbd-utils and curl");
    false
}

#[test]
fn real_chaos_20_rounds_with_kill9_of_controller_and_satellites_lose_nothing() {
    if !can_run() {
        return;
    }
    let exe = Path::new(env!("CARGO_BIN_EXE_linstor-chaos"));
    let bins = exe.parent().unwrap();
    assert!(
        bins.join("linstor-controller").exists() && bins.join("linstor-satellite").exists(),
        "build the daemons first: cargo build -p linstor-controller -p linstor-satellite"
    );
    let dir = tempfile_dir();
    let out = Command::new(exe)
        .args(["--rounds", "20", "--seed", "14", "--kills", "1", "--dir"])
        .arg(&dir)
        .output()
        .expect("run linstor-chaos");
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the chaos run failed; its logs are in {}",
        dir.display()
    );
    assert!(text.contains("20 passed, 0 failed"), "{text}");
    let totals = text
        .lines()
        .find(|l| l.starts_with("totals:"))
        .expect("totals line");
    let kills: u32 = totals
        .trim_start_matches("totals: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("kill count");
    assert!(kills >= 10, "{totals}");
    assert!(
        !dir.exists(),
        "a passing run leaves nothing behind: {}",
        dir.display()
    );
}

/// A path under /tmp that does not exist yet (local-cluster makes and removes it).
fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("linstor-chaos-ci-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}
