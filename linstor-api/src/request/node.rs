//! Nodes, net interfaces and controller properties: `POST/PUT /v1/nodes[/{n}]`,
//! `PUT /v1/nodes/{n}/evacuate|restore`, `POST/PUT /v1/nodes/{n}/net-interfaces[/{i}]`,
//! `POST /v1/controller/properties`.

use std::collections::BTreeMap;

use linstor_core::cluster::{Command, NetIfSpec};
use linstor_core::model::{EncryptionType, NetInterface, NodeType};
use serde::Deserialize;

use super::{
    encryption, lenient_bool, lenient_int, node_type, node_type_opt, props_modify, refuse_if,
    same_name,
};

/// `POST /v1/nodes`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeCreate {
    /// Name.
    pub name: String,
    /// Node type (any case).
    #[serde(rename = "type", deserialize_with = "node_type")]
    pub node_type: NodeType,
    /// Net interfaces.
    #[serde(default)]
    pub net_interfaces: Vec<NetInterfaceCreate>,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
}

/// A net interface in a node create or `POST /v1/nodes/{n}/net-interfaces`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetInterfaceCreate {
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Satellite port.
    #[serde(default, deserialize_with = "lenient_int")]
    pub satellite_port: Option<u16>,
    /// `PLAIN` or `SSL` (any case).
    #[serde(default, deserialize_with = "encryption")]
    pub satellite_encryption_type: Option<EncryptionType>,
    /// Whether the satellite connection uses it (only one interface per node here).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_active: Option<bool>,
}

impl NetInterfaceCreate {
    fn spec(&self) -> NetIfSpec {
        NetIfSpec {
            name: self.name.clone(),
            address: self.address.clone(),
            satellite_port: self.satellite_port,
            encryption: self.satellite_encryption_type.unwrap_or_default(),
        }
    }

    /// The core command for `POST /v1/nodes/{node}/net-interfaces`.
    pub fn command(&self, node: &str) -> Command {
        Command::NetIfCreate {
            node: node.to_owned(),
            netif: self.spec(),
        }
    }
}

impl NodeCreate {
    /// The core command.
    pub fn command(&self) -> Command {
        Command::NodeCreate {
            name: self.name.clone(),
            node_type: self.node_type,
            net_interfaces: self
                .net_interfaces
                .iter()
                .map(NetInterfaceCreate::spec)
                .collect(),
            props: self.props.clone().unwrap_or_default(),
        }
    }
}

/// `PUT /v1/nodes/{node}`: type and property changes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeModify {
    /// New type (any case).
    #[serde(default, deserialize_with = "node_type_opt")]
    pub node_type: Option<NodeType>,
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

impl NodeModify {
    /// The core command for `node` (from the path).
    pub fn command(&self, node: &str) -> Command {
        Command::NodeModify {
            name: node.to_owned(),
            node_type: self.node_type,
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}

/// `PUT /v1/nodes/{node}/evacuate` (python-linstor sends no body without options: read it
/// with [`parse_or_default`](super::parse_or_default)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeEvacuate {
    /// Only these nodes may take the replacements.
    #[serde(default)]
    pub target: Option<Vec<String>>,
    /// These nodes may not.
    #[serde(default)]
    pub do_not_target: Option<Vec<String>>,
}

impl NodeEvacuate {
    /// The core command for `node` (from the path).
    pub fn command(&self, node: &str) -> Command {
        Command::NodeEvacuate {
            name: node.to_owned(),
            target: self.target.clone().unwrap_or_default(),
            do_not_target: self.do_not_target.clone().unwrap_or_default(),
        }
    }
}

/// `PUT /v1/nodes/{node}/restore` (no body without options: read it with
/// [`parse_or_default`](super::parse_or_default)).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeRestore {
    /// Delete the evicted resources instead of reactivating them.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub delete_resources: Option<bool>,
    /// Delete the node's snapshots (refused: the core's restore keeps snapshots).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub delete_snapshots: Option<bool>,
}

impl NodeRestore {
    /// The core command for `node` (from the path); `delete_snapshots: true` is refused.
    pub fn command(&self, node: &str) -> Result<Command, String> {
        refuse_if(
            self.delete_snapshots == Some(true),
            "delete_snapshots",
            "restoring a node does not delete its snapshots here; delete them with \
             `DELETE …/snapshots/{snapshot}` and leave 'delete_snapshots' out",
        )?;
        Ok(Command::NodeRestore {
            name: node.to_owned(),
            delete_resources: self.delete_resources.unwrap_or(false),
        })
    }
}

/// `PUT /v1/nodes/{node}/net-interfaces/{netif}`. python-linstor sends only what changes
/// (`{"name": …, "is_active": false}` plus `address` and `satellite_port` when given, with
/// `"satellite_encryption_type": null` when no type is given); what is absent stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetInterfaceModify {
    /// The interface's name (must be the one in the path: interfaces are not renamed).
    #[serde(default)]
    pub name: Option<String>,
    /// New address.
    #[serde(default)]
    pub address: Option<String>,
    /// New satellite port.
    #[serde(default, deserialize_with = "lenient_int")]
    pub satellite_port: Option<u16>,
    /// New encryption (`PLAIN` or `SSL`, any case).
    #[serde(default, deserialize_with = "encryption")]
    pub satellite_encryption_type: Option<EncryptionType>,
    /// Whether the satellite connection uses it (accepted and ignored as on create: the
    /// interface with the satellite port is the one used).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_active: Option<bool>,
}

impl NetInterfaceModify {
    /// The core command for interface `netif` of `node` (from the path). `current` is the
    /// interface as it is, whose fields the body's absent ones keep; `None` when the node or
    /// the interface does not exist (the body must then give an `address`, and the core
    /// answers `NOT_FOUND`).
    pub fn command(
        &self,
        node: &str,
        netif: &str,
        current: Option<&NetInterface>,
    ) -> Result<Command, String> {
        same_name("name", self.name.as_deref(), netif)?;
        let address = match (&self.address, current) {
            (Some(a), _) => a.clone(),
            (None, Some(c)) => c.address.to_string(),
            (None, None) => {
                return Err(format!(
                    "'address' is required: net interface '{netif}' of node '{node}' is not \
                     known, so there is no address to keep"
                ));
            }
        };
        Ok(Command::NetIfModify {
            node: node.to_owned(),
            netif: NetIfSpec {
                name: netif.to_owned(),
                address,
                satellite_port: self
                    .satellite_port
                    .or_else(|| current.and_then(|c| c.satellite_port)),
                encryption: self
                    .satellite_encryption_type
                    .or_else(|| current.map(|c| c.encryption))
                    .unwrap_or_default(),
            },
        })
    }
}

/// `POST /v1/controller/properties` (python-linstor sends `{"override_props": {k: v}}` or
/// `{"delete_props": [k]}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControllerPropsModify {
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

impl ControllerPropsModify {
    /// The core command.
    pub fn command(&self) -> Command {
        Command::CtrlPropsModify {
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        }
    }
}

/// `PATCH /v1/error-reports` (python-linstor's `error_report_delete`): which reports to delete.
/// Every given condition must hold; no condition at all deletes every report.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReportDelete {
    /// From this time on (ms since the epoch).
    #[serde(default, deserialize_with = "lenient_int")]
    pub since: Option<u64>,
    /// Up to this time (ms since the epoch).
    #[serde(default, deserialize_with = "lenient_int")]
    pub to: Option<u64>,
    /// Reports of these nodes.
    #[serde(default)]
    pub nodes: Option<Vec<String>>,
    /// Reports of this exception (category).
    #[serde(default)]
    pub exception: Option<String>,
    /// Reports of this version.
    #[serde(default)]
    pub version: Option<String>,
    /// These report ids.
    #[serde(default)]
    pub ids: Option<Vec<String>>,
}
