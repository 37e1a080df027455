//! Test fixtures of the store: a cluster with an object of every kind, built through
//! `Cluster::execute`, and the desired part of a state (what a store holds).

use linstor_core::cluster::{ChangeSet, Cluster, Outcome, SeededEnv};
use linstor_core::state::ClusterState;
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
