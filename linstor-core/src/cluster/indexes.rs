//! Index and cache bookkeeping: the derived [`Indexes`] (number pools, resources per node, the
//! placer's cache) and what `Cluster::execute` tells them before and after a command — which
//! definitions leave the pool usage while it runs ([`Cluster::rds_touched_by`]), which placer
//! rows it may change ([`Cluster::placement_marks`]) — plus [`with_placer`] and
//! [`Cluster::one_pending`] for decisions made inside a command.

use std::collections::{BTreeMap, BTreeSet};

use super::Cluster;
use super::api::Command;
use super::numbers::{BitPool, MAX_MINOR};
use crate::name::{NodeName, ResourceName};
use crate::placement::PlacementCache;
use crate::state::ClusterState;

/// Derived indexes, rebuilt from the state; never serialized.
#[derive(Debug, Clone)]
pub(crate) struct Indexes {
    pub minors: BitPool,
    pub ports: BTreeMap<NodeName, BTreeSet<u16>>,
    pub rscs_on_node: BTreeMap<NodeName, BTreeSet<ResourceName>>,
    /// The placer's pool usage and its compact view of nodes and pools. While a command runs,
    /// the definitions in `usage_pending` are subtracted out of the usage (they may change);
    /// `execute` adds them back afterwards, so between commands the usage equals
    /// `PoolUsage::compute(state)`. Changes to nodes, pools and observed state are marked by
    /// `execute` ([`Cluster::mark_placement`]); the view is refreshed before each decision.
    pub placer: PlacementCache,
    pub usage_pending: Vec<ResourceName>,
}

impl Indexes {
    pub(super) fn build(state: &ClusterState) -> Result<Indexes, String> {
        let mut idx = Indexes {
            minors: BitPool::new(MAX_MINOR),
            ports: BTreeMap::new(),
            rscs_on_node: BTreeMap::new(),
            placer: PlacementCache::new(state),
            usage_pending: Vec::new(),
        };
        for rd in state.resource_definitions.values() {
            for vd in rd.volume_definitions.values() {
                if !idx.minors.insert(vd.minor) {
                    return Err(format!(
                        "minor {} is used twice (or out of range)",
                        vd.minor
                    ));
                }
            }
            for r in rd.resources.values() {
                let ports = idx.ports.entry(r.node.clone()).or_default();
                for p in &r.tcp_ports {
                    if !ports.insert(*p) {
                        return Err(format!("TCP port {p} is used twice on node {}", r.node));
                    }
                }
                idx.rscs_on_node
                    .entry(r.node.clone())
                    .or_default()
                    .insert(rd.name.clone());
            }
        }
        Ok(idx)
    }
}

/// Runs a placement decision `f` over the state and the placer's cache as they are now (the
/// view refreshed). The usage holds every definition but the ones the running command may
/// change (`usage_pending`); `rd` is counted as it is for the duration of the decision.
pub(super) fn with_placer<T>(
    c: &mut Cluster,
    rd: &ResourceName,
    f: impl FnOnce(&ClusterState, &mut PlacementCache) -> T,
) -> T {
    let pending = c.idx.usage_pending.contains(rd);
    let def = c.state.resource_definitions.get(rd).filter(|_| pending);
    if let Some(def) = def {
        c.idx.placer.apply_rd(def, true);
    }
    let out = f(&c.state, &mut c.idx.placer);
    if let Some(def) = def {
        c.idx.placer.apply_rd(def, false);
    }
    out
}

impl Cluster {
    /// What a command may change of the placer's view besides pool usage (which follows the
    /// definitions of [`Cluster::rds_touched_by`]): `None` for every row, else the nodes.
    /// Exhaustive on purpose: a new command must decide.
    pub(super) fn placement_marks(&self, cmd: &Command) -> Option<Vec<NodeName>> {
        use Command as C;
        let node = |n: &str| NodeName::new(n).ok().into_iter().collect();
        Some(match cmd {
            // Every row: controller properties (AutoplaceTarget, MinThinFreeSpace, ratios),
            // storage pool definitions (ratios) and the set of nodes.
            C::CtrlPropsModify { .. }
            | C::StorPoolDfnCreate { .. }
            | C::StorPoolDfnModify { .. }
            | C::StorPoolDfnDelete { .. }
            | C::NodeCreate { .. }
            | C::NodeDelete { .. }
            | C::NodeLost { .. } => return None,
            // Net interface changes can rewrite the node's `CurStltConnName` property.
            C::NodeModify { name, .. }
            | C::NodeEvacuate { name, .. }
            | C::NodeRestore { name, .. }
            | C::NodeEvict { name }
            | C::NetIfCreate { node: name, .. }
            | C::NetIfModify { node: name, .. }
            | C::NetIfDelete { node: name, .. } => node(name),
            C::StorPoolCreate { node: n, .. }
            | C::StorPoolModify { node: n, .. }
            | C::StorPoolDelete { node: n, .. }
            | C::NodeReport { node: n, .. }
            | C::StorPoolReport { node: n, .. } => node(n),
            // Nothing the placer reads per node or pool.
            C::RscGrpCreate { .. }
            | C::RscGrpModify { .. }
            | C::RscGrpDelete { .. }
            | C::VlmGrpCreate { .. }
            | C::VlmGrpDelete { .. }
            | C::KvsModify { .. }
            | C::VlmGrpModify { .. }
            | C::KvsDelete { .. }
            | C::SnapshotReport { .. }
            | C::RscReport { .. }
            | C::NodeReconnect { .. }
            | C::NodeConnModify { .. } => Vec::new(),
            // Resources and snapshots change pool usage only (marked by the usage updates).
            C::RscGrpSpawn { .. }
            | C::RscDfnCreate { .. }
            | C::RscDfnModify { .. }
            | C::RscDfnClone { .. }
            | C::RscDfnDelete { .. }
            | C::VlmDfnCreate { .. }
            | C::VlmDfnResize { .. }
            | C::VlmDfnModify { .. }
            | C::VlmDfnDelete { .. }
            | C::RscModify { .. }
            | C::VlmModify { .. }
            | C::RscMakeAvailable { .. }
            | C::RscToggleDisk { .. }
            | C::RscActivate { .. }
            | C::RscDeactivate { .. }
            | C::RscConnModify { .. }
            | C::SnapshotCreateMulti { .. }
            | C::SnapshotRestoreVlmDfn { .. }
            | C::SnapshotRollback { .. }
            | C::RscCreate { .. }
            | C::RscAutoplace { .. }
            | C::RscDelete { .. }
            | C::RscDeleteConfirmed { .. }
            | C::SnapshotCreate { .. }
            | C::SnapshotDelete { .. }
            | C::SnapshotRestore { .. }
            | C::RscGrpAdjust { .. }
            | C::RscBalance { .. } => Vec::new(),
        })
    }

    /// Tells the placer's cache what [`Cluster::placement_marks`] found (nodes that do not
    /// exist have no row to refresh).
    pub(super) fn mark_placement(&mut self, marks: &Option<Vec<NodeName>>) {
        match marks {
            None => self.idx.placer.all_changed(),
            Some(nodes) => {
                for n in nodes {
                    if self.state.nodes.contains_key(n) {
                        self.idx.placer.node_changed(n);
                    }
                }
            }
        }
    }

    /// Runs `f` for one definition with its pool usage taken out (it may change) and put back
    /// afterwards, as `execute` does for a command's definitions: for commands that work on
    /// many definitions one after the other.
    pub(crate) fn one_pending<T>(
        &mut self,
        rd: &ResourceName,
        f: impl FnOnce(&mut Cluster) -> T,
    ) -> T {
        if let Some(d) = self.state.resource_definitions.get(rd) {
            self.idx.placer.apply_rd(d, false);
        }
        self.idx.usage_pending.push(rd.clone());
        let out = f(self);
        if let Some(i) = self.idx.usage_pending.iter().rposition(|n| n == rd) {
            self.idx.usage_pending.remove(i);
        }
        if let Some(d) = self.state.resource_definitions.get(rd) {
            self.idx.placer.apply_rd(d, true);
        }
        out
    }

    /// The resource definitions a command may change (the pool-usage index is updated for them).
    pub(super) fn rds_touched_by(&self, cmd: &Command) -> Vec<ResourceName> {
        use Command as C;
        let names: Vec<&str> = match cmd {
            C::RscGrpSpawn { rsc_dfn, .. }
            | C::VlmDfnCreate { rsc_dfn, .. }
            | C::VlmDfnResize { rsc_dfn, .. }
            | C::RscCreate { rsc_dfn, .. }
            | C::RscAutoplace { rsc_dfn, .. }
            | C::RscDelete { rsc_dfn, .. }
            | C::RscDeleteConfirmed { rsc_dfn, .. }
            | C::SnapshotCreate { rsc_dfn, .. }
            | C::SnapshotDelete { rsc_dfn, .. }
            | C::VlmDfnModify { rsc_dfn, .. }
            | C::VlmDfnDelete { rsc_dfn, .. }
            | C::RscModify { rsc_dfn, .. }
            | C::VlmModify { rsc_dfn, .. }
            | C::RscMakeAvailable { rsc_dfn, .. }
            | C::RscToggleDisk { rsc_dfn, .. }
            | C::RscActivate { rsc_dfn, .. }
            | C::RscDeactivate { rsc_dfn, .. }
            | C::RscConnModify { rsc_dfn, .. }
            | C::SnapshotReport { rsc_dfn, .. }
            | C::SnapshotRollback { rsc_dfn, .. } => vec![rsc_dfn],
            C::RscDfnClone { rsc_dfn, name, .. } => vec![rsc_dfn, name],
            C::SnapshotRestore {
                rsc_dfn, target, ..
            }
            | C::SnapshotRestoreVlmDfn {
                rsc_dfn, target, ..
            } => vec![rsc_dfn, target],
            C::SnapshotCreateMulti { snapshots } => {
                snapshots.iter().map(|s| s.rsc_dfn.as_str()).collect()
            }
            C::RscDfnCreate { name, .. }
            | C::RscDfnModify { name, .. }
            | C::RscDfnDelete { name } => vec![name],
            // Commands over many definitions take each one out and put it back in turn
            // (`Cluster::one_pending`), so every decision sees all the others.
            C::RscBalance { .. } | C::RscGrpAdjust { .. } => Vec::new(),
            C::NodeLost { name } | C::NodeDelete { name } => {
                let Ok(n) = NodeName::new(name) else {
                    return Vec::new();
                };
                let mut out: BTreeSet<ResourceName> = self
                    .idx
                    .rscs_on_node
                    .get(&n)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default();
                // Snapshots on the node go with it, also of definitions without a resource there.
                out.extend(
                    self.state
                        .resource_definitions
                        .values()
                        .filter(|d| d.snapshots.values().any(|s| s.snapshots.contains_key(&n)))
                        .map(|d| d.name.clone()),
                );
                return out.into_iter().collect();
            }
            _ => Vec::new(),
        };
        let mut out: Vec<ResourceName> = names
            .into_iter()
            .filter_map(|n| ResourceName::new(n).ok())
            .collect();
        out.sort();
        out.dedup();
        out
    }
}
