//! The whole desired state of a cluster plus the last observed state, as one serializable value.
//!
//! `ClusterState` is plain data: it is what the controller's database persists and what
//! `Cluster` (the command executor) owns. Pure policies such as placement read it directly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    Connections, KeyValueStore, Node, Observed, ResourceDefinition, ResourceGroup, StoragePool,
    StoragePoolDefinition,
};
use crate::name::{KvsName, NodeName, ResourceGroupName, ResourceName, StorPoolName};
use crate::props::Props;

/// Desired state (everything but `observed`) and observed state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClusterState {
    /// Controller properties (the "C" level of every chain).
    pub ctrl_props: Props,
    /// Nodes, with their storage pools and net interfaces.
    pub nodes: BTreeMap<NodeName, Node>,
    /// Storage pool definitions.
    pub storage_pool_definitions: BTreeMap<StorPoolName, StoragePoolDefinition>,
    /// Resource groups, with their volume groups.
    pub resource_groups: BTreeMap<ResourceGroupName, ResourceGroup>,
    /// Resource definitions, with their volume definitions, resources and snapshots.
    pub resource_definitions: BTreeMap<ResourceName, ResourceDefinition>,
    /// Key-value stores.
    pub key_value_stores: BTreeMap<KvsName, KeyValueStore>,
    /// Node connections with properties, by the lesser node name, then the greater.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_connections: Connections,
    /// What satellites last reported.
    pub observed: Observed,
}

impl ClusterState {
    /// A storage pool by node and name.
    pub fn storage_pool(&self, node: &NodeName, pool: &StorPoolName) -> Option<&StoragePool> {
        self.nodes.get(node)?.storage_pools.get(pool)
    }

    /// Iterates over every storage pool of every node.
    pub fn storage_pools(&self) -> impl Iterator<Item = &StoragePool> {
        self.nodes.values().flat_map(|n| n.storage_pools.values())
    }
}
