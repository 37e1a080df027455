//! LVM and LVM_THIN providers against the scripted runner: every operation's exact argv
//! sequence (pinned with insta), outputs taken from fixture files recorded from the real tools.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{expect_quick_wipe, fixture, paused_rt, rt, snap, vol};
use linstor_backends::lvm::{LvmConfig, LvmProvider};
use linstor_backends::naming::{LayerSuffix, VolumeId};
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::{BackendError, CmdOutput, ScriptedRunner};
use linstor_core::SizeKib;
use linstor_core::model::PoolCapacity;

const F: &str = "devices { filter=['a|/dev/loop1|','r|.*|'] }";
const PVDISPLAY: &[&str] = &[
    "pvdisplay",
    "--config",
    "devices { filter=[\"r|^/dev/drbd.*|\"] }",
    "--columns",
    "-o",
    "pv_name",
    "-S",
    "vg_name=linstor_vg",
    "--noheadings",
    "--nosuffix",
];
/// The PV selection before a thick `lvcreate` (`StorDriver/LvcreatePvSelection` default).
const PVDISPLAY_SORTED: &[&str] = &[
    "pvdisplay",
    "--config",
    "devices { filter=[\"r|^/dev/drbd.*|\"] }",
    "--columns",
    "-o",
    "pv_name",
    "-S",
    "vg_name=linstor_vg",
    "--noheadings",
    "--nosuffix",
    "--sort",
    "pv_used",
];
const LVS: &[&str] = &[
    "lvs",
    "--config",
    F,
    "-o",
    "lv_name,lv_path,lv_size,vg_name,pool_lv,data_percent,lv_attr,metadata_percent,chunk_size,stripes",
    "--separator",
    ";",
    "--noheadings",
    "--units",
    "k",
    "--nosuffix",
    "linstor_vg",
];
const VGS: &[&str] = &[
    "vgs",
    "--config",
    F,
    "-o",
    "vg_name,vg_extent_size,vg_size,vg_free",
    "--separator",
    ";",
    "--units",
    "k",
    "--noheadings",
    "--nosuffix",
    "linstor_vg",
];
const VGS_THIN: &[&str] = &[
    "vgs",
    "--config",
    F,
    "-o",
    "vg_name,vg_extent_size,vg_size,vg_free,lv_name,lv_size,data_percent",
    "--separator",
    ";",
    "--units",
    "k",
    "--noheadings",
    "--nosuffix",
    "linstor_vg",
];

struct Fx {
    runner: Arc<ScriptedRunner>,
    p: LvmProvider,
}

fn thick() -> Fx {
    let runner = Arc::new(ScriptedRunner::new());
    let p = LvmProvider::thick(runner.clone(), "linstor_vg", LvmConfig::default()).expect("valid");
    runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    Fx { runner, p }
}

fn thin() -> Fx {
    let runner = Arc::new(ScriptedRunner::new());
    let p = LvmProvider::thin(runner.clone(), "linstor_vg/thinpool", LvmConfig::default())
        .expect("valid");
    runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    Fx { runner, p }
}

fn with(prefix: &[&str], rest: &[&str]) -> Vec<String> {
    prefix.iter().chain(rest).map(|s| (*s).to_owned()).collect()
}

fn argv(words: &[String]) -> Vec<&str> {
    words.iter().map(String::as_str).collect()
}

fn lvm(tool: &str, rest: &[&str]) -> Vec<String> {
    with(&[tool, "--config", F], rest)
}

fn lvs_after_create(extra: &str) -> String {
    fixture("lvs_thick.txt") + extra
}

impl Fx {
    fn finish(&self) -> String {
        self.runner.finish();
        self.runner.transcript()
    }
}

#[test]
fn fake_lvm_create_thick() {
    let f = thick();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    f.runner.expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner
        .expect_ok(PVDISPLAY_SORTED, &fixture("pvdisplay.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--size",
                "5000k",
                "linstor_vg",
                "-n",
                "new_00000",
                "-y",
                "/dev/loop1",
            ],
        )),
        "",
    );
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/new_00000", 8192 * 1024);
    f.runner.expect_ok(
        LVS,
        &lvs_after_create(
            "  new_00000;/dev/linstor_vg/new_00000;8192.00;linstor_vg;;;-wi-a-----;;0;1\n",
        ),
    );
    let out = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(5000)))
        .expect("created");
    let CreateOutcome::Created(info) = out else {
        panic!("{out:?}")
    };
    assert_eq!(info.size, SizeKib(8192));
    assert_eq!(
        info.device_path.as_deref(),
        Some(std::path::Path::new("/dev/linstor_vg/new_00000"))
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_create_is_idempotent_with_size_check() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    let rt = rt();
    // 5000 KiB rounds up to two 4 MiB extents: the existing 8192 KiB LV matches.
    let out = rt
        .block_on(f.p.create_volume(&vol("pvc-abc", 0), SizeKib(5000)))
        .expect("present");
    assert!(
        matches!(out, CreateOutcome::AlreadyPresent(ref i) if i.size == SizeKib(8192)),
        "{out:?}"
    );
    let err = rt
        .block_on(f.p.create_volume(&vol("pvc-abc", 0), SizeKib(9000)))
        .expect_err("mismatch");
    assert!(
        matches!(
            err,
            BackendError::AlreadyExists {
                existing: 8192,
                requested: 9000,
                ..
            }
        ),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_refuses_bad_sizes_before_creating() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    let rt = rt();
    let err = rt
        .block_on(f.p.create_volume(&vol("big", 0), SizeKib(94_209)))
        .expect_err("too big");
    assert!(
        matches!(
            err,
            BackendError::InsufficientSpace {
                requested: 98_304,
                free: 94_208,
                ..
            }
        ),
        "{err:?}"
    );
    let err = rt
        .block_on(f.p.create_volume(&vol("zero", 0), SizeKib(0)))
        .expect_err("zero");
    assert!(
        matches!(err, BackendError::InvalidInput { field: "size", .. }),
        "{err:?}"
    );
    // No lvcreate in the transcript.
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_hostile_pool_names_run_nothing() {
    let runner = Arc::new(ScriptedRunner::new());
    for bad in ["vg;reboot", "vg name", "$(id)", "../vg", "-vg", "vg/thin"] {
        let err = LvmProvider::thick(runner.clone(), bad, LvmConfig::default()).expect_err(bad);
        assert!(
            matches!(err, BackendError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
    }
    for bad in [
        "vg",
        "vg/thin;x",
        "vg/$(id)",
        "../vg/thin",
        "vg/-thin",
        "vg /thin",
    ] {
        let err = LvmProvider::thin(runner.clone(), bad, LvmConfig::default()).expect_err(bad);
        assert!(
            matches!(err, BackendError::InvalidInput { .. }),
            "{bad}: {err:?}"
        );
    }
    let cfg = LvmConfig {
        lvcreate_options: vec!["--type raid1; reboot".into()],
        ..LvmConfig::default()
    };
    assert!(LvmProvider::thick(runner.clone(), "vg", cfg).is_err());
    runner.finish();
    assert_eq!(runner.transcript(), "");
}

#[test]
fn fake_lvm_delete_wipes_then_removes_and_is_idempotent() {
    let f = thick();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/pvc-abc_00000", 8192 * 1024);
    f.runner.expect_ok(
        &argv(&lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000"])),
        "",
    );
    f.runner.expect_ok(
        LVS,
        &fixture("lvs_thick.txt").replace("pvc-abc_00000", "gone_00000"),
    );
    let rt = rt();
    assert_eq!(
        rt.block_on(f.p.delete_volume(&vol("pvc-abc", 0)))
            .expect("deleted"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(f.p.delete_volume(&vol("pvc-abc", 0)))
            .expect("absent"),
        DeleteOutcome::AlreadyAbsent
    );
    insta::assert_snapshot!(f.finish());
}

/// `StorDriver/LvcreatePvSelection`: the PVs come back in `pvdisplay`'s order and are appended
/// after the user's `LvcreateOptions`; an empty selection runs no `pvdisplay` and appends
/// nothing; a selection with shell syntax is refused before anything runs.
#[test]
fn fake_lvm_create_thick_pv_selection() {
    for selection in [vec!["--sort", "-pv_free"], vec![]] {
        let runner = Arc::new(ScriptedRunner::new());
        let cfg = LvmConfig {
            lvcreate_options: vec!["--type".into(), "linear".into()],
            lvcreate_pv_selection: selection.iter().map(|s| (*s).to_owned()).collect(),
            ..LvmConfig::default()
        };
        let p = LvmProvider::thick(runner.clone(), "linstor_vg", cfg).expect("valid");
        runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
        runner
            .expect_ok(LVS, &fixture("lvs_thick.txt"))
            .expect_ok(VGS, &fixture("vgs_thick.txt"));
        let mut create = vec![
            "--size",
            "4096k",
            "linstor_vg",
            "-n",
            "new_00000",
            "-y",
            "--type",
            "linear",
        ];
        if !selection.is_empty() {
            runner.expect_ok(
                &[PVDISPLAY, &selection[..]].concat(),
                "  /dev/loop2\n  /dev/loop1\n",
            );
            create.extend(["/dev/loop2", "/dev/loop1"]);
        }
        runner.expect_ok(&argv(&lvm("lvcreate", &create)), "");
        expect_quick_wipe(&runner, "/dev/linstor_vg/new_00000", 4096 * 1024);
        runner.expect_ok(
            LVS,
            &lvs_after_create(
                "  new_00000;/dev/linstor_vg/new_00000;4096.00;linstor_vg;;;-wi-a-----;;0;1\n",
            ),
        );
        let out = rt()
            .block_on(p.create_volume(&vol("new", 0), SizeKib(4096)))
            .expect("created");
        assert!(out.is_changed());
        runner.finish();
        let name = if selection.is_empty() {
            "pv_selection_off"
        } else {
            "pv_selection_custom"
        };
        insta::assert_snapshot!(name, runner.transcript());
    }
    for bad in ["--sort;reboot", "$(id)", "--sort pv_used"] {
        let runner = Arc::new(ScriptedRunner::new());
        let cfg = LvmConfig {
            lvcreate_pv_selection: vec![bad.to_owned()],
            ..LvmConfig::default()
        };
        let err = LvmProvider::thick(runner.clone(), "linstor_vg", cfg).expect_err(bad);
        assert!(
            matches!(&err, BackendError::InvalidInput { field, .. } if *field == "LvcreatePvSelection"),
            "{bad}: {err:?}"
        );
        runner.finish();
        assert_eq!(runner.transcript(), "");
    }
}

/// A thick pool whose `lvremove` is retried twice, 10 ms apart, while the LV is busy.
fn thick_busy_retries() -> Fx {
    let runner = Arc::new(ScriptedRunner::new());
    let cfg = LvmConfig {
        lvremove_busy_retries: 2,
        lvremove_busy_delay: Duration::from_millis(10),
        ..LvmConfig::default()
    };
    let p = LvmProvider::thick(runner.clone(), "linstor_vg", cfg).expect("valid");
    runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    Fx { runner, p }
}

#[test]
fn fake_lvm_lvremove_retried_while_busy() {
    let f = thick_busy_retries();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/pvc-abc_00000", 8192 * 1024);
    let remove = lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000"]);
    // Busy is not a filter problem: no pvdisplay in between, the same argv again.
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(5, "", "  Logical volume linstor_vg/pvc-abc_00000 in use.\n"),
    );
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(
            5,
            "",
            "  Logical volume linstor_vg/pvc-abc_00000 contains a filesystem in use.\n",
        ),
    );
    f.runner.expect_ok(&argv(&remove), "");
    let rt = paused_rt();
    let started = rt.block_on(async { tokio::time::Instant::now() });
    assert_eq!(
        rt.block_on(f.p.delete_volume(&vol("pvc-abc", 0)))
            .expect("deleted on the third try"),
        DeleteOutcome::Deleted
    );
    let waited = rt.block_on(async { started.elapsed() });
    assert!(
        waited >= Duration::from_millis(20) && waited < Duration::from_secs(1),
        "two pauses of 10 ms: {waited:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_lvremove_still_busy_is_in_use() {
    let f = thick_busy_retries();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/pvc-abc_00000", 8192 * 1024);
    let remove = lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000"]);
    for _ in 0..3 {
        f.runner.expect(
            &argv(&remove),
            CmdOutput::exit(5, "", "  Logical volume linstor_vg/pvc-abc_00000 in use.\n"),
        );
    }
    let err = paused_rt()
        .block_on(f.p.delete_volume(&vol("pvc-abc", 0)))
        .expect_err("stays busy");
    match &err {
        BackendError::InUse { what, name, reason } => {
            assert_eq!(*what, "logical volume");
            assert_eq!(name, "linstor_vg/pvc-abc_00000");
            assert!(reason.contains("after 3 attempts 10ms apart"), "{reason}");
            assert!(
                reason.contains("lvremove --config"),
                "names the argv: {reason}"
            );
            assert!(
                reason.contains("Logical volume linstor_vg/pvc-abc_00000 in use."),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!(format!("{}\n---\n{err}", f.finish()));
}

/// Other lvremove failures are not retried for busy (only once with a fresh filter).
#[test]
fn fake_lvm_lvremove_other_failure_not_retried_for_busy() {
    let f = thick_busy_retries();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/pvc-abc_00000", 8192 * 1024);
    let remove = lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000"]);
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(5, "", "  Failed to write VG linstor_vg.\n"),
    );
    f.runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(5, "", "  Failed to write VG linstor_vg.\n"),
    );
    let err = paused_rt()
        .block_on(f.p.delete_volume(&vol("pvc-abc", 0)))
        .expect_err("fails");
    assert!(
        matches!(&err, BackendError::CommandFailed { stderr, .. } if stderr.contains("Failed to write VG")),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_resize_grow_and_unchanged() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvresize",
            &["--size", "16384k", "linstor_vg/pvc-abc_00000", "-f"],
        )),
        "",
    );
    f.runner.expect_ok(
        LVS,
        &fixture("lvs_thick.txt").replace(";8192.00;", ";16384.00;"),
    );
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    let rt = rt();
    let out = rt
        .block_on(f.p.resize_volume(&vol("pvc-abc", 0), SizeKib(16384)))
        .expect("grown");
    assert_eq!(
        out,
        ResizeOutcome::Resized {
            from: SizeKib(8192),
            to: SizeKib(16384)
        }
    );
    let out = rt
        .block_on(f.p.resize_volume(&vol("pvc-abc", 0), SizeKib(8192)))
        .expect("same");
    assert_eq!(out, ResizeOutcome::Unchanged(SizeKib(8192)));
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_resize_missing_and_too_large() {
    let f = thick();
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    let rt = rt();
    let err = rt
        .block_on(f.p.resize_volume(&vol("nope", 0), SizeKib(100)))
        .expect_err("missing");
    assert!(matches!(err, BackendError::NotFound { .. }), "{err:?}");
    let err = rt
        .block_on(f.p.resize_volume(&vol("pvc-abc", 0), SizeKib(200_000)))
        .expect_err("big");
    assert!(
        matches!(err, BackendError::InsufficientSpace { .. }),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_capacity_list_and_device_path() {
    let f = thick();
    f.runner.expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    let rt = rt();
    assert_eq!(
        rt.block_on(f.p.capacity()).expect("cap"),
        PoolCapacity {
            free: SizeKib(94_208),
            total: SizeKib(126_976)
        }
    );
    let names: Vec<String> = rt
        .block_on(f.p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        names,
        ["pvc-abc.meta_00000", "pvc-abc_00000", "rsc_x_00001"]
    );
    assert_eq!(
        rt.block_on(f.p.device_path(&vol("rsc_x", 1)))
            .expect("path"),
        Some("/dev/linstor_vg/rsc_x_00001".into())
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_thick_has_no_snapshots() {
    let f = thick();
    let rt = rt();
    let err = rt
        .block_on(f.p.create_snapshot(&vol("pvc-abc", 0), &snap("s1")))
        .expect_err("unsupported");
    assert!(
        matches!(
            err,
            BackendError::Unsupported {
                provider: "LVM",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        rt.block_on(f.p.restore_snapshot(&vol("pvc-abc", 0), &snap("s1"), &vol("nn", 0)))
            .is_err()
    );
    assert!(
        rt.block_on(f.p.delete_snapshot(&vol("pvc-abc", 0), &snap("s1")))
            .is_err()
    );
    // Only the filter set-up expectation was queued; no command ran.
    assert_eq!(f.runner.remaining(), 1);
    let _ = f.runner.try_finish();
}

#[test]
fn fake_lvm_failure_midway_removes_the_new_lv() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner
        .expect_ok(PVDISPLAY_SORTED, &fixture("pvdisplay.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--size",
                "4096k",
                "linstor_vg",
                "-n",
                "new_00000",
                "-y",
                "/dev/loop1",
            ],
        )),
        "",
    );
    f.runner.expect(
        &["wipefs", "-a", "-f", "/dev/linstor_vg/new_00000"],
        CmdOutput::exit(
            1,
            "",
            "wipefs: error: /dev/linstor_vg/new_00000: probing initialization failed",
        ),
    );
    f.runner
        .expect_ok(&argv(&lvm("lvremove", &["-f", "linstor_vg/new_00000"])), "");
    let err = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(4096)))
        .expect_err("fails");
    match &err {
        BackendError::CommandFailed { argv, .. } => assert_eq!(argv[0], "wipefs"),
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_failed_rollback_reports_what_was_left() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner
        .expect_ok(PVDISPLAY_SORTED, &fixture("pvdisplay.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--size",
                "4096k",
                "linstor_vg",
                "-n",
                "new_00000",
                "-y",
                "/dev/loop1",
            ],
        )),
        "",
    );
    f.runner.expect(
        &["wipefs", "-a", "-f", "/dev/linstor_vg/new_00000"],
        CmdOutput::exit(1, "", "wipe failed"),
    );
    let remove = lvm("lvremove", &["-f", "linstor_vg/new_00000"]);
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(5, "", "Failed to write VG linstor_vg."),
    );
    // LINSTOR's execWithRetry: rebuild the filter, try once more.
    f.runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    f.runner.expect(
        &argv(&remove),
        CmdOutput::exit(5, "", "Failed to write VG linstor_vg."),
    );
    let err = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(4096)))
        .expect_err("fails");
    match &err {
        BackendError::RollbackFailed {
            cause,
            rollback,
            left_behind,
        } => {
            assert!(cause.to_string().contains("wipe failed"), "{cause}");
            assert!(
                rollback.to_string().contains("Failed to write VG"),
                "{rollback}"
            );
            assert_eq!(left_behind, "LV linstor_vg/new_00000");
        }
        other => panic!("{other:?}"),
    }
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_retries_once_with_a_fresh_filter() {
    let f = thick();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thick.txt"))
        .expect_ok(VGS, &fixture("vgs_thick.txt"));
    f.runner
        .expect_ok(PVDISPLAY_SORTED, &fixture("pvdisplay.txt"));
    let create = lvm(
        "lvcreate",
        &[
            "--size",
            "4096k",
            "linstor_vg",
            "-n",
            "new_00000",
            "-y",
            "/dev/loop1",
        ],
    );
    f.runner.expect(
        &argv(&create),
        CmdOutput::exit(5, "", "Device /dev/loop9 not found."),
    );
    f.runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    f.runner.expect_ok(&argv(&create), "");
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/new_00000", 4096 * 1024);
    f.runner.expect_ok(
        LVS,
        &lvs_after_create(
            "  new_00000;/dev/linstor_vg/new_00000;4096.00;linstor_vg;;;-wi-a-----;;0;1\n",
        ),
    );
    let out = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(4096)))
        .expect("created");
    assert!(out.is_changed());
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_hanging_lvcreate_times_out_with_argv() {
    let runner = Arc::new(ScriptedRunner::new());
    let cfg = LvmConfig {
        timeout: Duration::from_secs(7),
        use_filter: false,
        ..LvmConfig::default()
    };
    let p = LvmProvider::thick(runner.clone(), "linstor_vg", cfg).expect("valid");
    let no_filter = |w: &[&str]| -> Vec<String> {
        w.iter()
            .enumerate()
            .filter(|(i, _)| !(1..=2).contains(i))
            .map(|(_, s)| (*s).to_owned())
            .collect()
    };
    runner.expect_ok(&argv(&no_filter(LVS)), &fixture("lvs_thick.txt"));
    runner.expect_ok(&argv(&no_filter(VGS)), &fixture("vgs_thick.txt"));
    runner.expect_ok(PVDISPLAY_SORTED, &fixture("pvdisplay.txt"));
    runner.expect_hang(&[
        "lvcreate",
        "--size",
        "4096k",
        "linstor_vg",
        "-n",
        "new_00000",
        "-y",
        "/dev/loop1",
    ]);
    let err = paused_rt()
        .block_on(p.create_volume(&vol("new", 0), SizeKib(4096)))
        .expect_err("hangs");
    match &err {
        BackendError::Timeout { argv, timeout } => {
            assert_eq!(
                argv.join(" "),
                "lvcreate --size 4096k linstor_vg -n new_00000 -y /dev/loop1"
            );
            assert_eq!(*timeout, Duration::from_secs(7));
        }
        other => panic!("{other:?}"),
    }
    runner.finish();
}

#[test]
fn fake_lvm_thin_capacity_and_list() {
    let f = thin();
    f.runner.expect_ok(VGS_THIN, &fixture("vgs_lvs_thin.txt"));
    f.runner.expect_ok(LVS, &fixture("lvs_thin.txt"));
    let rt = rt();
    // 102400 KiB thin pool, 12.5 % used.
    assert_eq!(
        rt.block_on(f.p.capacity()).expect("cap"),
        PoolCapacity {
            free: SizeKib(89_600),
            total: SizeKib(102_400)
        }
    );
    let vols = rt.block_on(f.p.list_volumes()).expect("list");
    assert_eq!(vols.len(), 1, "{vols:?}");
    assert_eq!(vols[0].name, "pvc-abc_00000");
    assert_eq!(vols[0].allocated, Some(SizeKib(2560)));
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_thin_create_activates_and_wipes() {
    let f = thin();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thin.txt"))
        .expect_ok(VGS_THIN, &fixture("vgs_lvs_thin.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--virtualsize",
                "1048576k",
                "linstor_vg",
                "--thinpool",
                "thinpool",
                "--name",
                "new_00000",
            ],
        )),
        "",
    );
    f.runner.expect_ok(
        &argv(&lvm("lvchange", &["-ay", "-K", "linstor_vg/new_00000"])),
        "",
    );
    expect_quick_wipe(&f.runner, "/dev/linstor_vg/new_00000", 1_048_576 * 1024);
    f.runner.expect_ok(
        LVS,
        &(fixture("lvs_thin.txt")
            + "  new_00000;/dev/linstor_vg/new_00000;1048576.00;linstor_vg;thinpool;0.00;Vwi-a-tz--;;0;0\n"),
    );
    // Thin: 1 GiB on a 100 MiB pool is fine (over-subscription ratio 20).
    let out = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(1_048_576)))
        .expect("created");
    assert_eq!(out.info().allocated, Some(SizeKib(0)));
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_thin_refuses_beyond_oversubscription() {
    let f = thin();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thin.txt"))
        .expect_ok(VGS_THIN, &fixture("vgs_lvs_thin.txt"));
    let err = rt()
        .block_on(f.p.create_volume(&vol("new", 0), SizeKib(102_400 * 20 + 1)))
        .expect_err("big");
    assert!(
        matches!(err, BackendError::InsufficientSpace { .. }),
        "{err:?}"
    );
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_thin_snapshot_restore_delete() {
    let f = thin();
    let rt = rt();
    let with_snap = fixture("lvs_thin.txt");
    let without_snap: String = with_snap
        .lines()
        .filter(|l| !l.contains("_snap1"))
        .map(|l| format!("{l}\n"))
        .collect();
    // snapshot s2: new
    f.runner.expect_ok(LVS, &with_snap);
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--snapshot",
                "--setactivationskip",
                "y",
                "--ignoreactivationskip",
                "--activate",
                "y",
                "--name",
                "linstor_vg/pvc-abc_00000_s2",
                "linstor_vg/pvc-abc_00000",
            ],
        )),
        "",
    );
    // snapshot snap1: exists
    f.runner.expect_ok(LVS, &with_snap);
    // restore snap1 into pvc-new
    f.runner.expect_ok(LVS, &with_snap);
    f.runner.expect_ok(
        &argv(&lvm(
            "lvcreate",
            &[
                "--snapshot",
                "--name",
                "pvc-new_00000",
                "linstor_vg/pvc-abc_00000_snap1",
            ],
        )),
        "",
    );
    f.runner.expect_ok(
        &argv(&lvm("lvchange", &["-ay", "-K", "linstor_vg/pvc-new_00000"])),
        "",
    );
    f.runner.expect_ok(
        LVS,
        &(with_snap.clone()
            + "  pvc-new_00000;/dev/linstor_vg/pvc-new_00000;10240.00;linstor_vg;thinpool;25.00;Vwi-a-tz--;;0;0\n"),
    );
    // delete snap1, twice
    f.runner.expect_ok(LVS, &with_snap);
    f.runner.expect_ok(
        &argv(&lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000_snap1"])),
        "",
    );
    f.runner.expect_ok(LVS, &without_snap);
    // delete the thin volume: no wipe
    f.runner.expect_ok(LVS, &without_snap);
    f.runner.expect_ok(
        &argv(&lvm("lvremove", &["-f", "linstor_vg/pvc-abc_00000"])),
        "",
    );

    let src = vol("pvc-abc", 0);
    let out = rt
        .block_on(f.p.create_snapshot(&src, &snap("s2")))
        .expect("snap");
    assert!(
        matches!(out, CreateOutcome::Created(ref s) if s.name == "pvc-abc_00000_s2"),
        "{out:?}"
    );
    let out = rt
        .block_on(f.p.create_snapshot(&src, &snap("snap1")))
        .expect("snap");
    assert!(matches!(out, CreateOutcome::AlreadyPresent(_)), "{out:?}");
    let out = rt
        .block_on(f.p.restore_snapshot(&src, &snap("snap1"), &vol("pvc-new", 0)))
        .expect("restore");
    assert_eq!(out.info().size, SizeKib(10240));
    assert_eq!(
        rt.block_on(f.p.delete_snapshot(&src, &snap("snap1")))
            .expect("del"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(f.p.delete_snapshot(&src, &snap("snap1")))
            .expect("del"),
        DeleteOutcome::AlreadyAbsent
    );
    assert_eq!(
        rt.block_on(f.p.delete_volume(&src)).expect("del"),
        DeleteOutcome::Deleted
    );
    insta::assert_snapshot!(f.finish());
}

/// `lvs_thin_snapshots.txt` is recorded: lvm2 2.03.16's `lvs` with LINSTOR's columns on the VG
/// that `real_lvm_thin_listing_from_restored_metadata` builds (its VG name replaced by
/// `linstor_vg`; that test checks the recording against the real output). The thin pool holds
/// LINSTOR's volumes and snapshots with `_` and digits in resource and snapshot names, a
/// snapshot whose volume is gone (`gone_00001_old`), a volume restored from a snapshot, LVs
/// that are not LINSTOR's (`scratch`, `x_00000_s1`: resource name too short) and, outside the
/// pool, thick LVs. Both listings come from one `lvs` call each.
#[test]
fn fixture_lvm_thin_list_snapshots_recorded() {
    let f = thin();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thin_snapshots.txt"))
        .expect_ok(LVS, &fixture("lvs_thin_snapshots.txt"));
    let rt = rt();
    let vols = rt.block_on(f.p.list_volumes()).expect("list");
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
                "data_2024_x1_00003",
                SizeKib(8192)
            ),
            (
                id("pvc-abc", LayerSuffix::DrbdMeta, 0),
                "pvc-abc.meta_00000",
                SizeKib(4096)
            ),
            (id("pvc-abc", data, 0), "pvc-abc_00000", SizeKib(12288)),
            (id("pvc-new", data, 0), "pvc-new_00000", SizeKib(12288)),
            (id("r_00001_x", data, 0), "r_00001_x_00000", SizeKib(4096)),
        ]
    );
    let snaps = rt.block_on(f.p.list_snapshots()).expect("list");
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
                "data_2024_x1_00003_snap_2",
                SizeKib(8192),
                false
            ),
            (
                id("gone", data, 1),
                "old",
                "gone_00001_old",
                SizeKib(8192),
                false
            ),
            (
                id("pvc-abc", data, 0),
                "snap1",
                "pvc-abc_00000_snap1",
                SizeKib(12288),
                false
            ),
            (
                id("r_00001_x", data, 0),
                "back_17",
                "r_00001_x_00000_back_17",
                SizeKib(4096),
                false
            ),
        ]
    );
    assert_eq!(snaps[3].vol.rsc.as_str(), "r_00001_x");
    insta::assert_snapshot!(f.finish());
}

/// A thick pool has no snapshots in LINSTOR: its listing is empty and runs nothing; its volume
/// listing (recorded `lvs`, see above) holds only the LVs outside thin pools.
#[test]
fn fixture_lvm_thick_lists_no_snapshots_recorded() {
    let runner = Arc::new(ScriptedRunner::new());
    let p = LvmProvider::thick(runner.clone(), "linstor_vg", LvmConfig::default()).expect("valid");
    let rt = rt();
    assert_eq!(rt.block_on(p.list_snapshots()).expect("list"), []);
    runner.finish();
    assert_eq!(runner.transcript(), "", "no command");
    runner.expect_ok(PVDISPLAY, &fixture("pvdisplay.txt"));
    runner.expect_ok(LVS, &fixture("lvs_thin_snapshots.txt"));
    let ids: Vec<VolumeId> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, [vol("thick", 0)]);
    runner.finish();
}

#[test]
fn fixture_lvm_lv_with_two_segments_is_listed_once() {
    let f = thick();
    f.runner.expect_ok(LVS, &fixture("lvs_thick_segments.txt"));
    let vols = rt().block_on(f.p.list_volumes()).expect("list");
    let names: Vec<&str> = vols.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["other_00003", "real_00000"]);
    assert_eq!(vols[1].size, SizeKib(16384));
    f.runner.finish();
}

#[test]
fn fake_lvm_thin_pool_check_turns_zeroing_on() {
    let f = thin();
    let rt = rt();
    // Zeroing already on: nothing to do.
    f.runner.expect_ok(LVS, &fixture("lvs_thin.txt"));
    assert!(!rt.block_on(f.p.check_thin_pool()).expect("ok"));
    // Zeroing off (`twi-aot---`): lvchange --zero y.
    f.runner.expect_ok(
        LVS,
        &fixture("lvs_thin.txt").replace("twi-aotz--", "twi-aot---"),
    );
    f.runner.expect_ok(
        &argv(&lvm("lvchange", &["--zero", "y", "linstor_vg/thinpool"])),
        "",
    );
    assert!(rt.block_on(f.p.check_thin_pool()).expect("ok"));
    // Missing pool, and an LV that is not a thin pool.
    f.runner.expect_ok(LVS, &fixture("lvs_thick.txt"));
    let err = rt.block_on(f.p.check_thin_pool()).expect_err("missing");
    assert!(
        matches!(
            err,
            BackendError::NotFound {
                what: "thin pool",
                ..
            }
        ),
        "{err:?}"
    );
    f.runner.expect_ok(
        LVS,
        &fixture("lvs_thin.txt").replace("twi-aotz--", "-wi-a-----"),
    );
    let err = rt.block_on(f.p.check_thin_pool()).expect_err("not thin");
    assert!(matches!(err, BackendError::InvalidInput { .. }), "{err:?}");
    insta::assert_snapshot!(f.finish());
}

#[test]
fn fake_lvm_thin_resize() {
    let f = thin();
    f.runner
        .expect_ok(LVS, &fixture("lvs_thin.txt"))
        .expect_ok(VGS_THIN, &fixture("vgs_lvs_thin.txt"));
    f.runner.expect_ok(
        &argv(&lvm(
            "lvresize",
            &["--size", "20480k", "linstor_vg/pvc-abc_00000", "-f"],
        )),
        "",
    );
    f.runner.expect_ok(
        LVS,
        &fixture("lvs_thin.txt").replacen(";10240.00;", ";20480.00;", 1),
    );
    let out = rt()
        .block_on(f.p.resize_volume(&vol("pvc-abc", 0), SizeKib(20480)))
        .expect("grow");
    assert_eq!(
        out,
        ResizeOutcome::Resized {
            from: SizeKib(10240),
            to: SizeKib(20480)
        }
    );
    insta::assert_snapshot!(f.finish());
}
