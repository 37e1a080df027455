//! Storage pools and storage pool definitions: `POST/PUT /v1/nodes/{n}/storage-pools[/{sp}]`,
//! `POST/PUT /v1/storage-pool-definitions[/{sp}]`.

use std::collections::BTreeMap;

use linstor_core::cluster::Command;
use linstor_core::model::ProviderKind;
use serde::Deserialize;

use super::{lenient_bool, props_modify, provider};

/// `POST /v1/nodes/{node}/storage-pools`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePoolCreate {
    /// Pool name.
    pub storage_pool_name: String,
    /// Provider (any case).
    #[serde(deserialize_with = "provider")]
    pub provider_kind: ProviderKind,
    /// Properties (`StorDriver/StorPoolName`, or the legacy keys).
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Shared-space name.
    #[serde(default)]
    pub free_space_mgr_name: Option<String>,
    /// External locking (accepted and ignored: it only matters for shared pools' locks).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub external_locking: Option<bool>,
}

impl StoragePoolCreate {
    /// The core command for `node` (from the path).
    pub fn command(&self, node: &str) -> Command {
        Command::StorPoolCreate {
            node: node.to_owned(),
            name: self.storage_pool_name.clone(),
            kind: self.provider_kind,
            props: self.props.clone().unwrap_or_default(),
            shared_space: self.free_space_mgr_name.clone(),
        }
    }
}

/// `PUT /v1/nodes/{node}/storage-pools/{pool}`: properties only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePoolModify {
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

impl StoragePoolModify {
    /// The core command for `pool` on `node` (from the path).
    pub fn command(&self, node: &str, pool: &str) -> Command {
        Command::StorPoolModify {
            node: node.to_owned(),
            name: pool.to_owned(),
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}

/// `POST /v1/storage-pool-definitions`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePoolDefinitionCreate {
    /// Name.
    pub storage_pool_name: String,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
}

impl StoragePoolDefinitionCreate {
    /// The core command.
    pub fn command(&self) -> Command {
        Command::StorPoolDfnCreate {
            name: self.storage_pool_name.clone(),
            props: self.props.clone().unwrap_or_default(),
        }
    }
}

/// `PUT /v1/storage-pool-definitions/{pool}`: properties only.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePoolDefinitionModify {
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

impl StoragePoolDefinitionModify {
    /// The core command for definition `pool` (from the path).
    pub fn command(&self, pool: &str) -> Command {
        Command::StorPoolDfnModify {
            name: pool.to_owned(),
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}
