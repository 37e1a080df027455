//! Helpers shared by the integration tests: finding the real DRBD tools, running drbdadm on a
//! rendered file, and loop devices that are always detached.

#![allow(dead_code, reason = "each test binary uses a different subset")]
#![allow(clippy::print_stderr, reason = "tests explain why they skip")]

pub mod scenarios;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The absolute path of a DRBD tool, or `None` (with a message saying the test is skipped).
pub fn tool(name: &str, test: &str) -> Option<PathBuf> {
    for dir in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    eprintln!("SKIP {test}: {name} is not installed (install drbd-utils)");
    None
}

/// Runs a tool, returning its output (panics only if it cannot be started at all).
pub fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).env("LC_ALL", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
}

/// Output as one readable string.
pub fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.contains("modinfo: not found"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

/// stdout without drbdadm's noise.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A loop device over a sparse file in a temp dir; detached (and the file removed) on drop,
/// also when the test fails.
pub struct LoopDev {
    pub dev: String,
    _dir: tempfile::TempDir,
}

impl LoopDev {
    /// Creates a `size_mib` MiB loop device, or `None` (with a message) when losetup is missing.
    /// Panics when losetup is there but cannot attach: that is a broken host, not a skip.
    pub fn new(size_mib: u64, test: &str) -> Option<LoopDev> {
        Self::with_kib(size_mib * 1024, test)
    }

    /// A loop device of exactly `size_kib` KiB (see [`LoopDev::new`]).
    pub fn with_kib(size_kib: u64, test: &str) -> Option<LoopDev> {
        let losetup = tool("losetup", test)?;
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("disk.img");
        let f = std::fs::File::create(&file).expect("create image");
        f.set_len(size_kib * 1024).expect("size image");
        drop(f);
        // `losetup -f` can race with another test grabbing the same free device: retry a little.
        let path = file.to_str().expect("utf-8 path");
        let mut out = run(&losetup, &["--show", "-f", path], &[]);
        for _ in 0..10 {
            if out.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
            out = run(&losetup, &["--show", "-f", path], &[]);
        }
        assert!(
            out.status.success(),
            "{test}: losetup cannot attach a loop device: {}",
            text(&out)
        );
        let dev = stdout(&out).trim().to_owned();
        Some(LoopDev { dev, _dir: dir })
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

/// Says why (part of) a test is skipped.
pub fn skip(msg: &str) {
    eprintln!("SKIP {msg}");
}
