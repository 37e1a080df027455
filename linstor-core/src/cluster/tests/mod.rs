//! Command tests (tables through one `run` helper), chain tests, number-pool tests, and the
//! property test over random command sequences. The placement, balance and evacuation tests are
//! in their own files; every file builds its clusters with the one fixture module.

mod advise;
mod balance;
mod clone;
mod commands;
mod evacuate;
mod fixture;
mod migrate;
mod placement;
mod volumes;

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::model::{ConnectionStatus, SelectFilter};
use crate::model::{ProviderKind as PK, RscFlags};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::props::Level as L;
use crate::props::{Props, PropsModify};
use crate::rc::code;
use crate::size::SizeKib;
use fixture::*;

#[test]
fn new_cluster_has_defaults() {
    let (c, _) = cluster(0);
    assert!(
        c.state()
            .resource_groups
            .keys()
            .any(|g| g.as_str() == "DfltRscGrp")
    );
    assert!(
        c.state()
            .storage_pool_definitions
            .keys()
            .any(|p| p.as_str() == "DfltDisklessStorPool")
    );
    c.check_invariants().unwrap();
}

#[test]
fn node_commands() {
    let (mut c, mut e) = cluster(1);
    let n = NodeName::new("n1").unwrap();
    assert!(
        c.state().nodes[&n]
            .storage_pools
            .keys()
            .any(|p| p.as_str() == "DfltDisklessStorPool")
    );
    let modify = |name: &str, node_type: Option<&str>, props: serde_json::Value| json!({"cmd": "node_modify", "name": name, "node_type": node_type, "props": props});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                js(node("N1", "10.0.0.9")),
                Err((code::EXISTS_NODE, "already exists")),
            ),
            (
                js(node("-bad", "10.0.0.9")),
                Err((code::INVLD_NODE_NAME, "must start with")),
            ),
            (
                js(node("n2", "not-an-ip")),
                Err((code::INVLD_NET_ADDR, "neither an IPv4")),
            ),
            (js(node("n2", "fd00::2")), Ok(())),
            (
                json!({"cmd": "node_create", "name": "n3", "node_type": "Satellite", "net_interfaces": []}),
                Err((code::INVLD_NET_NAME, "no net interface")),
            ),
            (
                modify("n1", None, json!({"override_props": {"Aux/zone": "a"}})),
                Ok(()),
            ),
            (
                modify("n1", None, json!({"override_props": {"Bogus": "a"}})),
                Err((code::INVLD_PROP, "unknown property key")),
            ),
            (
                modify("n1", Some("Controller"), json!({})),
                Err((code::INVLD_NODE_TYPE, "diskful storage pools")),
            ),
            (
                modify("nx", None, json!({})),
                Err((code::NOT_FOUND_NODE, "not found")),
            ),
            (
                json!({"cmd": "net_if_delete", "node": "n1", "name": "default"}),
                Err((code::IN_USE, "last one")),
            ),
            (
                json!({"cmd": "net_if_create", "node": "n1", "netif":
                    {"name": "repl", "address": "192.168.1.1", "encryption": "Plain"}}),
                Ok(()),
            ),
            (
                json!({"cmd": "net_if_delete", "node": "n1", "name": "default"}),
                Ok(()),
            ),
        ],
    );
    assert_eq!(
        c.state().nodes[&n].props.get("CurStltConnName"),
        Some("repl")
    );
    let delete = json!({"cmd": "node_delete", "name": "n2"});
    check(&mut c, &mut e, cmd(delete), Ok(()));
    assert!(!c.state().nodes.contains_key(&NodeName::new("n2").unwrap()));
}

#[test]
fn storage_pool_commands() {
    let (mut c, mut e) = cluster(1);
    let sp = |name: &str, kind: &str, props: serde_json::Value| json!({"cmd": "stor_pool_create", "node": "n1", "name": name, "kind": kind, "props": props});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                sp("data", "LVM", json!({"StorDriver/StorPoolName": "vg1"})),
                Err((code::EXISTS_STOR_POOL, "already exists")),
            ),
            (
                sp("thin", "LVM_THIN", json!({})),
                Err((code::MISSING_PROPS, "StorDriver/StorPoolName")),
            ),
            (
                sp(
                    "thin",
                    "LVM_THIN",
                    json!({"StorDriver/StorPoolName": "vg0"}),
                ),
                Err((code::INVLD_PROP, "<volume group>/<thin pool>")),
            ),
            (
                sp(
                    "thin",
                    "LVM_THIN",
                    json!({"StorDriver/StorPoolName": "vg0/$(rm)"}),
                ),
                Err((code::INVLD_PROP, "thin pool")),
            ),
            // The legacy keys are rewritten.
            (
                sp(
                    "thin",
                    "LVM_THIN",
                    json!({"StorDriver/LvmVg": "vg0", "StorDriver/ThinPool": "tp"}),
                ),
                Ok(()),
            ),
        ],
    );
    let thin = c
        .state()
        .storage_pool(
            &NodeName::new("n1").unwrap(),
            &StorPoolName::new("thin").unwrap(),
        )
        .unwrap();
    assert_eq!(thin.props.get("StorDriver/StorPoolName"), Some("vg0/tp"));
    assert_eq!(thin.free_space_mgr_name, "n1;thin");
    let modify = |k: &str, v: &str| json!({"cmd": "stor_pool_modify", "node": "n1", "name": "thin", "props": {"override_props": {k: v}}});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "stor_pool_delete", "node": "n1", "name": "DfltDisklessStorPool"}),
                Err((code::IN_USE, "diskless pool")),
            ),
            (
                json!({"cmd": "stor_pool_dfn_delete", "name": "thin"}),
                Err((code::IN_USE, "n1")),
            ),
            (modify("MaxOversubscriptionRatio", "5"), Ok(())),
            (
                modify("StorDriver/StorPoolName", "x/y"),
                Err((code::INVLD_PROP, "cannot be changed")),
            ),
            (
                json!({"cmd": "stor_pool_delete", "node": "n1", "name": "thin"}),
                Ok(()),
            ),
            (
                json!({"cmd": "stor_pool_dfn_delete", "name": "thin"}),
                Ok(()),
            ),
            // Capability reports gate new pools.
            (
                json!({"cmd": "report_node", "node": "n1", "connection": "ONLINE", "capabilities": {
                "storage_providers": ["DISKLESS", "LVM"],
                "resource_layers": [],
                "unsupported_providers": {"ZFS": ["'zfs' kernel module is not loaded"]},
                "unsupported_layers": {}}}),
                Ok(()),
            ),
            (
                sp("zfs", "ZFS", json!({"StorDriver/StorPoolName": "tank"})),
                Err((
                    code::STLT_DOES_NOT_SUPPORT_PROVIDER,
                    "kernel module is not loaded",
                )),
            ),
            (
                json!({"cmd": "report_pool_capacity", "node": "n1", "pool": "data", "free": 10, "total": 5}),
                Err((code::INVLD_VLM_SIZE, "exceeds total")),
            ),
            (
                json!({"cmd": "report_pool_capacity", "node": "n1", "pool": "data", "free": 5, "total": 10}),
                Ok(()),
            ),
        ],
    );
}

#[test]
fn resource_lifecycle_and_two_phase_delete() {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "r1", 10);
    let r = |node: &str, pool: Option<&str>, diskless: bool| js(rsc("r1", node, pool, diskless));
    check_all(
        &mut c,
        &mut e,
        vec![
            (r("n1", Some("data"), false), Ok(())),
            (
                r("n1", Some("data"), false),
                Err((code::EXISTS_RSC, "at most one replica")),
            ),
            (
                r("n2", Some("DfltDisklessStorPool"), false),
                Err((code::INVLD_STOR_POOL_NAME, "diskful resource was requested")),
            ),
            (
                r("n2", Some("data"), true),
                Err((
                    code::INVLD_STOR_POOL_NAME,
                    "diskless resource was requested",
                )),
            ),
            (
                r("n2", None, false),
                Err((code::NOT_FOUND_STOR_POOL, "DfltStorPool")),
            ),
            (
                r("n2", Some("files"), false),
                Err((code::INVLD_STOR_DRIVER, "cannot be mixed")),
            ),
            // A pool named in the request, as LINSTOR loads it: unknown everywhere, or only
            // here, is FAIL_NOT_FOUND_STOR_POOL_DFN; an invalid name is an invalid pool name
            // (not an invalid `StorPoolName` property).
            (
                r("n2", Some("nosuchpool"), false),
                Err((
                    code::NOT_FOUND_STOR_POOL_DFN,
                    "definition 'nosuchpool' not found",
                )),
            ),
            (js(pool("n1", "extra", PK::LVM, "vg1")), Ok(())),
            (
                r("n2", Some("extra"), false),
                Err((
                    code::NOT_FOUND_STOR_POOL_DFN,
                    "'extra' on node 'n2' not found",
                )),
            ),
            (
                json!({"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n2",
                    "storage_pool": "-bad", "props": {"StorPoolName": "-bad"}}),
                Err((code::INVLD_STOR_POOL_NAME, "Invalid storage pool name")),
            ),
            (r("n2", Some("data"), false), Ok(())),
            (r("n3", None, true), Ok(())),
        ],
    );
    let r1 = ResourceName::new("r1").unwrap();
    let d = &c.state().resource_definitions[&r1];
    let ids: Vec<u8> = d.resources.values().map(|r| r.node_id).collect();
    assert_eq!(ids, vec![0, 1, 2]);
    assert!(d.resources.values().all(|r| *r.tcp_ports == [7000]));
    assert!(
        d.resources[&NodeName::new("n3").unwrap()]
            .flags
            .contains(RscFlags::DRBD_DISKLESS)
    );
    let confirmed = |n: &str| json!({"cmd": "resource_deleted", "rsc_dfn": "r1", "node": n});
    check_all(
        &mut c,
        &mut e,
        vec![
            // Delete is two-phase: the DELETE flag first, the numbers are freed on confirmation.
            (
                confirmed("n2"),
                Err((code::INVLD_REQUEST, "not marked for deletion")),
            ),
            (
                json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n2"}),
                Ok(()),
            ),
            (
                r("n2", Some("data"), false),
                Err((code::EXISTS_RSC, "being deleted")),
            ),
            (confirmed("n2"), Ok(())),
            (r("n2", Some("data"), false), Ok(())),
        ],
    );
    assert_eq!(
        c.state().resource_definitions[&r1].resources[&NodeName::new("n2").unwrap()].node_id,
        1,
        "node id reused"
    );
    check_all(
        &mut c,
        &mut e,
        vec![
            // Node delete is refused while it holds resources.
            (
                json!({"cmd": "node_delete", "name": "n1"}),
                Err((code::IN_USE, "r1")),
            ),
            (
                json!({"cmd": "stor_pool_delete", "node": "n1", "name": "data"}),
                Err((code::IN_USE, "resource r1")),
            ),
            // RD delete cascades (two-phase).
            (json!({"cmd": "rsc_dfn_delete", "name": "r1"}), Ok(())),
            (
                r("n2", Some("data"), false),
                Err((code::IN_USE, "being deleted")),
            ),
            (confirmed("n1"), Ok(())),
            (confirmed("n2"), Ok(())),
            (confirmed("n3"), Ok(())),
        ],
    );
    assert!(c.state().resource_definitions.is_empty());
    assert!(
        c.idx.minors.lowest_free(1000, 1000).is_some(),
        "minor freed"
    );
    let delete = json!({"cmd": "node_delete", "name": "n1"});
    check(&mut c, &mut e, cmd(delete), Ok(()));
}

#[test]
fn volume_definitions_and_resize() {
    let (mut c, mut e) = cluster(2);
    must(&mut c, &mut e, rd("r1"));
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    let vdc = |number: Option<u16>, size: u64, minor: Option<u32>| json!({"cmd": "vlm_dfn_create", "rsc_dfn": "r1", "number": number, "size": size, "minor": minor});
    check_all(
        &mut c,
        &mut e,
        vec![
            (js(vd("r1", 1)), Ok(())),
            (
                vdc(Some(0), 1, None),
                Err((code::EXISTS_VLM_DFN, "already exists")),
            ),
            (
                vdc(None, 0, None),
                Err((code::INVLD_VLM_SIZE, "at least 1 KiB")),
            ),
            (
                vdc(None, 1, Some(1000)),
                Err((code::INVLD_MINOR_NR, "already in use")),
            ),
            (
                vdc(None, 1, Some(1 << 20)),
                Err((code::INVLD_MINOR_NR, "Invalid minor")),
            ),
            (js(vd("r1", 2)), Ok(())),
        ],
    );
    let r1 = &c.state().resource_definitions[&ResourceName::new("r1").unwrap()];
    assert_eq!(
        r1.volume_definitions
            .values()
            .map(|v| v.minor)
            .collect::<Vec<_>>(),
        vec![1000, 1001]
    );
    assert_eq!(
        r1.resources.values().next().unwrap().volumes.len(),
        2,
        "existing resources get the new volume"
    );
    assert_eq!(
        r1.volume_definitions[&0]
            .props
            .get("DrbdCurrentGi")
            .map(str::len),
        Some(16)
    );
    let resize = |number: u16, size: u64| json!({"cmd": "vlm_dfn_resize", "rsc_dfn": "r1", "number": number, "size": size});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                resize(0, 1 << 19),
                Err((code::INVLD_VLM_SIZE, "cannot shrink")),
            ),
            (resize(0, 2 << 20), Ok(())),
            (
                resize(7, 2 << 20),
                Err((code::NOT_FOUND_VLM_DFN, "not found")),
            ),
        ],
    );
}

#[test]
fn number_pool_exhaustion_and_reuse() {
    let set = |cmd: &str, name: Option<&str>, k: &str, v: &str| {
        let mut c = json!({"cmd": cmd, "props": {"override_props": {k: v}}});
        if let Some(name) = name {
            c["name"] = json!(name);
        }
        c
    };
    // Minors: a range of 3.
    let (mut c, mut e) = cluster(2);
    let minors = set("ctrl_props_modify", None, "MinorNrAutoRange", "2000-2002");
    must(&mut c, &mut e, cmd(minors));
    must(&mut c, &mut e, rd("r1"));
    for _ in 0..3 {
        must(&mut c, &mut e, vd("r1", 1));
    }
    check(
        &mut c,
        &mut e,
        vd("r1", 1),
        Err((code::POOL_EXHAUSTED_MINOR_NR, "MinorNrAutoRange 2000-2002")),
    );
    // Ports: a range of 2 on node n1 (node level wins over controller).
    let ports = set("ctrl_props_modify", None, "TcpPortAutoRange", "7000-7999");
    must(&mut c, &mut e, cmd(ports));
    let ports = set("node_modify", Some("n1"), "TcpPortAutoRange", "7100-7101");
    must(&mut c, &mut e, cmd(ports));
    for r in ["a1", "a2", "a3"] {
        must(&mut c, &mut e, rd(r));
    }
    check_all(
        &mut c,
        &mut e,
        vec![
            (js(rsc("a1", "n1", Some("data"), false)), Ok(())),
            (js(rsc("a2", "n1", Some("data"), false)), Ok(())),
            (
                js(rsc("a3", "n1", Some("data"), false)),
                Err((code::POOL_EXHAUSTED_TCP_PORT, "TcpPortAutoRange 7100-7101")),
            ),
            (js(rsc("a3", "n2", Some("data"), false)), Ok(())),
        ],
    );
    assert_eq!(
        c.state().resource_definitions[&ResourceName::new("a3").unwrap()]
            .resources
            .values()
            .next()
            .unwrap()
            .tcp_ports
            .as_slice(),
        [7000]
    );
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "rsc_delete", "rsc_dfn": "a1", "node": "n1"}),
                Ok(()),
            ),
            (
                js(rsc("a3", "n1", None, true)),
                Err((code::POOL_EXHAUSTED_TCP_PORT, "7100-7101")),
            ),
            (
                json!({"cmd": "resource_deleted", "rsc_dfn": "a1", "node": "n1"}),
                Ok(()),
            ),
            (js(rsc("a3", "n1", None, true)), Ok(())),
        ],
    );
    // Node ids: 32 per resource definition; peer slots guard first, so raise them.
    let (mut c, mut e) = cluster(33);
    let big = json!({"cmd": "rsc_dfn_create", "name": "big", "peer_slots": 31});
    must(&mut c, &mut e, cmd(big));
    for i in 1..=32 {
        must(&mut c, &mut e, rsc("big", &format!("n{i}"), None, true));
    }
    check(
        &mut c,
        &mut e,
        rsc("big", "n33", None, true),
        Err((code::INSUFFICIENT_PEER_SLOTS, "peer slots")),
    );
    let mut ids = BTreeSet::new();
    for r in c.state().resource_definitions[&ResourceName::new("big").unwrap()]
        .resources
        .values()
    {
        assert!(ids.insert(r.node_id));
    }
    assert_eq!(ids.len(), 32);
    assert_eq!(*ids.last().unwrap(), 31);
    let (mut c, mut e) = cluster(3);
    let small = json!({"cmd": "rsc_dfn_create", "name": "small", "peer_slots": 1});
    check_all(
        &mut c,
        &mut e,
        vec![
            (small, Ok(())),
            (js(rsc("small", "n1", None, true)), Ok(())),
            (js(rsc("small", "n2", None, true)), Ok(())),
            (
                js(rsc("small", "n3", None, true)),
                Err((code::INSUFFICIENT_PEER_SLOTS, "1 peer slots")),
            ),
        ],
    );
}

#[test]
fn groups_spawn_and_cascades() {
    let (mut c, mut e) = cluster(3);
    let rg = |filter: serde_json::Value, props: serde_json::Value| {
        json!({"cmd": "rsc_grp_create", "name": "sc1", "description": "fast",
            "select_filter": filter, "props": props, "peer_slots": 5})
    };
    let spawn = |rd: &str, sizes: &[u64], nodes: &[&str]| {
        let sizes: Vec<u64> = sizes.iter().map(|g| g << 20).collect();
        let nodes: Vec<serde_json::Value> = nodes.iter().map(|n| json!({"node": n})).collect();
        json!({"cmd": "spawn", "rsc_grp": "sc1", "rsc_dfn": rd, "volume_sizes": sizes, "nodes": nodes})
    };
    let vg = json!({"cmd": "vlm_grp_create", "rsc_grp": "sc1"});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                rg(json!({"place_count": 0}), json!({})),
                Err((code::INVLD_PLACE_COUNT, "place count 0")),
            ),
            (
                rg(json!({"not_place_with_rsc_regex": "("}), json!({})),
                Err((code::INVLD_REQUEST, "regular expression")),
            ),
            (rg(json!({}), json!({"StorPoolName": "data"})), Ok(())),
            (vg.clone(), Ok(())),
            (vg, Ok(())),
            (
                spawn("p1", &[1], &["n1"]),
                Err((code::INVLD_VLM_SIZES, "1 sizes given for 2 volume groups")),
            ),
            (
                spawn("p1", &[1, 2], &["n1", "n2", "nope"]),
                Err((code::NOT_FOUND_NODE, "nope")),
            ),
            (spawn("p1", &[1, 2], &["n1", "n2"]), Ok(())),
        ],
    );
    let p1 = &c.state().resource_definitions[&ResourceName::new("p1").unwrap()];
    assert_eq!(p1.drbd.peer_slots, 5);
    assert_eq!(p1.volume_definitions.len(), 2);
    assert_eq!(p1.resources.len(), 2);
    let pools = p1.resources.values().flat_map(|r| r.volumes.values());
    assert!(
        pools.map(|v| v.storage_pool.as_str()).all(|p| p == "data"),
        "pool from the RG's StorPoolName"
    );
    check_all(
        &mut c,
        &mut e,
        vec![
            (spawn("p2", &[1, 2], &[]), Ok(())),
            (
                json!({"cmd": "rsc_grp_delete", "name": "sc1"}),
                Err((code::EXISTS_RSC_DFN, "p1")),
            ),
            (
                json!({"cmd": "rsc_grp_delete", "name": "DfltRscGrp"}),
                Err((code::IN_USE, "built in")),
            ),
            (json!({"cmd": "rsc_dfn_delete", "name": "p2"}), Ok(())),
            (
                json!({"cmd": "rsc_dfn_modify", "name": "p1", "rsc_grp": "DfltRscGrp"}),
                Ok(()),
            ),
        ],
    );
    let o = must(&mut c, &mut e, Command::RscGrpDelete { name: "sc1".into() });
    assert_eq!(
        o.changes.deleted.len(),
        3,
        "group and its two volume groups: {:?}",
        o.changes
    );
}

#[test]
fn snapshots_and_restore() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    let snap =
        |rd: &str, name: &str| json!({"cmd": "snapshot_create", "rsc_dfn": rd, "name": name});
    let restore = |target: &str, nodes: &[&str]| json!({"cmd": "snapshot_restore", "rsc_dfn": "r2", "snapshot": "s1", "target": target, "nodes": nodes});
    check(
        &mut c,
        &mut e,
        cmd(snap("r1", "s1")),
        Err((code::SNAPSHOTS_NOT_SUPPORTED, "cannot take snapshots")),
    );
    rd_vd(&mut c, &mut e, "r2", 1);
    must(&mut c, &mut e, rsc("r2", "n1", Some("files"), false));
    must(&mut c, &mut e, rsc("r2", "n2", Some("files"), false));
    // Satellites take snapshots: none connected, or a named one offline, is FAIL_NOT_CONNECTED.
    let on = |node: &str| json!({"cmd": "snapshot_create", "rsc_dfn": "r2", "name": "s0", "nodes": [node]});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                snap("r2", "s1"),
                Err((code::NOT_CONNECTED, "No diskful connected satellite")),
            ),
            (
                json!({"cmd": "report_node", "node": "n1", "connection": "ONLINE"}),
                Ok(()),
            ),
            (
                on("n2"),
                Err((code::NOT_CONNECTED, "Node 'n2' is not connected")),
            ),
        ],
    );
    // Without named nodes, an offline replica is left out with a warning.
    let o = must(&mut c, &mut e, cmd(snap("r2", "s0")));
    assert!(
        o.rc.0
            .iter()
            .any(|x| x.code == code::WARN_NOT_CONNECTED && x.message.contains("'n2'")),
        "{}",
        o.rc
    );
    let s0 = &c.state().resource_definitions[&ResourceName::new("r2").unwrap()].snapshots;
    let s0 = &s0[&crate::name::SnapshotName::new("s0").unwrap()];
    assert_eq!(
        s0.snapshots.keys().map(|n| n.as_str()).collect::<Vec<_>>(),
        ["n1"]
    );
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "snapshot_delete", "rsc_dfn": "r2", "name": "s0"})),
    );
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "report_node", "node": "n2", "connection": "ONLINE"}),
                Ok(()),
            ),
            (snap("r2", "s1"), Ok(())),
            (
                snap("r2", "S1"),
                Err((code::EXISTS_SNAPSHOT_DFN, "already exists")),
            ),
            (
                json!({"cmd": "rsc_dfn_delete", "name": "r2"}),
                Err((code::EXISTS_SNAPSHOT_DFN, "because it has snapshots")),
            ),
            (
                json!({"cmd": "node_delete", "name": "n2"}),
                Err((code::IN_USE, "r2/s1")),
            ),
            (
                restore("r1", &[]),
                Err((code::EXISTS_RSC, "already has resources")),
            ),
            (restore("r3", &["n1"]), Ok(())),
        ],
    );
    let r3 = &c.state().resource_definitions[&ResourceName::new("r3").unwrap()];
    assert_eq!(r3.resources.len(), 1);
    assert_eq!(r3.volume_definitions[&0].size, SizeKib(1 << 20));
    assert_eq!(r3.props.get("Internal/RestoreFrom/Snapshot"), Some("s1"));
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "snapshot_delete", "rsc_dfn": "r2", "name": "s1"}),
                Ok(()),
            ),
            (json!({"cmd": "rsc_dfn_delete", "name": "r2"}), Ok(())),
        ],
    );
}

#[test]
fn kvs_and_ctrl_props_and_quorum_marker() {
    let (mut c, mut e) = cluster(0);
    let ctrl = |props: serde_json::Value| json!({"cmd": "ctrl_props_modify", "props": props});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "kvs_modify", "name": "csi-backup-mapping",
                    "props": {"override_props": {"anything": "goes"}}}),
                Ok(()),
            ),
            (json!({"cmd": "kvs_delete", "name": "nope-x"}), Ok(())),
            (
                json!({"cmd": "kvs_delete", "name": "csi-backup-mapping"}),
                Ok(()),
            ),
            (
                ctrl(json!({"override_props": {"DrbdOptions/Resource/quorum": "majority"}})),
                Ok(()),
            ),
        ],
    );
    assert_eq!(
        c.state().ctrl_props.get("Internal/Drbd/QuorumSetBy"),
        Some("user")
    );
    let delete = ctrl(json!({"delete_props": ["DrbdOptions/Resource/quorum"]}));
    check(&mut c, &mut e, cmd(delete), Ok(()));
    assert_eq!(c.state().ctrl_props.get("Internal/Drbd/QuorumSetBy"), None);
    let delete = ctrl(json!({"delete_props": ["Internal/Drbd/QuorumSetBy"]}));
    check(
        &mut c,
        &mut e,
        cmd(delete),
        Err((code::INVLD_PROP, "reserved")),
    );
}

#[test]
fn groups_with_pools_no_node_has_are_kept_with_a_warning() {
    // LINSTOR's addUnknownStoragePoolWarning: on create, and on modify of the filter.
    let (mut c, mut e) = cluster(1);
    let warning = |o: &Outcome| {
        o.rc.0
            .iter()
            .find(|x| x.code == code::WARN_NOT_FOUND)
            .map(|x| x.message.clone())
    };
    let create = json!({"cmd": "rsc_grp_create", "name": "g1",
        "select_filter": {"storage_pool_list": ["data", "nosuchpool"],
            "storage_pool_diskless_list": ["files"]}});
    let o = must(&mut c, &mut e, cmd(create));
    let w = warning(&o).expect("a warning");
    assert!(w.contains("do not exist on any node: nosuchpool"), "{w}");
    assert!(
        w.contains(
            "diskful, but are wrongly configured to be used for diskless autoplacements: files"
        ),
        "{w}"
    );
    assert!(!w.contains("data"), "{w}");
    let modify = |pools: Value| {
        json!({"cmd": "rsc_grp_modify", "name": "g1",
            "select_filter": {"storage_pool_list": pools, "storage_pool_diskless_list": []}})
    };
    let o = must(&mut c, &mut e, cmd(modify(json!(["data"]))));
    assert_eq!(warning(&o), None, "{}", o.rc);
    let o = must(&mut c, &mut e, cmd(modify(json!(["DfltDisklessStorPool"]))));
    let w = warning(&o).expect("a warning");
    assert!(w.contains("diskless, but are wrongly configured to be used for diskful autoplacements: DfltDisklessStorPool"), "{w}");
}

#[test]
fn kvs_keys_are_free_form_paths_from_the_root() {
    // python-linstor's `linstor.KV` writes `/<namespace>/<key>` and deletes the same key; the
    // store keeps the path without the root '/' (the client adds it back when it reads).
    let (mut c, mut e) = cluster(0);
    let kvs = |props: serde_json::Value| json!({"cmd": "kvs_modify", "name": "kv", "props": props});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                kvs(
                    json!({"override_props": {"/x": "1", "/ns/key with blanks": "2",
                    "Internal/own": "3"}}),
                ),
                Ok(()),
            ),
            (
                kvs(json!({"delete_props": ["/x", "Internal/own", "/gone"]})),
                Ok(()),
            ),
            (
                kvs(json!({"override_props": {"/": "1"}})),
                Err((code::INVLD_PROP, "besides '/'")),
            ),
        ],
    );
    let kv = c
        .state()
        .key_value_stores
        .values()
        .next()
        .expect("the store");
    let keys: Vec<_> = kv.props.iter().collect();
    assert_eq!(keys, [("ns/key with blanks", "2")]);
    check(
        &mut c,
        &mut e,
        cmd(kvs(json!({"delete_namespaces": ["/ns/"]}))),
        Ok(()),
    );
    let kv = c
        .state()
        .key_value_stores
        .values()
        .next()
        .expect("the store");
    assert!(kv.props.is_empty(), "{kv:?}");
}

/// Handlers take any text, so each level can write its own name as the value.
const CHAIN_KEY: &str = "DrbdOptions/Handlers/split-brain";

/// Group `grp` with volume group 0, definition `rr` in it with one volume, a resource on n1;
/// [`CHAIN_KEY`] set on the controller, n1, `grp` and `rr` (each to its level's name).
fn chain_cluster() -> (Cluster, SeededEnv, ResourceName, NodeName) {
    let (mut c, mut e) = cluster(1);
    let key = CHAIN_KEY;
    for cmd in [
        json!({"cmd": "rsc_grp_create", "name": "grp"}),
        json!({"cmd": "vlm_grp_create", "rsc_grp": "grp", "number": 0}),
        json!({"cmd": "rsc_dfn_create", "name": "rr", "rsc_grp": "grp"}),
        json!({"cmd": "ctrl_props_modify", "props": {"override_props": {key: "c"}}}),
        json!({"cmd": "node_modify", "name": "n1", "props": {"override_props": {key: "n"}}}),
        json!({"cmd": "rsc_grp_modify", "name": "grp", "props": {"override_props": {key: "rg"}}}),
        json!({"cmd": "rsc_dfn_modify", "name": "rr", "props": {"override_props": {key: "rd"}}}),
    ] {
        let out = c.execute_json(&cmd.to_string(), &mut e);
        assert!(!out.is_error(), "{cmd}: {out:?}");
    }
    must(&mut c, &mut e, vd("rr", 1));
    must(&mut c, &mut e, rsc("rr", "n1", Some("data"), false));
    let (rn, nn) = (
        ResourceName::new("rr").unwrap(),
        NodeName::new("n1").unwrap(),
    );
    (c, e, rn, nn)
}

#[test]
fn chains_pick_the_most_specific_level() {
    let (mut c, mut e, rn, nn) = chain_cluster();
    let key = CHAIN_KEY;
    let ch = c.chains();
    assert_eq!(
        ch.drbd_resource(&rn, &nn).get_with_level(key),
        Some(("rd", L::RscDfn))
    );
    assert_eq!(
        ch.drbd_resource(&rn, &nn).overridden(key),
        vec![(L::RscGrp, "rg"), (L::Node, "n"), (L::Controller, "c")]
    );
    assert_eq!(
        ch.drbd_volume(&rn, &nn, 0).get_with_level(key),
        Some(("rd", L::RscDfn))
    );
    assert_eq!(
        ch.drbd_connection(&rn).get_with_level(key),
        Some(("rd", L::RscDfn))
    );
    // Removing the RD value exposes the group's.
    let del = json!({"cmd": "rsc_dfn_modify", "name": "rr", "props": {"delete_props": [key]}});
    assert!(!c.execute_json(&del.to_string(), &mut e).is_error());
    assert_eq!(
        c.chains().drbd_resource(&rn, &nn).get_with_level(key),
        Some(("rg", L::RscGrp))
    );
}

#[test]
fn chain_levels_per_consumer_follow_linstor() {
    let (c, _, rn, nn) = chain_cluster();
    let ch = c.chains();
    let dp = StorPoolName::new("data").unwrap();
    let req = Props::new();
    let lv = |p: crate::props::PriorityProps<'_>| p.levels().collect::<Vec<_>>();
    use L::*;
    let table: Vec<(&str, Vec<L>, Vec<L>)> = vec![
        (
            "rsc_dfn_policy",
            lv(ch.rsc_dfn_policy(&rn)),
            vec![RscDfn, RscGrp, Controller],
        ),
        (
            "drbd_resource",
            lv(ch.drbd_resource(&rn, &nn)),
            vec![Rsc, RscDfn, RscGrp, Node, Controller],
        ),
        (
            "drbd_volume",
            lv(ch.drbd_volume(&rn, &nn, 0)),
            vec![Vlm, Rsc, VlmDfn, VlmGrp, RscDfn, RscGrp, Node, Controller],
        ),
        (
            "stor_driver",
            lv(ch.stor_driver(&rn, &nn, 0)),
            vec![
                Vlm, Rsc, StorPool, Node, VlmDfn, RscDfn, VlmGrp, RscGrp, Controller,
            ],
        ),
        (
            "stor_pool_name",
            lv(ch.stor_pool_name(&rn, &nn, &req, Some(0))),
            vec![Rsc, VlmDfn, RscDfn, RscGrp, Node],
        ),
        (
            "oversubscription",
            lv(ch.oversubscription(&nn, &dp)),
            vec![StorPool, StorPoolDfn, Controller],
        ),
        (
            "min_thin_free_space",
            lv(ch.min_thin_free_space(&nn, &dp, &rn)),
            vec![StorPool, RscDfn, RscGrp, Node, Controller],
        ),
        (
            "skip_disk",
            lv(ch.skip_disk(&rn, &nn)),
            vec![Rsc, StorPool, Node, RscDfn, Controller],
        ),
        (
            "pref_nic",
            lv(ch.pref_nic(&rn, &nn)),
            vec![StorPool, Rsc, RscDfn, RscGrp, Node, Controller],
        ),
        (
            "node_policy",
            lv(ch.node_policy(&nn)),
            vec![Node, Controller],
        ),
    ];
    for (name, got, want) in table {
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn stor_pool_name_prefers_the_request_then_the_node() {
    let (mut c, mut e, rn, nn) = chain_cluster();
    let req: Props = [("StorPoolName", "from-rsc")].into_iter().collect();
    let modify = json!({"cmd": "node_modify", "name": "n1",
        "props": {"override_props": {"StorPoolName": "from-node"}}});
    must(&mut c, &mut e, cmd(modify));
    let none = Props::new();
    for (request, want) in [(&req, "from-rsc"), (&none, "from-node")] {
        let chain = c.chains().stor_pool_name(&rn, &nn, request, Some(0));
        assert_eq!(chain.get("StorPoolName"), Some(want));
    }
}

#[test]
fn state_roundtrips_and_outcomes_are_deterministic() {
    let build = || {
        let (mut c, mut e) = cluster(3);
        rd_vd(&mut c, &mut e, "r1", 1);
        must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
        c
    };
    let (a, b) = (build(), build());
    assert_eq!(a.to_json(), b.to_json());
    let back = Cluster::from_json(&a.to_json()).unwrap();
    assert_eq!(back, a);
    assert!(Cluster::from_json("{\"nodes\": 5}").is_err());
    assert!(Cluster::from_json("[]").is_err());
}

#[test]
fn loading_an_inconsistent_state_is_refused() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    rd_vd(&mut c, &mut e, "r2", 1);
    let json = c.to_json().replace("\"minor\":1001", "\"minor\":1000");
    let err = Cluster::from_json(&json).unwrap_err().to_string();
    assert!(err.contains("minor 1000"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Property test: random command sequences, valid and invalid, never break the invariants.

const NODES: &[&str] = &["n1", "n2", "n3", "n4", "bad name"];
const RDS: &[&str] = &["r1", "r2", "r1", "r2", "r3", "-x"];
const POOLS: &[&str] = &["data", "files", "DfltDisklessStorPool", "nope"];

/// A marker step of the random sequences (see `random_sequences_keep_invariants`).
const SETTLED: &str = "settled-marker";

/// Properties the placer reads, and values (valid or not for each key).
const PLACER_KEYS: &[&str] = &[
    "Aux/zone",
    "AutoplaceTarget",
    "Autoplacer/MinThinFreeSpace",
    "MaxOversubscriptionRatio",
    "MaxTotalCapacityOversubscriptionRatio",
];
const PLACER_VALUES: &[&str] = &["a", "b", "false", "true", "1", "50%", "2.5"];

fn placer_props(key: &str, value: &str, delete: bool) -> PropsModify {
    if delete {
        PropsModify {
            delete_props: vec![key.into()],
            ..Default::default()
        }
    } else {
        PropsModify::set([(key, value)])
    }
}

/// Every kind of command over a small universe of names, in four families (weights as one
/// flat list would give them).
fn arb_command() -> impl Strategy<Value = Command> {
    prop_oneof![
        14 => arb_build_command(),
        21 => arb_lifecycle_command(),
        10 => arb_placer_command(),
        15 => arb_maintenance_command(),
        14 => arb_client_command(),
    ]
}

/// A property change for the commands below: a free key, an unknown one, a DRBD option, a
/// connection path, or a deletion.
fn arb_props() -> impl Strategy<Value = PropsModify> {
    prop_oneof![
        3 => Just(PropsModify::set([("Aux/a", "b")])),
        1 => Just(PropsModify::set([("Bogus", "b")])),
        1 => Just(PropsModify::set([("DrbdOptions/Net/max-buffers", "8000")])),
        1 => proptest::sample::select(NODES)
            .prop_map(|n| PropsModify::set([(format!("Paths/p1/{n}"), "default".to_owned())])),
        2 => Just(PropsModify { delete_props: vec!["Aux/a".into()], ..Default::default() }),
    ]
}

/// The commands clients use on deployed resources, volume definitions and groups,
/// connections and snapshots.
fn arb_client_command() -> impl Strategy<Value = Command> {
    let node = proptest::sample::select(NODES).prop_map(str::to_owned);
    let rd = proptest::sample::select(RDS).prop_map(str::to_owned);
    let snap = proptest::sample::select(&["s1", "s2"][..]).prop_map(str::to_owned);
    let op = proptest::sample::select(
        &[
            ToggleDiskOp::IntoDrbdDiskful,
            ToggleDiskOp::IntoDrbdDiskless,
            ToggleDiskOp::IntoDrbdClient,
        ][..],
    );
    let pool = proptest::option::of(proptest::sample::select(POOLS).prop_map(str::to_owned));
    prop_oneof![
        1 => node.clone().prop_map(|n| Command::NodeReconnect { name: n }),
        1 => (node.clone(), node.clone(), arb_props())
            .prop_map(|(a, b, props)| Command::NodeConnModify { node_a: a, node_b: b, props }),
        1 => (rd.clone(), node.clone(), node.clone(), arb_props())
            .prop_map(|(r, a, b, props)| Command::RscConnModify { rsc_dfn: r, node_a: a, node_b: b, props }),
        1 => (0u16..2, arb_props(), proptest::option::of(proptest::bool::ANY))
            .prop_map(|(nr, props, g)| Command::VlmGrpModify { rsc_grp: "DfltRscGrp".into(), number: nr, props, gross_size: g }),
        1 => (rd.clone(), 0u16..2, arb_props(), proptest::option::of(1u64..4))
            .prop_map(|(r, nr, props, g)| Command::VlmDfnModify { rsc_dfn: r, number: nr, props, size: g.map(|g| SizeKib(g << 20)) }),
        1 => (rd.clone(), 0u16..2).prop_map(|(r, nr)| Command::VlmDfnDelete { rsc_dfn: r, number: nr }),
        1 => (rd.clone(), node.clone(), arb_props(), proptest::option::of(proptest::bool::ANY), proptest::option::of(proptest::bool::ANY))
            .prop_map(|(r, n, props, t, cl)| Command::RscModify { rsc_dfn: r, node: n, props, drbd_tiebreaker: t, drbd_client: cl }),
        1 => (rd.clone(), node.clone(), 0u16..2, arb_props())
            .prop_map(|(r, n, nr, props)| Command::VlmModify { rsc_dfn: r, node: n, number: nr, props }),
        2 => (rd.clone(), rd.clone(), arb_props(), proptest::option::of(proptest::sample::select(&["DfltRscGrp", "nope"][..])))
            .prop_map(|(r, t, props, g)| Command::RscDfnClone {
                rsc_dfn: r,
                name: t,
                external_name: None,
                rsc_grp: g.map(str::to_owned),
                layer_stack: None,
                use_zfs_clone: None,
                props,
            }),
        2 => (rd.clone(), node.clone(), proptest::bool::weighted(0.3))
            .prop_map(|(r, n, d)| Command::RscMakeAvailable { rsc_dfn: r, node: n, diskful: d, layer_list: None }),
        2 => (rd.clone(), node.clone(), op, pool, proptest::option::weighted(0.3, node.clone()))
            .prop_map(|(r, n, o, p, m)| Command::RscToggleDisk { rsc_dfn: r, node: n, operation: o, storage_pool: p, migrate_from: m }),
        1 => (rd.clone(), node.clone(), proptest::bool::ANY).prop_map(|(r, n, on)| if on {
            Command::RscActivate { rsc_dfn: r, node: n }
        } else {
            Command::RscDeactivate { rsc_dfn: r, node: n }
        }),
        1 => proptest::collection::vec((rd.clone(), snap.clone()), 0..3).prop_map(|v| Command::SnapshotCreateMulti {
            snapshots: v.into_iter().map(|(r, s)| SnapshotSpec { rsc_dfn: r, name: s, nodes: vec![], props: BTreeMap::new() }).collect(),
        }),
        1 => (rd.clone(), snap.clone(), rd.clone())
            .prop_map(|(r, s, t)| Command::SnapshotRestoreVlmDfn { rsc_dfn: r, snapshot: s, target: t }),
        1 => (rd.clone(), snap).prop_map(|(r, s)| Command::SnapshotRollback { rsc_dfn: r, snapshot: s }),
    ]
}

/// Nodes, pools, definitions and resources, placed by hand, autoplaced or spawned.
fn arb_build_command() -> impl Strategy<Value = Command> {
    let node = proptest::sample::select(NODES).prop_map(str::to_owned);
    let rd = proptest::sample::select(RDS).prop_map(str::to_owned);
    let pool = proptest::sample::select(POOLS).prop_map(str::to_owned);
    prop_oneof![
        3 => (rd.clone(), node.clone(), proptest::sample::select(&[Some("data"), Some("files"), Some("files"), None][..]), proptest::bool::weighted(0.2))
            .prop_map(|(r, n, p, d)| rsc(&r, &n, if d { None } else { p.or(Some("files")) }, d)),
        2 => rd.clone().prop_map(|r| self::rd(&r)),
        2 => (rd.clone(), 1u64..3).prop_map(|(r, g)| Command::VlmDfnCreate { rsc_dfn: r, number: None, size: SizeKib(g << 20), minor: None, props: BTreeMap::new() }),
        1 => (node.clone(), 1u8..5).prop_map(|(n, i)| self::node(&n, &format!("10.0.1.{i}"))),
        1 => (
            node.clone(),
            pool.clone(),
            proptest::sample::select(&[PK::LVM, PK::FILE_THIN, PK::ZFS, PK::DISKLESS][..])
        )
            .prop_map(|(n, p, k)| self::pool(
                &n,
                &p,
                k,
                if matches!(k, PK::FILE_THIN) {
                    "/srv/p"
                } else {
                    "vg0"
                }
            )),
        3 => (rd.clone(), 1u32..4, proptest::option::of(proptest::sample::select(&["data", "files"][..])), proptest::bool::weighted(0.3)).prop_map(|(r, n, p, dl)| Command::RscAutoplace {
            rsc_dfn: r,
            select_filter: SelectFilter {
                place_count: Some(n),
                storage_pool_list: p.map(|p| vec![StorPoolName::new(p).expect("valid")]),
                diskless_on_remaining: Some(dl),
                ..Default::default()
            },
        }),
        2 => (rd.clone(), 1u32..4).prop_map(|(r, n)| Command::RscGrpSpawn {
            rsc_grp: "DfltRscGrp".into(),
            rsc_dfn: r,
            external_name: None,
            volume_sizes: vec![SizeKib(1 << 20)],
            partial: false,
            nodes: vec![],
            select_filter: Some(SelectFilter { place_count: Some(n), ..Default::default() }),
            definitions_only: false,
            peer_slots: None,
            rsc_dfn_props: BTreeMap::new(),
        }),
    ]
}

/// Deletions, node loss, sizes, snapshots and number ranges.
fn arb_lifecycle_command() -> impl Strategy<Value = Command> {
    let node = proptest::sample::select(NODES).prop_map(str::to_owned);
    let rd = proptest::sample::select(RDS).prop_map(str::to_owned);
    let pool = proptest::sample::select(POOLS).prop_map(str::to_owned);
    prop_oneof![
        1 => node.clone().prop_map(|n| Command::NodeDelete { name: n }),
        1 => node.clone().prop_map(|n| Command::NodeLost { name: n }),
        1 => Just(Command::NodeLost { name: "n1".into() }),
        1 => (node.clone(), pool.clone())
            .prop_map(|(n, p)| Command::StorPoolDelete { node: n, name: p }),
        1 => rd.clone().prop_map(|r| self::rd(&r)),
        1 => rd.clone().prop_map(|r| Command::RscDfnDelete { name: r }),
        1 => (rd.clone(), 0u64..3).prop_map(|(r, g)| Command::VlmDfnCreate {
            rsc_dfn: r,
            number: None,
            size: SizeKib(g << 20),
            minor: None,
            props: BTreeMap::new()
        }),
        1 => (rd.clone(), 0u16..3, 0u64..4).prop_map(|(r, n, g)| Command::VlmDfnResize {
            rsc_dfn: r,
            number: n,
            size: SizeKib(g << 20)
        }),
        1 => (
            rd.clone(),
            node.clone(),
            proptest::option::of(pool.clone()),
            proptest::bool::ANY
        )
            .prop_map(|(r, n, p, d)| rsc(&r, &n, p.as_deref(), d)),
        1 => (rd.clone(), node.clone()).prop_map(|(r, n)| Command::RscDelete {
            rsc_dfn: r,
            node: n
        }),
        1 => (rd.clone(), node.clone()).prop_map(|(r, n)| Command::RscDeleteConfirmed {
            rsc_dfn: r,
            node: n
        }),
        4 => (rd.clone(), proptest::sample::select(&["s1", "s2"][..])).prop_map(|(r, s)| {
            Command::SnapshotCreate {
                rsc_dfn: r,
                name: s.into(),
                nodes: vec![],
            }
        }),
        1 => (rd.clone(), proptest::sample::select(&["s1", "s2"][..])).prop_map(|(r, s)| {
            Command::SnapshotDelete {
                rsc_dfn: r,
                name: s.into(),
            }
        }),
        2 => (rd.clone(), rd.clone()).prop_map(|(r, t)| Command::SnapshotRestore {
            rsc_dfn: r,
            snapshot: "s1".into(),
            target: t,
            nodes: vec![]
        }),
        1 => (
            rd.clone(),
            proptest::collection::vec(proptest::sample::select(NODES), 0..3)
        )
            .prop_map(|(r, ns)| Command::RscGrpSpawn {
                rsc_grp: "DfltRscGrp".into(),
                rsc_dfn: r,
                external_name: None,
                volume_sizes: vec![SizeKib(1 << 20)],
                partial: false,
                nodes: ns
                    .into_iter()
                    .map(|n| NodePlacement {
                        node: n.into(),
                        storage_pool: Some("data".into()),
                        diskless: false
                    })
                    .collect(),
                select_filter: None,
                definitions_only: false,
                peer_slots: None,
                rsc_dfn_props: BTreeMap::new(),
            }),
        1 => proptest::sample::select(&["7000-7001", "7000-7999", "9-1", "x"][..]).prop_map(|r| {
            Command::CtrlPropsModify {
                props: PropsModify::set([("TcpPortAutoRange", r)]),
            }
        }),
        1 => proptest::sample::select(&["1000-1002", "1000-49999"][..]).prop_map(|r| {
            Command::CtrlPropsModify {
                props: PropsModify::set([("MinorNrAutoRange", r)]),
            }
        }),
    ]
}

/// What the placer's cached view reads (observed state, node, pool, pool definition and controller properties), then placements that read it.
fn arb_placer_command() -> impl Strategy<Value = Command> {
    let node = proptest::sample::select(NODES).prop_map(str::to_owned);
    let rd = proptest::sample::select(RDS).prop_map(str::to_owned);
    let pool = proptest::sample::select(POOLS).prop_map(str::to_owned);
    prop_oneof![
        // What the placer's cached view reads: observed state, node and pool properties,
        // storage pool definitions and controller properties; then placements that read them.
        2 => (node.clone(), pool.clone(), 0u64..5, 1u64..5).prop_map(|(n, p, f, t)| Command::StorPoolReport {
            node: n,
            pool: p,
            free: SizeKib(f << 20),
            total: SizeKib(t << 20),
        }),
        1 => (node.clone(), proptest::bool::weighted(0.7), proptest::bool::ANY).prop_map(|(n, on, caps)| Command::NodeReport {
            node: n,
            connection: if on { ConnectionStatus::ONLINE } else { ConnectionStatus::OFFLINE },
            capabilities: caps.then(|| crate::model::Capabilities {
                resource_layers: vec![crate::model::LayerKind::DRBD, crate::model::LayerKind::STORAGE],
                ..Default::default()
            }),
        }),
        2 => (node.clone(), proptest::sample::select(PLACER_KEYS), proptest::sample::select(PLACER_VALUES), proptest::bool::weighted(0.2))
            .prop_map(|(n, k, v, del)| Command::NodeModify { name: n, node_type: None, props: placer_props(k, v, del) }),
        1 => (node.clone(), pool.clone(), proptest::sample::select(PLACER_KEYS), proptest::sample::select(PLACER_VALUES), proptest::bool::weighted(0.2))
            .prop_map(|(n, p, k, v, del)| Command::StorPoolModify { node: n, name: p, props: placer_props(k, v, del) }),
        1 => (pool.clone(), proptest::sample::select(PLACER_KEYS), proptest::sample::select(PLACER_VALUES), proptest::bool::weighted(0.2))
            .prop_map(|(p, k, v, del)| Command::StorPoolDfnModify { name: p, props: placer_props(k, v, del) }),
        1 => (proptest::sample::select(PLACER_KEYS), proptest::sample::select(PLACER_VALUES), proptest::bool::weighted(0.2))
            .prop_map(|(k, v, del)| Command::CtrlPropsModify { props: placer_props(k, v, del) }),
        2 => (rd.clone(), 1u32..4).prop_map(|(r, n)| Command::RscAutoplace {
            rsc_dfn: r,
            select_filter: SelectFilter {
                place_count: Some(n),
                replicas_on_different: Some(vec!["Aux/zone".into()]),
                ..Default::default()
            },
        }),
    ]
}

/// Balancing (observed resource states, a group place count, no grace period), evacuation, eviction, adjust and quorum properties.
fn arb_maintenance_command() -> impl Strategy<Value = Command> {
    let node = proptest::sample::select(NODES).prop_map(str::to_owned);
    let rd = proptest::sample::select(RDS).prop_map(str::to_owned);
    prop_oneof![
        // Balancing: observed resource states, a group place count, no grace period.
        3 => (rd.clone(), node.clone(), proptest::bool::weighted(0.2), proptest::bool::weighted(0.8))
            .prop_map(|(r, n, in_use, ok)| Command::RscReport {
                node: n,
                rsc_dfn: r,
                state: crate::model::RscObserved { in_use, up_to_date: ok, established: ok, ..Default::default() },
            }),
        1 => (1u32..4).prop_map(|n| Command::RscGrpModify {
            name: "DfltRscGrp".into(),
            description: None,
            props: PropsModify::default(),
            select_filter: Some(SelectFilter { place_count: Some(n), ..Default::default() }),
            peer_slots: None,
        }),
        1 => Just(Command::CtrlPropsModify { props: PropsModify::set([("BalanceResourcesGracePeriod", "0")]) }),
        2 => proptest::option::of(rd.clone()).prop_map(|r| Command::RscBalance { rsc_dfn: r }),
        2 => Just(Command::KvsDelete { name: SETTLED.into() }),
        1 => (node.clone(), proptest::collection::vec(proptest::sample::select(NODES), 0..2))
            .prop_map(|(n, deny)| Command::NodeEvacuate {
                name: n,
                target: vec![],
                do_not_target: deny.into_iter().map(str::to_string).collect(),
            }),
        1 => (node.clone(), proptest::bool::ANY).prop_map(|(n, d)| Command::NodeRestore { name: n, delete_resources: d }),
        1 => node.clone().prop_map(|n| Command::NodeEvict { name: n }),
        1 => node.clone().prop_map(|n| Command::NodeReport { node: n, connection: ConnectionStatus::OFFLINE, capabilities: None }),
        1 => (proptest::option::of(proptest::sample::select(&["DfltRscGrp", "nope"][..])), proptest::option::of(1u32..4))
            .prop_map(|(g, n)| Command::RscGrpAdjust {
                name: g.map(str::to_string),
                select_filter: n.map(|n| SelectFilter { place_count: Some(n), ..Default::default() }),
            }),
        1 => (
            rd.clone(),
            proptest::sample::select(&["Aux/a", "Bogus/key", "DrbdOptions/Resource/quorum"][..])
        )
            .prop_map(|(r, k)| Command::RscDfnModify {
                name: r,
                props: PropsModify::set([(k, "majority")]),
                peer_slots: None,
                rsc_grp: None
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_sequences_keep_invariants(cmds in proptest::collection::vec(arb_command(), 1..80)) {
        let mut e = SeededEnv::new(1);
        let mut c = Cluster::new(&mut e);
        // A valid start (3 nodes with an LVM and a FILE_THIN pool), then anything.
        for i in 1..=3 {
            let n = format!("n{i}");
            c.execute(node(&n, &format!("10.0.0.{i}")), &mut e);
            c.execute(pool(&n, "data", PK::LVM, "vg0"), &mut e);
            c.execute(pool(&n, "files", PK::FILE_THIN, "/srv/p"), &mut e);
            c.execute(Command::NodeReport { node: n.clone(), connection: ConnectionStatus::ONLINE, capabilities: None }, &mut e);
            for p in ["data", "files"] {
                c.execute(Command::StorPoolReport { node: n.clone(), pool: p.into(), free: SizeKib(3 << 20), total: SizeKib(4 << 20) }, &mut e);
            }
        }
        // A step that stands for "every satellite reports its resources settled" (the
        // balance task only acts then): expanded here into one report per resource.
        let expand = |c: &Cluster, cmd: Command| -> Vec<Command> {
            if !matches!(&cmd, Command::KvsDelete { name } if name == SETTLED) {
                return vec![cmd];
            }
            c.state()
                .resource_definitions
                .values()
                .flat_map(|d| d.resources.keys().map(|n| (d.name.to_string(), n.to_string())))
                .map(|(r, n)| Command::RscReport {
                    node: n,
                    rsc_dfn: r,
                    state: crate::model::RscObserved { in_use: false, up_to_date: true, established: true, ..Default::default() },
                })
                .collect()
        };
        let probe = |f: SelectFilter| crate::placement::PlacementRequest::new(
            ResourceName::new("probe").expect("valid"),
            f,
            SizeKib(1 << 20),
        );
        let probes = [
            probe(SelectFilter { place_count: Some(2), replicas_on_different: Some(vec!["Aux/zone".into()]), ..Default::default() }),
            probe(SelectFilter { place_count: Some(1), storage_pool: Some(StorPoolName::new("files").expect("valid")), replicas_on_same: Some(vec!["Aux/zone=a".into()]), ..Default::default() }),
        ];
        for step in cmds {
            for cmd in expand(&c, step) {
                let before = c.to_json();
                let o = c.execute(cmd.clone(), &mut e);
                if o.is_error() {
                    prop_assert_eq!(&before, &c.to_json(), "refused {:?} changed the state", cmd);
                    prop_assert!(o.changes.is_empty());
                }
                if let Err(msg) = c.check_invariants() {
                    return Err(TestCaseError::fail(format!("after {cmd:?}: {msg}")));
                }
                // The executor's cached placer answers as the pure one on the same state.
                for req in &probes {
                    let pure = crate::placement::autoplace(c.state(), req);
                    prop_assert_eq!(c.plan_placement(req), pure, "after {:?}", cmd);
                }
            }
        }
        let back = Cluster::from_json(&c.to_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(back == c, "deserialize(serialize(state)) != state");
    }
}

#[test]
fn shared_space_names_cannot_look_like_default_ones() {
    let (mut c, mut e) = cluster(2);
    let shared = |s: &str| Command::StorPoolCreate {
        node: "n1".into(),
        name: "san".into(),
        kind: PK::LVM,
        props: [("StorDriver/StorPoolName".to_owned(), "vg1".to_owned())].into(),
        shared_space: Some(s.into()),
    };
    check(
        &mut c,
        &mut e,
        shared("n2;data"),
        Err((code::INVLD_STOR_POOL_NAME, "';'")),
    );
    check(&mut c, &mut e, shared("SAN_lun1"), Ok(()));
    // A loaded state with such a name is inconsistent.
    let json = c.to_json().replace("\"SAN_lun1\"", "\"n2;data\"");
    let err = Cluster::from_json(&json).unwrap_err().to_string();
    assert!(err.contains("contains ';'"), "{err}");
}

#[test]
fn node_lost_takes_its_snapshots_out_of_the_pool_usage() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    check_all(
        &mut c,
        &mut e,
        vec![
            (js(rsc("r1", "n1", Some("files"), false)), Ok(())),
            (js(rsc("r1", "n2", Some("files"), false)), Ok(())),
            (js(report_node("n1", "ONLINE")), Ok(())),
            (js(report_node("n2", "ONLINE")), Ok(())),
            (
                json!({"cmd": "snapshot_create", "rsc_dfn": "r1", "name": "s1"}),
                Ok(()),
            ),
            // The resource leaves n1 (its snapshot stays), then n1 is lost.
            (
                json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n1"}),
                Ok(()),
            ),
            (
                json!({"cmd": "resource_deleted", "rsc_dfn": "r1", "node": "n1"}),
                Ok(()),
            ),
        ],
    );
    c.check_invariants().unwrap();
    must(&mut c, &mut e, Command::NodeLost { name: "n1".into() });
    c.check_invariants().unwrap();
}

#[test]
fn mixing_lvm_and_zfs_needs_a_drbd_that_supports_it_on_both_nodes() {
    let (mut c, mut e) = cluster(2);
    let report = |n: &str, v: [u16; 3]| {
        json!({"cmd": "report_node", "node": n, "connection": "ONLINE", "capabilities": {
            "storage_providers": [], "resource_layers": [], "unsupported_providers": {},
            "unsupported_layers": {}, "drbd_version": v}})
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (js(pool("n2", "zfs", PK::ZFS, "tank")), Ok(())),
            (
                json!({"cmd": "ctrl_props_modify",
                    "props": {"override_props": {"AllowMixingStoragePoolDriver": "true"}}}),
                Ok(()),
            ),
            (report("n1", [9, 2, 8]), Ok(())),
            (report("n2", [9, 2, 3]), Ok(())),
            (js(rd("r1")), Ok(())),
            (js(vd("r1", 1)), Ok(())),
            (js(rsc("r1", "n1", Some("data"), false)), Ok(())),
            (
                js(rsc("r1", "n2", Some("zfs"), false)),
                Err((code::INVLD_STOR_DRIVER, "9.2.7")),
            ),
            (report("n2", [9, 2, 7]), Ok(())),
            (js(rsc("r1", "n2", Some("zfs"), false)), Ok(())),
        ],
    );
}

#[test]
fn renamed_commands_keep_the_tags_clients_send() {
    let tag = |cmd: &Command| serde_json::to_value(cmd).expect("serializes")["cmd"].clone();
    let cases = [
        (
            r#"{"cmd": "spawn", "rsc_grp": "g", "rsc_dfn": "r", "volume_sizes": [1024]}"#,
            "spawn",
        ),
        (r#"{"cmd": "autoplace", "rsc_dfn": "r"}"#, "autoplace"),
        (
            r#"{"cmd": "resource_deleted", "rsc_dfn": "r", "node": "n"}"#,
            "resource_deleted",
        ),
        (
            r#"{"cmd": "report_node", "node": "n", "connection": "ONLINE"}"#,
            "report_node",
        ),
        (
            r#"{"cmd": "report_resource", "node": "n", "rsc_dfn": "r",
                "state": {"in_use": false, "up_to_date": true, "established": true}}"#,
            "report_resource",
        ),
        (
            r#"{"cmd": "report_pool_capacity", "node": "n", "pool": "p", "free": 1, "total": 2}"#,
            "report_pool_capacity",
        ),
        (r#"{"cmd": "balance_resources"}"#, "balance_resources"),
        (r#"{"cmd": "rsc_grp_adjust"}"#, "rsc_grp_adjust"),
    ];
    for (json, expect) in cases {
        let cmd: Command = serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(tag(&cmd), expect, "{cmd:?}");
    }
    let cmd: Command = serde_json::from_str(
        r#"{"cmd": "spawn", "rsc_grp": "g", "rsc_dfn": "r", "volume_sizes": []}"#,
    )
    .unwrap();
    assert!(matches!(cmd, Command::RscGrpSpawn { .. }));
}
