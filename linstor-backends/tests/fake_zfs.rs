//! ZFS and ZFS_THIN providers against the scripted runner (this host has no ZFS module):
//! every operation's exact argv sequence, pinned with insta, with outputs from fixture files in
//! the real `zfs list -H -p`, `zfs get -Hp` and `zpool get -Hp` formats.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{fixture, paused_rt, rt, snap, vol};
use linstor_backends::naming::{LayerSuffix, VolumeId};
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::zfs::{ZfsConfig, ZfsProvider};
use linstor_backends::{BackendError, CmdOutput, ScriptedRunner};
use linstor_core::SizeKib;
use linstor_core::model::PoolCapacity;

const DS: &str = "tank/linstor";
const LIST: &[&str] = &[
    "zfs",
    "list",
    "-r",
    "-H",
    "-p",
    "-o",
    "name,refer,volsize,type,volblocksize,origin,clones",
    "-t",
    "volume,snapshot",
    "tank/linstor",
];
const GET_AVAIL: &[&str] = &[
    "zfs",
    "get",
    "available",
    "-o",
    "name,value",
    "-Hp",
    "tank/linstor",
];
const GET_QUOTA: &[&str] = &[
    "zfs",
    "get",
    "quota",
    "-o",
    "name,value",
    "-Hp",
    "tank/linstor",
];
const ZPOOL_SIZE: &[&str] = &["zpool", "get", "size", "-Hp", "tank"];
const THIN_AVAIL: &[&str] = &[
    "zfs",
    "list",
    "-r",
    "-H",
    "-p",
    "-o",
    "name,available,type",
    "-t",
    "filesystem",
    "tank/linstor",
];

fn setup(thin: bool) -> (Arc<ScriptedRunner>, ZfsProvider) {
    let runner = Arc::new(ScriptedRunner::new());
    let p = if thin {
        ZfsProvider::thin(runner.clone(), DS, ZfsConfig::default())
    } else {
        ZfsProvider::thick(runner.clone(), DS, ZfsConfig::default())
    }
    .expect("valid");
    (runner, p)
}

fn expect_capacity(r: &ScriptedRunner, thin: bool) {
    if thin {
        r.expect_ok(THIN_AVAIL, &fixture("zfs_list_available.txt"));
    } else {
        r.expect_ok(GET_AVAIL, &fixture("zfs_get_available.txt"));
    }
    r.expect_ok(GET_QUOTA, &fixture("zfs_get_quota.txt"));
    r.expect_ok(ZPOOL_SIZE, &fixture("zpool_get_size.txt"));
}

fn finish(r: &ScriptedRunner) -> String {
    r.finish();
    r.transcript()
}

const NEW_ROW: &str = "tank/linstor/new_00000\t8192\t10485760\tvolume\t16384\t-\t-\n";

#[test]
fn fake_zfs_capacity_thick_and_thin() {
    let (r, p) = setup(false);
    expect_capacity(&r, false);
    let cap = rt().block_on(p.capacity()).expect("cap");
    // available 10375731200 B, quota 0 -> zpool size 10737418240 B.
    assert_eq!(
        cap,
        PoolCapacity {
            free: SizeKib(10_132_550),
            total: SizeKib(10_485_760)
        }
    );
    insta::assert_snapshot!("capacity_thick", finish(&r));
    let (r, p) = setup(true);
    expect_capacity(&r, true);
    let cap = rt().block_on(p.capacity()).expect("cap");
    assert_eq!(
        cap,
        PoolCapacity {
            free: SizeKib(10_132_519),
            total: SizeKib(10_485_760)
        }
    );
    insta::assert_snapshot!("capacity_thin", finish(&r));
}

#[test]
fn fake_zfs_capacity_with_quota_skips_zpool() {
    let (r, p) = setup(false);
    r.expect_ok(GET_AVAIL, &fixture("zfs_get_available.txt"));
    r.expect_ok(GET_QUOTA, "tank/linstor\t5368709120\n");
    let cap = rt().block_on(p.capacity()).expect("cap");
    assert_eq!(cap.total, SizeKib(5_242_880));
    finish(&r);
}

#[test]
fn fake_zfs_list() {
    let (r, p) = setup(false);
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    let vols = rt().block_on(p.list_volumes()).expect("list");
    let names: Vec<&str> = vols.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "tank/linstor/pvc-abc_00000",
            "tank/linstor/pvc-new_00000",
            "tank/linstor/rsc.meta_00000"
        ]
    );
    assert_eq!(vols[0].size, SizeKib(1_048_576));
    assert_eq!(
        vols[0].device_path.as_deref(),
        Some(std::path::Path::new("/dev/zvol/tank/linstor/pvc-abc_00000"))
    );
    finish(&r);
}

/// `zfs_list_snapshots.txt` is NOT recorded (this host has no ZFS module); it is shaped as
/// OpenZFS's `zfs list -r -H -p -o name,refer,volsize,type,volblocksize,origin,clones -t
/// volume,snapshot` prints: tab-separated, exact byte numbers, rows sorted by name with each
/// zvol's snapshots after it in creation order, `-` for a property that does not apply
/// (`volblocksize` and `origin` of a snapshot, `clones` of a zvol) and an empty `clones` field
/// for a snapshot without clones; a snapshot's `volsize` is the zvol's size when it was taken.
/// Listed: LINSTOR-shaped snapshots of LINSTOR zvols (names with `_` and digits, `s_00001`
/// which is unambiguous on ZFS, a `zfs-auto-snap_…` name, which is a valid snapshot name);
/// skipped: sanoid's `autosnap_…:…` (`:`), snapshots of `scratch`, zvols in a child dataset.
/// Both listings come from the one `zfs list` call each.
#[test]
fn fixture_zfs_list_snapshots_in_real_format() {
    for thin in [false, true] {
        let (r, p) = setup(thin);
        r.expect_ok(LIST, &fixture("zfs_list_snapshots.txt"));
        r.expect_ok(LIST, &fixture("zfs_list_snapshots.txt"));
        let rt = rt();
        let vols = rt.block_on(p.list_volumes()).expect("list");
        let got: Vec<(String, &str, SizeKib)> = vols
            .iter()
            .map(|v| (format!("{:?}", v.id), v.name.as_str(), v.size))
            .collect();
        let id = |rsc: &str, suffix, nr| {
            let v = VolumeId::with_suffix(vol(rsc, 0).rsc, suffix, nr).expect("valid");
            format!("{v:?}")
        };
        let data = LayerSuffix::Data;
        assert_eq!(
            got,
            [
                (
                    id("data_2024_x1", data, 3),
                    "tank/linstor/data_2024_x1_00003",
                    SizeKib(8192)
                ),
                (
                    id("pvc-abc", LayerSuffix::DrbdMeta, 0),
                    "tank/linstor/pvc-abc.meta_00000",
                    SizeKib(4096)
                ),
                (
                    id("pvc-abc", data, 0),
                    "tank/linstor/pvc-abc_00000",
                    SizeKib(1_048_576)
                ),
                (
                    id("pvc-new", data, 0),
                    "tank/linstor/pvc-new_00000",
                    SizeKib(1_048_576)
                ),
                (
                    id("r_00001_x", data, 0),
                    "tank/linstor/r_00001_x_00000",
                    SizeKib(65_536)
                ),
            ]
        );
        let snaps = rt.block_on(p.list_snapshots()).expect("list");
        let got: Vec<(String, &str, &str, SizeKib, bool)> = snaps
            .iter()
            .map(|s| {
                (
                    format!("{:?}", s.vol),
                    s.snap.as_str(),
                    s.info.name.as_str(),
                    s.info.size,
                    s.info.simulated,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    id("data_2024_x1", data, 3),
                    "snap_2",
                    "tank/linstor/data_2024_x1_00003@snap_2",
                    SizeKib(8192),
                    false
                ),
                (
                    id("pvc-abc", data, 0),
                    "snap1",
                    "tank/linstor/pvc-abc_00000@snap1",
                    SizeKib(1_048_576),
                    false
                ),
                (
                    id("pvc-abc", data, 0),
                    "zfs-auto-snap_hourly-2026-12-04-1200",
                    "tank/linstor/pvc-abc_00000@zfs-auto-snap_hourly-2026-12-04-1200",
                    SizeKib(1_048_576),
                    false
                ),
                (
                    id("r_00001_x", data, 0),
                    "back_17",
                    "tank/linstor/r_00001_x_00000@back_17",
                    SizeKib(32_768),
                    false
                ),
                (
                    id("r_00001_x", data, 0),
                    "s_00001",
                    "tank/linstor/r_00001_x_00000@s_00001",
                    SizeKib(65_536),
                    false
                ),
            ]
        );
        assert_eq!(snaps[3].vol.rsc.as_str(), "r_00001_x");
        finish(&r);
    }
}

#[test]
fn fake_zfs_create_thick_and_thin() {
    for thin in [false, true] {
        let (r, p) = setup(thin);
        r.expect_ok(LIST, &fixture("zfs_list.txt"));
        expect_capacity(&r, thin);
        // 10000 KiB is rounded up to the 16 KiB block size.
        let create: Vec<&str> = if thin {
            vec![
                "zfs",
                "create",
                "-s",
                "-V",
                "10000KB",
                "tank/linstor/new_00000",
            ]
        } else {
            vec!["zfs", "create", "-V", "10000KB", "tank/linstor/new_00000"]
        };
        r.expect_ok(&create, "");
        r.expect_ok(LIST, &(fixture("zfs_list.txt") + NEW_ROW));
        let out = rt()
            .block_on(p.create_volume(&vol("new", 0), SizeKib(9990)))
            .expect("create");
        assert!(
            matches!(&out, CreateOutcome::Created(i) if i.size == SizeKib(10240)),
            "{out:?}"
        );
        insta::assert_snapshot!(
            if thin { "create_thin" } else { "create_thick" },
            finish(&r)
        );
    }
}

#[test]
fn fake_zfs_create_idempotent_and_refusals() {
    let (r, p) = setup(false);
    let rt = rt();
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    expect_capacity(&r, false);
    let out = rt
        .block_on(p.create_volume(&vol("pvc-abc", 0), SizeKib(1_048_576)))
        .expect("present");
    assert!(!out.is_changed());
    let err = rt
        .block_on(p.create_volume(&vol("pvc-abc", 0), SizeKib(2_000_000)))
        .expect_err("mismatch");
    assert!(matches!(err, BackendError::AlreadyExists { .. }), "{err:?}");
    let err = rt
        .block_on(p.create_volume(&vol("huge", 0), SizeKib(11_000_000)))
        .expect_err("too big");
    assert!(
        matches!(err, BackendError::InsufficientSpace { .. }),
        "{err:?}"
    );
    let err = rt
        .block_on(p.create_volume(&vol("zero", 0), SizeKib(0)))
        .expect_err("zero");
    assert!(matches!(err, BackendError::InvalidInput { .. }), "{err:?}");
    insta::assert_snapshot!(finish(&r));
}

#[test]
fn fake_zfs_resize_and_delete() {
    let (r, p) = setup(false);
    let rt = rt();
    let resized = fixture("zfs_list.txt").replacen("1073741824\tvolume", "2147483648\tvolume", 1);
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    expect_capacity(&r, false);
    r.expect_ok(
        &[
            "zfs",
            "set",
            "volsize=2097152KB",
            "tank/linstor/pvc-abc_00000",
        ],
        "",
    );
    r.expect_ok(LIST, &resized);
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(&["zfs", "destroy", "tank/linstor/rsc.meta_00000"], "");
    r.expect_ok(LIST, "");
    let out = rt
        .block_on(p.resize_volume(&vol("pvc-abc", 0), SizeKib(2_097_152)))
        .expect("grow");
    assert_eq!(
        out,
        ResizeOutcome::Resized {
            from: SizeKib(1_048_576),
            to: SizeKib(2_097_152)
        }
    );
    let meta = linstor_backends::naming::VolumeId::with_suffix(
        "rsc".parse().expect("name"),
        linstor_backends::naming::LayerSuffix::DrbdMeta,
        0,
    )
    .expect("valid");
    assert_eq!(
        rt.block_on(p.delete_volume(&meta)).expect("delete"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(p.delete_volume(&meta)).expect("again"),
        DeleteOutcome::AlreadyAbsent
    );
    insta::assert_snapshot!(finish(&r));
}

#[test]
fn fake_zfs_snapshot_dependencies_are_refused() {
    let (r, p) = setup(false);
    let rt = rt();
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    let err = rt
        .block_on(p.delete_volume(&vol("pvc-abc", 0)))
        .expect_err("has snapshots");
    assert!(matches!(err, BackendError::InUse { .. }), "{err:?}");
    assert!(err.to_string().contains("pvc-abc_00000@snap1"), "{err}");
    let err = rt
        .block_on(p.delete_snapshot(&vol("pvc-abc", 0), &snap("snap1")))
        .expect_err("has clones");
    assert!(err.to_string().contains("pvc-new_00000"), "{err}");
    finish(&r);
}

#[test]
fn fake_zfs_snapshot_restore_delete() {
    let (r, p) = setup(true);
    let rt = rt();
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(&["zfs", "snapshot", "tank/linstor/pvc-abc_00000@s2"], "");
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(
        &[
            "zfs",
            "clone",
            "tank/linstor/pvc-abc_00000@snap1",
            "tank/linstor/other_00000",
        ],
        "",
    );
    r.expect_ok(
        LIST,
        &(fixture("zfs_list.txt") + "tank/linstor/other_00000\t0\t1073741824\tvolume\t16384\ttank/linstor/pvc-abc_00000@snap1\t-\n"),
    );
    let no_clones = fixture("zfs_list.txt").replace("\ttank/linstor/pvc-new_00000\n", "\t-\n");
    r.expect_ok(LIST, &no_clones);
    r.expect_ok(&["zfs", "destroy", "tank/linstor/pvc-abc_00000@snap1"], "");
    r.expect_ok(LIST, "");
    let src = vol("pvc-abc", 0);
    let s = rt
        .block_on(p.create_snapshot(&src, &snap("s2")))
        .expect("snap");
    assert!(
        matches!(&s, CreateOutcome::Created(i) if i.name == "tank/linstor/pvc-abc_00000@s2"),
        "{s:?}"
    );
    assert!(
        !rt.block_on(p.create_snapshot(&src, &snap("snap1")))
            .expect("exists")
            .is_changed()
    );
    let out = rt
        .block_on(p.restore_snapshot(&src, &snap("snap1"), &vol("other", 0)))
        .expect("restore");
    assert_eq!(out.info().size, SizeKib(1_048_576));
    assert_eq!(
        rt.block_on(p.delete_snapshot(&src, &snap("snap1")))
            .expect("del"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(p.delete_snapshot(&src, &snap("snap1")))
            .expect("del"),
        DeleteOutcome::AlreadyAbsent
    );
    insta::assert_snapshot!(finish(&r));
}

#[test]
fn fake_zfs_failure_and_hang_report_argv() {
    let runner = Arc::new(ScriptedRunner::new());
    let cfg = ZfsConfig {
        timeout: Duration::from_secs(3),
        ..ZfsConfig::default()
    };
    let p = ZfsProvider::thick(runner.clone(), DS, cfg).expect("valid");
    runner.expect_ok(LIST, &fixture("zfs_list.txt"));
    expect_capacity(&runner, false);
    runner.expect_hang(&["zfs", "create", "-V", "1024KB", "tank/linstor/new_00000"]);
    runner.expect(
        &[
            "zfs",
            "get",
            "available",
            "-o",
            "name,value",
            "-Hp",
            "tank/linstor",
        ],
        CmdOutput::exit(
            1,
            "",
            "cannot open 'tank/linstor': dataset does not exist\n",
        ),
    );
    let rt = paused_rt();
    let err = rt
        .block_on(p.create_volume(&vol("new", 0), SizeKib(1024)))
        .expect_err("hang");
    assert!(
        matches!(&err, BackendError::Timeout { argv, .. } if argv.join(" ") == "zfs create -V 1024KB tank/linstor/new_00000"),
        "{err:?}"
    );
    let err = rt.block_on(p.capacity()).expect_err("missing");
    assert!(
        matches!(
            err,
            BackendError::NotFound {
                what: "zfs dataset",
                ..
            }
        ),
        "{err:?}"
    );
    runner.finish();
}

#[test]
fn fake_zfs_hostile_datasets_are_rejected() {
    let runner = Arc::new(ScriptedRunner::new());
    for bad in [
        "tank;x",
        "tank x",
        "$(id)",
        "../tank",
        "-tank",
        "tank/../x",
        "tank/-x",
        "",
    ] {
        let err = ZfsProvider::thick(runner.clone(), bad, ZfsConfig::default()).expect_err(bad);
        assert!(
            matches!(err, BackendError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
    }
    let cfg = ZfsConfig {
        zfscreate_options: vec!["-o compression=lz4".into()],
        ..ZfsConfig::default()
    };
    assert!(ZfsProvider::thick(runner.clone(), "tank", cfg).is_err());
    runner.finish();
}

#[test]
fn fake_zfs_device_path() {
    let (r, p) = setup(false);
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    let rt = rt();
    assert_eq!(
        rt.block_on(p.device_path(&vol("pvc-new", 0)))
            .expect("path"),
        Some("/dev/zvol/tank/linstor/pvc-new_00000".into())
    );
    assert_eq!(
        rt.block_on(p.device_path(&vol("nothere", 0)))
            .expect("path"),
        None
    );
    finish(&r);
}

#[test]
fn fake_zfs_thin_resize() {
    let (r, p) = setup(true);
    let resized = fixture("zfs_list.txt").replacen("1073741824\tvolume", "2147483648\tvolume", 1);
    r.expect_ok(LIST, &fixture("zfs_list.txt"));
    expect_capacity(&r, true);
    r.expect_ok(
        &[
            "zfs",
            "set",
            "volsize=2097152KB",
            "tank/linstor/pvc-abc_00000",
        ],
        "",
    );
    r.expect_ok(LIST, &resized);
    let out = rt()
        .block_on(p.resize_volume(&vol("pvc-abc", 0), SizeKib(2_097_152)))
        .expect("grow");
    assert_eq!(
        out,
        ResizeOutcome::Resized {
            from: SizeKib(1_048_576),
            to: SizeKib(2_097_152)
        }
    );
    insta::assert_snapshot!(finish(&r));
}

/// `zfs destroy` is retried while the dataset is busy (no other argv in between), 10 ms apart
/// here; still busy after the retries it is [`BackendError::InUse`] naming the argv.
#[test]
fn fake_zfs_destroy_retried_while_busy() {
    let runner = Arc::new(ScriptedRunner::new());
    let cfg = ZfsConfig {
        destroy_busy_retries: 2,
        destroy_busy_delay: Duration::from_millis(10),
        ..ZfsConfig::default()
    };
    let p = ZfsProvider::thick(runner.clone(), DS, cfg).expect("valid");
    let meta = linstor_backends::naming::VolumeId::with_suffix(
        "rsc".parse().expect("name"),
        linstor_backends::naming::LayerSuffix::DrbdMeta,
        0,
    )
    .expect("valid");
    let destroy = ["zfs", "destroy", "tank/linstor/rsc.meta_00000"];
    let busy = || {
        CmdOutput::exit(
            1,
            "",
            "cannot destroy 'tank/linstor/rsc.meta_00000': dataset is busy\n",
        )
    };
    // Busy once, then gone.
    runner.expect_ok(LIST, &fixture("zfs_list.txt"));
    runner.expect(&destroy, busy());
    runner.expect_ok(&destroy, "");
    // Busy on every attempt.
    runner.expect_ok(LIST, &fixture("zfs_list.txt"));
    for _ in 0..3 {
        runner.expect(&destroy, busy());
    }
    let rt = paused_rt();
    assert_eq!(
        rt.block_on(p.delete_volume(&meta)).expect("second try"),
        DeleteOutcome::Deleted
    );
    let err = rt.block_on(p.delete_volume(&meta)).expect_err("stays busy");
    match &err {
        BackendError::InUse { what, name, reason } => {
            assert_eq!(*what, "zvol");
            assert_eq!(name, "tank/linstor/rsc.meta_00000");
            assert!(reason.contains("after 3 attempts 10ms apart"), "{reason}");
            assert!(
                reason.contains("`zfs destroy tank/linstor/rsc.meta_00000`"),
                "{reason}"
            );
            assert!(reason.contains("dataset is busy"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!(format!("{}\n---\n{err}", finish(&runner)));
}
