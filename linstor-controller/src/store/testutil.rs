//! Test fixtures of the store: a cluster with an object of every kind, built through
//! `Cluster::execute`, and the desired part of a state (what a store holds).

use linstor_core::cluster::{ChangeSet, Cluster, Outcome, SeededEnv};
use linstor_core::state::ClusterState;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::rows::full_change_set;

/// `state` without its observed part: what a store gives back.
pub(crate) fn desired(state: &ClusterState) -> ClusterState {
    ClusterState {
        observed: Default::default(),
        ..state.clone()
    }
}

/// Runs one command in the JSON clients send; it must succeed.
#[track_caller]
pub(crate) fn must(c: &mut Cluster, e: &mut SeededEnv, cmd: &Value) -> Outcome {
    let o = c.execute_json(&cmd.to_string(), e);
    assert!(!o.is_error(), "{cmd} failed: {}", o.rc);
    o
}

/// The commands of [`scenario`]: three nodes with an LVM and a FILE_THIN pool each,
/// properties on the controller and a pool definition, a group with two volume groups, a
/// spawned definition with a snapshot and a resource connection, a hand-placed resource, a
/// key-value store and a node connection.
pub(crate) fn scenario_commands() -> Vec<Value> {
    let mut cmds = Vec::new();
    for i in 1..=3 {
        let n = format!("n{i}");
        let zone = ["a", "b", "c"][i - 1];
        cmds.push(json!({"cmd": "node_create", "name": n, "node_type": "Satellite",
            "net_interfaces": [{"name": "default", "address": format!("10.0.0.{i}"), "satellite_port": 3366}],
            "props": {"Aux/zone": zone}}));
        cmds.push(
            json!({"cmd": "stor_pool_create", "node": n, "name": "data", "kind": "LVM",
            "props": {"StorDriver/StorPoolName": "vg0"}}),
        );
        cmds.push(
            json!({"cmd": "stor_pool_create", "node": n, "name": "files", "kind": "FILE_THIN",
            "props": {"StorDriver/StorPoolName": "/srv/pool"}}),
        );
    }
    cmds.extend([
        json!({"cmd": "ctrl_props_modify", "props": {"override_props": {"Aux/site": "lab"}}}),
        json!({"cmd": "stor_pool_dfn_modify", "name": "files", "props": {"override_props": {"Aux/tier": "slow"}}}),
        json!({"cmd": "rsc_grp_create", "name": "grp", "description": "two volumes",
            "select_filter": {"place_count": 2, "storage_pool_list": ["files"]}}),
        json!({"cmd": "vlm_grp_create", "rsc_grp": "grp"}),
        json!({"cmd": "vlm_grp_create", "rsc_grp": "grp", "props": {"Aux/v": "1"}}),
        json!({"cmd": "spawn", "rsc_grp": "grp", "rsc_dfn": "web", "volume_sizes": [1048576, 2097152],
            "nodes": [{"node": "n1", "storage_pool": "files"}, {"node": "n2", "storage_pool": "files"}]}),
        // Satellites take snapshots: n1 and n2 are connected for it.
        json!({"cmd": "report_node", "node": "n1", "connection": "ONLINE"}),
        json!({"cmd": "report_node", "node": "n2", "connection": "ONLINE"}),
        json!({"cmd": "snapshot_create", "rsc_dfn": "web", "name": "s1"}),
        json!({"cmd": "rsc_dfn_create", "name": "db", "props": {"Aux/owner": "ops"}}),
        json!({"cmd": "vlm_dfn_create", "rsc_dfn": "db", "size": 1048576}),
        json!({"cmd": "rsc_create", "rsc_dfn": "db", "node": "n3", "storage_pool": "data"}),
        json!({"cmd": "kvs_modify", "name": "kv", "props": {"override_props": {"a": "1", "b/c": "2"}}}),
        json!({"cmd": "node_conn_modify", "node_a": "n2", "node_b": "n1",
            "props": {"override_props": {"Paths/p1/n1": "default", "Paths/p1/n2": "default"}}}),
        json!({"cmd": "rsc_conn_modify", "rsc_dfn": "web", "node_a": "n1", "node_b": "n2",
            "props": {"override_props": {"Aux/link": "fast"}}}),
        json!({"cmd": "report_node", "node": "n1", "connection": "ONLINE"}),
    ]);
    cmds
}

/// A new cluster, then [`scenario_commands`]; with the change sets in order, the first one
/// naming everything `Cluster::new` made.
pub(crate) fn scenario_with_changes() -> (Cluster, SeededEnv, Vec<ChangeSet>) {
    let mut e = SeededEnv::new(7);
    let mut c = Cluster::new(&mut e);
    let mut changes = vec![full_change_set(c.state())];
    for cmd in scenario_commands() {
        changes.push(must(&mut c, &mut e, &cmd).changes);
    }
    (c, e, changes)
}

/// The scenario's cluster and environment.
pub(crate) fn scenario() -> (Cluster, SeededEnv) {
    let (c, e, _) = scenario_with_changes();
    (c, e)
}

const NODES: &[&str] = &["n1", "N2", "n3", "n4"];
const RDS: &[&str] = &["web", "WEB", "db", "r1"];

/// Commands over the scenario's names (in varying case) and a few new ones, that create,
/// change and delete objects of every kind.
pub(crate) fn arb_command() -> impl Strategy<Value = serde_json::Value> {
    let node = || proptest::sample::select(NODES);
    let rd = || proptest::sample::select(RDS);
    let kv = || proptest::sample::select(&["kv", "KV", "other"][..]);
    let pool = || proptest::sample::select(&["data", "files", "Spare"][..]);
    let grp = || proptest::sample::select(&["grp", "GRP", "g2"][..]);
    let v = || 0u8..3;
    prop_oneof![
        (node(), 1u8..9).prop_map(|(n, i)| json!({"cmd": "node_create", "name": n, "node_type": "Satellite",
            "net_interfaces": [{"name": "default", "address": format!("10.0.1.{i}")}]})),
        node().prop_map(|n| json!({"cmd": "node_delete", "name": n})),
        node().prop_map(|n| json!({"cmd": "node_lost", "name": n})),
        (node(), v()).prop_map(|(n, v)| json!({"cmd": "node_modify", "name": n,
            "props": {"override_props": {"Aux/zone": v.to_string()}}})),
        node().prop_map(|n| json!({"cmd": "net_if_create", "node": n,
            "netif": {"name": "repl", "address": "192.168.0.1"}})),
        node().prop_map(|n| json!({"cmd": "net_if_delete", "node": n, "name": "repl"})),
        node().prop_map(|n| json!({"cmd": "report_node", "node": n, "connection": "ONLINE"})),
        node().prop_map(|n| json!({"cmd": "report_pool_capacity", "node": n, "pool": "files",
            "free": 104857600, "total": 104857600})),
        (node(), pool()).prop_map(|(n, p)| json!({"cmd": "stor_pool_create", "node": n, "name": p,
            "kind": "FILE_THIN", "props": {"StorDriver/StorPoolName": "/srv/p"}})),
        (node(), pool()).prop_map(|(n, p)| json!({"cmd": "stor_pool_delete", "node": n, "name": p})),
        pool().prop_map(|p| json!({"cmd": "stor_pool_dfn_create", "name": p})),
        pool().prop_map(|p| json!({"cmd": "stor_pool_dfn_delete", "name": p})),
        (pool(), v()).prop_map(|(p, v)| json!({"cmd": "stor_pool_dfn_modify", "name": p,
            "props": {"override_props": {"Aux/x": v.to_string()}}})),
        grp().prop_map(|g| json!({"cmd": "rsc_grp_create", "name": g})),
        grp().prop_map(|g| json!({"cmd": "rsc_grp_delete", "name": g})),
        (grp(), v()).prop_map(|(g, v)| json!({"cmd": "rsc_grp_modify", "name": g, "description": v.to_string()})),
        grp().prop_map(|g| json!({"cmd": "vlm_grp_create", "rsc_grp": g})),
        grp().prop_map(|g| json!({"cmd": "vlm_grp_delete", "rsc_grp": g, "number": 0})),
        (grp(), rd()).prop_map(|(g, r)| json!({"cmd": "spawn", "rsc_grp": g, "rsc_dfn": r,
            "volume_sizes": [1048576], "partial": true, "definitions_only": true})),
        rd().prop_map(|r| json!({"cmd": "rsc_dfn_create", "name": r})),
        rd().prop_map(|r| json!({"cmd": "rsc_dfn_delete", "name": r})),
        (rd(), v()).prop_map(|(r, v)| json!({"cmd": "rsc_dfn_modify", "name": r,
            "props": {"override_props": {"Aux/v": v.to_string()}}})),
        rd().prop_map(|r| json!({"cmd": "vlm_dfn_create", "rsc_dfn": r, "size": 1048576})),
        (rd(), node()).prop_map(|(r, n)| json!({"cmd": "rsc_create", "rsc_dfn": r, "node": n, "storage_pool": "files"})),
        (rd(), node()).prop_map(|(r, n)| json!({"cmd": "rsc_delete", "rsc_dfn": r, "node": n})),
        (rd(), node()).prop_map(|(r, n)| json!({"cmd": "resource_deleted", "rsc_dfn": r, "node": n})),
        (rd(), 1u32..4).prop_map(|(r, n)| json!({"cmd": "autoplace", "rsc_dfn": r,
            "select_filter": {"place_count": n, "storage_pool_list": ["files"]}})),
        rd().prop_map(|r| json!({"cmd": "snapshot_create", "rsc_dfn": r, "name": "s2"})),
        (rd(), proptest::sample::select(&["s1", "s2"][..])).prop_map(|(r, s)| json!({"cmd": "snapshot_delete", "rsc_dfn": r, "name": s})),
        rd().prop_map(|t| json!({"cmd": "snapshot_restore", "rsc_dfn": "web", "snapshot": "s1", "target": t})),
        (kv(), v()).prop_map(|(k, v)| json!({"cmd": "kvs_modify", "name": k,
            "props": {"override_props": {"k": v.to_string()}}})),
        kv().prop_map(|k| json!({"cmd": "kvs_delete", "name": k})),
        v().prop_map(|v| json!({"cmd": "ctrl_props_modify", "props": {"override_props": {"Aux/v": v.to_string()}}})),
    ]
}
