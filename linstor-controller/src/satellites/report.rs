//! A satellite's report → the core's report commands (pure).
//!
//! Only what changed since the previous report of the same link becomes a command, so a
//! steady node costs nothing; the first report of a link also sets the node `ONLINE` with its
//! capabilities.

use linstor_core::NodeName;
use linstor_core::cluster::Command;
use std::collections::BTreeMap;

use linstor_core::ResourceName;
use linstor_core::model::{ConnectionStatus, RscObserved};
use linstor_proto::SatelliteReport;

/// The commands `now` calls for, given the previous report `before` on this link (`None`:
/// the first) and the resource states the core holds for this node (`held`).
///
/// Pools and snapshots are reported when they changed since `before`. A resource is reported
/// whenever the core does not hold exactly its state: comparing with the last report alone
/// would leave a replica the core deleted and created again (a tiebreaker moved away and
/// back, a resource deleted and re-made under its name) without any observed state while the
/// satellite's report of it never changes.
pub fn commands(
    node: &NodeName,
    before: Option<&SatelliteReport>,
    now: &SatelliteReport,
    held: &BTreeMap<ResourceName, RscObserved>,
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
        // A first report (NodeReport) makes the core forget what it held.
        if before.is_some() && held.get(rsc) == Some(r) {
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
    use linstor_core::SizeKib;
    use linstor_core::StorPoolName;
    use linstor_core::model::PoolCapacity;
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
        let cmds = commands(&node, None, &first, &first.resources);
        assert_eq!(cmds.len(), 3, "{cmds:?}");
        assert!(commands(&node, Some(&first), &first, &first.resources).is_empty());
        let later = report(40, true);
        let cmds = commands(&node, Some(&first), &later, &first.resources);
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
        let cmds = commands(&node, Some(&later), &gone, &later.resources);
        assert!(matches!(&cmds[..], [Command::RscDeleteConfirmed { .. }]));
    }

    /// Found by the chaos run: a tiebreaker removed and placed again on the same node kept no
    /// observed state, because the satellite's report of it had not changed.
    #[test]
    fn a_replica_the_core_forgot_is_reported_again_though_the_report_did_not_change() {
        let node = NodeName::new("alpha").unwrap();
        let r = report(50, true);
        let forgotten = BTreeMap::new();
        let cmds = commands(&node, Some(&r), &r, &forgotten);
        assert!(
            matches!(&cmds[..], [Command::RscReport { rsc_dfn, .. }] if rsc_dfn == "r0"),
            "{cmds:?}"
        );
        let mut other = r.resources.clone();
        other.values_mut().for_each(|o| o.up_to_date = false);
        assert_eq!(
            commands(&node, Some(&r), &r, &other).len(),
            1,
            "held differs"
        );
    }
}
