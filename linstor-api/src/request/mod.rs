//! What clients send, as REST v1 request bodies, and their mapping to core commands.
//!
//! The bodies are read the way LINSTOR's Jackson reads them, because the real `linstor` CLI
//! relies on it (`rest-client-compat.md`, "Surprises"): integers may come as numeric strings
//! (`"place_count": "3"`), `null` means "not given", and enum names match case-insensitively
//! (`"satellite"`, `"plain"`). Every field the real clients send is declared; any other field
//! is refused with its path and the close match (through `linstor_core::decode`), so nothing
//! is dropped silently. A field the core cannot honour yet (`drbd_port`, `passphrase`, …) is
//! accepted by the parser and refused by the body's `command` with a message naming it.
//!
//! One submodule per object family, as the core groups its commands: `node` (nodes, net
//! interfaces, controller properties), `pool` (storage pools and their definitions),
//! `filter` (the autoplacer's select filter), `group` (resource and volume groups),
//! `rsc` (resource and volume definitions, resources, autoplace), `clone` (clones), `snap`
//! (snapshots and key-value stores) and `actions` (changes of deployed resources in place,
//! volume group modify, connections, rollback, volume-definition restore, multi-snapshots).
//! Every type is re-exported here.

use std::collections::BTreeMap;
use std::fmt;

use linstor_core::decode::{self, DecodeError, DecodeErrorKind};
use linstor_core::model::{EncryptionType, LayerKind, NodeType, ProviderKind};
use linstor_core::props::PropsModify;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

mod actions;
mod clone;
mod filter;
mod group;
mod node;
mod physical;
mod pool;
mod rsc;
mod snap;

pub use actions::{
    ConnectionModify, CreateMultiSnapshotRequest, MultiSnapshot, NodeConnectionModify,
    ResourceConnectionModify, ResourceMakeAvailable, ResourceModify, SnapshotRollback,
    SnapshotVolumeDefinitionRestore, ToggleDiskDiskful, ToggleDiskRequest, VolumeGroupModify,
    VolumeModify, ZfsRollbackStrategy, legacy_toggle_disk,
};
pub use clone::ResourceDefinitionCloneRequest;
pub use filter::AutoSelectFilter;
pub use group::{
    QuerySizeInfoRequest, ResourceGroupAdjust, ResourceGroupCreate, ResourceGroupModify, Spawn,
    VolumeGroupCreate,
};
pub use node::{
    ControllerPropsModify, ErrorReportDelete, NetInterfaceCreate, NetInterfaceModify, NodeCreate,
    NodeEvacuate, NodeModify, NodeRestore,
};
pub use physical::{PhysicalStorageCreate, PhysicalStorageStoragePoolCreate};
pub use pool::{
    StoragePoolCreate, StoragePoolDefinitionCreate, StoragePoolDefinitionModify, StoragePoolModify,
};
pub use rsc::{
    AutoPlaceRequest, LayerDataCreate, ResourceBody, ResourceCreate, ResourceDefinitionBody,
    ResourceDefinitionCreate, ResourceDefinitionModify, VolumeDefinitionBody,
    VolumeDefinitionCreate, VolumeDefinitionModify,
};
pub use snap::{KeyValueStoreModify, SnapshotCreate, SnapshotRestore};

/// Reads a request body of type `T`; `what` names it in errors ("a node create request").
pub fn parse<T: DeserializeOwned>(what: &str, body: &str) -> Result<T, Box<DecodeError>> {
    decode::decode(what, body)
}

/// [`parse`] for endpoints whose body is optional: python-linstor sends no body at all for
/// `node restore`, `node evacuate` and `resource-group adjust` without options. An empty
/// body (or only whitespace, or `null`) is `T::default()`.
pub fn parse_or_default<T: DeserializeOwned + Default>(
    what: &str,
    body: &str,
) -> Result<T, Box<DecodeError>> {
    match body.trim() {
        "" | "null" => Ok(T::default()),
        _ => parse(what, body),
    }
}

/// Reads a body that is a JSON array of `T` (`POST …/resources`). Each item is decoded on its
/// own; an error names the item in the message ("item 1 of …") and in `field` (`[1].…`).
pub fn parse_list<T: DeserializeOwned>(what: &str, body: &str) -> Result<Vec<T>, Box<DecodeError>> {
    let items = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(items)) => items,
        Ok(other) => return Err(Box::new(not_an_array(what, &other))),
        // Not JSON: the decoder's own syntax error says where.
        Err(_) => {
            return Err(match decode::decode::<serde_json::Value>(what, body) {
                Err(e) => e,
                Ok(v) => Box::new(not_an_array(what, &v)),
            });
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            decode::decode::<T>(&format!("item {i} of {what}"), &item.to_string()).map_err(
                |mut e| {
                    e.field = Some(match e.field.take() {
                        Some(f) if !f.is_empty() => format!("[{i}].{f}"),
                        _ => format!("[{i}]"),
                    });
                    e
                },
            )
        })
        .collect()
}

fn not_an_array(what: &str, v: &serde_json::Value) -> DecodeError {
    let kind = match v {
        serde_json::Value::Object(_) => "an object",
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
    };
    DecodeError {
        kind: DecodeErrorKind::InvalidValue,
        field: None,
        value: Some(v.to_string().chars().take(64).collect()),
        message: format!("{what} must be a JSON array"),
        cause: format!("{kind} was given."),
        correction: format!("Send {what} as a JSON array: [{{…}}, {{…}}]."),
    }
}

/// Reads an integer as Jackson does: a JSON number or a numeric string, `null` for none. Out of
/// range, negative and fractional numbers are reported the way `linstor_core::decode` names
/// them ("negative", "too large", "not a whole number").
struct IntVisitor(&'static str);

impl<'de> Visitor<'de> for IntVisitor {
    type Value = Option<i128>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        Ok(Some(i128::from(n)))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        Ok(Some(i128::from(n)))
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
        Err(E::custom(format!(
            "invalid type: floating point `{x}`, expected {}",
            self.0
        )))
    }
    fn visit_str<E: de::Error>(self, t: &str) -> Result<Self::Value, E> {
        t.trim().parse::<i128>().map(Some).map_err(|_| {
            E::custom(format!(
                "invalid value: string {t:?}, expected a whole number"
            ))
        })
    }
}

/// An integer given as a number or a numeric string, or `null`.
fn lenient_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    let ty = std::any::type_name::<T>();
    let Some(n) = d.deserialize_option(IntVisitor(ty))? else {
        return Ok(None);
    };
    T::try_from(n)
        .map(Some)
        .map_err(|_| de::Error::custom(format!("invalid value: integer `{n}`, expected {ty}")))
}

/// A required integer, as [`lenient_int`] reads it; `null` is refused.
fn lenient_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    lenient_int(d)?.ok_or_else(|| de::Error::custom("invalid type: null, expected a whole number"))
}

/// A signed integer given as a number or a numeric string, or `null`.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient_int(d)
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

/// [`named`], or `null` for "not given".
fn named_opt<'de, D, T>(
    d: D,
    parse: fn(&str) -> Option<T>,
    valid: &str,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    Option::<String>::deserialize(d)?
        .map(|s| {
            parse(&s).ok_or_else(|| {
                de::Error::custom(format!("unknown variant `{s}`, expected one of {valid}"))
            })
        })
        .transpose()
}

const NODE_TYPES: &str = "`Controller`, `Satellite`, `Combined`, `Auxiliary`";

fn node_type<'de, D: Deserializer<'de>>(d: D) -> Result<NodeType, D::Error> {
    named(d, NodeType::parse, NODE_TYPES)
}

fn node_type_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NodeType>, D::Error> {
    named_opt(d, NodeType::parse, NODE_TYPES)
}

fn encryption<'de, D: Deserializer<'de>>(d: D) -> Result<Option<EncryptionType>, D::Error> {
    let parse = |s: &str| match s.to_ascii_lowercase().as_str() {
        "plain" => Some(EncryptionType::Plain),
        "ssl" => Some(EncryptionType::Ssl),
        _ => None,
    };
    named_opt(d, parse, "`PLAIN`, `SSL`")
}

fn provider<'de, D: Deserializer<'de>>(d: D) -> Result<ProviderKind, D::Error> {
    named(
        d,
        ProviderKind::parse,
        "`LVM`, `LVM_THIN`, `ZFS`, `ZFS_THIN`, `FILE`, `FILE_THIN`, `DISKLESS`",
    )
}

const LAYERS: &str = "`DRBD`, `LUKS`, `STORAGE`, `NVME`, `WRITECACHE`, `CACHE`, `BCACHE`";

fn layer<'de, D: Deserializer<'de>>(d: D) -> Result<LayerKind, D::Error> {
    named(d, LayerKind::parse, LAYERS)
}

/// A list of layer names (any case), or `null`.
fn layer_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<LayerKind>>, D::Error> {
    let Some(names) = Option::<Vec<String>>::deserialize(d)? else {
        return Ok(None);
    };
    names
        .iter()
        .map(|s| {
            LayerKind::parse(s).ok_or_else(|| {
                de::Error::custom(format!("unknown variant `{s}`, expected one of {LAYERS}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The property changes every `…Modify` body carries (`null` or absent: none).
fn props_modify(
    set: &Option<BTreeMap<String, String>>,
    delete: &Option<Vec<String>>,
    namespaces: &Option<Vec<String>>,
) -> PropsModify {
    PropsModify {
        override_props: set.clone().unwrap_or_default(),
        delete_props: delete.clone().unwrap_or_default(),
        delete_namespaces: namespaces.clone().unwrap_or_default(),
    }
}

/// Refuses a field the core cannot honour: `Err` naming it and why, when it is given.
fn refuse_if(given: bool, field: &str, why: &str) -> Result<(), String> {
    if given {
        Err(format!("'{field}' cannot be honoured: {why}"))
    } else {
        Ok(())
    }
}

/// True if an optional list is given and not empty.
fn non_empty<T>(list: &Option<Vec<T>>) -> bool {
    list.as_ref().is_some_and(|l| !l.is_empty())
}

/// Refuses a name in the body that differs from the one in the path (case-insensitively).
fn same_name(field: &str, body: Option<&str>, path: &str) -> Result<(), String> {
    match body {
        Some(b) if !b.is_empty() && !b.eq_ignore_ascii_case(path) => Err(format!(
            "'{field}' is '{b}' but the path names '{path}': they must agree"
        )),
        _ => Ok(()),
    }
}

/// The flags named in `list` (any case) out of `all`; an unknown name is an error naming
/// `field`.
fn flag_set<F: Copy>(
    field: &str,
    list: &Option<Vec<String>>,
    all: &[(&str, F)],
    insert: impl Fn(&mut F, F),
    empty: F,
) -> Result<F, String> {
    let mut out = empty;
    for name in list.iter().flatten() {
        let Some((_, f)) = all.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) else {
            let valid: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "'{field}' has an unknown flag '{name}' (valid: {})",
                valid.join(", ")
            ));
        };
        insert(&mut out, *f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
