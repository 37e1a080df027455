//! Guards and helpers for the `real_*` tests: everything they create (loop devices, mounts,
//! volume groups, files) is undone in `Drop`, even when the test fails.

#![allow(clippy::print_stderr, reason = "tests explain why they skip")]

use std::path::{Path, PathBuf};

use linstor_backends::parse::util::parse_losetup_list;
use linstor_backends::{BackendError, Cmd, CmdOutput, CommandRunner, RealRunner};

/// Runs one command to completion outside any runtime (for set-up and `Drop`).
pub fn sync_run(cmd: Cmd) -> Result<CmdOutput, BackendError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(RealRunner::new().run(&cmd))
}

/// Runs `program args…` outside any runtime and panics with the error on failure.
pub fn must(program: &str, args: &[&str]) -> CmdOutput {
    sync_run(Cmd::new(program).args(args)).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether all tools exist; prints why not and returns false otherwise.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    match RealRunner::new().check_tools(tools) {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIP {test}: {e}");
            false
        }
    }
}

/// Loop devices whose backing file lies under `dir`.
pub fn loops_under(dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    let out = must("losetup", &["-l", "-O", "NAME,BACK-FILE"]);
    parse_losetup_list(&out.stdout)
        .expect("losetup output parses")
        .into_iter()
        .filter(|l| l.back_file.starts_with(dir))
        .map(|l| (l.device, l.back_file))
        .collect()
}

/// Detaches, on drop, every loop device backed by a file under `dir` (volumes the provider
/// attached and a failing test did not delete).
#[derive(Debug)]
pub struct LoopsUnder(pub PathBuf);

impl Drop for LoopsUnder {
    fn drop(&mut self) {
        for (dev, file) in loops_under(&self.0) {
            eprintln!("cleanup: detaching {} ({})", dev.display(), file.display());
            let _ = sync_run(Cmd::new("losetup").arg("-d").arg(&dev));
        }
    }
}

/// A loop device this test attached; detached on drop.
#[derive(Debug)]
pub struct LoopDev(pub PathBuf);

impl LoopDev {
    /// Creates a sparse file of `mib` MiB at `file` and attaches it.
    pub fn new(file: &Path, mib: u64) -> LoopDev {
        must(
            "truncate",
            &["-s", &format!("{mib}M"), &file.display().to_string()],
        );
        let out = must("losetup", &["-f", "--show", &file.display().to_string()]);
        LoopDev(PathBuf::from(out.stdout.trim()))
    }

    /// The device path as a string.
    pub fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for LoopDev {
    fn drop(&mut self) {
        if let Err(e) = sync_run(Cmd::new("losetup").arg("-d").arg(&self.0)) {
            eprintln!("cleanup: could not detach {}: {e}", self.0.display());
        }
    }
}

/// A file system mounted by this test; unmounted on drop.
#[derive(Debug)]
pub struct Mount(pub PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        if let Err(e) = sync_run(Cmd::new("umount").arg(&self.0)) {
            eprintln!("cleanup: could not unmount {}: {e}", self.0.display());
        }
    }
}

/// A btrfs file system on a loop device under a temp dir, mounted at `<tmp>/mnt`.
/// Field order is drop order: volumes' loops, the mount, the loop device, the directory.
#[derive(Debug)]
pub struct Btrfs {
    /// Detaches leftover volume loops.
    pub leftovers: LoopsUnder,
    /// The mount.
    pub mount: Mount,
    /// The loop device holding the file system.
    pub dev: LoopDev,
    /// The temp dir.
    pub tmp: tempfile::TempDir,
}

impl Btrfs {
    /// Makes and mounts a `mib` MiB btrfs.
    pub fn new(mib: u64) -> Btrfs {
        let tmp = tempfile::Builder::new()
            .prefix("linstor-real-")
            .tempdir()
            .expect("tempdir");
        let dev = LoopDev::new(&tmp.path().join("btrfs.img"), mib);
        must("mkfs.btrfs", &["-q", "-f", &dev.path()]);
        let mnt = tmp.path().join("mnt");
        std::fs::create_dir(&mnt).expect("mkdir mnt");
        must("mount", &[&dev.path(), &mnt.display().to_string()]);
        Btrfs {
            leftovers: LoopsUnder(mnt.clone()),
            mount: Mount(mnt),
            dev,
            tmp,
        }
    }

    /// The mount point.
    pub fn mnt(&self) -> &Path {
        &self.mount.0
    }
}

/// The size of a block device in bytes (`blockdev --getsize64`).
pub fn device_bytes(dev: &Path) -> u64 {
    let out = must("blockdev", &["--getsize64", &dev.display().to_string()]);
    out.stdout.trim().parse().expect("blockdev prints a number")
}

/// Writes `data` at `offset` on a block device and flushes it.
pub fn write_at(dev: &Path, offset: u64, data: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(dev)
        .expect("open device for writing");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(data).expect("write");
    f.sync_all().expect("fsync");
}

/// Reads `len` bytes at `offset` from a device or file.
pub fn read_at(path: &Path, offset: u64, len: usize) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).expect("open for reading");
    f.seek(SeekFrom::Start(offset)).expect("seek");
    let mut buf = vec![0u8; len];
    f.read_exact(&mut buf).expect("read");
    buf
}

/// A recognisable pattern.
pub fn pattern(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            seed.wrapping_add(u8::try_from(i % 251).unwrap_or(0))
                .wrapping_mul(7)
        })
        .collect()
}
