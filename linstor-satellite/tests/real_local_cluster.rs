//! End to end on `scripts/local-cluster`: the real controller and satellite binaries on
//! 127.0.0.1, FILE_THIN pools on btrfs loop filesystems (real sparse files, loop devices,
//! reflink snapshots), `.res` files checked by the real drbdadm, metadata by the real
//! drbdmeta; the DRBD kernel is SIMULATED (no module on this host).

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use common::{Cluster, can_run};
use serde_json::{Value, json};

const MIB: u64 = 1024 * 1024;
const MIB_USIZE: usize = 1024 * 1024;

fn rg3(c: &Cluster, place: u32) {
    c.ok(
        "POST",
        "/v1/resource-groups",
        Some(&json!({"name": "rg3", "select_filter": {"place_count": place, "storage_pool": "filethin"}})),
    );
    for nr in [0, 1] {
        c.ok(
            "POST",
            "/v1/resource-groups/rg3/volume-groups",
            Some(&json!({"volume_number": nr})),
        );
    }
}

fn spawn(c: &Cluster, name: &str, sizes: &[u64]) {
    c.ok(
        "POST",
        "/v1/resource-groups/rg3/spawn",
        Some(&json!({"resource_definition_name": name, "volume_sizes": sizes})),
    );
}

/// Disk states of `rd`'s volumes, per node.
fn disk_states(c: &Cluster, rd: &str) -> Vec<(String, Vec<String>)> {
    let v = c.ok("GET", &format!("/v1/view/resources?resources={rd}"), None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let states = r["volumes"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .map(|v| v["state"]["disk_state"].as_str().unwrap_or("?").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            (r["node_name"].as_str().unwrap().to_owned(), states)
        })
        .collect()
}

fn all_up_to_date(c: &Cluster, rd: &str, replicas: usize, volumes: usize) -> bool {
    let s = disk_states(c, rd);
    s.len() == replicas
        && s.iter()
            .all(|(_, v)| v.len() == volumes && v.iter().all(|d| d == "UpToDate"))
}

/// Every node ONLINE and every `filethin` pool's capacity reported.
fn all_online(c: &Cluster) -> bool {
    let pools = c.ok("GET", "/v1/view/storage-pools?storage_pools=filethin", None);
    c.node_status().iter().all(|(_, s)| s == "ONLINE")
        && pools
            .as_array()
            .is_some_and(|ps| ps.iter().all(|p| p["free_capacity"].as_u64().is_some()))
}

/// The bytes of the loop device backed by `file`, and the file's length.
fn loop_size(c: &Cluster, file: &Path) -> Option<u64> {
    let (dev, _) = c
        .volume_loops()
        .into_iter()
        .find(|(_, f)| Path::new(f) == file)?;
    let name = dev.trim_start_matches("/dev/");
    let sectors = std::fs::read_to_string(format!("/sys/block/{name}/size")).ok()?;
    Some(sectors.trim().parse::<u64>().ok()? * 512)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn len(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn rd_names(c: &Cluster) -> Vec<String> {
    let v = c.ok("GET", "/v1/resource-definitions", None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_nothing_left(c: &Cluster, nodes: usize) {
    for i in 1..=nodes {
        let node = format!("node-{i}");
        assert_eq!(
            files_in(&c.pool(&node)),
            Vec::<String>::new(),
            "{node} pool"
        );
        assert_eq!(
            files_in(&c.dir.join(&node).join("drbd")),
            Vec::<String>::new(),
            "{node} .res"
        );
    }
    assert_eq!(c.volume_loops(), Vec::new(), "volume loop devices");
}

#[test]
fn real_file_thin_spawn_resize_snapshot_restore_delete_with_simulated_drbd() {
    if !can_run("real_file_thin_spawn_resize_snapshot_restore_delete_with_simulated_drbd") {
        return;
    }
    let c = Cluster::up(3);
    c.wait(20, "3 nodes ONLINE", all_online);
    // Real capacities: each pool is a 2 GiB btrfs.
    let pools = c.ok("GET", "/v1/view/storage-pools?storage_pools=filethin", None);
    for p in pools.as_array().unwrap() {
        let total = p["total_capacity"].as_u64().unwrap();
        let free = p["free_capacity"].as_u64().unwrap();
        assert!((1_500_000..=2_097_152).contains(&total), "{p}");
        assert!(free > 0 && free <= total, "{p}");
    }
    rg3(&c, 3);
    spawn(&c, "vol", &[10240, 20480]);
    c.wait(30, "vol UpToDate on 3 nodes", |c| {
        all_up_to_date(c, "vol", 3, 2)
    });
    for i in 1..=3 {
        let pool = c.pool(&format!("node-{i}"));
        for (nr, net) in [(0, 10 * MIB), (1, 20 * MIB)] {
            let f = pool.join(format!("vol_0000{nr}.img"));
            let l = len(&f);
            assert!(
                l > net && l < net + 2 * MIB,
                "{f:?}: {l} (net {net} + DRBD metadata)"
            );
            let allocated = std::fs::metadata(&f).unwrap().blocks() * 512;
            assert!(
                allocated < l / 2,
                "{f:?} is sparse: {allocated} of {l} allocated"
            );
            assert_eq!(loop_size(&c, &f), Some(l), "{f:?}: its loop device");
        }
    }
    assert_eq!(c.volume_loops().len(), 6);
    // Resize: volume 0 grows to 30 MiB on every node.
    c.ok(
        "PUT",
        "/v1/resource-definitions/vol/volume-definitions/0",
        Some(&json!({"size_kib": 30720})),
    );
    let f1 = c.pool("node-1").join("vol_00000.img");
    c.wait(30, "vol_00000 grown on every node", |c| {
        (1..=3).all(|i| {
            let f = c.pool(&format!("node-{i}")).join("vol_00000.img");
            len(&f) > 30 * MIB && loop_size(c, &f) == Some(len(&f))
        })
    });
    snapshot_and_restore(&c, &f1);
    delete_everything(&c);
}

/// Data written into node-1's volume is in the snapshot and in the volume restored from it.
fn snapshot_and_restore(c: &Cluster, f1: &Path) {
    let pattern: Vec<u8> = (0..MIB).map(|i| (i * 7 % 251) as u8).collect();
    let dev = c
        .volume_loops()
        .into_iter()
        .find(|(_, f)| Path::new(f) == f1)
        .unwrap()
        .0;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut d = std::fs::OpenOptions::new().write(true).open(&dev).unwrap();
        d.seek(SeekFrom::Start(MIB)).unwrap();
        d.write_all(&pattern).unwrap();
        d.sync_all().unwrap();
    }
    c.ok(
        "POST",
        "/v1/resource-definitions/vol/snapshots",
        Some(&json!({"name": "s1"})),
    );
    c.wait(30, "snapshot s1 SUCCESSFUL", |c| {
        let s = c.ok("GET", "/v1/resource-definitions/vol/snapshots/s1", None);
        s["flags"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("SUCCESSFUL")))
    });
    c.ok(
        "POST",
        "/v1/resource-definitions",
        Some(&json!({"resource_definition": {"name": "vol2"}})),
    );
    let restore = json!({"to_resource": "vol2"});
    c.ok(
        "POST",
        "/v1/resource-definitions/vol/snapshot-restore-volume-definition/s1",
        Some(&restore),
    );
    c.ok(
        "POST",
        "/v1/resource-definitions/vol/snapshot-restore-resource/s1",
        Some(&restore),
    );
    c.wait(30, "vol2 UpToDate on 3 nodes", |c| {
        all_up_to_date(c, "vol2", 3, 2)
    });
    let pool = c.pool("node-1");
    let snap = std::fs::read(pool.join("vol_00000_s1.img")).unwrap();
    let restored = std::fs::read(pool.join("vol2_00000.img")).unwrap();
    let net = 30 * MIB_USIZE;
    assert!(
        snap[..net] == restored[..net],
        "restored data differs from the snapshot"
    );
    assert!(
        restored[MIB_USIZE..2 * MIB_USIZE] == pattern[..],
        "written data restored"
    );
}

fn delete_everything(c: &Cluster) {
    c.ok("DELETE", "/v1/resource-definitions/vol2", None);
    c.ok("DELETE", "/v1/resource-definitions/vol/snapshots/s1", None);
    c.ok("DELETE", "/v1/resource-definitions/vol", None);
    c.wait(30, "every definition gone", |c| rd_names(c).is_empty());
    c.wait(10, "nothing left on the nodes", |c| {
        c.volume_loops().is_empty() && files_in(&c.pool("node-1")).is_empty()
    });
    assert_nothing_left(c, 3);
}

#[test]
fn real_satellite_kill9_mid_spawn_resyncs_with_nothing_orphaned_or_stuck() {
    if !can_run("real_satellite_kill9_mid_spawn_resyncs_with_nothing_orphaned_or_stuck") {
        return;
    }
    let c = Cluster::up(3);
    c.wait(20, "3 nodes ONLINE", all_online);
    rg3(&c, 3);
    spawn(&c, "ra", &[8192, 8192]);
    spawn(&c, "rb", &[8192, 8192]);
    // Mid-spawn: node-2 may be creating volumes right now.
    c.kill("node-2");
    c.wait(20, "node-2 OFFLINE", |c| {
        c.node_status()
            .iter()
            .any(|(n, s)| n == "node-2" && s == "OFFLINE")
    });
    c.start("node-2", None);
    c.wait(30, "node-2 ONLINE again", all_online);
    for rd in ["ra", "rb"] {
        c.wait(30, "ra and rb UpToDate everywhere", |c| {
            all_up_to_date(c, rd, 3, 2)
        });
    }
    for i in 1..=3 {
        let want = [
            "ra_00000.img",
            "ra_00001.img",
            "rb_00000.img",
            "rb_00001.img",
        ];
        assert_eq!(
            files_in(&c.pool(&format!("node-{i}"))),
            want,
            "node-{i}: no orphans"
        );
    }
    // A delete while a node is down waits for it (two-phase), then completes.
    c.kill("node-3");
    c.wait(20, "node-3 OFFLINE", |c| {
        c.node_status()
            .iter()
            .any(|(n, s)| n == "node-3" && s == "OFFLINE")
    });
    c.ok("DELETE", "/v1/resource-definitions/ra", None);
    c.wait(10, "ra gone from the ONLINE nodes", |c| {
        !files_in(&c.pool("node-1")).contains(&"ra_00000.img".to_owned())
    });
    assert!(
        rd_names(&c).contains(&"ra".to_owned()),
        "ra waits for node-3's confirmation"
    );
    assert!(files_in(&c.pool("node-3")).contains(&"ra_00000.img".to_owned()));
    c.start("node-3", None);
    c.wait(30, "ra deleted once node-3 confirmed", |c| {
        rd_names(c) == ["rb"]
    });
    c.ok("DELETE", "/v1/resource-definitions/rb", None);
    c.wait(30, "no definition stuck in DELETING", |c| {
        rd_names(c).is_empty()
    });
    c.wait(10, "nothing left on the nodes", |c| {
        c.volume_loops().is_empty()
    });
    assert_nothing_left(&c, 3);
}

#[test]
fn real_controller_restart_mid_operation_and_a_satellite_with_a_wrong_key() {
    if !can_run("real_controller_restart_mid_operation_and_a_satellite_with_a_wrong_key") {
        return;
    }
    let c = Cluster::up(2);
    c.wait(20, "2 nodes ONLINE", all_online);
    rg3(&c, 2);
    spawn(&c, "rc", &[8192, 4096]);
    c.kill("controller");
    c.start("controller", None);
    c.wait(30, "nodes ONLINE after the restart", all_online);
    c.wait(30, "rc UpToDate on both nodes", |c| {
        all_up_to_date(c, "rc", 2, 2)
    });
    c.ok("DELETE", "/v1/resource-definitions/rc", None);
    c.kill("controller");
    c.start("controller", None);
    c.wait(30, "rc deleted after the restart", |c| {
        rd_names(c).is_empty()
    });
    c.wait(10, "nothing left on the nodes", |c| {
        c.volume_loops().is_empty()
    });
    assert_nothing_left(&c, 2);
    // A satellite with another cluster key refuses the controller: the node stays OFFLINE.
    let wrong = c.dir.join("wrong.key");
    std::fs::write(&wrong, "ab".repeat(32)).unwrap();
    c.kill("node-2");
    c.start("node-2", Some(&wrong));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let status: Vec<(String, String)> = c.node_status();
    assert!(
        status.contains(&("node-2".into(), "OFFLINE".into())),
        "{status:?}"
    );
    let log = std::fs::read_to_string(c.dir.join("node-2/satellite.log")).unwrap();
    assert!(log.contains("refused a connection"), "{log}");
    let _: Value = c.ok("GET", "/v1/nodes", None);
}

#[test]
fn real_simulated_drbd_two_replicas_get_a_tiebreaker_and_every_res_file_passes_drbdadm() {
    if !can_run(
        "real_simulated_drbd_two_replicas_get_a_tiebreaker_and_every_res_file_passes_drbdadm",
    ) {
        return;
    }
    let c = Cluster::up(3);
    c.wait(20, "3 nodes ONLINE", all_online);
    rg3(&c, 2);
    spawn(&c, "rq", &[8192, 4096]);
    // The core adds a diskless tiebreaker on the third node; every replica reports.
    c.wait(30, "2 UpToDate replicas and a Diskless tiebreaker", |c| {
        let mut s: Vec<Vec<String>> = disk_states(c, "rq").into_iter().map(|(_, v)| v).collect();
        s.sort();
        s == [
            vec!["Diskless".to_owned(), "Diskless".to_owned()],
            vec!["UpToDate".to_owned(), "UpToDate".to_owned()],
            vec!["UpToDate".to_owned(), "UpToDate".to_owned()],
        ]
    });
    let rscs = c.ok("GET", "/v1/view/resources?resources=rq", None);
    let tiebreaker: Vec<&Value> = rscs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["flags"]
                .as_array()
                .is_some_and(|f| f.contains(&json!("TIE_BREAKER")))
        })
        .collect();
    assert_eq!(tiebreaker.len(), 1, "{rscs}");
    let rd = c.ok("GET", "/v1/resource-definitions/rq", None);
    assert_eq!(
        rd["props"]["DrbdOptions/Resource/quorum"], "majority",
        "{rd}"
    );
    // Every node's .res names all three nodes, has quorum, and passes the real drbdadm.
    for i in 1..=3 {
        let node = format!("node-{i}");
        let res = c.dir.join(&node).join("drbd/rq.res");
        let text = std::fs::read_to_string(&res).unwrap();
        for n in 1..=3 {
            assert!(
                text.contains(&format!("on \"node-{n}\"")),
                "{res:?}:\n{text}"
            );
        }
        assert!(text.contains("quorum majority"), "{res:?}:\n{text}");
        let out = std::process::Command::new("drbdadm")
            .args([
                "-c",
                c.dir.join(&node).join("state/drbd.conf").to_str().unwrap(),
                "sh-nop",
            ])
            .env("__DRBD_NODE__", &node)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{node}: drbdadm sh-nop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    c.ok("DELETE", "/v1/resource-definitions/rq", None);
    c.wait(30, "rq deleted", |c| rd_names(c).is_empty());
    c.wait(10, "nothing left on the nodes", |c| {
        c.volume_loops().is_empty()
    });
    assert_nothing_left(&c, 3);
}

#[test]
fn real_failed_action_is_reported_on_its_resource_and_retried_until_it_succeeds() {
    let test = "real_failed_action_is_reported_on_its_resource_and_retried_until_it_succeeds";
    if !can_run(test) {
        return;
    }
    let c = Cluster::up(2);
    c.wait(20, "2 nodes ONLINE", all_online);
    rg3(&c, 2);
    // node-1's pool directory refuses new files (immutable on btrfs, even for root).
    let pool = c.pool("node-1");
    let chattr = |flag: &str| {
        let ok = std::process::Command::new("chattr")
            .arg(flag)
            .arg(&pool)
            .status();
        assert!(ok.is_ok_and(|s| s.success()), "chattr {flag}");
    };
    chattr("+i");
    spawn(&c, "rf", &[8192, 4096]);
    c.wait(30, "the failure on node-1's resource", |c| {
        let v = c.ok("GET", "/v1/view/resources?resources=rf&nodes=node-1", None);
        v[0]["state"]["errors"].as_array().is_some_and(|e| {
            e.iter()
                .any(|e| e.as_str().is_some_and(|e| e.contains("truncate")))
        })
    });
    let reports = c.ok("GET", "/v1/error-reports?withContent=true", None);
    let from_node: Vec<&Value> = reports
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["node_name"] == "node-1" && r["module"] == "SATELLITE")
        .collect();
    assert!(
        !from_node.is_empty(),
        "an error report from node-1: {reports}"
    );
    assert!(
        from_node[0]["text"].as_str().unwrap().contains("rf"),
        "{reports}"
    );
    // Fixed: the retry (with back-off) succeeds and the errors are gone.
    chattr("-i");
    c.wait(30, "rf UpToDate on both nodes", |c| {
        all_up_to_date(c, "rf", 2, 2)
    });
    let v = c.ok("GET", "/v1/view/resources?resources=rf&nodes=node-1", None);
    assert!(v[0]["state"].get("errors").is_none(), "{v}");
    c.ok("DELETE", "/v1/resource-definitions/rf", None);
    c.wait(30, "rf deleted", |c| rd_names(c).is_empty());
    assert_nothing_left(&c, 2);
}

#[test]
fn real_satellite_links_inside_tls_carry_a_spawn() {
    if !can_run("real_satellite_links_inside_tls_carry_a_spawn") {
        return;
    }
    let c = Cluster::up_with(2, &["--tls"], &[]);
    c.wait(20, "2 nodes ONLINE over TLS", all_online);
    let nodes = c.ok("GET", "/v1/nodes", None);
    for n in nodes.as_array().unwrap() {
        assert_eq!(
            n["net_interfaces"][0]["satellite_encryption_type"], "SSL",
            "{n}"
        );
    }
    let log = std::fs::read_to_string(c.dir.join("node-1/satellite.log")).unwrap();
    assert!(log.contains("listening on tls://"), "{log}");
    rg3(&c, 2);
    spawn(&c, "rt", &[8192, 4096]);
    c.wait(30, "rt UpToDate on both nodes", |c| {
        all_up_to_date(c, "rt", 2, 2)
    });
    c.ok("DELETE", "/v1/resource-definitions/rt", None);
    c.wait(30, "rt deleted", |c| rd_names(c).is_empty());
    assert_nothing_left(&c, 2);
}

#[test]
fn real_migrate_disk_moves_the_data_and_removes_the_old_replica() {
    if !can_run("real_migrate_disk_moves_the_data_and_removes_the_old_replica") {
        return;
    }
    let c = Cluster::up(3);
    c.wait(20, "3 nodes ONLINE", all_online);
    rg3(&c, 2);
    spawn(&c, "rm", &[8192, 4096]);
    c.wait(30, "2 replicas and a tiebreaker, reported", |c| {
        let s = disk_states(c, "rm");
        s.len() == 3 && s.iter().all(|(_, v)| v.iter().all(|d| d != "?"))
    });
    let diskless = disk_states(&c, "rm")
        .into_iter()
        .find(|(_, v)| v.iter().all(|d| d == "Diskless"))
        .map(|(n, _)| n);
    let to = diskless.unwrap_or_else(|| panic!("{:?}", disk_states(&c, "rm")));
    let from = if to == "node-1" { "node-2" } else { "node-1" };
    c.ok(
        "PUT",
        &format!("/v1/resource-definitions/rm/resources/{to}/migrate-disk/{from}/filethin"),
        None,
    );
    // The old disk is deleted once the new one is UpToDate; two diskful replicas keep their
    // tiebreaker, which the core now places on the node the disk left.
    c.wait(30, "the disk moved and the old one is gone", |c| {
        let s = disk_states(c, "rm");
        let state = |node: &str| s.iter().find(|(n, _)| n == node).map(|(_, v)| v.clone());
        let up = vec!["UpToDate".to_owned(); 2];
        state(&to) == Some(up)
            && state(from) == Some(vec!["Diskless".to_owned(); 2])
            && files_in(&c.pool(from)).is_empty()
            && files_in(&c.pool(&to)) == ["rm_00000.img", "rm_00001.img"]
    });
    c.ok("DELETE", "/v1/resource-definitions/rm", None);
    c.wait(30, "rm deleted", |c| rd_names(c).is_empty());
    assert_nothing_left(&c, 3);
}

/// The nodes holding a replica of `rd` that is not being deleted, with its flags.
fn holders(c: &Cluster, rd: &str) -> Vec<(String, Vec<String>)> {
    let v = c.ok("GET", &format!("/v1/view/resources?resources={rd}"), None);
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let flags = r["flags"]
                .as_array()
                .map(|f| f.iter().map(|f| f.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            (r["node_name"].as_str().unwrap().to_owned(), flags)
        })
        .collect()
}

/// Found by the chaos run (two bugs): an evacuated replica that has a snapshot on its node was
/// never confirmed deleted (the snapshot's files counted as the replica), and an evacuated
/// tiebreaker was never removed (nothing ran the balance step for it).
#[test]
fn real_evacuating_a_node_with_a_snapshot_and_a_tiebreaker_node_empties_both() {
    let test = "real_evacuating_a_node_with_a_snapshot_and_a_tiebreaker_node_empties_both";
    if !can_run(test) {
        return;
    }
    let c = Cluster::up(4);
    c.wait(20, "4 nodes ONLINE", all_online);
    rg3(&c, 2);
    spawn(&c, "re", &[8192, 4096]);
    c.wait(30, "re UpToDate on 2 nodes", |c| {
        holders(c, "re").len() == 3
            && disk_states(c, "re")
                .iter()
                .filter(|(_, d)| d.iter().all(|d| d == "UpToDate"))
                .count()
                == 2
    });
    c.ok(
        "POST",
        "/v1/resource-definitions/re/snapshots",
        Some(&json!({"name": "s1"})),
    );
    c.wait(30, "snapshot s1 SUCCESSFUL", |c| {
        let s = c.ok("GET", "/v1/resource-definitions/re/snapshots/s1", None);
        s["flags"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("SUCCESSFUL")))
    });
    let h = holders(&c, "re");
    let diskful = h.iter().find(|(_, f)| f.is_empty()).unwrap().0.clone();
    let tiebreaker = h
        .iter()
        .find(|(_, f)| f.contains(&"TIE_BREAKER".to_owned()))
        .unwrap()
        .0
        .clone();
    for node in [diskful, tiebreaker] {
        c.ok(
            "PUT",
            &format!("/v1/nodes/{node}/evacuate"),
            Some(&json!({})),
        );
        c.wait(60, "the evacuated node holds no replica", |c| {
            holders(c, "re").iter().all(|(n, _)| *n != node)
        });
        c.ok(
            "PUT",
            &format!("/v1/nodes/{node}/restore"),
            Some(&json!({})),
        );
    }
    c.wait(30, "re UpToDate on 2 nodes again", |c| {
        all_up_to_date_n(c, "re", 2)
    });
    c.ok("DELETE", "/v1/resource-definitions/re/snapshots/s1", None);
    c.ok("DELETE", "/v1/resource-definitions/re", None);
    c.wait(30, "every definition gone", |c| rd_names(c).is_empty());
    c.wait(10, "nothing left on the nodes", |c| {
        c.volume_loops().is_empty()
    });
    assert_nothing_left(&c, 4);
}

/// `n` diskful replicas of `rd`, every volume UpToDate (diskless ones aside).
fn all_up_to_date_n(c: &Cluster, rd: &str, n: usize) -> bool {
    let s = disk_states(c, rd);
    s.iter()
        .filter(|(_, v)| v.iter().all(|d| d == "UpToDate"))
        .count()
        == n
        && s.iter()
            .all(|(_, v)| v.iter().all(|d| d == "UpToDate" || d == "Diskless"))
}
