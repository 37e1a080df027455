//! Property containers and the property whitelist: `GET /v1/controller/properties`,
//! `GET /v1/key-value-store[/{instance}]`, `GET /v1/storage-pool-definitions`, and
//! `GET …/properties/info[/all]` (`PropsInfo`).
//!
//! The whitelist lists exactly the keys the core validates at each level: the documented keys
//! of `linstor_core::props::KEYS` whose levels include it, and, where DRBD options may be set,
//! every settable option of the DRBD whitelist (`DrbdOptions/<Section>/<option>`). Free-form
//! `Aux/` keys are not listed (any is accepted), nor are the system's `Internal/` keys.

use std::collections::BTreeMap;

use linstor_core::drbd_options::{OptionType, OptionWhitelist, Section};
use linstor_core::model::{KeyValueStore, StoragePoolDefinition};
use linstor_core::props::{KEYS, KeySpec, Level, PropType};
use linstor_core::state::ClusterState;
use serde::Serialize;

use super::{is_empty_props, props};

non_empty! {
    /// A key-value store (`GET /v1/key-value-store[/{instance}]`).
    pub struct KeyValueStoreView {
        /// Instance name.
        pub name: String,
        /// Its properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
    }

    /// A storage pool definition (`GET /v1/storage-pool-definitions`).
    pub struct StoragePoolDefinitionView {
        /// Name.
        pub storage_pool_name: String,
        /// Properties.
        #[serde(skip_serializing_if = "is_empty_props")]
        pub props: BTreeMap<String, String>,
        /// Identity.
        pub uuid: String,
    }

    /// What a property key takes (`GET …/properties/info`).
    pub struct PropsInfo {
        /// One line of help.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub info: String,
        /// LINSTOR's type name: `boolean`, `boolean_true_false`, `range`, `range_float`,
        /// `long`, `symbol`, `numeric_or_symbol`, `regex` or `string`.
        pub prop_type: &'static str,
        /// The allowed values: `(min - max)` for ranges, a regex for the others.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub value: Option<String>,
        /// The default.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub dflt: Option<String>,
        /// The unit.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub unit: Option<String>,
    }
}

/// A key-value store.
pub fn key_value_store(k: &KeyValueStore) -> KeyValueStoreView {
    KeyValueStoreView {
        name: k.name.to_string(),
        props: props(&k.props),
    }
}

/// A storage pool definition.
pub fn storage_pool_definition(d: &StoragePoolDefinition) -> StoragePoolDefinitionView {
    StoragePoolDefinitionView {
        storage_pool_name: d.name.to_string(),
        props: props(&d.props),
        uuid: d.uuid.to_string(),
    }
}

/// `GET /v1/controller/properties`: the controller's properties, as one JSON object.
pub fn controller_props(state: &ClusterState) -> BTreeMap<String, String> {
    props(&state.ctrl_props)
}

/// Levels where the core accepts `DrbdOptions/<Section>/<option>` keys.
const DRBD_LEVELS: &[Level] = &[
    Level::Controller,
    Level::Node,
    Level::RscGrp,
    Level::RscDfn,
    Level::Rsc,
    Level::VlmGrp,
    Level::VlmDfn,
    Level::Vlm,
    Level::NodeConn,
    Level::RscConn,
    Level::StorPool,
];

/// Every level, with LINSTOR's object name as `…/properties/info/all` keys it.
pub const LEVEL_NAMES: &[(Level, &str)] = &[
    (Level::Controller, "CTRL"),
    (Level::Node, "NODE"),
    (Level::StorPoolDfn, "STOR_POOL_DFN"),
    (Level::StorPool, "STOR_POOL"),
    (Level::RscGrp, "RSC_GRP"),
    (Level::VlmGrp, "VLM_GRP"),
    (Level::RscDfn, "RSC_DFN"),
    (Level::VlmDfn, "VLM_DFN"),
    (Level::Rsc, "RSC"),
    (Level::Vlm, "VLM"),
    (Level::NodeConn, "NODE_CONN"),
    (Level::RscConn, "RSC_CONN"),
    (Level::SnapshotDfn, "SNAP_DFN"),
    (Level::Kvs, "KVS"),
];

/// The keys the core validates at `level` (`GET /v1/controller/properties/info` is
/// `props_info(Level::Controller)`; the node, pool, group and definition endpoints likewise).
pub fn props_info(level: Level) -> BTreeMap<String, PropsInfo> {
    let mut out: BTreeMap<String, PropsInfo> = KEYS
        .iter()
        .filter(|k| k.levels.contains(&level))
        .map(|k| (k.key.to_owned(), key_info(k)))
        .collect();
    if DRBD_LEVELS.contains(&level) {
        out.extend(drbd_infos(OptionWhitelist::builtin()));
    }
    out
}

/// `GET /v1/controller/properties/info/all`: [`props_info`] of every level that has keys,
/// by LINSTOR's object name.
pub fn props_info_all() -> BTreeMap<&'static str, BTreeMap<String, PropsInfo>> {
    LEVEL_NAMES
        .iter()
        .map(|(level, name)| (*name, props_info(*level)))
        .filter(|(_, keys)| !keys.is_empty())
        .collect()
}

fn info(prop_type: &'static str, value: Option<String>) -> PropsInfo {
    PropsInfo {
        info: String::new(),
        prop_type,
        value,
        dflt: None,
        unit: None,
    }
}

/// `(?:a|b|c)`, the regex LINSTOR gives for a list of words.
fn words<S: AsRef<str>>(w: &[S]) -> String {
    let w: Vec<&str> = w.iter().map(AsRef::as_ref).collect();
    format!("(?:{})", w.join("|"))
}

fn key_info(k: &KeySpec) -> PropsInfo {
    let (mut i, extra) = match k.ty {
        PropType::Boolean => (
            info(
                "boolean_true_false",
                Some("(?i)(?:true|false|yes|no)".into()),
            ),
            String::new(),
        ),
        PropType::Long => (info("long", None), String::new()),
        PropType::Range(a, b) => (info("range", Some(format!("({a} - {b})"))), String::new()),
        PropType::RangeFloat(a, b) => (
            info("range_float", Some(format!("({a} - {b})"))),
            String::new(),
        ),
        PropType::Symbol(w) => (info("symbol", Some(words(w))), String::new()),
        PropType::NumberRange(a, b) => (
            info("regex", Some("[0-9]+ *- *[0-9]+".into())),
            format!(" (A-B with {a} <= A <= B <= {b})"),
        ),
        PropType::PercentOrSize => (
            info("string", None),
            " (a percentage like 10%, or a size like 50GB; a bare number is KiB)".to_owned(),
        ),
        PropType::StorPoolName => (
            info("regex", Some("^[a-zA-Z_][a-zA-Z0-9_-]{2,47}$".into())),
            String::new(),
        ),
        PropType::String => (info("string", None), String::new()),
    };
    i.info = format!("{}{extra}", k.help);
    i
}

/// Every settable DRBD option of `w`, keyed `DrbdOptions/<Section>/<option>`.
fn drbd_infos(w: &OptionWhitelist) -> Vec<(String, PropsInfo)> {
    let mut out = Vec::new();
    for section in Section::ALL {
        for name in w.names(section) {
            let key = format!("DrbdOptions/{section}/{name}");
            let mut i = match w.get(section, name) {
                Some(spec) => drbd_type_info(&spec.ty),
                // Handlers are not in xml-help: any command line.
                None => info("string", None),
            };
            i.info = format!("DRBD {section} option '{name}'");
            out.push((key, i));
        }
    }
    out
}

/// `Some` text, `None` for none or an empty one (never an empty string: `NON_EMPTY`).
fn text(t: &Option<String>) -> Option<String> {
    t.clone().filter(|t| !t.is_empty())
}

fn drbd_type_info(ty: &OptionType) -> PropsInfo {
    match ty {
        OptionType::Boolean { default } => PropsInfo {
            dflt: text(default),
            ..info("boolean", Some("(?i)(?:yes|no)".into()))
        },
        OptionType::Handler { values } => info("symbol", Some(words(values))),
        OptionType::Numeric {
            min,
            max,
            default,
            unit,
            ..
        } => PropsInfo {
            dflt: text(default),
            unit: text(unit),
            ..info("range", Some(format!("({min} - {max})")))
        },
        OptionType::NumericOrSymbol {
            min,
            max,
            default,
            symbols,
        } => PropsInfo {
            dflt: text(default),
            ..info(
                "numeric_or_symbol",
                Some(format!("({min} - {max}) or {}", words(symbols))),
            )
        },
        OptionType::String | OptionType::Flag => info("string", None),
    }
}
