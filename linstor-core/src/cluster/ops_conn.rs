//! Commands on connections: the properties of the connection between two nodes, and between
//! two resources of one definition (DRBD `net` options, `Paths/<path>/<node>` = interface).
//!
//! A connection exists while it has properties, as in LINSTOR: its first property creates it,
//! removing its last one deletes it, and removing properties of one that does not exist is a
//! `WARN_NOT_FOUND` warning. Connections are keyed by the lesser node name first; a node's go
//! with the node, a resource's with the resource.

use std::collections::BTreeMap;

use super::Cluster;
use super::api::{Command, ObjKey};
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::lookup::{existing_node, existing_rsc, live_rd};
use super::prop_edit::apply_modify;
use crate::model::{Connection, Connections, conn_pair};
use crate::name::{NetIfName, NodeName, ResourceName};
use crate::props::{Level, PropsModify};
use crate::rc::{Obj, Op, RcEntry, Severity, code};

/// Runs a command on a node or resource connection (routed here by `Cluster::dispatch`).
pub(super) fn run(c: &mut Cluster, ctx: &mut Ctx<'_>, cmd: Command) -> Res {
    use Command as C;
    match cmd {
        C::NodeConnModify {
            node_a,
            node_b,
            props,
        } => node_conn_modify(c, ctx, (&node_a, &node_b), &props),
        C::RscConnModify {
            rsc_dfn,
            node_a,
            node_b,
            props,
        } => rsc_conn_modify(c, ctx, &rsc_dfn, (&node_a, &node_b), &props),
        other => unreachable!("not a connection command: {other:?}"),
    }
}

/// Refuses a connection of a node with itself.
fn two_nodes(op: Op, obj: Obj, a: &NodeName, b: &NodeName) -> Res {
    if a == b {
        return Err(fail(
            op,
            obj,
            code::INVLD_NODE_NAME,
            format!("A connection needs two different nodes, not '{a}' twice"),
        )
        .correction("Name the two nodes the connection is between."));
    }
    Ok(())
}

/// Checks a `Paths/<path>/<node>` = interface property: the node is one of the connection's,
/// and the interface is one of that node's.
fn check_path(c: &Cluster, obj: Obj, ends: (&NodeName, &NodeName), key: &str, value: &str) -> Res {
    let bad = |msg: String, cause: String| {
        Err(fail(Op::Modify, obj, code::INVLD_PROP, msg)
            .cause(cause)
            .correction(
                "Set Paths/<path name>/<node> = <net interface of that node>, for both nodes.",
            ))
    };
    let parts: Vec<&str> = key.split('/').collect();
    let [_, path, node] = parts[..] else {
        let cause = "A path property has the form Paths/<path name>/<node>.".to_owned();
        return bad(
            format!("Connection path property '{key}' is invalid"),
            cause,
        );
    };
    let n = NodeName::new(node)
        .ok()
        .filter(|n| n == ends.0 || n == ends.1);
    let Some(n) = n.filter(|_| !path.is_empty()) else {
        let cause = format!("'{node}' is neither '{}' nor '{}'.", ends.0, ends.1);
        return bad(format!("Connection path node of '{key}' unknown"), cause);
    };
    let known = NetIfName::new(value)
        .ok()
        .is_some_and(|i| c.state.nodes[&n].net_interfaces.contains_key(&i));
    if !known {
        let cause = format!("Node '{n}' has no net interface '{value}'.");
        return bad(format!("Net interface '{value}' of '{key}' unknown"), cause);
    }
    Ok(())
}

/// Validates a connection's property changes: `Paths/` keys against the two nodes, every other
/// key as `level` allows.
fn validate(
    c: &Cluster,
    obj: Obj,
    level: Level,
    ends: (&NodeName, &NodeName),
    m: &PropsModify,
) -> Res {
    let (paths, rest): (BTreeMap<String, String>, _) = m
        .override_props
        .clone()
        .into_iter()
        .partition(|(k, _)| k.starts_with("Paths/"));
    for (k, v) in &paths {
        check_path(c, obj, ends, k, v)?;
    }
    let rest = PropsModify {
        override_props: rest,
        ..m.clone()
    };
    c.validate_modify(obj, level, &rest)
}

/// What a modify did to a connection.
enum Change {
    Created,
    Modified,
    Deleted,
}

/// Applies validated changes to the connection `(a, b)` of `conns` (created by its first
/// property, removed with its last); `None` when it does not exist and nothing is set.
fn apply(
    conns: &mut Connections,
    (a, b): (NodeName, NodeName),
    m: &PropsModify,
    level: Level,
    ctx: &mut Ctx<'_>,
) -> Option<Change> {
    let existed = conns.get(&a).is_some_and(|x| x.contains_key(&b));
    if !existed && m.override_props.is_empty() {
        return None;
    }
    let uuid = if existed { None } else { Some(ctx.uuid()) };
    let row = conns.entry(a.clone()).or_default();
    let conn = row.entry(b.clone()).or_insert_with(|| Connection {
        node_a: a.clone(),
        node_b: b.clone(),
        props: Default::default(),
        uuid: uuid.unwrap_or_default(),
    });
    apply_modify(&mut conn.props, m, level);
    if conn.props.is_empty() {
        row.remove(&b);
        if row.is_empty() {
            conns.remove(&a);
        }
        return existed.then_some(Change::Deleted);
    }
    Some(if existed {
        Change::Modified
    } else {
        Change::Created
    })
}

/// Answers what [`apply`] did: the entry, and the change of `key`.
fn answer(ctx: &mut Ctx<'_>, obj: Obj, what: String, change: Option<Change>, key: ObjKey) {
    let Some(change) = change else {
        let mut w = RcEntry::new(
            Severity::Warning,
            Op::Modify,
            obj,
            code::WARN_NOT_FOUND,
            format!("{what} does not exist."),
        );
        w.correction = Some("Set a property to create it; there is nothing to remove.".into());
        ctx.rc.push(w);
        return;
    };
    match change {
        Change::Created => {
            ctx.ok(Op::Modify, obj, format!("{what} created."));
            ctx.created(key);
        }
        Change::Modified => {
            ctx.ok(Op::Modify, obj, format!("{what} modified."));
            ctx.modified(key);
        }
        Change::Deleted => {
            ctx.ok(
                Op::Modify,
                obj,
                format!("{what} removed: it has no properties left."),
            );
            ctx.deleted(key);
        }
    }
}

/// `NodeConnModify`.
pub(super) fn node_conn_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    (a, b): (&str, &str),
    m: &PropsModify,
) -> Res {
    let (op, obj) = (Op::Modify, Obj::NodeConn);
    let na = existing_node(c, op, obj, a)?.name.clone();
    let nb = existing_node(c, op, obj, b)?.name.clone();
    two_nodes(op, obj, &na, &nb)?;
    let (na, nb) = conn_pair(na, nb);
    validate(c, obj, Level::NodeConn, (&na, &nb), m)?;
    let what = format!("Node connection between '{na}' and '{nb}'");
    let key = ObjKey::NodeConn {
        node_a: na.clone(),
        node_b: nb.clone(),
    };
    let change = apply(
        &mut c.state.node_connections,
        (na, nb),
        m,
        Level::NodeConn,
        ctx,
    );
    answer(ctx, obj, what, change, key);
    Ok(())
}

/// `RscConnModify`: both nodes hold a resource of the definition.
pub(super) fn rsc_conn_modify(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    (a, b): (&str, &str),
    m: &PropsModify,
) -> Res {
    let (op, obj) = (Op::Modify, Obj::RscConn);
    let n: ResourceName = live_rd(c, op, obj, rd)?.name.clone();
    let (_, na) = existing_rsc(c, op, rd, a)?;
    let (_, nb) = existing_rsc(c, op, rd, b)?;
    two_nodes(op, obj, &na, &nb)?;
    let (na, nb) = conn_pair(na, nb);
    validate(c, obj, Level::RscConn, (&na, &nb), m)?;
    let what = format!("Resource connection of '{n}' between '{na}' and '{nb}'");
    let key = ObjKey::RscConn {
        rsc_dfn: n.clone(),
        node_a: na.clone(),
        node_b: nb.clone(),
    };
    let d = c.state.resource_definitions.get_mut(&n).expect("checked");
    let change = apply(
        &mut d.resource_connections,
        (na, nb),
        m,
        Level::RscConn,
        ctx,
    );
    answer(ctx, obj, what, change, key);
    Ok(())
}
