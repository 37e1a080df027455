//! The controller's side of the satellite links: one task per node connects to the node's
//! satellite (its net interface with a `satellite_port`), authenticates with the cluster key,
//! sends the node's projection whenever it changes, and turns the satellite's reports into
//! the core's report commands.
//!
//! Node status follows LINSTOR: `OFFLINE` until a link is up, `CONNECTED` once authenticated,
//! `ONLINE` with the first report (the full sync done), `OFFLINE` again when the link is lost
//! (with reconnects under back-off). The projection is recomputed after a commit and sent only
//! when it differs from what the node has, so a burst of commits costs one send; while the
//! satellite has not yet reported the projection last sent (it is still working on it), commits
//! are only noted, and the projection goes out once, with its report.
//!
//! Physical-storage questions go through [`hub::Hub`] to the node's connected link.
//!
//! Decision apart from application: [`report::commands`] turns a report into core commands
//! (pure, tested); [`node`] does the IO.

pub mod hub;
pub mod node;
pub mod report;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use linstor_core::NodeName;
use linstor_core::cluster::ObjKey;
use linstor_core::state::ClusterState;
use linstor_link::ClusterKey;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::engine::Engine;

/// Where a node's satellite listens, and whether over TLS, from its net interfaces (the first
/// with a `satellite_port`, `default` preferred).
pub fn satellite_addr(state: &ClusterState, node: &NodeName) -> Option<(SocketAddr, bool)> {
    let n = state.nodes.get(node)?;
    let mut ifs: Vec<_> = n
        .net_interfaces
        .values()
        .filter(|i| i.satellite_port.is_some())
        .collect();
    ifs.sort_by_key(|i| i.name.as_str() != "default");
    let i = ifs.first()?;
    let tls = i.encryption == linstor_core::model::EncryptionType::Ssl;
    Some((SocketAddr::new(i.address, i.satellite_port?), tls))
}

/// Runs the links of every node until the engine stops.
pub async fn run(
    engine: Engine,
    hub: Arc<hub::Hub>,
    reports: Arc<crate::reports::ErrorReports>,
    key: Arc<ClusterKey>,
    tls: Option<Arc<linstor_link::TlsConnector>>,
) {
    tokio::spawn(finish_moves(engine.clone()));
    let mut commits = engine.subscribe();
    let (version_tx, version_rx) = watch::channel(0u64);
    let mut tasks: BTreeMap<NodeName, ((SocketAddr, bool), JoinHandle<()>)> = BTreeMap::new();
    let mut version = 0u64;
    loop {
        let wanted: BTreeMap<NodeName, (SocketAddr, bool)> = {
            let c = engine.read();
            let s = c.state();
            s.nodes
                .keys()
                .filter_map(|n| satellite_addr(s, n).map(|a| (n.clone(), a)))
                .collect()
        };
        tasks.retain(|name, (addr, task)| {
            let keep = wanted.get(name) == Some(addr) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for (name, addr) in wanted {
            if let std::collections::btree_map::Entry::Vacant(slot) = tasks.entry(name) {
                let name = slot.key().clone();
                let link = node::NodeLink {
                    engine: engine.clone(),
                    hub: hub.clone(),
                    reports: reports.clone(),
                    key: key.clone(),
                    node: name,
                    addr: addr.0,
                    tls: addr.1.then(|| tls.clone()),
                    status: None,
                };
                let task = tokio::spawn(link.run(version_rx.clone()));
                slot.insert((addr, task));
            }
        }
        let nodes_changed = loop {
            match commits.recv().await {
                Ok(c) => {
                    version += 1;
                    let _ = version_tx.send(version);
                    if c.changes.iter().any(touches_nodes) {
                        break true;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    version += 1;
                    let _ = version_tx.send(version);
                    break true;
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break false,
            }
        };
        if !nodes_changed {
            for (_, (_, t)) in tasks {
                t.abort();
            }
            return;
        }
    }
}

fn touches_nodes(c: &linstor_core::cluster::ChangeSet) -> bool {
    c.created
        .iter()
        .chain(&c.modified)
        .chain(&c.deleted)
        .any(|k| matches!(k, ObjKey::Node { .. } | ObjKey::NetIf { .. }))
}

/// How often evacuations and disk migrations under way are pushed on.
pub const FINISH_MOVES_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the balance step for every definition with a move under way
/// ([`linstor_core::cluster::balance::unfinished_moves`]), every [`FINISH_MOVES_EVERY`]. Reports
/// trigger it too, but the step skips while a node is offline, and once every replica is in
/// sync no report may come again (found by the chaos run: an evacuation stayed unfinished).
async fn finish_moves(engine: Engine) {
    let mut tick = tokio::time::interval(FINISH_MOVES_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let moving = linstor_core::cluster::balance::unfinished_moves(engine.read().state());
        if moving.is_empty() {
            continue;
        }
        let cmds = moving
            .into_iter()
            .map(|rd| linstor_core::cluster::Command::RscBalance {
                rsc_dfn: Some(rd.to_string()),
            })
            .collect();
        if engine.submit(cmds).await.is_err() {
            return;
        }
    }
}
