//! Command sequences through the scripted runner: every argv is pinned, in order.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use linstor_backends::{CmdOutput, ScriptedRunner};
use linstor_drbd::DrbdError;
use linstor_drbd::commands::{
    AdjustOpts, Drbd, Gi, InitialGi, MetaDev, MetadataAction, VolumeInit,
};
use linstor_drbd::files::ConfigChecker;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn setup() -> (Arc<ScriptedRunner>, Drbd) {
    let runner = Arc::new(ScriptedRunner::new());
    let drbd = Drbd::new(runner.clone());
    (runner, drbd)
}

fn meta() -> MetaDev {
    MetaDev {
        minor: 1000,
        device: "/dev/vg0/pvc-1_00000".into(),
        internal: true,
    }
}

/// The (node id, GI string) pairs a rule writes, in order: every other slot with the current
/// GI left at "just created" (unless `fresh` leaves out the ones create-md already wrote), the
/// own slot last with the rule's current GI and the flags.
fn expected_gis(own: u8, current: &str, bitmap: &str, fresh: bool) -> Vec<(String, String)> {
    let zero = "0000000000000000";
    let mut v: Vec<(String, String)> = (0..32u8)
        .filter(|id| *id != own && !(fresh && bitmap == zero))
        .map(|id| {
            (
                id.to_string(),
                format!("0000000000000004:{bitmap}:{zero}:{zero}"),
            )
        })
        .collect();
    v.push((
        own.to_string(),
        format!("{current}:{bitmap}:{zero}:{zero}:1:1"),
    ));
    v
}

fn expect_set_gis(runner: &ScriptedRunner, gis: &[(String, String)]) {
    for (id, gi) in gis {
        runner.expect_ok(
            &[
                "drbdmeta",
                "--force",
                "--node-id",
                id,
                "1000",
                "v09",
                "/dev/vg0/pvc-1_00000",
                "internal",
                "set-gi",
                gi,
            ],
            "",
        );
    }
}

#[test]
fn new_resource_on_the_winner() {
    let (runner, drbd) = setup();
    runner.expect_ok(
        &[
            "drbdadm",
            "-vvv",
            "--max-peers",
            "7",
            "--",
            "--force",
            "create-md",
            "pvc-1/0",
        ],
        "",
    );
    let day0 = Gi(0x1111_2222_3333_4444);
    let new = Gi(0xAAAA_BBBB_CCCC_DDDD);
    expect_set_gis(
        &runner,
        &expected_gis(1, "AAAABBBBCCCCDDDD", "1111222233334444", true),
    );
    runner.expect_ok(&["drbdadm", "-vvv", "adjust", "pvc-1"], "");
    runner.expect_ok(&["drbdadm", "-vvv", "primary", "--force", "pvc-1"], "");
    runner.expect_ok(&["mkfs.ext4", "-q", "/dev/drbd1000"], "");
    runner.expect_ok(&["drbdadm", "secondary", "pvc-1"], "");
    rt().block_on(async {
        drbd.create_md("pvc-1", 0, 7, None)
            .await
            .expect("create-md");
        let rule = InitialGi::choose(true, false, false, false, new);
        drbd.set_initial_gi(&meta(), rule, 1, day0, true)
            .await
            .expect("set-gi");
        drbd.adjust("pvc-1", AdjustOpts::default())
            .await
            .expect("adjust");
        let mkfs = linstor_backends::Cmd::new("mkfs.ext4").args(["-q", "/dev/drbd1000"]);
        drbd.mkfs_as_primary("pvc-1", &mkfs).await.expect("mkfs");
    });
    runner.finish();
    insta::assert_snapshot!(runner.transcript());
}

#[test]
fn thick_loser_writes_no_gi_and_thin_loser_writes_day0() {
    let (runner, drbd) = setup();
    let day0 = Gi(0x1111_2222_3333_4444);
    for fresh in [true, false] {
        assert!(
            drbd.set_gi_cmds(&meta(), InitialGi::ThickLoser, 0, day0, fresh)
                .is_empty()
        );
    }
    // On metadata create-md has just written, only the own slot differs.
    let thin = drbd.set_gi_cmds(&meta(), InitialGi::ThinLoser, 5, day0, true);
    assert_eq!(thin.len(), 1);
    assert_eq!(
        thin[0].argv(),
        [
            "drbdmeta",
            "--force",
            "--node-id",
            "5",
            "1000",
            "v09",
            "/dev/vg0/pvc-1_00000",
            "internal",
            "set-gi",
            "1111222233334444:0000000000000000:0000000000000000:0000000000000000:1:1"
        ]
    );
    // Resuming, every slot is written, the own slot last.
    let all = drbd.set_gi_cmds(&meta(), InitialGi::ThinLoser, 5, day0, false);
    assert_eq!(all.len(), 32);
    assert_eq!(all[0].argv()[3], "0");
    assert_eq!(
        all[0].argv()[9],
        "0000000000000004:0000000000000000:0000000000000000:0000000000000000"
    );
    assert_eq!(all[31].argv(), thin[0].argv());
    // The winner writes its bitmap UUID into every slot, fresh or not.
    let winner = InitialGi::Winner {
        new_current: Gi(0xAAAA),
    };
    assert_eq!(drbd.set_gi_cmds(&meta(), winner, 5, day0, true).len(), 32);
    runner.finish();
}

#[test]
fn without_a_kernel_drbdmeta_gets_no_minor_and_creates_the_metadata_itself() {
    let runner = Arc::new(ScriptedRunner::new());
    let drbd = Drbd::new(runner.clone()).without_kernel();
    let dev = "/dev/vg0/pvc-1_00000";
    runner.expect(
        &[
            "drbdmeta",
            "-",
            "v09",
            dev,
            "internal",
            "get-gi",
            "--node-id",
            "2",
            "--force",
        ],
        CmdOutput::exit(255, "", "No valid meta data found"),
    );
    runner.expect_ok(
        &[
            "drbdmeta",
            "--force",
            "-",
            "v09",
            dev,
            "internal",
            "create-md",
            "7",
        ],
        "",
    );
    runner.expect_ok(
        &[
            "drbdmeta",
            "-",
            "v09",
            dev,
            "internal",
            "write-dev-uuid",
            "000000000000D1CE",
        ],
        "",
    );
    runner.expect_ok(
        &[
            "drbdmeta",
            "--force",
            "--node-id",
            "2",
            "-",
            "v09",
            dev,
            "internal",
            "set-gi",
            "1111222233334444:0000000000000000:0000000000000000:0000000000000000:1:1",
        ],
        "",
    );
    let v = VolumeInit {
        vol: 0,
        meta: meta(),
        max_peers: 7,
        rule: InitialGi::ThinLoser,
        own_node_id: 2,
        day0: Gi(0x1111_2222_3333_4444),
        device_uuid: Gi(0xD1CE),
    };
    let did = rt()
        .block_on(drbd.ensure_metadata("pvc-1", &v))
        .expect("ensure");
    assert_eq!(did, MetadataAction::Created);
    runner.finish();
}

#[test]
fn everyday_operations() {
    let (runner, drbd) = setup();
    let calls: &[&[&str]] = &[
        &["drbdadm", "-vvv", "adjust", "--skip-disk", "pvc-1"],
        &[
            "drbdadm",
            "-vvv",
            "adjust",
            "--discard-my-data",
            "--skip-net",
            "pvc-1",
        ],
        &[
            "drbdsetup",
            "wait-connect-resource",
            "--wait-after-sb=yes",
            "--wfc-timeout=30",
            "pvc-1",
        ],
        &[
            "drbdadm",
            "-vvv",
            "--",
            "--assume-clean",
            "resize",
            "pvc-1/0",
        ],
        &[
            "drbdsetup",
            "wait-connect-resource",
            "--wait-after-sb=yes",
            "--wfc-timeout=30",
            "pvc-1",
        ],
        &["drbdadm", "-vvv", "resize", "pvc-1/1"],
        &["drbdsetup", "del-peer", "pvc-1", "2"],
        &["drbdsetup", "forget-peer", "pvc-1", "2"],
        &["drbdadm", "suspend-io", "pvc-1"],
        &["drbdadm", "resume-io", "pvc-1"],
        &["drbdsetup", "down", "pvc-1"],
        &["drbdsetup", "detach", "1000", "--diskless"],
        &["drbdsetup", "detach", "1001"],
        &["drbdadm", "-vvv", "disconnect", "pvc-1"],
    ];
    for argv in calls {
        runner.expect_ok(argv, "");
    }
    rt().block_on(async {
        drbd.adjust(
            "pvc-1",
            AdjustOpts {
                skip_disk: true,
                ..AdjustOpts::default()
            },
        )
        .await
        .expect("adjust");
        drbd.adjust(
            "pvc-1",
            AdjustOpts {
                skip_net: true,
                discard_my_data: true,
                ..AdjustOpts::default()
            },
        )
        .await
        .expect("adjust");
        drbd.resize("pvc-1", 0, true, Duration::from_secs(30))
            .await
            .expect("resize thin");
        drbd.resize("pvc-1", 1, false, Duration::from_secs(30))
            .await
            .expect("resize thick");
        drbd.remove_peer("pvc-1", 2).await.expect("remove peer");
        drbd.suspend_io("pvc-1").await.expect("suspend");
        drbd.resume_io("pvc-1").await.expect("resume");
        drbd.down("pvc-1").await.expect("down");
        drbd.detach(1000, true).await.expect("detach diskless");
        drbd.detach(1001, false).await.expect("detach");
        drbd.disconnect("pvc-1").await.expect("disconnect");
    });
    runner.finish();
}

#[test]
fn config_and_dry_run_flags_come_first() {
    let runner = Arc::new(ScriptedRunner::new());
    let drbd = Drbd::new(runner.clone())
        .with_config("/tmp/x/drbd.conf")
        .dry_run(true);
    runner.expect_ok(
        &[
            "drbdadm",
            "-c",
            "/tmp/x/drbd.conf",
            "-d",
            "-vvv",
            "adjust",
            "pvc-1",
        ],
        "",
    );
    rt().block_on(drbd.adjust("pvc-1", AdjustOpts::default()))
        .expect("adjust");
    runner.finish();
}

#[test]
fn failures_are_reported_with_what_failed() {
    let (runner, drbd) = setup();
    // drbdadm refuses a candidate file: ConfigRejected with its stderr.
    runner.expect(
        &[
            "drbdadm", "--config-to-test", "/var/lib/linstor.d/pvc-1.res_tmp", "--config-to-exclude",
            "/var/lib/linstor.d/pvc-1.res", "sh-nop",
        ],
        CmdOutput::exit(10, "", "pvc-1.res_tmp:6: Parse error: while parsing value ('bogus')\nfor quorum. Value is not valid.\n"),
    );
    // A failing adjust: the backends' error with argv and stderr.
    runner.expect(
        &["drbdadm", "-vvv", "adjust", "pvc-1"],
        CmdOutput::exit(1, "", "Device minor not allocated"),
    );
    // Metadata missing: get-gi exits 255 → None.
    runner.expect(
        &[
            "drbdmeta",
            "1000",
            "v09",
            "/dev/vg0/pvc-1_00000",
            "internal",
            "get-gi",
            "--node-id",
            "0",
            "--force",
        ],
        CmdOutput::exit(255, "", "No valid meta data found"),
    );
    // mkfs fails: secondary still runs, mkfs's error is returned.
    runner.expect_ok(&["drbdadm", "-vvv", "primary", "--force", "pvc-1"], "");
    runner.expect(
        &["mkfs.xfs", "/dev/drbd1000"],
        CmdOutput::exit(1, "", "mkfs failed"),
    );
    runner.expect_ok(&["drbdadm", "secondary", "pvc-1"], "");
    rt().block_on(async {
        let err = drbd
            .check(
                "pvc-1",
                Path::new("/var/lib/linstor.d/pvc-1.res_tmp"),
                Path::new("/var/lib/linstor.d/pvc-1.res"),
            )
            .await
            .expect_err("rejected");
        match err {
            DrbdError::ConfigRejected { stderr, .. } => {
                assert!(stderr.contains("quorum"), "{stderr}")
            }
            other => panic!("expected ConfigRejected, got {other}"),
        }
        let err = drbd
            .adjust("pvc-1", AdjustOpts::default())
            .await
            .expect_err("fails");
        assert!(matches!(err, DrbdError::Command(_)), "{err}");
        assert!(
            err.to_string().contains("Device minor not allocated"),
            "{err}"
        );
        assert_eq!(
            drbd.get_gi(&meta(), 0)
                .await
                .expect("no metadata is not an error"),
            None
        );
        let err = drbd
            .mkfs_as_primary(
                "pvc-1",
                &linstor_backends::Cmd::new("mkfs.xfs").arg("/dev/drbd1000"),
            )
            .await
            .expect_err("mkfs fails");
        assert!(err.to_string().contains("mkfs failed"), "{err}");
    });
    runner.finish();
}

#[test]
fn secondary_is_retried_while_the_device_is_busy() {
    let runner = Arc::new(ScriptedRunner::new());
    let drbd = Drbd::new(runner.clone()).with_retry_delay(Duration::from_millis(1));
    let busy = || {
        CmdOutput::exit(
            11,
            "",
            "pvc-1: State change failed: (-12) Device is held open by someone",
        )
    };
    runner.expect(&["drbdadm", "secondary", "pvc-1"], busy());
    runner.expect(&["drbdadm", "secondary", "pvc-1"], busy());
    runner.expect_ok(&["drbdadm", "secondary", "pvc-1"], "");
    rt().block_on(drbd.secondary("pvc-1"))
        .expect("third attempt works");
    for _ in 0..linstor_drbd::commands::SECONDARY_ATTEMPTS {
        runner.expect(&["drbdadm", "secondary", "pvc-1"], busy());
    }
    let err = rt()
        .block_on(drbd.secondary("pvc-1"))
        .expect_err("gives up");
    assert!(err.to_string().contains("held open"), "{err}");
    runner.finish();
}

#[test]
fn ensure_metadata_never_recreates_existing_metadata() {
    let (runner, drbd) = setup();
    let get_gi = [
        "drbdmeta",
        "1000",
        "v09",
        "/dev/vg0/pvc-1_00000",
        "internal",
        "get-gi",
        "--node-id",
        "3",
        "--force",
    ];
    let live = "1111222233334444:0000000000000000:0000000000000000:0000000000000000:1:1:0:0:1:0:0:0:0:0:0:0\n";
    let fresh = "0000000000000004:0000000000000000:0000000000000000:0000000000000000:0:0:0:0:1:0:0:0:0:0:0:0\n";
    // 1. live metadata: nothing else runs.
    runner.expect_ok(&get_gi, live);
    // 2. no metadata: create-md, then the one set-gi call that differs from fresh metadata.
    runner.expect(
        &get_gi,
        CmdOutput::exit(255, "", "No valid meta data found"),
    );
    runner.expect_ok(
        &[
            "drbdadm",
            "-vvv",
            "--max-peers",
            "7",
            "--",
            "--force",
            "create-md",
            "pvc-1/0",
        ],
        "",
    );
    expect_set_gis(
        &runner,
        &expected_gis(3, "1111222233334444", "0000000000000000", true),
    );
    // 3. metadata left "just created" by an interrupted attempt: every slot's set-gi.
    runner.expect_ok(&get_gi, fresh);
    expect_set_gis(
        &runner,
        &expected_gis(3, "1111222233334444", "0000000000000000", false),
    );
    // 4. a thick loser with fresh metadata: nothing to do.
    runner.expect_ok(&get_gi, fresh);
    let v = |rule| VolumeInit {
        vol: 0,
        meta: meta(),
        max_peers: 7,
        rule,
        own_node_id: 3,
        day0: Gi(0x1111_2222_3333_4444),
        device_uuid: Gi(0xD1CE),
    };
    rt().block_on(async {
        let did = drbd
            .ensure_metadata("pvc-1", &v(InitialGi::ThinLoser))
            .await
            .expect("ensure");
        assert_eq!(did, MetadataAction::AlreadyPresent);
        let did = drbd
            .ensure_metadata("pvc-1", &v(InitialGi::ThinLoser))
            .await
            .expect("ensure");
        assert_eq!(did, MetadataAction::Created);
        let did = drbd
            .ensure_metadata("pvc-1", &v(InitialGi::ThinLoser))
            .await
            .expect("ensure");
        assert_eq!(did, MetadataAction::Resumed);
        let did = drbd
            .ensure_metadata("pvc-1", &v(InitialGi::ThickLoser))
            .await
            .expect("ensure");
        assert_eq!(did, MetadataAction::AlreadyPresent);
    });
    runner.finish();
}

/// A new volume on the winner: the day-0 GIs of all 32 slots in one `dump-md` + `restore-md`.
#[test]
fn ensure_metadata_on_the_winner_restores_one_rewritten_dump() {
    let (runner, drbd) = setup();
    let scratch = tempfile::tempdir().expect("temp dir");
    let drbd = drbd.with_scratch_dir(scratch.path());
    let file = drbd.restore_md_file(&meta());
    assert_eq!(
        file,
        scratch.path().join("restore-md_dev_vg0_pvc-1_00000.txt")
    );
    let fed = Arc::new(std::sync::Mutex::new(String::new()));
    let dev = "/dev/vg0/pvc-1_00000";
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/drbdmeta/dump-md-fresh-7-peers.txt");
    runner.expect(
        &[
            "drbdmeta",
            "1000",
            "v09",
            dev,
            "internal",
            "get-gi",
            "--node-id",
            "0",
            "--force",
        ],
        CmdOutput::exit(1, "", "No valid meta data found"),
    );
    runner.expect_ok(
        &[
            "drbdadm",
            "-vvv",
            "--max-peers",
            "7",
            "--",
            "--force",
            "create-md",
            "pvc-1/0",
        ],
        "",
    );
    runner.expect_fixture(
        &[
            "drbdmeta", "--force", "1000", "v09", dev, "internal", "dump-md",
        ],
        &fixture,
    );
    let (seen, path) = (fed.clone(), file.clone());
    runner.expect_ok_after(
        &[
            "drbdmeta",
            "--force",
            "1000",
            "v09",
            dev,
            "internal",
            "restore-md",
            file.to_str().expect("utf-8"),
        ],
        "",
        move || *seen.lock().expect("lock") = std::fs::read_to_string(&path).expect("dump file"),
    );
    let rule = InitialGi::Winner {
        new_current: Gi(0xAAAA_BBBB_CCCC_DDDD),
    };
    let day0 = Gi(0x1111_2222_3333_4444);
    let v = VolumeInit {
        vol: 0,
        meta: meta(),
        max_peers: 7,
        rule,
        own_node_id: 0,
        day0,
        device_uuid: Gi(0xD1CE),
    };
    let did = rt()
        .block_on(drbd.ensure_metadata("pvc-1", &v))
        .expect("ensure");
    assert_eq!(did, MetadataAction::Created);
    runner.finish();
    // What restore-md read: the recorded dump, rewritten; the file is gone afterwards.
    let dump = std::fs::read_to_string(&fixture).expect("fixture");
    let text = rule
        .rewrite_fresh_dump(day0, &dump)
        .expect("parses")
        .expect("a winner writes");
    assert_eq!(*fed.lock().expect("lock"), text);
    assert_eq!(text.matches("bitmap-uuid 0x1111222233334444;").count(), 32);
    assert!(!file.exists());
}

#[test]
fn create_md_refuses_impossible_peer_counts() {
    let (runner, drbd) = setup();
    let err = rt()
        .block_on(drbd.create_md("pvc-1", 0, 0, None))
        .expect_err("0 peers");
    assert!(matches!(err, DrbdError::InvalidConfig { .. }));
    runner.finish();
}

/// The whole per-resource flow through the scripted runner and a real temp directory.
#[test]
fn apply_resource_installs_sets_up_metadata_adjusts_and_keeps_a_backup() {
    let (runner, drbd) = setup();
    let dir = tempfile::tempdir().expect("temp dir");
    let store = linstor_drbd::files::ResFileStore::new(dir.path());
    let tmp = store.tmp_path("pvc-1").display().to_string();
    let res = store.res_path("pvc-1").display().to_string();
    let check = [
        "drbdadm",
        "--config-to-test",
        &tmp,
        "--config-to-exclude",
        &res,
        "sh-nop",
    ];
    let get_gi = [
        "drbdmeta",
        "1000",
        "v09",
        "/dev/vg0/pvc-1_00000",
        "internal",
        "get-gi",
        "--node-id",
        "0",
        "--force",
    ];
    let live = "1111222233334444:0000000000000000:0000000000000000:0000000000000000:1:1:0:0:1:0:0:0:0:0:0:0\n";
    // First version: installs, metadata already live, adjust works.
    runner.expect_ok(&check, "");
    runner.expect_ok(&get_gi, live);
    runner.expect_ok(&["drbdadm", "-vvv", "adjust", "pvc-1"], "");
    // Second version: installs, adjust fails: the first version comes back.
    runner.expect_ok(&check, "");
    runner.expect_ok(&get_gi, live);
    runner.expect(
        &["drbdadm", "-vvv", "adjust", "pvc-1"],
        CmdOutput::exit(10, "", "adjust failed"),
    );
    let v1 = "# v1\nresource \"pvc-1\"\n{\n    one\n}\n";
    let v2 = "# v2\nresource \"pvc-1\"\n{\n    two\n}\n";
    let init = VolumeInit {
        vol: 0,
        meta: meta(),
        max_peers: 7,
        rule: InitialGi::ThickLoser,
        own_node_id: 0,
        day0: Gi(1),
        device_uuid: Gi(0xD1CE),
    };
    rt().block_on(async {
        let applied = drbd
            .apply_resource(
                &store,
                "pvc-1",
                v1,
                std::slice::from_ref(&init),
                AdjustOpts::default(),
            )
            .await
            .expect("applies");
        assert_eq!(applied.file, linstor_drbd::files::Installed::Written);
        assert_eq!(applied.metadata, [(0, MetadataAction::AlreadyPresent)]);
        assert_eq!(
            std::fs::read_to_string(store.backup_path("pvc-1"))
                .ok()
                .as_deref(),
            Some(v1)
        );
        let err = drbd
            .apply_resource(
                &store,
                "pvc-1",
                v2,
                std::slice::from_ref(&init),
                AdjustOpts::default(),
            )
            .await
            .expect_err("adjust fails");
        assert!(err.to_string().contains("adjust failed"), "{err}");
        assert_eq!(
            store.read("pvc-1").ok().flatten().as_deref(),
            Some(v1),
            "last good copy restored"
        );
    });
    runner.finish();
}
