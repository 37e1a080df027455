//! What clients send, as REST v1 request bodies, and their mapping to core commands.
//!
//! The bodies are read the way LINSTOR's Jackson reads them, because the real `linstor` CLI
//! relies on it (`rest-client-compat.md`, "Surprises"): integers may come as numeric strings
//! (`"place_count": "3"`), `null` means "not given", and enum names match case-insensitively
//! (`"satellite"`, `"plain"`). Every field the real clients send is declared; any other field
//! is refused with its path and the close match (through `linstor_core::decode`), so nothing
//! is dropped silently.

use std::collections::BTreeMap;

use linstor_core::cluster::{Command, NetIfSpec, NodePlacement};
use linstor_core::decode::{self, DecodeError};
use linstor_core::model::{EncryptionType, LayerKind, NodeType, ProviderKind, SelectFilter};
use linstor_core::props::PropsModify;
use linstor_core::{NodeName, ResourceName, SizeKib, StorPoolName};
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};

/// Reads a request body of type `T`; `what` names it in errors ("a node create request").
pub fn parse<T: DeserializeOwned>(what: &str, body: &str) -> Result<T, Box<DecodeError>> {
    decode::decode(what, body)
}

/// An integer given as a number or a numeric string, or `null`.
fn lenient_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Num(u64),
        Text(String),
    }
    let Some(raw) = Option::<Raw>::deserialize(d)? else {
        return Ok(None);
    };
    let n = match raw {
        Raw::Num(n) => n,
        Raw::Text(t) => t.trim().parse::<u64>().map_err(|_| {
            de::Error::custom(format!(
                "invalid value: string {t:?}, expected a whole number"
            ))
        })?,
    };
    T::try_from(n).map(Some).map_err(|_| {
        let ty = std::any::type_name::<T>();
        de::Error::custom(format!("invalid value: integer `{n}`, expected {ty}"))
    })
}

/// A boolean, or `null` for "not given".
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Option::<bool>::deserialize(d)
}

/// A case-insensitive enum name, parsed by `parse`.
fn named<'de, D, T>(d: D, parse: fn(&str) -> Option<T>, valid: &str) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let s = String::deserialize(d)?;
    parse(&s)
        .ok_or_else(|| de::Error::custom(format!("unknown variant `{s}`, expected one of {valid}")))
}

fn node_type<'de, D: Deserializer<'de>>(d: D) -> Result<NodeType, D::Error> {
    named(
        d,
        NodeType::parse,
        "`Controller`, `Satellite`, `Combined`, `Auxiliary`",
    )
}

fn encryption<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EncryptionType>, D::Error> {
    let parse = |s: &str| match s.to_ascii_lowercase().as_str() {
        "plain" => Some(EncryptionType::Plain),
        "ssl" => Some(EncryptionType::Ssl),
        _ => None,
    };
    Option::<String>::deserialize(d)?
        .map(|s| {
            parse(&s).ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown variant `{s}`, expected one of `PLAIN`, `SSL`"
                ))
            })
        })
        .transpose()
}

fn provider<'de, D: Deserializer<'de>>(d: D) -> Result<ProviderKind, D::Error> {
    named(
        d,
        ProviderKind::parse,
        "`LVM`, `LVM_THIN`, `ZFS`, `ZFS_THIN`, `FILE`, `FILE_THIN`, `DISKLESS`",
    )
}

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

/// The autoplacer's select filter as REST sends it (`AutoSelectFilter`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoSelectFilter {
    /// Diskful replicas (a number or a numeric string).
    #[serde(default, deserialize_with = "lenient_int")]
    pub place_count: Option<u32>,
    /// Replicas to add.
    #[serde(default, deserialize_with = "lenient_int")]
    pub additional_place_count: Option<u32>,
    /// Only these nodes.
    #[serde(default)]
    pub node_name_list: Option<Vec<String>>,
    /// One pool (clients below API 1.1.0).
    #[serde(default)]
    pub storage_pool: Option<String>,
    /// Pools.
    #[serde(default)]
    pub storage_pool_list: Option<Vec<String>>,
    /// Diskless pools.
    #[serde(default)]
    pub storage_pool_diskless_list: Option<Vec<String>>,
    /// Not with these resources.
    #[serde(default)]
    pub not_place_with_rsc: Option<Vec<String>>,
    /// Not with resources matching.
    #[serde(default)]
    pub not_place_with_rsc_regex: Option<String>,
    /// Same values of these keys.
    #[serde(default)]
    pub replicas_on_same: Option<Vec<String>>,
    /// Different values of these keys.
    #[serde(default)]
    pub replicas_on_different: Option<Vec<String>>,
    /// At most n replicas per value.
    #[serde(default)]
    pub x_replicas_on_different_map: Option<BTreeMap<String, u32>>,
    /// Layer stack.
    #[serde(default)]
    pub layer_stack: Option<Vec<String>>,
    /// Providers.
    #[serde(default)]
    pub provider_list: Option<Vec<String>>,
    /// Diskless peers everywhere else.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub diskless_on_remaining: Option<bool>,
}

/// A list of names, each validated by `parse`; the error names the field and the value.
fn names<T>(
    field: &str,
    list: &Option<Vec<String>>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, String> {
    let Some(list) = list else {
        return Ok(None);
    };
    list.iter()
        .map(|s| parse(s).ok_or_else(|| format!("'{field}' has an invalid entry '{s}'")))
        .collect::<Result<Vec<T>, String>>()
        .map(Some)
}

impl AutoSelectFilter {
    /// The core's filter; a name that is not valid is an error naming the field and value.
    pub fn to_core(&self) -> Result<SelectFilter, String> {
        let pool = |s: &str| StorPoolName::new(s).ok();
        let mut pools = names("storage_pool_list", &self.storage_pool_list, pool)?;
        if pools.is_none()
            && let Some(p) = &self.storage_pool
        {
            pools = names("storage_pool", &Some(vec![p.clone()]), pool)?;
        }
        Ok(SelectFilter {
            place_count: self.place_count,
            additional_place_count: self.additional_place_count,
            node_name_list: names("node_name_list", &self.node_name_list, |s| {
                NodeName::new(s).ok()
            })?,
            storage_pool: None,
            storage_pool_list: pools,
            storage_pool_diskless_list: names(
                "storage_pool_diskless_list",
                &self.storage_pool_diskless_list,
                pool,
            )?,
            not_place_with_rsc: names("not_place_with_rsc", &self.not_place_with_rsc, |s| {
                ResourceName::new(s).ok()
            })?,
            not_place_with_rsc_regex: self.not_place_with_rsc_regex.clone(),
            replicas_on_same: self.replicas_on_same.clone(),
            replicas_on_different: self.replicas_on_different.clone(),
            x_replicas_on_different_map: self.x_replicas_on_different_map.clone(),
            layer_stack: names("layer_stack", &self.layer_stack, LayerKind::parse)?,
            provider_list: names("provider_list", &self.provider_list, ProviderKind::parse)?,
            diskless_on_remaining: self.diskless_on_remaining,
            diskless_type: None,
        })
    }
}

/// `POST /v1/resource-groups`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupCreate {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Properties.
    #[serde(default)]
    pub props: Option<BTreeMap<String, String>>,
    /// Select filter.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
}

impl ResourceGroupCreate {
    /// The core command.
    pub fn command(&self) -> Result<Command, String> {
        Ok(Command::RscGrpCreate {
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_default(),
            props: self.props.clone().unwrap_or_default(),
            select_filter: self.select_filter.clone().unwrap_or_default().to_core()?,
            peer_slots: self.peer_slots,
        })
    }
}

/// `PUT /v1/resource-groups/{rg}`. The `linstor` CLI always sends `"select_filter": {}`: an
/// empty filter means "unchanged", not "reset".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceGroupModify {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Properties to set.
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties to delete.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces to delete.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Filter fields to change.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
}

impl ResourceGroupModify {
    /// The core command for group `name` (from the path); `current` is the group's filter,
    /// which the request's set fields override.
    pub fn command(&self, name: &str, current: &SelectFilter) -> Result<Command, String> {
        let filter = match &self.select_filter {
            Some(f) if f != &AutoSelectFilter::default() => Some(f.to_core()?.merged_over(current)),
            _ => None,
        };
        Ok(Command::RscGrpModify {
            name: name.to_owned(),
            description: self.description.clone(),
            props: PropsModify {
                override_props: self.override_props.clone().unwrap_or_default(),
                delete_props: self.delete_props.clone().unwrap_or_default(),
                delete_namespaces: self.delete_namespaces.clone().unwrap_or_default(),
            },
            select_filter: filter,
            peer_slots: self.peer_slots,
        })
    }
}

/// `POST /v1/resource-groups/{rg}/spawn`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spawn {
    /// New definition's name.
    pub resource_definition_name: String,
    /// Its external name.
    #[serde(default)]
    pub resource_definition_external_name: Option<String>,
    /// One size per volume group, KiB.
    pub volume_sizes: Vec<u64>,
    /// Filter over the group's.
    #[serde(default)]
    pub select_filter: Option<AutoSelectFilter>,
    /// One volume per size even if the group has another number of volume groups.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub partial: Option<bool>,
    /// Only the definitions.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub definitions_only: Option<bool>,
    /// Peer slots.
    #[serde(default, deserialize_with = "lenient_int")]
    pub peer_slots: Option<u8>,
    /// Properties of the new definition.
    #[serde(default)]
    pub resource_definition_props: Option<BTreeMap<String, String>>,
}

impl Spawn {
    /// The core command for group `rg` (from the path).
    pub fn command(&self, rg: &str) -> Result<Command, String> {
        let filter = match &self.select_filter {
            Some(f) if f != &AutoSelectFilter::default() => Some(f.to_core()?),
            _ => None,
        };
        Ok(Command::RscGrpSpawn {
            rsc_grp: rg.to_owned(),
            rsc_dfn: self.resource_definition_name.clone(),
            external_name: self.resource_definition_external_name.clone(),
            volume_sizes: self.volume_sizes.iter().map(|s| SizeKib(*s)).collect(),
            partial: self.partial.unwrap_or(false),
            nodes: Vec::<NodePlacement>::new(),
            select_filter: filter,
            definitions_only: self.definitions_only.unwrap_or(false),
            peer_slots: self.peer_slots,
            rsc_dfn_props: self.resource_definition_props.clone().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests;
