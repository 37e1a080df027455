//! `/v1/physical-storage` end to end on `scripts/local-cluster`: a test-made 1 GiB loop device
//! is offered by the satellite and becomes a real LVM volume group (pvcreate/vgcreate; LVM runs
//! with a private configuration without activation). This host has no device-mapper, so the
//! satellite reports LVM unsupported and a LINSTOR storage pool on top is refused before any
//! device is touched; bad requests are refused with the field named and change nothing.

mod common;

use std::process::Command;

use common::{Cluster, can_run};
use serde_json::{Value, json};

const LVM_CONF: &str = "\
global { use_lvmetad = 0 activation = 0 }
activation { udev_sync = 0 udev_rules = 0 monitoring = 0 }
devices { obtain_device_list_from_udev = 0 }
";

/// The loop device, and the VG/PV labels on it, removed on drop.
struct Disk {
    dev: String,
    vg: String,
    etc: String,
}

impl Drop for Disk {
    fn drop(&mut self) {
        let lvm = |args: &[&str]| {
            let _ = Command::new(args[0])
                .args(&args[1..])
                .env("LVM_SYSTEM_DIR", &self.etc)
                .output();
        };
        lvm(&["vgremove", "-f", &self.vg]);
        lvm(&["pvremove", "-ff", "-y", &self.dev]);
        let _ = Command::new("losetup").args(["-d", &self.dev]).status();
    }
}

fn has_lvm() -> bool {
    Command::new("sh")
        .args([
            "-c",
            "command -v pvcreate && command -v vgcreate && command -v blkid",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn real_physical_storage_lists_a_device_and_makes_an_lvm_pool_of_it() {
    let test = "real_physical_storage_lists_a_device_and_makes_an_lvm_pool_of_it";
    if !can_run(test) || !has_lvm() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{test}: CI must have lvm2"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("lvm");
    std::fs::create_dir(&etc).unwrap();
    std::fs::write(etc.join("lvm.conf"), LVM_CONF).unwrap();
    let img = tmp.path().join("disk.img");
    Command::new("truncate")
        .args(["-s", "1G"])
        .arg(&img)
        .status()
        .unwrap();
    let out = Command::new("losetup")
        .args(["-f", "--show"])
        .arg(&img)
        .output()
        .unwrap();
    let disk = Disk {
        dev: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        vg: format!("lsps{}", std::process::id()),
        etc: etc.display().to_string(),
    };
    assert!(disk.dev.starts_with("/dev/loop"), "{out:?}");
    let c = Cluster::up_with_env(2, &[("LVM_SYSTEM_DIR", &disk.etc)]);
    c.wait(20, "nodes ONLINE", |c| {
        c.node_status().iter().all(|(_, s)| s == "ONLINE")
    });
    // Offered on the node, and in the grouped list.
    let devs = c.ok("GET", "/v1/physical-storage/node-1", None);
    let mine = devs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == disk.dev.as_str());
    let mine = mine.unwrap_or_else(|| panic!("{} not offered: {devs}", disk.dev));
    assert_eq!(mine["size"], 1u64 << 30);
    let all = c.ok("GET", "/v1/physical-storage", None);
    let group = all
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["size"] == 1u64 << 30);
    let nodes = &group.unwrap_or_else(|| panic!("{all}"))["nodes"];
    assert!(
        nodes["node-1"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["device"] == disk.dev.as_str())
    );
    // The pool volumes of FILE_THIN pools are never offered.
    assert!(!devs.to_string().contains("pool.btrfs"));
    refusals(&c, &disk);
    // This host has no device-mapper, so its satellite reports LVM unsupported: a storage pool
    // on top is refused before any device is touched.
    let with_pool = json!({"provider_kind": "LVM", "device_paths": [disk.dev], "pool_name": disk.vg,
        "with_storage_pool": {"name": "lvm1"}});
    let (status, v) = c.call("POST", "/v1/physical-storage/node-1", Some(&with_pool));
    assert_eq!(status, 500, "{v}");
    assert!(v.to_string().contains("does not support LVM"), "{v}");
    let devs = c.ok("GET", "/v1/physical-storage/node-1", None);
    assert!(
        devs.to_string().contains(&disk.dev),
        "still offered: {devs}"
    );
    // The device pool itself: a real volume group (and creating it again changes nothing).
    let create = json!({"provider_kind": "LVM", "device_paths": [disk.dev], "pool_name": disk.vg});
    for _ in 0..2 {
        let (status, v) = c.call("POST", "/v1/physical-storage/node-1", Some(&create));
        assert_eq!(status, 201, "{v}");
        assert!(v.to_string().contains(&disk.vg), "{v}");
    }
    let vgs = Command::new("vgs")
        .args(["--noheadings", "-o", "vg_name,pv_count"])
        .env("LVM_SYSTEM_DIR", &disk.etc)
        .output()
        .unwrap();
    let vgs = String::from_utf8_lossy(&vgs.stdout);
    assert!(vgs.contains(&disk.vg), "{vgs}");
    // No longer offered; the same device for another pool fails with pvcreate's words.
    let devs = c.ok("GET", "/v1/physical-storage/node-1", None);
    assert!(!devs.to_string().contains(&disk.dev), "{devs}");
    let again = json!({"provider_kind": "LVM", "device_paths": [disk.dev], "pool_name": "other"});
    let (status, v) = c.call("POST", "/v1/physical-storage/node-1", Some(&again));
    assert_eq!(status, 500, "{v}");
    assert!(
        v[0]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("pvcreate")),
        "{v}"
    );
}

/// Bad requests name the field and change nothing.
fn refusals(c: &Cluster, disk: &Disk) {
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "/v1/physical-storage/node-1",
            json!({"provider_kind": "FILE", "device_paths": [disk.dev]}),
            400,
            "provider_kind",
        ),
        (
            "/v1/physical-storage/node-1",
            json!({"provider_kind": "LVM", "device_paths": []}),
            400,
            "device_paths",
        ),
        (
            "/v1/physical-storage/node-1",
            json!({"provider_kind": "LVM", "device_paths": [disk.dev], "sed": true}),
            400,
            "sed",
        ),
        (
            "/v1/physical-storage/node-1",
            json!({"provider_kind": "LVM", "device_paths": [disk.dev], "colour": 1}),
            400,
            "colour",
        ),
        (
            "/v1/physical-storage/nowhere",
            json!({"provider_kind": "LVM", "device_paths": [disk.dev]}),
            404,
            "nowhere",
        ),
    ];
    for (path, body, want, needle) in cases {
        let (status, v) = c.call("POST", path, Some(&body));
        assert_eq!(status, want, "{body}: {v}");
        assert!(v.to_string().contains(needle), "{body}: {v}");
    }
    let pools = c.ok("GET", "/v1/view/storage-pools", None);
    assert_eq!(
        pools.as_array().unwrap().len(),
        4,
        "nothing created: {pools}"
    );
}
