//! The commands clients use beyond create and delete: idempotent deletes, resource modify,
//! activation, make-available and toggle-disk, volume definition and group changes,
//! connections, node reconnect, and the snapshot commands (multi, restore, rollback).

use serde_json::{Value, json};

use super::fixture::*;
use crate::cluster::{Cluster, ObjKey, SeededEnv};
use crate::model::{RscFlags, SnapshotDfnFlags};
use crate::name::{NodeName, ResourceName, SnapshotName};
use crate::rc::{Obj, Severity, code};

fn rn(s: &str) -> ResourceName {
    ResourceName::new(s).unwrap()
}

fn nn(s: &str) -> NodeName {
    NodeName::new(s).unwrap()
}

/// The resource of `rd` on `node`, if any.
fn rsc_of<'c>(c: &'c Cluster, rd: &str, node: &str) -> Option<&'c crate::model::Resource> {
    c.state().resource_definitions[&rn(rd)]
        .resources
        .get(&nn(node))
}

/// The flag names of the resource of `rd` on `node`.
fn rflags(c: &Cluster, rd: &str, node: &str) -> Vec<&'static str> {
    rsc_of(c, rd, node)
        .map(|r| r.flags.names())
        .unwrap_or_default()
}

/// The pool of volume 0 of the resource of `rd` on `node`.
fn pool0(c: &Cluster, rd: &str, node: &str) -> String {
    rsc_of(c, rd, node).unwrap().volumes[&0]
        .storage_pool
        .to_string()
}

#[test]
fn deleting_what_does_not_exist_warns_and_changes_nothing() {
    let (mut c, mut e) = cluster(1);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_grp_create", "name": "g1"})),
    );
    let cases: Vec<(Value, Obj, &str)> = vec![
        (
            json!({"cmd": "node_delete", "name": "ghost"}),
            Obj::Node,
            "node 'ghost'",
        ),
        (
            json!({"cmd": "node_lost", "name": "ghost"}),
            Obj::Node,
            "node 'ghost'",
        ),
        (
            json!({"cmd": "net_if_delete", "node": "n1", "name": "eth9"}),
            Obj::NetIf,
            "net interface 'eth9'",
        ),
        (
            json!({"cmd": "net_if_delete", "node": "ghost", "name": "default"}),
            Obj::NetIf,
            "of node 'ghost'",
        ),
        (
            json!({"cmd": "stor_pool_dfn_delete", "name": "nope"}),
            Obj::StorPoolDfn,
            "'nope'",
        ),
        (
            json!({"cmd": "stor_pool_delete", "node": "n1", "name": "nope"}),
            Obj::StorPool,
            "'nope' on node 'n1'",
        ),
        (
            json!({"cmd": "stor_pool_delete", "node": "ghost", "name": "data"}),
            Obj::StorPool,
            "node 'ghost'",
        ),
        (
            json!({"cmd": "rsc_grp_delete", "name": "nope"}),
            Obj::RscGrp,
            "'nope'",
        ),
        (
            json!({"cmd": "vlm_grp_delete", "rsc_grp": "g1", "number": 7}),
            Obj::VlmGrp,
            "volume group 7",
        ),
        (
            json!({"cmd": "vlm_grp_delete", "rsc_grp": "nope", "number": 0}),
            Obj::VlmGrp,
            "'nope'",
        ),
        (
            json!({"cmd": "rsc_dfn_delete", "name": "nope"}),
            Obj::RscDfn,
            "'nope'",
        ),
        (
            json!({"cmd": "vlm_dfn_delete", "rsc_dfn": "r1", "number": 7}),
            Obj::VlmDfn,
            "volume definition 7",
        ),
        (
            json!({"cmd": "vlm_dfn_delete", "rsc_dfn": "nope", "number": 0}),
            Obj::VlmDfn,
            "'nope'",
        ),
        (
            json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n1"}),
            Obj::Rsc,
            "resource 'r1' on node 'n1'",
        ),
        (
            json!({"cmd": "rsc_delete", "rsc_dfn": "nope", "node": "n1"}),
            Obj::Rsc,
            "'nope'",
        ),
        (
            json!({"cmd": "snapshot_delete", "rsc_dfn": "r1", "name": "s9"}),
            Obj::Snapshot,
            "snapshot 's9'",
        ),
        (
            json!({"cmd": "snapshot_delete", "rsc_dfn": "nope", "name": "s1"}),
            Obj::Snapshot,
            "'nope'",
        ),
        (
            json!({"cmd": "kvs_delete", "name": "nope"}),
            Obj::Kvs,
            "'nope'",
        ),
    ];
    for (v, obj, what) in cases {
        check_gone(&mut c, &mut e, v, obj, what);
    }
    // Invalid names are still refused: they can never exist.
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "node_delete", "name": "-bad"}),
                Err((code::INVLD_NODE_NAME, "must start with")),
            ),
            (
                json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "-bad"}),
                Err((code::INVLD_NODE_NAME, "Invalid node name")),
            ),
        ],
    );
}

#[test]
fn node_reconnect_answers_and_changes_nothing() {
    let (mut c, mut e) = cluster(1);
    let before = c.to_json();
    let o = must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "node_reconnect", "name": "n1"})),
    );
    assert!(o.changes.is_empty() && before == c.to_json(), "{o:?}");
    assert_eq!(o.rc.0[0].severity, Severity::Success);
    assert!(
        o.rc.0[0].message.contains("will be reconnected"),
        "{}",
        o.rc
    );
    let ghost = json!({"cmd": "node_reconnect", "name": "ghost"});
    check_all(
        &mut c,
        &mut e,
        vec![(ghost, Err((code::NOT_FOUND_NODE, "not found")))],
    );
}

#[test]
fn resource_modify_sets_props_and_the_diskless_flavour() {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n2", None, true));
    let modify = |node: &str, props: Value, tb: Option<bool>, client: Option<bool>| {
        json!({"cmd": "rsc_modify", "rsc_dfn": "r1", "node": node, "props": props,
            "drbd_tiebreaker": tb, "drbd_client": client})
    };
    let aux = json!({"override_props": {"Aux/x": "1"}});
    check_all(
        &mut c,
        &mut e,
        vec![
            (modify("n1", aux.clone(), None, None), Ok(())),
            (
                modify("n1", json!({"override_props": {"Bogus": "1"}}), None, None),
                Err((code::INVLD_PROP, "unknown property key")),
            ),
            (
                modify("n3", aux.clone(), None, None),
                Err((code::NOT_FOUND_RSC, "not found")),
            ),
            (
                modify("n1", json!({}), Some(true), None),
                Err((code::INVLD_REQUEST, "not DRBD diskless")),
            ),
            (
                modify("n2", json!({}), Some(true), Some(true)),
                Err((code::INVLD_CONF, "mutually exclusive")),
            ),
            (modify("n2", json!({}), None, Some(true)), Ok(())),
        ],
    );
    assert!(rsc_of(&c, "r1", "n2").unwrap().drbd_client);
    assert_eq!(
        rsc_of(&c, "r1", "n1").unwrap().props.get("Aux/x"),
        Some("1")
    );
    // A client made a tiebreaker is no client any more, and back.
    must(
        &mut c,
        &mut e,
        cmd(modify("n2", json!({}), Some(true), None)),
    );
    assert_eq!(rflags(&c, "r1", "n2"), vec!["TIE_BREAKER"]);
    assert!(!rsc_of(&c, "r1", "n2").unwrap().drbd_client);
    let o = must(
        &mut c,
        &mut e,
        cmd(modify("n2", json!({}), Some(false), None)),
    );
    assert_eq!(rflags(&c, "r1", "n2"), vec!["DRBD_DISKLESS"]);
    let key = ObjKey::Rsc {
        rsc_dfn: rn("r1"),
        node: nn("n2"),
    };
    assert!(o.changes.modified.contains(&key), "{:?}", o.changes);
}

#[test]
fn activation_sets_and_clears_inactive() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    let act = |on: bool| {
        let name = if on { "rsc_activate" } else { "rsc_deactivate" };
        json!({"cmd": name, "rsc_dfn": "r1", "node": "n1"})
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (act(true), Ok(())),
            (act(false), Ok(())),
            (act(false), Ok(())),
            (
                json!({"cmd": "rsc_activate", "rsc_dfn": "r1", "node": "n2"}),
                Err((code::NOT_FOUND_RSC, "not found")),
            ),
        ],
    );
    assert_eq!(rflags(&c, "r1", "n1"), vec!["INACTIVE"]);
    let o = must(&mut c, &mut e, cmd(act(false)));
    assert!(
        o.changes.is_empty() && o.rc.0[0].code == code::INFO_NOOP,
        "{o:?}"
    );
    must(&mut c, &mut e, cmd(act(true)));
    assert!(rflags(&c, "r1", "n1").is_empty());
    // A resource in use is not taken down.
    let state = json!({"in_use": true, "up_to_date": true, "established": true});
    let report = json!({"cmd": "report_resource", "node": "n1", "rsc_dfn": "r1", "state": state});
    must(&mut c, &mut e, cmd(report));
    check_all(
        &mut c,
        &mut e,
        vec![(act(false), Err((code::IN_USE, "in use")))],
    );
}

/// An online cluster of 3 nodes with `r1` on n0 and n1 (and its tiebreaker on n2).
fn two_replicas_and_a_tiebreaker() -> (Cluster, SeededEnv) {
    let (mut c, mut e) = online_cluster(3);
    assert!(!spawn(&mut c, &mut e, "r1", 2, 1).is_error());
    assert_eq!(flags(&c, "r1").len(), 3, "{:?}", flags(&c, "r1"));
    assert_eq!(rflags(&c, "r1", "n2"), vec!["TIE_BREAKER"]);
    (c, e)
}

#[test]
fn make_available_turns_a_tiebreaker_into_a_diskless_resource() {
    let (mut c, mut e) = two_replicas_and_a_tiebreaker();
    let avail = |node: &str, diskful: bool| json!({"cmd": "rsc_make_available", "rsc_dfn": "r1", "node": node, "diskful": diskful});
    let o = must(&mut c, &mut e, cmd(avail("n2", false)));
    assert_eq!(rflags(&c, "r1", "n2"), vec!["DRBD_DISKLESS"]);
    assert!(o.changes.modified.contains(&ObjKey::Rsc {
        rsc_dfn: rn("r1"),
        node: nn("n2"),
    }));
    // Already there as asked: a plain success (ret_code 0, as LINSTOR), nothing changes.
    let before = c.to_json();
    let o = must(&mut c, &mut e, cmd(avail("n0", false)));
    assert!(o.changes.is_empty() && before == c.to_json(), "{o:?}");
    assert_eq!(o.rc.0[0].ret_code(), 0, "{}", o.rc);
    assert!(o.rc.0[0].message.contains("already deployed"), "{}", o.rc);
    // Diskful asked of the diskless one: it gets a disk in the group's (here: the node's) pool.
    let g = json!({"cmd": "rsc_grp_modify", "name": "DfltRscGrp",
        "select_filter": {"place_count": 2, "storage_pool_list": ["data"]}});
    must(&mut c, &mut e, cmd(g));
    must(&mut c, &mut e, cmd(avail("n2", true)));
    assert!(rflags(&c, "r1", "n2").is_empty(), "{:?}", flags(&c, "r1"));
    assert_eq!(pool0(&c, "r1", "n2"), "data");
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                avail("ghost", false),
                Err((code::NOT_FOUND_NODE, "not found")),
            ),
            (
                json!({"cmd": "rsc_make_available", "rsc_dfn": "nope", "node": "n0"}),
                Err((code::NOT_FOUND_RSC_DFN, "not found")),
            ),
            (
                json!({"cmd": "rsc_make_available", "rsc_dfn": "r1", "node": "n0",
                    "layer_list": ["STORAGE"]}),
                Err((code::INVLD_LAYER_STACK, "does not match")),
            ),
        ],
    );
}

#[test]
fn make_available_creates_a_diskless_peer_or_a_first_disk() {
    let (mut c, mut e) = online_cluster(4);
    rd_vd(&mut c, &mut e, "r1", 1);
    let avail = |node: &str| json!({"cmd": "rsc_make_available", "rsc_dfn": "r1", "node": node});
    // No peer has a disk: the first one gets a disk; StorPoolName names the pool.
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                avail("n0"),
                Err((code::NOT_FOUND_STOR_POOL, "DfltStorPool")),
            ),
            (
                json!({"cmd": "rsc_dfn_modify", "name": "r1",
                    "props": {"override_props": {"StorPoolName": "data"}}}),
                Ok(()),
            ),
            (avail("n0"), Ok(())),
            (avail("n1"), Ok(())),
        ],
    );
    assert_eq!(pool0(&c, "r1", "n0"), "data");
    assert_eq!(rflags(&c, "r1", "n1"), vec!["DRBD_DISKLESS"]);
    assert_eq!(pool0(&c, "r1", "n1"), "DfltDisklessStorPool");
    // A resource being deleted is taken back; an inactive one is activated.
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n1"})),
    );
    let o = must(&mut c, &mut e, cmd(avail("n1")));
    assert_eq!(rflags(&c, "r1", "n1"), vec!["DRBD_DISKLESS"], "{}", o.rc);
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_deactivate", "rsc_dfn": "r1", "node": "n1"})),
    );
    must(&mut c, &mut e, cmd(avail("n1")));
    assert_eq!(rflags(&c, "r1", "n1"), vec!["DRBD_DISKLESS"]);
}

#[test]
fn toggle_disk_gives_and_takes_disks() {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n2", None, true));
    let toggle = |node: &str, op: &str, pool: Option<&str>| {
        json!({"cmd": "rsc_toggle_disk", "rsc_dfn": "r1", "node": node, "operation": op,
            "storage_pool": pool})
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                toggle("n1", "INTO_DRBD_DISKLESS", None),
                Err((code::INSUFFICIENT_REPLICA_COUNT, "only active one")),
            ),
            (
                toggle("n2", "INTO_DRBD_DISKFUL", None),
                Err((code::NOT_FOUND_STOR_POOL, "DfltStorPool")),
            ),
            (
                toggle("n2", "INTO_DRBD_DISKFUL", Some("DfltDisklessStorPool")),
                Err((code::INVLD_STOR_POOL_NAME, "diskful resource was requested")),
            ),
            (
                toggle("n2", "INTO_DRBD_DISKFUL", Some("files")),
                Err((code::INVLD_STOR_DRIVER, "cannot be mixed")),
            ),
            (toggle("n2", "INTO_DRBD_DISKFUL", Some("data")), Ok(())),
            (toggle("n2", "INTO_DRBD_DISKFUL", None), Ok(())),
            (toggle("n1", "INTO_DRBD_CLIENT", None), Ok(())),
            (
                toggle("n2", "INTO_DRBD_DISKLESS", None),
                Err((code::INSUFFICIENT_REPLICA_COUNT, "only active one")),
            ),
            (toggle("n1", "INTO_DRBD_DISKLESS", None), Ok(())),
            (
                toggle("n3", "INTO_DRBD_DISKLESS", None),
                Err((code::NOT_FOUND_RSC, "not found")),
            ),
        ],
    );
    assert!(rflags(&c, "r1", "n2").is_empty());
    assert_eq!(pool0(&c, "r1", "n2"), "data");
    assert_eq!(
        rsc_of(&c, "r1", "n2").unwrap().props.get("StorPoolName"),
        Some("data")
    );
    assert_eq!(rflags(&c, "r1", "n1"), vec!["DRBD_DISKLESS"]);
    assert!(!rsc_of(&c, "r1", "n1").unwrap().drbd_client);
    assert_eq!(pool0(&c, "r1", "n1"), "DfltDisklessStorPool");
    let o = must(
        &mut c,
        &mut e,
        cmd(toggle("n1", "INTO_DRBD_DISKLESS", None)),
    );
    assert!(
        o.changes.is_empty() && o.rc.0[0].code == code::INFO_NOOP,
        "{o:?}"
    );
}

#[test]
fn toggle_disk_keeps_the_tiebreaker_rules() {
    let (mut c, mut e) = two_replicas_and_a_tiebreaker();
    let toggle = |node: &str, op: &str| {
        json!({"cmd": "rsc_toggle_disk", "rsc_dfn": "r1", "node": node, "operation": op,
            "storage_pool": if op == "INTO_DRBD_DISKFUL" { Some("data") } else { None }})
    };
    // The tiebreaker gets a disk: 3 diskful replicas need no tiebreaker.
    must(&mut c, &mut e, cmd(toggle("n2", "INTO_DRBD_DISKFUL")));
    assert_eq!(diskful(&c, "r1"), 3, "{:?}", flags(&c, "r1"));
    // One gives its disk back: 2 diskful and a plain diskless peer, still no tiebreaker.
    must(&mut c, &mut e, cmd(toggle("n0", "INTO_DRBD_DISKLESS")));
    assert_eq!(rflags(&c, "r1", "n0"), vec!["DRBD_DISKLESS"]);
    assert!(
        flags(&c, "r1")
            .iter()
            .all(|(_, f)| !f.contains(&"TIE_BREAKER"))
    );
    // As a client it no longer counts for quorum; with no node left for a tiebreaker, that is
    // a warning.
    let o = must(&mut c, &mut e, cmd(toggle("n0", "INTO_DRBD_CLIENT")));
    assert!(rsc_of(&c, "r1", "n0").unwrap().drbd_client);
    let tb =
        o.rc.0
            .iter()
            .find(|x| x.code == code::WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER);
    assert!(tb.is_some(), "{}", o.rc);
    c.check_invariants().unwrap();
}

#[test]
fn volume_definitions_modify_and_delete() {
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, vd("r1", 1));
    must(&mut c, &mut e, rsc("r1", "n2", None, true));
    let modify = |number: u16, props: Value, size: Option<u64>| {
        json!({"cmd": "vlm_dfn_modify", "rsc_dfn": "r1", "number": number, "props": props,
            "size": size})
    };
    let delete = |number: u16| json!({"cmd": "vlm_dfn_delete", "rsc_dfn": "r1", "number": number});
    let aux = json!({"override_props": {"Aux/x": "1"}});
    check_all(
        &mut c,
        &mut e,
        vec![
            (modify(0, aux.clone(), None), Ok(())),
            (modify(0, json!({}), Some(2 << 20)), Ok(())),
            (
                modify(0, aux.clone(), Some(1)),
                Err((code::INVLD_VLM_SIZE, "cannot shrink")),
            ),
            (
                modify(0, json!({"override_props": {"Bogus": "1"}}), None),
                Err((code::INVLD_PROP, "unknown property key")),
            ),
            (
                modify(9, aux, None),
                Err((code::NOT_FOUND_VLM_DFN, "not found")),
            ),
            (delete(1), Ok(())),
        ],
    );
    let d = &c.state().resource_definitions[&rn("r1")];
    assert_eq!(d.volume_definitions[&0].size.0, 2 << 20);
    assert_eq!(d.volume_definitions[&0].props.get("Aux/x"), Some("1"));
    assert!(!d.volume_definitions.contains_key(&1));
    assert_eq!(
        d.resources[&nn("n2")].volumes.len(),
        1,
        "the volume went too"
    );
    assert!(
        c.idx.minors.lowest_free(1001, 1001).is_some(),
        "minor freed"
    );
    // With a disk the data is in the way.
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    check_all(
        &mut c,
        &mut e,
        vec![(delete(0), Err((code::IN_USE, "holds data on n1")))],
    );
}

#[test]
fn volume_group_modify_sets_props_and_gross_size() {
    let (mut c, mut e) = cluster(0);
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_grp_create", "name": "g1"})),
    );
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "vlm_grp_create", "rsc_grp": "g1"})),
    );
    let modify = |rg: &str, number: u16, props: Value, gross: Option<bool>| {
        json!({"cmd": "vlm_grp_modify", "rsc_grp": rg, "number": number, "props": props,
            "gross_size": gross})
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                modify(
                    "g1",
                    0,
                    json!({"override_props": {"Aux/a": "b"}}),
                    Some(true),
                ),
                Ok(()),
            ),
            (
                modify("g1", 3, json!({}), None),
                Err((code::NOT_FOUND_VLM_GRP, "not found")),
            ),
            (
                modify("nope", 0, json!({}), None),
                Err((code::NOT_FOUND_RSC_GRP, "not found")),
            ),
            (
                modify("g1", 0, json!({"override_props": {"Bogus": "1"}}), None),
                Err((code::INVLD_PROP, "unknown property key")),
            ),
        ],
    );
    let g = &c.state().resource_groups[&"g1".parse().unwrap()];
    assert_eq!(g.volume_groups[&0].flags.names(), vec!["GROSS_SIZE"]);
    assert_eq!(g.volume_groups[&0].props.get("Aux/a"), Some("b"));
    must(&mut c, &mut e, cmd(modify("g1", 0, json!({}), Some(false))));
    let g = &c.state().resource_groups[&"g1".parse().unwrap()];
    assert!(g.volume_groups[&0].flags.names().is_empty());
}

#[test]
fn node_and_resource_connections_live_while_they_have_properties() {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n2", Some("data"), false));
    let nc = |a: &str, b: &str, props: Value| json!({"cmd": "node_conn_modify", "node_a": a, "node_b": b, "props": props});
    let rc = |a: &str, b: &str, props: Value| json!({"cmd": "rsc_conn_modify", "rsc_dfn": "r1", "node_a": a, "node_b": b, "props": props});
    let set = |k: &str, v: &str| json!({"override_props": {k: v}});
    let del = |k: &str| json!({"delete_props": [k]});
    check_all(
        &mut c,
        &mut e,
        vec![
            (nc("n2", "n1", set("Paths/p1/n1", "default")), Ok(())),
            (
                nc("n1", "n2", set("DrbdOptions/Net/max-buffers", "8000")),
                Ok(()),
            ),
            (
                nc("n1", "n2", set("Paths/p1/n3", "default")),
                Err((code::INVLD_PROP, "neither")),
            ),
            (
                nc("n1", "n2", set("Paths/p1/n2", "eth7")),
                Err((code::INVLD_PROP, "no net interface 'eth7'")),
            ),
            (
                nc("n1", "n2", set("Paths/p1", "default")),
                Err((code::INVLD_PROP, "Paths/<path name>/<node>")),
            ),
            (
                nc("n1", "n1", set("Aux/a", "b")),
                Err((code::INVLD_NODE_NAME, "twice")),
            ),
            (
                nc("n1", "ghost", set("Aux/a", "b")),
                Err((code::NOT_FOUND_NODE, "ghost")),
            ),
            (
                nc("n1", "n2", set("Bogus", "b")),
                Err((code::INVLD_PROP, "unknown property")),
            ),
            (rc("n1", "n2", set("Aux/a", "b")), Ok(())),
            (
                rc("n1", "n3", set("Aux/a", "b")),
                Err((code::NOT_FOUND_RSC, "n3")),
            ),
        ],
    );
    let n1n2 = ObjKey::NodeConn {
        node_a: nn("n1"),
        node_b: nn("n2"),
    };
    let conn = crate::model::connection(&c.state().node_connections, &nn("n2"), &nn("n1"));
    assert_eq!(conn.unwrap().props.len(), 2);
    // Removing what a missing connection does not have is a warning.
    let o = must(&mut c, &mut e, cmd(nc("n1", "n3", del("Aux/a"))));
    assert_eq!(o.rc.0[0].code, code::WARN_NOT_FOUND, "{}", o.rc);
    assert!(o.changes.is_empty());
    // The last property removes it.
    must(&mut c, &mut e, cmd(nc("n1", "n2", del("Paths/p1/n1"))));
    let o = must(
        &mut c,
        &mut e,
        cmd(nc("n1", "n2", del("DrbdOptions/Net/max-buffers"))),
    );
    assert_eq!(o.changes.deleted, vec![n1n2.clone()]);
    assert!(c.state().node_connections.is_empty());
    // Connections go with their node and their resource.
    must(&mut c, &mut e, cmd(nc("n1", "n3", set("Aux/a", "b"))));
    let o = must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "node_delete", "name": "n3"})),
    );
    assert!(o.changes.deleted.contains(&ObjKey::NodeConn {
        node_a: nn("n1"),
        node_b: nn("n3"),
    }));
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "rsc_delete", "rsc_dfn": "r1", "node": "n2"})),
    );
    let gone = json!({"cmd": "resource_deleted", "rsc_dfn": "r1", "node": "n2"});
    let o = must(&mut c, &mut e, cmd(gone));
    assert!(o.changes.deleted.contains(&ObjKey::RscConn {
        rsc_dfn: rn("r1"),
        node_a: nn("n1"),
        node_b: nn("n2"),
    }));
    assert!(
        c.state().resource_definitions[&rn("r1")]
            .resource_connections
            .is_empty()
    );
}

#[test]
fn the_connection_chain_puts_the_resource_connection_first() {
    use crate::props::Level as L;
    let (mut c, mut e) = cluster(2);
    rd_vd(&mut c, &mut e, "r1", 1);
    must(&mut c, &mut e, rsc("r1", "n1", Some("data"), false));
    must(&mut c, &mut e, rsc("r1", "n2", Some("data"), false));
    let key = "DrbdOptions/Net/max-buffers";
    let props = |v: &str| json!({"override_props": {key: v}});
    for step in [
        json!({"cmd": "ctrl_props_modify", "props": props("1000")}),
        json!({"cmd": "node_conn_modify", "node_a": "n2", "node_b": "n1", "props": props("2000")}),
        json!({"cmd": "rsc_conn_modify", "rsc_dfn": "r1", "node_a": "n1", "node_b": "n2",
            "props": props("3000")}),
    ] {
        must(&mut c, &mut e, cmd(step));
    }
    let chain = c
        .chains()
        .drbd_connection_between(&rn("r1"), &nn("n2"), &nn("n1"));
    let levels: Vec<L> = chain.levels().collect();
    assert_eq!(
        levels,
        vec![L::RscConn, L::RscDfn, L::NodeConn, L::RscGrp, L::Controller]
    );
    assert_eq!(chain.get_with_level(key), Some(("3000", L::RscConn)));
    assert_eq!(
        chain.overridden(key),
        vec![(L::NodeConn, "2000"), (L::Controller, "1000")]
    );
}

/// `rr` on n1 and n2 in FILE_THIN pools with snapshot `s1` (flagged SUCCESSFUL, as satellites
/// would report it); n1..n3 are ONLINE.
fn snapshotted() -> (Cluster, SeededEnv) {
    let (mut c, mut e) = cluster(3);
    rd_vd(&mut c, &mut e, "rr", 1);
    must(&mut c, &mut e, rsc("rr", "n1", Some("files"), false));
    must(&mut c, &mut e, rsc("rr", "n2", Some("files"), false));
    for n in ["n1", "n2", "n3"] {
        must(&mut c, &mut e, report_node(n, "ONLINE"));
    }
    let snap = json!({"cmd": "snapshot_create", "rsc_dfn": "rr", "name": "s1"});
    must(&mut c, &mut e, cmd(snap));
    (c, e)
}

fn mark_successful(c: &mut Cluster, rd: &str, snap: &str) {
    let sn = SnapshotName::new(snap).unwrap();
    let d = c.state.resource_definitions.get_mut(&rn(rd)).unwrap();
    d.snapshots
        .get_mut(&sn)
        .unwrap()
        .flags
        .insert(SnapshotDfnFlags::SUCCESSFUL);
}

#[test]
fn a_snapshot_is_successful_once_every_node_reported_it() {
    let (mut c, mut e) = snapshotted();
    let report = |node: &str, snap: &str| json!({"cmd": "report_snapshot", "node": node, "rsc_dfn": "rr", "snapshot": snap});
    let successful = |c: &Cluster| {
        c.state.resource_definitions[&rn("rr")].snapshots[&SnapshotName::new("s1").unwrap()]
            .flags
            .contains(SnapshotDfnFlags::SUCCESSFUL)
    };
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                report("n3", "s1"),
                Err((code::NOT_FOUND_SNAPSHOT, "not taken on node 'n3'")),
            ),
            (
                report("n1", "s9"),
                Err((code::NOT_FOUND_SNAPSHOT_DFN, "not found")),
            ),
            (report("n1", "s1"), Ok(())),
        ],
    );
    assert!(!successful(&c), "one of two nodes");
    must(&mut c, &mut e, cmd(report("n2", "s1")));
    assert!(successful(&c));
}

#[test]
fn rollback_needs_a_successful_snapshot_of_every_disk() {
    let (mut c, mut e) = snapshotted();
    let rollback =
        |snap: &str| json!({"cmd": "snapshot_rollback", "rsc_dfn": "rr", "snapshot": snap});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                rollback("s1"),
                Err((code::UNKNOWN_ERROR, "Unable to use failed snapshot")),
            ),
            (
                rollback("s9"),
                Err((code::NOT_FOUND_SNAPSHOT_DFN, "not found")),
            ),
        ],
    );
    mark_successful(&mut c, "rr", "s1");
    // A disk added after the snapshot has nothing to roll back to; a diskless peer is fine.
    must(&mut c, &mut e, rsc("rr", "n3", Some("files"), false));
    check_all(
        &mut c,
        &mut e,
        vec![(
            rollback("s1"),
            Err((code::NOT_FOUND_SNAPSHOT, "no data on node 'n3'")),
        )],
    );
    let toggle = json!({"cmd": "rsc_toggle_disk", "rsc_dfn": "rr", "node": "n3",
        "operation": "INTO_DRBD_DISKLESS"});
    must(&mut c, &mut e, cmd(toggle));
    let o = must(&mut c, &mut e, cmd(rollback("s1")));
    assert_eq!(o.changes.modified.len(), 3, "{:?}", o.changes);
    for n in ["n1", "n2", "n3"] {
        let r = rsc_of(&c, "rr", n).unwrap();
        assert_eq!(r.props.get("RollbackTarget"), Some("s1"), "{n}");
    }
    check_all(
        &mut c,
        &mut e,
        vec![(
            rollback("s1"),
            Err((code::SNAPSHOT_ROLLBACK_IN_PROGRESS, "already in progress")),
        )],
    );
    // A volume added after the snapshot is not in it.
    let (mut c, mut e) = snapshotted();
    mark_successful(&mut c, "rr", "s1");
    must(&mut c, &mut e, vd("rr", 1));
    check_all(
        &mut c,
        &mut e,
        vec![(
            rollback("s1"),
            Err((code::NOT_FOUND_SNAPSHOT, "not captured")),
        )],
    );
}

#[test]
fn rollback_is_refused_while_in_use() {
    let (mut c, mut e) = snapshotted();
    mark_successful(&mut c, "rr", "s1");
    let state = json!({"in_use": true, "up_to_date": true, "established": true});
    let report = json!({"cmd": "report_resource", "node": "n2", "rsc_dfn": "rr", "state": state});
    must(&mut c, &mut e, cmd(report));
    let rollback = json!({"cmd": "snapshot_rollback", "rsc_dfn": "rr", "snapshot": "s1"});
    check_all(
        &mut c,
        &mut e,
        vec![(
            rollback,
            Err((code::IN_USE, "Un-mount resource 'rr' on the node 'n2'")),
        )],
    );
}

#[test]
fn restore_volume_definitions_then_resources_as_clients_do() {
    let (mut c, mut e) = snapshotted();
    let restore_vd = |target: &str| {
        json!({"cmd": "snapshot_restore_vlm_dfn", "rsc_dfn": "rr", "snapshot": "s1",
            "target": target})
    };
    let restore = |target: &str, nodes: &[&str]| {
        json!({"cmd": "snapshot_restore", "rsc_dfn": "rr", "snapshot": "s1", "target": target,
            "nodes": nodes})
    };
    must(&mut c, &mut e, rd("t1"));
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                restore_vd("nope"),
                Err((code::NOT_FOUND_RSC_DFN, "not found")),
            ),
            (restore_vd("t1"), Ok(())),
            (
                restore_vd("t1"),
                Err((code::EXISTS_VLM_DFN, "already has volume definitions")),
            ),
            (
                restore("t1", &["n3"]),
                Err((code::NOT_FOUND_SNAPSHOT_DFN, "no data on node 'n3'")),
            ),
            (restore("t1", &[]), Ok(())),
            (
                restore("t1", &[]),
                Err((code::EXISTS_RSC, "already has resources")),
            ),
        ],
    );
    let t1 = &c.state().resource_definitions[&rn("t1")];
    assert_eq!(t1.volume_definitions[&0].size.0, 1 << 20);
    assert_eq!(t1.resources.len(), 2);
    assert!(
        t1.resources
            .values()
            .all(|r| r.flags.contains(RscFlags::RESTORE_FROM_SNAPSHOT))
    );
    assert_eq!(t1.props.get("Internal/RestoreFrom/Resource"), Some("rr"));
    // A target whose volumes differ from the snapshot's is refused, and nothing is left.
    must(&mut c, &mut e, rd("t2"));
    must(&mut c, &mut e, vd("t2", 2));
    check_all(
        &mut c,
        &mut e,
        vec![(
            restore("t2", &[]),
            Err((code::INVLD_VLM_SIZE, "does not match")),
        )],
    );
    // A failing deployment is rolled back: the new definition is gone again.
    must(
        &mut c,
        &mut e,
        cmd(json!({"cmd": "node_modify", "name": "n2",
        "props": {"override_props": {"TcpPortAutoRange": "7000-7000"}}})),
    );
    check_all(
        &mut c,
        &mut e,
        vec![(
            restore("t3", &[]),
            Err((code::POOL_EXHAUSTED_TCP_PORT, "7000-7000")),
        )],
    );
    assert!(!c.state().resource_definitions.contains_key(&rn("t3")));
}

#[test]
fn multi_snapshots_are_all_or_nothing() {
    let (mut c, mut e) = snapshotted();
    rd_vd(&mut c, &mut e, "r2", 1);
    must(&mut c, &mut e, rsc("r2", "n1", Some("data"), false));
    rd_vd(&mut c, &mut e, "r3", 1);
    must(&mut c, &mut e, rsc("r3", "n3", Some("files"), false));
    let multi = |items: Value| json!({"cmd": "snapshot_create_multi", "snapshots": items});
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                multi(json!([{"rsc_dfn": "rr", "name": "m1"}, {"rsc_dfn": "r2", "name": "m1"}])),
                Err((code::SNAPSHOTS_NOT_SUPPORTED, "cannot take snapshots")),
            ),
            (
                multi(json!([{"rsc_dfn": "rr", "name": "m1", "props": {"Bogus": "x"}}])),
                Err((code::INVLD_PROP, "unknown property key")),
            ),
            (multi(json!([])), Err((code::INVLD_REQUEST, "No snapshot"))),
            (
                multi(
                    json!([{"rsc_dfn": "rr", "name": "m1", "props": {"Aux/by": "test"}},
                    {"rsc_dfn": "r3", "name": "m1", "nodes": ["n3"]}]),
                ),
                Ok(()),
            ),
        ],
    );
    let m1 = SnapshotName::new("m1").unwrap();
    for rd in ["rr", "r3"] {
        assert!(
            c.state().resource_definitions[&rn(rd)]
                .snapshots
                .contains_key(&m1),
            "{rd}"
        );
    }
    let rr = &c.state().resource_definitions[&rn("rr")];
    assert_eq!(rr.snapshots[&m1].props.get("Aux/by"), Some("test"));
}

#[test]
fn definitions_named_by_their_external_name() {
    // python-linstor sends only `external_name` (its `linstor.Resource` then reads the name from
    // `obj_refs["RscDfn"]`), and spawn sends `resource_definition_name: ""` with it.
    let (mut c, mut e) = cluster(1);
    let named = |c: &mut Cluster, e: &mut SeededEnv, v: Value| -> String {
        let o = must(c, e, cmd(v));
        let n = o.rc.0[0].obj_refs["RscDfn"].clone();
        let rd = &c.state().resource_definitions[&rn(&n)];
        assert_eq!(rd.name.as_str(), n);
        n
    };
    let create = |ext: &str| json!({"cmd": "rsc_dfn_create", "name": "", "external_name": ext});
    let spawn = |ext: &str| {
        json!({"cmd": "spawn", "rsc_grp": "DfltRscGrp", "rsc_dfn": "", "external_name": ext,
            "volume_sizes": [1024], "definitions_only": true})
    };
    assert_eq!(named(&mut c, &mut e, create("My Volume ü")), "My_Volume_JQ");
    // Taken (in any case): the first free `_<k>`, the same for the same state.
    assert_eq!(
        named(&mut c, &mut e, create("my volume ü")),
        "my_volume_JQ_2"
    );
    assert_eq!(
        named(&mut c, &mut e, spawn("My Volume ü")),
        "My_Volume_JQ_3"
    );
    assert_eq!(
        c.state().resource_definitions[&rn("My_Volume_JQ_3")]
            .external_name
            .as_deref(),
        Some("My Volume ü")
    );
    // No valid name of its own: `LS_` in front.
    assert_eq!(named(&mut c, &mut e, create("all")), "LS_all");
    let long = "x".repeat(48);
    assert_eq!(named(&mut c, &mut e, create(&long)), long);
    assert_eq!(
        named(&mut c, &mut e, create(&long)),
        format!("{}_2", &long[..46])
    );
    // A name given wins; neither given, or an invalid external name, is refused.
    let both = json!({"cmd": "rsc_dfn_create", "name": "given", "external_name": "Ext"});
    assert_eq!(named(&mut c, &mut e, both), "given");
    check_all(
        &mut c,
        &mut e,
        vec![
            (
                json!({"cmd": "rsc_dfn_create", "name": ""}),
                Err((code::INVLD_RSC_NAME, "Invalid resource name")),
            ),
            (
                create(""),
                Err((code::INVLD_RSC_NAME, "Invalid external name")),
            ),
            (
                spawn(&"x".repeat(300)),
                Err((code::INVLD_RSC_NAME, "Invalid external name")),
            ),
        ],
    );
}
