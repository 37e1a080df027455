//! LVM (thick) on a real loop-device PV, through the provider and the pool set-up (root;
//! needs lvm2). The kernel may lack device-mapper, so LVM runs with a private
//! `LVM_SYSTEM_DIR` whose `lvm.conf` disables activation: LVs are created, listed, resized and
//! removed in the metadata only, and have no device nodes (so the provider's wipe is off).

#![allow(
    clippy::print_stderr,
    reason = "tests explain why they skip and print measurements"
)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::real::{LoopDev, have_tools, sync_run};
use common::{rt, vol};
use linstor_backends::lvm::{LvmConfig, LvmProvider};
use linstor_backends::parse::lvm::parse_vgs;
use linstor_backends::pool::PoolSetup;
use linstor_backends::provider::{CreateOutcome, DeleteOutcome, ResizeOutcome, StorageProvider};
use linstor_backends::{BackendError, Cmd, RealRunner};
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

#[test]
fn real_lvm_thick_on_loop_pv() {
    if !have_tools("real_lvm_thick_on_loop_pv", TOOLS) {
        return;
    }
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
    let vg = format!("linstor_test_{}", std::process::id());
    let _vg_guard = VgGuard {
        vg: vg.clone(),
        dev: dev.path(),
        env: env.clone(),
    };
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
    let b = vol("other", 3);
    rt.block_on(p.create_volume(&b, SizeKib(4096)))
        .expect("create b");
    let listed: Vec<(String, SizeKib)> = rt
        .block_on(p.list_volumes())
        .expect("list")
        .into_iter()
        .map(|v| (v.name, v.size))
        .collect();
    assert_eq!(
        listed,
        [
            ("other_00003".to_owned(), SizeKib(4096)),
            ("real_00000".to_owned(), SizeKib(8192))
        ]
    );
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
