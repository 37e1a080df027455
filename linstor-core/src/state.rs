//! The whole desired state of a cluster plus the last observed state, as one serializable value.
//!
//! `ClusterState` is plain data: it is what the controller's database persists and what
//! `Cluster` (the command executor) owns. Pure policies such as placement read it directly.

use std::collections::BTreeMap;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

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
    #[serde(deserialize_with = "full_nodes")]
    pub nodes: BTreeMap<NodeName, Node>,
    /// Storage pool definitions.
    #[serde(deserialize_with = "full_nodes")]
    pub storage_pool_definitions: BTreeMap<StorPoolName, StoragePoolDefinition>,
    /// Resource groups, with their volume groups.
    #[serde(deserialize_with = "full_nodes")]
    pub resource_groups: BTreeMap<ResourceGroupName, ResourceGroup>,
    /// Resource definitions, with their volume definitions, resources and snapshots.
    #[serde(deserialize_with = "full_nodes")]
    pub resource_definitions: BTreeMap<ResourceName, ResourceDefinition>,
    /// Key-value stores.
    #[serde(deserialize_with = "full_nodes")]
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

/// Reads a map as serde reads a `BTreeMap` (the same JSON, errors and duplicate handling), but
/// builds it in bulk when the keys come in order, as the state writes them: every tree node
/// full, where inserting in ascending order leaves them half empty (a third less memory for
/// 10,000 resource definitions).
pub(crate) fn full_nodes<'de, D, K, V>(d: D) -> Result<BTreeMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    struct MapVisitor<K, V>(std::marker::PhantomData<fn() -> (K, V)>);

    impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    {
        type Value = BTreeMap<K, V>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a map")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            let mut entries: Vec<(K, V)> = Vec::new();
            while let Some(e) = a.next_entry()? {
                entries.push(e);
            }
            if entries.windows(2).all(|w| w[0].0 < w[1].0) {
                // Strictly ascending: `from_iter` builds the tree bottom-up, nodes full.
                return Ok(entries.into_iter().collect());
            }
            // As serde's `BTreeMap`: a repeated key keeps its first spelling and its last value.
            let mut m = BTreeMap::new();
            for (k, v) in entries {
                m.insert(k, v);
            }
            Ok(m)
        }
    }

    d.deserialize_map(MapVisitor(std::marker::PhantomData))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Bulk(#[serde(deserialize_with = "full_nodes")] BTreeMap<NodeName, u8>);

    /// `full_nodes` reads what serde's `BTreeMap` reads, in order or not, and fails the same.
    #[test]
    fn full_nodes_reads_like_serde() {
        let inputs = [
            r#"{"a1":1,"b1":2,"c1":3}"#,
            r#"{"b1":1,"a1":2,"B1":3}"#,
            r#"{"a1":1,"A1":2}"#,
            "{}",
            "[]",
            r#"{"a1":"x"}"#,
            r#"{"!":1}"#,
        ];
        for json in inputs {
            let got = serde_json::from_str::<Bulk>(json).map(|b| b.0);
            let want = serde_json::from_str::<BTreeMap<NodeName, u8>>(json);
            match (got, want) {
                (Ok(g), Ok(w)) => {
                    let spell = |m: &BTreeMap<NodeName, u8>| -> Vec<(String, u8)> {
                        m.iter().map(|(k, v)| (k.to_string(), *v)).collect()
                    };
                    assert_eq!(spell(&g), spell(&w), "{json}");
                }
                (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string(), "{json}"),
                (g, w) => panic!("{json}: {g:?} vs {w:?}"),
            }
        }
    }
}
