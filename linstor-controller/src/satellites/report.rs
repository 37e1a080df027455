//! A satellite's report → the core's report commands (pure).
//!
//! Only what changed since the previous report of the same link becomes a command, so a
//! steady node costs nothing; the first report of a link also sets the node `ONLINE` with its
//! capabilities.

use linstor_core::NodeName;
use linstor_core::cluster::Command;
use linstor_core::model::ConnectionStatus;
use linstor_proto::SatelliteReport;

/// The commands `now` calls for, given the previous report `before` on this link (`None`:
/// the first).
pub fn commands(
    node: &NodeName,
    before: Option<&SatelliteReport>,
    now: &SatelliteReport,
) -> Vec<Command> {
    let n = node.to_string();
    let mut out = Vec::new();
    // New capabilities make the core forget earlier resource reports: send them all again.
    let before = before.filter(|b| b.capabilities == now.capabilities);
    if before.is_none() {
        out.push(Command::NodeReport {
            node: n.clone(),
            connection: ConnectionStatus::ONLINE,
            capabilities: Some(now.capabilities.clone()),
        });
    }
    for (pool, r) in &now.pools {
        let Some(c) = r.capacity else { continue };
        if before
            .and_then(|b| b.pools.get(pool))
            .and_then(|p| p.capacity)
            == Some(c)
        {
            continue;
        }
        out.push(Command::StorPoolReport {
            node: n.clone(),
            pool: pool.to_string(),
            free: c.free,
            total: c.total,
        });
    }
    for (rsc, r) in &now.resources {
        if before.and_then(|b| b.resources.get(rsc)) == Some(r) {
            continue;
        }
        out.push(Command::RscReport {
            node: n.clone(),
            rsc_dfn: rsc.to_string(),
            state: r.clone(),
        });
    }
    for (rsc, snap) in &now.snapshots {
        if before.is_some_and(|b| b.snapshots.contains(&(rsc.clone(), snap.clone()))) {
            continue;
        }
        out.push(Command::SnapshotReport {
            node: n.clone(),
            rsc_dfn: rsc.to_string(),
            snapshot: snap.to_string(),
        });
    }
    for rsc in &now.deleted {
        out.push(Command::RscDeleteConfirmed {
            rsc_dfn: rsc.to_string(),
            node: n.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use linstor_core::model::{PoolCapacity, RscObserved};
    use linstor_core::{ResourceName, SizeKib, StorPoolName};
    use linstor_proto::PoolReport;

    fn report(free: u64, up: bool) -> SatelliteReport {
        let mut r = SatelliteReport::default();
        r.pools.insert(
            StorPoolName::new("thin").unwrap(),
            PoolReport {
                capacity: Some(PoolCapacity {
                    free: SizeKib(free),
                    total: SizeKib(100),
                }),
                error: None,
            },
        );
        r.resources.insert(
            ResourceName::new("r0").unwrap(),
            RscObserved {
                in_use: false,
                up_to_date: up,
                established: up,
                ..RscObserved::default()
            },
        );
        r
    }

    #[test]
    fn only_changes_become_commands() {
        let node = NodeName::new("alpha").unwrap();
        let first = report(50, false);
        let cmds = commands(&node, None, &first);
        assert_eq!(cmds.len(), 3, "{cmds:?}");
        assert!(commands(&node, Some(&first), &first).is_empty());
        let later = report(40, true);
        let cmds = commands(&node, Some(&first), &later);
        assert!(matches!(
            cmds[0],
            Command::StorPoolReport {
                free: SizeKib(40),
                ..
            }
        ));
        assert!(matches!(cmds[1], Command::RscReport { .. }));
        let mut gone = later.clone();
        gone.deleted.push(ResourceName::new("r1").unwrap());
        let cmds = commands(&node, Some(&later), &gone);
        assert!(matches!(&cmds[..], [Command::RscDeleteConfirmed { .. }]));
    }
}
