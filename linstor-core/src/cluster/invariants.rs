//! The invariants every reachable state keeps; checked on load and by the property tests.

use std::collections::{BTreeMap, BTreeSet};

use super::Cluster;
use super::indexes::Indexes;
use super::numbers::{MAX_MINOR, MAX_NODE_ID};
use crate::model::{Connections, LayerKind, ResourceDefinition};
use crate::name::{NodeName, StorPoolName, well_known};
use crate::state::ClusterState;

type Sets<K, V> = BTreeMap<K, BTreeSet<V>>;

/// True if `a` and `b` hold the same non-empty sets (empty ones do not count).
fn same_nonempty<K: Eq, V: Eq>(a: &Sets<K, V>, b: &Sets<K, V>) -> bool {
    fn nonempty<K, V>(m: &Sets<K, V>) -> impl Iterator<Item = (&K, &BTreeSet<V>)> {
        m.iter().filter(|(_, v)| !v.is_empty())
    }
    nonempty(a).eq(nonempty(b))
}

impl Cluster {
    /// Checks every invariant; `Err` names the first one broken.
    ///
    /// - no two volume definitions share a minor, and every minor is in range;
    /// - no two resources on one node share a TCP port;
    /// - DRBD node ids are unique per resource definition and ≤ 31;
    /// - nothing references an absent object (resource group, node, storage pool, pool definition);
    /// - every node has `DfltDisklessStorPool`, and `DfltRscGrp` exists;
    /// - every resource has exactly one volume per volume definition, in a pool of the right kind;
    /// - connections (node and resource) are keyed in order, between present ends, non-empty;
    /// - the derived indexes equal a fresh rebuild.
    pub fn check_invariants(&self) -> Result<(), String> {
        check_state(&self.state)?;
        self.check_indexes()
    }

    /// The derived indexes equal a fresh rebuild, and nothing is left pending.
    fn check_indexes(&self) -> Result<(), String> {
        let s = &self.state;
        let fresh = Indexes::build(s)?;
        if !self.idx.usage_pending.is_empty() {
            return Err("pool usage index: definitions still pending".into());
        }
        self.idx.placer.check_with(s, fresh.placer.usage())?;
        if fresh.minors != self.idx.minors {
            return Err("minor index out of date".into());
        }
        if !same_nonempty(&fresh.ports, &self.idx.ports) {
            return Err("port index out of date".into());
        }
        if !same_nonempty(&fresh.rscs_on_node, &self.idx.rscs_on_node) {
            return Err("resource-per-node index out of date".into());
        }
        Ok(())
    }
}

/// Every invariant of the state itself ([`Cluster::check_invariants`] but the indexes, which
/// `Cluster::from_state` has just built from it).
pub(super) fn check_state(s: &ClusterState) -> Result<(), String> {
    if !s
        .resource_groups
        .keys()
        .any(|g| g.as_str().eq_ignore_ascii_case(well_known::DFLT_RSC_GRP))
    {
        return Err("DfltRscGrp is missing".into());
    }
    check_nodes(s)?;
    check_connections("node", &s.node_connections, |n| s.nodes.contains_key(n))?;
    check_observed(s)?;
    check_definitions(s)
}

/// Nodes, their pools and interfaces: keys match, every node has `DfltDisklessStorPool`, every
/// pool a definition and a valid shared-space name.
fn check_nodes(s: &ClusterState) -> Result<(), String> {
    let dl = StorPoolName::new(well_known::DFLT_DISKLESS_STOR_POOL).expect("valid");
    for (nk, n) in &s.nodes {
        if *nk != n.name {
            return Err(format!("node key {nk} holds node {}", n.name));
        }
        if !n.storage_pools.contains_key(&dl) {
            return Err(format!("node {nk} has no {dl}"));
        }
        for (pk, p) in &n.storage_pools {
            if *pk != p.name || p.node != *nk {
                return Err(format!("pool key {nk}/{pk} mismatch"));
            }
            if !s.storage_pool_definitions.contains_key(pk) {
                return Err(format!("pool {nk}/{pk} has no definition"));
            }
            if p.free_space_mgr_name.contains(';') && !crate::placement::filter::default_shared(p) {
                return Err(format!(
                    "pool {nk}/{pk}: shared space name '{}' contains ';' but is not '{nk};{pk}'",
                    p.free_space_mgr_name
                ));
            }
        }
        if n.net_interfaces.is_empty() && n.node_type != crate::model::NodeType::Auxiliary {
            return Err(format!("node {nk} has no net interface"));
        }
    }
    Ok(())
}

/// Connections: keyed by the lesser node name, then the greater (two different nodes), keys
/// matching the fields, both ends present (`present`), and some properties.
fn check_connections(
    what: &str,
    conns: &Connections,
    present: impl Fn(&NodeName) -> bool,
) -> Result<(), String> {
    for (a, m) in conns {
        if m.is_empty() {
            return Err(format!("{what} connections of {a}: an empty map is kept"));
        }
        for (b, conn) in m {
            if a >= b || conn.node_a != *a || conn.node_b != *b {
                return Err(format!(
                    "{what} connection {a}/{b}: keys out of order or mismatched"
                ));
            }
            if !present(a) || !present(b) {
                return Err(format!("{what} connection {a}/{b}: an end is absent"));
            }
            if conn.props.is_empty() {
                return Err(format!("{what} connection {a}/{b} has no properties"));
            }
        }
    }
    Ok(())
}

/// Observed state only for nodes and resources that exist.
fn check_observed(s: &ClusterState) -> Result<(), String> {
    for (on, o) in &s.observed.nodes {
        if !s.nodes.contains_key(on) {
            return Err(format!("observed state for absent node {on}"));
        }
        for rk in o.resources.keys() {
            let present = s
                .resource_definitions
                .get(rk)
                .is_some_and(|d| d.resources.contains_key(on));
            if !present {
                return Err(format!("observed state for absent resource {rk} on {on}"));
            }
        }
    }
    Ok(())
}

/// Resource definitions, their resources, volumes and snapshots: numbers unique and in range,
/// references present, one volume per volume definition in a pool of the right kind.
fn check_definitions(s: &ClusterState) -> Result<(), String> {
    let mut minors = BTreeSet::new();
    let mut ports: BTreeMap<_, BTreeSet<u16>> = BTreeMap::new();
    for (rk, rd) in &s.resource_definitions {
        if *rk != rd.name {
            return Err(format!("resource definition key {rk} mismatch"));
        }
        if !s.resource_groups.contains_key(&rd.resource_group) {
            return Err(format!(
                "{rk} references absent resource group {}",
                rd.resource_group
            ));
        }
        for vd in rd.volume_definitions.values() {
            if vd.minor > MAX_MINOR || !minors.insert(vd.minor) {
                return Err(format!(
                    "minor {} of {rk}/{} is duplicate or out of range",
                    vd.minor, vd.number
                ));
            }
        }
        let mut ids = BTreeSet::new();
        let drbd = rd.layer_stack.contains(&LayerKind::DRBD);
        for (nk, r) in &rd.resources {
            if *nk != r.node {
                return Err(format!("resource key {rk}/{nk} mismatch"));
            }
            let Some(node) = s.nodes.get(nk) else {
                return Err(format!("resource {rk} on absent node {nk}"));
            };
            if drbd && (r.node_id > MAX_NODE_ID || !ids.insert(r.node_id)) {
                return Err(format!(
                    "node id {} of {rk} on {nk} is duplicate or > 31",
                    r.node_id
                ));
            }
            for p in &r.tcp_ports {
                if !ports.entry(nk.clone()).or_default().insert(*p) {
                    return Err(format!("TCP port {p} used twice on node {nk}"));
                }
            }
            if r.volumes.keys().ne(rd.volume_definitions.keys()) {
                return Err(format!(
                    "resource {rk} on {nk} has volumes {:?} but definitions {:?}",
                    r.volumes.keys().collect::<Vec<_>>(),
                    rd.volume_definitions.keys().collect::<Vec<_>>()
                ));
            }
            for v in r.volumes.values() {
                let Some(p) = node.storage_pools.get(&v.storage_pool) else {
                    return Err(format!(
                        "volume {rk}/{nk}/{} in absent pool {}",
                        v.number, v.storage_pool
                    ));
                };
                if p.kind.is_diskful() == r.is_diskless() {
                    return Err(format!(
                        "volume {rk}/{nk}/{} in a {} pool but resource diskless={}",
                        v.number,
                        p.kind,
                        r.is_diskless()
                    ));
                }
            }
        }
        let what = format!("{rk} resource");
        check_connections(&what, &rd.resource_connections, |n| {
            rd.resources.contains_key(n)
        })?;
        if drbd && rd.resources.len() > usize::from(rd.drbd.peer_slots) + 1 {
            return Err(format!("{rk} has more resources than peer slots allow"));
        }
        check_snapshots(s, rd)?;
    }
    Ok(())
}

/// Snapshots of `rd` are on present nodes, in present pools.
fn check_snapshots(s: &ClusterState, rd: &ResourceDefinition) -> Result<(), String> {
    let rk = &rd.name;
    for sd in rd.snapshots.values() {
        for (nk, sn) in &sd.snapshots {
            let Some(node) = s.nodes.get(nk) else {
                return Err(format!("snapshot {rk}/{} on absent node {nk}", sd.name));
            };
            for p in sn.volume_pools.values() {
                if !node.storage_pools.contains_key(p) {
                    return Err(format!(
                        "snapshot {rk}/{} references absent pool {nk}/{p}",
                        sd.name
                    ));
                }
            }
        }
    }
    Ok(())
}
