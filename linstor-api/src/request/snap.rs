//! Snapshots and key-value stores: `POST /v1/resource-definitions/{rd}/snapshots`,
//! `POST …/{rd}/snapshot-restore-resource/{snap}`, `PUT /v1/key-value-store/{instance}`.

use std::collections::BTreeMap;

use linstor_core::cluster::Command;
use serde::Deserialize;

use super::{props_modify, refuse_if, same_name};

/// `POST /v1/resource-definitions/{rd}/snapshots` (REST's `Snapshot`; python-linstor sends
/// `{"name", "nodes"?}`, golinstor adds `resource_name`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotCreate {
    /// Snapshot name.
    pub name: String,
    /// The definition (must be the one in the path when given).
    #[serde(default)]
    pub resource_name: Option<String>,
    /// Nodes (every diskful node when absent or empty).
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Properties (deprecated name of `snapshot_definition_props`; refused when not empty).
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Snapshot definition properties (refused when not empty).
    #[serde(default)]
    pub snapshot_definition_props: Option<BTreeMap<String, String>>,
}

/// Why snapshot properties are refused.
const NO_SNAP_PROPS: &str = "a snapshot is created without properties here; leave them out";

impl SnapshotCreate {
    /// The core command for `rd` (from the path); properties are refused.
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        same_name("resource_name", self.resource_name.as_deref(), rd)?;
        let given =
            |p: &Option<BTreeMap<String, String>>| p.as_ref().is_some_and(|m| !m.is_empty());
        refuse_if(given(&self.props), "props", NO_SNAP_PROPS)?;
        refuse_if(
            given(&self.snapshot_definition_props),
            "snapshot_definition_props",
            NO_SNAP_PROPS,
        )?;
        Ok(Command::SnapshotCreate {
            rsc_dfn: rd.to_owned(),
            name: self.name.clone(),
            nodes: self.nodes.clone().unwrap_or_default(),
        })
    }
}

/// `POST /v1/resource-definitions/{rd}/snapshot-restore-resource/{snapshot}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRestore {
    /// The new resource definition.
    pub to_resource: String,
    /// Nodes to restore on (every snapshot node when absent or empty).
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Pool renames, old → new (refused when not empty: volumes restore into their pool).
    #[serde(default)]
    pub stor_pool_rename: Option<BTreeMap<String, String>>,
}

impl SnapshotRestore {
    /// The core command restoring `snapshot` of `rd` (from the path).
    pub fn command(&self, rd: &str, snapshot: &str) -> Result<Command, String> {
        refuse_if(
            self.stor_pool_rename
                .as_ref()
                .is_some_and(|m| !m.is_empty()),
            "stor_pool_rename",
            "restored volumes go into the pool their snapshot is in; leave it out",
        )?;
        Ok(Command::SnapshotRestore {
            rsc_dfn: rd.to_owned(),
            snapshot: snapshot.to_owned(),
            target: self.to_resource.clone(),
            nodes: self.nodes.clone().unwrap_or_default(),
        })
    }
}

/// `PUT /v1/key-value-store/{instance}` (creates the store on first use).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyValueStoreModify {
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
}

impl KeyValueStoreModify {
    /// The core command for store `instance` (from the path).
    pub fn command(&self, instance: &str) -> Command {
        Command::KvsModify {
            name: instance.to_owned(),
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}
