//! FILE and FILE_THIN on real loop devices (root; needs util-linux, coreutils, btrfs-progs).
//!
//! Each test makes its own btrfs on a loop device under a temp dir (so `cp --reflink=always`
//! works), and every loop device, mount and file is removed by guards even when it fails.

#![allow(clippy::print_stderr, reason = "tests explain why they skip")]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::real::{
    Btrfs, LoopsUnder, device_bytes, have_tools, loops_under, pattern, read_at, write_at,
};
use common::{rt, snap, vol};
use linstor_backends::file::{FileConfig, FileProvider};
use linstor_backends::naming::VolumeId;
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::{BackendError, CommandRunner as _, RealRunner};
use linstor_core::SizeKib;

const TOOLS: &[&str] = &[
    "losetup",
    "fallocate",
    "truncate",
    "wipefs",
    "cp",
    "df",
    "stat",
    "blockdev",
    "mkfs.btrfs",
    "mount",
    "umount",
];

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A temp dir with an empty `pool` directory in it, and the guard that detaches any loop
/// device left on its files when the test ends.
fn pool_dir() -> (tempfile::TempDir, std::path::PathBuf, LoopsUnder) {
    let tmp = tempfile::Builder::new()
        .prefix("linstor-real-")
        .tempdir()
        .expect("tempdir");
    let dir = tmp.path().join("pool");
    std::fs::create_dir(&dir).expect("mkdir");
    let guard = LoopsUnder(dir.clone());
    (tmp, dir, guard)
}

fn lifecycle(thin: bool) {
    let fs = Btrfs::new(320);
    let dir = fs.mnt().join("pool");
    std::fs::create_dir(&dir).expect("mkdir pool");
    let runner = Arc::new(RealRunner::new());
    let p = if thin {
        FileProvider::thin(runner, &dir, FileConfig::default())
    } else {
        FileProvider::thick(runner, &dir, FileConfig::default())
    }
    .expect("valid pool");
    let rt = rt();
    let v = vol("real", 0);
    const MIB: u64 = 1024 * 1024;
    assert!(
        rt.block_on(p.supports_reflink()).expect("reflink check"),
        "btrfs makes reflinks"
    );
    assert!(files_in(&dir).is_empty(), "reflink test files removed");

    // Create, and create again.
    let created = rt
        .block_on(p.create_volume(&v, SizeKib(8 * 1024)))
        .expect("create");
    let CreateOutcome::Created(info) = &created else {
        panic!("{created:?}")
    };
    let dev = info.device_path.clone().expect("a loop device");
    assert!(dev.to_string_lossy().starts_with("/dev/loop"), "{dev:?}");
    assert_eq!(device_bytes(&dev), 8 * MIB);
    assert_eq!(info.size, SizeKib(8192));
    // No quick wipe by default: a new file already reads as zeros where it would write them
    // (the whole device here, the wipe's areas included).
    assert!(
        std::fs::read(&dev)
            .expect("read device")
            .iter()
            .all(|b| *b == 0),
        "a new volume must read as zeros"
    );
    if thin {
        assert!(
            info.allocated.expect("thin reports allocation") < SizeKib(8192),
            "{info:?}"
        );
    }
    let again = rt
        .block_on(p.create_volume(&v, SizeKib(8 * 1024)))
        .expect("create again");
    assert!(
        matches!(&again, CreateOutcome::AlreadyPresent(i) if i.device_path.as_ref() == Some(&dev)),
        "{again:?}"
    );
    let err = rt
        .block_on(p.create_volume(&v, SizeKib(4 * 1024)))
        .expect_err("other size");
    assert!(
        matches!(
            err,
            BackendError::AlreadyExists {
                existing: 8192,
                requested: 4096,
                ..
            }
        ),
        "{err:?}"
    );

    // A pattern written through the loop device reaches the file and reads back.
    let a = pattern(1, 64 * 1024);
    write_at(&dev, 0, &a);
    write_at(&dev, 7 * MIB, &a);
    assert_eq!(read_at(&dev, 0, a.len()), a);
    assert_eq!(read_at(&dev, 7 * MIB, a.len()), a);
    assert_eq!(
        read_at(&p.volume_file(&v), 7 * MIB, a.len()),
        a,
        "data reached the backing file"
    );

    // Grow: the loop device sees the new size, the data stays.
    let grown = rt
        .block_on(p.resize_volume(&v, SizeKib(16 * 1024)))
        .expect("grow");
    assert_eq!(
        grown,
        ResizeOutcome::Resized {
            from: SizeKib(8192),
            to: SizeKib(16384)
        }
    );
    assert_eq!(device_bytes(&dev), 16 * MIB);
    assert_eq!(read_at(&dev, 7 * MIB, a.len()), a);
    let same = rt
        .block_on(p.resize_volume(&v, SizeKib(16 * 1024)))
        .expect("same size");
    assert_eq!(same, ResizeOutcome::Unchanged(SizeKib(16384)));

    // Snapshot (reflink), then overwrite the origin, then restore: the copy has the old data.
    let s = snap("snap1");
    let taken = rt.block_on(p.create_snapshot(&v, &s)).expect("snapshot");
    assert!(taken.is_changed());
    assert_eq!(taken.info().name, "real_00000_snap1.img");
    assert!(
        !rt.block_on(p.create_snapshot(&v, &s))
            .expect("snapshot again")
            .is_changed()
    );
    let b = pattern(2, 64 * 1024);
    write_at(&dev, 0, &b);
    let target = vol("restored", 0);
    let restored = rt
        .block_on(p.restore_snapshot(&v, &s, &target))
        .expect("restore");
    let rdev = restored
        .info()
        .device_path
        .clone()
        .expect("restored device");
    assert_ne!(rdev, dev);
    assert_eq!(device_bytes(&rdev), 16 * MIB);
    assert_eq!(
        read_at(&rdev, 0, a.len()),
        a,
        "restored volume has the snapshot's data"
    );
    assert_eq!(read_at(&dev, 0, b.len()), b, "origin keeps its new data");
    assert!(
        !rt.block_on(p.restore_snapshot(&v, &s, &target))
            .expect("restore again")
            .is_changed()
    );

    // List, device path, capacity.
    let names: Vec<String> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["real_00000.img", "restored_00000.img"]);
    assert_eq!(
        rt.block_on(p.device_path(&v)).expect("path"),
        Some(dev.clone())
    );
    let cap = rt.block_on(p.capacity()).expect("capacity");
    assert!(
        cap.total > SizeKib(200 * 1024) && cap.total <= SizeKib(320 * 1024),
        "{cap:?}"
    );
    assert!(cap.free < cap.total, "{cap:?}");

    // Delete everything, twice.
    assert_eq!(
        rt.block_on(p.delete_snapshot(&v, &s)).expect("del snap"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(p.delete_snapshot(&v, &s)).expect("del snap"),
        DeleteOutcome::AlreadyAbsent
    );
    for x in [&v, &target] {
        assert_eq!(
            rt.block_on(p.delete_volume(x)).expect("delete"),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            rt.block_on(p.delete_volume(x)).expect("delete again"),
            DeleteOutcome::AlreadyAbsent
        );
    }
    assert_eq!(rt.block_on(p.device_path(&v)).expect("path"), None);
    assert!(
        loops_under(fs.mnt()).is_empty(),
        "loop devices left: {:?}",
        loops_under(fs.mnt())
    );
    assert!(
        files_in(&dir).is_empty(),
        "files left: {:?}",
        files_in(&dir)
    );
}

#[test]
fn real_file_thick_lifecycle_with_reflink_snapshots() {
    if !have_tools("real_file_thick_lifecycle_with_reflink_snapshots", TOOLS) {
        return;
    }
    lifecycle(false);
}

#[test]
fn real_file_thin_lifecycle_with_reflink_snapshots() {
    if !have_tools("real_file_thin_lifecycle_with_reflink_snapshots", TOOLS) {
        return;
    }
    lifecycle(true);
}

/// Volumes and reflink snapshots made by the provider are listed back with parsed identities:
/// resource and snapshot names with `_` and digits read right from the right, a snapshot
/// outlives its deleted volume (FILE snapshots are independent copies), a file that is not
/// LINSTOR's is skipped, and `list_snapshots` returns exactly the snapshots made.
fn listing(thin: bool) {
    let fs = Btrfs::new(320);
    let dir = fs.mnt().join("pool");
    std::fs::create_dir(&dir).expect("mkdir pool");
    let runner = Arc::new(RealRunner::new());
    let p = if thin {
        FileProvider::thin(runner, &dir, FileConfig::default())
    } else {
        FileProvider::thick(runner, &dir, FileConfig::default())
    }
    .expect("valid pool");
    let rt = rt();
    let (a, b, c) = (
        vol("data_2024_x1", 3),
        vol("r_00001_x", 0),
        vol("pvc-abc", 0),
    );
    for (v, mib) in [(&a, 4), (&b, 2), (&c, 1)] {
        rt.block_on(p.create_volume(v, SizeKib(mib * 1024)))
            .expect("create");
    }
    for (v, s) in [
        (&a, "snap_2"),
        (&b, "back_17"),
        (&b, "s2024"),
        (&c, "snap1"),
    ] {
        assert!(
            rt.block_on(p.create_snapshot(v, &snap(s)))
                .expect("snapshot")
                .is_changed()
        );
    }
    // FILE snapshots are copies: they stay when their volume goes.
    assert_eq!(
        rt.block_on(p.delete_volume(&c)).expect("delete"),
        DeleteOutcome::Deleted
    );
    std::fs::write(dir.join("x_00000_s1.img"), b"not LINSTOR's").expect("write");

    let vols: Vec<(VolumeId, String, SizeKib, bool)> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| (v.id, v.name, v.size, v.device_path.is_some()))
        .collect();
    assert_eq!(
        vols,
        [
            (
                a.clone(),
                "data_2024_x1_00003.img".to_owned(),
                SizeKib(4096),
                true
            ),
            (
                b.clone(),
                "r_00001_x_00000.img".to_owned(),
                SizeKib(2048),
                true
            ),
        ]
    );
    let snaps: Vec<(VolumeId, String, String, SizeKib, bool)> = rt
        .block_on(p.list_snapshots())
        .expect("list")
        .into_iter()
        .map(|s| {
            (
                s.vol,
                s.snap.to_string(),
                s.info.name,
                s.info.size,
                s.info.simulated,
            )
        })
        .collect();
    let row = |v: &VolumeId, s: &str, name: &str, kib| {
        (
            v.clone(),
            s.to_owned(),
            name.to_owned(),
            SizeKib(kib),
            false,
        )
    };
    assert_eq!(
        snaps,
        [
            row(&a, "snap_2", "data_2024_x1_00003_snap_2.img", 4096),
            row(&c, "snap1", "pvc-abc_00000_snap1.img", 1024),
            row(&b, "back_17", "r_00001_x_00000_back_17.img", 2048),
            row(&b, "s2024", "r_00001_x_00000_s2024.img", 2048),
        ]
    );
    assert_eq!(snaps[2].0.rsc.as_str(), "r_00001_x");
    assert_eq!(snaps[0].0.vlm_nr, 3);

    // Delete everything; both listings are empty again.
    for (v, s) in [
        (&a, "snap_2"),
        (&b, "back_17"),
        (&b, "s2024"),
        (&c, "snap1"),
    ] {
        assert_eq!(
            rt.block_on(p.delete_snapshot(v, &snap(s))).expect("delete"),
            DeleteOutcome::Deleted
        );
    }
    for v in [&a, &b] {
        assert_eq!(
            rt.block_on(p.delete_volume(v)).expect("delete"),
            DeleteOutcome::Deleted
        );
    }
    std::fs::remove_file(dir.join("x_00000_s1.img")).expect("remove");
    assert!(rt.block_on(p.list_volumes()).expect("list").is_empty());
    assert!(rt.block_on(p.list_snapshots()).expect("list").is_empty());
    assert!(loops_under(fs.mnt()).is_empty());
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}

#[test]
fn real_file_thick_lists_volumes_and_snapshots_with_parsed_ids() {
    if !have_tools(
        "real_file_thick_lists_volumes_and_snapshots_with_parsed_ids",
        TOOLS,
    ) {
        return;
    }
    listing(false);
}

#[test]
fn real_file_thin_lists_volumes_and_snapshots_with_parsed_ids() {
    if !have_tools(
        "real_file_thin_lists_volumes_and_snapshots_with_parsed_ids",
        TOOLS,
    ) {
        return;
    }
    listing(true);
}

#[test]
fn real_file_bad_input_and_oversize_create_nothing() {
    if !have_tools("real_file_bad_input_and_oversize_create_nothing", TOOLS) {
        return;
    }
    let fs = Btrfs::new(256);
    let dir = fs.mnt().join("pool");
    std::fs::create_dir(&dir).expect("mkdir");
    let rt = rt();
    for bad in [
        "/tmp/a;b",
        "/tmp/a b",
        "/tmp/$(reboot)",
        "/tmp/../etc",
        "relative",
        "/tmp/-x",
    ] {
        let err = FileProvider::thick(
            Arc::new(RealRunner::new()),
            Path::new(bad),
            FileConfig::default(),
        )
        .expect_err(bad);
        assert!(
            matches!(err, BackendError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
    }
    for bad in ["a;b", "a b", "$(x)", "../x", "-x"] {
        assert!(
            linstor_backends::naming::VolumeId::parse(bad, 0).is_err(),
            "{bad}"
        );
    }
    for thin in [false, true] {
        let runner = Arc::new(RealRunner::new());
        let p = if thin {
            FileProvider::thin(runner, &dir, FileConfig::default())
        } else {
            FileProvider::thick(runner, &dir, FileConfig::default())
        }
        .expect("valid");
        let err = rt
            .block_on(p.create_volume(&vol("zero", 0), SizeKib(0)))
            .expect_err("zero");
        assert!(
            matches!(err, BackendError::InvalidInput { field: "size", .. }),
            "{err:?}"
        );
        // Thick: more than is free. Thin: more than 20 × the file system.
        let too_big = if thin {
            SizeKib(100 * 1024 * 1024)
        } else {
            SizeKib(10 * 1024 * 1024)
        };
        let err = rt
            .block_on(p.create_volume(&vol("huge", 0), too_big))
            .expect_err("too big");
        assert!(
            matches!(err, BackendError::InsufficientSpace { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("choose a smaller size"), "{err}");
        let err = rt
            .block_on(p.resize_volume(&vol("missing", 0), SizeKib(10)))
            .expect_err("missing");
        assert!(matches!(err, BackendError::NotFound { .. }), "{err:?}");
    }
    assert!(
        files_in(&dir).is_empty(),
        "files left: {:?}",
        files_in(&dir)
    );
    assert!(loops_under(fs.mnt()).is_empty());
    let missing = FileProvider::thick(
        Arc::new(RealRunner::new()),
        &fs.mnt().join("nope"),
        FileConfig::default(),
    )
    .expect("valid path");
    let err = rt
        .block_on(missing.create_volume(&vol("x1", 0), SizeKib(10)))
        .expect_err("no dir");
    assert!(
        matches!(
            err,
            BackendError::NotFound {
                what: "storage pool directory",
                ..
            }
        ),
        "{err:?}"
    );
}

/// A directory of fake tools placed before the real ones.
fn fake_bin(tmp: &Path, name: &str, script: &str) -> RealRunner {
    use std::os::unix::fs::PermissionsExt;
    let bin = tmp.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir bin");
    let path = bin.join(name);
    std::fs::write(&path, script).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut dirs = vec![bin];
    dirs.extend(
        linstor_backends::runner::DEFAULT_SEARCH_DIRS
            .iter()
            .map(Into::into),
    );
    RealRunner::with_search_dirs(dirs)
}

/// A stale volume's leftovers on a new FILE volume: a `fallocate` wrapper runs the real one and
/// then writes a fake DRBD superblock (magic + pattern) into the first 4 KiB block and into the
/// last whole 4 KiB block (where internal metadata keeps it), plus data into block 1. After the
/// provider's create (with the quick wipe switched on) both superblock areas read zero and block 1 is
/// untouched (the wipe zeroes exactly those areas; `wipefs` alone would not clear them).
#[test]
fn real_file_create_zeroes_drbd_superblock_areas() {
    if !have_tools("real_file_create_zeroes_drbd_superblock_areas", TOOLS) {
        return;
    }
    let (tmp, dir, _leftovers) = pool_dir();
    let mut block = vec![0x83, 0x74, 0x02, 0x6d];
    block.extend(pattern(9, 4092));
    let stale = tmp.path().join("stale.bin");
    std::fs::write(&stale, &block).expect("write stale block");
    let real = RealRunner::new()
        .resolve("fallocate")
        .expect("fallocate installed");
    let script = format!(
        "#!/bin/sh\n\
         {real} \"$@\" || exit $?\n\
         for f; do :; done\n\
         last=$(( $(stat -c %s \"$f\") / 4096 - 1 ))\n\
         for seek in 0 1 $last; do\n\
           dd if={stale} of=\"$f\" bs=4096 count=1 seek=$seek conv=notrunc status=none || exit 1\n\
         done\n",
        real = real.display(),
        stale = stale.display(),
    );
    let runner = fake_bin(tmp.path(), "fallocate", &script);
    let wipe = FileConfig {
        wipe: true,
        ..FileConfig::default()
    };
    let p = FileProvider::thick(Arc::new(runner), &dir, wipe).expect("valid");
    let v = vol("stale", 0);
    let file = p.volume_file(&v);
    // 4098 KiB: not a multiple of 4 KiB, so the last whole block is not the device's tail.
    let size = 4098 * 1024u64;
    let last = (size / 4096 - 1) * 4096;
    assert_eq!(last, 4_190_208);
    let rt = rt();
    let info = rt
        .block_on(p.create_volume(&v, SizeKib(4098)))
        .expect("create")
        .into_inner();
    let dev = info.device_path.expect("a loop device");
    assert_eq!(device_bytes(&dev), size);
    for path in [dev.as_path(), file.as_path()] {
        for (what, at) in [("first", 0), ("last", last)] {
            let nonzero = read_at(path, at, 4096).iter().filter(|b| **b != 0).count();
            assert_eq!(nonzero, 0, "{what} 4 KiB block of {path:?} at {at} zeroed");
        }
        assert!(
            read_at(path, 4096, 4096) == block,
            "block 1 of {path:?} untouched"
        );
    }
    assert_eq!(
        rt.block_on(p.delete_volume(&v)).expect("delete"),
        DeleteOutcome::Deleted
    );
    assert!(loops_under(&dir).is_empty());
    assert!(files_in(&dir).is_empty(), "{:?}", files_in(&dir));
}

#[test]
fn real_file_hanging_tool_is_killed_and_its_partial_file_removed() {
    if !have_tools(
        "real_file_hanging_tool_is_killed_and_its_partial_file_removed",
        TOOLS,
    ) {
        return;
    }
    let (tmp, dir, _leftovers) = pool_dir();
    // Writes part of the file, then hangs.
    let runner = fake_bin(
        tmp.path(),
        "fallocate",
        "#!/bin/sh\nhead -c 4096 /dev/zero > \"$4\"\nexec sleep 60\n",
    );
    let cfg = FileConfig {
        timeout: Duration::from_millis(1500),
        ..FileConfig::default()
    };
    let p = FileProvider::thick(Arc::new(runner), &dir, cfg).expect("valid");
    let started = Instant::now();
    let err = rt()
        .block_on(p.create_volume(&vol("hang", 0), SizeKib(1024)))
        .expect_err("hangs");
    let took = started.elapsed();
    match &err {
        BackendError::Timeout { argv, timeout } => {
            assert!(argv[0].ends_with("/bin/fallocate"), "{argv:?}");
            assert_eq!(
                argv[1..],
                [
                    "-x",
                    "-l",
                    "1024KiB",
                    &p.volume_file(&vol("hang", 0)).display().to_string()
                ]
            );
            assert_eq!(*timeout, Duration::from_millis(1500));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        took < Duration::from_secs(10),
        "killed at its timeout, took {took:?}"
    );
    eprintln!("hanging fallocate killed after {took:?}");
    assert!(
        files_in(&dir).is_empty(),
        "partial file removed: {:?}",
        files_in(&dir)
    );
}

#[test]
fn real_file_failure_midway_detaches_and_removes() {
    if !have_tools("real_file_failure_midway_detaches_and_removes", TOOLS) {
        return;
    }
    let (tmp, dir, _leftovers) = pool_dir();
    // The real fallocate and losetup run; the wipe after attaching fails.
    let runner = fake_bin(
        tmp.path(),
        "wipefs",
        "#!/bin/sh\necho 'wipefs: injected failure' >&2\nexit 1\n",
    );
    let wipe = FileConfig {
        wipe: true,
        ..FileConfig::default()
    };
    let p = FileProvider::thick(Arc::new(runner), &dir, wipe).expect("valid");
    let err = rt()
        .block_on(p.create_volume(&vol("midway", 0), SizeKib(2048)))
        .expect_err("fails");
    match &err {
        BackendError::CommandFailed { argv, stderr, .. } => {
            assert!(argv[0].ends_with("/wipefs"), "{argv:?}");
            assert!(argv[3].starts_with("/dev/loop"), "{argv:?}");
            assert!(stderr.contains("injected failure"));
        }
        other => panic!("{other:?}"),
    }
    assert!(loops_under(&dir).is_empty(), "loop device detached again");
    assert!(
        files_in(&dir).is_empty(),
        "file removed again: {:?}",
        files_in(&dir)
    );
}

#[test]
fn real_file_snapshot_without_reflink_fails_cleanly() {
    if !have_tools("real_file_snapshot_without_reflink_fails_cleanly", TOOLS) {
        return;
    }
    let (_tmp, dir, _leftovers) = pool_dir();
    let p = FileProvider::thin(Arc::new(RealRunner::new()), &dir, FileConfig::default())
        .expect("valid");
    let rt = rt();
    let reflink = rt.block_on(p.supports_reflink()).expect("reflink check");
    eprintln!("reflink on the temp dir's file system: {reflink}");
    assert!(files_in(&dir).is_empty(), "reflink test files removed");
    if reflink {
        eprintln!("SKIP the failure half: the temp dir's file system makes reflinks");
        return;
    }
    let v = vol("noref", 0);
    rt.block_on(p.create_volume(&v, SizeKib(1024)))
        .expect("create");
    let err = rt
        .block_on(p.create_snapshot(&v, &snap("s1")))
        .expect_err("no reflink");
    assert!(
        matches!(&err, BackendError::CommandFailed { argv, .. } if argv[1] == "--reflink=always"),
        "{err:?}"
    );
    assert_eq!(
        files_in(&dir),
        ["noref_00000.img"],
        "no partial snapshot file"
    );
    assert_eq!(
        rt.block_on(p.delete_volume(&v)).expect("delete"),
        DeleteOutcome::Deleted
    );
    assert!(loops_under(&dir).is_empty());
    assert!(files_in(&dir).is_empty());
}

/// A volume whose loop device is gone (a reboot, or a satellite killed between `truncate` and
/// `losetup`) is attached again by `activate`; `device_path` only reports; a volume that does
/// not exist activates to nothing.
#[test]
fn real_file_activate_reattaches_a_volume_whose_loop_device_is_gone() {
    if !have_tools(
        "real_file_activate_reattaches_a_volume_whose_loop_device_is_gone",
        TOOLS,
    ) {
        return;
    }
    let (_tmp, dir, _leftovers) = pool_dir();
    let p = FileProvider::thin(Arc::new(RealRunner::new()), &dir, FileConfig::default())
        .expect("valid");
    let rt = rt();
    let v = vol("gone", 0);
    let dev = rt
        .block_on(p.create_volume(&v, SizeKib(2048)))
        .expect("create")
        .into_inner()
        .device_path
        .expect("attached");
    // The loop device goes away behind the provider's back.
    let detach = linstor_backends::Cmd::new("losetup")
        .arg("-d")
        .arg(dev.display().to_string());
    rt.block_on(RealRunner::new().run(&detach))
        .expect("losetup -d");
    // The kernel detaches once the last opener (udev's probe, say) closes the device: wait.
    let started = std::time::Instant::now();
    while rt
        .block_on(p.device_path(&v))
        .expect("device_path")
        .is_some()
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "the loop device was never detached"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let again = rt
        .block_on(p.activate(&v))
        .expect("activate")
        .expect("a device again");
    assert_eq!(
        rt.block_on(p.device_path(&v)).expect("device_path"),
        Some(again.clone())
    );
    // Idempotent: the same device, no second loop device.
    assert_eq!(rt.block_on(p.activate(&v)).expect("activate"), Some(again));
    assert_eq!(
        rt.block_on(p.activate(&vol("never", 0))).expect("activate"),
        None
    );
    rt.block_on(p.delete_volume(&v)).expect("delete");
}
