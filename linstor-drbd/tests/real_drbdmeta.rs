//! Real drbd-utils on a real loop device, through our code: the `.res` is installed with the
//! drbdadm check, `create-md` runs through drbdadm, day-0 generation ids through drbdmeta, and
//! both our `get-gi` parsing and an independent `drbdmeta dump-md` read back exactly what we set.
//! Also: drbdadm dry runs (`-d`) of our command sequences show the drbdsetup calls we expect.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{LoopDev, scenarios};
use linstor_backends::RealRunner;
use linstor_core::SizeKib;
use linstor_drbd::commands::{
    AdjustOpts, Drbd, Gi, InitialGi, MetaDev, MetadataAction, NODE_ID_SLOTS, VolumeInit,
};
use linstor_drbd::files::{Installed, ResFileStore};
use linstor_drbd::{DrbdError, NodeRole, OptionWhitelist};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A config dir with `drbd.conf` including every `.res` in it, a store over it, and tools that
/// read that config and pretend to be `alpha`.
struct Setup {
    dir: tempfile::TempDir,
    store: ResFileStore,
    drbd: Drbd,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let conf = dir.path().join("drbd.conf");
    std::fs::write(
        &conf,
        format!("include \"{}/*.res\";\n", dir.path().display()),
    )
    .expect("write drbd.conf");
    let store = ResFileStore::new(dir.path());
    let drbd = Drbd::new(Arc::new(RealRunner::new()))
        .with_config(&conf)
        .with_env("__DRBD_NODE__", "alpha");
    Setup { dir, store, drbd }
}

fn have_tools(test: &str) -> bool {
    ["drbdadm", "drbdmeta", "losetup"]
        .iter()
        .all(|t| common::tool(t, test).is_some())
}

/// Parses `drbdmeta … dump-md`: the current UUID and each peer slot's bitmap UUID.
fn dump_md(dev: &str) -> (u64, BTreeMap<u8, u64>, String) {
    let drbdmeta = common::tool("drbdmeta", "dump_md").expect("drbdmeta");
    let out = common::run(
        &drbdmeta,
        &["--force", "1000", "v09", dev, "internal", "dump-md"],
        &[],
    );
    assert!(out.status.success(), "{}", common::text(&out));
    let text = common::stdout(&out);
    let hex = |s: &str| {
        u64::from_str_radix(s.trim().trim_end_matches(';').trim_start_matches("0x"), 16)
            .expect("hex")
    };
    let mut current = None;
    let mut peers = BTreeMap::new();
    let mut slot: Option<u8> = None;
    for line in text.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("current-uuid ") {
            current = Some(hex(v));
        } else if let Some(rest) = line.strip_prefix("peer[") {
            slot = rest.split(']').next().and_then(|n| n.parse().ok());
        } else if let (Some(v), Some(s)) = (line.strip_prefix("bitmap-uuid "), slot) {
            peers.insert(s, hex(v));
        }
    }
    (current.expect("current-uuid in dump-md"), peers, text)
}

fn render_for(dev: &str, rsc: &str) -> String {
    let mut c = scenarios::base(
        rsc,
        "alpha",
        vec![
            scenarios::node(rsc, "alpha", 0, NodeRole::Diskful, "10.0.0.1", 1),
            scenarios::node(rsc, "beta", 1, NodeRole::Diskful, "10.0.0.2", 1),
            scenarios::node(rsc, "gamma", 2, NodeRole::TieBreaker, "10.0.0.3", 1),
        ],
    );
    c.nodes[0].volumes[0].disk = Some(dev.into());
    c.render(OptionWhitelist::builtin()).expect("renders")
}

#[test]
fn real_create_md_and_day0_gi_read_back_exactly() {
    let test = "real_create_md_and_day0_gi_read_back_exactly";
    if !have_tools(test) {
        return;
    }
    let Some(lo) = LoopDev::new(64, test) else {
        return;
    };
    let s = setup();
    let rsc = "pvc-real";
    let meta = MetaDev {
        minor: 1000,
        device: lo.dev.clone().into(),
        internal: true,
    };
    let day0 = Gi(0x1D2C_3B4A_5968_7F80);
    let new = Gi(0x0123_4567_89AB_CDEF);
    rt().block_on(async {
        // Install through the real drbdadm check, then create-md through drbdadm.
        let text = render_for(&lo.dev, rsc);
        assert_eq!(
            s.store.install(rsc, &text, &s.drbd).await.expect("install"),
            Installed::Written
        );
        s.drbd.create_md(rsc, 0, 7, None).await.expect("create-md");

        // Fresh metadata: "just created" current UUID (4), no bitmap UUIDs.
        let fresh = s
            .drbd
            .get_gi(&meta, 0)
            .await
            .expect("get-gi")
            .expect("metadata exists");
        assert_eq!(fresh.current, Gi(4));

        // Winner rule, own node id 0.
        let rule = InitialGi::choose(true, false, false, false, new);
        s.drbd
            .set_initial_gi(&meta, rule, 0, day0, false)
            .await
            .expect("set-gi");
        for id in 0..NODE_ID_SLOTS {
            let r = s
                .drbd
                .get_gi(&meta, id)
                .await
                .expect("get-gi")
                .expect("metadata");
            assert_eq!((r.current, r.bitmap), (new, day0), "slot {id}");
            assert_eq!(r.history, [Gi(0), Gi(0)], "slot {id}");
            assert!(r.consistent() && r.up_to_date(), "slot {id}: {r:?}");
        }
        let (current, peers, text) = dump_md(&lo.dev);
        assert_eq!(current, new.0, "{text}");
        assert_eq!(peers.len(), usize::from(NODE_ID_SLOTS), "{text}");
        assert!(peers.values().all(|b| *b == day0.0), "{text}");
        assert!(
            !text.contains("unclean"),
            "the activity log must stay clean: {text}"
        );

        // Thin loser (own node id 1) on fresh metadata: current = day-0, no bitmap UUIDs.
        s.drbd
            .drbdmeta_create_md(&meta, 7)
            .await
            .expect("drbdmeta create-md");
        s.drbd
            .set_initial_gi(&meta, InitialGi::ThinLoser, 1, day0, false)
            .await
            .expect("set-gi");
        let own = s
            .drbd
            .get_gi(&meta, 1)
            .await
            .expect("get-gi")
            .expect("metadata");
        assert_eq!((own.current, own.bitmap), (day0, Gi(0)));
        assert!(own.consistent() && own.up_to_date());
        let (current, peers, text) = dump_md(&lo.dev);
        assert_eq!(current, day0.0, "{text}");
        assert!(peers.values().all(|b| *b == 0), "{text}");

        // ensure_metadata on a volume that has metadata changes nothing.
        let again = s
            .drbd
            .ensure_metadata(
                rsc,
                &VolumeInit {
                    vol: 0,
                    meta: meta.clone(),
                    max_peers: 7,
                    rule: InitialGi::Winner {
                        new_current: Gi(0xBAD),
                    },
                    own_node_id: 1,
                    day0: Gi(0xBAD),
                    device_uuid: Gi(0xD1CE),
                },
            )
            .await
            .expect("ensure");
        assert_eq!(again, MetadataAction::AlreadyPresent);
        assert_eq!(
            dump_md(&lo.dev).0,
            day0.0,
            "existing metadata must not be touched"
        );

        // Thick loser: nothing written, the metadata stays "just created".
        s.drbd
            .drbdmeta_create_md(&meta, 7)
            .await
            .expect("drbdmeta create-md");
        s.drbd
            .set_initial_gi(&meta, InitialGi::ThickLoser, 2, day0, false)
            .await
            .expect("no-op");
        let r = s
            .drbd
            .get_gi(&meta, 2)
            .await
            .expect("get-gi")
            .expect("metadata");
        assert_eq!(r.current, Gi(4));
        assert!(!r.consistent());
    });
    drop(s.dir);
}

/// `dump-md` without its comment lines (they carry the time and the command line).
fn dump_md_body(dev: &str) -> String {
    let (_, _, text) = dump_md(dev);
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The short ways write the same bytes as LINSTOR's long way, compared over the whole device
/// (metadata, activity log and bitmap areas): for a thin loser and a winner, (a) `create-md`
/// through drbdadm and `set-gi` for all 32 slots, and (b) `ensure_metadata` without a kernel
/// (`create-md` and `write-dev-uuid` by drbdmeta with no minor, then one `set-gi` for a thin
/// loser, `dump-md` + `restore-md` for a winner).
#[test]
fn real_fewer_drbdmeta_calls_write_the_same_bytes() {
    let test = "real_fewer_drbdmeta_calls_write_the_same_bytes";
    if !have_tools(test) {
        return;
    }
    let (Some(long), Some(short)) = (LoopDev::new(16, test), LoopDev::new(16, test)) else {
        return;
    };
    let s = setup();
    let rsc = "pvc-same";
    let no_kernel = s.drbd.clone().without_kernel();
    let day0 = Gi(0x0A0B_0C0D_0E0F_1011);
    let meta = |dev: &str| MetaDev {
        minor: 1000,
        device: dev.into(),
        internal: true,
    };
    let wipe = |dev: &str| {
        let dd = common::tool("dd", test).expect("dd");
        let out = common::run(
            &dd,
            &["if=/dev/zero", &format!("of={dev}"), "bs=1M", "count=16"],
            &[],
        );
        assert!(out.status.success(), "{}", common::text(&out));
    };
    let rules = [
        InitialGi::ThinLoser,
        InitialGi::Winner {
            new_current: Gi(0x7E57_0000_0000_0042),
        },
    ];
    rt().block_on(async {
        s.store
            .install(rsc, &render_for(&long.dev, rsc), &s.drbd)
            .await
            .expect("install");
        for rule in rules {
            wipe(&long.dev);
            s.drbd.create_md(rsc, 0, 7, None).await.expect("create-md");
            s.drbd
                .set_initial_gi(&meta(&long.dev), rule, 0, day0, false)
                .await
                .expect("set-gi x32");
            // drbdadm wrote a random device UUID; give both the same one.
            s.drbd
                .write_dev_uuid(&meta(&long.dev), Gi(0xD1CE))
                .await
                .expect("write-dev-uuid");
            wipe(&short.dev);
            let init = VolumeInit {
                vol: 0,
                meta: meta(&short.dev),
                max_peers: 7,
                rule,
                own_node_id: 0,
                day0,
                device_uuid: Gi(0xD1CE),
            };
            let did = no_kernel.ensure_metadata(rsc, &init).await.expect("ensure");
            assert_eq!(did, MetadataAction::Created);
            let (a, b) = (
                std::fs::read(&long.dev).expect("read"),
                std::fs::read(&short.dev).expect("read"),
            );
            let first = a.iter().zip(&b).position(|(x, y)| x != y);
            assert_eq!(
                first,
                None,
                "{rule:?}: the devices differ from byte {first:?}:\n{}\n{}",
                dump_md_body(&long.dev),
                dump_md_body(&short.dev)
            );
            assert!(!dump_md_body(&short.dev).contains("unclean"));
        }
    });
    drop(s.dir);
}

#[test]
fn real_get_gi_without_metadata_is_none_and_ensure_metadata_creates_it() {
    let test = "real_get_gi_without_metadata_is_none_and_ensure_metadata_creates_it";
    if !have_tools(test) {
        return;
    }
    let Some(lo) = LoopDev::new(16, test) else {
        return;
    };
    let s = setup();
    let meta = MetaDev {
        minor: 1000,
        device: lo.dev.clone().into(),
        internal: true,
    };
    assert_eq!(
        rt().block_on(s.drbd.get_gi(&meta, 0))
            .expect("no metadata is not an error"),
        None
    );
    // ensure_metadata creates it (through drbdadm and the installed .res) and writes the GIs.
    let rsc = "pvc-ensure";
    let day0 = Gi(0x5555_6666_7777_8888);
    let init = VolumeInit {
        vol: 0,
        meta: meta.clone(),
        max_peers: 7,
        rule: InitialGi::ThinLoser,
        own_node_id: 0,
        day0,
        device_uuid: Gi(0xD1CE),
    };
    rt().block_on(async {
        s.store
            .install(rsc, &render_for(&lo.dev, rsc), &s.drbd)
            .await
            .expect("install");
        let did = s.drbd.ensure_metadata(rsc, &init).await.expect("ensure");
        assert_eq!(did, MetadataAction::Created);
        let r = s
            .drbd
            .get_gi(&meta, 0)
            .await
            .expect("get-gi")
            .expect("metadata now");
        assert_eq!(r.current, day0);
        // An attempt that stopped after create-md is completed, not redone.
        s.drbd
            .drbdmeta_create_md(&meta, 7)
            .await
            .expect("drbdmeta create-md");
        assert_eq!(
            s.drbd.ensure_metadata(rsc, &init).await.expect("ensure"),
            MetadataAction::Resumed
        );
        assert_eq!(
            s.drbd
                .get_gi(&meta, 0)
                .await
                .expect("get-gi")
                .map(|r| r.current),
            Some(day0)
        );
        // Once initialized, it is left alone.
        assert_eq!(
            s.drbd.ensure_metadata(rsc, &init).await.expect("ensure"),
            MetadataAction::AlreadyPresent
        );
    });
}

#[test]
fn real_store_refuses_what_drbdadm_refuses_and_keeps_the_old_file() {
    let test = "real_store_refuses_what_drbdadm_refuses_and_keeps_the_old_file";
    if common::tool("drbdadm", test).is_none() {
        return;
    }
    let s = setup();
    let rsc = "pvc-store";
    let good = render_for("/dev/vg0/pvc-store_00000", rsc);
    rt().block_on(async {
        assert_eq!(
            s.store.install(rsc, &good, &s.drbd).await.expect("install"),
            Installed::Written
        );
        // A file that slipped past our validation (hand-edited): drbdadm refuses it.
        let bad = good.replace(
            "cram-hmac-alg sha1;",
            "cram-hmac-alg sha1;\n        protocol D;",
        );
        let err = s
            .store
            .install(rsc, &bad, &s.drbd)
            .await
            .expect_err("drbdadm refuses");
        match &err {
            DrbdError::ConfigRejected { stderr, .. } => {
                assert!(stderr.contains("protocol"), "{stderr}")
            }
            other => panic!("expected ConfigRejected, got {other}"),
        }
        assert_eq!(
            s.store.read(rsc).expect("read").as_deref(),
            Some(good.as_str())
        );
        assert!(!s.store.tmp_path(rsc).exists());
        // apply(): adjust (dry run, exit 0) succeeds, so the file becomes the last good copy.
        let dry = s.drbd.clone().dry_run(true);
        let changed = good.replace("minor 1000", "minor 1010");
        s.store
            .apply(rsc, &changed, &s.drbd, || async {
                dry.adjust(rsc, AdjustOpts::default()).await
            })
            .await
            .expect("apply");
        assert_eq!(
            std::fs::read_to_string(s.store.backup_path(rsc)).expect("backup"),
            changed
        );
    });
}

#[test]
fn real_drbdadm_dry_runs_of_our_sequences() {
    let test = "real_drbdadm_dry_runs_of_our_sequences";
    if common::tool("drbdadm", test).is_none() {
        return;
    }
    let s = setup();
    let rsc = "pvc-dry";
    let text = render_for("/dev/vg0/pvc-dry_00000", rsc);
    let runner = Arc::new(RealRunner::new());
    let conf = s.dir.path().join("drbd.conf");
    let dry = Drbd::new(runner)
        .with_config(&conf)
        .with_env("__DRBD_NODE__", "alpha")
        .dry_run(true);
    rt().block_on(async {
        s.store.install(rsc, &text, &s.drbd).await.expect("install");
        let run = |cmd: linstor_backends::Cmd| {
            let r = RealRunner::new();
            async move {
                use linstor_backends::CommandRunner as _;
                r.run(&cmd).await.expect("dry run").stdout
            }
        };
        let mut report = String::new();
        let base = |s: String| -> String {
            s.lines()
                .map(|l| {
                    let (prog, rest) = l.split_once(' ').unwrap_or((l, ""));
                    format!("{} {rest}\n", prog.rsplit('/').next().unwrap_or(prog))
                })
                .collect()
        };
        for (what, cmd) in [
            ("adjust", dry.adjust_cmd(rsc, AdjustOpts::default())),
            (
                "adjust --skip-disk",
                dry.adjust_cmd(
                    rsc,
                    AdjustOpts {
                        skip_disk: true,
                        ..AdjustOpts::default()
                    },
                ),
            ),
            (
                "adjust --skip-net",
                dry.adjust_cmd(
                    rsc,
                    AdjustOpts {
                        skip_net: true,
                        ..AdjustOpts::default()
                    },
                ),
            ),
            (
                "resize thin",
                dry.resize_cmds(rsc, 0, true, std::time::Duration::from_secs(5))
                    .remove(1),
            ),
            (
                "resize thick",
                dry.resize_cmds(rsc, 0, false, std::time::Duration::from_secs(5))
                    .remove(1),
            ),
            ("create-md", dry.create_md_cmd(rsc, 0, 7, None)),
            ("suspend-io", dry.suspend_io_cmd(rsc)),
            ("resume-io", dry.resume_io_cmd(rsc)),
            ("primary --force", dry.primary_force_cmd(rsc)),
            ("secondary", dry.secondary_cmd(rsc)),
            ("disconnect", dry.disconnect_cmd(rsc)),
        ] {
            report.push_str(&format!(
                "== {what}: {}\n",
                cmd.argv()
                    .join(" ")
                    .replace(&conf.display().to_string(), "<conf>")
            ));
            report.push_str(&base(run(cmd).await));
        }
        for expected in [
            "drbdsetup new-peer pvc-dry 1 --_name=beta",
            "drbdsetup attach 1000 /dev/vg0/pvc-dry_00000",
            "drbdsetup resize 1000 --assume-clean",
            "drbdmeta 1000 v09 /dev/vg0/pvc-dry_00000 internal create-md 7 --force",
            "drbdsetup suspend-io 1000",
            "drbdsetup resume-io 1000",
            "drbdsetup primary pvc-dry --force",
            "drbdsetup secondary pvc-dry",
        ] {
            assert!(report.contains(expected), "missing '{expected}':\n{report}");
        }
        insta::assert_snapshot!(report);
    });
}

/// The real flow on a host without the DRBD kernel module: the `.res` passes drbdadm, metadata is
/// created on the loop device, `adjust` fails (no module), and the previous good file is back.
#[test]
fn real_apply_resource_restores_the_last_good_file_when_adjust_fails() {
    let test = "real_apply_resource_restores_the_last_good_file_when_adjust_fails";
    if !have_tools(test) {
        return;
    }
    let Some(lo) = LoopDev::new(32, test) else {
        return;
    };
    let s = setup();
    let rsc = "pvc-apply";
    let meta = MetaDev {
        minor: 1000,
        device: lo.dev.clone().into(),
        internal: true,
    };
    let good = render_for("/dev/vg0/pvc-apply_00000", rsc);
    let new = render_for(&lo.dev, rsc);
    let init = VolumeInit {
        vol: 0,
        meta: meta.clone(),
        max_peers: 7,
        rule: InitialGi::Winner {
            new_current: Gi(0x00AB_CDEF_0123_4567),
        },
        own_node_id: 0,
        day0: Gi(0x0765_4321_0FED_CBA9),
        device_uuid: Gi(0xD1CE),
    };
    let module = std::path::Path::new("/proc/drbd").exists();
    rt().block_on(async {
        s.store.install(rsc, &good, &s.drbd).await.expect("install");
        s.store.mark_good(rsc).expect("mark good");
        let result = s
            .drbd
            .apply_resource(&s.store, rsc, &new, &[init], AdjustOpts::default())
            .await;
        if module {
            // A host with DRBD really brought it up: take it down again.
            let _ = s.drbd.down(rsc).await;
            common::skip(&format!(
                "{test}: the DRBD module is loaded, adjust may succeed here: {result:?}"
            ));
            return;
        }
        let err = result.expect_err("adjust cannot work without the kernel module");
        assert!(matches!(err, DrbdError::Command(_)), "{err}");
        assert_eq!(
            s.store.read(rsc).expect("read").as_deref(),
            Some(good.as_str()),
            "last good file restored"
        );
        let gi = s
            .drbd
            .get_gi(&meta, 0)
            .await
            .expect("get-gi")
            .expect("metadata was created");
        assert_eq!(gi.current, Gi(0x00AB_CDEF_0123_4567));
    });
}

/// The core's plan sizes backing volumes of DRBD resources gross (`drbd_gross_size`): on a
/// device of exactly that size the real `drbdmeta create-md` leaves at least the net size for
/// data, and on one 4 KiB smaller it does not (the formula is tight, not just safe).
#[test]
fn real_gross_size_fits_drbdmeta_internal_metadata_exactly() {
    let test = "real_gross_size_fits_drbdmeta_internal_metadata_exactly";
    if !have_tools(test) {
        return;
    }
    let drbdmeta = common::tool("drbdmeta", test).expect("drbdmeta");
    // (net KiB, peer slots): sizes on and around the 128 MiB bitmap steps.
    let table: &[(u64, u8)] = &[
        (102_400, 7),
        (131_072, 1),
        (131_072, 7),
        (131_068, 2),
        (1_048_576, 7),
        (262_144, 31),
        (500_000, 3),
    ];
    for &(net, peers) in table {
        let gross = linstor_core::plan::drbd_gross_size_with(SizeKib(net), peers, 1, 32).0;
        for (device, fits) in [(gross, true), (gross - 4, false)] {
            let Some(lo) = LoopDev::with_kib(device, test) else {
                return;
            };
            let peers_arg = peers.to_string();
            let args = ["--force", "1000", "v09", lo.dev.as_str(), "internal"];
            let create: Vec<&str> = args
                .iter()
                .copied()
                .chain(["create-md", &peers_arg])
                .collect();
            let out = common::run(&drbdmeta, &create, &[]);
            assert!(out.status.success(), "{net} KiB: {}", common::text(&out));
            let dump: Vec<&str> = args.iter().copied().chain(["dump-md"]).collect();
            let text = common::stdout(&common::run(&drbdmeta, &dump, &[]));
            let bm_offset: u64 = text
                .lines()
                .find_map(|l| l.strip_prefix("# bm_offset "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no bm_offset in dump-md:\n{text}"));
            let usable = bm_offset / 1024;
            assert_eq!(
                usable >= net,
                fits,
                "net {net} KiB, {peers} peers: device {device} KiB leaves {usable} KiB"
            );
        }
    }
}
