//! FILE and FILE_THIN providers against the scripted runner: the exact argv sequence of every
//! operation, pinned with insta (the temp dir is redacted to `<DIR>`). File existence and sizes
//! are real (a temp dir); the programs are scripted.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{expect_quick_wipe, fixture, rt, snap, vol};
use linstor_backends::file::{FileConfig, FileProvider};
use linstor_backends::naming::{LayerSuffix, VolumeId};
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::{BackendError, CmdOutput, ScriptedRunner};
use linstor_core::SizeKib;

struct Fx {
    runner: Arc<ScriptedRunner>,
    p: FileProvider,
    tmp: tempfile::TempDir,
}

impl Fx {
    fn new(thin: bool) -> Fx {
        let tmp = tempfile::tempdir().expect("tempdir");
        let runner = Arc::new(ScriptedRunner::new());
        // The scripted tests pin the quick wipe too (off by default, see `FileConfig::wipe`).
        let cfg = FileConfig {
            wipe: true,
            ..FileConfig::default()
        };
        let p = if thin {
            FileProvider::thin(runner.clone(), tmp.path(), cfg)
        } else {
            FileProvider::thick(runner.clone(), tmp.path(), cfg)
        }
        .expect("valid");
        Fx { runner, p, tmp }
    }

    fn dir(&self) -> String {
        self.tmp.path().display().to_string()
    }

    fn path(&self, name: &str) -> String {
        format!("{}/{name}", self.dir())
    }

    fn touch(&self, name: &str, kib: u64) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::File::create(&p)
            .and_then(|f| f.set_len(kib * 1024))
            .expect("create file");
        p
    }

    fn expect_df(&self) {
        let dir = self.dir();
        self.runner.expect_ok(
            &["df", "-B", "1", "--output=size", &dir],
            &fixture("df_size.txt"),
        );
        self.runner.expect_ok(
            &["df", "-B", "1", "--output=avail", &dir],
            &fixture("df_avail.txt"),
        );
    }

    fn expect_losetup_list(&self, attached: &[(&str, &str)]) {
        let mut out = String::from("NAME       BACK-FILE\n/dev/loop0 /var/other/disk.img\n");
        for (dev, name) in attached {
            out.push_str(&format!("{dev} {}\n", self.path(name)));
        }
        self.runner
            .expect_ok(&["losetup", "-l", "-O", "NAME,BACK-FILE"], &out);
    }

    fn finish(&self) -> String {
        self.runner.finish();
        self.runner.transcript().replace(&self.dir(), "<DIR>")
    }
}

#[test]
fn fake_file_create_thick_and_thin() {
    for thin in [false, true] {
        let f = Fx::new(thin);
        let file = f.path("new_00000.img");
        f.expect_df();
        if thin {
            // The real truncate makes a sparse file; its allocation is read in-process.
            let path = PathBuf::from(&file);
            f.runner
                .expect_ok_after(&["truncate", "-s", "4096KiB", &file], "", move || {
                    std::fs::File::create(&path)
                        .and_then(|h| h.set_len(4096 * 1024))
                        .expect("create the file as truncate does");
                });
        } else {
            f.runner
                .expect_ok(&["fallocate", "-x", "-l", "4096KiB", &file], "");
        }
        f.runner
            .expect_ok(&["losetup", "-f", "--show", &file], "/dev/loop7\n");
        expect_quick_wipe(&f.runner, "/dev/loop7", 4096 * 1024);
        let out = rt()
            .block_on(f.p.create_volume(&vol("new", 0), SizeKib(4096)))
            .expect("create");
        let CreateOutcome::Created(info) = out else {
            panic!()
        };
        assert_eq!(info.device_path, Some(PathBuf::from("/dev/loop7")));
        // Nothing written into the sparse file: no block allocated.
        assert_eq!(info.allocated, thin.then_some(SizeKib(0)));
        insta::assert_snapshot!(
            if thin { "create_thin" } else { "create_thick" },
            f.finish()
        );
    }
}

/// By default a new volume file is attached without the quick wipe: it is new, so it is zeros.
#[test]
fn fake_file_default_config_creates_without_a_wipe() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let runner = Arc::new(ScriptedRunner::new());
    let p = FileProvider::thin(runner.clone(), tmp.path(), FileConfig::default()).expect("valid");
    let dir = tmp.path().display().to_string();
    let file = tmp.path().join("new_00000.img");
    for field in ["size", "avail"] {
        runner.expect_ok(
            &["df", "-B", "1", &format!("--output={field}"), &dir],
            &fixture(&format!("df_{field}.txt")),
        );
    }
    let path = file.clone();
    let file = file.display().to_string();
    runner.expect_ok_after(&["truncate", "-s", "4096KiB", &file], "", move || {
        std::fs::File::create(&path)
            .and_then(|h| h.set_len(4096 * 1024))
            .expect("create the file as truncate does");
    });
    runner.expect_ok(&["losetup", "-f", "--show", &file], "/dev/loop7\n");
    let out = rt()
        .block_on(p.create_volume(&vol("new", 0), SizeKib(4096)))
        .expect("create");
    assert!(matches!(out, CreateOutcome::Created(_)));
    runner.finish();
}

#[test]
fn fake_file_create_existing_reattaches_or_refuses() {
    let f = Fx::new(false);
    f.touch("old_00000.img", 1024);
    f.expect_losetup_list(&[]);
    f.runner.expect_ok(
        &["losetup", "-f", "--show", &f.path("old_00000.img")],
        "/dev/loop3\n",
    );
    f.expect_losetup_list(&[("/dev/loop3", "old_00000.img")]);
    let rt = rt();
    let out = rt
        .block_on(f.p.create_volume(&vol("old", 0), SizeKib(1024)))
        .expect("present");
    assert!(
        matches!(&out, CreateOutcome::AlreadyPresent(i) if i.device_path == Some("/dev/loop3".into())),
        "{out:?}"
    );
    let out = rt
        .block_on(f.p.create_volume(&vol("old", 0), SizeKib(1024)))
        .expect("present");
    assert!(!out.is_changed());
    let err = rt
        .block_on(f.p.create_volume(&vol("old", 0), SizeKib(2048)))
        .expect_err("mismatch");
    assert!(
        matches!(
            err,
            BackendError::AlreadyExists {
                existing: 1024,
                requested: 2048,
                ..
            }
        ),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_file_refusals_run_nothing_that_writes() {
    let f = Fx::new(false);
    f.expect_df();
    let rt = rt();
    let err = rt
        .block_on(f.p.create_volume(&vol("big", 0), SizeKib(100_000_000)))
        .expect_err("too big");
    assert!(
        matches!(
            err,
            BackendError::InsufficientSpace {
                free: 82_530_968,
                ..
            }
        ),
        "{err:?}"
    );
    let err = rt
        .block_on(f.p.create_volume(&vol("zero", 0), SizeKib(0)))
        .expect_err("zero");
    assert!(matches!(err, BackendError::InvalidInput { .. }), "{err:?}");
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_file_failed_attach_removes_the_file() {
    let f = Fx::new(false);
    let file = f.path("new_00000.img");
    f.expect_df();
    f.runner
        .expect_ok(&["fallocate", "-x", "-l", "1024KiB", &file], "");
    f.runner.expect(
        &["losetup", "-f", "--show", &file],
        CmdOutput::exit(1, "", "losetup: cannot find an unused loop device"),
    );
    let err = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(1024)))
        .expect_err("fails");
    assert!(
        err.to_string()
            .contains("cannot find an unused loop device"),
        "{err}"
    );
    assert!(!Path::new(&file).exists());
    insta::assert_snapshot!(f.finish());
}

/// The quick wipe fails at its `dd` of the last block, or `blockdev` prints garbage: the loop
/// device is detached and the file removed, and the error names the step.
#[test]
fn fake_file_failed_md_wipe_detaches_and_removes() {
    for case in ["dd", "blockdev"] {
        let f = Fx::new(false);
        let file = f.path("new_00000.img");
        f.expect_df();
        f.runner
            .expect_ok(&["fallocate", "-x", "-l", "1024KiB", &file], "");
        f.runner
            .expect_ok(&["losetup", "-f", "--show", &file], "/dev/loop7\n");
        f.runner
            .expect_ok(&["wipefs", "-a", "-f", "/dev/loop7"], "");
        if case == "dd" {
            f.runner
                .expect_ok(&["blockdev", "--getsize64", "/dev/loop7"], "1048576\n");
            let zero = |seek: &str| {
                [
                    "dd",
                    "if=/dev/zero",
                    "of=/dev/loop7",
                    "bs=4096",
                    "count=1",
                    seek,
                    "conv=notrunc",
                    "oflag=direct",
                ]
                .map(str::to_owned)
            };
            let first = zero("seek=0");
            let first: Vec<&str> = first.iter().map(String::as_str).collect();
            f.runner.expect_ok(&first, "");
            let last = zero("seek=255");
            let last: Vec<&str> = last.iter().map(String::as_str).collect();
            f.runner.expect(
                &last,
                CmdOutput::exit(1, "", "dd: error writing '/dev/loop7': Input/output error"),
            );
        } else {
            f.runner
                .expect_ok(&["blockdev", "--getsize64", "/dev/loop7"], "1M\n");
        }
        f.runner.expect_ok(&["losetup", "-d", "/dev/loop7"], "");
        let err = rt()
            .block_on(f.p.create_volume(&vol("new", 0), SizeKib(1024)))
            .expect_err("fails");
        match (&err, case) {
            (BackendError::CommandFailed { argv, stderr, .. }, "dd") => {
                assert_eq!(argv[0], "dd");
                assert_eq!(argv[5], "seek=255");
                assert!(stderr.contains("Input/output error"), "{stderr}");
            }
            (BackendError::ParseError { tool, .. }, "blockdev") => assert_eq!(*tool, "blockdev"),
            other => panic!("{other:?}"),
        }
        assert!(!Path::new(&file).exists(), "file removed again");
        insta::assert_snapshot!(format!("failed_md_wipe_{case}"), f.finish());
    }
}

#[test]
fn fake_file_delete_detaches_then_removes() {
    let f = Fx::new(false);
    let file = f.touch("gone_00000.img", 1024);
    f.expect_losetup_list(&[("/dev/loop5", "gone_00000.img")]);
    f.runner.expect_ok(&["losetup", "-d", "/dev/loop5"], "");
    f.expect_losetup_list(&[]);
    let rt = rt();
    assert_eq!(
        rt.block_on(f.p.delete_volume(&vol("gone", 0)))
            .expect("delete"),
        DeleteOutcome::Deleted
    );
    assert!(!file.exists());
    assert_eq!(
        rt.block_on(f.p.delete_volume(&vol("gone", 0)))
            .expect("again"),
        DeleteOutcome::AlreadyAbsent
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_file_resize_grow_and_shrink() {
    for thin in [false, true] {
        let f = Fx::new(thin);
        let file = f.touch("rs_00000.img", 1024);
        let file = file.display().to_string();
        f.expect_df();
        if thin {
            f.runner
                .expect_ok(&["truncate", "-s", "2048KiB", &file], "");
        } else {
            f.runner
                .expect_ok(&["fallocate", "-x", "-l", "2048KiB", &file], "");
        }
        f.expect_losetup_list(&[("/dev/loop4", "rs_00000.img")]);
        f.runner.expect_ok(&["losetup", "-c", "/dev/loop4"], "");
        // Shrink: truncate, no space check.
        f.runner.expect_ok(&["truncate", "-s", "512KiB", &file], "");
        f.expect_losetup_list(&[("/dev/loop4", "rs_00000.img")]);
        f.runner.expect_ok(&["losetup", "-c", "/dev/loop4"], "");
        let rt = rt();
        let out = rt
            .block_on(f.p.resize_volume(&vol("rs", 0), SizeKib(2048)))
            .expect("grow");
        assert_eq!(
            out,
            ResizeOutcome::Resized {
                from: SizeKib(1024),
                to: SizeKib(2048)
            }
        );
        let out = rt
            .block_on(f.p.resize_volume(&vol("rs", 0), SizeKib(512)))
            .expect("shrink");
        assert_eq!(
            out,
            ResizeOutcome::Resized {
                from: SizeKib(1024),
                to: SizeKib(512)
            }
        );
        let out = rt
            .block_on(f.p.resize_volume(&vol("rs", 0), SizeKib(1024)))
            .expect("same");
        assert_eq!(out, ResizeOutcome::Unchanged(SizeKib(1024)));
        insta::assert_snapshot!(
            if thin { "resize_thin" } else { "resize_thick" },
            f.finish()
        );
    }
}

#[test]
fn fake_file_snapshot_restore_delete() {
    let f = Fx::new(false);
    f.touch("src_00000.img", 1024);
    let rt = rt();
    f.runner.expect_ok(
        &[
            "cp",
            "--reflink=always",
            &f.path("src_00000.img"),
            &f.path("src_00000_s1.img"),
        ],
        "",
    );
    let out = rt
        .block_on(f.p.create_snapshot(&vol("src", 0), &snap("s1")))
        .expect("snap");
    assert!(
        matches!(&out, CreateOutcome::Created(s) if s.name == "src_00000_s1.img" && s.size == SizeKib(1024))
    );
    // The scripted cp wrote nothing; put the snapshot file there as the real cp would.
    f.touch("src_00000_s1.img", 1024);
    assert!(
        !rt.block_on(f.p.create_snapshot(&vol("src", 0), &snap("s1")))
            .expect("again")
            .is_changed()
    );
    f.expect_df();
    f.runner.expect_ok(
        &["cp", &f.path("src_00000_s1.img"), &f.path("dst_00000.img")],
        "",
    );
    f.runner.expect_ok(
        &["losetup", "-f", "--show", &f.path("dst_00000.img")],
        "/dev/loop9\n",
    );
    let out = rt
        .block_on(f.p.restore_snapshot(&vol("src", 0), &snap("s1"), &vol("dst", 0)))
        .expect("restore");
    assert_eq!(out.info().device_path, Some("/dev/loop9".into()));
    assert_eq!(
        rt.block_on(f.p.delete_snapshot(&vol("src", 0), &snap("s1")))
            .expect("del"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(f.p.delete_snapshot(&vol("src", 0), &snap("s1")))
            .expect("del"),
        DeleteOutcome::AlreadyAbsent
    );
    let err = rt
        .block_on(f.p.restore_snapshot(&vol("src", 0), &snap("s1"), &vol("dst2", 0)))
        .expect_err("gone");
    assert!(
        matches!(
            err,
            BackendError::NotFound {
                what: "snapshot file",
                ..
            }
        ),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_file_list_and_capacity() {
    let f = Fx::new(true);
    // ab_00000.img holds 1 MiB of data (allocated), the others are sparse. Allocation is read
    // in-process (the file's 512-byte blocks, what `stat -c '%B %b'` prints): no command.
    std::fs::write(f.touch("ab_00000.img", 1024), vec![7u8; 1024 * 1024]).expect("write");
    f.touch("bb.meta_00001.img", 64);
    f.touch("ab_00000_s1.img", 1024);
    f.touch("a_00000.img", 1); // resource name `a` is too short: not LINSTOR's
    f.touch("notes.txt", 1);
    f.expect_losetup_list(&[("/dev/loop2", "ab_00000.img")]);
    f.expect_df();
    let rt = rt();
    let vols = rt.block_on(f.p.list_volumes()).expect("list");
    let got: Vec<(&VolumeId, &str, Option<&Path>, Option<SizeKib>)> = vols
        .iter()
        .map(|v| {
            (
                &v.id,
                v.name.as_str(),
                v.device_path.as_deref(),
                v.allocated,
            )
        })
        .collect();
    let meta = VolumeId::with_suffix(vol("bb", 0).rsc, LayerSuffix::DrbdMeta, 1).expect("valid");
    assert_eq!(
        got,
        [
            (
                &vol("ab", 0),
                "ab_00000.img",
                Some(Path::new("/dev/loop2")),
                Some(SizeKib(1024))
            ),
            (&meta, "bb.meta_00001.img", None, Some(SizeKib(0)))
        ]
    );
    let cap = rt.block_on(f.p.capacity()).expect("cap");
    assert_eq!(cap.total, SizeKib(264_212_084));
    assert_eq!(cap.free, SizeKib(82_530_968));
    insta::assert_snapshot!(f.finish());
}

/// Snapshot files share the directory and the `.img` ending with volume files; the listing
/// reads names from the right (resource names with `_` and digits, snapshot names with `_` and
/// digits), skips files that are not LINSTOR's, and runs no command (the directory is read
/// in-process, as LINSTOR does). The files are real (a temp dir); there is no tool output.
#[test]
fn fake_file_list_snapshots_reads_names_from_the_right() {
    for thin in [false, true] {
        let f = Fx::new(thin);
        for (name, kib) in [
            ("pvc-abc_00000.img", 1024),
            ("pvc-abc_00000_snap1.img", 1024),
            ("data_2024_x1_00003.img", 2048),
            ("data_2024_x1_00003_snap_2.img", 1536),
            ("r_00001_x_00000_back_17.img", 64),
            ("r_00001_x_00012_s2024.img", 65),
            ("rx.meta_00000_s1.img", 4),
            ("gone_00001_old.img", 8),
            ("x_00000_s1.img", 1),
            ("pvc-abc_00000_s.img", 1),
            ("LinstorSnapshotTestSource.img", 4),
            ("pvc-abc_00000_snap1.img.tmp", 1),
        ] {
            f.touch(name, kib);
        }
        let snaps = rt().block_on(f.p.list_snapshots()).expect("list");
        let got: Vec<(String, u16, String, &str, SizeKib, bool)> = snaps
            .iter()
            .map(|s| {
                (
                    s.vol.to_string(),
                    s.vol.vlm_nr,
                    s.snap.to_string(),
                    s.info.name.as_str(),
                    s.info.size,
                    s.info.simulated,
                )
            })
            .collect();
        let row = |vol: &str, nr, snap: &str, name: &'static str, kib| {
            (
                vol.to_owned(),
                nr,
                snap.to_owned(),
                name,
                SizeKib(kib),
                false,
            )
        };
        assert_eq!(
            got,
            [
                row(
                    "data_2024_x1_00003",
                    3,
                    "snap_2",
                    "data_2024_x1_00003_snap_2.img",
                    1536
                ),
                row("gone_00001", 1, "old", "gone_00001_old.img", 8),
                row("pvc-abc_00000", 0, "snap1", "pvc-abc_00000_snap1.img", 1024),
                row(
                    "r_00001_x_00000",
                    0,
                    "back_17",
                    "r_00001_x_00000_back_17.img",
                    64
                ),
                row(
                    "r_00001_x_00012",
                    12,
                    "s2024",
                    "r_00001_x_00012_s2024.img",
                    65
                ),
                row("rx.meta_00000", 0, "s1", "rx.meta_00000_s1.img", 4),
            ]
        );
        assert_eq!(snaps[3].vol.rsc.as_str(), "r_00001_x");
        assert_eq!(snaps[5].vol.suffix, LayerSuffix::DrbdMeta);
        assert_eq!(f.finish(), "", "no command runs");
    }
}

#[test]
fn fake_file_device_path() {
    let f = Fx::new(false);
    f.touch("dp_00000.img", 64);
    f.expect_losetup_list(&[("/dev/loop6", "dp_00000.img")]);
    f.expect_losetup_list(&[("/dev/loop6", "dp_00000.img")]);
    let rt = rt();
    assert_eq!(
        rt.block_on(f.p.device_path(&vol("dp", 0))).expect("path"),
        Some("/dev/loop6".into())
    );
    assert_eq!(
        rt.block_on(f.p.device_path(&vol("other", 0)))
            .expect("path"),
        None
    );
    f.finish();
}

#[test]
fn fake_file_deleted_backing_file_is_still_detached() {
    let f = Fx::new(false);
    // The file is gone but losetup still holds it: delete detaches.
    let out = format!(
        "NAME BACK-FILE\n/dev/loop8 {} (deleted)\n",
        f.path("lost_00000.img")
    );
    f.runner
        .expect_ok(&["losetup", "-l", "-O", "NAME,BACK-FILE"], &out);
    f.runner.expect_ok(&["losetup", "-d", "/dev/loop8"], "");
    assert_eq!(
        rt().block_on(f.p.delete_volume(&vol("lost", 0)))
            .expect("delete"),
        DeleteOutcome::Deleted
    );
    f.finish();
}

#[test]
fn fake_file_reflink_check() {
    let f = Fx::new(false);
    let src = f.path("LinstorSnapshotTestSource.img");
    let dst = f.path("LinstorSnapshotTestTarget.img");
    f.runner
        .expect_ok(&["cp", "--reflink=always", &src, &dst], "");
    f.runner.expect(
        &["cp", "--reflink=always", &src, &dst],
        CmdOutput::exit(1, "", "cp: failed to clone: Operation not supported"),
    );
    let rt = rt();
    assert!(rt.block_on(f.p.supports_reflink()).expect("check"));
    assert!(!rt.block_on(f.p.supports_reflink()).expect("check"));
    assert_eq!(
        std::fs::read_dir(f.tmp.path()).expect("dir").count(),
        0,
        "test files removed"
    );
    insta::assert_snapshot!(f.finish());
}
