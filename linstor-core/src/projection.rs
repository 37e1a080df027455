//! One node's share of the desired state: [`NodeProjection`], what a satellite is sent.
//!
//! A satellite needs its own resources, their peers (for the DRBD connections), the definitions
//! and groups above them, the storage pools they use, and every property container of the
//! chains that apply to them. [`ClusterState::for_node`] cuts exactly that out of the whole
//! state, as a (smaller) `ClusterState`, so the same chain code ([`crate::cluster::Chains`])
//! answers the same for the node's objects over the projection as over the whole state; the
//! tests check that for every chain, and `linstor-drbd` renders `.res` files from it.
//!
//! What is kept:
//! * the controller properties;
//! * the node itself, with all its pools and net interfaces;
//! * every resource definition with a resource on the node (with all its resources: the
//!   peers), or with a snapshot on the node (then without resources and without the DRBD
//!   secret); snapshot definitions keep only the node's own per-node snapshot, and only those
//!   that have one;
//! * the peer nodes of those definitions, with their net interfaces, properties and only the
//!   pools their volumes of those definitions use;
//! * the resource groups (with volume groups) of those definitions.
//!
//! Storage pool definitions (over-subscription is the controller's business), key-value stores
//! and observed state are not part of it: a satellite reports the latter.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use crate::model::{Node, ResourceDefinition, SnapshotDefinition};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::placement::capacity::Fnv;
use crate::props::Props;
use crate::state::ClusterState;
use crate::vec_map::VecMap;

/// Everything one satellite needs, as one serializable value (see the module docs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeProjection {
    /// The node it is for.
    pub node: NodeName,
    /// The pruned state.
    pub state: ClusterState,
}

impl ClusterState {
    /// The projection for `node`, or `None` if there is no such node.
    pub fn for_node(&self, node: &NodeName) -> Option<NodeProjection> {
        let local = self.nodes.get(node)?;
        let mut out = ClusterState {
            ctrl_props: self.ctrl_props.clone(),
            ..ClusterState::default()
        };
        // Pools each node needs: all of the local node's, and what peers' volumes use.
        let mut pools_of: BTreeMap<&NodeName, BTreeSet<&StorPoolName>> = BTreeMap::new();
        pools_of.insert(&local.name, local.storage_pools.keys().collect());
        for rd in self.resource_definitions.values() {
            if let Some(p) = project_rd(rd, node) {
                for r in rd.resources.values().filter(|_| !p.resources.is_empty()) {
                    pools_of
                        .entry(&r.node)
                        .or_default()
                        .extend(r.volumes.values().map(|v| &v.storage_pool));
                }
                if let Some(g) = self.resource_groups.get(&rd.resource_group) {
                    out.resource_groups
                        .entry(g.name.clone())
                        .or_insert_with(|| g.clone());
                }
                out.resource_definitions.insert(rd.name.clone(), p);
            }
        }
        for (name, pools) in pools_of {
            let Some(n) = self.nodes.get(name) else {
                continue;
            };
            out.nodes.insert(name.clone(), node_with_pools(n, &pools));
        }
        // The connections of this node to the peers it sees.
        for c in crate::model::all_connections(&self.node_connections) {
            let peer = if c.node_a == *node {
                &c.node_b
            } else {
                &c.node_a
            };
            if (c.node_a == *node || c.node_b == *node) && out.nodes.contains_key(peer) {
                let (a, b) = (c.node_a.clone(), c.node_b.clone());
                out.node_connections
                    .entry(a)
                    .or_default()
                    .insert(b, c.clone());
            }
        }
        Some(NodeProjection {
            node: node.clone(),
            state: out,
        })
    }
}

/// The definition as `node` sees it, or `None` when it has neither a resource nor a snapshot
/// there.
fn project_rd(rd: &ResourceDefinition, node: &NodeName) -> Option<ResourceDefinition> {
    let has_rsc = rd.resources.contains_key(node);
    let has_snap = rd
        .snapshots
        .values()
        .any(|s| s.snapshots.contains_key(node));
    if !has_rsc && !has_snap {
        return None;
    }
    let mut p = ResourceDefinition {
        name: rd.name.clone(),
        external_name: rd.external_name.clone(),
        resource_group: rd.resource_group.clone(),
        props: rd.props.clone(),
        flags: rd.flags,
        layer_stack: rd.layer_stack.clone(),
        drbd: rd.drbd.clone(),
        volume_definitions: rd.volume_definitions.clone(),
        resources: VecMap::new(),
        snapshots: VecMap::new(),
        resource_connections: BTreeMap::new(),
        uuid: rd.uuid,
    };
    if has_rsc {
        p.resources = rd.resources.clone();
        p.resource_connections = rd.resource_connections.clone();
    } else {
        // Kept for its snapshots only: nothing of DRBD's is needed, least of all the secret.
        p.drbd.secret.clear();
    }
    for (name, s) in &rd.snapshots {
        if let Some(local) = s.snapshots.get(node) {
            let s = SnapshotDefinition {
                name: s.name.clone(),
                props: s.props.clone(),
                flags: s.flags,
                volume_sizes: s.volume_sizes.clone(),
                snapshots: VecMap::from([(node.clone(), local.clone())]),
                uuid: s.uuid,
            };
            p.snapshots.insert(name.clone(), s);
        }
    }
    Some(p)
}

/// A copy of `n` with only the named pools.
fn node_with_pools(n: &Node, pools: &BTreeSet<&StorPoolName>) -> Node {
    let mut out = n.clone();
    out.storage_pools.retain(|k, _| pools.contains(k));
    out
}

impl NodeProjection {
    /// A digest of everything a resource's DRBD configuration is rendered from: the definition
    /// (without snapshots), its group's properties and volume groups, for each node of its
    /// resources the name, properties, net interfaces and the pools its volumes there use, and
    /// the controller properties. Equal digests mean an equal `.res` file; the satellite keeps
    /// the digest of what it wrote and applied, and [`crate::plan`] compares. (The host's DRBD
    /// version, which decides the tiebreaker lines, is the satellite's own input.)
    pub fn drbd_digest(&self, rd: &ResourceName) -> u64 {
        #[derive(Serialize)]
        struct Input<'a> {
            rd: Option<RdView<'a>>,
            rg: Option<(NoAux<'a>, &'a VecMap<u16, crate::model::VolumeGroup>)>,
            nodes: Vec<NodeView<'a>>,
            ctrl: NoAux<'a>,
        }
        let d = self.state.resource_definitions.get(rd);
        let input = Input {
            rd: d.map(RdView::of),
            rg: d
                .and_then(|d| self.state.resource_groups.get(&d.resource_group))
                .map(|g| (NoAux(&g.props), &g.volume_groups)),
            nodes: d.map(|d| self.node_views(d)).unwrap_or_default(),
            ctrl: NoAux(&self.state.ctrl_props),
        };
        // Streamed into the hash (FNV-1a is byte by byte: the same digest as hashing the whole
        // JSON text), without building the text.
        let mut h = Fnv::default();
        serde_json::to_writer(HashWriter(&mut h), &input).expect("the model always serializes");
        h.finish()
    }

    /// What of each node of `d`'s resources its `.res` file reads.
    fn node_views<'a>(&'a self, d: &'a ResourceDefinition) -> Vec<NodeView<'a>> {
        let views = d.resources.values().filter_map(|r| {
            let n = self.state.nodes.get(&r.node)?;
            let used = |p: &&StorPoolName| r.volumes.values().any(|v| &v.storage_pool == *p);
            let pools = n.storage_pools.iter().filter(|(p, _)| used(p));
            Some(NodeView {
                name: &n.name,
                props: NoAux(&n.props),
                net_interfaces: &n.net_interfaces,
                pools: pools.map(|(p, sp)| (p, NoAux(&sp.props))).collect(),
            })
        });
        views.collect()
    }
}

/// The parts of a definition its DRBD configuration depends on.
#[derive(Serialize)]
struct RdView<'a> {
    name: &'a ResourceName,
    props: NoAux<'a>,
    flags: crate::model::RscDfnFlags,
    layer_stack: &'a [crate::model::LayerKind],
    drbd: &'a crate::model::DrbdRscDfnData,
    volume_definitions: &'a VecMap<u16, crate::model::VolumeDefinition>,
    resources: &'a VecMap<NodeName, crate::model::Resource>,
}

impl<'a> RdView<'a> {
    fn of(d: &'a ResourceDefinition) -> Self {
        RdView {
            name: &d.name,
            props: NoAux(&d.props),
            flags: d.flags,
            layer_stack: &d.layer_stack,
            drbd: &d.drbd,
            volume_definitions: &d.volume_definitions,
            resources: &d.resources,
        }
    }
}

/// The parts of a node a resource's DRBD configuration depends on.
#[derive(Serialize)]
struct NodeView<'a> {
    name: &'a NodeName,
    props: NoAux<'a>,
    net_interfaces: &'a VecMap<crate::name::NetIfName, crate::model::NetInterface>,
    pools: Vec<(&'a StorPoolName, NoAux<'a>)>,
}

/// Properties without the free-form `Aux/*` labels, which no DRBD configuration reads (so a
/// node label does not rewrite and adjust every resource on it).
struct NoAux<'a>(&'a Props);

impl Serialize for NoAux<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().filter(|(k, _)| !k.starts_with("Aux/")))
    }
}

/// Feeds what is written into a hasher.
struct HashWriter<'a>(&'a mut Fnv);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
