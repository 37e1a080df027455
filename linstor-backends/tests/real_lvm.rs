//! LVM on a real loop-device PV, through the provider and the pool set-up (root; needs lvm2).
//! The kernel may lack device-mapper, so LVM runs with a private `LVM_SYSTEM_DIR` whose
//! `lvm.conf` disables activation: LVs are created, listed, resized and removed in the metadata
//! only, and have no device nodes (so the provider's wipe is off).
//!
//! Snapshots need device-mapper: without it LVM creates neither thin pools, thin volumes nor
//! snapshots of any kind ("Can't create thin without using device-mapper kernel driver",
//! "Can't create snapshot without using device-mapper kernel driver"). LINSTOR takes LVM
//! snapshots only in thin pools, so [`real_lvm_thin_listing_from_restored_metadata`] writes a
//! thin pool with LINSTOR's volumes and snapshots into the VG's metadata with `vgcfgrestore`
//! and lists them through the provider from the real `lvs`; that `lvs` output, recorded, is
//! `tests/fixtures/lvs_thin_snapshots.txt` (used by `fake_lvm.rs`).

#![allow(
    clippy::print_stderr,
    reason = "tests explain why they skip and print measurements"
)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::real::{LoopDev, have_tools, sync_run};
use common::{rt, snap, vol};
use linstor_backends::lvm::{LvmConfig, LvmProvider};
use linstor_backends::naming::{LayerSuffix, VolumeId};
use linstor_backends::parse::lvm::parse_vgs;
use linstor_backends::pool::PoolSetup;
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::{BackendError, Cmd, CmdOutput, RealRunner};
use linstor_core::SizeKib;
use linstor_core::model::PoolCapacity;

const TOOLS: &[&str] = &[
    "pvcreate",
    "vgcreate",
    "vgremove",
    "pvremove",
    "pvdisplay",
    "lvcreate",
    "lvs",
    "vgs",
    "lvresize",
    "lvremove",
    "losetup",
    "truncate",
];

const LVM_CONF: &str = "\
global { use_lvmetad = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
devices { obtain_device_list_from_udev = 0 }
";

/// Removes the VG and the PV label on drop (the loop device guard runs after it).
struct VgGuard {
    vg: String,
    dev: String,
    env: Vec<(String, String)>,
}

impl Drop for VgGuard {
    fn drop(&mut self) {
        let with_env = |mut c: Cmd| {
            for (k, v) in &self.env {
                c = c.env(k, v);
            }
            c
        };
        let _ = sync_run(with_env(Cmd::new("vgremove").args(["-f", &self.vg])));
        let _ = sync_run(with_env(
            Cmd::new("pvremove").args(["-ff", "-y", &self.dev]),
        ));
    }
}

fn vgs_capacity(vg: &str, env: &[(String, String)]) -> PoolCapacity {
    let mut cmd = Cmd::new("vgs").args([
        "-o",
        "vg_name,vg_extent_size,vg_size,vg_free",
        "--separator",
        ";",
        "--units",
        "k",
        "--noheadings",
        "--nosuffix",
        vg,
    ]);
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    let out = sync_run(cmd).expect("vgs");
    let row = parse_vgs(&out.stdout)
        .expect("parses")
        .into_iter()
        .next()
        .expect("one VG");
    PoolCapacity {
        free: row.free,
        total: row.size,
    }
}

/// A private LVM configuration (activation off) and a 128 MiB loop device for a PV, under a
/// temp dir. Field order is drop order: the VG and PV label, the loop device, the directory.
struct Sandbox {
    guard: VgGuard,
    dev: LoopDev,
    env: Vec<(String, String)>,
    tmp: tempfile::TempDir,
}

impl Sandbox {
    /// The sandbox for a VG named `linstor_test_<tag>_<pid>` (not created yet).
    fn new(tag: &str) -> Sandbox {
        let tmp = tempfile::Builder::new()
            .prefix("linstor-real-lvm-")
            .tempdir()
            .expect("tempdir");
        let etc = tmp.path().join("etc");
        std::fs::create_dir(&etc).expect("mkdir");
        std::fs::write(etc.join("lvm.conf"), LVM_CONF).expect("lvm.conf");
        let env = vec![
            ("LVM_SYSTEM_DIR".to_owned(), etc.display().to_string()),
            ("LVM_SUPPRESS_FD_WARNINGS".to_owned(), "1".to_owned()),
        ];
        let dev = LoopDev::new(&tmp.path().join("pv.img"), 128);
        let guard = VgGuard {
            vg: format!("linstor_test_{tag}_{}", std::process::id()),
            dev: dev.path(),
            env: env.clone(),
        };
        Sandbox {
            guard,
            dev,
            env,
            tmp,
        }
    }

    fn vg(&self) -> String {
        self.guard.vg.clone()
    }

    /// Runs an LVM tool with the sandbox's environment.
    fn run(&self, tool: &str, args: &[&str]) -> Result<CmdOutput, BackendError> {
        let mut cmd = Cmd::new(tool).args(args);
        for (k, v) in &self.env {
            cmd = cmd.env(k, v);
        }
        sync_run(cmd)
    }
}

#[test]
fn real_lvm_thick_on_loop_pv() {
    if !have_tools("real_lvm_thick_on_loop_pv", TOOLS) {
        return;
    }
    let sandbox = Sandbox::new("thick");
    let (vg, env, dev) = (sandbox.vg(), sandbox.env.clone(), &sandbox.dev);
    let runner = Arc::new(RealRunner::new());
    let rt = rt();

    // Pool set-up through the physical-storage code path, twice.
    let setup = PoolSetup::new(runner.clone()).with_env(env.clone());
    let devs = [PathBuf::from(dev.path())];
    assert!(
        rt.block_on(setup.create_lvm_pool(&vg, &devs))
            .expect("vgcreate")
            .is_changed()
    );
    assert!(
        !rt.block_on(setup.create_lvm_pool(&vg, &devs))
            .expect("again")
            .is_changed()
    );

    let cfg = LvmConfig {
        env: env.clone(),
        wipe: false,
        ..LvmConfig::default()
    };
    let p = LvmProvider::thick(runner.clone(), &vg, cfg).expect("valid");

    // Capacity matches vgs.
    let cap = rt.block_on(p.capacity()).expect("capacity");
    assert_eq!(cap, vgs_capacity(&vg, &env));
    eprintln!(
        "real_lvm: 128 MiB loop PV -> VG total {} KiB, free {} KiB",
        cap.total.kib(),
        cap.free.kib()
    );

    // Create (5000 KiB rounds up to two 4 MiB extents), create again, list.
    let a = vol("real", 0);
    let c = rt
        .block_on(p.create_volume(&a, SizeKib(5000)))
        .expect("create");
    let CreateOutcome::Created(info) = &c else {
        panic!("{c:?}")
    };
    assert_eq!(info.size, SizeKib(8192));
    assert_eq!(
        info.device_path,
        Some(PathBuf::from(format!("/dev/{vg}/real_00000")))
    );
    assert!(
        !rt.block_on(p.create_volume(&a, SizeKib(5000)))
            .expect("again")
            .is_changed()
    );
    assert!(
        !rt.block_on(p.create_volume(&a, SizeKib(8192)))
            .expect("again")
            .is_changed()
    );
    let err = rt
        .block_on(p.create_volume(&a, SizeKib(20_000)))
        .expect_err("other size");
    assert!(matches!(err, BackendError::AlreadyExists { .. }), "{err:?}");
    // A resource name with `_` and digits: its volume number is read from the right.
    let b = vol("r_00001_x", 3);
    rt.block_on(p.create_volume(&b, SizeKib(4096)))
        .expect("create b");
    let listed: Vec<(VolumeId, String, SizeKib)> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| (v.id, v.name, v.size))
        .collect();
    assert_eq!(
        listed,
        [
            (b.clone(), "r_00001_x_00003".to_owned(), SizeKib(4096)),
            (a.clone(), "real_00000".to_owned(), SizeKib(8192))
        ]
    );
    // LINSTOR takes no thick LVM snapshots: none are listed, and the provider refuses one
    // before running anything.
    assert_eq!(rt.block_on(p.list_snapshots()).expect("list"), []);
    let err = rt
        .block_on(p.create_snapshot(&a, &snap("s1")))
        .expect_err("thick");
    assert!(matches!(err, BackendError::Unsupported { .. }), "{err:?}");
    let cap = rt.block_on(p.capacity()).expect("capacity");
    assert_eq!(cap, vgs_capacity(&vg, &env));
    assert_eq!(cap.total.kib() - cap.free.kib(), 8192 + 4096);

    // Grow.
    let r = rt
        .block_on(p.resize_volume(&a, SizeKib(16 * 1024)))
        .expect("grow");
    assert_eq!(
        r,
        ResizeOutcome::Resized {
            from: SizeKib(8192),
            to: SizeKib(16384)
        }
    );
    assert_eq!(
        rt.block_on(p.capacity()).expect("capacity"),
        vgs_capacity(&vg, &env)
    );

    // Too large: refused before lvcreate; nothing new appears.
    let err = rt
        .block_on(p.create_volume(&vol("huge", 0), SizeKib(10 * 1024 * 1024)))
        .expect_err("too big");
    assert!(
        matches!(err, BackendError::InsufficientSpace { .. }),
        "{err:?}"
    );
    let err = rt
        .block_on(p.create_volume(&vol("zero", 0), SizeKib(0)))
        .expect_err("zero");
    assert!(matches!(err, BackendError::InvalidInput { .. }), "{err:?}");
    let listed = rt.block_on(p.list_volumes()).expect("list");
    assert_eq!(listed.len(), 2, "{listed:?}");

    // Delete, twice.
    for v in [&a, &b] {
        assert_eq!(
            rt.block_on(p.delete_volume(v)).expect("delete"),
            DeleteOutcome::Deleted
        );
        assert_eq!(
            rt.block_on(p.delete_volume(v)).expect("again"),
            DeleteOutcome::AlreadyAbsent
        );
    }
    assert!(rt.block_on(p.list_volumes()).expect("list").is_empty());
    let cap = rt.block_on(p.capacity()).expect("capacity");
    assert_eq!(cap.free, cap.total);

    // Tear the pool down through the set-up code.
    assert_eq!(
        rt.block_on(setup.delete_lvm_pool(&vg, &devs))
            .expect("vgremove"),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        rt.block_on(setup.delete_lvm_pool(&vg, &devs))
            .expect("again"),
        DeleteOutcome::AlreadyAbsent
    );
    let err = rt.block_on(p.capacity()).expect_err("VG gone");
    assert!(
        matches!(
            err,
            BackendError::NotFound {
                what: "volume group",
                ..
            }
        ),
        "{err:?}"
    );
}

/// One LV written into the VG metadata.
enum Lv {
    /// A thin LV in `thinpool` of `extents` (virtual) extents: `origin` is set for snapshots
    /// (their volume) and restored volumes (their snapshot); `skip` is the activation-skip flag
    /// `lvcreate --snapshot` sets.
    Thin {
        name: &'static str,
        extents: u32,
        origin: Option<&'static str>,
        skip: bool,
    },
    /// A linear LV outside the thin pool, at PV extent `start`.
    Linear {
        name: &'static str,
        start: u32,
        extents: u32,
    },
}

/// The LVs of the restored thin pool: LINSTOR's volumes and snapshots (names with `_` and
/// digits), a snapshot whose volume was deleted, a volume restored from a snapshot, and LVs that
/// are not LINSTOR's or not in the pool.
const THIN_LVS: &[Lv] = &[
    Lv::Thin {
        name: "pvc-abc_00000",
        extents: 3,
        origin: None,
        skip: false,
    },
    Lv::Thin {
        name: "pvc-abc_00000_snap1",
        extents: 3,
        origin: Some("pvc-abc_00000"),
        skip: true,
    },
    Lv::Thin {
        name: "pvc-new_00000",
        extents: 3,
        origin: Some("pvc-abc_00000_snap1"),
        skip: true,
    },
    Lv::Thin {
        name: "pvc-abc.meta_00000",
        extents: 1,
        origin: None,
        skip: false,
    },
    Lv::Thin {
        name: "data_2024_x1_00003",
        extents: 2,
        origin: None,
        skip: false,
    },
    Lv::Thin {
        name: "data_2024_x1_00003_snap_2",
        extents: 2,
        origin: Some("data_2024_x1_00003"),
        skip: true,
    },
    Lv::Thin {
        name: "r_00001_x_00000",
        extents: 1,
        origin: None,
        skip: false,
    },
    Lv::Thin {
        name: "r_00001_x_00000_back_17",
        extents: 1,
        origin: Some("r_00001_x_00000"),
        skip: true,
    },
    Lv::Thin {
        name: "gone_00001_old",
        extents: 2,
        origin: None,
        skip: true,
    },
    Lv::Thin {
        name: "scratch",
        extents: 1,
        origin: None,
        skip: false,
    },
    Lv::Thin {
        name: "x_00000_s1",
        extents: 1,
        origin: None,
        skip: true,
    },
    Lv::Linear {
        name: "thick_00000",
        start: 18,
        extents: 1,
    },
    Lv::Linear {
        name: "thick_00000_s1",
        start: 19,
        extents: 1,
    },
];

/// An LV section of LVM's metadata text format (as `vgcfgbackup` writes it).
fn lv_section(n: usize, name: &str, status: &str, flags: &str, segment: &str) -> String {
    let d = format!("{n:032}");
    let id = [
        &d[..6],
        &d[6..10],
        &d[10..14],
        &d[14..18],
        &d[18..22],
        &d[22..26],
        &d[26..],
    ]
    .join("-");
    format!(
        "\t\t{name} {{\n\t\t\tid = \"{id}\"\n\t\t\tstatus = [{status}]\n\t\t\tflags = [{flags}]\n\
         \t\t\tsegment_count = 1\n\n\t\t\tsegment1 {{\n\t\t\t\tstart_extent = 0\n{segment}\t\t\t}}\n\t\t}}\n"
    )
}

fn linear(n: usize, name: &str, visible: bool, start: u32, extents: u32) -> String {
    let status = if visible {
        "\"READ\", \"WRITE\", \"VISIBLE\""
    } else {
        "\"READ\", \"WRITE\""
    };
    let seg = format!(
        "\t\t\t\textent_count = {extents}\n\t\t\t\ttype = \"striped\"\n\t\t\t\tstripe_count = 1\n\
         \t\t\t\tstripes = [\n\t\t\t\t\t\"pv0\", {start}\n\t\t\t\t]\n"
    );
    lv_section(n, name, status, "", &seg)
}

/// The `logical_volumes` section: a 64 MiB thin pool `thinpool` (its hidden metadata, data and
/// spare LVs on PV extents 0 … 17) holding the thin LVs of `lvs`, and the linear ones.
fn logical_volumes(lvs: &[Lv]) -> String {
    let thin = lvs.iter().filter(|l| matches!(l, Lv::Thin { .. })).count();
    let mut out = String::from("\tlogical_volumes {\n");
    out += &lv_section(
        0,
        "thinpool",
        "\"READ\", \"WRITE\", \"VISIBLE\"",
        "",
        &format!(
            "\t\t\t\textent_count = 16\n\t\t\t\ttype = \"thin-pool\"\n\
             \t\t\t\tmetadata = \"thinpool_tmeta\"\n\t\t\t\tpool = \"thinpool_tdata\"\n\
             \t\t\t\ttransaction_id = {thin}\n\t\t\t\tchunk_size = 128\n\
             \t\t\t\tdiscards = \"passdown\"\n\t\t\t\tzero_new_blocks = 1\n"
        ),
    );
    out += &linear(1, "lvol0_pmspare", false, 0, 1);
    out += &linear(2, "thinpool_tmeta", false, 1, 1);
    out += &linear(3, "thinpool_tdata", false, 2, 16);
    let mut device = 0;
    for (i, lv) in lvs.iter().enumerate() {
        out += &match lv {
            Lv::Thin {
                name,
                extents,
                origin,
                skip,
            } => {
                device += 1;
                let origin =
                    origin.map_or(String::new(), |o| format!("\t\t\t\torigin = \"{o}\"\n"));
                let seg = format!(
                    "\t\t\t\textent_count = {extents}\n\t\t\t\ttype = \"thin\"\n\
                     \t\t\t\tthin_pool = \"thinpool\"\n\t\t\t\ttransaction_id = {}\n\
                     \t\t\t\tdevice_id = {device}\n{origin}",
                    device - 1
                );
                let flags = if *skip { "\"ACTIVATION_SKIP\"" } else { "" };
                lv_section(i + 4, name, "\"READ\", \"WRITE\", \"VISIBLE\"", flags, &seg)
            }
            Lv::Linear {
                name,
                start,
                extents,
            } => linear(i + 4, name, true, *start, *extents),
        };
    }
    out + "\t}\n"
}

#[test]
fn real_lvm_thin_listing_from_restored_metadata() {
    let tools = [TOOLS, &["vgcfgbackup", "vgcfgrestore"]].concat();
    if !have_tools("real_lvm_thin_listing_from_restored_metadata", &tools) {
        return;
    }
    let sandbox = Sandbox::new("thin");
    let vg = sandbox.vg();
    let runner = Arc::new(RealRunner::new());
    let rt = rt();
    let setup = PoolSetup::new(runner.clone()).with_env(sandbox.env.clone());
    rt.block_on(setup.create_lvm_pool(&vg, &[PathBuf::from(sandbox.dev.path())]))
        .expect("vgcreate");

    // Without device-mapper LVM makes no thin pool (and so no thin volume or snapshot).
    let err = sandbox
        .run("lvcreate", &["-L", "64m", "-T", &format!("{vg}/thinpool")])
        .expect_err("no device-mapper");
    assert!(
        matches!(&err, BackendError::CommandFailed { stderr, .. } if stderr.contains("device-mapper")),
        "{err:?}"
    );

    // So the thin pool and its LVs go into the VG's metadata.
    let backup = sandbox.tmp.path().join("vg.txt");
    let backup_arg = backup.display().to_string();
    sandbox
        .run("vgcfgbackup", &["-f", &backup_arg, &vg])
        .expect("vgcfgbackup");
    let text = std::fs::read_to_string(&backup).expect("backup");
    let end = text.rfind('}').expect("the VG section ends with '}'");
    let text = format!(
        "{}{}{}",
        &text[..end],
        logical_volumes(THIN_LVS),
        &text[end..]
    );
    std::fs::write(&backup, text).expect("write metadata");
    sandbox
        .run("vgcfgrestore", &["--force", "-f", &backup_arg, &vg])
        .expect("vgcfgrestore");

    // LINSTOR's `lvs` prints what the fixture recorded (VG name aside).
    let columns = linstor_backends::parse::lvm::LVS_COLUMNS;
    let lvs = sandbox
        .run(
            "lvs",
            &[
                "-o",
                columns,
                "--separator",
                ";",
                "--noheadings",
                "--units",
                "k",
                "--nosuffix",
                &vg,
            ],
        )
        .expect("lvs");
    let recorded = common::fixture("lvs_thin_snapshots.txt").replace("linstor_vg", &vg);
    assert_eq!(
        lvs.stdout, recorded,
        "lvs output differs from tests/fixtures/lvs_thin_snapshots.txt (record it again?)"
    );

    let cfg = LvmConfig {
        env: sandbox.env.clone(),
        wipe: false,
        ..LvmConfig::default()
    };
    let p = LvmProvider::thin(runner.clone(), &format!("{vg}/thinpool"), cfg).expect("valid");
    let vols: Vec<(VolumeId, String, SizeKib)> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| (v.id, v.name, v.size))
        .collect();
    let meta =
        VolumeId::with_suffix(vol("pvc-abc", 0).rsc, LayerSuffix::DrbdMeta, 0).expect("valid");
    let row = |id: VolumeId, name: &str, kib| (id, name.to_owned(), SizeKib(kib));
    assert_eq!(
        vols,
        [
            row(vol("data_2024_x1", 3), "data_2024_x1_00003", 8192),
            row(meta, "pvc-abc.meta_00000", 4096),
            row(vol("pvc-abc", 0), "pvc-abc_00000", 12288),
            row(vol("pvc-new", 0), "pvc-new_00000", 12288),
            row(vol("r_00001_x", 0), "r_00001_x_00000", 4096),
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
    let row = |id: VolumeId, snap: &str, name: &str, kib| {
        (id, snap.to_owned(), name.to_owned(), SizeKib(kib), false)
    };
    assert_eq!(
        snaps,
        [
            row(
                vol("data_2024_x1", 3),
                "snap_2",
                "data_2024_x1_00003_snap_2",
                8192
            ),
            row(vol("gone", 1), "old", "gone_00001_old", 8192),
            row(vol("pvc-abc", 0), "snap1", "pvc-abc_00000_snap1", 12288),
            row(
                vol("r_00001_x", 0),
                "back_17",
                "r_00001_x_00000_back_17",
                4096
            ),
        ]
    );
    assert_eq!(snaps[3].0.rsc.as_str(), "r_00001_x");

    // Taking a snapshot through the provider fails for want of device-mapper, as said above.
    let err = rt
        .block_on(p.create_snapshot(&vol("pvc-abc", 0), &snap("s2")))
        .expect_err("no device-mapper");
    assert!(
        matches!(&err, BackendError::CommandFailed { stderr, .. } if stderr.contains("device-mapper")),
        "{err:?}"
    );

    // The thick view of the same VG: only the linear LVs outside the pool, and no snapshots.
    let cfg = LvmConfig {
        env: sandbox.env.clone(),
        wipe: false,
        ..LvmConfig::default()
    };
    let thick = LvmProvider::thick(runner, &vg, cfg).expect("valid");
    let ids: Vec<VolumeId> = rt
        .block_on(thick.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| v.id)
        .collect();
    assert_eq!(ids, [vol("thick", 0)]);
    assert_eq!(rt.block_on(thick.list_snapshots()).expect("list"), []);
}
