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
//!   peers), or with a snapshot on the node (then without resources); snapshot definitions keep
//!   only the node's own per-node snapshot, and only those that have one;
//! * the peer nodes of those definitions, with their net interfaces, properties and only the
//!   pools their volumes of those definitions use;
//! * the resource groups (with volume groups) of those definitions, and the definitions of the
//!   pools that are kept.
//!
//! Key-value stores and observed state are not part of it: a satellite reports the latter.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{Node, ResourceDefinition, SnapshotDefinition};
use crate::name::{NodeName, ResourceName, StorPoolName};
use crate::state::ClusterState;

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
            for p in pools {
                if let Some(d) = self.storage_pool_definitions.get(p) {
                    out.storage_pool_definitions
                        .entry(p.clone())
                        .or_insert_with(|| d.clone());
                }
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
        resources: BTreeMap::new(),
        snapshots: BTreeMap::new(),
        uuid: rd.uuid,
    };
    if has_rsc {
        p.resources = rd.resources.clone();
    }
    for (name, s) in &rd.snapshots {
        if let Some(local) = s.snapshots.get(node) {
            let s = SnapshotDefinition {
                name: s.name.clone(),
                props: s.props.clone(),
                flags: s.flags,
                volume_sizes: s.volume_sizes.clone(),
                snapshots: BTreeMap::from([(node.clone(), local.clone())]),
                uuid: s.uuid,
            };
            p.snapshots.insert(name.clone(), s);
        }
    }
    Some(p)
}

/// A copy of `n` with only the named pools.
fn node_with_pools(n: &Node, pools: &BTreeSet<&StorPoolName>) -> Node {
    Node {
        name: n.name.clone(),
        node_type: n.node_type,
        flags: n.flags,
        net_interfaces: n.net_interfaces.clone(),
        storage_pools: n
            .storage_pools
            .iter()
            .filter(|(k, _)| pools.contains(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        props: n.props.clone(),
        uuid: n.uuid,
    }
}

impl NodeProjection {
    /// The definitions of resources on this node (not those kept only for snapshots).
    pub fn local_resources(
        &self,
    ) -> impl Iterator<Item = (&ResourceDefinition, &crate::model::Resource)> {
        self.state
            .resource_definitions
            .values()
            .filter_map(|rd| rd.resources.get(&self.node).map(|r| (rd, r)))
    }

    /// A digest of everything a resource's DRBD configuration is rendered from: the definition
    /// (without snapshots), its group, the nodes of its resources with the pools they use and
    /// the controller properties. Equal digests mean an equal `.res` file; the satellite keeps
    /// the digest of what it wrote and applied, and [`crate::plan`] compares.
    pub fn drbd_digest(&self, rd: &ResourceName) -> u64 {
        #[derive(Serialize)]
        struct Input<'a> {
            rd: Option<RdView<'a>>,
            rg: Option<&'a crate::model::ResourceGroup>,
            nodes: Vec<&'a Node>,
            ctrl: &'a crate::props::Props,
        }
        let d = self.state.resource_definitions.get(rd);
        let input = Input {
            rd: d.map(|d| RdView {
                name: &d.name,
                props: &d.props,
                flags: d.flags,
                layer_stack: &d.layer_stack,
                drbd: &d.drbd,
                volume_definitions: &d.volume_definitions,
                resources: &d.resources,
            }),
            rg: d.and_then(|d| self.state.resource_groups.get(&d.resource_group)),
            nodes: d
                .map(|d| {
                    d.resources
                        .keys()
                        .filter_map(|n| self.state.nodes.get(n))
                        .collect()
                })
                .unwrap_or_default(),
            ctrl: &self.state.ctrl_props,
        };
        let bytes = serde_json::to_vec(&input).expect("the model always serializes");
        fnv1a64(&bytes)
    }
}

/// The parts of a definition its DRBD configuration depends on.
#[derive(Serialize)]
struct RdView<'a> {
    name: &'a ResourceName,
    props: &'a crate::props::Props,
    flags: crate::model::RscDfnFlags,
    layer_stack: &'a [crate::model::LayerKind],
    drbd: &'a crate::model::DrbdRscDfnData,
    volume_definitions: &'a BTreeMap<u16, crate::model::VolumeDefinition>,
    resources: &'a BTreeMap<NodeName, crate::model::Resource>,
}

/// FNV-1a, 64 bits: a stable digest (not for security).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
