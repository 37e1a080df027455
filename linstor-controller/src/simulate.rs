//! `--simulate-satellites`: until real satellites connect (the satellite issue), the controller
//! can answer for them — every node is reported ONLINE with every provider and the DRBD and
//! STORAGE layers, every storage pool with a fixed capacity, every resource that is created or
//! changed (or whose volumes are) UpToDate, Established and not in use, as if its data had
//! synced at once, and every deletion confirmed. It is SIMULATED: the startup log,
//! `/health`, `/metrics` and `GET /v1/controller/version` say so, and nothing is stored on any
//! disk. Benchmarks and client tests use it to exercise placement over online nodes.
//!
//! Decision only: [`follow_ups`] returns the report commands a change set calls for; the engine
//! executes them in the same batch.

use linstor_core::SizeKib;
use linstor_core::cluster::{ChangeSet, Command, ObjKey};
use linstor_core::model::{
    Capabilities, ConnectionStatus, LayerKind, ProviderKind, RscFlags, RscObserved,
};
use linstor_core::state::ClusterState;

/// What simulated satellites report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Simulation {
    /// Capacity of every non-diskless storage pool, KiB.
    pub pool_kib: u64,
}

impl Default for Simulation {
    fn default() -> Self {
        // 100 TiB: enough for benchmarks of tens of thousands of volumes per pool.
        Simulation {
            pool_kib: 100 << 30,
        }
    }
}

fn capabilities() -> Capabilities {
    use ProviderKind as P;
    Capabilities {
        storage_providers: vec![
            P::DISKLESS,
            P::LVM,
            P::LVM_THIN,
            P::ZFS,
            P::ZFS_THIN,
            P::FILE,
            P::FILE_THIN,
        ],
        resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
        unsupported_providers: Default::default(),
        unsupported_layers: Default::default(),
        drbd_version: Some((9, 2, 12)),
    }
}

fn node_online(node: &str) -> Command {
    Command::NodeReport {
        node: node.to_owned(),
        connection: ConnectionStatus::ONLINE,
        capabilities: Some(capabilities()),
    }
}

fn pool_report(sim: Simulation, node: &str, pool: &str, diskless: bool) -> Command {
    let kib = if diskless { 0 } else { sim.pool_kib };
    Command::StorPoolReport {
        node: node.to_owned(),
        pool: pool.to_owned(),
        free: SizeKib(kib),
        total: SizeKib(kib),
    }
}

/// The reports the objects created by `changes` call for: connections and capacities first,
/// delete confirmations, then the DRBD state of the resources that changed (a report made
/// before a node's connection report would be dropped by it).
pub fn follow_ups(sim: Simulation, state: &ClusterState, changes: &ChangeSet) -> Vec<Command> {
    let mut out = Vec::new();
    for key in &changes.created {
        match key {
            ObjKey::Node { node } => {
                out.push(node_online(node.as_str()));
                if let Some(n) = state.nodes.get(node) {
                    for p in n.storage_pools.values() {
                        out.push(pool_report(
                            sim,
                            node.as_str(),
                            p.name.as_str(),
                            p.kind == ProviderKind::DISKLESS,
                        ));
                    }
                }
            }
            ObjKey::StorPool { node, pool } => {
                let diskless = state
                    .storage_pool(node, pool)
                    .is_some_and(|p| p.kind == ProviderKind::DISKLESS);
                out.push(pool_report(sim, node.as_str(), pool.as_str(), diskless));
            }
            ObjKey::Rsc { rsc_dfn, .. } | ObjKey::RscDfn { rsc_dfn } => {
                confirm_deletes(state, rsc_dfn, &mut out);
            }
            _ => {}
        }
    }
    for key in &changes.modified {
        if let ObjKey::Rsc { rsc_dfn, .. } | ObjKey::RscDfn { rsc_dfn } = key {
            confirm_deletes(state, rsc_dfn, &mut out);
        }
    }
    out.extend(rsc_reports(state, changes));
    out.dedup();
    out
}

/// A simulated satellite's report of a resource: its data is UpToDate everywhere at once
/// (Diskless where it has no disk), on `/dev/drbd<minor>`, at its full size.
fn synced(state: &ClusterState, rsc_dfn: &str, node: &str) -> Command {
    let d = linstor_core::ResourceName::new(rsc_dfn)
        .ok()
        .and_then(|n| state.resource_definitions.get(&n));
    let diskless = d
        .and_then(|d| {
            let n = linstor_core::NodeName::new(node).ok()?;
            d.resources.get(&n).map(|r| r.is_diskless())
        })
        .unwrap_or(false);
    let mut volumes = linstor_core::vec_map::VecMap::new();
    for v in d
        .map(|d| d.volume_definitions.values())
        .into_iter()
        .flatten()
    {
        volumes.insert(
            v.number,
            linstor_core::model::VlmObserved {
                disk_state: if diskless { "Diskless" } else { "UpToDate" }.to_owned(),
                device_path: Some(format!("/dev/drbd{}", v.minor)),
                backing_device: None,
                usable_kib: v.size.kib(),
                allocated_kib: None,
                replication: std::collections::BTreeMap::new(),
            },
        );
    }
    Command::RscReport {
        node: node.to_owned(),
        rsc_dfn: rsc_dfn.to_owned(),
        state: RscObserved {
            in_use: false,
            up_to_date: true,
            established: true,
            volumes,
            ..RscObserved::default()
        },
    }
}

/// The reports of every live resource whose resource, definition or volume definition
/// `changes` created or modified (the core drops reports when volumes or disks change).
fn rsc_reports(state: &ClusterState, changes: &ChangeSet) -> Vec<Command> {
    let mut rscs = std::collections::BTreeSet::new();
    for key in changes.created.iter().chain(&changes.modified) {
        let (rd, only) = match key {
            ObjKey::Rsc { rsc_dfn, node } => (rsc_dfn, Some(node)),
            ObjKey::RscDfn { rsc_dfn } | ObjKey::VlmDfn { rsc_dfn, .. } => (rsc_dfn, None),
            _ => continue,
        };
        let Some(d) = state.resource_definitions.get(rd) else {
            continue;
        };
        let live = d.resources.values().filter(|r| !r.is_deleting());
        for r in live.filter(|r| only.is_none_or(|n| *n == r.node)) {
            rscs.insert((rd.clone(), r.node.clone()));
        }
    }
    rscs.iter()
        .map(|(rd, node)| synced(state, rd.as_str(), node.as_str()))
        .collect()
}

/// A simulated satellite removes a resource marked for deletion at once and confirms it.
fn confirm_deletes(
    state: &ClusterState,
    rsc_dfn: &linstor_core::ResourceName,
    out: &mut Vec<Command>,
) {
    let Some(d) = state.resource_definitions.get(rsc_dfn) else {
        return;
    };
    for r in d
        .resources
        .values()
        .filter(|r| r.flags.contains(RscFlags::DELETE))
    {
        out.push(Command::RscDeleteConfirmed {
            rsc_dfn: rsc_dfn.to_string(),
            node: r.node.to_string(),
        });
    }
}

/// The reports for a whole loaded state (every node and pool), after a start.
pub fn at_start(sim: Simulation, state: &ClusterState) -> Vec<Command> {
    // A node's follow-ups include its pools.
    let changes = crate::store::rows::full_change_set(state);
    follow_ups(sim, state, &changes)
}

#[cfg(test)]
mod tests {
    use linstor_core::cluster::{Cluster, SeededEnv};

    use super::*;

    #[test]
    fn created_nodes_come_online_and_pools_report_capacity() {
        let mut env = SeededEnv::new(1);
        let mut c = Cluster::new(&mut env);
        let node = r#"{"cmd":"node_create","name":"alpha","node_type":"Satellite","net_interfaces":[{"name":"default","address":"10.0.0.1"}]}"#;
        let out = c.execute_json(node, &mut env);
        let cmds = follow_ups(Simulation::default(), c.state(), &out.changes);
        assert!(!cmds.is_empty(), "{:?} {:?}", out.rc, out.changes);
        assert!(matches!(
            &cmds[0],
            Command::NodeReport {
                connection: ConnectionStatus::ONLINE,
                ..
            }
        ));
        for cmd in cmds {
            let out = c.execute(cmd, &mut env);
            assert!(!out.is_error(), "{:?}", out.rc);
        }
        let pool = r#"{"cmd":"stor_pool_create","node":"alpha","name":"pool1","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/tmp/p"}}"#;
        let out = c.execute_json(pool, &mut env);
        assert!(!out.is_error(), "{:?}", out.rc);
        let cmds = follow_ups(Simulation { pool_kib: 1024 }, c.state(), &out.changes);
        assert_eq!(
            cmds,
            vec![pool_report(
                Simulation { pool_kib: 1024 },
                "alpha",
                "pool1",
                false
            )]
        );
        assert!(at_start(Simulation::default(), c.state()).len() >= 3);
    }

    /// Runs `json` and every follow-up a simulated satellite sends; answers the follow-ups.
    fn run_simulated(c: &mut Cluster, env: &mut SeededEnv, json: &str) -> Vec<Command> {
        let out = c.execute_json(json, env);
        assert!(!out.is_error(), "{json}: {:?}", out.rc);
        let cmds = follow_ups(Simulation::default(), c.state(), &out.changes);
        for cmd in &cmds {
            let out = c.execute(cmd.clone(), env);
            assert!(!out.is_error(), "{cmd:?}: {:?}", out.rc);
        }
        cmds
    }

    #[test]
    fn changed_resources_report_their_data_in_sync() {
        let mut env = SeededEnv::new(1);
        let mut c = Cluster::new(&mut env);
        for step in [
            r#"{"cmd":"node_create","name":"alpha","node_type":"Satellite","net_interfaces":[{"name":"default","address":"10.0.0.1"}]}"#,
            r#"{"cmd":"stor_pool_create","node":"alpha","name":"pool1","kind":"FILE_THIN","props":{"StorDriver/StorPoolName":"/tmp/p"}}"#,
            r#"{"cmd":"rsc_dfn_create","name":"r1"}"#,
            r#"{"cmd":"vlm_dfn_create","rsc_dfn":"r1","size":1024}"#,
        ] {
            run_simulated(&mut c, &mut env, step);
        }
        let create = r#"{"cmd":"rsc_create","rsc_dfn":"r1","node":"alpha","storage_pool":"pool1"}"#;
        let cmds = run_simulated(&mut c, &mut env, create);
        assert_eq!(cmds, vec![synced(c.state(), "r1", "alpha")]);
        assert!(c.synced_on_all("r1").is_ok_and(|s| s));
        // A grown volume drops the reports; the simulated satellite reports again.
        let grow = r#"{"cmd":"vlm_dfn_resize","rsc_dfn":"r1","number":0,"size":2048}"#;
        let cmds = run_simulated(&mut c, &mut env, grow);
        assert_eq!(cmds, vec![synced(c.state(), "r1", "alpha")]);
        assert!(c.synced_on_all("r1").is_ok_and(|s| s));
        // After a restart every resource is reported after every node.
        let start = at_start(Simulation::default(), c.state());
        assert_eq!(start.last(), Some(&synced(c.state(), "r1", "alpha")));
    }
}
