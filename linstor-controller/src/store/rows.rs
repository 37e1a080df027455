//! The mapping between a [`ClusterState`] and a store's rows: one row per top-level object.
//!
//! | kind   | key                     | body (JSON, the object's serde form)                       |
//! |--------|-------------------------|------------------------------------------------------------|
//! | `ctrl` | `""`                    | controller properties                                      |
//! | `node` | node name               | `Node` with its net interfaces and storage pools           |
//! | `spd`  | storage pool name       | `StoragePoolDefinition`                                    |
//! | `rg`   | resource group name     | `ResourceGroup` with its volume groups                     |
//! | `rd`   | resource name           | `ResourceDefinition` with volume definitions, resources, snapshots |
//! | `kvs`  | key-value store name    | `KeyValueStore`                                            |
//! | `nodeconn` | `<node a>;<node b>` (lesser name first) | the node connection (`Connection`)      |
//!
//! A key is the name as the state's map holds it (display case). Names compare
//! case-insensitively, as in the core: [`RowKey`] orders and deduplicates that way, and engines
//! must match keys that way too. Observed state has no row: satellites report it again.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use linstor_core::cluster::{ChangeSet, ObjKey};
use linstor_core::model::{Connection, Connections, all_connections, connection};
use linstor_core::name::{
    KvsName, NameError, NodeName, ResourceGroupName, ResourceName, StorPoolName,
};
use linstor_core::props::Props;
use linstor_core::state::ClusterState;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// The kinds of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKind {
    /// Controller properties (one row, key `""`).
    Ctrl,
    /// A node with its net interfaces and storage pools.
    Node,
    /// A storage pool definition.
    Spd,
    /// A resource group with its volume groups.
    Rg,
    /// A resource definition with its volume definitions, resources and snapshots.
    Rd,
    /// A key-value store.
    Kvs,
    /// A node connection (resource connections live in their resource definition's row).
    NodeConn,
}

impl RowKind {
    /// Every kind.
    pub const ALL: [RowKind; 7] = [
        RowKind::Ctrl,
        RowKind::Node,
        RowKind::Spd,
        RowKind::Rg,
        RowKind::Rd,
        RowKind::Kvs,
        RowKind::NodeConn,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RowKind::Ctrl => "ctrl",
            RowKind::Node => "node",
            RowKind::Spd => "spd",
            RowKind::Rg => "rg",
            RowKind::Rd => "rd",
            RowKind::Kvs => "kvs",
            RowKind::NodeConn => "nodeconn",
        }
    }

    /// Reads a stored kind.
    pub fn parse(s: &str) -> Option<RowKind> {
        RowKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for RowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which row holds an object; names compare case-insensitively, as in the core.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKey {
    /// The controller properties.
    Ctrl,
    /// A node.
    Node(NodeName),
    /// A storage pool definition.
    Spd(StorPoolName),
    /// A resource group.
    Rg(ResourceGroupName),
    /// A resource definition.
    Rd(ResourceName),
    /// A key-value store.
    Kvs(KvsName),
    /// A node connection: the lesser node name, then the greater.
    NodeConn(NodeName, NodeName),
}

impl RowKey {
    /// The row's kind.
    pub fn kind(&self) -> RowKind {
        match self {
            RowKey::Ctrl => RowKind::Ctrl,
            RowKey::Node(_) => RowKind::Node,
            RowKey::Spd(_) => RowKind::Spd,
            RowKey::Rg(_) => RowKind::Rg,
            RowKey::Rd(_) => RowKind::Rd,
            RowKey::Kvs(_) => RowKind::Kvs,
            RowKey::NodeConn(..) => RowKind::NodeConn,
        }
    }

    /// The key column: the name as given here (`""` for the controller row).
    pub fn key(&self) -> String {
        match self {
            RowKey::Ctrl => String::new(),
            RowKey::Node(n) => n.to_string(),
            RowKey::Spd(n) => n.to_string(),
            RowKey::Rg(n) => n.to_string(),
            RowKey::Rd(n) => n.to_string(),
            RowKey::Kvs(n) => n.to_string(),
            RowKey::NodeConn(a, b) => format!("{a};{b}"),
        }
    }
}

impl fmt::Display for RowKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} '{}'", self.kind(), self.key())
    }
}

/// One stored row as it is in the database (the kind as text: a row may be of a kind this
/// binary does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The `kind` column.
    pub kind: String,
    /// The `key` column.
    pub key: String,
    /// The `body` column: the object's JSON.
    pub body: String,
}

/// The row that holds `obj`; `None` for observed state, which is never stored.
pub fn row_of(obj: &ObjKey) -> Option<RowKey> {
    Some(match obj {
        ObjKey::Ctrl => RowKey::Ctrl,
        ObjKey::Node { node } | ObjKey::NetIf { node, .. } | ObjKey::StorPool { node, .. } => {
            RowKey::Node(node.clone())
        }
        ObjKey::StorPoolDfn { pool } => RowKey::Spd(pool.clone()),
        ObjKey::RscGrp { rsc_grp } | ObjKey::VlmGrp { rsc_grp, .. } => RowKey::Rg(rsc_grp.clone()),
        ObjKey::RscDfn { rsc_dfn }
        | ObjKey::VlmDfn { rsc_dfn, .. }
        | ObjKey::Rsc { rsc_dfn, .. }
        | ObjKey::SnapshotDfn { rsc_dfn, .. }
        | ObjKey::RscConn { rsc_dfn, .. } => RowKey::Rd(rsc_dfn.clone()),
        ObjKey::Kvs { name } => RowKey::Kvs(name.clone()),
        ObjKey::NodeConn { node_a, node_b } => RowKey::NodeConn(node_a.clone(), node_b.clone()),
        ObjKey::Observed { .. } => return None,
    })
}

/// The distinct rows every created, modified or deleted object of `changes` lives in.
pub fn touched(changes: &[&ChangeSet]) -> BTreeSet<RowKey> {
    changes
        .iter()
        .flat_map(|c| c.created.iter().chain(&c.modified).chain(&c.deleted))
        .filter_map(row_of)
        .collect()
}

/// A change set naming every stored object of `state` as created: what a fresh database needs
/// to hold the state (e.g. after `Cluster::new`, whose defaults come without an outcome).
pub fn full_change_set(state: &ClusterState) -> ChangeSet {
    let mut created = vec![ObjKey::Ctrl];
    created.extend(state.nodes.keys().map(|n| ObjKey::Node { node: n.clone() }));
    created.extend(
        state
            .storage_pool_definitions
            .keys()
            .map(|p| ObjKey::StorPoolDfn { pool: p.clone() }),
    );
    created.extend(
        state
            .resource_groups
            .keys()
            .map(|g| ObjKey::RscGrp { rsc_grp: g.clone() }),
    );
    created.extend(
        state
            .resource_definitions
            .keys()
            .map(|r| ObjKey::RscDfn { rsc_dfn: r.clone() }),
    );
    created.extend(
        state
            .key_value_stores
            .keys()
            .map(|k| ObjKey::Kvs { name: k.clone() }),
    );
    created.extend(
        all_connections(&state.node_connections).map(|c| ObjKey::NodeConn {
            node_a: c.node_a.clone(),
            node_b: c.node_b.clone(),
        }),
    );
    ChangeSet {
        created,
        ..ChangeSet::default()
    }
}

/// The row of `key` as it is in `state` now, keyed by the name as the state's map holds it;
/// `None` when the object is gone. The controller row always exists.
pub fn row(state: &ClusterState, key: &RowKey) -> Option<Row> {
    fn found<K: fmt::Display, V: Serialize>(kind: RowKind, kv: Option<(&K, &V)>) -> Option<Row> {
        kv.map(|(k, v)| Row {
            kind: kind.as_str().to_owned(),
            key: k.to_string(),
            body: encode(v),
        })
    }
    let kind = key.kind();
    match key {
        RowKey::Ctrl => found(kind, Some((&"", &state.ctrl_props))),
        RowKey::Node(n) => found(kind, state.nodes.get_key_value(n)),
        RowKey::Spd(n) => found(kind, state.storage_pool_definitions.get_key_value(n)),
        RowKey::Rg(n) => found(kind, state.resource_groups.get_key_value(n)),
        RowKey::Rd(n) => found(kind, state.resource_definitions.get_key_value(n)),
        RowKey::Kvs(n) => found(kind, state.key_value_stores.get_key_value(n)),
        RowKey::NodeConn(a, b) => connection(&state.node_connections, a, b).map(|c| Row {
            kind: kind.as_str().to_owned(),
            key: format!("{};{}", c.node_a, c.node_b),
            body: encode(c),
        }),
    }
}

/// The JSON of the object `key` names as it is in `state` now; `None` if it is gone.
pub fn body(state: &ClusterState, key: &RowKey) -> Option<String> {
    row(state, key).map(|r| r.body)
}

/// What a commit of `changes` writes: every touched row as it is in `state`, or `None` to
/// delete it (the object is gone).
pub fn writes(state: &ClusterState, changes: &[&ChangeSet]) -> Vec<(RowKey, Option<Row>)> {
    touched(changes)
        .into_iter()
        .map(|k| {
            let row = row(state, &k);
            (k, row)
        })
        .collect()
}

/// Every row of `state`, in key order.
pub fn all_rows(state: &ClusterState) -> Vec<Row> {
    touched(&[&full_change_set(state)])
        .iter()
        .filter_map(|k| row(state, k))
        .collect()
}

fn encode<T: Serialize>(v: &T) -> String {
    // Model objects are plain data whose map keys are names or integers: serde_json cannot fail.
    serde_json::to_string(v).expect("model objects always serialize to JSON")
}

/// Builds the desired state from stored rows (observed state stays empty). An unreadable row is
/// an error naming its kind, its key and serde's reason.
pub fn assemble(rows: impl IntoIterator<Item = Row>) -> Result<ClusterState, StoreError> {
    let mut s = ClusterState::default();
    let mut ctrl_seen = false;
    for row in rows {
        let kind = RowKind::parse(&row.kind).ok_or_else(|| {
            row_error(
                &row,
                "unknown kind (a newer controller may have written it)".to_owned(),
            )
        })?;
        match kind {
            RowKind::Ctrl => put_ctrl(&mut s.ctrl_props, &mut ctrl_seen, &row)?,
            RowKind::Node => put(&mut s.nodes, &row, |n| &n.name)?,
            RowKind::Spd => put(&mut s.storage_pool_definitions, &row, |d| &d.name)?,
            RowKind::Rg => put(&mut s.resource_groups, &row, |g| &g.name)?,
            RowKind::Rd => put(&mut s.resource_definitions, &row, |d| &d.name)?,
            RowKind::Kvs => put(&mut s.key_value_stores, &row, |k| &k.name)?,
            RowKind::NodeConn => put_node_conn(&mut s.node_connections, &row)?,
        }
    }
    Ok(s)
}

fn row_error(row: &Row, reason: String) -> StoreError {
    StoreError::Row {
        kind: row.kind.clone(),
        key: row.key.clone(),
        reason,
    }
}

fn decode<T: DeserializeOwned>(row: &Row) -> Result<T, StoreError> {
    serde_json::from_str(&row.body).map_err(|e| row_error(row, e.to_string()))
}

fn put_ctrl(props: &mut Props, seen: &mut bool, row: &Row) -> Result<(), StoreError> {
    if !row.key.is_empty() {
        return Err(row_error(
            row,
            "the controller row's key must be empty".to_owned(),
        ));
    }
    if std::mem::replace(seen, true) {
        return Err(row_error(row, "a second controller row".to_owned()));
    }
    *props = decode(row)?;
    Ok(())
}

/// Reads a node connection row: its key names its two nodes, lesser first, as the connection
/// does, once.
fn put_node_conn(conns: &mut Connections, row: &Row) -> Result<(), StoreError> {
    let names = row.key.split_once(';').and_then(|(a, b)| {
        let a = NodeName::from_str(a).ok()?;
        let b = NodeName::from_str(b).ok()?;
        (a < b).then_some((a, b))
    });
    let Some((a, b)) = names else {
        let why = "the key must be '<node a>;<node b>', lesser name first".to_owned();
        return Err(row_error(row, why));
    };
    let conn: Connection = decode(row)?;
    if conn.node_a != a || conn.node_b != b {
        let why = format!(
            "the row holds the connection of '{}' and '{}'",
            conn.node_a, conn.node_b
        );
        return Err(row_error(row, why));
    }
    if conns.entry(a).or_default().insert(b, conn).is_some() {
        let why = "another row has the same nodes (names ignore case)".to_owned();
        return Err(row_error(row, why));
    }
    Ok(())
}

/// Reads `row` into `map` under its key, which must be a valid name equal (ignoring case, as
/// names compare) to the object's own name, and unique.
fn put<K, V>(
    map: &mut BTreeMap<K, V>,
    row: &Row,
    name_of: impl Fn(&V) -> &K,
) -> Result<(), StoreError>
where
    K: Ord + fmt::Display + FromStr<Err = NameError>,
    V: DeserializeOwned,
{
    let key = K::from_str(&row.key).map_err(|e| row_error(row, format!("the key is an {e}")))?;
    let obj: V = decode(row)?;
    let name = name_of(&obj);
    if *name != key {
        return Err(row_error(
            row,
            format!("the row holds the object named '{name}', not '{key}'"),
        ));
    }
    if map.insert(key, obj).is_some() {
        return Err(row_error(
            row,
            "another row has the same name (names ignore case)".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testutil::{desired, scenario};

    #[test]
    fn row_of_maps_every_object_to_its_owner() {
        use serde_json::json;
        let cases = [
            (json!({"kind": "Ctrl"}), Some(("ctrl", ""))),
            (json!({"kind": "Node", "node": "n1"}), Some(("node", "n1"))),
            (
                json!({"kind": "NetIf", "node": "n1", "name": "default"}),
                Some(("node", "n1")),
            ),
            (
                json!({"kind": "StorPool", "node": "N1", "pool": "data"}),
                Some(("node", "N1")),
            ),
            (
                json!({"kind": "StorPoolDfn", "pool": "data"}),
                Some(("spd", "data")),
            ),
            (
                json!({"kind": "RscGrp", "rsc_grp": "grp"}),
                Some(("rg", "grp")),
            ),
            (
                json!({"kind": "VlmGrp", "rsc_grp": "grp", "number": 0}),
                Some(("rg", "grp")),
            ),
            (
                json!({"kind": "RscDfn", "rsc_dfn": "r1"}),
                Some(("rd", "r1")),
            ),
            (
                json!({"kind": "VlmDfn", "rsc_dfn": "r1", "number": 1}),
                Some(("rd", "r1")),
            ),
            (
                json!({"kind": "Rsc", "rsc_dfn": "r1", "node": "n1"}),
                Some(("rd", "r1")),
            ),
            (
                json!({"kind": "SnapshotDfn", "rsc_dfn": "r1", "snapshot": "s1"}),
                Some(("rd", "r1")),
            ),
            (json!({"kind": "Kvs", "name": "kv"}), Some(("kvs", "kv"))),
            (
                json!({"kind": "RscConn", "rsc_dfn": "r1", "node_a": "n1", "node_b": "n2"}),
                Some(("rd", "r1")),
            ),
            (
                json!({"kind": "NodeConn", "node_a": "n1", "node_b": "n2"}),
                Some(("nodeconn", "n1;n2")),
            ),
            (json!({"kind": "Observed", "node": "n1"}), None),
        ];
        for (obj, want) in cases {
            let key: ObjKey = serde_json::from_value(obj.clone()).expect("an object key");
            let got = row_of(&key);
            let got = got.as_ref().map(|r| (r.kind().as_str(), r.key()));
            assert_eq!(got, want.map(|(k, n)| (k, n.to_owned())), "{obj}");
        }
    }

    #[test]
    fn touched_rows_are_distinct_ignoring_case() {
        let key = |s: &str| ObjKey::Node {
            node: NodeName::new(s).expect("valid"),
        };
        let a = ChangeSet {
            created: vec![key("alpha")],
            modified: vec![ObjKey::Observed {
                node: NodeName::new("alpha").expect("valid"),
            }],
            deleted: vec![],
        };
        let b = ChangeSet {
            modified: vec![key("ALPHA"), ObjKey::Ctrl],
            ..ChangeSet::default()
        };
        let rows: Vec<RowKey> = touched(&[&a, &b]).into_iter().collect();
        let alpha = NodeName::new("Alpha").expect("valid");
        assert_eq!(rows, [RowKey::Ctrl, RowKey::Node(alpha)]);
    }

    #[test]
    fn every_object_round_trips_through_its_row() {
        let (c, _) = scenario();
        let want = desired(c.state());
        let rows = all_rows(c.state());
        let kinds: BTreeSet<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(
            kinds.len(),
            RowKind::ALL.len(),
            "the scenario has every kind"
        );
        let got = assemble(rows).expect("rows read back");
        assert_eq!(got, want);
        let json = |s: &ClusterState| serde_json::to_string(s).expect("serializes");
        assert_eq!(json(&got), json(&want));
    }

    #[test]
    fn body_follows_the_state_and_ignores_case() {
        let (c, _) = scenario();
        let upper = RowKey::Node(NodeName::new("N1").expect("valid"));
        let r = row(c.state(), &upper).expect("n1 exists");
        assert_eq!((r.kind.as_str(), r.key.as_str()), ("node", "n1"));
        assert_eq!(body(c.state(), &upper), Some(r.body));
        let gone = RowKey::Rd(ResourceName::new("nothere").expect("valid"));
        assert_eq!(body(c.state(), &gone), None);
        assert!(body(c.state(), &RowKey::Ctrl).is_some());
    }

    /// One unreadable row: `(kind, key, body, a word of the reason)`.
    fn check_bad(kind: &str, key: &str, body: &str, reason: &str) {
        let (c, _) = scenario();
        let mut rows = all_rows(c.state());
        rows.push(Row {
            kind: kind.into(),
            key: key.into(),
            body: body.into(),
        });
        match assemble(rows) {
            Err(StoreError::Row {
                kind: k,
                key: n,
                reason: why,
            }) => {
                assert_eq!((k.as_str(), n.as_str()), (kind, key));
                assert!(
                    why.contains(reason),
                    "{kind} {key}: {why:?} lacks {reason:?}"
                );
            }
            other => panic!("{kind} {key}: expected a row error, got {other:?}"),
        }
    }

    #[test]
    fn unreadable_rows_name_kind_key_and_reason() {
        let node = r#"{"name":"n9","node_type":"Satellite","flags":0,"net_interfaces":{},"storage_pools":{},"props":{},"uuid":"00000000-0000-4000-8000-000000000000"}"#;
        let cases: &[(&str, &str, &str, &str)] = &[
            ("node", "n9", "{not json", "key must be a string"),
            (
                "node",
                "n9",
                r#"{"name":"n9"}"#,
                "missing field `node_type`",
            ),
            ("node", "other", node, "'n9', not 'other'"),
            ("node", "-bad-", node, "invalid node name"),
            ("node", "N1", &node.replace("n9", "N1"), "same name"),
            ("rd", "r9", r#"{"name":"r9","flags":"x"}"#, "invalid type"),
            ("kvs", "kv9", "[]", "expected struct KeyValueStore"),
            ("ctrl", "", "{}", "second controller row"),
            ("ctrl", "x", "{}", "key must be empty"),
            ("nodeconn", "n2;n1", "{}", "lesser name first"),
            ("nodeconn", "n1", "{}", "lesser name first"),
            (
                "nodeconn",
                "n1;n3",
                r#"{"node_a":"n1","node_b":"n2","props":{},"uuid":"00000000-0000-4000-8000-000000000000"}"#,
                "connection of 'n1' and 'n2'",
            ),
            ("widget", "w1", "{}", "unknown kind"),
        ];
        for (kind, key, body, reason) in cases {
            check_bad(kind, key, body, reason);
        }
    }

    #[test]
    fn the_row_error_message_names_the_object() {
        let err = assemble([Row {
            kind: "spd".into(),
            key: "pool1".into(),
            body: "{".into(),
        }])
        .expect_err("unreadable");
        let msg = err.to_string();
        assert!(msg.contains("spd 'pool1'"), "{msg}");
        assert!(msg.contains("EOF"), "{msg}");
    }
}
